"""The stocktake deck, opened again with python-pptx: order, chart series, tables, notes."""

from __future__ import annotations

import pytest
from pptx import Presentation

from deliverypack.consolidation.views import priority_summaries
from deliverypack.errors import UsageError
from deliverypack.outputs.deck import build_deck, plan_deck
from deliverypack.outputs.slide_template import TEMPLATE


@pytest.fixture(scope="module")
def deck(demo):
    return demo[1]["stocktake deck"]


def titles(prs):
    return [s.shapes.title.text if s.shapes.title is not None else "" for s in prs.slides]


def test_slide_order_for_the_sample_programme(deck, demo_ws):
    prs = Presentation(deck)
    t = titles(prs)
    assert t[0] == demo_ws.programme and t[1] == "Agenda" and t[2] == "Summary"
    assert t[-2] == "Actions from the last stocktake" and t[-1] == "Next steps"
    traj = [x for x in t if x.startswith("Patients spending 4 hours")]
    assert traj == ["Patients spending 4 hours or less in A&E"]  # too long with "A&E 4 hours: "
    i = t.index(traj[0])
    assert t[i + 1] == "A&E 4 hours: league table"
    assert len(prs.slides) == len(plan_deck(demo_ws, "2003-12"))
    assert prs.slide_width * 9 == prs.slide_height * 16  # 16:9


def test_trajectory_chart_is_native_with_the_ledgers_series(deck, demo_ws):
    prs = Presentation(deck)
    slide = next(s for s in prs.slides if s.shapes.title.text.startswith("Patients spending"))
    charts = [sh for sh in slide.shapes if sh.has_chart]
    assert len(charts) == 1 and not any(sh.shape_type == 13 for sh in slide.shapes)  # no picture
    chart = charts[0].chart
    names = [s.name for s in chart.plots[0].series]
    assert names == ["Planned trajectory", "Actual", "Forecast"]
    series = next(x for s in priority_summaries(demo_ws.register, demo_ws.ledger, "2003-12")
                  for x in s.series if x.measure.id == "AE4")
    periods = series.periods
    planned, actual, forecast = (list(s.values) for s in chart.plots[0].series)
    assert planned == [series.planned.get(p) for p in periods]
    assert actual == [series.actual.get(p) for p in periods]
    assert forecast[periods.index("2004-06")] == pytest.approx(series.projection.values["2004-06"])
    xml = chart._chartSpace.xml
    assert '<c:baseTimeUnit val="months"/>' in xml and 'prstDash val="dash"' in xml
    assert 'val="diamond"' in xml  # the target point
    head = [sh for sh in slide.shapes if sh.has_text_frame and sh.text_frame.text.startswith(
        "Actual ")][0].text_frame.text
    assert head == series.headline() and "against a trajectory of" in head


def test_summary_table_cells_and_rag_letters(deck, demo_ws):
    prs = Presentation(deck)
    slide = next(s for s in prs.slides if s.shapes.title.text == "Summary")
    table = next(sh for sh in slide.shapes if sh.has_table).table
    rows = {table.cell(r, 0).text: r for r in range(1, len(table.rows))}
    unit = demo_ws.ledger.ratings("2003-12", "unit")
    r = rows["Effective asylum process"]
    assert table.cell(r, 2).text == unit[("HO1", "likelihood")]["value"] == "G"
    assert table.cell(r, 3).text == "AG" and table.cell(r, 4).text == "↑"
    assert str(table.cell(r, 2).fill.fore_color.rgb) == "00B050"


def test_speaker_notes_name_the_source_cells(deck):
    prs = Presentation(deck)
    slide = next(s for s in prs.slides if s.shapes.title.text.startswith("Patients spending"))
    notes = slide.notes_slide.notes_text_frame.text
    assert "DH-2003-12.xlsx, sheet 'DH1 A&E 4 hours', cell C" in notes
    assert "(round 2003-12)" in notes and "(round 2002-12)" in notes
    summary = next(s for s in prs.slides if s.shapes.title.text == "Summary")
    assert "assessment-2003-12.xlsx" in summary.notes_slide.notes_text_frame.text


def test_a_user_template_with_the_same_layout_names_is_honoured(demo_ws, tmp_path):
    prs = Presentation(TEMPLATE)
    theirs = tmp_path / "branded.pptx"
    prs.core_properties.title = "Their brand"
    prs.save(theirs)
    out = build_deck(demo_ws, "2003-12", template=theirs, target=tmp_path / "d.pptx",
                     priorities=["DH1"])
    got = Presentation(out)
    assert got.core_properties.title == "Their brand"
    assert [s.shapes.title.text for s in got.slides][3].startswith("Patients spending")
    bare = Presentation()
    bare.save(tmp_path / "plain.pptx")  # default 4:3 template: same standard layout names
    assert build_deck(demo_ws, "2003-12", template=tmp_path / "plain.pptx",
                      target=tmp_path / "p.pptx").exists()
    wrong = Presentation(TEMPLATE)
    wrong.slide_layouts.remove(wrong.slide_layouts.get_by_name("Two Content"))
    wrong.save(tmp_path / "wrong.pptx")
    with pytest.raises(UsageError, match="no layout named Two Content"):
        build_deck(demo_ws, "2003-12", template=tmp_path / "wrong.pptx",
                   target=tmp_path / "w.pptx")


def test_long_text_is_fitted_and_tables_split(demo_ws, tmp_path):
    from deliverypack.outputs.text import chunks, fit
    assert fit("word " * 100, 40).endswith("…") and len(fit("word " * 100, 40)) <= 40
    assert [len(c) for c in chunks(list(range(25)), 12)] == [12, 12, 1]
    slides = plan_deck(demo_ws, "2003-12")
    assert all(len(s.title) <= 50 for s in slides if s.kind != "title")


def test_priority_slides_show_the_next_milestone(deck, demo_ws):
    from deliverypack.consolidation.views import next_milestone
    prs = Presentation(deck)
    # the first priority with a milestone still to come (completed ones stay complete)
    updates = demo_ws.ledger.milestone_updates("2003-12")
    pr, expected = next((p, m) for p in demo_ws.register.priorities
                        if (m := next_milestone(demo_ws.register, updates, p.id)))
    text = "\n".join(sh.text_frame.text for slide in prs.slides for sh in slide.shapes
                     if sh.has_text_frame)
    assert expected and f"Next milestone: {expected[:40]}" in text  # fitted to the panel
