"""A figure far from its measure's own history is worth a word (0.13 on a points measure
whose history is in tens): a slipped decimal point or a wrong unit, which no fixed
plausible range catches when the measure moves over the years.

The rule, stated once: a new actual is unusual when it is under a tenth, or over ten times,
the median of the measure's last RECENT figures before its month (from the ledger, and from
earlier months of the same return), where at least MIN_HISTORY are known and their median
is above zero. The median is robust to one earlier slip. It is a warning, never an error:
the officer can still send a true unusual figure.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from statistics import median

from ..consolidation.rag import format_value
from ..foundation.domain import Register
from ..foundation.periods import period_label
from ..ledger import Ledger
from ..validation.cells import At
from ..validation.checks import BookRead
from ..validation.issues import Issue

RECENT, MIN_HISTORY, FACTOR = 6, 3, 10.0


def unusual_figures(read: BookRead, reg: Register, known: Mapping[tuple[str, str], float]
                    ) -> Iterator[Issue]:
    """Warnings for each newly typed national actual (and revised value) far from its
    measure's history; `known` is {(measure id, period): value} already in the ledger."""
    typed: list[tuple[str, str, float, At]] = []  # measure, period, value, where
    for block in read.of_kind("traj"):
        mid = block.spec.meta.get("measure")
        for row in block.rows:
            v = row.get("actual")
            if mid and row.is_input("actual") and isinstance(v, int | float) \
                    and isinstance(row.key[0], str) and not isinstance(v, bool):
                typed.append((mid, row.key[0], float(v), row.at("actual")))
    for block in read.of_kind("revisions"):
        for row in block.rows:
            v, d = row.get("value"), row.get("period")
            if isinstance(row.get("measure"), str) and isinstance(v, int | float) \
                    and not isinstance(v, bool) and hasattr(d, "strftime"):
                typed.append((row.get("measure"), f"{d:%Y-%m}", float(v), row.at("value")))
    series: dict[str, dict[str, float]] = {}
    for (mid, period), v in known.items():
        series.setdefault(mid, {})[period] = v
    for mid, period, v, _ in typed:
        series.setdefault(mid, {})[period] = v
    measures = {m.id: m for m in reg.measures}
    for mid, period, v, at in typed:
        m = measures.get(mid)
        before = [x for p, x in sorted(series.get(mid, {}).items()) if p < period][-RECENT:]
        if m is None or len(before) < MIN_HISTORY:
            continue
        mid_value = median(before)
        if mid_value <= 0 or mid_value / FACTOR <= v <= mid_value * FACTOR:
            continue
        yield at.issue(
            "unusual-against-history", found=f"{format_value(m, v)} for {period_label(period)}",
            expected=f"between {format_value(m, mid_value / FACTOR)} and "
                     f"{format_value(m, mid_value * FACTOR)} (a tenth to ten times the median "
                     f"{format_value(m, mid_value)} of its last {len(before)} figures)")


def history_warnings(led: Ledger, reg: Register, read: BookRead | None) -> list[Issue]:
    """The check on a department return, against the national actuals in the ledger."""
    if read is None or read.spec.kind != "return":
        return []
    known = {(mid, p): r["value"] for (mid, org, p), r in led.latest_values("actual").items()
             if not org and r["value"] is not None}
    return list(unusual_figures(read, reg, known))
