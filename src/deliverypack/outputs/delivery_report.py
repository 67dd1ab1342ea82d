"""The six-monthly delivery report for a department: the assessment framework table across
the last three rounds (as the seed shows it), the unit's narrative and numbered challenges."""

from __future__ import annotations

import json
from pathlib import Path

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

from ..domain import FRAMEWORK, FRAMEWORK_SHORT
from ..errors import UsageError
from ..workspace import Workspace
from .documents import RAG_HEX, render, template
from .word_templates import set_widths, shade

WHITE_ON = {"G", "R"}


def _repeat_header(row) -> None:
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(el)


def framework_table(tpl, ws: Workspace, department: str, rounds: list[str]):
    """Priorities as rows, five columns per round, RAG-coloured cells with their letters."""
    reg, led = ws.register, ws.ledger
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
            table.cell(1, 1 + 5 * k + j).text = FRAMEWORK_SHORT[dim]
    for r in (0, 1):
        _repeat_header(table.rows[r])
        for c in table.rows[r].cells:
            shade(c, "1F3864")
            for p in c.paragraphs:
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER
                for run in p.runs:
                    run.font.bold, run.font.size = True, Pt(7.5)
                    run.font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
    ratings = {rid: led.ratings(rid, "unit") for rid in rounds}
    for i, pr in enumerate(prios, start=2):
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
                    if v in WHITE_ON:
                        p.runs[0].font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
                if v in RAG_HEX:
                    shade(cell, RAG_HEX[v])
    set_widths(table, [6.2] + [20.0 / (ncols - 1)] * (ncols - 1))
    return sub


def write_report(ws: Workspace, round_id: str, department: str, *, target: Path | None = None,
                 word_template: Path | None = None) -> Path:
    reg, led = ws.register, ws.ledger
    if department not in {d.id for d in reg.departments}:
        raise UsageError(f"unknown department {department!r}")
    rounds = [r.id for r in sorted(reg.rounds, key=lambda r: r.id) if r.id <= round_id][-3:]
    tpl = template("delivery_report", word_template)
    texts = led.texts(round_id)
    narrative = next((t["text"] for t in texts if t["kind"] == "dept_narrative"
                      and t["department"] == department), "No narrative was given this round.")
    challenges = [{"n": t["seq"], "title": t["text"],
                   "progress": json.loads(t["extra"]).get("progress") or ""}
                  for t in texts if t["kind"] == "challenge" and t["department"] == department]
    prios = []
    unit_text = {t["priority_id"]: t["text"] for t in texts if t["kind"] == "unit_narrative"}
    for pr in reg.priorities_of(department):
        prios.append({"title": pr.title, "text": unit_text.get(pr.id, pr.target_statement)})
    context = {"marking": ws.marking, "department": reg.department(department).name,
               "round_label": reg.round(round_id).label, "unit": ws.unit_name,
               "framework": framework_table(tpl, ws, department, rounds),
               "narrative": narrative, "challenges": sorted(challenges, key=lambda c: c["n"]),
               "priorities": prios}
    target = Path(target or ws.outputs / f"delivery-report-{department}-{round_id}.docx")
    return render(tpl, context, target)
