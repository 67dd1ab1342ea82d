"""Every printed page of the demo's deck and master, and of a real programme's, passes
../shared/tools/pagecheck.py (no overprint, nothing off the page, no type under 7 pt, A4)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import SHARED, needs_soffice
from realprogramme import LAST, REALDATA, build_real_programme

PAGECHECK = SHARED / "tools" / "pagecheck.py"
pytestmark = [pytest.mark.soffice, needs_soffice,
              pytest.mark.skipif(not PAGECHECK.exists(), reason="../shared/tools/pagecheck.py "
                                 "not present")]


def pagecheck(*files) -> subprocess.CompletedProcess:
    pytest.importorskip("pdfplumber")
    return subprocess.run([sys.executable, str(PAGECHECK), *map(str, files)],
                          capture_output=True, text=True, timeout=900)


def test_the_demo_deck_and_master_pass_pagecheck(demo):
    _, out = demo
    run = pagecheck(out["stocktake deck"], out["master workbook"])
    assert run.returncode == 0, run.stdout
    assert "pages failing 0" in run.stdout


@pytest.mark.skipif(not REALDATA.exists(), reason="../shared/data/realdata not present")
def test_a_real_programme_from_an_empty_workspace_passes_pagecheck(tmp_path):
    from deliverypack.consolidation.assurance import assurance_flags
    from deliverypack.outputs.deck import build_deck
    from deliverypack.outputs.master import build_master

    workspace = build_real_programme(tmp_path / "real")
    assert all(s["status"] == "accepted" for s in workspace.ledger.submissions())
    flags = assurance_flags(workspace.register, workspace.ledger, LAST)
    # knife crime rose all through 2017 while rated AG: the flag says so, with figures
    knife = [f for f in flags["HO1"] if f.code == "rating-above-data"]
    assert knife and "11,820 in Sep 2017" in knife[0].text
    run = pagecheck(build_deck(workspace, LAST), build_master(workspace, LAST))
    assert run.returncode == 0, run.stdout
    assert "pages failing 0" in run.stdout
