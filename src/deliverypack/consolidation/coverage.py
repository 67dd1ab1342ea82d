"""Organisations in collection: who has returned, and how much of each measure a figure built
from organisations' returns covers.

`coverage()` is the one source for "14 of 15 trusts": the status command, the returns log,
and any paper that shows a national figure pooled from organisations (which must be marked
partial when one is missing) read it from here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..foundation.domain import Measure, Register
from ..foundation.periods import period_label
from ..ledger import Ledger
from ..ledger.signoff import awaiting_signoff, counts
from .views import settle


@dataclass
class Coverage:
    """Organisations expected and returned for one measure and period."""

    measure_id: str
    period: str
    kind: str  # the organisation kind: trust, school, board
    expected: list[str]
    returned: list[str]
    unavailable: dict[str, str] = field(default_factory=dict)  # org -> reason given

    @property
    def missing(self) -> list[str]:
        got = set(self.returned)
        return [o for o in self.expected if o not in got]

    @property
    def partial(self) -> bool:
        return bool(self.missing)

    def text(self) -> str:
        """'14 of 15 trusts' (and how many said 'not yet available')."""
        kinds = f"{self.kind}s" if len(self.expected) != 1 else self.kind
        out = f"{len(self.returned)} of {len(self.expected)} {kinds}"
        if self.unavailable:
            out += f" ({len(self.unavailable)} not yet available)"
        return out


def org_measures(reg: Register) -> list[Measure]:
    """Measures broken down by organisation (returned by them or by their department)."""
    return [m for m in reg.measures if m.breakdown]


def coverage(reg: Register, led: Ledger, round_id: str) -> dict[tuple[str, str], Coverage]:
    """{(measure, period): Coverage} for every measure with a breakdown and each period of
    the round's window: which organisations have a current, accepted actual."""
    window = set(reg.round_window(round_id))
    got: dict[tuple[str, str], set[str]] = {}
    for r in led.query(
            "SELECT DISTINCT v.measure_id, v.period, v.org_id FROM measure_values v JOIN "
            f"submissions s ON s.id=v.submission_id WHERE {counts(led.db)} AND "
            "v.org_id<>'' AND v.field='actual' AND s.round<=?",
            round_id):
        got.setdefault((r["measure_id"], r["period"]), set()).add(r["org_id"])
    unavailable: dict[tuple[str, str], dict[str, str]] = {}
    for r in led.query(
            "SELECT t.text, t.extra FROM texts t JOIN submissions s ON s.id=t.submission_id "
            f"WHERE {counts(led.db)} AND t.kind='unavailable' AND s.round<=?", round_id):
        extra = json.loads(r["extra"])
        unavailable.setdefault((extra["measure"], extra["period"]), {})[extra["org"]] = \
            r["text"]
    out = {}
    for m in org_measures(reg):
        expected = [o.id for o in reg.organisations_for(m)]
        for p in sorted(reg.trajectory(m.id)):
            if p not in window:
                continue
            have = got.get((m.id, p), set())
            out[(m.id, p)] = Coverage(m.id, p, m.breakdown, expected,
                                      [o for o in expected if o in have],
                                      unavailable.get((m.id, p), {}))
    return out


@dataclass
class OrgStatus:
    """One organisation's return in a round: for the chasing list."""

    organisation: str
    name: str
    kind: str
    department: str
    round: str
    status: str  # accepted, awaiting sign-off, rejected, not returned
    late: bool = False
    attempts: int = 0
    file: str = ""
    sha256: str = ""
    received_at: str = ""
    problems: list[str] = field(default_factory=list)


def organisation_status(reg: Register, led: Ledger, round_id: str) -> list[OrgStatus]:
    """Every organisation that returns a measure itself: received, late, rejected or not."""
    kinds = {(m.breakdown, reg.department_of_measure(m.id)) for m in reg.measures
             if m.returned_by == "organisation" and m.breakdown}
    subs = [s for s in led.submissions(round_id) if s["kind"] == "org_return"]
    awaiting = awaiting_signoff(led.db)
    out = []
    for o in reg.organisations:
        if (o.kind, o.department_id) not in kinds:
            continue
        mine = [s for s in subs if s["department"] == o.id]
        st = OrgStatus(o.id, o.name, o.kind, o.department_id, round_id, "not returned",
                       attempts=len(mine))
        settle(st, led, mine, awaiting)
        out.append(st)
    return out


def collection_json(reg: Register, led: Ledger, round_id: str) -> dict:
    """What `status --json` (and the service's status API) says of organisations in a round:
    each organisation's return, and each measure's coverage of organisations."""
    return {"returns": [o.__dict__ for o in organisation_status(reg, led, round_id)],
            "coverage": [{"measure": c.measure_id, "period": c.period, "summary": c.text(),
                          "partial": c.partial, "returned": c.returned, "missing": c.missing,
                          "not_yet_available": c.unavailable}
                         for c in coverage(reg, led, round_id).values()]}


def coverage_lines(reg: Register, led: Ledger, round_id: str) -> list[str]:
    """One line per measure and period: 'AE4 Dec 2002: 14 of 15 trusts; missing RF4'."""
    lines = []
    for (mid, period), c in sorted(coverage(reg, led, round_id).items()):
        line = f"{mid} {period_label(period)}: {c.text()}"
        if c.partial:
            line += "; partial, missing " + ", ".join(c.missing[:10]) + (
                f" and {len(c.missing) - 10} more" if len(c.missing) > 10 else "")
        lines.append(line)
    return lines
