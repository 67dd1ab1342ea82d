"""A paper's date is the round's sign-off, not the day it was built: the deck, the master
and the delivery report all carry the date `issued_on` gives, read back by real readers."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3

import openpyxl
from docx import Document
from pptx import Presentation

from deliverypack.ledger.workspace import Workspace
from deliverypack.outputs.deck import build_deck
from deliverypack.outputs.facts import issued_on
from deliverypack.outputs.master import build_master


def _signed(workspace: Workspace) -> str:
    """The day the demo's unit assessment for 2003-12 says it was signed off, read from the
    ledger (not from the paper under test)."""
    s = [s for s in workspace.ledger.submissions("2003-12")
         if s["kind"] == "assessment" and s["status"] == "accepted"][-1]
    day = dt.date.fromisoformat(s["signed_off_on"][:10])
    return f"{day.day} {day:%B %Y}"


def _today() -> list[str]:
    t = dt.date.today()
    return [f"{t.day} {t:%B %Y}", f"{t:%d %B %Y}", f"{t:%d/%m/%Y}"]


def _texts(shapes) -> list[str]:
    return [sh.text_frame.text for sh in shapes if sh.has_text_frame]


def test_the_deck_is_dated_by_the_assessment_sign_off_on_its_title_and_every_footer(demo):
    SIGNED = _signed(demo[0])
    prs = Presentation(str(demo[1]["stocktake deck"]))
    slides = list(prs.slides)
    title = "\n".join(_texts(slides[0].shapes))
    assert f"December 2003 · {SIGNED}" in title
    for n, slide in enumerate(slides, start=1):
        text = "\n".join(_texts(slide.shapes))
        assert f"Stocktake December 2003 · {SIGNED}" in text, n
        assert not any(day in text for day in _today()), n
    notes = slides[0].notes_slide.notes_text_frame.text
    assert f"Dated {SIGNED}, the date the unit signed off its assessment" in notes


def test_the_master_notes_header_and_footer_carry_the_sign_off_date(demo):
    SIGNED = _signed(demo[0])
    wb = openpyxl.load_workbook(demo[1]["master workbook"])
    notes = {r[0]: r[1] for r in wb["Notes"].iter_rows(values_only=True) if r[0]}
    assert notes["Dated"].startswith(f"{SIGNED}, the date the unit signed off")
    for sheet in wb.worksheets:
        footer = sheet.oddFooter.center.text
        assert footer == f"Signed off {SIGNED}", sheet.title
        assert not any(day in footer for day in _today())


def test_the_delivery_report_uses_the_same_date(demo):
    SIGNED = _signed(demo[0])
    doc = Document(str(demo[1]["delivery report (Home Office)"]))
    facts = {row.cells[0].text: row.cells[1].text for row in doc.tables[0].rows}
    assert facts["Date of issue"] == SIGNED
    assert issued_on(demo[0], "2003-12").text == SIGNED


def test_without_an_assessment_the_latest_accepted_return_dates_the_paper(demo, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(demo[0].root, root)
    with sqlite3.connect(root / "ledger.sqlite") as db:
        db.execute("UPDATE submissions SET status='rejected' WHERE kind='assessment' "
                   "AND round='2003-12'")
    workspace = Workspace.open(root)
    issued = issued_on(workspace, "2003-12")
    # DfES and HO signed off 13 Jan 2004; DH's rejected return (11 Jan) does not count
    assert issued.date == dt.date(2004, 1, 13)
    assert "latest return accepted" in issued.basis
    master = build_master(workspace, "2003-12", tmp_path / "m.xlsx")
    assert openpyxl.load_workbook(master)["Summary"].oddFooter.center.text == \
        "Signed off 13 January 2004"
    workspace.ledger.close()


def test_with_nothing_signed_off_the_papers_say_so(workspace, tmp_path):
    issued = issued_on(workspace, "2002-12")
    assert issued.date is None and issued.text == "not yet signed off"
    deck = build_deck(workspace, "2002-12", target=tmp_path / "d.pptx")
    foot = "\n".join(_texts(list(Presentation(str(deck)).slides)[0].shapes))
    assert "Stocktake December 2002 · not yet signed off" in foot
    master = build_master(workspace, "2002-12", tmp_path / "m.xlsx")
    wb = openpyxl.load_workbook(master)
    notes = {r[0]: r[1] for r in wb["Notes"].iter_rows(values_only=True) if r[0]}
    assert notes["Dated"].startswith("not yet signed off: neither the unit's assessment")
    assert wb["Notes"].oddFooter.center.text == "Draft: not yet signed off"
