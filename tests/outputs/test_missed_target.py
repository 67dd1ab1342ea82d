"""After a missed target date the forecast is still drawn, in the deck's native chart, the
master's trajectory table and chart, and the Word papers' chart images, and the sentence
beside each names where the drawn line ends (the demo's asylum applications: 4,400 by Sep
2003, missed, 5,464 in Dec 2003 and falling)."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook
from pptx import Presentation

from deliverypack.consolidation.rag import meets
from deliverypack.consolidation.views import priority_summaries
from deliverypack.foundation.periods import period_date, period_label
from deliverypack.outputs.charts import chart_lines


@pytest.fixture(scope="module")
def asylum(demo_ws):
    series = next(x for s in priority_summaries(demo_ws.register, demo_ws.ledger, "2003-12")
                  for x in s.series if x.measure.id == "ASY2")
    m = series.measure
    assert series.latest_period > m.target_period  # the case: the target date has passed
    assert not meets(m, series.latest_actual, m.target)
    return series


def test_the_projection_runs_on_past_the_missed_date_to_where_it_meets_the_target(asylum):
    f, m = asylum.projection, asylum.measure
    assert f.drawn_to is not None and f.drawn_to > asylum.latest_period
    assert f.met_period == f.drawn_to and meets(m, f.at(f.drawn_to), m.target)
    assert f"on current trend it is met in {period_label(f.met_period)}" in asylum.headline()


def test_the_deck_chart_draws_the_forecast_from_the_last_actual_on(deck_path, asylum):
    prs = Presentation(deck_path)
    slide = next(s for s in prs.slides
                 if s.shapes.title is not None and s.shapes.title.text.startswith(
                     asylum.measure.name))
    chart = next(sh.chart for sh in slide.shapes if sh.has_chart)
    periods = asylum.periods
    fc = list(next(s for s in chart.plots[0].series if s.name.startswith("Forecast")).values)
    last = periods.index(asylum.latest_period)
    assert fc[last] == asylum.latest_actual
    drawn = {p: fc[i] for i, p in enumerate(periods) if i > last and fc[i] is not None}
    assert max(drawn) == asylum.projection.drawn_to
    assert drawn == pytest.approx(asylum.projection.values)
    head = [sh.text_frame.text for sh in slide.shapes if sh.has_text_frame
            and sh.text_frame.text.startswith("Actual ")]
    assert head == [asylum.headline()]


def test_the_master_lists_and_charts_the_forecast_after_the_missed_date(master_path, asylum):
    sheet = load_workbook(master_path)["Trajectories"]
    rows = list(sheet.iter_rows(values_only=True))
    top = next(i for i, r in enumerate(rows) if r[0] and str(r[0]).startswith("ASY2:"))
    assert asylum.headline() in rows[top + 1][0]
    header = rows[top + 2]
    col = header.index("Forecast (unit)")
    by_month = {}
    for r in rows[top + 3:]:
        if r[0] is None:
            break
        by_month[r[0].date()] = r[col]
    after = {d: v for d, v in by_month.items()
             if d > period_date(asylum.latest_period) and v is not None}
    assert max(after) == period_date(asylum.projection.drawn_to)
    assert sorted(after.values(), reverse=True) == list(after.values())  # falling, as drawn
    assert by_month[period_date(asylum.latest_period)] == asylum.latest_actual


def test_the_word_chart_draws_the_same_lines(asylum):
    lines = chart_lines(asylum)
    fc = lines["Forecast"]
    assert fc[asylum.latest_period] == asylum.latest_actual
    assert max(fc) == asylum.projection.drawn_to
    assert "Department's own forecast" in lines  # the Home Office's own, labelled as theirs
    assert lines["Department's own forecast"][asylum.latest_period] == asylum.latest_actual


@pytest.fixture(scope="module")
def deck_path(demo):
    return demo[1]["stocktake deck"]


@pytest.fixture(scope="module")
def master_path(demo):
    return demo[1]["master workbook"]
