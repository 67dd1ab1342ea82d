"""The data RAG and the forecast: computed here once, written as values by every output.

Data RAG (how far actual is off trajectory), with the register's tolerances in the
measure's own units and the direction of good respected:
  G  on or better than trajectory;  AG short by at most tolerance_ag;
  AR short by at most tolerance_ar; R  short by more. Boundaries are inclusive.

Forecast (`forecast`): an ordinary least-squares trend through the recent actuals (the last
six months of a monthly measure, the last four quarters of a quarterly one, by the actual
months between them so a gap is a gap), drawn from the last actual itself so the dotted
line never jumps, and projected period by period. A percentage is fitted on the log-odds
scale, so it bends towards 0% or 100% and never passes them; a count never goes below
zero. Fewer than MIN_POINTS recent actuals give "too few points to project"; a target not
reached within HORIZON_YEARS of the last actual is "not on current trend within 5 years".
Once the target date has passed the line is still drawn, a year beyond the last actual (or
to the month it meets the target, within two years), and the sentence names where it ends.
The sentence is read off the same projected values the chart draws, so the two agree.
A seasonal series is compared like with like (seasonal.py): with two years of figures and a
clear pattern the trend is fitted to the seasonally adjusted actuals and the pattern added
back to the projection; with less, a six-month trend that runs against the change on a year
ago is said to be possibly seasonal. A quarterly measure is fitted and projected by
quarters, never by months between them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..foundation.domain import Measure
from ..foundation.periods import add_months, months_between, period_label
from .seasonal import MIN_YEARS, YEARS, Pattern, possibly_seasonal, seasonal_pattern

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
    """A projection of a measure's actuals, and what it says about the target."""

    values: dict[str, float]  # period -> projected value, after the last actual
    met_period: str | None  # first period the projection meets the target (None: not met)
    on_trend: bool  # the trend moves towards the target (or it is already met)
    slope: float  # per month, in the fitted scale (log-odds for a percentage)
    status: str = "projected"  # projected | too-few-points | already-met
    method: str = ""
    last_period: str | None = None
    last_value: float | None = None
    points: int = 0
    seasonal: Pattern | None = None  # removed before fitting, added back when projecting
    caveat: str = ""  # said after the sentence: a season the trend may be following

    @property
    def trend_words(self) -> str:
        return "on current trend and season" if self.seasonal else "on current trend"

    def at(self, period: str) -> float | None:
        """The projected value at a period (the last actual at its own period)."""
        if period == self.last_period:
            return self.last_value
        return self.values.get(period)

    @property
    def drawn_to(self) -> str | None:
        """The last period the projection is drawn to (None: nothing projected)."""
        return max(self.values) if self.values else None

    def on_time(self, measure: Measure) -> bool | None:
        """Met by the target date on current trend? None when there is nothing to judge."""
        if self.status == "too-few-points":
            return None
        return self.met_period is not None and self.met_period <= measure.target_period

    def sentence(self, measure: Measure) -> str:
        """What the projection says, in words that agree with its own values."""
        text = self._sentence(measure).replace("on current trend", self.trend_words)
        return f"{text} ({self.caveat})" if self.caveat else text

    def _sentence(self, measure: Measure) -> str:
        m = measure
        target = format_value(m, m.target)
        due = period_label(m.target_period)
        if self.status == "too-few-points":
            return (f"too few points to project ({self.points} recent actual"
                    f"{'s' if self.points != 1 else ''}; {min_points(m)} needed)")
        if self.status == "already-met":
            return f"the {target} target is met ({format_value(m, self.last_value)} " \
                   f"in {period_label(self.last_period or m.target_period)})"
        if self.last_period is not None and self.last_period >= m.target_period:
            # the target date is behind us: say where the drawn line ends and when (if
            # ever) the trend reaches the target
            missed = f"the {target} target for {due} was missed"
            end = self.drawn_to
            if self.met_period and end is not None and self.met_period <= end:
                return f"{missed}; on current trend it is met in {period_label(self.met_period)}"
            head = (f"{missed}; on current trend {format_value(m, self.at(end))} by "
                    f"{period_label(end)}" if end is not None else missed)
            if self.met_period:
                return f"{head}; met in {period_label(self.met_period)}"
            if not self.on_trend:
                return f"{head}: the trend is away from the target"
            return f"{head}; not met on current trend within {HORIZON_YEARS} years"
        by = self.at(m.target_period)
        head = (f"on current trend {format_value(m, by)} by {due}" if by is not None
                else "on current trend")
        if self.met_period and self.met_period <= m.target_period:
            return f"{head}, meeting the {target} target in {period_label(self.met_period)}"
        if self.met_period:
            return (f"{head}, short of the {target} target; met in "
                    f"{period_label(self.met_period)}, after the target date")
        if not self.on_trend:
            return f"{head}, short of the {target} target: the trend is away from it"
        return (f"{head}, short of the {target} target, which is not met on current trend "
                f"within {HORIZON_YEARS} years")


