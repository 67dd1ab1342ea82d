"""The data RAG and the forecast: computed here once, written as values by every output.

Data RAG (how far actual is off trajectory), with the register's tolerances in the
measure's own units and the direction of good respected:
  G  on or better than trajectory;  AG short by at most tolerance_ag;
  AR short by at most tolerance_ar; R  short by more. Boundaries are inclusive.

Forecast: an ordinary least-squares straight line through the last FORECAST_POINTS
actuals (fewer if fewer exist, at least two), projected month by month to the target
period. The target is "met" in the first period where the line reaches it; a line moving
away from the target gives "not on current trend".
"""

from __future__ import annotations

from dataclasses import dataclass

from ..domain import Measure
from ..periods import add_months, months_between, period_label

FORECAST_POINTS = 6
EPS = 1e-9


def shortfall(measure: Measure, planned: float, actual: float) -> float:
    """How far actual is behind plan, in the measure's units (negative when ahead)."""
    return (planned - actual) if measure.direction == "up" else (actual - planned)


def data_rag(measure: Measure, planned: float | None, actual: float | None) -> str | None:
    if planned is None or actual is None:
        return None
    gap = shortfall(measure, planned, actual)
    if gap <= EPS:
        return "G"
    if gap <= measure.tolerance_ag + EPS:
        return "AG"
    if gap <= measure.tolerance_ar + EPS:
        return "AR"
    return "R"


def meets(measure: Measure, value: float, target: float) -> bool:
    return value >= target - EPS if measure.direction == "up" else value <= target + EPS


@dataclass
class Forecast:
    values: dict[str, float]  # period -> projected value, after the last actual
    met_period: str | None  # first period the projection meets the target
    on_trend: bool  # the line moves towards the target (or it is already met)
    slope: float  # per month

    def sentence(self, measure: Measure) -> str:
        target = format_value(measure, measure.target)
        if self.met_period and self.met_period <= measure.target_period:
            return (f"on current trend the {target} target is met in "
                    f"{period_label(self.met_period)}")
        if self.met_period:
            return (f"on current trend the {target} target is met in "
                    f"{period_label(self.met_period)}, after the target date "
                    f"({period_label(measure.target_period)})")
        return f"the {target} target is not met on current trend"


def forecast(measure: Measure, actuals: dict[str, float],
             horizon: str | None = None, step: int | None = None) -> Forecast:
    """Project the recent actuals to the target period (or `horizon`), a value per period."""
    step = step or (3 if measure.frequency == "quarterly" else 1)
    points = sorted(actuals.items())[-FORECAST_POINTS:]
    if len(points) < 2:
        return Forecast({}, None, False, 0.0)
    x0 = points[0][0]
    xs = [months_between(x0, p) for p, _ in points]
    ys = [v for _, v in points]
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0
    intercept = my - slope * mx
    last = points[-1][0]
    end = max(horizon or measure.target_period, measure.target_period)
    values: dict[str, float] = {}
    p = add_months(last, step)
    lo, hi = (0.0, 100.0) if measure.unit == "percent" else (None, None)
    while p <= end:
        v = intercept + slope * months_between(x0, p)
        if lo is not None and hi is not None:  # a percentage stays within 0% and 100%
            v = min(max(v, lo), hi)
        values[p] = round(v, 6)
        p = add_months(p, step)
    good = slope > EPS if measure.direction == "up" else slope < -EPS
    met: str | None = None
    if meets(measure, points[-1][1], measure.target):
        met, good = last, True
    elif good:
        # first period at which the line reaches the target (may be after the target date)
        k = (measure.target - intercept) / slope
        months = int(-(-k // 1))  # ceiling
        met = add_months(x0, months)
        # align to the measure's reporting periods
        while months_between(last, met) % step:
            met = add_months(met, 1)
    return Forecast(values, met, good, slope)


def format_value(measure: Measure, value: float | None, *, signed: bool = False) -> str:
    """A figure as a minister reads it: 94.1%, 4,400, £1.2m, 8.5 points."""
    if value is None:
        return "–"
    sign = "+" if signed and value > 0 else ""
    if measure.unit == "percent":
        return f"{sign}{value:.1f}%"
    if measure.unit == "points":
        return f"{sign}{value:.1f} points"
    if measure.unit == "gbp":
        return f"{sign}£{value:,.0f}"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{sign}{value:,.0f}"
    return f"{sign}{value:,.1f}"


def gap_words(measure: Measure, planned: float, actual: float) -> str:
    """'off track by 0.9 points' / 'ahead of trajectory by 120'."""
    gap = shortfall(measure, planned, actual)
    size = abs(gap)
    amount = (f"{size:.1f} points" if measure.unit in ("percent", "points")
              else format_value(measure, size))
    if gap <= EPS:
        return "on or ahead of trajectory" if size < EPS else f"ahead of trajectory by {amount}"
    return f"off track by {amount}"
