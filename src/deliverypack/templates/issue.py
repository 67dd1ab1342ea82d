"""Issue a round's workbooks: pre-fill from the register and the ledger, record the spec."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..consolidation.views import evidence_text, priority_summaries
from ..foundation.domain import FRAMEWORK
from ..ledger.workspace import Workspace
from ..validation.layout import (
    WorkbookSpec,
    assessment_spec,
    organisation_return_spec,
    organisation_spec,
    return_spec,
)
from .build import build_workbook


def issue_returns(workspace: Workspace, round_id: str) -> list[Path]:
    """One return per department with priorities, written to outbox/ROUND/."""
    reg, led = workspace.register, workspace.ledger
    window_start = reg.round_window(round_id)[0]
    prev_actuals = {(m, p): r["value"] for (m, org, p), r in
                    led.latest_values("actual", round_upto=round_id).items()
                    if p < window_start and r["value"] is not None}
    prev = reg.previous_round(round_id)
    prev_ratings = {k: r["value"] for k, r in led.ratings(prev.id, "self").items()} \
        if prev else {}
    completed = {mid: _date(r["forecast"]) for mid, r in led.milestone_updates(
        prev.id).items() if r["status"] == "Complete"} if prev else {}
    paths = []
    for dept in reg.departments:
        if not reg.priorities_of(dept.id):
            continue
        actions = [dict(a) for a in led.actions(department=dept.id, open_only=True)]
        spec = return_spec(reg, dept.id, round_id, prev_actuals=prev_actuals,
                           prev_ratings=prev_ratings, open_actions=actions,
                           completed=completed)
        path = workspace.outbox(round_id) / f"{dept.id}-{round_id}.xlsx"
        build_workbook(spec, path)
        led.record_template(spec, path.name)
        paths.append(path)
    return paths


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def issue_organisation_returns(workspace: Workspace, round_id: str) -> list[Path]:
    """One small return per organisation that returns a measure itself, to
    outbox/ROUND/organisations/. The organisations of one kind in one department share one
    spec, recorded once; each workbook is that spec made out to its organisation."""
    reg, led = workspace.register, workspace.ledger
    kinds = {(m.breakdown, reg.department_of_measure(m.id)) for m in reg.measures
             if m.returned_by == "organisation" and m.breakdown}
    shared: dict[tuple[str, str], WorkbookSpec] = {}
    paths = []
    for org in reg.organisations:
        group = (org.kind, org.department_id)
        if group not in kinds:
            continue
        if group not in shared:
            shared[group] = organisation_return_spec(reg, *group, round_id)
            led.record_template(shared[group], f"organisations/{org.kind}")
        spec = organisation_spec(shared[group], org.id)
        assert spec is not None  # the shared spec was made for every one of the group
        path = workspace.outbox(round_id) / "organisations" / f"{org.id}-{round_id}.xlsx"
        build_workbook(spec, path)
        paths.append(path)
    return paths


def issue_assessment(workspace: Workspace, round_id: str) -> Path:
    """The unit's assessment workbook for a six-monthly round."""
    reg, led = workspace.register, workspace.ledger
    prev = reg.previous_round(round_id)
    self_ratings = {k: r["value"] for k, r in led.ratings(round_id, "self").items()}
    prev_unit = {k: r["value"] for k, r in led.ratings(prev.id, "unit").items()} if prev else {}
    evidence = {s.priority.id: evidence_text(s.series) if s.series else "No measure."
                for s in priority_summaries(reg, led, round_id)}
    spec = assessment_spec(reg, round_id, self_ratings=self_ratings, evidence=evidence,
                           prev_unit=prev_unit)
    path = workspace.outbox(round_id) / f"assessment-{round_id}.xlsx"
    build_workbook(spec, path)
    led.record_template(spec, path.name)
    return path


__all__ = ["issue_returns", "issue_assessment", "FRAMEWORK"]
