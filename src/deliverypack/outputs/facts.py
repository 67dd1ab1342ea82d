"""Sentences about figures, generated from the series they describe.

Every statement a paper makes about a measure (rose or fell, how many periods below
trajectory, the trend beside a data RAG) comes from here, so no paper can say "the fall in
starts" while its own annex shows them rising.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..consolidation.rag import EPS, format_gap, format_value, gap_words, shortfall
from ..consolidation.views import MeasureSeries
from ..foundation.domain import Measure, Register
from ..foundation.periods import period_label
from ..ledger.workspace import Workspace


def round_as_of(reg: Register, date: dt.date) -> str:
    """The latest round whose returns were due by `date` (the first round if none)."""
    due = sorted(r.id for r in reg.rounds if r.due <= date)
    return due[-1] if due else min(r.id for r in reg.rounds)


@dataclass(frozen=True)
class Issued:
    """A paper's date: when the round's figures and judgements were signed off, never the
    day the file happened to be built (a 2003 stocktake is dated 2003)."""

    date: dt.date | None
    basis: str  # what the date is: the unit's assessment sign-off, or the latest return
    contact: str

    @property
    def text(self) -> str:
        """'12 January 2004', or plainly that nothing is signed off yet."""
        return f"{self.date.day} {self.date:%B %Y}" if self.date else "not yet signed off"


def _day(row) -> dt.date | None:
    for key in ("signed_off_on", "received_at"):
        try:
            return dt.date.fromisoformat((row[key] or "")[:10])
        except ValueError:
            continue
    return None


def issued_on(workspace: Workspace, round_id: str) -> Issued:
    """The date every paper for a round carries: the sign-off (else receipt) date of the
    unit's assessment for the round that counts; failing that, of the latest return that
    counts; failing both, no date, and the paper says it is not yet signed off."""
    led = workspace.ledger
    subs = {s["id"]: s for s in led.submissions(round_id)}
    for kind, basis in (("assessment", "the date the unit signed off its assessment for the "
                                       "round"),
                        ("return", "the date of the latest return accepted for the round "
                                   "(the unit's assessment is not yet in)")):
        # only submissions that count: accepted, current and signed off (ledger/signoff.py)
        dated = [(d, subs[i]) for i in led.current_ids(kind, round_id)
                 if i in subs and (d := _day(subs[i])) is not None]
        if dated:
            day, sub = max(dated, key=lambda ds: (ds[0], ds[1]["id"]))
            contact = (sub["contact"] if kind == "assessment" else None) or workspace.unit_name
            return Issued(day, basis, contact)
    return Issued(None, "neither the unit's assessment nor any return for the round is "
                        "signed off", workspace.unit_name)


@dataclass
class MeasureFacts:
    """What the latest figures of one measure say, in numbers a sentence can quote."""

    series: MeasureSeries
    change: float | None  # latest actual less the one before (measure's units)
    previous_period: str | None
    rises: int  # consecutive latest periods in which the actual rose
    falls: int  # ... fell
    periods_behind: int  # consecutive latest periods short of trajectory
    gap_change: float | None  # shortfall now less shortfall a period before

    @property
    def period_word(self) -> str:
        return "quarter" if self.series.measure.frequency == "quarterly" else "month"


def measure_facts(series: MeasureSeries) -> MeasureFacts:
    m = series.measure
    periods = sorted(series.actual)
    vals = [series.actual[p] for p in periods]
    rises = falls = 0
    for a, b in zip(reversed(vals[:-1]), reversed(vals[1:]), strict=True):
        if b > a + EPS and not falls:
            rises += 1
        elif b < a - EPS and not rises:
            falls += 1
        else:
            break
    behind = 0
    for p in reversed(periods):
        planned = series.planned.get(p)
        if planned is None or shortfall(m, planned, series.actual[p]) <= EPS:
            break
        behind += 1
    change = vals[-1] - vals[-2] if len(vals) > 1 else None
    prev = periods[-2] if len(periods) > 1 else None
    gap_change = None
    if prev is not None and series.planned.get(prev) is not None \
            and series.latest_planned is not None:
        gap_change = (shortfall(m, series.latest_planned, vals[-1])
                      - shortfall(m, series.planned[prev], series.actual[prev]))
    return MeasureFacts(series, change, prev, rises, falls, behind, gap_change)


def _ordinal(n: int) -> str:
    return {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth",
            7: "seventh", 8: "eighth"}.get(n, f"{n}th")


def trend(series: MeasureSeries) -> str:
    """The trend beside a data RAG, about the gap to trajectory so it cannot contradict it:
    'ahead, lead growing', 'behind, gap narrowing', 'behind, gap widening'."""
    f = measure_facts(series)
    rag = series.rag
    if rag is None or f.gap_change is None:
        return "–"
    if rag == "G":
        return "ahead, lead growing" if f.gap_change < -EPS else \
            "ahead, lead narrowing" if f.gap_change > EPS else "on trajectory"
    return "behind, gap narrowing" if f.gap_change < -EPS else \
        "behind, gap widening" if f.gap_change > EPS else "behind, gap unchanged"


def movement_sentence(series: MeasureSeries) -> str:
    """'Up 2,112 on Mar 2003, the third quarter running it has risen; below trajectory for
    the fourth quarter running.' Empty when there is nothing to compare."""
    f = measure_facts(series)
    m = series.measure
    parts = []
    if f.change is not None and f.previous_period:
        word = "up" if f.change > EPS else "down" if f.change < -EPS else "unchanged"
        amount = "" if word == "unchanged" else " " + format_gap(m, abs(f.change))
        text = f"{word.capitalize()}{amount} on {period_label(f.previous_period)}"
        run = f.rises or f.falls
        if run > 1:
            text += (f", the {_ordinal(run)} {f.period_word} running it has "
                     f"{'risen' if f.rises else 'fallen'}")
        parts.append(text)
    if f.periods_behind:
        parts.append(f"below trajectory for the {_ordinal(f.periods_behind)} "
                     f"{f.period_word} running" if f.periods_behind > 1 else
                     f"below trajectory this {f.period_word}")
    return "; ".join(parts) + "." if parts else ""


def against_standard(measure: Measure, value: float) -> str:
    """Where a figure stands against the measure's standard (its target), by the same test
    as its RAG: 'meets', '2.8 points below', or 'above' for a measure where lower is better.
    A figure short of the standard is never said to meet it, however small the gap."""
    gap = shortfall(measure, measure.target, value)
    if gap <= EPS:
        return "meets"
    amount = format_gap(measure, gap)
    if not any(c in "123456789" for c in amount):
        amount = "just"  # short by less than the table prints: still short
    return f"{amount} {'below' if measure.direction == 'up' else 'above'}"


def performance_sentence(series: MeasureSeries) -> str:
    """One sentence a secretariat or a report can quote: figure, trajectory, movement."""
    m = series.measure
    p = series.latest_period
    if p is None:
        return f"{m.name}: no figures yet."
    text = f"{m.name}: {format_value(m, series.latest_actual)} in {period_label(p)}"
    if series.latest_planned is not None and series.latest_actual is not None:
        text += (f" against a trajectory of {format_value(m, series.latest_planned)} "
                 f"({gap_words(m, series.latest_planned, series.latest_actual)})")
    more = movement_sentence(series)
    return text + (f". {more}" if more else ".")
