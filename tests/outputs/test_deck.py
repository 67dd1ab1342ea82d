"""The stocktake deck, opened again with python-pptx: order, chart series, tables, notes."""

from __future__ import annotations

import pytest
from pptx import Presentation

from deliverypack.consolidation.views import priority_summaries
from deliverypack.foundation.errors import UsageError
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
    assert t[0] == demo_ws.programme and t[1] == "Summary" and t[2] == "Agenda"
    assert t[3] == "Ratings at a glance"
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
    assert names == ["Planned trajectory", "Actual", "Forecast (unit's projection)",
                     "DH's own forecast"]
    series = next(x for s in priority_summaries(demo_ws.register, demo_ws.ledger, "2003-12")
                  for x in s.series if x.measure.id == "AE4")
    periods = series.periods
    planned, actual, forecast, theirs = (list(s.values) for s in chart.plots[0].series)
    assert planned == [series.planned.get(p) for p in periods]
    assert actual == [series.actual.get(p) for p in periods]
    assert forecast[periods.index("2004-06")] == pytest.approx(series.projection.values["2004-06"])
    last = periods.index(series.latest_period)  # the forecast starts at the last actual
    assert forecast[last] == actual[last] and forecast[last - 1] is None
    ledger = {r["period"]: r["value"] for r in demo_ws.ledger.query(
        "SELECT v.period, v.value FROM measure_values v JOIN submissions s ON "
        "s.id=v.submission_id WHERE v.measure_id='AE4' AND v.field='forecast' AND "
        "s.status='accepted' AND s.superseded_by IS NULL AND s.round='2003-12'")}
    assert ledger and all(theirs[periods.index(p)] == v for p, v in ledger.items())
    assert chart.value_axis.axis_title.text_frame.text == "Per cent"
    xml = chart._chartSpace.xml
    assert '<c:baseTimeUnit val="months"/>' in xml and 'prstDash val="dash"' in xml
    assert 'val="diamond"' in xml  # the target point
    head = [sh for sh in slide.shapes if sh.has_text_frame and sh.text_frame.text.startswith(
        "Actual ")][0].text_frame.text
    assert head == series.headline() and "against a trajectory of" in head


def test_summary_table_cells_and_rag_letters(deck, demo_ws):
    prs = Presentation(deck)
    slide = next(s for s in prs.slides if s.shapes.title.text == "Ratings at a glance")
    table = next(sh for sh in slide.shapes if sh.has_table).table
    rows = {table.cell(r, 0).text: r for r in range(1, len(table.rows))}
    unit = demo_ws.ledger.ratings("2003-12", "unit")
    r = rows["Effective asylum process"]
    assert table.cell(r, 2).text == unit[("HO1", "likelihood")]["value"] == "G"
    assert table.cell(r, 3).text == "AG" and table.cell(r, 4).text == "↑"
    assert str(table.cell(r, 2).fill.fore_color.rgb) == "00B050"
    assert table.cell(0, 6).text == "Assurance flags" and table.cell(r, 6).text == "none"
    bis = rows["Apprenticeships"]
    assert "as of Jun 2003 — no return" in table.cell(bis, 6).text
    key = "\n".join(sh.text_frame.text for sh in slide.shapes if sh.has_text_frame)
    assert "G Green, AG Amber/Green, AR Amber/Red, R Red" in key and "↑ better" in key


def test_speaker_notes_name_the_source_cells(deck):
    prs = Presentation(deck)
    slide = next(s for s in prs.slides if s.shapes.title.text.startswith("Patients spending"))
    notes = slide.notes_slide.notes_text_frame.text
    assert "DH-2003-12.xlsx, sheet 'DH1 A&E 4 hours', cell C" in notes
    assert "(round 2003-12)" in notes and "(round 2002-12)" in notes
    summary = next(s for s in prs.slides if s.shapes.title.text == "Ratings at a glance")
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
    assert [s.shapes.title.text for s in got.slides][4].startswith("Patients spending")
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


def all_text(slide) -> str:
    out = []
    for sh in slide.shapes:
        if sh.has_text_frame:
            out.append(sh.text_frame.text)
        if sh.has_table:
            out += [c.text for row in sh.table.rows for c in row.cells]
    return "\n".join(out)


def test_no_text_is_cut_and_long_tables_continue(deck, demo_ws):
    from deliverypack.outputs.deck import lines_for, paginate, size_to_fit
    prs = Presentation(deck)
    for slide in prs.slides:
        assert "…" not in all_text(slide) and "..." not in all_text(slide)
    long = "Applications concluded within 6 months incl. appeal"
    assert long in titles(prs)  # whole, in smaller type
    assert lines_for("word " * 40, 2.0, 14) > lines_for("word " * 40, 4.0, 14) > 1
    assert size_to_fit(["x " * 400], 3.0, 1.0, 18, 10) is None  # too much: continue
    table = [["A", "B"]] + [[str(i), "text " * 30] for i in range(40)]
    pages, pt = paginate(table, [0.2, 0.8], 12.0, 5.0, 14, 11)
    assert len(pages) > 1 and pt == 11 and all(p[0] == ["A", "B"] for p in pages)
    assert sum(len(p) - 1 for p in pages) == 40


