"""The one cell map: what each generated workbook holds, declared once.

A WorkbookSpec lists sheets; a sheet lists blocks; a block is a table read and written
through an Excel defined name over its data rows, so reading never depends on fixed cell
addresses (rows inserted inside a table are tolerated). The writer (`build`) draws the spec;
the reader (`validation.checks`) reads a return back through the same spec, which is kept in
the ledger when the template is issued, so the two cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field, model_serializer, model_validator

from ..foundation.domain import (
    ACTION_STATUS,
    FRAMEWORK,
    ISSUE_KINDS,
    MILESTONE_STATUS,
    RISK_LEVELS,
    Measure,
    Register,
    allowed_for,
)
from ..foundation.periods import period_label

TEMPLATE_VERSION = "1.0"

ColumnType = Literal["text", "number", "percent", "int", "date", "period", "code", "rating"]
Role = Literal["key", "locked", "input"]


class ColumnSpec(BaseModel):
    key: str
    header: str
    type: ColumnType = "text"
    role: Role = "input"
    allowed: list[str] = Field(default_factory=list)
    required: bool = False
    width: int = 14
    prompt: str = ""
    minimum: float | None = None
    maximum: float | None = None
    plausible: tuple[float | None, float | None] = (None, None)


class BlockKind(StrEnum):
    """What the rows of a table mean. Valued by the strings specs have always held, so a
    spec stored as JSON (in the ledger, in archive/templates/, in an issued template's
    dp_spec sheet) reads the same, and a kind compares equal to its string."""

    COVER = "cover"
    ASSESS = "assess"
    TRAJ = "traj"
    ORGS = "orgs"
    MILES = "miles"
    ISSUES = "issues"
    RISKS = "risks"
    ASKS = "asks"
    ACTIONS = "actions"
    REVISIONS = "revisions"
    UNIT_ASSESS = "unit_assess"
    DEPT_NARRATIVE = "dept_narrative"
    CHALLENGES = "challenges"
    ATTENDANCE = "attendance"
    AGENDA = "agenda"
    DISCUSSION = "discussion"
    DECISIONS = "decisions"
    NEW_ACTIONS = "new_actions"
    DISTRIBUTION = "distribution"


# a row's overrides as stored: the key of each in a spec's JSON, and the field it fills
_OVERRIDES = (("_input", "inputs"), ("_type", "types"), ("_allowed", "allowed"),
              ("_required", "required"), ("_locked", "locked"))


class SpecRow(BaseModel):
    """One row of a table as issued: its key and locked values by column key, and what this
    row alone changes about its columns (a cell typed in on a locked column, a type, the
    codes allowed, a required cell, a cell locked on an input column).

    Stored in the compact form specs have always used (the values, with each override
    under an '_' key), so JSON written before this model existed loads unchanged and a
    template's id (a hash of its spec) does not move."""

    values: dict[str, Any] = Field(default_factory=dict)
    inputs: list[str] = Field(default_factory=list)
    types: dict[str, str] = Field(default_factory=dict)
    allowed: dict[str, list[str]] = Field(default_factory=dict)
    required: list[str] = Field(default_factory=list)
    locked: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _from_stored(cls, data: Any) -> Any:
        """The stored form ({'field': .., '_input': [..]}) to fields; the model's own form
        ({'values': {..}, 'inputs': [..]}) passes as it is."""
        if isinstance(data, dict) and not ("values" in data and data.keys() <= _FIELDS):
            out: dict[str, Any] = {"values": {k: v for k, v in data.items()
                                              if not k.startswith("_")}}
            for stored, name in _OVERRIDES:
                if stored in data:
                    out[name] = data[stored]
            return out
        return data

    @model_serializer(mode="plain")
    def _to_stored(self) -> dict[str, Any]:
        out = dict(self.values)
        for stored, name in _OVERRIDES:
            if value := getattr(self, name):
                out[stored] = value
        return out

    def get(self, key: str, default: Any = None) -> Any:
        """A column's value on this row (a key or locked cell as issued). An override's
        stored key ('_input') still reads its field, for code written when rows were
        dicts; new code reads the fields."""
        name = _STORED.get(key)
        if name is not None:
            return getattr(self, name) or default
        return self.values.get(key, default)

    def __getitem__(self, key: str) -> Any:
        name = _STORED.get(key)
        return getattr(self, name) if name is not None else self.values[key]

    def __contains__(self, key: object) -> bool:
        return key in self.values

    def with_values(self, **values: Any) -> SpecRow:
        """This row with some values replaced (one organisation's own code and name)."""
        return self.model_copy(update={"values": {**self.values, **values}})


