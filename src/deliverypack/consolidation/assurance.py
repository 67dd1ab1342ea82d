"""Assurance flags and the decision sought: computed once per priority and round, shown in
every paper (deck, master, delivery report) beside the judgement they qualify.

A flag never changes the unit's judgement; it tells a reviewer what the judgement must be
read against. The five flags (PRODUCT.md, "Assurance flag"):

  rating-above-data   likelihood G or AG while the data says otherwise: the target date has
                      passed unmet, the forecast misses the target date, or data RAG is R
  no-return           the department sent no accepted return this round; its figures are
                      as of an older month ("as of Jun 2003 — no return")
  partial-coverage    fewer organisations reported the latest period than the register lists
  stale-data          the department returned, but a measure's latest actual is more than
                      one reporting period older than the round (or there is none)
  two-step-move       the likelihood rating moved two or more steps since the last round

`decision_sought` gives each priority's recommendation as one text, so the deck and the
delivery report say the same words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..foundation.domain import RAG_NAMES, Measure, Register
from ..foundation.periods import months_between, period_label
from ..ledger import Ledger
from .rag import format_value, gap_words, meets
from .views import ORDER, MeasureSeries, PrioritySummary, priority_summaries

# code -> the heading a list of flags is grouped under (the master's flags sheet, the docs)
FLAG_TITLES: dict[str, str] = {
    "rating-above-data": "Rating better than the data supports",
    "no-return": "No return this round",
    "partial-coverage": "Partial coverage of organisations",
    "stale-data": "Stale data",
    "two-step-move": "Rating moved two steps",
}


@dataclass(frozen=True)
class Flag:
    """One fact a reviewer must see beside a judgement."""

    code: str  # a key of FLAG_TITLES
    label: str  # a few words for a table cell: "as of Jun 2003 — no return"
    text: str  # a plain-English sentence with the figures
    priority_id: str
    measure_id: str = ""

    @property
    def title(self) -> str:
        return FLAG_TITLES[self.code]


@dataclass(frozen=True)
class Coverage:
    """How many of the register's organisations reported a measure's latest period."""

    measure_id: str
    period: str
    reported: int
    expected: int
    missing: tuple[str, ...] = ()  # names of those that did not report

    @property
    def partial(self) -> bool:
        return 0 < self.expected and self.reported < self.expected


@dataclass(frozen=True)
class Recommendation:
    """A priority's decision sought, as one text, and where the words came from."""

    priority_id: str
    text: str
    basis: str  # "the unit's assessment", "the Home Office return", "built from the data"

    @property
    def from_data(self) -> bool:
        return self.basis == "built from the data"


# ----------------------------------------------------------------------------- the flags
def _lower(name: str) -> str:
    """'Patients seen in A&E' -> 'patients seen in A&E': an acronym keeps its capitals."""
    return name[:1].lower() + name[1:] if name[1:2].islower() else name


def _passed_unmet(series: MeasureSeries) -> str | None:
    """'the 4,400 target for Sep 2003 has passed unmet: 5,101 in Dec 2003'."""
    m = series.measure
    if series.round < m.target_period or not series.actual:
        return None
    latest, latest_value = series.latest_period, series.latest_actual
    assert latest is not None and latest_value is not None
    if meets(m, latest_value, m.target):
        return None
    figures = [f"{format_value(m, latest_value)} in {period_label(latest)}"]
    at = series.actual.get(m.target_period)
    if at is not None and meets(m, at, m.target):
        return None  # met on the day; a later slip shows in the data RAG
    if at is not None and m.target_period != latest:
        figures.insert(0, f"{format_value(m, at)} in {period_label(m.target_period)}")
    return (f"the {format_value(m, m.target)} target for {period_label(m.target_period)} "
            f"has passed unmet ({'; '.join(figures)})")


def _forecast_misses(series: MeasureSeries) -> str | None:
    """'on current trend the 150,000 target is met in Jan 2006, after the target date'."""
    m = series.measure
    if series.round >= m.target_period or series.projection.on_time(m) is not False:
        return None
    return series.projection.sentence(m)


def _data_red(series: MeasureSeries) -> str | None:
    if series.rag != "R":
        return None
    m = series.measure
    assert series.latest_period is not None and series.latest_planned is not None
    assert series.latest_actual is not None
    return (f"its data RAG is R ({format_value(m, series.latest_actual)} in "
            f"{period_label(series.latest_period)}, "
            f"{gap_words(m, series.latest_planned, series.latest_actual)})")


