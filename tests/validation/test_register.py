"""register.xlsx: problems are reported at the sheet cell they were read from."""

from __future__ import annotations

from openpyxl import load_workbook

from deliverypack.sample.programme import ACTIONS, sample_register
from deliverypack.validation.register import read_register, write_register


def _register(tmp_path):
    path = tmp_path / "register.xlsx"
    write_register(path, sample_register(), ACTIONS)
    return path, load_workbook(path)


def test_reference_problems_name_the_sheet_row_after_blank_and_rejected_rows(tmp_path):
    path, wb = _register(tmp_path)
    pri = wb["Priorities"]
    pri.insert_rows(3)  # a blank row: the sixth priority is now on sheet row 8
    pri["B8"] = "MOD"
    mea = wb["Measures"]
    mea["D2"] = "furlongs"  # row 2 rejected, so row 4 is the second measure kept
    mea["B4"] = "NOPE"
    tfs = wb["TaskForces"]
    tfs.insert_rows(2, amount=2)
    col = next(c.column_letter for c in tfs[1] if c.value == "priorities")
    tfs[f"{col}4"] = "EOL1, GHOST"
    wb.save(path)
    found = {(i.code, i.sheet, i.cell, i.found.strip("'")) for i in read_register(path)[2]}
    assert ("unknown-reference", "Priorities", "B8", "MOD") in found
    assert ("unknown-reference", "Measures", "B4", "NOPE") in found
    assert ("unknown-reference", "TaskForces", f"{col}4", "GHOST") in found
    assert ("not-allowed", "Measures", "D2", "furlongs") in found


def test_a_bad_id_is_reported_at_its_own_cell(tmp_path):
    path, wb = _register(tmp_path)
    wb["Priorities"].insert_rows(2)
    wb["Priorities"]["A5"] = "not an id!"
    wb.save(path)
    found = {(i.code, i.sheet, i.cell) for i in read_register(path)[2]}
    assert ("not-allowed", "Priorities", "A5") in found


def _found(path):
    return {(i.code, i.sheet, i.cell, str(i.found).strip("'"), i.expected)
            for i in read_register(path)[2]}


def test_ids_that_name_files_are_checked_against_a_strict_pattern(tmp_path):
    """Department, organisation and round ids become parts of file names: none may climb
    out of a folder, be absolute, hold a space or a dot, or be empty."""
    path, wb = _register(tmp_path)
    bad_depts = {"A2": "../HO", "A3": "/etc", "A4": "D H", "A5": "H.O"}
    for cell, value in bad_depts.items():
        wb["Departments"][cell] = value
    wb["Organisations"]["A2"] = "../../trust"
    wb["Organisations"]["A3"] = "RJ1/x"
    wb["Organisations"]["A4"] = "  "  # an empty id
    wb["Rounds"]["A2"] = "../2002-07"
    wb["Rounds"]["A3"] = "2002.08"
    wb.save(path)
    found = _found(path)
    codes = {(sheet, cell): (code, seen) for code, sheet, cell, seen, _ in found}
    for cell, value in bad_depts.items():
        assert codes[("Departments", cell)] == ("not-allowed", value)
    assert codes[("Organisations", "A2")] == ("not-allowed", "../../trust")
    assert codes[("Organisations", "A3")] == ("not-allowed", "RJ1/x")
    assert codes[("Organisations", "A4")][0] == "required-missing"
    assert codes[("Rounds", "A2")] == ("not-allowed", "../2002-07")
    assert codes[("Rounds", "A3")][0] == "not-allowed"
    expected = {e for code, sheet, cell, _, e in found if sheet == "Departments"}
    assert any("letters, digits, - and _" in (e or "") for e in expected)
    # a rejected row is not kept: no department, organisation or round with such an id
    reg = read_register(path)[0]
    ids = [d.id for d in reg.departments] + [o.id for o in reg.organisations] + \
        [r.id for r in reg.rounds]
    assert not [i for i in ids if not i or any(ch in i for ch in "./ ")]


def test_good_ids_with_dashes_and_underscores_pass(tmp_path):
    path, wb = _register(tmp_path)
    sheet = wb["Organisations"]
    sheet["A2"] = "RJ1-north_2"
    wb.save(path)
    assert not [f for f in _found(path) if f[1] in ("Departments", "Organisations", "Rounds")
                and f[0] == "not-allowed"]
    assert "RJ1-north_2" in {o.id for o in read_register(path)[0].organisations}
