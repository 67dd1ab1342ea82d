"""The register is checked as strictly as a return: the rules a unit setting up a real
programme was seen to break, each reported by sheet and row."""

from __future__ import annotations

from openpyxl import load_workbook

from deliverypack.validation.register import SHEETS, read_register


def _edit(workspace, tmp_path, sheet: str, key: str, changes: dict):
    wb = load_workbook(workspace.register_path)
    sh = wb[sheet]
    head = {c.value: c.column for c in sh[1]}
    row = next(c.row for c in sh["A"] if c.value == key)
    for header, value in changes.items():
        sh.cell(row=row, column=head[header]).value = value
    p = tmp_path / "register.xlsx"
    wb.save(p)
    return {(i.code, i.sheet): i.message for i in read_register(p)[2]}


def test_the_sample_register_breaks_no_rule(workspace):
    assert [i for i in read_register(workspace.register_path)[2] if i.severity == "error"] == []


def test_organisation_returns_need_a_breakdown(workspace, tmp_path):
    found = _edit(workspace, tmp_path, "Measures", "ASY2", {"returned by": "organisation"})
    assert "a breakdown (the organisation kind) for measure ASY2" in \
        found[("required-missing", "Measures")]


def test_tolerance_ar_is_at_least_ag(workspace, tmp_path):
    found = _edit(workspace, tmp_path, "Measures", "AE4", {"tolerance AG": 5, "tolerance AR": 2})
    assert found[("out-of-range", "Measures")] == (
        "expected a tolerance AR of at least the tolerance AG (5) for measure AE4, found "
        "tolerance AR 2")


def test_periods_say_the_convention_and_quarters_are_their_last_month(workspace, tmp_path):
    wb = load_workbook(workspace.register_path)
    sh = wb["Trajectories"]
    rows = [r for r in sh.iter_rows(min_row=2) if r[0].value == "APP1"]  # quarterly
    rows[0][1].value = "2013-Q1"
    rows[1][1].value = "2003-02"
    p = tmp_path / "register.xlsx"
    wb.save(p)
    issues = read_register(p)[2]
    msgs = [i.text() for i in issues if i.code == "not-allowed"]
    assert any("2013-Q1 is 2013-03" in m and f"cell {rows[0][1].coordinate}" in m
               for m in msgs), msgs
    assert any("a quarter's last month for quarterly measure APP1" in m and "'2003-02'" in m
               for m in msgs), msgs


def test_the_instructions_sheet_explains_every_column_with_an_example(workspace):
    sh = load_workbook(workspace.register_path)["Instructions"]
    lines = {r[0].value: r[1].value for r in sh.iter_rows() if r[0].value}
    for s in SHEETS:
        for col in s.columns:
            text = lines.get(f"{s.name}: {col.header}")
            assert text and "Example: " in text, (s.name, col.header)
    assert "2013-Q1 is 2013-03" in lines["Trajectories: period"]
    assert "organisation" in lines["Measures: returned by"]
