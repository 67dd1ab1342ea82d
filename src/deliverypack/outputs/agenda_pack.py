"""The task force agenda pack: agenda with times, leads and papers; attendance; actions
tracker and outstanding actions; a performance pack (dashboard, trajectory charts) and an
annex that analyses the figures (change, rank, largest movers)."""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docx.shared import Mm, RGBColor
from docxtpl import InlineImage

from ..consolidation.assurance import Flag, assurance_flags
from ..consolidation.league import RATE_PER, League, league_for
from ..consolidation.rag import format_change, format_value, gap_words, shortfall
from ..consolidation.views import MeasureSeries, measure_series
from ..foundation.domain import Measure, Register
from ..foundation.periods import period_label
from ..ledger import Ledger
from ..ledger.workspace import Workspace
from ..templates.taskforce import (
    MEETING_TIME,
    MEETING_VENUE,
    agenda_items,
    meetings_of,
    next_meeting,
    open_actions_for,
)
from .charts import trajectory_png
from .documents import RAG_HEX, RAG_INK, rag_text, render, template
from .facts import against_standard, measure_facts, performance_sentence, round_as_of, trend
from .word_templates import data_table, shade

# Minutes per agenda item, by kind; the chair can change them in Word.
MINUTES = {"matters": 10, "pack": 20, "priority": 25, "aob": 5}
ANNEX_PERIODS = 8  # the last periods shown in a measure's annex table


def _action_row(a, today: dt.date) -> dict:
    due = dt.date.fromisoformat(a["due"])
    overdue = a["status"] in ("open", "in progress") and due < today
    return {"id": a["id"], "description": a["description"], "owner": a["owner"],
            "due": f"{due:%d %b %Y}", "status": a["status"] + (" – OVERDUE" if overdue else "")}


def lead_name(reg: Register, tf_id: str, lead: str) -> str:
    """A lead given as a role ('Director of Learning, LSC') with the member's name."""
    who = next((m for m in reg.members_of(tf_id) if m.role == lead), None)
    return f"{who.name}, {lead}" if who else lead


def timed_agenda(reg: Register, tf_id: str, *, first: bool, unit: str, start: str,
                 paper_prefix: str) -> list[dict[str, Any]]:
    """The standing agenda with a start time per item and the paper that goes with it."""
    hh, mm = (int(x) for x in start.split(":"))
    clock = dt.datetime(2000, 1, 1, hh, mm)
    rows = []
    for item in agenda_items(reg, tf_id, first=first, unit=unit):
        title = str(item["title"])
        kind = ("matters" if title.lower().startswith("matters arising") else
                "pack" if title.lower().startswith("performance pack") else
                "aob" if title == "Any other business" else "priority")
        paper = {"matters": f"{paper_prefix} 1 (actions tracker)",
                 "pack": f"{paper_prefix} 2 (performance pack)",
                 "priority": "Oral update", "aob": "–"}[kind]
        rows.append({"time": f"{clock:%H:%M}", "no": item["no"], "title": title,
                     "lead": lead_name(reg, tf_id, str(item["lead"])), "paper": paper})
        clock += dt.timedelta(minutes=MINUTES[kind])
    rows.append({"time": f"{clock:%H:%M}", "no": "", "title": "Close", "lead": "",
                 "paper": ""})
    return rows


def cycle_note(tf_cycle: int, last: dt.date | None, date: dt.date) -> str:
    """A sentence when the meeting is not one cycle after the last; empty otherwise."""
    if last is None:
        return ""
    weeks = (date - last).days / 7
    if abs(weeks - tf_cycle) < 1:
        return ""
    return (f"This meeting falls {weeks:.0f} weeks after the last ({last:%d %B %Y}); the task "
            f"force meets every {tf_cycle} weeks. The pack covers the whole period since "
            "the last meeting.")


