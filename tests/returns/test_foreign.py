"""Bring your own template: DfT's real return read through its real datamap."""

from __future__ import annotations

import datetime as dt
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from conftest import FIXTURES, needs_shared
from deliverypack.returns.foreign import (
    DatamapRejected,
    add_template,
    export_master,
    prefill_all,
)
from deliverypack.returns.ingest import ingest_file, validate_file
from deliverypack.templates.datamap import read_datamap

DFT = FIXTURES / "dft-bicc-return"
pytestmark = needs_shared(DFT)


@pytest.fixture
def dft_ws(workspace):
    add_template(workspace, "DFT", DFT / "blank_template.xlsm", DFT / "datamap.csv")
    return workspace


def test_the_real_datamap_parses_with_quoted_keys_intact():
    entries, issues = read_datamap(DFT / "datamap.csv")
    assert issues == [] and len(entries) == 1944
    keys = {e.key for e in entries}
    assert "SC1 If Yes, new Business Case Type?" in keys
    assert any(k.startswith("For all construction, infrastructure or capital") for k in keys)
    first = entries[0]
    assert (first.key, first.sheet, first.cell, first.type, first.line) == (
        "Project/Programme Name", "Introduction", "C11", "TEXT", 2)


def test_the_filled_dft_return_ingests_with_values_as_openpyxl_reads_them(dft_ws, tmp_path):
    path = tmp_path / "DfT-2003-12.xlsm"
    path.write_bytes((DFT / "filled_return.xlsm").read_bytes())
    rep = ingest_file(dft_ws, path, round_id="2003-12")  # recognised without --template
    assert rep.valid and rep.kind == "foreign" and rep.department == "DfT"
    assert rep.codes() == {"macros-ignored"}
    stored = {r["key"]: r for r in dft_ws.ledger.query(
        "SELECT * FROM foreign_values WHERE submission_id=?", rep.submission_id)}
    wb = load_workbook(path, data_only=True, keep_vba=False)
    entries, _ = read_datamap(DFT / "datamap.csv")
    checked = {"text": 0, "number": 0, "date": 0}
    for e in entries:
        v = wb[e.sheet][e.cell].value
        if v is None or v == "" or e.key not in stored:
            continue
        row = stored[e.key]
        if isinstance(v, dt.datetime):
            assert row["kind"] in ("date", "datetime")
            assert dt.datetime.fromisoformat(row["text"]) == v
            checked["date"] += 1
        elif isinstance(v, int | float):
            assert row["kind"] == "number" and row["number"] == pytest.approx(v)
            checked["number"] += 1
        elif isinstance(v, str):
            assert row["kind"] == "text" and row["text"] == v
            checked["text"] += 1
    assert all(n >= 20 for n in checked.values()), checked


def test_a_broken_datamap_is_refused_with_line_numbers(workspace, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "\ufeffkey,sheet,cell_ref,type\n"
        "Project/Programme Name,Introduction,C11,TEXT\n"
        "Project/Programme Name,Introduction,C12,TEXT\n"
        "\"Cost, total\",No Such Sheet,D4,NUMBER\n"
        "Start,Introduction,C11,DATE\n"
        "Odd,Introduction,C13,CURRENCY\n"
        "Where,Introduction,11C,TEXT\n\n\n", encoding="utf-8")
    with pytest.raises(DatamapRejected) as exc:
        add_template(workspace, "DFT", DFT / "blank_template.xlsm", bad)
    got = {(i.code, i.cell) for i in exc.value.issues}
    assert got == {("datamap-duplicate-key", "line 3"), ("datamap-unknown-sheet", "line 4"),
                   ("datamap-duplicate-cell", "line 5"), ("datamap-unknown-type", "line 6"),
                   ("datamap-bad-cell", "line 7")}
    assert "bad.csv, line 4: the sheet 'No Such Sheet' is not in the blank template" in \
        str(exc.value)
    nocols = tmp_path / "nocols.csv"
    nocols.write_text("name,where\nx,y\n")
    assert read_datamap(nocols)[1][0].code == "datamap-missing-column"
    mapping = tmp_path / "mapping.csv"
    mapping.write_text("key,sheet,cell,type,maps_to\nA,Introduction,C11,TEXT,salary\n")
    assert read_datamap(mapping)[1][0].code == "datamap-bad-mapping"


def _validations(sheet_xml: bytes) -> list[bytes]:
    """A sheet's data validations in canonical XML: equal whatever quoting was used."""
    from lxml import etree
    root = etree.fromstring(sheet_xml)
    return [etree.tostring(el, method="c14n")
            for el in root.iter("{*}dataValidations", "{*}extLst")]


