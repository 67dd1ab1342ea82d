"""Plain view models drawn from the ledger: the same numbers for master, deck and reports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..foundation.domain import FRAMEWORK, Measure, Priority, Register
from ..foundation.periods import period_label
from ..ledger import Ledger
from ..ledger.signoff import awaiting_signoff, counting, pending, pending_note
from .rag import Forecast, data_rag, forecast, format_value, gap_words


@dataclass
class Source:
    """Where a number came from: the return file, sheet and cell, and its round."""

    department: str
    file: str
    sheet: str
    cell: str
    round: str

    def text(self) -> str:
        return f"{self.department} return {self.file}, sheet '{self.sheet}', cell {self.cell} " \
               f"(round {self.round})"


@dataclass
class Revision:
    """A figure a department restated in a later return: the papers show the revised
    figure and say so, with what it was, why, and where it was typed."""

    period: str
    was: float
    now: float
    reason: str
    source: Source

    def text(self, measure: Measure) -> str:
        """'Jun 2003 revised from 91.0% to 89.4%: reason'."""
        return (f"{period_label(self.period)} revised from {format_value(measure, self.was)}"
                f" to {format_value(measure, self.now)}: {self.reason}")


@dataclass
class MeasureSeries:
    measure: Measure
    planned: dict[str, float]
    actual: dict[str, float]
    sources: dict[str, Source]
    projection: Forecast
    round: str
    # the department's own forecast, as typed in its returns (latest round counts)
    theirs: dict[str, float] = field(default_factory=dict)
    # figures restated in later returns, oldest month first (the actual holds the revision)
    revisions: list[Revision] = field(default_factory=list)

    @property
    def latest_period(self) -> str | None:
        return max(self.actual) if self.actual else None

    @property
    def latest_actual(self) -> float | None:
        p = self.latest_period
        return self.actual[p] if p else None

    @property
    def latest_planned(self) -> float | None:
        p = self.latest_period
        return self.planned.get(p) if p else None

    @property
    def rag(self) -> str | None:
        return data_rag(self.measure, self.latest_planned, self.latest_actual)

    @property
    def periods(self) -> list[str]:
        return sorted(set(self.planned) | set(self.actual) | set(self.projection.values)
                      | set(self.theirs))

    def headline(self) -> str:
        """'Actual 94.1% in Nov 2003 against a trajectory of 95.0%: off track by 0.9 points;
        on current trend the 98% target is met in Jun 2004'."""
        m, p = self.measure, self.latest_period
        if p is None:
            return f"No actual yet for {m.name.lower()}."
        a, pl = self.latest_actual, self.latest_planned
        text = f"Actual {format_value(m, a)} in {period_label(p)}"
        if pl is not None and a is not None:
            text += f" against a trajectory of {format_value(m, pl)}: {gap_words(m, pl, a)}"
        return text + f"; {self.projection.sentence(m)}."


def measure_series(reg: Register, led: Ledger, measure: Measure, round_id: str,
                   actual_rows: dict | None = None,
                   forecast_rows: dict | None = None) -> MeasureSeries:
    if measure.returned_by == "organisation":
        return _pooled_series(reg, led, measure, round_id)
    rows = actual_rows if actual_rows is not None else led.latest_values(
        "actual", round_upto=round_id)
    theirs_rows = forecast_rows if forecast_rows is not None else led.latest_values(
        "forecast", round_upto=round_id)
    actual: dict[str, float] = {}
    sources: dict[str, Source] = {}
    for (mid, org, period), r in rows.items():
        if mid != measure.id or org or r["value"] is None or period > round_id:
            continue
        actual[period] = r["value"]
        sources[period] = Source(r["department"], r["file_name"], r["sheet"], r["cell"],
                                 r["round"])
    theirs = {period: r["value"] for (mid, org, period), r in theirs_rows.items()
              if mid == measure.id and not org and r["value"] is not None
              and period not in actual}
    revisions = apply_revisions(led, measure, round_id, actual, sources)
    return MeasureSeries(measure=measure, planned=reg.trajectory(measure.id), actual=actual,
                         sources=sources, projection=forecast(measure, actual), round=round_id,
                         theirs=theirs, revisions=revisions)


