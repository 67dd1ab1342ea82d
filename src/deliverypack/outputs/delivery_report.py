"""The six-monthly delivery report for a department: a front page (addressee, from, date of
issue, marking, contact, a summary), the assessment framework table across the last three
rounds as the seed shows it, then per priority a judgement with its figures, the assurance
flags, the unit's narrative and the one recommendation the stocktake deck shows too."""

from __future__ import annotations

import datetime as dt
import json
from html import escape
from pathlib import Path
from typing import Any

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt, RGBColor
from docxtpl import RichText

from ..consolidation.assurance import Flag, assurance_flags, decisions_sought
from ..consolidation.league import league_for
from ..consolidation.views import PrioritySummary, movement, priority_summaries
from ..foundation.domain import FRAMEWORK, RAG_NAMES
from ..foundation.errors import UsageError
from ..foundation.periods import period_label
from ..ledger.workspace import Workspace
from .agenda_pack import organisation_table, set_organisation_table
from .documents import RAG_HEX, RAG_INK, rag_text, render, template
from .facts import issued_on, performance_sentence
from .word_templates import narrow_cells, no_split, set_widths, shade

# One-word column heads (never broken inside a word); the key under the table spells them out.
FRAMEWORK_HEAD = {"challenge": "Chall.", "quality": "Qual.", "capacity": "Cap.",
                  "stage": "Stage", "likelihood": "Lik."}
FRAMEWORK_KEY = ("Chall. degree of challenge (L, M, H, VH); Qual. quality of planning, "
                 "implementation and performance; Cap. capacity to drive progress; Stage "
                 "stage of delivery (1 to 4); Lik. likelihood of delivery. Ratings G green, "
                 "AG amber/green, AR amber/red, R red.")
FROM_DATA = "[Built from the data: the unit wrote no narrative for this priority this round.]"


def _repeat_header(row) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(el)


def framework_table(tpl, workspace: Workspace, department: str, rounds: list[str]):
    """Priorities as rows, five columns per round, RAG-coloured cells with their letters."""
    reg, led = workspace.register, workspace.ledger
    sub = tpl.new_subdoc()
    prios = reg.priorities_of(department)
    ncols = 1 + 5 * len(rounds)
    table = sub.add_table(rows=2 + len(prios), cols=ncols)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    head = table.cell(0, 0).merge(table.cell(1, 0))
    head.text = "Assessment of Delivery"
    for k, rid in enumerate(rounds):
        group = table.cell(0, 1 + 5 * k).merge(table.cell(0, 5 + 5 * k))
        group.text = reg.round(rid).label
        for j, (dim, _) in enumerate(FRAMEWORK):
            table.cell(1, 1 + 5 * k + j).text = FRAMEWORK_HEAD[dim]
    for r in (0, 1):
        _repeat_header(table.rows[r])
        for c in table.rows[r].cells:
            shade(c, "1F3864")
            for p in c.paragraphs:
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER
                for run in p.runs:
                    run.font.bold, run.font.size = True, Pt(8)
                    run.font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
    ratings = {rid: led.ratings(rid, "unit") for rid in rounds}
    for i, pr in enumerate(prios, start=2):
        no_split(table.rows[i])
        table.cell(i, 0).text = pr.title
        table.cell(i, 0).paragraphs[0].runs[0].font.size = Pt(8)
        for k, rid in enumerate(rounds):
            for j, (dim, _) in enumerate(FRAMEWORK):
                row = ratings[rid].get((pr.id, dim))
                v = row["value"] if row else ""
                cell = table.cell(i, 1 + 5 * k + j)
                cell.text = v
                p = cell.paragraphs[0]
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER
                if p.runs:
                    p.runs[0].font.bold, p.runs[0].font.size = True, Pt(9)
                    if v in RAG_INK:
                        p.runs[0].font.color.rgb = RGBColor.from_string(RAG_INK[v])
                if v in RAG_HEX:
                    shade(cell, RAG_HEX[v])
    set_widths(table, [5.4] + [20.3 / (ncols - 1)] * (ncols - 1))
    narrow_cells(table)
    return sub


