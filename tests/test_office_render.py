"""Every kind of file the demo makes opens in a real office suite (LibreOffice): converted
to PDF with the expected number of pages, and a rendered page that is not blank."""

from __future__ import annotations

import shutil

import pytest
from pptx import Presentation

from conftest import needs_soffice
from deliverypack.render import ink, pages, to_pdf, to_png

pytestmark = [pytest.mark.soffice, needs_soffice]


@pytest.fixture(scope="module")
def rendered(demo, tmp_path_factory):
    workspace, out = demo
    folder = tmp_path_factory.mktemp("render")
    files = {
        "template": workspace.outbox("2003-12") / "HO-2003-12.xlsx",
        "feedback": out["feedback DH-2003-12-attempt1.xlsx"],
        "master": out["master workbook"],
        "deck": out["stocktake deck"],
        "report": out["delivery report (Home Office)"],
        "pack": out["agenda pack (EOL, next meeting)"],
        "minutes": out["minutes"],
    }
    copies = {k: shutil.copy(v, folder / f"{k}{v.suffix}") for k, v in files.items()}
    pdfs = dict(zip(copies, to_pdf(list(copies.values()), folder / "pdf"), strict=True))
    return files, pdfs, folder


@pytest.mark.parametrize("kind", ["template", "feedback", "master"])
def test_every_visible_sheet_prints(rendered, kind):
    """A workbook prints at least a page per visible sheet, and no runaway pages."""
    from openpyxl import load_workbook
    files, pdfs, _ = rendered
    visible = [workspace for workspace in load_workbook(files[kind]).worksheets
               if workspace.sheet_state == "visible"]
    # a wide sheet prints across up to three pages rather than at 4 pt type
    assert len(visible) <= pages(pdfs[kind]) <= 8 * len(visible)


@pytest.mark.parametrize("kind,low,high", [("report", 5, 9), ("pack", 2, 5),
                                           ("minutes", 2, 3)])
def test_documents_convert_with_the_expected_page_count(rendered, kind, low, high):
    _, pdfs, _ = rendered
    assert low <= pages(pdfs[kind]) <= high


def test_the_deck_renders_one_page_per_slide(rendered):
    files, pdfs, _ = rendered
    assert pages(pdfs["deck"]) == len(Presentation(files["deck"]).slides)


@pytest.mark.parametrize("kind", ["template", "feedback", "master", "deck", "report", "pack",
                                  "minutes"])
def test_a_rendered_page_is_not_blank(rendered, kind):
    _, pdfs, folder = rendered
    png = to_png(pdfs[kind], folder / f"{kind}.png", page=1)
    assert ink(png) > 0.01


@pytest.mark.parametrize("kind", ["report", "pack", "minutes", "template", "feedback"])
def test_pagecheck_passes_on_every_page(rendered, kind):
    """The shared page checker (overprint, text off the page, type under 7 pt, paper not
    A4) finds nothing on any page of the papers, a return template or a feedback workbook."""
    import subprocess
    import sys

    from conftest import SHARED
    tool = SHARED / "tools" / "pagecheck.py"
    if not tool.exists():
        pytest.skip("pagecheck.py is not in ../shared/tools")
    _, pdfs, _ = rendered
    run = subprocess.run([sys.executable, str(tool), str(pdfs[kind])], capture_output=True,
                         text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout[-2000:]
    assert "pages failing 0" in run.stdout
