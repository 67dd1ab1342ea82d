"""A figure a department revises in a later return is drawn at its revised value and
marked as revised, with what it was and why, on the deck's chart and in the master."""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import load_workbook
from pptx import Presentation

from conftest import block, spec_of
from deliverypack.consolidation.views import priority_summaries
from deliverypack.outputs.deck import build_deck
from deliverypack.outputs.master import build_master
from deliverypack.returns.ingest import ingest_file
from deliverypack.sample.filler import fill_workbook

REASON = "Two trusts' returns corrected after audit"


@pytest.fixture
def revised(demo_copy, tmp_path):
    """The demo with DH's December 2003 return sent again, revising June 2003's A&E."""
    workspace = demo_copy
    first = workspace.ledger.latest_values("actual")[("AE4", "", "2003-06")]["value"]
    template = workspace.outbox("2003-12") / "DH-2003-12.xlsx"
    spec = spec_of(workspace, template)
    rev = block(spec, "revisions")
    new = round(first - 1.6, 1)
    path = fill_workbook(template, spec, workspace.register, tmp_path / "DH-2003-12.xlsx",
                         overrides={
        (rev.name, 0, "measure"): "AE4", (rev.name, 0, "period"): dt.date(2003, 6, 1),
        (rev.name, 0, "value"): new, (rev.name, 0, "reason"): REASON})
    rep = ingest_file(workspace, path)
    assert rep.valid, rep.flatten(("code", "cell", "message"))
    return workspace, first, new


def _ae(workspace):
    return next(x for s in priority_summaries(workspace.register, workspace.ledger, "2003-12")
                for x in s.series if x.measure.id == "AE4")


def test_the_series_holds_the_revised_figure_and_what_it_was(revised):
    workspace, first, new = revised
    series = _ae(workspace)
    assert series.actual["2003-06"] == new
    assert series.sources["2003-06"].sheet == "Revisions"
    [rev] = series.revisions
    assert (rev.period, rev.was, rev.now, rev.reason) == ("2003-06", first, new, REASON)
    assert rev.text(series.measure) == f"Jun 2003 revised from {first:.1f}% to {new:.1f}%: {REASON}"
    assert all(not x.revisions for s in priority_summaries(workspace.register, workspace.ledger,
                                                           "2003-07")
               for x in s.series)  # a revision sent in December is not in July's papers


def test_the_deck_draws_the_revised_figure_and_footnotes_it(revised, tmp_path):
    workspace, first, new = revised
    series = _ae(workspace)
    prs = Presentation(build_deck(workspace, "2003-12", target=tmp_path / "d.pptx"))
    slide = next(s for s in prs.slides if s.shapes.title is not None
                 and s.shapes.title.text == "Patients spending 4 hours or less in A&E")
    chart = next(sh.chart for sh in slide.shapes if sh.has_chart)
    actual = list(chart.plots[0].series[1].values)
    assert actual[series.periods.index("2003-06")] == new
    texts = [sh.text_frame.text for sh in slide.shapes if sh.has_text_frame]
    assert f"○ Jun 2003 revised from {first:.1f}% to {new:.1f}%: {REASON}" in texts
    notes = slide.notes_slide.notes_text_frame.text
    assert "Revised: Jun 2003 revised from" in notes and "sheet 'Revisions', cell C" in notes
    others = [sh.text_frame.text for s in prs.slides for sh in s.shapes
              if sh.has_text_frame and "revised from" in sh.text_frame.text]
    assert len(others) == 1  # only the revised measure's slide says so


def test_the_master_lists_the_revised_figure_and_says_so(revised, tmp_path):
    workspace, first, new = revised
    sheet = load_workbook(build_master(workspace, "2003-12",
                                       target=tmp_path / "m.xlsx"))["Trajectories"]
    rows = list(sheet.iter_rows(values_only=True))
    top = next(i for i, r in enumerate(rows) if r[0] and str(r[0]).startswith("AE4:"))
    assert f"Revised: Jun 2003 revised from {first:.1f}% to {new:.1f}%: {REASON}." \
        in rows[top + 1][0]
    june = next(r for r in rows[top + 3:] if r[0] and r[0].date() == dt.date(2003, 6, 1))
    assert june[2] == new
    assert "'Revisions'!C" in june[7] and f"(revised from {first:.1f}%)" in june[7]
    july = next(r for r in rows[top + 3:] if r[0] and r[0].date() == dt.date(2003, 7, 1))
    assert "revised" not in july[7] and "'" not in july[7]  # its sheet is said once above
