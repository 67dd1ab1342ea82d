"""Returns as departments really fill them: each case an officer was seen to try, on a
workbook written by openpyxl (and, in tests/test_officer_lo.py, typed through LibreOffice).
Every case asserts what the officer is told, by sheet and cell."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

from openpyxl import load_workbook

from bookkit import edit, where
from conftest import block, spec_of
from deliverypack.returns.ingest import ingest_file, validate_file
from deliverypack.validation.read import parse_ref


def insert_row(wb, sheet: str, row: int) -> None:
    """Insert a row as Excel does: cells and the names below it move down; a name ending
    just above it does not grow."""
    wb[sheet].insert_rows(row)
    for dn in list(wb.defined_names.values()):
        rng = parse_ref(dn.attr_text)
        if rng and rng.sheet == sheet and rng.r1 >= row:
            dn.attr_text = re.sub(r"\$(\d+)", lambda m: f"${int(m.group(1)) + 1}",
                                  dn.attr_text.split("!")[1])
            dn.attr_text = f"'{sheet}'!" + dn.attr_text


def issues(workspace, path):
    rep, _ = validate_file(workspace, path)
    return rep, {(i.code, i.sheet, i.cell): i.message for i in rep.issues}


def one(found: dict, code: str, sheet: str, cell: str) -> str:
    assert (code, sheet, cell) in found, f"{code} at {sheet}!{cell} not raised: {found}"
    return found[(code, sheet, cell)]


def _dh(workspace, filled):
    p = filled("DH")
    spec = spec_of(workspace, p)
    traj = block(spec, "traj")
    inputs = [k for k, r in enumerate(traj.rows) if "actual" in r.inputs]
    return p, spec, traj, inputs


# ----------------------------------------------------------------------------- item 3
def test_excel_error_values_are_errors_naming_cell_and_error(workspace, filled, tmp_path):
    p, spec, traj, inputs = _dh(workspace, filled)
    orgs = block(spec, "orgs")
    a = where(p, traj.name, inputs[0], "actual", spec)
    b = where(p, orgs.name, 0, "numerator", spec)
    bad = edit(p, tmp_path / "err.xlsx", {a: "#DIV/0!", b: "#N/A"})
    rep, found = issues(workspace, bad)
    assert not rep.valid
    assert "found the Excel error #DIV/0!" in one(found, "excel-error", *a)
    assert "#N/A" in one(found, "excel-error", *b)
    assert not any(k[0] == "required-missing" and k[2] == b[1] for k in found)


def test_a_formula_without_a_saved_value_is_an_error(workspace, filled, tmp_path):
    p, spec, traj, inputs = _dh(workspace, filled)
    a = where(p, traj.name, inputs[0], "actual", spec)
    bad = edit(p, tmp_path / "f.xlsx", {a: "=0.9+0.01"})
    msg = one(issues(workspace, bad)[1], "formula-no-value", *a)
    assert "=0.9+0.01" in msg and "open and save" in msg


def _with_cached_values(path: Path, out: Path, values: dict[str, str]) -> Path:
    """What Excel saves for a formula: the formula and its value (openpyxl cannot)."""
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in zin.infolist():
            data = zin.read(item.filename)
            for ref, v in values.items():
                data = re.sub(rb'(<c r="' + ref.encode() + rb'"[^>]*?)(?: t="\w+")?>(<f>.*?</f>)'
                              rb'<v\s*/?>(?:</v>)?', rb'\1 t="' + (b"str" if not v[0].isdigit()
                                                               else b"n") + rb'">\2<v>'
                              + v.encode() + b"</v>", data)
            z.writestr(item, data)
    return out


def test_a_formula_in_an_input_cell_is_taken_at_its_value_with_a_warning(workspace, filled,
                                                                         tmp_path):
    p, spec, traj, inputs = _dh(workspace, filled)
    a = where(p, traj.name, inputs[0], "actual", spec)
    n = where(p, block(spec, "assess").name, 5, "now", spec)  # the narrative
    f = edit(p, tmp_path / "f.xlsx", {a: "=0.9+0.01", n: "=1.5+0.035"})
    f = _with_cached_values(f, tmp_path / "cached.xlsx", {a[1]: "0.91", n[1]: "1.535"})
    rep, found = issues(workspace, f)
    assert rep.valid, rep.flatten(("code", "cell", "message"))
    assert "=0.9+0.01; its saved value 91 was taken" in one(found, "formula-input", *a)
    assert "its saved value '1.535' was taken" in one(found, "formula-input", *n)


def test_nan_and_infinity_are_refused(workspace, filled, tmp_path):
    p, spec, traj, inputs = _dh(workspace, filled)
    a = where(p, traj.name, inputs[0], "actual", spec)
    b = where(p, traj.name, inputs[1], "actual", spec)
    f = edit(p, tmp_path / "n.xlsx", {a: 0.5, b: 0.25})
    with zipfile.ZipFile(f) as zin, zipfile.ZipFile(tmp_path / "nan.xlsx", "w") as z:
        for item in zin.infolist():
            data = zin.read(item.filename).replace(b"<v>0.5</v>", b"<v>NaN</v>").replace(
                b"<v>0.25</v>", b"<v>INF</v>")
            z.writestr(item, data)
    rep, found = issues(workspace, tmp_path / "nan.xlsx")
    # one code wherever the cell is (tests/test_damaged.py: text cells, foreign templates)
    assert "found NaN (not a number)" in one(found, "number-not-finite", *a)
    assert "found infinity" in one(found, "number-not-finite", *b)


def test_one_percentage_rule_quoted_as_the_cell_shows_it(workspace, filled, tmp_path):
    p, spec, traj, inputs = _dh(workspace, filled)
    cells = [where(p, traj.name, inputs[k], "actual", spec) for k in range(4)]
    f = edit(p, tmp_path / "pct.xlsx", dict(zip(cells, [1.4, 1.6, 98, 0.915], strict=True)))
    rep, found = issues(workspace, f)
    assert one(found, "out-of-range", *cells[0]).endswith("(no more than 100%)"
                                                             ", found 140%") or \
        "found 140%" in one(found, "out-of-range", *cells[0])
    assert "found 160%" in one(found, "out-of-range", *cells[1])
    assert "from 0% to 100%" in one(found, "out-of-range", *cells[1])
    assert "shows 9,800%" in one(found, "percent-as-points", *cells[2])
    assert not [k for k in found if k[2] == cells[3][1]]  # 0.915 is 91.5%, said nothing
    _, read = validate_file(workspace, f)
    row = next(r for b in read.of_kind("traj") for r in b.rows if r.cell("actual")
               == cells[2][1])
    assert row.get("actual") == 98.0


def test_a_number_in_a_date_cell_is_refused_not_read_as_1905(workspace, filled, tmp_path):
    p = filled("DH")
    spec = spec_of(workspace, p)
    cover = block(spec, "cover")
    i = next(k for k, r in enumerate(cover.rows) if r["field"] == "Sign-off date")
    c = where(p, cover.name, i, "value", spec)
    f = edit(p, tmp_path / "d.xlsx", {c: 2003})  # the cell keeps its date format
    msg = one(issues(workspace, f)[1], "implausible-date", *c)
    assert "25 Jun 1905 (the number 2,003 in a date cell)" in msg and "1980 to 2099" in msg


def test_range_messages_state_their_bound(workspace, filled, tmp_path):
    p = filled("HO")
    spec = spec_of(workspace, p)
    traj = block(spec, "traj")  # ASY2, a count
    k = next(k for k, r in enumerate(traj.rows) if "actual" in r.inputs)
    a = where(p, traj.name, k, "actual", spec)
    msg = one(issues(workspace, edit(p, tmp_path / "neg.xlsx", {a: -5}))[1], "out-of-range", *a)
    assert msg == "expected the actual as a number (0 or more), found -5"
    p, spec, traj, inputs = _dh(workspace, filled)
    orgs = block(spec, "orgs")
    num = where(p, orgs.name, 0, "numerator", spec)
    den = where(p, orgs.name, 0, "denominator", spec)
    f = edit(p, tmp_path / "nd.xlsx", {num: 90000, den: 83638})
    assert "no more than the attendances (83,638), found 90,000" in one(
        issues(workspace, f)[1], "out-of-range", *num)


def test_duplicate_rows_say_what_and_where(workspace, filled, tmp_path):
    p, spec, traj, inputs = _dh(workspace, filled)
    first = where(p, traj.name, 0, "period", spec)
    second = where(p, traj.name, 1, "period", spec)
    wb = load_workbook(p)
    wb[second[0]][second[1]] = wb[first[0]][first[1]].value
    wb.save(tmp_path / "dup.xlsx")
    msg = one(issues(workspace, tmp_path / "dup.xlsx")[1], "duplicate-key", *second)
    assert f"found month {traj.rows[0]['period'][:4]}" not in msg
    assert "again (already given at " + first[1] + ")" in msg and "month " in msg


# ----------------------------------------------------------------------------- item 1
def test_a_row_typed_just_below_a_full_table_is_stored(workspace, filled, tmp_path):
    p = filled("HO")
    spec = spec_of(workspace, p)
    issues_block = block(spec, "issues")
    sheet, last = where(p, issues_block.name, issues_block.free_rows - 1, "text", spec)
    below = int(last[1:]) + 1
    wb = load_workbook(p)
    sh = wb[sheet]
    for r in range(int(last[1:]) - issues_block.free_rows + 1, below):
        sh[f"A{r}"], sh[f"B{r}"] = "Issue", f"Issue in row {r}"
    insert_row(wb, sheet, below)  # the defined name over the table does not grow
    sh[f"A{below}"], sh[f"B{below}"] = "Issue", "A fifth issue, typed below the table"
    wb.save(tmp_path / "fifth.xlsx")
    rep = ingest_file(workspace, tmp_path / "fifth.xlsx")
    assert rep.valid, rep.flatten(("code", "cell", "message"))
    texts = [r["text"] for r in workspace.ledger.query(
        "SELECT text FROM texts WHERE submission_id=? AND kind='issue'", rep.submission_id)]
    assert "A fifth issue, typed below the table" in texts


def test_a_partly_filled_row_is_an_error_naming_what_is_missing(workspace, filled, tmp_path):
    p = filled("HO")
    spec = spec_of(workspace, p)
    risks, iss = block(spec, "risks"), block(spec, "issues")
    f = filled("HO", name="part.xlsx", overrides={
        (risks.name, 3, "risk"): None, (risks.name, 3, "likelihood"): "H",
        (risks.name, 3, "impact"): "M", (iss.name, 3, "type"): "Issue",
        (iss.name, 3, "text"): None})
    rep, found = issues(workspace, f)
    assert one(found, "row-incomplete", *where(f, risks.name, 3, "risk", spec)) == \
        "this row has likelihood and impact but no risk"
    assert one(found, "row-incomplete", *where(f, iss.name, 3, "text", spec)) == \
        "this row has type but no description"


def test_values_outside_the_inputs_and_changed_headings_are_reported(workspace, filled, tmp_path):
    p = filled("HO")
    spec = spec_of(workspace, p)
    sheet = spec.sheets[1]
    miles = block(spec, "miles")
    _, first = where(p, miles.name, 0, "id", spec)
    note_row = int(first[1:]) - 2
    f = edit(p, tmp_path / "margin.xlsx", {
        (sheet.name, "L3"): "Figures are provisional",  # a margin note
        (sheet.name, f"A{note_row}"): "We changed the note",
        (sheet.name, "A1"): "Our own heading",
        (sheet.name, f"B{note_row + 1}"): "Name"})  # a column header
    rep, found = issues(workspace, f)
    assert "'Figures are provisional'" in one(found, "outside-input", sheet.name, "L3")
    assert repr(miles.note) in one(found, "locked-cell-changed", sheet.name, f"A{note_row}")
    assert repr(sheet.heading) in one(found, "locked-cell-changed", sheet.name, "A1")
    assert "'Milestone'" in one(found, "locked-cell-changed", sheet.name, f"B{note_row + 1}")
    clean, _ = issues(workspace, p)
    assert clean.valid and not clean.issues or all(
        i.code not in ("outside-input", "locked-cell-changed") for i in clean.issues)


# ----------------------------------------------------------------------------- item 2
def test_ingest_round_refuses_a_return_for_another_round(workspace, filled, tmp_path):
    from typer.testing import CliRunner

    from deliverypack.cli import app
    p = filled("HO")  # issued for 2002-12
    r = CliRunner().invoke(app, ["ingest", str(p), "--round", "2003-07", "-w", str(workspace.root),
                                 "--json"])
    assert r.exit_code == 1
    out = json.loads(r.stdout)[0]
    assert out["status"] == "rejected"
    msg = next(i["message"] for i in out["issues"] if i["code"] == "wrong-round")
    assert msg == ("expected a return for round 2003-07, found a return issued for round "
                   "2002-12")
    assert not workspace.ledger.query("SELECT * FROM measure_values")  # July's figures untouched


def test_a_closed_round_refuses_returns_until_reopened_with_a_reason(workspace, filled, tmp_path):
    from typer.testing import CliRunner

    from deliverypack.cli import app
    cli = CliRunner()
    first = ingest_file(workspace, filled("HO"))
    assert first.valid
    r = cli.invoke(app, ["master", "--round", "2002-12", "--publish", "-w", str(workspace.root)])
    assert r.exit_code == 0 and "Round 2002-12 is now closed" in r.stdout
    late = filled("HO", name="HO-2002-12-resubmitted.xlsx",
                  overrides={(block(spec_of(workspace, first.path), "risks").name, 0, "risk"):
                             "A new risk"})
    rep = ingest_file(workspace, late)
    assert not rep.valid
    hit = next(i for i in rep.issues if i.code == "round-closed")
    assert "round 2002-12 is closed (closed " in hit.message
    assert "master published (master-2002-12.xlsx)" in hit.message
    assert workspace.ledger.current_ids(round_id="2002-12") == [first.submission_id]
    r = cli.invoke(app, ["round", "reopen", "2002-12", "-w", str(workspace.root)])
    assert r.exit_code == 2  # a reason is required
    r = cli.invoke(app, ["round", "reopen", "2002-12", "--reason",
                         "HO restated November after validation", "-w", str(workspace.root)])
    assert r.exit_code == 0, r.output
    again = ingest_file(workspace, filled("HO", name="HO-2002-12-third.xlsx", overrides={
        (block(spec_of(workspace, first.path), "risks").name, 0, "risk"): "Another risk"}))
    assert again.valid and again.superseded == first.submission_id
    r = cli.invoke(app, ["status", "--round", "2002-12", "-w", str(workspace.root)])
    assert "reopened" in r.stdout and "HO restated November after validation" in r.stdout
    r = cli.invoke(app, ["round", "close", "2002-12", "--reason", "deck sent", "-w",
                         str(workspace.root)])
    assert r.exit_code == 0 and "is now closed" in r.stdout


def test_a_file_named_for_another_department_gets_a_warning(workspace, filled):
    rep, found = issues(workspace, filled("DWP", name="DH-2002-12.xlsx"))
    hit = next(i for i in rep.issues if i.code == "file-name-department")
    assert hit.message == "the file's name says DH, but the return is DWP's"
    assert rep.valid


def test_meeting_actions_typed_over_the_note_and_header_are_reported(workspace, tmp_path):
    import datetime as dt

    from deliverypack.sample.filler import fill_workbook
    from deliverypack.templates.taskforce import issue_meeting_record
    record = issue_meeting_record(workspace, "EOL", dt.date(2003, 9, 15))
    spec = spec_of(workspace, record)
    filled = fill_workbook(record, spec, workspace.register, tmp_path / "record.xlsx")
    new = block(spec, "new_actions")
    sheet, first = where(filled, new.name, 0, "description", spec)
    r1 = int(first[1:])
    wb = load_workbook(filled)
    sh = wb[sheet]
    for k, r in enumerate((r1 - 2, r1 - 1)):  # two rows too high: over the note and header
        sh[f"A{r}"], sh[f"B{r}"] = f"Action typed too high {k}", "Minister"
    wb.save(tmp_path / "high.xlsx")
    rep, found = issues(workspace, tmp_path / "high.xlsx")
    assert not rep.valid
    assert "'Action typed too high 0'" in one(found, "locked-cell-changed", sheet, f"A{r1 - 2}")
    assert "expected 'Action'" in one(found, "locked-cell-changed", sheet, f"A{r1 - 1}")
    assert "expected 'Owner'" in one(found, "locked-cell-changed", sheet, f"B{r1 - 1}")
    assert "'Minister'" in one(found, "outside-input", sheet, f"B{r1 - 2}")


def test_completed_milestones_stay_complete(workspace, filled, tmp_path):
    from deliverypack.templates.issue import issue_returns
    p = filled("HO")
    spec = spec_of(workspace, p)
    miles = block(spec, "miles")
    done = filled("HO", name="HO-done.xlsx", overrides={
        (miles.name, 0, "status"): "Complete", (miles.name, 0, "forecast"): "2002-11-20"})
    assert ingest_file(workspace, done).valid
    issue_returns(workspace, "2003-07")
    nxt = workspace.outbox("2003-07") / "HO-2003-07.xlsx"
    spec2 = spec_of(workspace, nxt)
    row = block(spec2, "miles").rows[0]
    assert row["status"] == "Complete" and row.locked == ["status", "forecast"]
    sheet, cell = where(nxt, block(spec2, "miles").name, 0, "status", spec2)
    wb = load_workbook(nxt)
    assert wb[sheet][cell].value == "Complete" and wb[sheet][cell].protection.locked
    rep = ingest_file(workspace, filled("HO", round_id="2003-07", name="HO-2003-07.xlsx"))
    assert rep.valid, rep.flatten(("code", "cell", "message"))
    st = workspace.ledger.milestone_updates("2003-07")[miles.rows[0]["id"]]
    assert (st["status"], st["forecast"], st["round"]) == ("Complete", "2002-11-20", "2003-07")
    changed = edit(workspace.outbox("2003-07") / "HO-2003-07.xlsx", tmp_path / "reopened.xlsx",
                   {(sheet, cell): "On track"})
    assert ("locked-cell-changed", sheet, cell) in issues(workspace, changed)[1]


def test_revisions_of_earlier_months_are_kept_and_marked_in_the_master(workspace, filled, tmp_path):
    import datetime as dt

    from deliverypack.outputs.master import build_master
    p = filled("DH")
    spec = spec_of(workspace, p)
    rev = block(spec, "revisions")
    f = filled("DH", name="DH-rev.xlsx", overrides={
        (rev.name, 0, "measure"): "AE4", (rev.name, 0, "period"): dt.date(2002, 9, 1),
        (rev.name, 0, "value"): 82.1, (rev.name, 0, "reason"): "Restated after validation",
        (rev.name, 1, "measure"): "AE4", (rev.name, 1, "value"): 80.0})
    rep, found = issues(workspace, f)
    sheet, cell = where(f, rev.name, 1, "period", spec)
    assert "this row has a revision but no month" in one(found, "row-incomplete", sheet, cell)
    ok = filled("DH", name="DH-ok.xlsx", overrides={
        (rev.name, 0, "measure"): "AE4", (rev.name, 0, "period"): dt.date(2002, 9, 1),
        (rev.name, 0, "value"): 82.1, (rev.name, 0, "reason"): "Restated after validation"})
    rep = ingest_file(workspace, ok)
    assert rep.valid, rep.flatten(("code", "cell", "message"))
    got = workspace.ledger.query("SELECT * FROM revisions WHERE submission_id=?", rep.submission_id)
    assert [(r["measure_id"], r["period"], r["value"], r["reason"], r["sheet"]) for r in got] \
        == [("AE4", "2002-09", 82.1, "Restated after validation", "Revisions")]
    log = load_workbook(build_master(workspace, "2002-12"))["Returns log"]
    assert any(r[2].value == "revised" and "AE4 Sep 2002 revised to 82.1: Restated after "
               "validation ('Revisions'!C" in (r[8].value or "") for r in log.iter_rows())