_FIELDS = frozenset(SpecRow.model_fields)
_STORED = dict(_OVERRIDES)
Row = SpecRow | dict[str, Any]  # what the cell_* helpers take: a spec row, or a bare dict


def spec_row(row: Row) -> SpecRow:
    return row if isinstance(row, SpecRow) else SpecRow.model_validate(row)


class BlockSpec(BaseModel):
    """A table: its columns, and the rows the unit pre-fills (keys, locked values and
    per-row overrides, each a SpecRow)."""

    name: str  # the Excel defined name over the data rows
    kind: BlockKind  # what the rows mean
    title: str
    note: str = ""
    columns: list[ColumnSpec]
    rows: list[SpecRow] = Field(default_factory=list)
    free_rows: int = 0  # blank input rows, for lists the department writes (risks, asks)
    meta: dict[str, Any] = Field(default_factory=dict)

    def __init__(self, *, name: str, kind: BlockKind | str, title: str, note: str = "",
                 columns: list[ColumnSpec], rows: Sequence[Row] = (), free_rows: int = 0,
                 meta: dict[str, Any] | None = None) -> None:
        """Rows may be given as SpecRows or in their stored form (dicts), a kind by its
        string: both are read into the typed fields."""
        super().__init__(name=name, kind=kind, title=title, note=note, columns=columns,
                         rows=list(rows), free_rows=free_rows, meta=meta or {})

    def column(self, key: str) -> ColumnSpec:
        return next(c for c in self.columns if c.key == key)

    @property
    def key_columns(self) -> list[ColumnSpec]:
        return [c for c in self.columns if c.role == "key"]


class SheetSpec(BaseModel):
    name: str
    heading: str
    subheading: str = ""
    blocks: list[BlockSpec]


class WorkbookSpec(BaseModel):
    template_id: str
    version: str = TEMPLATE_VERSION
    kind: Literal["return", "org_return", "assessment", "meeting"]
    department: str = ""
    round: str = ""
    title: str
    instructions: list[str]
    sheets: list[SheetSpec]

    def blocks(self) -> Iterator[tuple[SheetSpec, BlockSpec]]:
        for sheet in self.sheets:
            for block in sheet.blocks:
                yield sheet, block


# A row of a block may override its columns (a type, allowed codes, an input or a
# required cell for this row alone); these four read such a row, for the writer and
# the checks alike. A bare dict (a blank row of a list) is read as a row without overrides.
def cell_type(block: BlockSpec, col: ColumnSpec, row: Row) -> str:
    return spec_row(row).types.get(col.key, col.type)


def cell_allowed(block: BlockSpec, col: ColumnSpec, row: Row) -> list[str]:
    return spec_row(row).allowed.get(col.key, col.allowed)


def cell_is_input(col: ColumnSpec, row: Row) -> bool:
    """An input column, unless this row locks it (a milestone already complete)."""
    row = spec_row(row)
    if col.key in row.locked:
        return False
    return col.role == "input" or col.key in row.inputs


def cell_required(col: ColumnSpec, row: Row) -> bool:
    return col.required or col.key in spec_row(row).required


def sheet_title(text: str) -> str:
    """A legal, readable Excel sheet name (31 characters, none of []:*?/\\)."""
    clean = re.sub(r"[\[\]:*?/\\]", " ", text).strip()
    return clean if len(clean) <= 31 else clean[:30].rstrip() + "…"


def template_id(kind: str, who: str, round_id: str) -> str:
    return f"DP-{kind.upper()}-{who}-{round_id}"


