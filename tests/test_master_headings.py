"""No heading of any sheet of the master breaks inside a word when printed: each word fits
its column by the measured widths of a wide sans (what LibreOffice prints for Calibri where
it is absent), and, where LibreOffice is installed, no heading word is split on the page."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from conftest import needs_soffice, soffice_convert
from deliverypack.outputs.master import fit_heads, head_chars

NAVY = "FF1F3864"


def headings(path) -> list[tuple[str, str, str, float]]:
    """(sheet, cell, word, column width) of every word of every heading cell."""
    out = []
    for ws in load_workbook(path).worksheets:
        for row in ws.iter_rows(max_row=200):
            for c in row:
                if isinstance(c.value, str) and c.font.b and c.fill.fgColor.rgb == NAVY:
                    width = ws.column_dimensions[get_column_letter(c.column)].width - 0.71
                    out += [(ws.title, c.coordinate, w, width) for w in c.value.split()]
    return out


def test_every_heading_word_fits_its_column(demo):
    words = headings(demo[1]["master workbook"])
    sheets = {s for s, *_ in words}
    assert {"Summary", "Assurance flags", "Trajectories", "League tables", "Actions tracker",
            "Risks", "Asks of the centre", "Returns log", "Data quality",
            "Assessment framework", "Milestones"} <= sheets
    assert ("Trajectories", "E5", "Department's", 13) in [(s, c, w, round(x))
                                                            for s, c, w, x in words]
    too_narrow = [(s, c, w, x) for s, c, w, x in words if head_chars(w) > x + 1e-9]
    assert not too_narrow


def test_the_guard_widens_a_column_whose_heading_word_would_break():
    widths = [10.0, 30.0]
    assert fit_heads(["Department's forecast", "Source"], widths) == [13.0, 30.0]
    assert head_chars("Department's") > 10 >= head_chars("forecast")


@pytest.mark.soffice
@needs_soffice
def test_no_printed_heading_word_is_split(demo, tmp_path):
    pdfplumber = pytest.importorskip("pdfplumber")
    master = demo[1]["master workbook"]
    words = {w for _, _, w, _ in headings(master) if len(w) >= 4}
    pdf = soffice_convert(master, "pdf", tmp_path)
    split = []
    with pdfplumber.open(pdf) as doc:
        for n, page in enumerate(doc.pages, 1):
            found = page.extract_words()
            for w in found:
                for h in words:
                    if h != w["text"] and h.startswith(w["text"]):
                        rest = h[len(w["text"]):]
                        if any(x["text"].startswith(rest) and abs(x["x0"] - w["x0"]) < 3
                               and 0 < x["top"] - w["top"] < 20 for x in found):
                            split.append((n, h))
    assert not split
