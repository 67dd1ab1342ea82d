"""The returns loop end to end: init, templates, fill, validate, ingest, status, ledger."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import zipfile

import pytest
from openpyxl import load_workbook

from conftest import block, spec_of
from deliverypack.consolidation.views import returns_status
from deliverypack.ledger.store import Ledger
from deliverypack.returns.ingest import ingest_file
from deliverypack.templates.issue import issue_returns
from deliverypack.validation.register import read_register, write_register


def test_every_department_template_round_trips_through_fill_and_ingest(workspace, filled):
    for dept in ("HO", "DH", "DfES", "DWP", "BIS"):
        path = filled(dept)
        report = ingest_file(workspace, path)
        assert report.valid, report.flatten(("code", "sheet", "cell", "message"))
        assert report.status == "accepted" and report.department == dept
    rows = workspace.ledger.query("SELECT department FROM submissions WHERE status='accepted'")
    assert sorted(r[0] for r in rows) == sorted(["HO", "DH", "DfES", "DWP", "BIS"])


def test_values_in_the_ledger_equal_the_cells_typed_with_their_provenance(workspace, filled):
    path = filled("DH")
    ingest_file(workspace, path)
    spec = spec_of(workspace, path)
    traj = block(spec, "traj")
    wb = load_workbook(path)
    rows = workspace.ledger.query("SELECT * FROM measure_values WHERE field='actual' AND org_id=''")
    assert len(rows) == len([r for r in traj.rows if "actual" in r.inputs])
    for r in rows:
        cell = wb[r["sheet"]][r["cell"]].value  # fraction in a percent cell
        assert r["value"] == pytest.approx(cell * 100)
        assert r["sheet"] == "DH1 A&E 4 hours"


def test_template_is_protected_with_unlocked_shaded_inputs_dropdowns_and_names(workspace):
    path = workspace.outbox("2002-12") / "HO-2002-12.xlsx"
    wb = load_workbook(path)
    assert wb.sheetnames[0] == "Instructions" and "Cover" in wb.sheetnames
    cover = wb["Cover"]
    assert cover.protection.sheet
    tid_cell = next(r[1] for r in cover.iter_rows(min_row=1) if r[0].value == "Template id")
    assert tid_cell.value.startswith("DP-RETURN-HO-2002-12-")
    assert tid_cell.protection.locked
    sheet = wb["HO4 Decided within 2 months"]
    lists = [dv for dv in sheet.data_validations.dataValidation if dv.type == "list"]
    assert any('"G,AG,AR,R"' == dv.formula1 for dv in lists)
    assert any('"L,M,H,VH"' == dv.formula1 for dv in lists)
    assert all(dv.showInputMessage and dv.prompt for dv in sheet.data_validations.dataValidation)
    assert {"dp_cover", "dp_HO4_assess", "dp_HO4_ASY4_traj", "dp_HO4_miles", "dp_actions"} <= \
        set(wb.defined_names)
    # an input cell is unlocked and shaded; a planned value is locked
    rng = wb.defined_names["dp_HO4_ASY4_traj"].attr_text.split("!")[1].replace("$", "")
    first = rng.split(":")[0]
    row = int(first[1:])
    assert sheet[f"B{row}"].protection.locked
    assert sheet[f"B{row}"].value == pytest.approx(0.60)
    assert not sheet[f"C{row}"].protection.locked
    assert sheet[f"C{row}"].fill.fgColor.rgb.endswith("FFF4CC")


def test_resubmission_supersedes_and_duplicate_changes_nothing(workspace, filled):
    first = filled("HO")
    r1 = ingest_file(workspace, first)
    again = ingest_file(workspace, first)
    assert again.duplicate and again.submission_id == r1.submission_id
    assert workspace.ledger.query("SELECT count(*) FROM submissions")[0][0] == 1
    traj = block(spec_of(workspace, first), "traj")
    i = next(k for k, r in enumerate(traj.rows) if "actual" in r.inputs)
    second = filled("HO", overrides={(traj.name, i, "actual"): 7777}, name="HO-resent.xlsx")
    r2 = ingest_file(workspace, second)
    assert r2.valid and r2.superseded == r1.submission_id
    subs = workspace.ledger.query("SELECT id, superseded_by FROM submissions ORDER BY id")
    assert [tuple(s) for s in subs] == [(r1.submission_id, r2.submission_id),
                                        (r2.submission_id, None)]
    latest = workspace.ledger.latest_values("actual")
    period = traj.rows[i]["period"]
    assert latest[("ASY2", "", period)]["value"] == 7777
    # both files are kept byte for byte, named by their hash
    for path, rep in ((first, r1), (second, r2)):
        kept = workspace.archive / f"{rep.sha256}.xlsx"
        assert kept.read_bytes() == path.read_bytes()


def test_crash_mid_ingest_leaves_the_ledger_as_it_was(workspace, filled, monkeypatch):
    path = filled("DH")
    before = workspace.ledger.query("SELECT count(*) FROM measure_values")[0][0]

    def boom(*a, **k):
        raise RuntimeError("power cut")
    monkeypatch.setattr(Ledger, "_store_content", boom)
    with pytest.raises(RuntimeError):
        ingest_file(workspace, path)
    assert workspace.ledger.query("SELECT count(*) FROM submissions")[0][0] == 0
    assert workspace.ledger.query("SELECT count(*) FROM measure_values")[0][0] == before
    monkeypatch.undo()
    assert ingest_file(workspace, path).valid  # and the same file goes in cleanly afterwards


def test_ledger_uses_wal_foreign_keys_and_a_schema_version(workspace):
    from deliverypack.ledger.schema import SCHEMA_VERSION
    db = sqlite3.connect(workspace.ledger_path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == \
        str(SCHEMA_VERSION)
    assert workspace.ledger.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_an_older_ledger_is_migrated_in_place(tmp_path):
    from deliverypack.ledger.schema import MIGRATIONS, SCHEMA_VERSION
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[1] + ";INSERT INTO meta VALUES ('schema_version', '1');")
    db.execute("INSERT INTO actions VALUES ('A1','x','o','','','2003-01-01','open','r','t','t')")
    db.commit()
    db.close()
    led = Ledger(path)
    assert led.query("SELECT value FROM meta")[0][0] == str(SCHEMA_VERSION)
    assert led.query("SELECT id FROM actions")[0][0] == "A1"  # nothing lost
    assert led.query("SELECT count(*) FROM foreign_templates")[0][0] == 0


def test_rejected_return_gets_feedback_workbook_and_status_says_why(workspace, filled):
    spec = spec_of(workspace, workspace.outbox("2002-12") / "DfES-2002-12.xlsx")
    traj = block(spec, "traj")
    i = next(k for k, r in enumerate(traj.rows) if "actual" in r.inputs)
    path = filled("DfES", overrides={(traj.name, i, "actual"): "n/a"})
    rep = ingest_file(workspace, path, received=dt.datetime(2003, 1, 20))
    assert not rep.valid
    assert ["not-a-number", "DfES1 London schools"] in rep.flatten(("code", "sheet"))
    wb = load_workbook(rep.feedback)
    assert wb.sheetnames[0] == "Problems"
    bad = next(i for i in rep.issues if i.code == "not-a-number")
    cell = wb[bad.sheet][bad.cell]
    assert cell.value == "n/a"  # nothing the department typed is changed
    assert cell.comment is not None and "found 'n/a'" in cell.comment.text
    assert cell.fill.fgColor.rgb.endswith("A50021") and cell.font.b  # the template's error look
    problems = [r[4].value for r in wb["Problems"].iter_rows(min_row=5)]
    assert any("found 'n/a'" in p for p in problems)
    st = {s.department: s for s in returns_status(workspace.register, workspace.ledger, "2002-12")}
    assert st["DfES"].status == "rejected" and st["DfES"].late
    assert "found 'n/a'" in st["DfES"].problems[0]
    assert st["HO"].status == "not returned"


def test_fixed_feedback_workbook_can_be_sent_back(workspace, filled):
    spec = spec_of(workspace, workspace.outbox("2002-12") / "BIS-2002-12.xlsx")
    cover = block(spec, "cover")
    i = next(k for k, r in enumerate(cover.rows) if r["field"] == "Contact name")
    rep = ingest_file(workspace, filled("BIS", overrides={(cover.name, i, "value"): None}))
    assert rep.flatten(("code",)) == [["required-missing"]]
    wb = load_workbook(rep.feedback)
    issue = rep.issues[0]
    wb[issue.sheet][issue.cell] = "Laura Chen"
    fixed = rep.feedback.with_name("BIS-2002-12-fixed.xlsx")
    wb.save(fixed)
    again = ingest_file(workspace, fixed)
    assert again.valid, again.flatten(("code", "sheet", "cell", "message"))


def test_next_round_template_prefills_previous_actuals_and_open_actions(workspace, filled):
    ingest_file(workspace, filled("HO"))
    paths = issue_returns(workspace, "2003-07")
    ho = next(p for p in paths if p.name.startswith("HO-"))
    spec = spec_of(workspace, ho)
    traj = block(spec, "traj")
    prefilled = [r for r in traj.rows if r["period"] <= "2002-12"]
    assert prefilled and all(r["actual"] is not None for r in prefilled)
    assert all("actual" not in r.inputs for r in prefilled)
    actions = block(spec, "actions")
    # the filler marked actions due by Dec 2002 done; the others are still open
    assert {r["id"] for r in actions.rows} == {"ST-0212-02", "ST-0212-03"}
    last = block(spec, "assess")
    assert {r["code"]: r["last"] for r in last.rows}["likelihood"] in ("R", "AR")


def test_register_mistakes_are_reported_by_sheet_and_cell(tmp_path):
    from deliverypack.sample.programme import ACTIONS, sample_register
    path = tmp_path / "register.xlsx"
    write_register(path, sample_register(), ACTIONS)
    wb = load_workbook(path)
    wb["Measures"]["D2"] = "furlongs"
    wb["Trajectories"]["C3"] = "lots"
    wb["Priorities"]["B2"] = "MOD"
    wb.save(path)
    _, _, issues = read_register(path)
    found = {(i.code, i.sheet, i.cell) for i in issues}
    assert ("not-allowed", "Measures", "D2") in found
    assert ("not-a-number", "Trajectories", "C3") in found
    assert ("unknown-reference", "Priorities", "B2") in found


def test_empty_register_has_every_sheet_and_instructions(tmp_path):
    from deliverypack.validation.register import SHEETS
    path = tmp_path / "register.xlsx"
    write_register(path, None)
    wb = load_workbook(path)
    assert wb.sheetnames == ["Instructions"] + [s.name for s in SHEETS]
    reg, actions, issues = read_register(path)
    assert issues == [] and reg.priorities == [] and actions == []


def test_templates_keep_text_from_the_register_as_text(tmp_path):
    from deliverypack.sample.programme import sample_register
    from deliverypack.templates.build import build_workbook
    from deliverypack.validation.layout import return_spec
    reg = sample_register()
    reg.priorities[0].target_statement = "=HYPERLINK(\"http://evil\",\"x\")"
    spec = return_spec(reg, "HO", "2002-12")
    out = build_workbook(spec, tmp_path / "t.xlsx")
    with zipfile.ZipFile(out) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        # formulas are the Checks panel's own (Cover, hidden Checks sheet), never register text
        assert not any(b"HYPERLINK" in f for n in sheets
                       for f in re.findall(rb"<f>(.*?)</f>", z.read(n)))
    wb = load_workbook(out)
    formulas = {sheet.title for sheet in wb for row in sheet.iter_rows() for c in row
                if c.data_type == "f"}
    assert formulas == {"Cover", "Checks"}
    assert wb[spec.sheets[1].name]["A2"].value.startswith("Lead:")
    assert wb[spec.sheets[1].name]["A2"].data_type == "s"


def test_the_sample_programme_is_a_fresh_copy_each_time():
    from deliverypack.sample.programme import sample_register
    first = sample_register()
    first.measure("AE4").returned_by = "organisation"
    first.priorities.clear()
    again = sample_register()
    assert again.measure("AE4").returned_by == "department" and again.priorities