def _as_of(s: MeasureSeries, flags: list[Flag]) -> str:
    """The period of the latest figure, or the assurance flag that says how old it is
    ('as of Jun 2003 — no return')."""
    for f in flags:
        if f.code == "no-return" or (f.code == "stale-data"
                                     and f.measure_id == s.measure.id):
            return f.label
    return period_label(s.latest_period) if s.latest_period else "no figures"


def dashboard_row(s: MeasureSeries, flags: list[Flag]) -> dict[str, Any]:
    m = s.measure
    return {"name": m.name, "latest": format_value(m, s.latest_actual),
            "as_of": _as_of(s, flags), "planned": format_value(m, s.latest_planned),
            "rag": rag_text(s.rag), "rag_colour": RAG_HEX.get(s.rag or "", "FFFFFF"),
            "trend": trend(s)}


Table = tuple[list[str], list[list[str]], list[float]]  # headers, rows, widths (cm)


@dataclass(frozen=True)
class OrganisationTable:
    """A measure's organisations as a paper sets them, with the sentence that says what
    the standing columns hold: built together, so the sentence cannot describe a column
    the table does not have."""

    headers: list[str]
    rows: list[list[str]]
    widths: list[float]  # cm, a portrait page's 17
    key: str  # what the last columns mean, with how many fall short of a standard
    notes: list[str]  # the largest movers
    rags: dict[int, list[str]] = field(default_factory=dict)  # column -> RAG code per row


def organisation_table(m: Measure, lg: League) -> OrganisationTable:
    """A measure's organisations in rank order with their latest figure and change on the
    period before; how each stands against the rest (the funnel limits around the rate for
    all, or its quartile) and, for a proportion, against the standard, RAG-rated. The
    agenda pack's annex and the delivery report's annex both set it."""
    kind = m.breakdown or "organisation"
    n = len(lg.rows)
    rated = lg.rows if lg.basis in RATE_PER else []
    head = period_label(lg.period) + (f" ({lg.per})" if lg.per else "")
    headers = ["Order" if lg.basis == "none" else "Rank", "Organisation", head,
               "Change on previous"]
    rows = [[r.rank_label, r.name,
             format_value(m, r.rate if r in rated and r.rate is not None else r.value),
             format_change(m, r.change)]
            for r in lg.rows]
    key: list[str] = []
    rags: dict[int, list[str]] = {}
    funnel = lg.pooled is not None and lg.basis != "rate-quartile"
    if funnel and lg.pooled is not None:
        headers.append(f"Against the rate for all ({lg.pooled:.1f}%)")
        for row, r in zip(rows, lg.rows, strict=True):
            row.append(r.short_flag)
        key.append(f"Against the rate for all: whether a {kind} differs from the rate for "
                   f"all {n} {kind}s ({lg.pooled:.1f}%) by more than chance, given its size "
                   f"(95% and 99.8% limits): its standing among the {kind}s, not against "
                   "any standard")
    if lg.basis == "standard":
        target = format_value(m, m.target)
        headers.append(f"Against the {target} standard")
        rags[len(headers) - 1] = [r.rag for r in lg.rows]
        words = [against_standard(m, r.value) for r in lg.rows]
        for row, w, r in zip(rows, words, lg.rows, strict=True):
            row.append(f"{w} ({r.rag})" if r.rag else w)
        short = sum(w != "meets" for w in words)
        side = "below" if m.direction == "up" else "above"
        count = (f"every {kind} meets it" if not short else f"all {n} {kind}s are {side} it"
                 if short == n else f"{short} of {n} {kind}s {'is' if short == 1 else 'are'} "
                 f"{side} it")
        key.append(f"Against the {target} standard: its RAG against the standard; {count}")
    elif lg.basis in ("quartile", *RATE_PER):
        headers.append("Quartile (1 = best)")
        rags[len(headers) - 1] = [r.rag for r in lg.rows]
        for row, r in zip(rows, lg.rows, strict=True):
            row.append(f"{r.quartile} ({r.rag})" if r.rag else str(r.quartile))
        by = f" of the rate {lg.per}" if lg.per else ""
        key.append(f"Quartile: where each {kind} falls among the {n}{by} (1 = the best "
                   "quarter), which sets its RAG (1 G, 2 AG, 3 AR, 4 R)")
    else:
        key.append(lg.rag_words(m))
    if lg.basis == "rate-quartile":
        key.append("Change on previous: in the count, not the rate")
    # 'Rank' never broken; the standard's words and RAG letters on one line
    widths = {4: [1.5, 8.3, 3.4, 3.8], 5: [1.5, 6.5, 2.6, 2.6, 3.8],
              6: [1.5, 4.2, 1.9, 2.5, 2.8, 4.1]}[len(headers)]
    notes = []
    moved = [r for r in lg.rows if r.change is not None]
    ranked = "placed" if lg.basis == "none" else "ranked"  # a count in order, not a rank
    if moved:
        good = (lambda r: r.change) if m.direction == "up" else (lambda r: -r.change)
        best, worst = max(moved, key=good), min(moved, key=good)
        notes.append(f"Largest improvement: {best.name} "
                     f"({format_change(m, best.change)}, now {ranked} "
                     f"{best.rank} of {len(lg.rows)}).")
        if worst is not best and good(worst) < 0:
            notes.append(f"Largest deterioration: {worst.name} "
                         f"({format_change(m, worst.change)}, {ranked} "
                         f"{worst.rank}).")
    return OrganisationTable(headers, rows, widths, ". ".join(key) + ".", notes, rags)


