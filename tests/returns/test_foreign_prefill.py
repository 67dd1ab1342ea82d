"""Pre-filling a foreign template edits the parsed sheet XML: rows that carry `spans`,
prefixed namespaces and control characters come out as workbooks every reader opens."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from lxml import etree
from openpyxl import load_workbook

from conftest import needs_soffice, soffice_convert
from deliverypack.returns.foreign import ooxml_text, prefill
from deliverypack.validation.read import BookValues

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHEET = "xl/worksheets/sheet1.xml"
CELLS = {"B1": "Bridge\x0bover the Styx", "B2": 42.5, "E2": dt.date(2019, 6, 30),
         "F2": "beyond the spans",
         "B3": "not over a formula", "B5": "a row between", "B9": "_x0041_ typed as is"}


def _blank(path: Path) -> Path:
    """A department's blank: labels in A, a formula in B3, an empty date cell E2, rows 1-3
    and 7 (XlsxWriter writes `spans` on every row)."""
    wb = xlsxwriter.Workbook(str(path))
    sh = wb.add_worksheet("Return")
    for r, label in ((0, "Project"), (1, "Cost"), (2, "Double"), (6, "Notes")):
        sh.write(r, 0, label)
    sh.write_formula(2, 1, "=B2*2")
    sh.write_blank(1, 4, None, wb.add_format({"num_format": "dd/mm/yyyy"}))
    sh.data_validation(1, 1, 1, 1, {"validate": "decimal", "criteria": ">=", "value": 0})
    wb.close()
    return path


def _prefixed(src: Path, dst: Path) -> Path:
    """The same blank with its sheet written as some producers do: `<x:row>` in a prefixed
    main namespace."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == SHEET:
                root = etree.fromstring(data)
                out = etree.Element(f"{{{MAIN}}}worksheet", nsmap={"x": MAIN})
                out.extend(list(root))
                data = etree.tostring(out, xml_declaration=True, encoding="UTF-8",
                                      standalone=True)
                assert b"<x:row " in data and b"<row " not in data
            zout.writestr(item, data)
    return dst


@pytest.fixture(params=["plain", "prefixed"])
def blank(request, tmp_path) -> Path:
    plain = _blank(tmp_path / "plain.xlsx")
    return plain if request.param == "plain" else _prefixed(plain, tmp_path / "prefixed.xlsx")


def _rows(xml: bytes) -> dict[int, etree._Element]:
    rows = etree.fromstring(xml).iter(f"{{{MAIN}}}row")
    numbers = [int(r.get("r")) for r in rows]
    assert numbers == sorted(set(numbers)), f"rows repeated or out of order: {numbers}"
    return {int(r.get("r")): r for r in etree.fromstring(xml).iter(f"{{{MAIN}}}row")}


def test_prefill_edits_only_the_given_cells_of_the_sheet_part(blank, tmp_path):
    out = prefill(blank, {("Return", k): v for k, v in CELLS.items()}, tmp_path / "out.xlsx")
    old, new = zipfile.ZipFile(blank), zipfile.ZipFile(out)
    assert old.namelist() == new.namelist()
    assert [n for n in old.namelist() if old.read(n) != new.read(n)] == [SHEET]
    rows = _rows(new.read(SHEET))
    assert sorted(rows) == [1, 2, 3, 5, 7, 9]
    assert rows[2].get("spans") == "1:6"  # widened to cover F2
    assert [c.get("r") for c in rows[2]] == ["A2", "B2", "E2", "F2"]
    assert etree.fromstring(new.read(SHEET)).find(f".//{{{MAIN}}}dataValidations") is not None

    wb = load_workbook(out)
    sh = wb["Return"]
    assert sh["A1"].value == "Project" and sh["A7"].value == "Notes"
    assert sh["B2"].value == 42.5 and sh["E2"].value == dt.datetime(2019, 6, 30)
    assert sh["F2"].value == "beyond the spans"
    assert sh["B3"].value == "=B2*2"  # the template's formula is never overwritten
    assert sh["B5"].value == "a row between"
    assert sh["B1"].value == "Bridge_x000B_over the Styx"  # openpyxl leaves escapes as is

    book = BookValues.from_path(out)  # our reader gives back what was typed: a vertical
    odd = book.value("Return", 1, 2)  # tab, which no paper can print, so it is flagged
    assert (odd.code, odd.text) == ("control-character", "a vertical tab (a line break "
                                    "pasted from Word) at character 7 of "
                                    "'Bridge\\x0bover the Styx'")
    assert book.value("Return", 9, 2) == "_x0041_ typed as is"


def test_ooxml_text_escapes_what_xml_cannot_hold_and_literal_escapes():
    assert ooxml_text("a\x0bb\x01") == "a_x000B_b_x0001_"
    assert ooxml_text("tab\tand\nnew line") == "tab\tand\nnew line"
    assert ooxml_text("_x0041_") == "_x005F_x0041_"


@pytest.mark.soffice
@needs_soffice
def test_libreoffice_opens_the_prefilled_workbook(blank, tmp_path):
    out = prefill(blank, {("Return", k): v for k, v in CELLS.items()}, tmp_path / "out.xlsx")
    csv = soffice_convert(out, "csv:Text - txt - csv (StarCalc):44,34,76", tmp_path / "lo")
    text = csv.read_text(encoding="utf-8")
    assert "Bridge" in text and "over the Styx" in text and "a row between" in text
    assert re.search(r"^Cost,42\.5,,,30/06/2019,beyond the spans$", text, re.M), text
    assert "_x0041_ typed as is" in text
