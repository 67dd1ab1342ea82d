"""Assurance flags and the decision sought, on crafted priorities: each flag raised when the
figures call for it and not raised when they do not; then on the sample programme's ledger."""

from __future__ import annotations

import pytest

from deliverypack.consolidation.assurance import (
    Coverage,
    PriorityTexts,
    assurance_flags,
    decision_sought,
    decisions_sought,
    priority_flags,
)
from deliverypack.consolidation.rag import forecast
from deliverypack.consolidation.views import MeasureSeries, PrioritySummary
from deliverypack.foundation.domain import Measure, Priority
from deliverypack.foundation.periods import add_months

ROUND = "2003-12"


def measure(**kw) -> Measure:
    base = dict(id="M1", priority_id="P1", name="Applications decided", unit="count",
                direction="down", target=4400, target_period="2004-06", tolerance_ag=100,
                tolerance_ar=300)
    return Measure(**{**base, **kw})


def series(m: Measure, actual: dict[str, float], planned: dict[str, float] | None = None,
           round_id: str = ROUND) -> MeasureSeries:
    planned = planned if planned is not None else dict(actual)
    return MeasureSeries(measure=m, planned=planned, actual=actual, sources={},
                         projection=forecast(m, actual), round=round_id)


def summary(*ss: MeasureSeries, now: str = "G", last: str = "G") -> PrioritySummary:
    s = PrioritySummary(priority=Priority(id="P1", department_id="HO", title="Asylum",
                                          short_title="Asylum"), department="HO")
    s.unit_now["likelihood"], s.unit_last["likelihood"] = now, last
    s.series = list(ss)
    return s


def months(start: str, values: list[float]) -> dict[str, float]:
    return {add_months(start, i): v for i, v in enumerate(values)}


def flags(s: PrioritySummary, returned: bool = True, **kw):
    return priority_flags(s, returned=returned, department_name="Home Office",
                          round_label="December 2003", last_label="July 2003", **kw)


def codes(fs) -> list[str]:
    return [f.code for f in fs]


# a series falling 100 a month from 5,000 to 4,400 by Jun 2004: on track
ON_TRACK = months("2003-07", [5100, 5000, 4900, 4800, 4700, 4600])


def test_a_green_rating_on_track_raises_nothing():
    s = summary(series(measure(), ON_TRACK))
    assert flags(s) == []


def test_green_with_the_target_date_passed_unmet_is_flagged_with_its_figures():
    m = measure(target_period="2003-09")
    s = summary(series(m, months("2003-07", [5400, 5300, 5233, 5200, 5150, 5101]),
                       planned=months("2003-07", [4400] * 6)))
    [f] = [f for f in flags(s) if f.code == "rating-above-data"]
    assert f.measure_id == "M1" and f.label == "G, but target missed, data RAG R"
    assert "the 4,400 target for Sep 2003 has passed unmet (5,233 in Sep 2003; 5,101 in " \
           "Dec 2003)" in f.text
    assert f.text.startswith("Likelihood rated Green")
    # the same figures meeting the target by then: not raised
    met = summary(series(m, months("2003-07", [4500, 4450, 4390, 4380, 4370, 4360])))
    assert "rating-above-data" not in codes(flags(met))


def test_green_whose_forecast_misses_the_target_date_is_flagged():
    slow = months("2003-07", [5000, 4990, 4980, 4970, 4960, 4950])  # 10 a month
    s = summary(series(measure(), slow))
    [f] = flags(s)
    assert f.code == "rating-above-data" and "short of the 4,400 target" in f.text
    # the same series rated AR is the unit's honest view: not raised
    assert flags(summary(series(measure(), slow), now="AR", last="AR")) == []


def test_green_with_data_rag_red_is_flagged():
    m = measure(target_period="2006-12")  # far target: the forecast is not the reason
    behind = {p: v + 400 for p, v in ON_TRACK.items()}  # 400 worse than plan: beyond AR
    s = summary(series(m, behind, planned=ON_TRACK), now="AG", last="AG")
    [f] = flags(s)
    assert "its data RAG is R (5,000 in Dec 2003, off track by 400)" in f.text
    within = {p: v + 50 for p, v in ON_TRACK.items()}  # within AG tolerance
    assert flags(summary(series(m, within, planned=ON_TRACK), now="AG", last="AG")) == []