def fingerprint(spec: WorkbookSpec) -> WorkbookSpec:
    """Stamp the template id with a hash of what the template holds.

    A template re-issued with other content (say, a later actual pre-filled) gets a new id,
    so a return filled in the earlier one is still read through the spec it was sent with.
    """
    import hashlib

    base = template_id({"org_return": "org"}.get(spec.kind, spec.kind), spec.department,
                       spec.round)
    body = spec.model_copy(update={"template_id": base}).model_dump_json()
    tid = f"{base}-{hashlib.sha256(body.encode()).hexdigest()[:6].upper()}"
    out = spec.model_copy(update={"template_id": tid}, deep=True)
    for _, block in out.blocks():
        if block.kind == BlockKind.COVER:
            for row in block.rows:
                if row["field"] == "Template id":
                    row.values["value"] = tid
    return out


# ----------------------------------------------------------------------------- cover
def cover_input(field: str, value: Any = None, *, type: str | None = None,
                required: bool = False) -> SpecRow:
    """A cover line the department types in (its value cell an input on a locked column),
    blank or with a value they may change."""
    return SpecRow(values={"field": field, "value": value}, inputs=["value"],
                   types={"value": type} if type else {},
                   required=["value"] if required else [])


def cover_block(kind: str, tid: str, who: str, who_name: str, round_id: str,
                extra: Sequence[Row] = (),
                who_label: str = "Department") -> BlockSpec:
    """The cover: template id and version locked, contact and sign-off to fill."""
    rows: list[Row] = [
        {"field": "Template id", "value": tid},
        {"field": "Template version", "value": TEMPLATE_VERSION},
        {"field": "Kind", "value": kind},
        {"field": who_label, "value": who},
        {"field": f"{who_label} name", "value": who_name},
        {"field": "Round", "value": round_id},
    ]
    rows += extra
    rows += [
        cover_input("Contact name", required=True),
        cover_input("Contact email", required=True),
        cover_input("Contact telephone"),
        cover_input("Signed off by (SRO or delegate)", required=True),
        cover_input("Sign-off date", type="date", required=True),
    ]
    return BlockSpec(
        name="dp_cover", kind=BlockKind.COVER, title="About this return",
        columns=[ColumnSpec(key="field", header="Field", role="key", width=34),
                 ColumnSpec(key="value", header="Value", role="locked", width=48,
                            prompt="Type here.")],
        rows=rows)


# ----------------------------------------------------------------------------- return
def _measure_type(m: Measure) -> ColumnType:
    return "percent" if m.unit == "percent" else "number"


def _measure_columns_extra(m: Measure, *, organisation: bool = False) -> dict[str, Any]:
    """Bounds of an actual; the plausible range at the level it was set for (national, or
    one organisation's figure), never the national range on an organisation."""
    plausible = (m.org_plausible_min, m.org_plausible_max) if organisation else \
        (m.plausible_min, m.plausible_max)
    # counts cannot be negative, unless the register says the measure can (a net change)
    negative_ok = any(x is not None and x < 0 for x in (m.plausible_min, m.org_plausible_min))
    lo = 0.0 if m.unit in ("count", "gbp", "rate") and not negative_ok else None
    if m.unit == "points":
        return {"minimum": -100.0, "maximum": 100.0, "plausible": plausible}
    return {"minimum": lo, "plausible": plausible}


