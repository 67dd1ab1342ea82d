"""The forecast on constructed series: a rising count, a falling one, two points, a flat
run, a gap in the months, a quarterly series and a bounded percentage. Every sentence is
checked against the projection's own value at the target date."""

from __future__ import annotations

import pytest

from deliverypack.consolidation.rag import HORIZON_YEARS, forecast, meets
from deliverypack.foundation.domain import Measure
from deliverypack.foundation.periods import add_months


def measure(**kw) -> Measure:
    base = dict(id="X", priority_id="P", name="x", unit="count", direction="up",
                target=200, target_period="2004-06")
    return Measure(**{**base, **kw})


def months(start: str, values: list[float]) -> dict[str, float]:
    return {add_months(start, i): v for i, v in enumerate(values)}


def agrees(m: Measure, f) -> None:
    """The sentence never contradicts the projected value at the target date."""
    by = f.at(m.target_period)
    text = f.sentence(m)
    if by is not None and "meeting the" in text:
        assert meets(m, by, m.target), text
    if by is not None and "short of the" in text:
        assert not meets(m, by, m.target), text


def test_a_rising_count_starts_at_the_last_actual_and_meets_its_target():
    m = measure()
    f = forecast(m, months("2003-07", [100, 110, 120, 130, 140, 150]))  # +10 a month
    assert f.status == "projected" and f.last_value == 150
    assert f.values["2004-01"] == pytest.approx(160)  # one step on from Dec 2003: no jump
    assert f.met_period == "2004-05" and f.on_time(m) is True
    assert f.sentence(m) == "on current trend 210 by Jun 2004, meeting the 200 target in May 2004"
    agrees(m, f)
    assert "least-squares" in f.method and "last six months" in f.method


def test_a_falling_trend_for_a_measure_that_should_rise_is_away_from_target():
    m = measure()
    f = forecast(m, months("2003-07", [150, 145, 140, 135, 130, 125]))
    assert not f.on_trend and f.met_period is None and f.on_time(m) is False
    assert f.values["2004-06"] == pytest.approx(95)
    assert f.sentence(m) == ("on current trend 95 by Jun 2004, short of the 200 target: the "
                             "trend is away from it")
    agrees(m, f)
    down = measure(direction="down", target=100)  # falling is good here
    g = forecast(down, months("2003-07", [150, 145, 140, 135, 130, 125]))
    assert g.on_trend and g.met_period == "2004-05"


def test_a_count_never_projects_below_zero():
    m = measure(direction="down", target=0, target_period="2005-12")
    f = forecast(m, months("2003-07", [50, 40, 30, 20, 10, 5]))
    assert min(f.values.values()) == 0.0


def test_two_points_are_too_few_to_project():
    m = measure()
    f = forecast(m, {"2003-11": 100, "2003-12": 120})
    assert f.status == "too-few-points" and f.values == {} and f.on_time(m) is None
    assert f.sentence(m) == "too few points to project (2 recent actuals; 4 needed)"
    q = measure(frequency="quarterly")
    g = forecast(q, {"2003-09": 100, "2003-12": 120})  # two quarters
    assert g.sentence(q) == "too few points to project (2 recent actuals; 3 needed)"


def test_a_flat_series_is_not_on_trend_and_says_so_within_the_horizon():
    m = measure()
    f = forecast(m, months("2003-07", [150] * 6))
    assert f.met_period is None and not f.on_trend
    assert "short of the 200 target" in f.sentence(m)
    # almost flat: the line would reach the target decades away; capped at the horizon
    g = forecast(m, months("2003-07", [150, 150.01, 150.02, 150.03, 150.04, 150.05]))
    assert g.met_period is None
    assert g.sentence(m).endswith(f"not met on current trend within {HORIZON_YEARS} years")
    agrees(m, g)


def test_a_gap_in_the_months_is_a_gap_not_a_step():
    m = measure()
    actual = {"2003-07": 100, "2003-08": 110, "2003-11": 140, "2003-12": 150}  # Sep, Oct missing
    f = forecast(m, actual)
    assert f.status == "projected" and f.values["2004-01"] == pytest.approx(160)  # +10 a month
    old = {"2003-01": 10, "2003-02": 20, "2003-11": 140, "2003-12": 150}  # only 2 recent
    assert forecast(m, old).status == "too-few-points"