def test_no_return_says_as_of_which_month():
    old = months("2003-01", [5600, 5500, 5400, 5300, 5200, 5100])  # to Jun 2003
    s = summary(series(measure(target_period="2006-12"), old))
    [f] = [f for f in flags(s, returned=False)]
    assert f.code == "no-return" and f.label == "as of Jun 2003 — no return"
    assert f.text == ("Home Office sent no return for December 2003: the figures shown are "
                      "as of Jun 2003.")
    # returned: no such flag, but the old figures are stale
    assert codes(flags(s, returned=True)) == ["stale-data"]


def test_stale_data_only_beyond_one_reporting_period():
    m = measure(target_period="2006-12")
    one_behind = months("2003-06", [5600, 5500, 5400, 5300, 5200, 5100])  # to Nov 2003
    assert flags(summary(series(m, one_behind))) == []
    three_behind = months("2003-04", [5600, 5500, 5400, 5300, 5200, 5100])  # to Sep 2003
    [f] = flags(summary(series(m, three_behind)))
    assert f.code == "stale-data" and f.label == "as of Sep 2003" and "3 months" in f.text
    quarterly = measure(frequency="quarterly", target_period="2006-12")
    q = {"2003-03": 5400.0, "2003-06": 5300.0, "2003-09": 5200.0}
    assert flags(summary(series(quarterly, q))) == []  # one quarter behind is expected
    assert codes(flags(summary(series(quarterly, {"2003-06": 5300.0})))) == ["stale-data"]


def test_partial_coverage_names_who_is_missing():
    s = summary(series(measure(), ON_TRACK))
    cov = {"M1": Coverage("M1", ROUND, 10, 12, ("Barts", "Guy's"))}
    [f] = flags(s, coverage=cov, kind_of={"M1": "trust"})
    assert f.code == "partial-coverage" and f.label == "10 of 12 trusts"
    assert f.text == ("Dec 2003 figures for applications decided cover 10 of 12 trusts; "
                      "missing: Barts, Guy's.")
    full = {"M1": Coverage("M1", ROUND, 12, 12)}
    assert flags(s, coverage=full, kind_of={"M1": "trust"}) == []


@pytest.mark.parametrize("last,now,raised", [("R", "AG", True), ("G", "AR", True),
                                             ("R", "G", True), ("AR", "AG", False),
                                             ("G", "G", False), (None, "G", False)])
def test_two_step_moves(last, now, raised):
    s = summary(series(measure(), ON_TRACK), now=now, last=last)
    got = [f for f in flags(s) if f.code == "two-step-move"]
    assert bool(got) is raised
    if raised:
        assert f"from {'Red' if last == 'R' else 'Green'} in July 2003" in got[0].text


def test_the_decision_sought_comes_from_the_unit_the_return_or_the_data():
    s = summary(series(measure(), ON_TRACK), now="R", last="AR")
    unit = PriorityTexts(decisions=["Agree to fund 400 places"],
                         unit_view="Delivery at risk. A priority review is recommended.",
                         department_name="Home Office")
    r = decision_sought(s, unit)
    assert (r.text, r.basis) == ("Delivery at risk. A priority review is recommended.",
                                 "the unit's assessment")
    green = summary(series(measure(), ON_TRACK))
    r = decision_sought(green, unit)
    assert (r.text, r.basis) == ("Agree to fund 400 places.", "the Home Office return")
    r = decision_sought(s, PriorityTexts(department_name="Home Office"))
    assert r.from_data and r.text == "Agree a priority review: likelihood rated Red."
    r = decision_sought(green, PriorityTexts())
    assert r.from_data and r.text == "No decision sought: note progress."


def test_flags_on_the_sample_programme(demo_ws):
    reg, led = demo_ws.register, demo_ws.ledger
    got = assurance_flags(reg, led, "2003-12")
    assert set(got) == {p.id for p in reg.priorities}
    bis = {f.code: f for f in got["BIS1"]}  # BIS sent nothing in Dec 2003
    assert bis["no-return"].label == "as of Jun 2003 — no return"
    assert "two-step-move" in bis and "rating-above-data" in bis  # R to AG, data RAG R
    assert "its data RAG is R" in bis["rating-above-data"].text
    ho2 = [f for f in got["HO2"] if f.code == "rating-above-data"]  # 4,400 by Sep 2003
    assert ho2 and "the 4,400 target for Sep 2003 has passed unmet" in ho2[0].text
    dh = [f.code for f in got["DH1"]]
    assert "no-return" not in dh  # DH's second attempt was accepted
    recs = decisions_sought(reg, led, "2003-12", flags=got)
    assert recs["BIS1"].from_data  # BIS returned nothing this round
    assert recs["HO1"].basis == "the Home Office return"