def set_organisation_table(sub, t: OrganisationTable):
    """The table in a document, each RAG cell on its colour with its letters in the ink
    that reads on it (the letters are in the text too, so it reads in greyscale)."""
    table = data_table(sub, t.headers, t.rows, t.widths)
    for j, codes in t.rags.items():
        for i, code in enumerate(codes, start=1):
            if code in RAG_HEX:
                cell = table.cell(i, j)
                shade(cell, RAG_HEX[code])
                for run in cell.paragraphs[0].runs:
                    run.font.color.rgb = RGBColor.from_string(RAG_INK[code])
    return table


def annex_for(sub, reg: Register, led: Ledger, m: Measure, s: MeasureSeries,
              round_id: str) -> None:
    """A measure's analysis: recent periods with gap and change, or the organisations'
    table with change and rank, then notes on the largest movers."""
    sub.add_paragraph(m.name, style="Heading 2").paragraph_format.keep_with_next = True
    lg = league_for(reg, led, m, round_id)
    notes = [performance_sentence(s)]
    tables: list[Table] = []
    org_table = None
    if lg is not None and lg.rows:
        org_table = organisation_table(m, lg)
        notes += [org_table.key, *org_table.notes]
    else:
        every = sorted(s.actual)
        rows = []
        for k in range(max(0, len(every) - ANNEX_PERIODS), len(every)):
            p = every[k]
            a, pl = s.actual[p], s.planned.get(p)
            change = a - s.actual[every[k - 1]] if k > 0 else None
            rows.append([period_label(p), format_value(m, pl), format_value(m, a),
                         gap_words(m, pl, a) if pl is not None else "–",
                         format_change(m, change)])
        tables.append((["Period", "Trajectory", "Actual", "Against trajectory",
                        "Change on previous"], rows, [2.6, 3.2, 3.2, 5.4, 3.2]))
        changes = [(p, s.actual[p] - s.actual[q]) for q, p in
                   zip(sorted(s.actual), sorted(s.actual)[1:], strict=False)]
        if changes:
            sign = 1 if m.direction == "up" else -1
            top = max(changes, key=lambda c: sign * c[1])
            low = min(changes, key=lambda c: sign * c[1])
            notes.append(f"Best period: {period_label(top[0])} "
                         f"({format_change(m, top[1])}); weakest: "
                         f"{period_label(low[0])} ({format_change(m, low[1])}).")
        f = measure_facts(s)
        gaps = [shortfall(m, s.planned[p], s.actual[p]) for p in s.actual if p in s.planned]
        if gaps:
            behind = sum(g > 0 for g in gaps)
            notes.append(f"Below trajectory in {behind} of {len(gaps)} "
                         f"{f.period_word}s with figures.")
    for k, n in enumerate(notes):  # the last sentence stays with the table it reads
        sub.add_paragraph(n).paragraph_format.keep_with_next = k == len(notes) - 1
    if org_table is not None:
        set_organisation_table(sub, org_table)
        sub.add_paragraph("")
    for headers, rows, widths in tables:
        data_table(sub, headers, rows, widths)
        sub.add_paragraph("")


