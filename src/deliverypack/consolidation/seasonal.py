"""The seasonal pattern of a measure, so a forecast compares like with like.

A monthly A&E series dips every winter; a straight line through October to March projects
that dip as if it were the trend. With two years or more of figures (24 months, or 8
quarters of a quarterly measure, taken by quarters), the pattern is estimated as each
calendar month's (or quarter's) level about a straight-line trend fitted with it through
the last three years, and used only when it is clear: the calendar month explains at least
CLEAR of the variation about the trend, allowing for the number of months estimated (an
adjusted R², near zero for noise). With less history a pattern cannot be estimated; then
`possibly_seasonal` says whether the recent trend runs against the change on a year ago,
the sign that a six-month line is following a season rather than a trend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..foundation.periods import add_months, months_between

YEARS = 3  # history the pattern is estimated from, at most
MIN_YEARS = 2  # at least: every calendar month seen twice
CLEAR = 0.6  # adjusted share of the variation about the trend the calendar month explains


@dataclass(frozen=True)
class Pattern:
    """Each calendar position's deviation from trend (summing to zero), in the fitted scale."""

    index: dict[int, float]  # calendar month (1-12) -> deviation
    strength: float  # adjusted share of the variation about trend explained by the month
    periods: int  # actuals the pattern was estimated from

    def at(self, period: str) -> float:
        return self.index.get(int(period[5:7]), 0.0)


def seasonal_pattern(points: list[tuple[str, float]], step: int) -> Pattern | None:
    """The clear seasonal pattern of a series (period, value in the fitted scale), or None
    when there is too little history or no clear pattern. `step` is 1 (monthly) or 3
    (quarterly: the pattern is by quarter, from quarterly figures only)."""
    if not points:
        return None
    last = points[-1][0]
    recent = [(p, v) for p, v in points if months_between(p, last) < 12 * YEARS]
    per_year = 12 // step
    if len(recent) < MIN_YEARS * per_year:
        return None
    x = np.array([months_between(last, p) for p, _ in recent], dtype=float)
    y = np.array([v for _, v in recent], dtype=float)
    months = np.array([int(p[5:7]) for p, _ in recent])
    groups = sorted(set(months.tolist()))
    if len(groups) < per_year or any((months == g).sum() < MIN_YEARS for g in groups):
        return None  # a calendar position seen once cannot be told from noise
    # trend and season fitted together (a line plus a level for each calendar month), so
    # the season does not lean on the slope or the slope on the season
    dummies = (months[:, None] == np.array(groups)[None, :]).astype(float)
    coef, *_ = np.linalg.lstsq(np.column_stack([x, dummies]), y, rcond=None)
    levels = coef[1:]
    index = {g: float(v - levels.mean()) for g, v in zip(groups, levels, strict=True)}
    within = y - np.column_stack([x, dummies]) @ coef
    slope, intercept = np.polyfit(x, y, 1)
    about_trend = y - (intercept + slope * x)
    n = len(recent)
    df_total, df_within = n - 2, n - len(groups) - 1
    total = float((about_trend ** 2).sum())
    if df_within <= 0 or total <= 1e-12:
        return None
    # the share of the variation about a straight line the calendar month explains,
    # allowing for the levels estimated: near zero for noise, near one for a clear season
    strength = 1 - (float((within ** 2).sum()) / df_within) / (total / df_total)
    if strength < CLEAR:
        return None
    return Pattern(index, strength, n)


def possibly_seasonal(points: list[tuple[str, float]], slope: float) -> bool:
    """With too little history for a pattern: does the recent trend run against the change
    on a year ago (a falling six-month line while the figure is up on last year)?"""
    values = dict(points)
    last, last_v = points[-1]
    year_ago = values.get(add_months(last, -12))
    if year_ago is None:
        return False
    change = last_v - year_ago
    return (slope > 0 > change) or (slope < 0 < change)
