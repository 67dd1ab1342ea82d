"""Real figures and real office software: NHS A&E by trust through a return; a return
re-saved by LibreOffice; rows inserted inside a table."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conftest import REALDATA, block, needs_shared, needs_soffice, soffice_convert, spec_of
from deliverypack.returns.ingest import ingest_file
from deliverypack.sample.filler import fill_workbook
from places import LO_FILL

AE_COUNTS = REALDATA / "nhs_ae_counts_by_trust_monthly.csv"


@needs_shared(AE_COUNTS)
def test_real_ae_attendances_by_trust_are_ingested_intact(workspace, tmp_path):
    """NHS England A&E counts (Jul-Dec 2016) typed into the sample's Jul-Dec 2002 months."""
    series: dict[tuple[str, str, str], int] = {}
    with AE_COUNTS.open() as fh:
        for row in csv.DictReader(fh):
            series[(row["series_id"], row["org"], row["period"])] = int(row["value"])
    template = workspace.outbox("2002-12") / "DH-2002-12.xlsx"
    spec = spec_of(workspace, template)
    orgs = block(spec, "orgs")
    real_month = {f"2002-{m:02d}": f"2016-{m:02d}" for m in range(7, 13)}
    overrides, expected = {}, {}
    for i, row in enumerate(orgs.rows):
        month = real_month[row["period"]]
        att = series[("ae_attendances", row["org"], month)]
        breaches = series[("ae_4hr_breaches", row["org"], month)]
        overrides[(orgs.name, i, "numerator")] = att - breaches
        overrides[(orgs.name, i, "denominator")] = att
        expected[(row["org"], row["period"])] = (att - breaches, att)
    path = fill_workbook(template, spec, workspace.register, tmp_path / "DH-2002-12.xlsx",
                         overrides=overrides)
    rep = ingest_file(workspace, path)
    assert rep.valid, rep.flatten(("code", "cell", "message"))
    got = {}
    for r in workspace.ledger.query("SELECT org_id, period, field, value FROM measure_values "
                             "WHERE org_id<>''"):
        got.setdefault((r["org_id"], r["period"]), {})[r["field"]] = r["value"]
    assert len(got) == len(expected) == 12 * 6
    for key, (num, den) in expected.items():
        assert got[key]["numerator"] == num and got[key]["denominator"] == den
        assert got[key]["actual"] == pytest.approx(100 * num / den)


def test_rows_inserted_inside_a_table_are_tolerated(workspace, filled, tmp_path):
    """As Excel does when a row is inserted: everything below moves, names grow."""
    path = filled("HO")
    spec = spec_of(workspace, path)
    traj = block(spec, "traj")
    wb = load_workbook(path)
    dn = wb.defined_names[traj.name]
    sheet_name, ref = dn.attr_text.split("!")
    sheet = wb[sheet_name.strip("'")]
    first, last = (int(x.split("$")[-1]) for x in ref.split(":"))
    at = first + 3
    sheet.insert_rows(at)
    for _name, d in list(wb.defined_names.items()):
        s, r = d.attr_text.split("!")
        if s != sheet_name:
            continue
        a, b = (int(x.split("$")[-1]) for x in r.split(":"))
        a2 = a + 1 if a >= at else a
        b2 = b + 1 if b >= at else b
        cols = [x.split("$")[1] for x in r.split(":")]
        d.attr_text = f"{s}!${cols[0]}${a2}:${cols[1]}${b2}"
    out = tmp_path / "inserted.xlsx"
    wb.save(out)
    rep = ingest_file(workspace, out)
    assert rep.valid, rep.flatten(("code", "sheet", "cell", "message"))


@pytest.mark.soffice
@needs_soffice
def test_a_return_filled_and_saved_by_libreoffice_is_ingested(workspace, filled, tmp_path):
    path = filled("DH")
    resaved = soffice_convert(path, "xlsx:Calc MS Excel 2007 XML", tmp_path / "lo")
    assert resaved.read_bytes() != path.read_bytes()
    rep = ingest_file(workspace, resaved)
    assert rep.valid, rep.flatten(("code", "sheet", "cell", "message"))
    mine = {(r["measure_id"], r["org_id"], r["period"], r["field"]): r["value"]
            for r in workspace.ledger.query("SELECT * FROM measure_values")}
    wb = load_workbook(path)
    spec = spec_of(workspace, path)
    traj = block(spec, "traj")
    row0 = int(wb.defined_names[traj.name].attr_text.split("$")[2].split(":")[0])
    for i, r in enumerate(traj.rows):
        if "actual" in r.inputs:
            typed = wb["DH1 A&E 4 hours"][f"C{row0 + i}"].value * 100
            assert mine[("AE4", "", r["period"], "actual")] == pytest.approx(typed)