def pack_context(workspace: Workspace, tf_id: str, date: dt.date, images: Path, tpl) -> dict:
    reg, led = workspace.register, workspace.ledger
    tf = reg.taskforce(tf_id)
    meeting_id, _ = next_meeting(reg, led, tf_id, date)
    members = reg.members_of(tf_id)
    attending = [{"group": g, "names": [f"{m.name}, {m.role}" for m in members
                                        if m.kind == kind]}
                 for g, kind in (("Ministers", "minister"), ("Officials", "official"),
                                 ("Secretariat", "secretariat"))]
    attending = [g for g in attending if g["names"]]
    past = [m for m in meetings_of(led, tf_id) if m["date"] < date.isoformat()]
    last = past[-1] if past else None
    time = (last["record"].get("time") if last else None) or MEETING_TIME
    venue = (last["record"].get("venue") if last else None) or MEETING_VENUE
    prefix = f"{tf_id}({date:%y})"
    agenda = timed_agenda(reg, tf_id, first=not past, unit=workspace.unit_name, start=time,
                          paper_prefix=prefix)
    actions = {a["id"]: a for a in led.actions()}
    tracker, last_line = [], "This is the task force's first meeting."
    if last:
        last_line = (f"Actions allocated at meeting {last['id']} on "
                     f"{dt.date.fromisoformat(last['date']):%d %B %Y}, with their status now.")
        tracker = [_action_row(actions[i], date) for i in last["record"]["new_actions"]]
    outstanding = [_action_row(a, date) for a in open_actions_for(reg, led, tf_id)]
    round_id = round_as_of(reg, date)
    flags = assurance_flags(reg, led, round_id)
    dashboard, charts = [], []
    annex = tpl.new_subdoc()
    for pid in tf.priorities:
        for m in reg.measures_of(pid):
            s = measure_series(reg, led, m, round_id)
            dashboard.append(dashboard_row(s, flags.get(pid, [])))
            png = trajectory_png(s, images / f"{m.id}.png")
            charts.append({"headline": f"{m.name}. {s.headline()}",
                           "image": InlineImage(tpl, str(png), width=Mm(160))})
            annex_for(annex, reg, led, m, s, round_id)
    return {"marking": tf.protective_marking or workspace.marking, "taskforce": tf.name,
            "unit": workspace.unit_name, "meeting_id": meeting_id, "date": f"{date:%A %d %B %Y}",
            "time": time, "venue": venue, "terms": tf.terms_of_reference,
            "cycle_note": cycle_note(tf.cycle_weeks, dt.date.fromisoformat(last["date"])
                                     if last else None, date),
            "round_label": reg.round(round_id).label, "agenda": agenda,
            "paper_tracker": f"{prefix} 1", "paper_pack": f"{prefix} 2",
            "attending": attending, "last_meeting": last_line, "tracker": tracker,
            "outstanding": outstanding, "dashboard": dashboard, "charts": charts,
            "flags": [f.text for pid in tf.priorities for f in flags.get(pid, [])],
            "annex": annex}


def write_pack(workspace: Workspace, tf_id: str, date: dt.date | None = None, *,
               target: Path | None = None, word_template: Path | None = None) -> Path:
    meeting_id, date = next_meeting(workspace.register, workspace.ledger, tf_id, date)
    tpl = template("agenda_pack", word_template)
    target = Path(target or workspace.outputs / f"pack-{meeting_id}.docx")
    with tempfile.TemporaryDirectory() as images:
        return render(tpl, pack_context(workspace, tf_id, date, Path(images), tpl), target)