MIN_POINTS = {"monthly": 4, "quarterly": 3}
WINDOW_MONTHS = {"monthly": 6, "quarterly": 12}  # recent actuals the trend is fitted to
HORIZON_YEARS = 5
# after a missed target date the line is drawn a year on, or to the month the trend meets
# the target when that is within two years
AFTER_MISSED, AFTER_MISSED_MAX = 12, 24


def min_points(measure: Measure) -> int:
    return MIN_POINTS[measure.frequency]


def bounds(measure: Measure) -> tuple[float | None, float | None]:
    """The values a measure can take: 0-100 for a percentage, at least 0 for a count."""
    lo = {"percent": 0.0, "count": 0.0, "rate": 0.0, "gbp": 0.0}.get(measure.unit)
    hi = 100.0 if measure.unit == "percent" else None
    if measure.plausible_min is not None:
        lo = measure.plausible_min if lo is None else max(lo, measure.plausible_min)
    if measure.plausible_max is not None:
        hi = measure.plausible_max if hi is None else min(hi, measure.plausible_max)
    return lo, hi


def method_text(measure: Measure) -> str:
    """The forecast's method in one sentence, for notes and the master."""
    window = ("last six months" if measure.frequency == "monthly" else "last four quarters")
    scale = (" on the log-odds scale, so it stays between 0% and 100%"
             if measure.unit == "percent" else "")
    return (f"least-squares trend of the actuals in the {window}{scale}, drawn from the "
            f"last actual; at least {min_points(measure)} actuals needed; not projected "
            f"beyond {HORIZON_YEARS} years")


def _logit(p: float) -> float:
    q = min(max(p / 100.0, 0.001), 0.999)
    return math.log(q / (1 - q))


def _expit(x: float) -> float:
    return 100.0 / (1 + math.exp(-x))


