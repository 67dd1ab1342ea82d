"""Trajectory charts as images (matplotlib) for Word, in the deck's visual language:
planned dashed grey, actual solid navy, forecast dotted blue, the department's own forecast
dash-dot orange, target a red diamond."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from ..consolidation.rag import format_value  # noqa: E402
from ..consolidation.views import MeasureSeries  # noqa: E402
from ..foundation.periods import period_date  # noqa: E402
from .deck import axis_unit  # noqa: E402


def value_axis(series: MeasureSeries, forecast: dict) -> tuple[float | None, float | None]:
    """The deck's value axis: a percentage ends at 100 and starts at the tens below the
    data less five; any other measure that cannot go negative starts at zero."""
    values = [v for v in (*series.planned.values(), *series.actual.values(),
                          *forecast.values(), series.measure.target) if v is not None]
    if not values:
        return None, None
    low = min(values)
    if series.measure.unit == "percent":
        return max(0, (int(low) - 5) // 10 * 10), 100
    return (0, None) if low >= 0 else (None, None)


def chart_lines(series: MeasureSeries) -> dict[str, dict[str, float]]:
    """The lines a chart draws, by legend name: the forecast (and the department's own)
    joined to the last actual, so neither jumps; the forecast runs on past a missed target
    date as far as the projection is drawn."""
    last = series.latest_period
    lines = {"Planned trajectory": dict(series.planned), "Actual": dict(series.actual)}
    for name, values in (("Forecast", series.projection.values),
                         ("Department's own forecast", series.theirs)):
        if values:
            joined = dict(values)
            if last is not None and series.latest_actual is not None:
                joined[last] = series.latest_actual
            lines[name] = joined
    return lines


STYLES: dict[str, dict[str, Any]] = {
    "Planned trajectory": dict(color="#7F7F7F", linestyle="--", linewidth=1.8),
    "Actual": dict(color="#1F3864", linewidth=2.6),
    "Forecast": dict(color="#2E75B6", linestyle=":", linewidth=2.2),
    "Department's own forecast": dict(color="#C55A11", linestyle="-.", linewidth=1.8)}


def trajectory_png(series: MeasureSeries, target: Path) -> Path:
    m = series.measure
    fig, ax = plt.subplots(figsize=(7.2, 3.2), dpi=150)
    periods = series.periods
    lines = chart_lines(series)
    for name, values in lines.items():
        pts = [(period_date(p), values[p]) for p in periods if values.get(p) is not None]
        if pts:
            ax.plot(np.array([x for x, _ in pts], dtype="datetime64[D]"),
                    [y for _, y in pts], label=name, **STYLES[name])
    fc: dict[str, float | None] = {p: v for values in lines.values() for p, v in values.items()}
    ax.plot(np.array([period_date(m.target_period)], dtype="datetime64[D]"), [m.target],
            marker="D", color="#C00000", markersize=7, linestyle="none",
            label=f"Target {format_value(m, m.target)}")
    ax.set_ylim(*value_axis(series, fc))
    ax.set_ylabel(axis_unit(m), fontsize=8, color="#404040")
    # a tick every quarter, half-year or year as the deck's axis has them, never crowded
    span = len(periods) * (3 if m.frequency == "quarterly" else 1)
    ax.xaxis.set_major_locator(mdates.MonthLocator(
        bymonth=range(1, 13, 3 if span <= 24 else 6 if span <= 48 else 12)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %y"))
    ax.yaxis.set_major_formatter(FuncFormatter(
        lambda v, _: f"{v:.0f}%" if m.unit == "percent" else f"{v:,.0f}"))
    ax.grid(axis="y", color="#D9D9D9")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(m.name, fontsize=10, color="#1F3864", loc="left")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=5, frameon=False,
              fontsize=8)
    fig.tight_layout()
    fig.savefig(target, metadata={"Software": None})
    plt.close(fig)
    return target