def return_spec(reg: Register, dept_id: str, round_id: str, *,
                prev_actuals: dict[tuple[str, str], float] | None = None,
                prev_ratings: dict[tuple[str, str], str] | None = None,
                open_actions: list[dict[str, Any]] | None = None,
                completed: dict[str, dt.date | None] | None = None) -> WorkbookSpec:
    """The department's return for a round, pre-filled from the register and the ledger;
    `completed` milestones (id -> completion date) stay complete, locked."""
    prev_actuals = prev_actuals or {}
    prev_ratings = prev_ratings or {}
    dept = reg.department(dept_id)
    rnd = reg.round(round_id)
    window = set(reg.round_window(round_id))
    tid = template_id("return", dept_id, round_id)
    sheets = [SheetSpec(name="Cover", heading=f"{dept.name}: delivery return, {rnd.label}",
                        subheading=f"Due {rnd.due:%d %B %Y}. Fill the shaded cells only.",
                        blocks=[cover_block("return", tid, dept_id, dept.name, round_id)])]
    for pr in reg.priorities_of(dept_id):
        blocks = [_assessment_block(pr.id, prev_ratings)]
        for m in reg.measures_of(pr.id):
            if m.returned_by == "department":
                blocks.append(_trajectory_block(reg, m, round_id, window, prev_actuals))
            if m.breakdown and m.returned_by == "department":
                periods = [p for p in sorted(reg.trajectory(m.id)) if p in window]
                blocks.append(_organisation_block(reg, m, periods))
        if reg.milestones_of(pr.id):
            blocks.append(_milestone_block(reg, pr.id, completed or {}))
        blocks += _free_blocks(pr.id)
        sheets.append(SheetSpec(
            name=sheet_title(f"{pr.id} {pr.short}"), heading=pr.title,
            subheading=f"Lead: {pr.lead}. Target: {pr.target_statement}", blocks=blocks))
    sheets.append(SheetSpec(
        name="Actions", heading="Actions allocated to your department",
        subheading="Give each open action a status and a short update.",
        blocks=[actions_block(open_actions or [])]))
    own = [m.id for pr in reg.priorities_of(dept_id) for m in reg.measures_of(pr.id)
           if m.returned_by == "department"]
    if own:
        sheets.append(SheetSpec(
            name="Revisions", heading="Revisions of earlier months",
            subheading="A figure restated since you returned it: give the measure, the "
                       "month, the revised value and why. The first figure is kept too.",
            blocks=[revisions_block(own)]))
    return fingerprint(WorkbookSpec(
        template_id=tid, kind="return", department=dept_id, round=round_id,
        title=f"{dept.name} return {rnd.label}", instructions=RETURN_INSTRUCTIONS,
        sheets=sheets))


def organisation_return_spec(reg: Register, kind: str, department_id: str,
                             round_id: str) -> WorkbookSpec:
    """The small return that every organisation of one kind (trusts, schools) in one
    department makes for the measures it returns itself, shared by all of them: the ledger
    holds this one spec per group and round, not one per organisation. Each organisation's
    own workbook is `organisation_spec(shared, org_id)`; the organisations it is issued to
    (code -> name) are kept on its cover."""
    rnd = reg.round(round_id)
    window = set(reg.round_window(round_id))
    orgs = {o.id: o.name for o in reg.organisations
            if o.kind == kind and o.department_id == department_id}
    cover = cover_block("org_return", "", "", "", round_id, who_label="Organisation")
    cover.meta = {ORGANISATIONS: orgs}
    sheets = [SheetSpec(name="Cover", heading=f"{{name}}: monthly return, {rnd.label}",
                        subheading=f"Due {rnd.due:%d %B %Y}. Fill the shaded cells only.",
                        blocks=[cover])]
    for m in reg.measures:
        if m.returned_by != "organisation" or m.breakdown != kind or \
                reg.department_of_measure(m.id) != department_id:
            continue
        periods = [p for p in sorted(reg.trajectory(m.id)) if p in window]
        block = _organisation_block(reg, m, periods, orgs=[_ANY_ORGANISATION])
        block.name = f"dp_{m.id}_org"
        block.kind = BlockKind.ORGS
        block.title = f"{m.name}"
        sheets.append(SheetSpec(name=sheet_title(m.name), heading=m.name,
                                subheading=f"Target {_fmt_target(m)} by "
                                           f"{period_label(m.target_period)}.",
                                blocks=[block]))
    return fingerprint(WorkbookSpec(
        template_id="", kind="org_return", department=department_id, round=round_id,
        title=f"{{name}} return {rnd.label}", instructions=RETURN_INSTRUCTIONS[:3] + [
            RETURN_INSTRUCTIONS[-2], RETURN_INSTRUCTIONS[-1]], sheets=sheets))


ORGANISATIONS = "organisations"  # the shared spec's cover meta: code -> name of each one
ORGANISATION_SEP = "/"  # an organisation's template id: <shared template id>/<its code>


class _AnyOrganisation:
    """The placeholder row owner of a shared organisation return: filled per organisation."""
    id = ""
    name = ""


_ANY_ORGANISATION = _AnyOrganisation()


def organisations_of(spec: WorkbookSpec) -> dict[str, str]:
    """The organisations a shared organisation return is issued to, code -> name."""
    cover = spec.sheets[0].blocks[0] if spec.sheets and spec.sheets[0].blocks else None
    return dict(cover.meta.get(ORGANISATIONS, {})) if cover is not None else {}


