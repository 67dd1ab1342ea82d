"""The Excel add-in's logic, through xlwings' remote book (a JSON payload of the open
workbook; its effects come back as actions). Needs XLWINGS_LICENSE_KEY=noncommercial, which
.ci/run sets for these tests only (the remote book is xlwings PRO, PolyForm Noncommercial)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest

from conftest import block, spec_of

xw = pytest.importorskip("xlwings", reason="the optional extra deliverypack[excel]")
pytestmark = pytest.mark.skipif(not os.environ.get("XLWINGS_LICENSE_KEY"),
                                reason="set XLWINGS_LICENSE_KEY=noncommercial (see README)")

from deliverypack.excel.addin import ERROR, check_return  # noqa: E402
from deliverypack.validation.read import BookValues  # noqa: E402


def payload(path):
    """What the xlwings client sends for an open workbook: values and names."""
    book = BookValues.from_path(path)
    def cell(v):
        if isinstance(v, dt.datetime | dt.date):
            return dt.datetime(v.year, v.month, v.day).isoformat() + ".000Z"
        return v
    sheets = [{"name": s, "values": [[cell(v) for v in row] for row in book.grid(s)] or [[]],
               "pictures": [], "tables": []} for s in book.sheet_names]
    index = {s: i for i, s in enumerate(book.sheet_names)}
    from deliverypack.validation.read import address
    names = [{"name": n, "sheet_index": index[r.sheet], "book_scope": True,
              "address": f"{address(r.r1, r.c1)}:{address(r.r2, r.c2)}"}
             for n, r in book.names.items()]
    return {"version": xw.__version__, "client": "Microsoft Office Scripts",
            "book": {"name": path.name, "active_sheet_index": 0, "selection": "A1"},
            "sheets": sheets, "names": names}


def test_check_this_return_colours_problem_cells_and_lists_them(workspace, filled):
    spec = spec_of(workspace, workspace.outbox("2002-12") / "DfES-2002-12.xlsx")
    traj = block(spec, "traj")
    i = next(k for k, r in enumerate(traj.rows) if "actual" in r.inputs)
    path = filled("DfES", overrides={(traj.name, i, "actual"): "n/a",
                                     (block(spec, "assess").name, 4, "now"): "Green"})
    sent = payload(path)
    book = xw.Book(json=sent)
    before = [sh["name"] for sh in sent["sheets"]]  # positions as the actions count them
    report = check_return(book)
    assert report.flatten(("code",)) == [["value-normalised"], ["not-a-number"]]
    bad = next(x for x in report.issues if x.code == "not-a-number")
    actions = book.json()["actions"]
    colours = [a for a in actions if a["func"] == "setRangeColor"]
    sheet_pos = before.index(bad.sheet)
    assert any(a["args"] == [ERROR] and a["sheet_position"] == sheet_pos for a in colours)
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string
    col, row = coordinate_from_string(bad.cell)
    hit = next(a for a in colours if a["args"] == [ERROR])
    assert (hit["start_row"] + 1, hit["start_column"] + 1) == (row, column_index_from_string(col))
    fonts = {tuple(a["args"]) for a in actions if a["func"] == "setFontProperty"
             and (a["start_row"], a["start_column"]) == (hit["start_row"], hit["start_column"])
             and a["sheet_position"] == sheet_pos}
    assert fonts == {("color", "#FFFFFF"), ("bold", True), ("italic", False)}  # feedback's
    assert any(a["func"] == "addSheet" for a in actions)
    writes = [a for a in actions if a["func"] == "setValues"]
    assert len(writes) == 1  # only the Problems sheet: nothing typed is changed
    assert writes[0]["values"][0] == ["Severity", "Sheet", "Cell", "Problem"]
    assert ["error", bad.sheet, bad.cell, bad.message] in writes[0]["values"]


def test_a_meeting_record_gets_its_kinds_checks_in_excel_too(workspace, tmp_path):
    """The add-in reads the same table of workbook kinds as ingest: a new action due
    before the meeting is flagged in Excel, not only when the record is ingested."""
    from deliverypack.sample.filler import fill_workbook
    from deliverypack.templates.taskforce import issue_meeting_record

    record = issue_meeting_record(workspace, "EOL", dt.date(2004, 3, 8))
    spec = spec_of(workspace, record)
    new = block(spec, "new_actions")
    bad = fill_workbook(record, spec, workspace.register, tmp_path / "bad.xlsx",
                        overrides={(new.name, 1, "due"): dt.date(2004, 1, 1)})
    report = check_return(xw.Book(json=payload(bad)), workspace.register)
    assert report.kind == "meeting" and "due-before-meeting" in report.codes()


def test_a_clean_return_says_so(workspace, filled):
    book = xw.Book(json=payload(filled("BIS")))
    assert check_return(book).valid
    values = next(a for a in book.json()["actions"] if a["func"] == "setValues")["values"]
    assert "No problems found" in values[-1][-1]


def test_the_engine_never_imports_xlwings():
    code = ("import sys, deliverypack.cli, deliverypack.returns.ingest, "
            "deliverypack.outputs.master, deliverypack.outputs.deck; "
            "assert 'xlwings' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
