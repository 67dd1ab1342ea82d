"""No heading of any sheet of the master, nor of any table in the deck, breaks inside a
word when printed: each word fits its column by the measured widths of a wide sans (what
LibreOffice prints for Calibri where it is absent), and, where LibreOffice is installed, no
heading word is split on the printed page."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from pptx import Presentation

from conftest import needs_soffice, soffice_convert
from deliverypack.outputs.deck import CELL_MARGINS, header_shares
from deliverypack.outputs.master import fit_heads, head_chars
from deliverypack.outputs.text import bold_px

NAVY = "FF1F3864"


def headings(path) -> list[tuple[str, str, str, float]]:
    """(sheet, cell, word, column width) of every word of every heading cell."""
    out = []
    for sheet in load_workbook(path).worksheets:
        for row in sheet.iter_rows(max_row=200):
            for c in row:
                if isinstance(c.value, str) and c.font.b and c.fill.fgColor.rgb == NAVY:
                    width = sheet.column_dimensions[get_column_letter(c.column)].width - 0.71
                    out += [(sheet.title, c.coordinate, w, width) for w in c.value.split()]
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


def split_words(pdf, words: set[str]) -> list[tuple[int, str]]:
    """(page, word) for each heading word printed as a piece with the rest below it."""
    pdfplumber = pytest.importorskip("pdfplumber")
    split = []
    with pdfplumber.open(pdf) as doc:
        for n, page in enumerate(doc.pages, 1):
            found = page.extract_words()
            for w in found:
                for h in words:
                    if h != w["text"] and h.startswith(w["text"]):
                        rest = h[len(w["text"]):]
                        if any(x["text"].startswith(rest) and abs(x["x0"] - w["x0"]) < 3
                               and 0 < x["top"] - w["top"] < 30 for x in found):
                            split.append((n, h))
    return split


def deck_headings(path) -> list[tuple[int, str, float, float]]:
    """(slide, word, type size, column width in inches) of every deck table heading."""
    out = []
    for n, slide in enumerate(Presentation(path).slides, 1):
        for sh in slide.shapes:
            if sh.has_table:
                table = sh.table
                for j, cell in enumerate(table.rows[0].cells):
                    size = cell.text_frame.paragraphs[0].font.size.pt
                    width = table.columns[j].width / 914400
                    out += [(n, w, size, width) for w in cell.text.split()]
    return out


def test_every_deck_heading_word_fits_its_column(demo):
    words = deck_headings(demo[1]["stocktake deck"])
    assert ("Likelihood" in {w for _, w, _, _ in words})
    assert not [(n, w) for n, w, pt, width in words
                if bold_px(w, pt) / 96 + CELL_MARGINS > width + 1e-6]
    # the guard: a heading too wide for its share takes width from the widest column
    shares = header_shares(["Move", "Assurance flags"], [0.06, 0.94], 12.13, 14)
    assert shares[0] * 12.13 >= bold_px("Move", 14) / 96 + CELL_MARGINS - 1e-9


@pytest.mark.soffice
@needs_soffice
def test_no_printed_heading_word_is_split(demo, tmp_path):
    master = demo[1]["master workbook"]
    words = {w for _, _, w, _ in headings(master) if len(w) >= 4}
    assert not split_words(soffice_convert(master, "pdf", tmp_path), words)
    deck = demo[1]["stocktake deck"]
    words = {w for _, w, _, _ in deck_headings(deck) if len(w) >= 4}
    assert not split_words(soffice_convert(deck, "pdf", tmp_path), words)


def test_a_long_word_from_the_register_widens_its_column_and_still_builds(demo_copy, tmp_path):
    from deliverypack.ledger.workspace import Workspace
    from deliverypack.outputs.master import build_master

    wb = load_workbook(demo_copy.register_path)
    for row in wb["Rounds"].iter_rows(min_row=2):
        if row[0].value == "2003-12":
            row[1].value = "December-round-2003-provisional"
    wb.save(demo_copy.register_path)
    workspace = Workspace.open(demo_copy.root)
    path = build_master(workspace, "2003-12", target=tmp_path / "m.xlsx")
    words = [(s, c, w, x) for s, c, w, x in headings(path) if w.startswith("December-")]
    assert words and all(head_chars(w) <= x + 1e-9 for _, _, w, x in words)
