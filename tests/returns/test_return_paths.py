"""Text from a return never chooses a path: a foreign return's mapped department becomes
part of a file name (the next round's pre-filled copy), so it must be an id; a mapped
round must be one of the register's."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from deliverypack.foundation.errors import DeliverypackError
from deliverypack.returns.foreign import add_template, prefill_all
from deliverypack.returns.ingest import ingest_file


def _template(workspace, tmp_path) -> Workbook:
    wb = Workbook()
    sh = wb.active
    sh.title = "Return"
    for r, label in enumerate(["Department", "Round", "Cost"], 1):
        sh.cell(row=r, column=1, value=label)
    blank = tmp_path / "blank.xlsx"
    wb.save(blank)
    dm = tmp_path / "map.csv"
    dm.write_text("cell_key,template_sheet,cellreference,type,maps_to\n"
                  "Department,Return,B1,TEXT,department\nRound,Return,B2,TEXT,round\n"
                  "Cost,Return,B3,NUMBER,\n")
    add_template(workspace, "SMALL", blank, dm)
    return wb


def _return(wb: Workbook, path, dept, rnd="2003-12"):
    sh = wb["Return"]
    sh["B1"], sh["B2"], sh["B3"] = dept, rnd, 12.5
    wb.save(path)
    return path


def _written(root) -> set:
    """Files under the test's own folder (the workspace is inside it, so a name climbing
    out of outbox/ lands here), the ledger's own WAL files aside."""
    return {p for p in root.rglob("*") if p.is_file()
            and not p.name.startswith("ledger.sqlite")}


@pytest.mark.parametrize("dept", ["../../../escaped", "/tmp/escaped", "DH/../x", "a b",
                                  "..", "DH.xlsx"])
def test_a_department_that_is_a_path_is_refused_at_its_cell(workspace, tmp_path, dept):
    wb = _template(workspace, tmp_path)
    rep = ingest_file(workspace, _return(wb, tmp_path / "ret.xlsx", dept), template="SMALL")
    assert rep.status == "rejected"
    [hit] = [i for i in rep.errors]
    assert (hit.code, hit.sheet, hit.cell) == ("unknown-department", "Return", "B1")
    assert repr(dept) in hit.message
    assert rep.department == ""
    outside = _written(tmp_path)
    assert prefill_all(workspace, "SMALL", "2003-12") == []  # nothing accepted, nothing written
    assert _written(tmp_path) == outside
    assert not list(Path("/tmp").glob("escaped*"))


def test_a_round_that_is_not_the_registers_is_refused(workspace, tmp_path):
    wb = _template(workspace, tmp_path)
    rep = ingest_file(workspace, _return(wb, tmp_path / "ret.xlsx", "DH", "../2003-12"),
                      template="SMALL")
    assert [(i.code, i.cell) for i in rep.errors] == [("unknown-round", "B2")]


def test_prefill_names_files_by_ids_only(workspace, tmp_path):
    """An accepted return is pre-filled under its id; a department recorded before ids were
    checked stops the pre-fill with a message, and no file is written anywhere."""
    wb = _template(workspace, tmp_path)
    rep = ingest_file(workspace, _return(wb, tmp_path / "ret.xlsx", "DH"), template="SMALL")
    assert rep.valid
    [out] = prefill_all(workspace, "SMALL", "2003-12")
    assert out == workspace.outbox("2003-12") / "DH-2003-12.xlsx"
    out.unlink()
    with workspace.ledger.transaction() as db:
        db.execute("UPDATE submissions SET department = ? WHERE id = ?",
                   ("../../../escaped", rep.submission_id))
    before = _written(tmp_path)
    with pytest.raises(DeliverypackError, match="not an id a file can be named by"):
        prefill_all(workspace, "SMALL", "2003-12")
    assert _written(tmp_path) == before
    with pytest.raises(DeliverypackError, match="expected a month"):
        prefill_all(workspace, "SMALL", "../../2003-12")