def apply_revisions(led: Ledger, measure: Measure, round_id: str, actual: dict[str, float],
                    sources: dict[str, Source]) -> list[Revision]:
    """Put each month's latest revision (from current returns up to the round) in place of
    the figure first returned, in `actual` and `sources`, and list what changed."""
    rows = led.query(
        "SELECT v.*, s.department, s.file_name, s.round FROM revisions v JOIN submissions s "
        "ON s.id=v.submission_id WHERE s.status='accepted' AND s.superseded_by IS NULL "
        "AND v.measure_id=? AND v.org_id='' AND s.round<=? ORDER BY s.round, s.id",
        measure.id, round_id)
    out: dict[str, Revision] = {}
    for r in rows:
        p = r["period"]
        if p not in actual or p > round_id:
            continue  # a revision of a month never returned is kept, not drawn
        was = out[p].was if p in out else actual[p]
        src = Source(r["department"], r["file_name"], r["sheet"], r["cell"], r["round"])
        actual[p], sources[p] = r["value"], src
        out[p] = Revision(p, was, r["value"], r["reason"], src)
    return [out[p] for p in sorted(out) if abs(out[p].now - out[p].was) > 1e-12]


def _pooled_series(reg: Register, led: Ledger, measure: Measure, round_id: str
                   ) -> MeasureSeries:
    """A measure each organisation returns itself: the national figure is pooled from the
    organisations' returns (numerators over denominators, or the mean of their values)."""
    sums: dict[str, dict[str, tuple[float, int]]] = {}
    for r in led.pooled(measure.id, round_id):
        sums.setdefault(r["period"], {})[r["field"]] = (r["total"], r["n"])
    count = {p: f["actual"][1] for p, f in sums.items() if "actual" in f}
    actual = {}
    for p, f in sums.items():
        if measure.has_denominator and f.get("denominator", (0, 0))[0]:
            actual[p] = 100.0 * f["numerator"][0] / f["denominator"][0]
        elif "actual" in f:
            actual[p] = f["actual"][0] / f["actual"][1]
    sources = {p: Source("organisations", f"{count[p]} organisation returns", "pooled", "-",
                         round_id) for p in actual}
    return MeasureSeries(measure=measure, planned=reg.trajectory(measure.id), actual=actual,
                         sources=sources, projection=forecast(measure, actual), round=round_id)


@dataclass
class PrioritySummary:
    priority: Priority
    department: str
    unit_now: dict[str, str] = field(default_factory=dict)
    unit_last: dict[str, str] = field(default_factory=dict)
    self_now: dict[str, str] = field(default_factory=dict)
    series: list[MeasureSeries] = field(default_factory=list)
    next_milestone: str = ""

    @property
    def likelihood(self) -> str | None:
        return self.unit_now.get("likelihood") or self.self_now.get("likelihood")

    @property
    def likelihood_last(self) -> str | None:
        return self.unit_last.get("likelihood")

    @property
    def movement(self) -> str:
        return movement(self.likelihood_last, self.likelihood)

    @property
    def data_rag(self) -> str | None:
        """The worst data RAG across the priority's measures."""
        rags = [s.rag for s in self.series if s.rag]
        order = ["G", "AG", "AR", "R"]
        return max(rags, key=order.index) if rags else None


ORDER = {"R": 0, "AR": 1, "AG": 2, "G": 3}


def movement(last: str | None, now: str | None) -> str:
    """↑ improved, ↓ worse, → unchanged, 'new' with nothing to compare."""
    if not last or not now or last not in ORDER or now not in ORDER:
        return "new" if now else ""
    d = ORDER[now] - ORDER[last]
    return "↑" if d > 0 else "↓" if d < 0 else "→"