def organisation_spec(shared: WorkbookSpec, org_id: str) -> WorkbookSpec | None:
    """One organisation's return, made from the spec its group shares: its own template id,
    code and name on the cover and in every row. None if it was not issued one."""
    name = shared.sheets[0].blocks[0].meta.get(ORGANISATIONS, {}).get(org_id)
    if name is None:
        return None
    tid = f"{shared.template_id}{ORGANISATION_SEP}{org_id}"
    cover_values = {"Template id": tid, "Organisation": org_id, "Organisation name": name}

    def own(block: BlockSpec) -> BlockSpec:
        if block.kind == BlockKind.COVER:
            rows = [r.with_values(value=cover_values.get(r["field"], r["value"]))
                    for r in block.rows]
            return block.model_copy(update={"rows": rows, "meta": {}})
        if block.kind == BlockKind.ORGS:
            return block.model_copy(update={"rows": [r.with_values(org=org_id, name=name)
                                                     for r in block.rows]})
        return block

    sheets = [s.model_copy(update={"heading": s.heading.replace("{name}", name),
                                   "blocks": [own(b) for b in s.blocks]})
              for s in shared.sheets]
    return shared.model_copy(update={"template_id": tid, "department": org_id,
                                     "title": shared.title.replace("{name}", name),
                                     "sheets": sheets})


def _assessment_block(pid: str, prev: dict[tuple[str, str], str]) -> BlockSpec:
    rows = [SpecRow(values={"dimension": label, "code": dim, "last": prev.get((pid, dim)),
                            "now": None},
                    allowed={"now": allowed_for(dim)}, required=["now"])
            for dim, label in FRAMEWORK]
    rows.append(SpecRow(values={"dimension": "Narrative (required when any rating is AR or R)",
                                "code": "narrative", "last": None, "now": None},
                        types={"now": "text"}))
    return BlockSpec(
        name=f"dp_{pid}_assess", kind=BlockKind.ASSESS, title="Self-assessment",
        note="Rate each line; the unit's judgement is made separately and is final.",
        columns=[ColumnSpec(key="dimension", header="Assessment of delivery", role="key",
                            width=44),
                 ColumnSpec(key="code", header="Code", role="locked", width=10),
                 ColumnSpec(key="last", header="Last round", role="locked", width=12),
                 ColumnSpec(key="now", header="This round", type="rating", role="input",
                            width=14,
                            prompt="G, AG, AR or R (challenge L/M/H/VH, stage 1-4).")],
        rows=rows, meta={"priority": pid})


def _trajectory_block(reg: Register, m: Measure, round_id: str, window: set[str],
                      prev_actuals: dict[tuple[str, str], float]) -> BlockSpec:
    typ = _measure_type(m)
    rows = []
    for period, planned in sorted(reg.trajectory(m.id).items()):
        inputs = (["actual", "comment"] if period in window
                  else ["forecast", "comment"] if period > round_id else [])
        rows.append(SpecRow(values={"period": period, "planned": planned,
                                    "actual": prev_actuals.get((m.id, period)),
                                    "forecast": None, "comment": None}, inputs=inputs))
    unit = f" ({m.unit_label})" if m.unit_label else ""
    return BlockSpec(
        name=f"dp_{m.priority_id}_{m.id}_traj", kind=BlockKind.TRAJ,
        title=f"Trajectory: {m.name}{unit}",
        note=(f"Target {_fmt_target(m)} by {period_label(m.target_period)}. "
              "Give actuals for this round's months and your forecast for later months."),
        columns=[ColumnSpec(key="period", header="Month", type="period", role="key", width=12),
                 ColumnSpec(key="planned", header="Planned (trajectory)", type=typ,
                            role="locked", width=16),
                 ColumnSpec(key="actual", header="Actual", type=typ, role="locked", width=14,
                            prompt="The actual for this month.",
                            **_measure_columns_extra(m)),
                 ColumnSpec(key="forecast", header="Forecast", type=typ, role="locked",
                            width=14, prompt="Your forecast for this month.",
                            **_measure_columns_extra(m)),
                 ColumnSpec(key="comment", header="Comment", role="locked", width=50)],
        rows=rows, meta={"priority": m.priority_id, "measure": m.id})


