"""The task force agenda pack: agenda and attendance, actions tracker, outstanding actions,
and a performance pack (dashboard, trajectory charts, annex by organisation)."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from docx.shared import Mm
from docxtpl import InlineImage

from ..consolidation.league import league_for
from ..consolidation.rag import format_value
from ..consolidation.views import measure_series
from ..periods import period_label
from ..taskforce import meetings_of, next_meeting, open_actions_for
from ..workspace import Workspace
from .charts import trajectory_png
from .documents import RAG_HEX, render, template


def _action_row(a, today: dt.date) -> dict:
    due = dt.date.fromisoformat(a["due"])
    overdue = a["status"] in ("open", "in progress") and due < today
    return {"id": a["id"], "description": a["description"], "owner": a["owner"],
            "due": f"{due:%d %b %Y}", "status": a["status"] + (" – OVERDUE" if overdue else "")}


def pack_context(ws: Workspace, tf_id: str, date: dt.date, images: Path, tpl) -> dict:
    reg, led = ws.register, ws.ledger
    tf = reg.taskforce(tf_id)
    members = reg.members_of(tf_id)
    attending = [{"group": g, "names": "; ".join(f"{m.name} ({m.role})" for m in members
                                                   if m.kind == kind) or "–"}
                 for g, kind in (("Ministers", "minister"), ("Officials", "official"),
                                 ("Secretariat", "secretariat"))]
    agenda = [{"no": 1, "title": "Actions from the last meeting", "lead": "Secretariat"},
              {"no": 2, "title": "Performance pack", "lead": "Implementation Unit"}]
    agenda += [{"no": k, "title": reg.priority(p).title, "lead": reg.priority(p).lead}
               for k, p in enumerate(tf.priorities, start=3)]
    agenda.append({"no": len(agenda) + 1, "title": "Any other business", "lead": "Chair"})
    past = [m for m in meetings_of(led, tf_id) if m["date"] < date.isoformat()]
    actions = {a["id"]: a for a in led.actions()}
    tracker, last_line = [], "This is the task force's first meeting."
    if past:
        last = past[-1]
        last_line = (f"Actions allocated at meeting {last['id']} on "
                     f"{dt.date.fromisoformat(last['date']):%d %B %Y}, with their status now.")
        tracker = [_action_row(actions[i], date) for i in last["record"]["new_actions"]]
    outstanding = [_action_row(a, date) for a in open_actions_for(reg, led, tf_id)]
    rounds = sorted(r.id for r in reg.rounds if r.due <= date) or \
        [min(r.id for r in reg.rounds)]
    round_id = rounds[-1]
    dashboard, charts, annex = [], [], []
    for pid in tf.priorities:
        for m in reg.measures_of(pid):
            s = measure_series(reg, led, m, round_id)
            trend = "–"
            if s.projection.slope:
                better = (s.projection.slope > 0) == (m.direction == "up")
                trend = "improving" if better else "worsening"
            dashboard.append({"name": m.name, "latest": f"{format_value(m, s.latest_actual)} "
                              f"({period_label(s.latest_period) if s.latest_period else '–'})",
                              "planned": format_value(m, s.latest_planned),
                              "rag": s.rag or "–", "rag_colour": RAG_HEX.get(s.rag or "",
                                                                            "FFFFFF"),
                              "trend": trend})
            png = trajectory_png(s, images / f"{m.id}.png")
            charts.append({"headline": s.headline(),
                           "image": InlineImage(tpl, str(png), width=Mm(165))})
            lg = league_for(reg, led, m, round_id)
            if lg is not None:
                body = "\n".join(f"{r.rank}. {r.name}: {format_value(m, r.value)}"
                                 for r in lg.rows)
            else:
                body = "\n".join(f"{period_label(p)}: planned {format_value(m, s.planned.get(p))},"
                                 f" actual {format_value(m, s.actual.get(p))}"
                                 for p in sorted(s.actual))
            annex.append({"title": f"{m.name}: detail", "body": body})
    return {"marking": tf.protective_marking or ws.marking, "taskforce": tf.name,
            "date": f"{date:%A %d %B %Y}", "terms": tf.terms_of_reference, "agenda": agenda,
            "attending": attending, "last_meeting": last_line, "tracker": tracker,
            "outstanding": outstanding, "dashboard": dashboard, "charts": charts,
            "annex": annex}


def write_pack(ws: Workspace, tf_id: str, date: dt.date | None = None, *,
               target: Path | None = None, word_template: Path | None = None) -> Path:
    meeting_id, date = next_meeting(ws.register, ws.ledger, tf_id, date)
    tpl = template("agenda_pack", word_template)
    target = Path(target or ws.outputs / f"pack-{meeting_id}.docx")
    with tempfile.TemporaryDirectory() as images:
        return render(tpl, pack_context(ws, tf_id, date, Path(images), tpl), target)