@pytest.mark.soffice
@pytest.mark.skipif(not Path("/usr/bin/python3").exists() or subprocess.run(
    ["/usr/bin/python3", "-c", "import uno"], capture_output=True).returncode != 0,
    reason="python3-uno (Debian) not installed; CI installs it")
@needs_soffice
def test_a_return_typed_into_libreoffice_calc_through_its_api_is_ingested(workspace, filled,
                                                                          tmp_path):
    """A department that fills the template in LibreOffice: every input typed through
    LibreOffice's API (which, unlike Excel, also writes into locked cells), saved as .xlsx."""
    template = workspace.outbox("2002-12") / "BIS-2002-12.xlsx"
    spec = spec_of(workspace, template)
    reference = filled("BIS")
    wb = load_workbook(reference)
    values = []
    for _, b in spec.blocks():
        dn = wb.defined_names.get(b.name)
        if dn is None:
            continue
        sheet, ref = dn.attr_text.split("!")
        r1 = int(ref.split(":")[0].split("$")[2])
        rows = b.rows + [{} for _ in range(b.free_rows)]
        for i, row in enumerate(rows):
            for j, col in enumerate(b.columns):
                if b.rows and col.role != "input" and col.key not in row.inputs:
                    continue
                cell = wb[sheet.strip("'")].cell(row=r1 + i, column=1 + j)
                v = cell.value
                if v is None:
                    continue
                if hasattr(v, "date"):
                    v = v.date().isoformat()
                values.append([sheet.strip("'"), cell.coordinate, v])
    spec_file = tmp_path / "values.json"
    spec_file.write_text(json.dumps(values))
    out = tmp_path / "BIS-2002-12.xlsx"
    subprocess.run(["/usr/bin/python3", str(LO_FILL),
                    str(template), str(spec_file), str(out)], check=True, timeout=240)
    rep = ingest_file(workspace, out)
    assert rep.valid, rep.flatten(("code", "sheet", "cell", "message"))
    got = {(r["period"], r["field"]): r["value"] for r in workspace.ledger.query(
        "SELECT period, field, value FROM measure_values")}
    typed = {v[1]: v[2] for v in values if v[0] == "BIS1 Apprenticeships"}
    actual = next(b for _, b in spec.blocks() if b.kind == "traj")
    r1 = int(wb.defined_names[actual.name].attr_text.split("$")[2].split(":")[0])
    for i, row in enumerate(actual.rows):
        if "actual" in row.inputs:
            assert got[(row["period"], "actual")] == typed[f"C{r1 + i}"]


def test_cells_pasted_over_still_read(workspace, filled, tmp_path):
    """Paste-all over input cells wipes their shading, number format and dropdown; the
    values are still read, and read the same."""
    from openpyxl.styles import PatternFill
    path = filled("DH")
    wb = load_workbook(path)
    sheet = wb["DH1 A&E 4 hours"]
    sheet.data_validations.dataValidation = []
    for row in sheet.iter_rows():
        for cell in row:
            cell.fill = PatternFill()
            cell.number_format = "General"
    out = tmp_path / "pasted.xlsx"
    wb.save(out)
    a, b = ingest_file(workspace, path), None
    values_a = {(r["period"], r["field"]): r["value"] for r in workspace.ledger.query(
        "SELECT period, field, value FROM measure_values WHERE submission_id=?",
        a.submission_id)}
    b = ingest_file(workspace, out)
    assert b.valid, b.flatten(("code", "cell", "message"))
    values_b = {(r["period"], r["field"]): r["value"] for r in workspace.ledger.query(
        "SELECT period, field, value FROM measure_values WHERE submission_id=?",
        b.submission_id)}
    assert values_a == values_b and values_a
