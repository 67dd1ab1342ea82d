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