def rating_above_data(s: PrioritySummary) -> list[Flag]:
    """G or AG while a measure's own figures say the target is missed or badly off track."""
    rating = s.likelihood
    if rating not in ("G", "AG"):
        return []
    out = []
    for series in s.series:
        found = [(short, r) for short, r in (("target missed", _passed_unmet(series)),
                                             ("forecast late", _forecast_misses(series)),
                                             ("data RAG R", _data_red(series))) if r]
        reasons = [r for _, r in found]
        if found:
            out.append(Flag(
                "rating-above-data", f"{rating}, but {', '.join(w for w, _ in found)}",
                f"Likelihood rated {RAG_NAMES[rating]}, but for {_lower(series.measure.name)} "
                f"{'; and '.join(reasons)}.", s.priority.id, series.measure.id))
    return out


def no_return(s: PrioritySummary, department_name: str, round_label: str) -> list[Flag]:
    """The department sent nothing this round: say how old its figures are."""
    latest = [x.latest_period for x in s.series if x.latest_period]
    as_of = period_label(max(latest)) if latest else "no figures"
    label = f"as of {as_of} — no return" if latest else "no return, no figures"
    return [Flag("no-return", label,
                 f"{department_name} sent no return for {round_label}: the figures shown are "
                 f"as of {as_of}" + ("" if latest else " (none yet)") + ".", s.priority.id)]


def stale_data(s: PrioritySummary) -> list[Flag]:
    """A measure whose latest actual is more than one reporting period behind the round."""
    out = []
    for series in s.series:
        m = series.measure
        step = 3 if m.frequency == "quarterly" else 1
        if series.latest_period is None:
            out.append(Flag("stale-data", "no figures yet",
                            f"No actual has been returned for {_lower(m.name)}.",
                            s.priority.id, m.id))
            continue
        lag = months_between(series.latest_period, series.round)
        if lag > step:
            out.append(Flag(
                "stale-data", f"as of {period_label(series.latest_period)}",
                f"The latest figure for {_lower(m.name)} is for "
                f"{period_label(series.latest_period)}, {lag} months before the round "
                f"({period_label(series.round)}).", s.priority.id, m.id))
    return out


def partial_coverage(s: PrioritySummary, coverage: Mapping[str, Coverage],
                     kind_of: Mapping[str, str]) -> list[Flag]:
    out = []
    for series in s.series:
        c = coverage.get(series.measure.id)
        if c is None or not c.partial:
            continue
        kind = kind_of.get(series.measure.id) or "organisation"
        names = ", ".join(c.missing[:3]) + (f" and {len(c.missing) - 3} more"
                                            if len(c.missing) > 3 else "")
        out.append(Flag(
            "partial-coverage", f"{c.reported} of {c.expected} {kind}s",
            f"{period_label(c.period)} figures for {_lower(series.measure.name)} cover "
            f"{c.reported} of {c.expected} {kind}s" + (f"; missing: {names}" if names else "")
            + ".", s.priority.id, series.measure.id))
    return out


def two_step_move(s: PrioritySummary, last_label: str = "the last round") -> list[Flag]:
    last, now = s.likelihood_last, s.likelihood
    if last not in ORDER or now not in ORDER:
        return []
    assert last is not None and now is not None
    steps = ORDER[now] - ORDER[last]
    if abs(steps) < 2:
        return []
    way = "up" if steps > 0 else "down"
    return [Flag("two-step-move", f"moved {abs(steps)} steps: {last} to {now}",
                 f"Likelihood moved {abs(steps)} steps {way}, from {RAG_NAMES[last]} in "
                 f"{last_label} to {RAG_NAMES[now]}: the reason should be on the record.",
                 s.priority.id)]


def priority_flags(s: PrioritySummary, *, returned: bool, department_name: str,
                   round_label: str, last_label: str = "the last round",
                   coverage: Mapping[str, Coverage] | None = None,
                   kind_of: Mapping[str, str] | None = None) -> list[Flag]:
    """Every flag for one priority in one round, in a fixed order."""
    flags = rating_above_data(s)
    flags += [] if returned else no_return(s, department_name, round_label)
    flags += partial_coverage(s, coverage or {}, kind_of or {})
    if returned:  # a missing return already says how old the figures are
        flags += stale_data(s)
    flags += two_step_move(s, last_label)
    return flags


# ----------------------------------------------------------------------------- from the ledger
def returned_departments(led: Ledger, round_id: str) -> set[str]:
    """Departments with a return that counts for the round (accepted, signed off)."""
    from ..ledger.signoff import counts

    return {r["department"] for r in led.query(
        "SELECT DISTINCT s.department FROM submissions s WHERE s.kind='return' AND "
        f"s.round=? AND {counts(led.db)}", round_id)}