def forecast(measure: Measure, actuals: dict[str, float],
             horizon: str | None = None, step: int | None = None,
             seasonal: bool = True) -> Forecast:
    """Project the recent actuals to the target period (or `horizon`), a value per period.
    With two years of history and a clear seasonal pattern (seasonal.py), the trend is
    fitted to the seasonally adjusted actuals and the pattern added back to the projection,
    so each month is compared with its own season; `seasonal=False` fits the raw actuals."""
    m = measure
    step = step or (3 if m.frequency == "quarterly" else 1)
    method = method_text(m)
    known = sorted((p, v) for p, v in actuals.items() if v is not None)
    if not known:
        return Forecast({}, None, False, 0.0, "too-few-points", method, points=0)
    last, last_v = known[-1]
    if meets(m, last_v, m.target):
        return Forecast({}, last, True, 0.0, "already-met", method, last, last_v, len(known))
    points = [(p, v) for p, v in known if months_between(p, last) < WINDOW_MONTHS[m.frequency]]
    if len(points) < min_points(m):
        return Forecast({}, None, False, 0.0, "too-few-points", method, last, last_v,
                        len(points))
    logit = m.unit == "percent"
    scaled = [(p, _logit(v) if logit else v) for p, v in known]
    per = 3 if m.frequency == "quarterly" else 1  # a quarterly series is taken by quarters
    pattern = seasonal_pattern(scaled, per) if seasonal else None
    season = pattern.at if pattern else (lambda _p: 0.0)
    xs = [months_between(last, p) for p, _ in points]  # <= 0, the last actual at 0
    ys = [(_logit(v) if logit else v) - season(p) for p, v in points]
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0
    anchor = (_logit(last_v) if logit else last_v) - season(last)
    lo, hi = bounds(m)
    caveat = ""
    history = sum(months_between(p, last) < 12 * YEARS for p, _ in known)
    if seasonal and pattern is None and history < MIN_YEARS * 12 // per \
            and possibly_seasonal(scaled, slope):
        unit = "quarters" if per == 3 else "months"
        caveat = (f"seasonal pattern not removed: the {len(points)}-{unit[:-1]} trend runs "
                  f"against the change on a year ago, and {history} {unit} of figures are "
                  f"too few to estimate the season ({MIN_YEARS * 12 // per} needed)")

    def value(months: int) -> float:
        y = anchor + slope * months + season(add_months(last, months))
        v = _expit(y) if logit else y
        if lo is not None:
            v = max(v, lo)
        if hi is not None:
            v = min(v, hi)
        return round(v, 6)

    end = max(horizon or m.target_period, m.target_period)
    full: dict[str, float] = {}
    met: str | None = None
    cap = add_months(last, 12 * HORIZON_YEARS)
    p = add_months(last, step)
    while p <= max(end, cap):
        v = value(months_between(last, p))
        full[p] = v
        if met is None and meets(m, v, m.target):
            met = p
            if p > end:
                break
        p = add_months(p, step)
    if last >= m.target_period:
        # the target date has passed: the reader still sees where the trend goes, to the
        # month it meets the target if that is within AFTER_MISSED_MAX, else a year on
        reach = add_months(last, AFTER_MISSED_MAX)
        end = max(horizon or last, met if met and met <= reach
                  else add_months(last, AFTER_MISSED))
    values = {p: v for p, v in full.items() if p <= end}
    scale = max(abs(anchor), 1e-6)
    flat = abs(slope) * 12 < 1e-6 * scale
    good = not flat and (slope > 0 if m.direction == "up" else slope < 0)
    if pattern:
        method += (f"; seasonally adjusted: each calendar {'quarter' if per == 3 else 'month'}"
                   f"'s average deviation from trend over {pattern.periods} "
                   f"{'quarters' if per == 3 else 'months'} is removed before fitting and "
                   "added back to the projection")
    return Forecast(values, met, good, slope, "projected", method, last, last_v, n,
                    pattern, caveat)


def format_value(measure: Measure, value: float | None) -> str:
    """A figure as a minister reads it: 94.1%, 4,400, £1.2m, 8.5 points."""
    if value is None:
        return "–"
    if measure.unit == "percent":
        return f"{value:.1f}%"
    if measure.unit == "points":
        return f"{value:.1f} points"
    if measure.unit == "gbp":
        return f"£{value:,.0f}"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def format_gap(measure: Measure, size: float) -> str:
    """A distance between two figures, unsigned: a rate's in percentage points (35.0% to
    38.3% is 3.3 points; '3.3%' would read as a relative rise), anything else in its unit."""
    if measure.unit in ("percent", "points"):
        return f"{size:.1f} points"
    return format_value(measure, size)


def format_change(measure: Measure, change: float | None) -> str:
    """A change between two figures, signed, in the terms of format_gap: '+3.3 points'."""
    if change is None:
        return "–"
    sign = "+" if change > 0 else "-" if change < 0 else ""
    return sign + format_gap(measure, abs(change))


def gap_words(measure: Measure, planned: float, actual: float) -> str:
    """'off track by 0.9 points' / 'ahead of trajectory by 120'."""
    gap = shortfall(measure, planned, actual)
    size = abs(gap)
    amount = format_gap(measure, size)
    if gap <= EPS:
        return "on or ahead of trajectory" if size < EPS else f"ahead of trajectory by {amount}"
    return f"off track by {amount}"
