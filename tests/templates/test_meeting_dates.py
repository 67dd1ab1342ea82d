"""A task force's meeting record and agenda pack are dated from the ledger (one cycle after
the last meeting) or from --date, never from the day they are built: the date is printed on
both and chooses the round the pack reports, so a rerun on another day writes the same."""

from __future__ import annotations

import datetime as dt

import pytest
from docx import Document
from openpyxl import load_workbook
from typer.testing import CliRunner

from deliverypack.cli import app
from deliverypack.foundation.errors import UsageError
from deliverypack.outputs.agenda_pack import write_pack
from deliverypack.templates.taskforce import issue_meeting_record, meetings_of, next_meeting

runner = CliRunner()


@pytest.mark.parametrize("command", ["meeting-record", "pack"])
def test_a_first_meeting_without_a_date_is_refused_plainly(workspace, command):
    """A record used to be was dated the day it was built (a 2026 record for a
    2003 programme); now the command asks for the date and writes nothing."""
    assert not meetings_of(workspace.ledger, "EOL")
    r = runner.invoke(app, [command, "EOL", "-w", str(workspace.root)])
    assert r.exit_code == 2, r.output
    assert "task force EOL has not met yet" in r.output
    assert "--date YYYY-MM-DD" in r.output
    assert "Traceback" not in r.output
    assert not list(workspace.root.glob("meetings/*.xlsx"))
    assert not list(workspace.outputs.glob("pack-*.docx"))
    with pytest.raises(UsageError):
        next_meeting(workspace.register, workspace.ledger, "EOL", None)


def test_the_next_meeting_follows_the_last_by_one_cycle(demo_copy, tmp_path):
    """With EOL-01 in the ledger, no date means six weeks after it, on the record's cover,
    in the pack's heading and in its paper numbers, the same on every run."""
    workspace = demo_copy
    last = dt.date.fromisoformat(meetings_of(workspace.ledger, "EOL")[-1]["date"])
    due = last + dt.timedelta(weeks=workspace.register.taskforce("EOL").cycle_weeks)
    assert next_meeting(workspace.register, workspace.ledger, "EOL", None) == ("EOL-02", due)

    record = issue_meeting_record(workspace, "EOL", target=tmp_path / "record.xlsx")
    cover = {row[0]: row[1] for row in load_workbook(record)["Cover"].iter_rows(
        values_only=True) if row and len(row) > 1}
    dates = [v for v in cover.values() if isinstance(v, dt.datetime | dt.date)]
    assert [v.date() if isinstance(v, dt.datetime) else v for v in dates] == [due]

    texts = []
    for k in (1, 2):
        pack = write_pack(workspace, "EOL", target=tmp_path / f"pack{k}.docx")
        texts.append([p.text for p in Document(str(pack)).paragraphs])
    assert texts[0] == texts[1]
    assert any(f"{due:%A %d %B %Y}" in t for t in texts[0])
    assert any(f"EOL({due:%y}) 2" in t for t in texts[0])
