"""The delivery unit's programme, in the words of the seed slides.

Plain pydantic models: the register reads into them, templates and outputs read from them.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

RAG = ["G", "AG", "AR", "R"]
RAG_NAMES = {"G": "Green", "AG": "Amber/Green", "AR": "Amber/Red", "R": "Red"}
CHALLENGE = ["L", "M", "H", "VH"]
STAGES = ["1", "2", "3", "4"]
MILESTONE_STATUS = ["Not started", "On track", "At risk", "Delayed", "Complete"]
ACTION_STATUS = ["open", "in progress", "done", "dropped"]
RISK_LEVELS = ["H", "M", "L"]
ISSUE_KINDS = ["Issue", "Decision sought"]

# The delivery assessment framework, as in the seed's six-monthly report table.
FRAMEWORK = [
    ("challenge", "Degree of challenge"),
    ("quality", "Quality of planning, implementation and performance"),
    ("capacity", "Capacity to drive progress"),
    ("stage", "Stage of delivery"),
    ("likelihood", "Likelihood of delivery"),
]
FRAMEWORK_SHORT = {
    "challenge": "Degree of challenge",
    "quality": "Quality of planning",
    "capacity": "Capacity to drive progress",
    "stage": "Stage of delivery",
    "likelihood": "Likelihood of delivery",
}


def allowed_for(dimension: str) -> list[str]:
    """The scale a framework dimension is rated on."""
    return {"challenge": CHALLENGE, "stage": STAGES}.get(dimension, RAG)


class Department(BaseModel):
    id: str
    name: str
    contact: str = ""


class Organisation(BaseModel):
    """A frontline body reported on in a league table: a trust, a school, a local authority."""

    id: str
    name: str
    kind: str
    department_id: str
    # the people it serves: a count it returns is ranked and rated as a rate per 100,000
    population: float | None = None


class Priority(BaseModel):
    id: str
    department_id: str
    title: str
    short_title: str = ""
    lead: str = ""
    target_statement: str = ""

    @property
    def short(self) -> str:
        return self.short_title or self.title


class Measure(BaseModel):
    id: str
    priority_id: str
    name: str
    unit: Literal["count", "percent", "points", "rate", "gbp"]
    direction: Literal["up", "down"]
    frequency: Literal["monthly", "quarterly"] = "monthly"
    baseline: float | None = None
    baseline_period: str | None = None
    target: float
    target_period: str
    tolerance_ag: float = 0.0  # shortfall against trajectory still rated AG (measure units)
    tolerance_ar: float = 0.0  # shortfall still rated AR; beyond it, R
    plausible_min: float | None = None  # for the national figure (the trajectory's level)
    plausible_max: float | None = None
    # for one organisation's figure; the national range never applies to an organisation
    org_plausible_min: float | None = None
    org_plausible_max: float | None = None
    breakdown: str = ""  # organisation kind this measure is reported by, e.g. "trust"
    returned_by: Literal["department", "organisation"] = "department"
    numerator_label: str = ""
    denominator_label: str = ""
    source: str = ""

    @property
    def has_denominator(self) -> bool:
        return bool(self.denominator_label)

    @property
    def unit_label(self) -> str:
        return {"count": "", "percent": "%", "points": "percentage points", "rate": "rate",
                "gbp": "£"}[self.unit]


class TrajectoryPoint(BaseModel):
    measure_id: str
    period: str
    planned: float


class Milestone(BaseModel):
    id: str
    priority_id: str
    title: str
    due: dt.date


class TaskForce(BaseModel):
    id: str
    name: str
    chair: str
    terms_of_reference: str = ""
    cycle_weeks: int = 6
    priorities: list[str] = Field(default_factory=list)
    protective_marking: str = ""


class Member(BaseModel):
    taskforce_id: str
    name: str
    role: str
    organisation: str = ""
    kind: Literal["minister", "official", "secretariat"] = "official"


class Round(BaseModel):
    """A reporting period, e.g. 2003-12, with the date returns are due."""

    id: str
    label: str
    due: dt.date
    six_monthly: bool = True


class Register(BaseModel):
    """The unit's programme: everything a round needs to know before any return arrives."""

    programme: str = "Delivery programme"
    departments: list[Department] = Field(default_factory=list)
    priorities: list[Priority] = Field(default_factory=list)
    measures: list[Measure] = Field(default_factory=list)
    trajectories: list[TrajectoryPoint] = Field(default_factory=list)
    milestones: list[Milestone] = Field(default_factory=list)
    organisations: list[Organisation] = Field(default_factory=list)
    taskforces: list[TaskForce] = Field(default_factory=list)
    members: list[Member] = Field(default_factory=list)
    rounds: list[Round] = Field(default_factory=list)

    def department(self, dept_id: str) -> Department:
        return next(d for d in self.departments if d.id == dept_id)

    def priority(self, pid: str) -> Priority:
        return next(p for p in self.priorities if p.id == pid)

    def measure(self, mid: str) -> Measure:
        return next(m for m in self.measures if m.id == mid)

    def round(self, rid: str) -> Round:
        return next(r for r in self.rounds if r.id == rid)

    def organisation(self, oid: str) -> Organisation:
        index = getattr(self, "_orgs_by_id", None)
        if index is None or len(index) != len(self.organisations):  # built once, on first use
            index = {o.id: o for o in self.organisations}
            object.__setattr__(self, "_orgs_by_id", index)
        return index[oid]

    def taskforce(self, tid: str) -> TaskForce:
        return next(t for t in self.taskforces if t.id == tid)

    def priorities_of(self, dept_id: str) -> list[Priority]:
        return [p for p in self.priorities if p.department_id == dept_id]

    def measures_of(self, pid: str) -> list[Measure]:
        return [m for m in self.measures if m.priority_id == pid]

    def milestones_of(self, pid: str) -> list[Milestone]:
        return [m for m in self.milestones if m.priority_id == pid]

    def trajectory(self, mid: str) -> dict[str, float]:
        return {t.period: t.planned for t in self.trajectories if t.measure_id == mid}

    def organisations_for(self, measure: Measure) -> list[Organisation]:
        dept = self.priority(measure.priority_id).department_id
        return [o for o in self.organisations
                if o.kind == measure.breakdown and o.department_id == dept]

    def members_of(self, tid: str) -> list[Member]:
        return [m for m in self.members if m.taskforce_id == tid]

    def previous_round(self, rid: str) -> Round | None:
        ids = sorted(r.id for r in self.rounds)
        i = ids.index(rid)
        return self.round(ids[i - 1]) if i > 0 else None

    def round_window(self, rid: str) -> list[str]:
        """Periods whose actuals are due in round `rid`: after the previous round, up to it."""
        from .periods import add_months, period_range

        prev = self.previous_round(rid)
        periods = sorted({t.period for t in self.trajectories})
        start = add_months(prev.id, 1) if prev else (periods[0] if periods else rid)
        return period_range(start, rid)

    def department_of_measure(self, mid: str) -> str:
        return self.priority(self.measure(mid).priority_id).department_id