def _milestones(workspace: Workspace, pid: str, round_id: str) -> str:
    """Milestones that slipped or are at risk, with due and forecast dates; else a count."""
    updates = workspace.ledger.milestone_updates(round_id)
    slipped, done, total = [], 0, 0
    for ms in workspace.register.milestones_of(pid):
        total += 1
        u = updates.get(ms.id)
        status = u["status"] if u else "no update"
        done += status == "Complete"
        fc = dt.date.fromisoformat(u["forecast"][:10]) if u and u["forecast"] else None
        if status in ("Delayed", "At risk") or (fc and fc > ms.due and status != "Complete"):
            slipped.append(f"{ms.title}: due {ms.due:%d %b %Y}, "
                           f"{'forecast ' + format(fc, '%d %b %Y') if fc else 'no forecast'}"
                           f" ({status})")
    if not total:
        return "No milestones in the register."
    head = f"{done} of {total} complete"
    return head + ("; slipping: " + "; ".join(slipped) if slipped else "; none slipping") + "."


def _judgement(s: PrioritySummary, flags: list[Flag]) -> str:
    """The opening words of a priority's page: on or off track, from the data."""
    rags = [x.rag for x in s.series if x.rag]
    worst = max(rags, key=["G", "AG", "AR", "R"].index) if rags else None
    passed = [f for f in flags if f.code == "rating-above-data" and "passed unmet" in f.text]
    if passed:
        return "Target date passed unmet."
    if worst in ("AR", "R"):
        return "Off track."
    if worst in ("G", "AG"):
        return "On track." if worst == "G" else "Slightly behind trajectory."
    return "No measure of its own: judged on its milestones."


def priority_pages(workspace: Workspace, department: str, round_id: str) -> tuple[list[dict], dict]:
    reg, led = workspace.register, workspace.ledger
    summaries = [s for s in priority_summaries(reg, led, round_id)
                 if s.department == department]
    flags = assurance_flags(reg, led, round_id)
    recs = decisions_sought(reg, led, round_id, flags=flags)
    prev = reg.previous_round(round_id)
    unit_text = {t["priority_id"]: t["text"] for t in led.texts(round_id)
                 if t["kind"] == "unit_narrative"}
    pages = []
    for n, s in enumerate(summaries, start=1):
        pr = s.priority
        mine = flags.get(pr.id, [])
        now, last = s.likelihood, s.likelihood_last
        move = movement(last, now)
        rating = (f"{RAG_NAMES.get(now or '', 'not rated')} ({now or '–'})"
                  + (f", {move} from {last} in {prev.label}" if prev and last and move != "new"
                     else ""))
        figures = " ".join(performance_sentence(x) for x in s.series) or \
            "No measure in the register."
        forecast = " ".join(f"{x.measure.name}: {x.projection.sentence(x.measure)} "
                            f"(target date {period_label(x.measure.target_period)})."
                            for x in s.series) or "–"
        narrative = " ".join(str(unit_text.get(pr.id, "")).split())
        rec = recs[pr.id]
        facts = [("Likelihood of delivery", rating),
                 ("Latest figures against trajectory", figures),
                 ("Forecast against the target date", forecast),
                 ("Milestones", _milestones(workspace, pr.id, round_id)),
                 ("Assurance flags", " ".join(f.text for f in mine) or "None.")]
        pages.append({
            "n": n, "title": pr.title, "judgement": _judgement(s, mine),
            "target": pr.target_statement, "facts": [{"label": a, "text": b}
                                                     for a, b in facts],
            "narrative": narrative or FROM_DATA, "owner": pr.lead,
            "recommendation": rec.text,
            "basis": ("built from the data, the unit and the department having given none"
                      if rec.from_data else f"from {rec.basis}"),
            "rag": rag_text(now), "rag_colour": RAG_HEX.get(now or "", "FFFFFF"),
            "move": move or "–", "data_rag": rag_text(s.data_rag),
            "data_colour": RAG_HEX.get(s.data_rag or "", "FFFFFF"),
            "flag_count": str(len(mine)) if mine else "–", "short": pr.short, "code": now})
    return pages, recs