def test_every_slide_carries_marking_date_and_number(deck, demo_ws):
    prs = Presentation(deck)
    n = len(prs.slides)
    for i, slide in enumerate(prs.slides, start=1):
        text = all_text(slide)
        assert demo_ws.marking in text and f"Slide {i} of {n}" in text
        assert "Stocktake December 2003 · " in text


def test_summary_agenda_and_titles_agree(deck, demo_ws):
    from deliverypack.consolidation.assurance import assurance_flags
    prs = Presentation(deck)
    t = titles(prs)
    agenda = next(s for s in prs.slides if s.shapes.title.text.startswith("Agenda"))
    table = next(sh for sh in agenda.shapes if sh.has_table).table
    items = [(table.cell(r, 0).text, int(table.cell(r, 1).text))
             for r in range(1, len(table.rows))]
    assert items[0] == ("Ratings at a glance", t.index("Ratings at a glance") + 1)
    for title, number in items:  # each entry is the title of the slide it points to
        assert t[number - 1].split(" (")[0] == title.split(" (")[0]
    after = [x for x in t[t.index(items[0][0]):]]
    assert [x for x, _ in items] == list(dict.fromkeys(after))
    summary = prs.slides[1]
    text = all_text(summary)
    likelihood = [s.unit_now.get("likelihood") for s in
                  priority_summaries(demo_ws.register, demo_ws.ledger, "2003-12")]
    on = sum(x in ("G", "AG") for x in likelihood)
    off = sum(x in ("AR", "R") for x in likelihood)
    assert f"{on} of {len(likelihood)} priorities on track, {off} off track" in text
    assert "Since the last stocktake (July 2003)" in text
    assert "Improved: " in text and "Removals (AR to G)" in text
    flags = assurance_flags(demo_ws.register, demo_ws.ledger, "2003-12")
    assert "Apprenticeships (" in text and len(flags["BIS1"]) == 3
    asks = [line for line in text.split("\n") if line[:2] in ("1.", "2.", "3.", "4.")]
    assert 1 <= len(asks) <= 3 and asks[0].startswith("1. ")
    # off-track priorities are asked first: the first names one of the worst rated
    rank = {"R": 0, "AR": 1}
    worst = min(rank.get(x or "", 2) for x in likelihood)
    first = asks[0][3:].split(":")[0].split(", ")[0]
    assert any(s.priority.short == first and rank.get(s.unit_now.get("likelihood") or "", 2)
               == worst for s in priority_summaries(demo_ws.register, demo_ws.ledger,
                                                    "2003-12"))
    assert any("Apprenticeships" in a for a in asks)


def test_flags_and_the_one_decision_sought_beside_the_judgement(deck, demo_ws):
    from deliverypack.consolidation.assurance import decisions_sought
    prs = Presentation(deck)
    slide = next(s for s in prs.slides if s.shapes.title.text.startswith("Apprenticeship"))
    text = all_text(slide)
    assert "Assurance: as of Jun 2003 — no return" in text
    assert "Assurance: moved 2 steps: R to AG" in text
    rec = decisions_sought(demo_ws.register, demo_ws.ledger, "2003-12")["BIS1"]
    assert f"Decision sought: {rec.text} (built from the data)" in text


def test_actions_slide_shows_open_and_overdue_first_and_the_next_returns(deck, demo_ws):
    prs = Presentation(deck)
    slide = next(s for s in prs.slides if s.shapes.title.text.startswith("Actions from"))
    text = all_text(slide)
    assert "No actions were recorded at the stocktake of July 2003" in text
    assert "not yet scheduled in the register" in text
    table = next(sh for sh in slide.shapes if sh.has_table).table
    ids = [table.cell(r, 0).text for r in range(1, len(table.rows))]
    assert ids == ["EOL-01-A03", "EOL-01-A01"]  # open and overdue, earliest due first
    assert table.cell(1, 4).text == "open (overdue)"
    nxt = all_text(prs.slides[-1])
    assert "Agree the actions above" not in nxt and "decisions sought" in nxt


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


def test_a_league_table_says_how_many_are_not_shown(demo_ws):
    league = next(s for s in plan_deck(demo_ws, "2003-12")
                  if s.title == "A&E 4 hours: league table")
    assert league.subtitle.startswith("Top and bottom 5 of 12 trusts")
    rows = league.table[1:]
    gaps = [r[1] for r in rows if not r[0]]
    shown = [r for r in rows if r[0]]
    n = sum(int(g.split()[0]) for g in gaps)
    assert len(shown) + n == 12
    assert all(g == f"{n} trust{'s' if n != 1 else ''} not shown" for g in gaps)