def _fmt_target(m: Measure) -> str:
    return f"{m.target:g}%" if m.unit == "percent" else f"{m.target:,.10g}"


def _organisation_block(reg: Register, m: Measure, periods: list[str],
                        orgs: list | None = None) -> BlockSpec:
    cols = [ColumnSpec(key="org", header="Code", role="key", width=10),
            ColumnSpec(key="name", header="Organisation", role="locked", width=40),
            ColumnSpec(key="period", header="Month", type="period", role="key", width=12)]
    # the figure is required unless the row says why there is none yet (check_organisations)
    if m.has_denominator:
        cols += [ColumnSpec(key="numerator", header=m.numerator_label, type="number",
                            role="input", minimum=0, width=18),
                 ColumnSpec(key="denominator", header=m.denominator_label, type="number",
                            role="input", minimum=0, width=18)]
    else:
        cols.append(ColumnSpec(key="value", header=m.name, type=_measure_type(m),
                               role="input", width=16,
                               **_measure_columns_extra(m, organisation=True)))
    cols.append(ColumnSpec(key="unavailable", header=UNAVAILABLE, role="input", width=30,
                           prompt="No figure yet? Leave the figure empty and say why here."))
    rows = [{"org": o.id, "name": o.name, "period": p}
            for o in (reg.organisations_for(m) if orgs is None else orgs) for p in periods]
    return BlockSpec(
        name=f"dp_{m.priority_id}_{m.id}_orgs", kind=BlockKind.ORGS,
        title=f"By {m.breakdown}: {m.name}",
        note="One row per organisation and month. No figure yet? Say why in the last column.",
        columns=cols, rows=rows, meta={"priority": m.priority_id, "measure": m.id})


UNAVAILABLE = "Not yet available: why"


def _milestone_block(reg: Register, pid: str,
                     completed: dict[str, dt.date | None] | None = None) -> BlockSpec:
    completed = completed or {}
    rows = []
    for ms in reg.milestones_of(pid):
        row = SpecRow(values={"id": ms.id, "title": ms.title, "due": ms.due})
        if ms.id in completed:  # complete in an earlier round: not re-rated every round
            row = SpecRow(values={**row.values, "status": "Complete",
                                  "forecast": completed[ms.id]},
                          locked=["status", "forecast"])
        rows.append(row)
    return BlockSpec(
        name=f"dp_{pid}_miles", kind=BlockKind.MILES, title="Milestones",
        note="Status for every milestone; a forecast date unless it is complete. Milestones "
             "completed in an earlier round stay complete.",
        columns=[ColumnSpec(key="id", header="ID", role="key", width=10),
                 ColumnSpec(key="title", header="Milestone", role="locked", width=44),
                 ColumnSpec(key="due", header="Due", type="date", role="locked", width=12),
                 ColumnSpec(key="status", header="Status", type="code", role="input",
                            allowed=MILESTONE_STATUS, required=True, width=14,
                            prompt="Not started, On track, At risk, Delayed or Complete."),
                 ColumnSpec(key="forecast", header="Forecast date", type="date",
                            role="input", width=14, prompt="When it will be (or was) done."),
                 ColumnSpec(key="comment", header="Comment", role="input", width=40)],
        rows=rows, meta={"priority": pid})


def _free_blocks(pid: str) -> list[BlockSpec]:
    return [
        BlockSpec(name=f"dp_{pid}_issues", kind=BlockKind.ISSUES,
                  title="Issues and decisions sought",
                  note="Top issues, and any decision you need at the stocktake.",
                  columns=[ColumnSpec(key="type", header="Type", type="code", allowed=ISSUE_KINDS,
                                      width=16, prompt="Issue or Decision sought."),
                           ColumnSpec(key="text", header="Description", width=80)],
                  free_rows=4, meta={"priority": pid}),
        BlockSpec(name=f"dp_{pid}_risks", kind=BlockKind.RISKS, title="Risks",
                  columns=[ColumnSpec(key="risk", header="Risk", width=50),
                           ColumnSpec(key="likelihood", header="Likelihood", type="code",
                                      allowed=RISK_LEVELS, width=12, prompt="H, M or L."),
                           ColumnSpec(key="impact", header="Impact", type="code",
                                      allowed=RISK_LEVELS, width=12, prompt="H, M or L."),
                           ColumnSpec(key="mitigation", header="Mitigation", width=50)],
                  free_rows=4, meta={"priority": pid}),
        BlockSpec(name=f"dp_{pid}_asks", kind=BlockKind.ASKS, title="Asks of the centre",
                  note="What the unit, the Cabinet Office or No 10 could do to help.",
                  columns=[ColumnSpec(key="ask", header="Ask", width=80),
                           ColumnSpec(key="of_whom", header="Of whom", width=20)],
                  free_rows=3, meta={"priority": pid}),
    ]