def _summary(pages: list[dict], department: str, round_label: str, prev: str | None) -> str:
    """One paragraph: how many priorities are likely to deliver, which moved, which are off
    track, how many flags, what is recommended."""
    likely = [p for p in pages if p["code"] in ("G", "AG")]
    risk = [p["short"] for p in pages if p["code"] in ("AR", "R")]
    up = [p["short"] for p in pages if p["move"] == "↑"]
    down = [p["short"] for p in pages if p["move"] == "↓"]
    off = [p["short"] for p in pages if p["judgement"] in ("Off track.",
                                                            "Target date passed unmet.")]
    flagged = sum(p["flag_count"] != "–" for p in pages)
    owner = department if department.startswith("The ") else f"the {department}"
    text = (f"The unit judges {len(likely)} of {owner}'s {len(pages)} priorities likely "
            f"to deliver (green or amber/green) in {round_label}")
    text += f" and {len(risk)} at risk ({', '.join(risk)})." if risk else "."
    if prev:
        text += (f" Since {prev}, {len(up)} improved" + (f" ({', '.join(up)})" if up else "")
                 + f" and {len(down)} worsened" + (f" ({', '.join(down)})" if down else "")
                 + ".")
    if off:
        text += f" By the data, {', '.join(off)} {'is' if len(off) == 1 else 'are'} off track."
    if flagged:
        text += (f" {flagged} {'priority carries' if flagged == 1 else 'priorities carry'} "
                 "assurance flags the reader should weigh beside the ratings.")
    return text


# What each likelihood rating means, in the framework's words: the sentence set beside a
# challenge's rating, so the words can never be kinder (or harsher) than the letter.
LIKELIHOOD_WORDS = {"G": "delivery is highly likely",
                    "AG": "delivery is probable, with some aspects needing attention",
                    "AR": "delivery is problematic and needs substantial attention",
                    "R": "delivery is highly problematic and needs urgent, decisive action"}
CHALLENGE_NAMES = {"L": "low", "M": "medium", "H": "high", "VH": "very high"}


def _rating_runs(rt: RichText, code: str, name: str) -> None:
    """A rating as the papers set it: the letters on their fill, then the name in words,
    so it reads without colour."""
    # written out, not RichText(highlight=): Word wants w:val on a shading, in schema order
    rt.xml += (f'<w:r><w:rPr><w:b/><w:color w:val="{RAG_INK.get(code, "000000")}"/>'
               f'<w:sz w:val="20"/><w:szCs w:val="20"/><w:shd w:val="clear" w:color="auto" '
               f'w:fill="{RAG_HEX.get(code, "FFFFFF")}"/></w:rPr>'
               f'<w:t xml:space="preserve"> {escape(code)} </w:t></w:r>')
    rt.add(f" {name}", size=20)


def challenges(workspace: Workspace, department: str, round_id: str) -> list[dict]:
    """The numbered challenges of the last report, each with the unit's rating this round
    for the priority the unit tied it to (likelihood of delivery, degree of challenge) and
    the framework's sentence for that likelihood."""
    reg, led = workspace.register, workspace.ledger
    ratings = led.ratings(round_id, "unit")
    out = []
    for t in led.texts(round_id):
        if t["kind"] != "challenge" or t["department"] != department:
            continue
        pid = t["priority_id"] or ""
        title = " ".join(str(t["text"]).split())
        head = RichText()
        head.add(f"{t['seq']}. {title}", bold=True, size=22)
        like = ratings.get((pid, "likelihood"))
        chall = ratings.get((pid, "challenge"))
        pr = next((x for x in reg.priorities if x.id == pid), None)
        code = like["value"] if like else None
        head.add("\n")
        if pr is None:
            head.add("Not tied to a priority, so not rated.", italic=True, size=20)
            basis = ""
        elif code is None:
            head.add(f"{pr.short} ({pr.id}) is not yet rated this round.", italic=True,
                     size=20)
            basis = ""
        else:
            head.add("Likelihood of delivery ", size=20)
            _rating_runs(head, code, RAG_NAMES[code])
            if chall:
                head.add(f"; degree of challenge {chall['value']} "
                         f"({CHALLENGE_NAMES.get(chall['value'], chall['value'])})", size=20)
            head.add(f"; priority {pr.short} ({pr.id})", size=20)
            basis = f"{reg.round(round_id).label}: {LIKELIHOOD_WORDS[code]}."
        progress = " ".join(str(json.loads(t["extra"] or "{}").get("progress") or "").split())
        out.append({"n": t["seq"], "title": title, "heading": head, "basis": basis,
                    "priority": pid, "likelihood": code,
                    "challenge": chall["value"] if chall else None, "progress": progress})
    return sorted(out, key=lambda c: c["n"])