def test_a_quarterly_series_projects_by_quarter():
    m = measure(frequency="quarterly", target_period="2004-12")
    f = forecast(m, {"2003-03": 100, "2003-06": 120, "2003-09": 140, "2003-12": 160})
    assert sorted(f.values) == ["2004-03", "2004-06", "2004-09", "2004-12"]
    assert f.values["2004-03"] == pytest.approx(180) and f.met_period == "2004-06"
    agrees(m, f)


def test_a_percentage_stays_within_0_and_100_and_bends_towards_the_bound():
    m = measure(unit="percent", target=99.5, target_period="2006-12")
    f = forecast(m, months("2003-07", [90, 92, 94, 96, 97, 98]))
    vals = list(f.values.values())
    assert all(0 < v < 100 for v in vals)
    steps = [b - a for a, b in zip(vals, vals[1:], strict=False)]
    assert all(s >= 0 for s in steps) and steps[-1] < steps[0]  # slows as it nears 100%
    assert f.values[add_months("2003-12", 1)] - 98 < 2  # no jump from the last actual
    agrees(m, f)
    sentence = forecast(measure(unit="percent", target=90, target_period="2004-06"),
                        months("2003-07", [89.9, 89.5, 89.0, 88.6, 88.2, 87.9]))
    assert "short of the 90.0% target" in sentence.sentence(
        measure(unit="percent", target=90, target_period="2004-06"))


def test_a_target_already_met_and_a_target_date_passed():
    m = measure()
    f = forecast(m, months("2003-07", [150, 170, 190, 200, 205, 210]))
    assert f.status == "already-met" and f.sentence(m) == "the 200 target is met (210 in Dec 2003)"
    late = measure(target_period="2003-09")
    g = forecast(late, months("2003-07", [100, 110, 120, 130, 140, 150]))
    assert g.sentence(late) == ("the 200 target for Sep 2003 was missed; on current trend it "
                                "is met in May 2004")


def test_after_a_missed_target_date_the_line_is_still_drawn_and_the_text_names_its_end():
    late = measure(target_period="2003-09")
    # rising 10 a month from 150: meets 200 in May 2004, within two years: drawn to May
    g = forecast(late, months("2003-07", [100, 110, 120, 130, 140, 150]))
    assert g.drawn_to == "2004-05" and min(g.values) == "2004-01"
    assert meets(late, g.at("2004-05"), 200) and not meets(late, g.at("2004-04"), 200)
    # rising 1 a month from 105: 200 is eight years off; drawn a year on, and said so
    slow = forecast(late, months("2003-07", [100, 101, 102, 103, 104, 105]))
    assert slow.drawn_to == "2004-12" and slow.at("2004-12") == pytest.approx(117)
    assert slow.met_period is None
    assert slow.sentence(late) == ("the 200 target for Sep 2003 was missed; on current trend "
                                   f"117 by Dec 2004; not met on current trend within "
                                   f"{HORIZON_YEARS} years")
    # falling away from the target: drawn a year on, and the sentence says the trend is away
    away = forecast(late, months("2003-07", [150, 145, 140, 135, 130, 125]))
    assert away.drawn_to == "2004-12" and away.at("2004-12") == pytest.approx(65)
    assert away.sentence(late).endswith("65 by Dec 2004: the trend is away from the target")
    # a quarterly measure met three years on: drawn four quarters on, met named after it
    q = measure(frequency="quarterly", target_period="2003-06")
    fq = forecast(q, {"2002-12": 150, "2003-03": 153, "2003-06": 156, "2003-09": 159})
    assert sorted(fq.values) == ["2003-12", "2004-03", "2004-06", "2004-09"]
    assert fq.sentence(q) == ("the 200 target for Jun 2003 was missed; on current trend 171 "
                              "by Sep 2004; met in Mar 2007")