def revisions_block(measures: list[str]) -> BlockSpec:
    """Revisions of months already returned (earlier actuals are locked in the trajectory
    tables): kept as revisions beside the first figure, each with its own sheet and cell."""
    return BlockSpec(
        name="dp_revisions", kind=BlockKind.REVISIONS, title="Revisions",
        note="One row per revised figure, in the measure's unit (a percentage as 82.1).",
        columns=[ColumnSpec(key="measure", header="Measure", type="code", allowed=measures,
                            width=12, prompt="The measure's id."),
                 ColumnSpec(key="period", header="Month", type="date", width=14,
                            prompt="The month revised (any day of it)."),
                 ColumnSpec(key="value", header="Revised value", type="number", width=14,
                            prompt="The revised figure, in the measure's unit."),
                 ColumnSpec(key="reason", header="Reason", width=60,
                            prompt="Why the figure changed.")],
        free_rows=6)


def actions_block(actions: list[Any], *, name: str = "dp_actions",
                  title: str = "Open actions",
                  note: str = "Actions from stocktakes and task forces; update every one."
                  ) -> BlockSpec:
    """Open actions to update: in a department's return and in a meeting record alike."""
    rows = [{"id": a["id"], "description": a["description"], "owner": a["owner"],
             "due": dt.date.fromisoformat(a["due"]) if isinstance(a["due"], str) else a["due"]}
            for a in actions]
    return BlockSpec(
        name=name, kind=BlockKind.ACTIONS, title=title, note=note,
        columns=[ColumnSpec(key="id", header="Action", role="key", width=12),
                 ColumnSpec(key="description", header="Description", role="locked", width=60),
                 ColumnSpec(key="owner", header="Owner", role="locked", width=20),
                 ColumnSpec(key="due", header="Due", type="date", role="locked", width=12),
                 ColumnSpec(key="status", header="Status", type="code", allowed=ACTION_STATUS,
                            role="input", required=True, width=14,
                            prompt="open, in progress, done or dropped."),
                 ColumnSpec(key="update", header="Update", role="input", width=50)],
        rows=rows)


RETURN_INSTRUCTIONS = [
    "How to fill this return",
    "1. Type only in the shaded cells. Everything else is locked and pre-filled by the unit.",
    "2. Cover: give a contact and who signed the return off, with the date.",
    "3. Each priority has its own sheet: rate the five lines of the self-assessment "
    "(G, AG, AR, R; degree of challenge L, M, H, VH; stage 1 to 4).",
    "   A rating of AR or R needs a narrative.",
    "4. Trajectory tables: give the actual for each month of this round, and your forecast "
    "for later months. Percentages may be typed as 98% or 98.",
    "5. Milestones: a status for each, and a forecast date unless it is complete.",
    "6. Issues, risks and asks of the centre: add as many as you need (insert rows if you "
    "need more; rows may be inserted inside any table).",
    "7. Actions: a status and an update for every open action.",
    "8. Save as .xlsx (Excel or LibreOffice) and send it back unchanged in name and shape.",
    "Problems are reported by sheet and cell; a rejected return comes back with each "
    "problem highlighted.",
]