def organisation_annex(tpl, workspace: Workspace, department: str, round_id: str):
    """Per measure the department reports by organisation (in its own return or in the
    organisations' returns): each organisation's latest figure, change and rank, and the
    largest movers. None when the department has no such measure with figures."""
    reg, led = workspace.register, workspace.ledger
    sub, n = tpl.new_subdoc(), 0
    for pr in reg.priorities_of(department):
        for m in reg.measures_of(pr.id):
            lg = league_for(reg, led, m, round_id) if m.breakdown else None
            if lg is None or not lg.rows:
                continue
            n += 1
            h = sub.add_paragraph(f"A{n}. {m.name}", style="Heading 2")
            h.paragraph_format.keep_with_next = True
            who = ("each organisation's own return" if m.returned_by == "organisation"
                   else f"the {m.breakdown} breakdown of the department's return")
            table = organisation_table(m, lg)
            intro = sub.add_paragraph(
                f"{pr.short}. Figures for {period_label(lg.period)} from {who}: "
                f"{len(lg.rows)} of {lg.expected} {m.breakdown}s. {table.key}")
            intro.paragraph_format.keep_with_next = True
            set_organisation_table(sub, table)
            for note in table.notes:
                sub.add_paragraph(note).paragraph_format.space_before = Pt(4)
    return sub if n else None


def write_report(workspace: Workspace, round_id: str, department: str, *,
                 target: Path | None = None,
                 word_template: Path | None = None) -> Path:
    reg, led = workspace.register, workspace.ledger
    if department not in {d.id for d in reg.departments}:
        raise UsageError(f"unknown department {department!r}")
    rounds = [r.id for r in sorted(reg.rounds, key=lambda r: r.id) if r.id <= round_id][-3:]
    tpl = template("delivery_report", word_template)
    texts = led.texts(round_id)
    narrative = next((t["text"] for t in texts if t["kind"] == "dept_narrative"
                      and t["department"] == department), "No narrative was given this round.")
    pages, _ = priority_pages(workspace, department, round_id)
    prev = reg.previous_round(round_id)
    name = reg.department(department).name
    issued = issued_on(workspace, round_id)
    report_settings: dict[str, Any] = workspace.settings.get("report", {})
    context = {"marking": workspace.marking, "department": name,
               "round_label": reg.round(round_id).label, "unit": workspace.unit_name,
               "addressee": report_settings.get("addressee", "The Prime Minister"),
               "issued": issued.text, "contact": issued.contact,
               "summary": _summary(pages, name, reg.round(round_id).label,
                                   prev.label if prev else None),
               "rounds_label": ", ".join(reg.round(r).label for r in rounds),
               "framework": framework_table(tpl, workspace, department, rounds),
               "framework_key": FRAMEWORK_KEY,
               "narrative": narrative,
               "challenges": challenges(workspace, department, round_id),
               "priorities": pages,
               "annex": organisation_annex(tpl, workspace, department, round_id)}
    target = Path(target or workspace.outputs / f"delivery-report-{department}-{round_id}.docx")
    return render(tpl, context, target)