def test_prefill_keeps_macros_and_validations_byte_for_byte(dft_ws, tmp_path):
    path = tmp_path / "DfT-2003-12.xlsm"
    path.write_bytes((DFT / "filled_return.xlsm").read_bytes())
    ingest_file(dft_ws, path, round_id="2003-12")
    out = prefill_all(dft_ws, "DFT", "2004-07")[0]
    blank = zipfile.ZipFile(DFT / "blank_template.xlsm")
    new = zipfile.ZipFile(out)
    assert blank.namelist() == new.namelist()
    changed = [n for n in blank.namelist() if blank.read(n) != new.read(n)]
    assert changed and all(n.startswith("xl/worksheets/sheet") for n in changed)
    assert new.read("xl/vbaProject.bin") == blank.read("xl/vbaProject.bin")
    for n in changed:  # data validations unchanged (as XML) in every rewritten sheet
        assert _validations(new.read(n)) == _validations(blank.read(n))
    wb = load_workbook(out, keep_vba=True)
    assert wb["Introduction"]["C11"].value == "Universal Cantilever Bridge over the River Styx"
    assert wb["Introduction"]["C18"].value == dt.datetime(2019, 6, 30)
    again = validate_file(dft_ws, out)[0]  # the pre-filled copy is still recognised
    assert again.template_id == "DFT" and again.valid


def test_export_master_is_wide_typed_and_text_stays_text(dft_ws, tmp_path):
    path = tmp_path / "DfT-2003-12.xlsm"
    path.write_bytes((DFT / "filled_return.xlsm").read_bytes())
    rep = ingest_file(dft_ws, path, round_id="2003-12")
    dft_ws.ledger.db.execute("UPDATE foreign_values SET text='=1+1' WHERE key=? AND "
                             "submission_id=?", ("Project/Programme Name", rep.submission_id))
    out = export_master(dft_ws, "DFT", tmp_path / "m.xlsx")
    sheet = load_workbook(out)["Master"]
    assert sheet["A1"].value == "key" and sheet["B1"].value == "DfT"
    rows = {sheet.cell(row=r, column=1).value: r for r in range(2, sheet.max_row + 1)}
    assert len(rows) == 1944
    cell = sheet.cell(row=rows["Project/Programme Name"], column=2)
    assert cell.value == "=1+1" and cell.data_type == "s"
    assert sheet.cell(row=rows["Snapshot Date"], column=2).value == dt.datetime(2019, 6, 30)


def test_mapped_values_feed_the_ledger_and_odd_cells_are_flagged(workspace, tmp_path):
    wb = Workbook()
    sh = wb.active
    sh.title = "Return"
    for r, (label, value) in enumerate([("Department", "DH"), ("Round", "2003-12"),
                                        ("A&E actual", 94.2), ("Likelihood", "AG"),
                                        ("Cost", 12.5), ("Duration", dt.timedelta(1)),
                                        ("Review time", dt.time(9, 30))], start=1):
        sh.cell(row=r, column=1, value=label)
        sh.cell(row=r, column=2, value=value)
    blank = tmp_path / "blank.xlsx"
    wb.save(blank)
    dm = tmp_path / "map.csv"
    dm.write_text("cell_key,template_sheet,cellreference,type,maps_to\n"
                  "Department,Return,B1,TEXT,department\nRound,Return,B2,TEXT,round\n"
                  "A&E,Return,B3,NUMBER,measure:AE4:actual:2003-12\n"
                  "Likelihood,Return,B4,TEXT,rating:DH1:likelihood\n"
                  "Cost,Return,B5,NUMBER,\nDuration,Return,B6,TEXT,\nReview,Return,B7,TIME,\n")
    add_template(workspace, "SMALL", blank, dm)
    rep = ingest_file(workspace, blank, template="SMALL")
    assert rep.department == "DH" and rep.round == "2003-12"
    assert sorted(rep.flatten(("code", "cell"))) == [["unsupported-value", "B6"]]
    latest = workspace.ledger.latest_values("actual")
    assert latest[("AE4", "", "2003-12")]["value"] == 94.2
    assert workspace.ledger.ratings("2003-12", "self")[("DH1", "likelihood")]["value"] == "AG"
    kinds = {r["key"]: r["kind"] for r in workspace.ledger.query("SELECT * FROM foreign_values")}
    assert kinds["Review"] == "time"


def test_an_excel_error_in_a_mapped_cell_is_an_error_as_in_our_own_templates(dft_ws,
                                                                             tmp_path):
    """The real DfT return with #DIV/0! and #N/A where it held figures: refused, with the
    code and message an error value gets in the unit's own templates (file, sheet, cell,
    the error found), never read as a blank or only warned about."""
    wb = load_workbook(DFT / "filled_return.xlsm", keep_vba=True)
    sheet = wb["1 - Project Info"]
    assert isinstance(sheet["G41"].value, int | float)  # a figure the department typed
    sheet["G41"] = "#DIV/0!"
    sheet["G42"] = "#N/A"
    assert sheet["G41"].data_type == "e"
    path = tmp_path / "DfT-2003-12.xlsm"
    wb.save(path)
    rep, _ = validate_file(dft_ws, path, template="DFT")
    assert not rep.valid
    errors = {(i.sheet, i.cell): i for i in rep.issues if i.code == "excel-error"}
    assert set(errors) == {("1 - Project Info", "G41"), ("1 - Project Info", "G42")}
    one = errors[("1 - Project Info", "G41")]
    assert one.severity == "error" and one.file == path.name
    assert one.message == "expected a value, found the Excel error #DIV/0!"
    assert "#N/A" in errors[("1 - Project Info", "G42")].message
    assert not any(i.code == "unsupported-value" for i in rep.issues)
    rep = ingest_file(dft_ws, path, round_id="2003-12")
    assert not rep.valid and dft_ws.ledger.query(
        "SELECT COUNT(*) n FROM foreign_values")[0]["n"] == 0