# ----------------------------------------------------------------------------- assessment
def assessment_spec(reg: Register, round_id: str, *,
                    self_ratings: dict[tuple[str, str], str],
                    evidence: dict[str, str],
                    prev_unit: dict[tuple[str, str], str]) -> WorkbookSpec:
    """The unit's assessment workbook for a six-monthly round: its judgement is final."""
    rnd = reg.round(round_id)
    tid = template_id("assessment", "UNIT", round_id)
    cols = [ColumnSpec(key="priority", header="Priority", role="key", width=8),
            ColumnSpec(key="title", header="Title", role="locked", width=40),
            ColumnSpec(key="department", header="Department", role="locked", width=10),
            ColumnSpec(key="evidence", header="Data evidence", role="locked", width=40)]
    for dim, label in FRAMEWORK:
        cols.append(ColumnSpec(key=f"self_{dim}", header=f"Self: {label}", role="locked",
                               width=10))
    for dim, label in FRAMEWORK:
        cols.append(ColumnSpec(key=f"last_{dim}", header=f"Last: {label}", role="locked",
                               width=10))
    for dim, label in FRAMEWORK:
        cols.append(ColumnSpec(key=f"unit_{dim}", header=f"Unit: {label}", type="code",
                               allowed=allowed_for(dim), role="input", required=True, width=12,
                               prompt="The unit's judgement: " + ", ".join(allowed_for(dim))))
    cols.append(ColumnSpec(key="narrative", header="Unit narrative", role="input", width=60))
    rows = []
    for pr in reg.priorities:
        row: dict[str, Any] = {"priority": pr.id, "title": pr.title,
                               "department": pr.department_id,
                               "evidence": evidence.get(pr.id, "")}
        for dim, _ in FRAMEWORK:
            row[f"self_{dim}"] = self_ratings.get((pr.id, dim))
            row[f"last_{dim}"] = prev_unit.get((pr.id, dim))
        rows.append(row)
    depts = [{"department": d.id, "name": d.name} for d in reg.departments]
    return fingerprint(WorkbookSpec(
        template_id=tid, kind="assessment", department="UNIT", round=round_id,
        title=f"Unit assessment {rnd.label}", instructions=ASSESSMENT_INSTRUCTIONS,
        sheets=[
            SheetSpec(name="Cover", heading=f"Delivery assessment, {rnd.label}",
                      subheading="The unit's judgement is final; the self-assessment is kept "
                                 "beside it.",
                      blocks=[cover_block("assessment", tid, "UNIT", "Delivery unit",
                                          round_id)]),
            SheetSpec(name="Assessment", heading="Assessment of delivery, by priority",
                      blocks=[BlockSpec(name="dp_assessment", kind=BlockKind.UNIT_ASSESS,
                                        title="Ratings", columns=cols, rows=rows)]),
            SheetSpec(name="Narrative", heading="Narrative by department",
                      blocks=[BlockSpec(
                          name="dp_narrative", kind=BlockKind.DEPT_NARRATIVE, title="Narrative",
                          columns=[ColumnSpec(key="department", header="Department",
                                              role="key", width=12),
                                   ColumnSpec(key="name", header="Name", role="locked", width=30),
                                   ColumnSpec(key="narrative", header="Narrative", role="input",
                                              width=100)],
                          rows=depts)]),
            SheetSpec(name="Challenges", heading="Numbered challenges, with progress",
                      blocks=[BlockSpec(
                          name="dp_challenges", kind=BlockKind.CHALLENGES, title="Challenges",
                          columns=[ColumnSpec(key="department", header="Department",
                                              type="code",
                                              allowed=[d.id for d in reg.departments], width=12),
                                   ColumnSpec(key="number", header="No.", type="int", width=6,
                                              minimum=1),
                                   ColumnSpec(key="priority", header="Priority",
                                              type="code", width=10,
                                              allowed=[pr.id for pr in reg.priorities],
                                              prompt="The priority whose rating the "
                                                     "challenge carries in the report"),
                                   ColumnSpec(key="challenge", header="Challenge", width=40),
                                   ColumnSpec(key="progress", header="Progress", width=90)],
                          free_rows=24)]),
        ]))


ASSESSMENT_INSTRUCTIONS = [
    "The unit's assessment of delivery",
    "1. For each priority, rate the five lines of the delivery assessment framework.",
    "   The department's self-assessment, the last round's judgement and the data evidence "
    "are shown for comparison.",
    "2. Narrative: the unit's view by department, as it will appear in the delivery report.",
    "3. Challenges: the numbered challenges for each department, with progress, and the "
    "priority whose rating each carries in the report.",
]


def today() -> dt.date:
    return dt.date.today()