def priority_summaries(reg: Register, led: Ledger, round_id: str) -> list[PrioritySummary]:
    prev = reg.previous_round(round_id)
    unit_now = led.ratings(round_id, "unit")
    unit_last = led.ratings(prev.id, "unit") if prev else {}
    self_now = led.ratings(round_id, "self")
    actual_rows = led.latest_values("actual", round_upto=round_id)
    forecast_rows = led.latest_values("forecast", round_upto=round_id)
    updates = led.milestone_updates(round_id)
    out = []
    for pr in reg.priorities:
        s = PrioritySummary(priority=pr, department=pr.department_id)
        for dim, _ in FRAMEWORK:
            if (pr.id, dim) in unit_now:
                s.unit_now[dim] = unit_now[(pr.id, dim)]["value"]
            if (pr.id, dim) in unit_last:
                s.unit_last[dim] = unit_last[(pr.id, dim)]["value"]
            if (pr.id, dim) in self_now:
                s.self_now[dim] = self_now[(pr.id, dim)]["value"]
        s.series = [measure_series(reg, led, m, round_id, actual_rows, forecast_rows)
                    for m in reg.measures_of(pr.id)]
        s.next_milestone = next_milestone(reg, updates, pr.id)
        out.append(s)
    return out


def next_milestone(reg: Register, updates: dict, priority_id: str) -> str:
    """The earliest milestone not yet complete: title, date (forecast if given) and status."""
    pending = []
    for ms in reg.milestones_of(priority_id):
        u = updates.get(ms.id)
        status = u["status"] if u else "no update"
        if status == "Complete":
            continue
        when = u["forecast"] if u and u["forecast"] else ms.due.isoformat()
        pending.append((when, ms, status))
    if not pending:
        return ""
    when, ms, status = min(pending, key=lambda x: x[0])
    day = dt.date.fromisoformat(when[:10])
    slip = " (forecast after due)" if day > ms.due else ""
    return f"{ms.title}: {day:%d %b %Y}, {status}{slip}"


def evidence_text(series: list[MeasureSeries]) -> str:
    """One line per measure for the unit's assessment workbook."""
    return " ".join(
        f"{s.measure.id}: {s.headline()} Data RAG {s.rag or '–'}." for s in series)


@dataclass
class ReturnStatus:
    """One department's position in a round: for the chasing list."""

    department: str
    name: str
    round: str
    status: str  # accepted, awaiting sign-off, rejected, not returned
    late: bool = False
    attempts: int = 0
    file: str = ""
    sha256: str = ""
    received_at: str = ""
    problems: list[str] = field(default_factory=list)


class Sender(Protocol):
    """What `settle` fills in: a department's or an organisation's state in a round."""

    status: str
    late: bool
    file: str
    sha256: str
    received_at: str
    problems: list[str]


def settle(st: Sender, led: Ledger, mine: list[Any], awaiting: set[int]) -> None:
    """Where one sender's submissions for a round leave it: the one awaiting sign-off, else
    the one that counts, else the last sent; with its file, lateness and errors. One rule for
    departments' and organisations' returns."""
    waiting, counted = pending(mine, awaiting), counting(mine, awaiting)
    latest = waiting or counted or (mine[-1] if mine else None)
    if latest is None:
        return
    st.status = latest["status"]
    st.late = any(s["late"] for s in mine)
    st.file, st.sha256 = latest["file_name"], latest["sha256"]
    st.received_at = latest["received_at"]
    if waiting is not None:
        st.status, st.problems = "awaiting sign-off", [pending_note(waiting, counted)]
    if latest["status"] == "rejected":
        st.problems = [f"Sheet '{i['sheet']}', cell {i['cell']}: {i['message']}"
                       if i["cell"] else i["message"]
                       for i in led.issues_of(latest["id"]) if i["severity"] == "error"]


def returns_status(reg: Register, led: Ledger, round_id: str) -> list[ReturnStatus]:
    subs = [s for s in led.submissions(round_id) if s["kind"] == "return"]
    awaiting = awaiting_signoff(led.db)
    out = []
    for d in reg.departments:
        if not reg.priorities_of(d.id):
            continue
        mine = [s for s in subs if s["department"] == d.id]
        st = ReturnStatus(department=d.id, name=d.name, round=round_id,
                          status="not returned", attempts=len(mine))
        settle(st, led, mine, awaiting)
        out.append(st)
    return out
