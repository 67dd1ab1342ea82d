"""Seasonal and quarterly series in the forecast: a winter dip is not a trend. On a
constructed seasonal series the straight line through the last six months misses the
month the target is met and the seasonally adjusted one finds it; on NHS England's A&E
four-hour series the adjusted projection lands near what happened."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from conftest import REALDATA, needs_shared
from deliverypack.consolidation.rag import forecast, meets
from deliverypack.consolidation.seasonal import seasonal_pattern
from deliverypack.foundation.domain import Measure
from deliverypack.foundation.periods import add_months, months_between

START = "2001-08"


def measure(**kw) -> Measure:
    base = dict(id="X", priority_id="P", name="x", unit="count", direction="up",
                target=1500, target_period="2006-12")
    return Measure(**{**base, **kw})


def seasonal_count(period: str) -> float:
    """A rising trend (+10 a month) with a winter peak and summer trough of ±150."""
    t = months_between(START, period)
    return 1000 + 10 * t + 150 * math.cos(2 * math.pi * (int(period[5:]) - 1) / 12)


def test_a_summer_trough_is_not_projected_as_a_falling_trend():
    m = measure()
    actuals = {add_months(START, i): seasonal_count(add_months(START, i)) for i in range(36)}
    last = max(actuals)
    assert last == "2004-07"  # Feb to Jul: the season falls faster than the trend rises
    truth = next(p for p in (add_months(last, k) for k in range(1, 120))
                 if meets(m, seasonal_count(p), m.target))
    naive = forecast(m, actuals, seasonal=False)
    assert naive.slope < 0 and naive.met_period != truth
    assert "the trend is away from it" in naive.sentence(m)
    ours = forecast(m, actuals)
    assert ours.seasonal is not None and ours.slope == pytest.approx(10, abs=0.5)
    assert ours.met_period == truth
    assert ours.at(m.target_period) == pytest.approx(seasonal_count(m.target_period), rel=0.01)
    assert ours.sentence(m).startswith("on current trend and season ")
    assert "seasonally adjusted" in ours.method
    # drawn from the last actual: the first projected month is next month's season, no jump
    assert ours.values[add_months(last, 1)] == pytest.approx(
        seasonal_count(add_months(last, 1)), abs=15)


def test_noise_without_a_season_is_fitted_as_before():
    rng = np.random.default_rng(7)
    m = measure()
    actuals = {add_months(START, i): 1000 + 5 * i + float(rng.normal(0, 30))
               for i in range(36)}
    f = forecast(m, actuals)
    assert f.seasonal is None and f.caveat == ""
    assert f.values == forecast(m, actuals, seasonal=False).values
    assert f.sentence(m).startswith("on current trend")


def test_too_little_history_for_a_season_is_said_not_projected_as_trend():
    m = measure()
    actuals = {add_months("2003-02", i): seasonal_count(add_months("2003-02", i))
               for i in range(18)}  # Feb 2003 to Jul 2004: 18 months, 24 needed
    f = forecast(m, actuals)
    assert f.seasonal is None
    assert f.sentence(m).endswith(
        "(seasonal pattern not removed: the 6-month trend runs against the change on a year "
        "ago, and 18 months of figures are too few to estimate the season (24 needed))")
    # rising both over six months and on a year ago: nothing to warn of
    rising = {p: 1000 + 10 * i for i, p in enumerate(sorted(actuals))}
    assert forecast(m, rising).caveat == ""


def test_a_quarterly_series_is_taken_by_quarters():
    m = measure(frequency="quarterly", target=1400)
    season = {3: -120.0, 6: 60.0, 9: 150.0, 12: -90.0}
    actuals = {add_months("2001-03", 3 * i): 1000 + 6 * 3 * i + season[(3 + 3 * i - 1) % 12 + 1]
               for i in range(12)}
    assert max(actuals) == "2003-12"
    f = forecast(m, actuals)
    assert f.seasonal is not None and set(f.seasonal.index) == {3, 6, 9, 12}
    assert all(int(p[5:]) in (3, 6, 9, 12) for p in f.values)  # no months between quarters
    assert f.slope == pytest.approx(6, abs=0.5)
    assert f.values["2004-09"] == pytest.approx(1000 + 6 * 42 + 150, abs=5)


def _england_ae() -> dict[str, float]:
    with (REALDATA / "nhs_ae_4hr_pct_by_trust_monthly.csv").open(encoding="utf-8") as fh:
        return {r["period"]: float(r["value"]) for r in csv.DictReader(fh)
                if r["org"] == "ENGLAND" and r["series_id"] == "ae_4hr_pct"}


@needs_shared(REALDATA / "nhs_ae_4hr_pct_by_trust_monthly.csv")
def test_england_a_and_e_through_january_2019_projects_march_near_what_happened():
    ae = _england_ae()
    m = measure(unit="percent", target=95, target_period="2019-03")
    seen = {p: v for p, v in ae.items() if p <= "2019-01"}  # 34 months, the winter dip last
    naive = forecast(m, seen, seasonal=False)
    ours = forecast(m, seen)
    assert ours.seasonal is not None and naive.seasonal is None
    actual = ae["2019-03"]  # 86.6%
    assert abs(ours.at("2019-03") - actual) < 1.0
    assert abs(naive.at("2019-03") - actual) > 4.0  # the dip projected as a fall
    assert seasonal_pattern([(p, v) for p, v in sorted(seen.items())], 1) is not None
    # mid-year, the raw line through spring and summer says the target is met in Dec 2018;
    # compared like with like it is not (March 2019 was 86.6%)
    summer = {p: v for p, v in ae.items() if p <= "2018-06"}
    assert forecast(m, summer, seasonal=False).on_time(m) is True
    assert forecast(m, summer).on_time(m) is False