def coverage_of(reg: Register, led: Ledger, measure: Measure, round_id: str
                ) -> Coverage | None:
    """Organisations reporting the latest period of a measure broken down by organisation,
    against those the register lists (None for a measure without a breakdown)."""
    if not measure.breakdown and measure.returned_by != "organisation":
        return None
    expected = reg.organisations_for(measure)
    periods = led.org_periods(measure.id, round_id, last=1)
    if not expected or not periods:
        return None
    reported = {r["org_id"] for r in led.org_values(measure.id, periods, round_id)
                if r["field"] == "actual" and r["value"] is not None}
    missing = tuple(o.name for o in expected if o.id not in reported)
    return Coverage(measure.id, periods[0], len(expected) - len(missing), len(expected),
                    missing)


def assurance_flags(reg: Register, led: Ledger, round_id: str,
                    summaries: Iterable[PrioritySummary] | None = None
                    ) -> dict[str, list[Flag]]:
    """Flags by priority id, for the round: the one place papers read them from."""
    summaries = list(summaries if summaries is not None
                     else priority_summaries(reg, led, round_id))
    returned = returned_departments(led, round_id)
    prev = reg.previous_round(round_id)
    label = reg.round(round_id).label
    coverage: dict[str, Coverage] = {}
    kind_of: dict[str, str] = {}
    for s in summaries:
        for series in s.series:
            c = coverage_of(reg, led, series.measure, round_id)
            if c is not None:
                coverage[series.measure.id] = c
                kind_of[series.measure.id] = series.measure.breakdown or "organisation"
    out: dict[str, list[Flag]] = {}
    for s in summaries:
        dept = s.priority.department_id
        out[s.priority.id] = priority_flags(
            s, returned=dept in returned, department_name=reg.department(dept).name,
            round_label=label, last_label=prev.label if prev else "the last round",
            coverage=coverage, kind_of=kind_of)
    return out


# ----------------------------------------------------------------------------- decision sought
@dataclass
class PriorityTexts:
    """What the round's papers say about one priority, from the returns and the unit."""

    decisions: list[str] = field(default_factory=list)  # the return's decisions sought
    unit_view: str = ""  # the unit's narrative in its assessment workbook
    department_name: str = ""


def decision_sought(s: PrioritySummary, texts: PriorityTexts,
                    flags: list[Flag] | None = None) -> Recommendation:
    """The one recommendation for a priority. The unit's view leads where it judges
    delivery at risk (AR or R) and says what it recommends; otherwise the department's own
    decisions sought; with neither, a sentence built from the rating and the flags, marked
    as built from the data."""
    pid = s.priority.id
    at_risk = s.likelihood in ("AR", "R")
    view = " ".join(texts.unit_view.split())
    if at_risk and "recommend" in view.lower():
        return Recommendation(pid, view, "the unit's assessment")
    decisions = [" ".join(d.split()) for d in texts.decisions if d and d.strip()]
    if decisions:
        who = f"the {texts.department_name} return" if texts.department_name else "the return"
        return Recommendation(pid, " ".join(_sentence(d) for d in decisions), who)
    flags = flags or []
    if at_risk:
        why = f"likelihood rated {RAG_NAMES[s.likelihood or 'R']}"
    elif any(f.code == "rating-above-data" for f in flags):
        why = "the rating is better than the data support"
    elif any(f.code == "no-return" for f in flags):
        return Recommendation(pid, f"Ask {texts.department_name or 'the department'} for "
                                   "its overdue return before the next stocktake.",
                              "built from the data")
    else:
        return Recommendation(pid, "No decision sought: note progress.",
                              "built from the data")
    return Recommendation(pid, f"Agree a priority review: {why}.", "built from the data")


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


def decisions_sought(reg: Register, led: Ledger, round_id: str,
                     summaries: Iterable[PrioritySummary] | None = None,
                     flags: Mapping[str, list[Flag]] | None = None
                     ) -> dict[str, Recommendation]:
    """Each priority's recommendation for the round, by priority id."""
    summaries = list(summaries if summaries is not None
                     else priority_summaries(reg, led, round_id))
    if flags is None:
        flags = assurance_flags(reg, led, round_id, summaries)
    texts: dict[str, PriorityTexts] = {}
    for s in summaries:
        texts[s.priority.id] = PriorityTexts(
            department_name=reg.department(s.priority.department_id).name)
    for t in led.texts(round_id):
        pt = texts.get(t["priority_id"])
        if pt is None:
            continue
        if t["kind"] == "decision":
            pt.decisions.append(t["text"])
        elif t["kind"] == "unit_narrative":
            pt.unit_view = t["text"]
    return {s.priority.id: decision_sought(s, texts[s.priority.id], flags.get(s.priority.id))
            for s in summaries}
