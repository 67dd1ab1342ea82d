"""The stocktake deck (.pptx) from the ledger, on the unit's branded template.

Two layers: `plan_deck` turns the ledger into plain slide view models (testable without a
file); `render_deck` draws them with python-pptx onto the template's named layouts. Every
trajectory is a native, editable PowerPoint chart, and every data slide's speaker notes
name the return file, sheet and cell of each number.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION, XL_MARKER_STYLE
from pptx.enum.dml import MSO_LINE_DASH_STYLE
from pptx.enum.text import PP_ALIGN
from pptx.util import Emu, Pt

from ..consolidation.league import league_for
from ..consolidation.rag import format_value
from ..consolidation.views import MeasureSeries, PrioritySummary, priority_summaries
from ..domain import FRAMEWORK, FRAMEWORK_SHORT, RAG_NAMES
from ..errors import UsageError
from ..periods import period_date, period_label
from ..workspace import Workspace
from .files import atomic_path
from .slide_template import TEMPLATE
from .text import chunks, fit

RAG_RGB = {"G": "00B050", "AG": "C4D79B", "AR": "FFC000", "R": "FF0000"}
RAG_TEXT = {"G": "FFFFFF", "AG": "000000", "AR": "000000", "R": "FFFFFF"}
NAVY = RGBColor(0x1F, 0x38, 0x64)
ROWS_PER_TABLE = 12
TITLE_CHARS = 50  # what one line of a 28 pt bold title holds on a 16:9 slide


@dataclass
class Slide:
    kind: str  # title, agenda, summary, trajectory, assessment, league, actions, next
    title: str
    layout: str = "Title Only"
    subtitle: str = ""
    bullets: list[str] = field(default_factory=list)
    table: list[list[str]] = field(default_factory=list)  # first row: headers
    rag_columns: tuple[int, ...] = ()
    series: MeasureSeries | None = None
    side: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    table_font: int = 14


def plan_deck(ws: Workspace, round_id: str, priority_ids: list[str] | None = None
              ) -> list[Slide]:
    reg, led = ws.register, ws.ledger
    rnd = reg.round(round_id)
    prev = reg.previous_round(round_id)
    summaries = priority_summaries(reg, led, round_id)
    if priority_ids:
        unknown = set(priority_ids) - {s.priority.id for s in summaries}
        if unknown:
            raise UsageError(f"unknown priority {', '.join(sorted(unknown))}")
        summaries = [s for s in summaries if s.priority.id in priority_ids]
    slides = [Slide("title", fit(ws.programme, 90), layout="Title Slide",
                    subtitle=f"Prime Minister's stocktake\n{rnd.label}\n{ws.marking}",
                    notes=[f"Built by deliverypack from {ws.ledger_path.name}, round "
                           f"{round_id}, on {dt.date.today():%d %B %Y}."])]
    agenda = ["Summary: likelihood of delivery and data"]
    agenda += [fit(f"{s.priority.short}", 70) for s in summaries]
    agenda += ["Actions from the last stocktake", "Next steps"]
    slides.append(Slide("agenda", "Agenda", layout="Title and Content", bullets=agenda))
    header = ["Priority", "Dept", f"Likelihood {rnd.label}",
              f"Last ({reg.round(prev.id).label})" if prev else "Last", "Move", "Data RAG"]
    body = [[fit(s.priority.short, 48), s.department, s.likelihood or "–",
             s.likelihood_last or "–", s.movement or "", s.data_rag or "–"] for s in summaries]
    pages = chunks(body, ROWS_PER_TABLE)
    for k, page in enumerate(pages, start=1):
        title = "Summary" + (f" ({k} of {len(pages)})" if len(pages) > 1 else "")
        slides.append(Slide("summary", title, table=[header] + page, rag_columns=(2, 3, 5),
                            notes=_summary_notes(led, round_id, summaries)))
    for s in summaries:
        slides += _priority_slides(ws, s, round_id)
    slides += _actions_slides(ws, round_id)
    slides.append(Slide("next", "Next steps", layout="Title and Content", bullets=[
        "Agree the actions above, with owners and dates",
        f"Departments' next returns are due for the round after {rnd.label}",
        "Priorities rated AR or R to be considered for a priority review"]))
    return slides


def _summary_notes(led, round_id: str, summaries: list[PrioritySummary]) -> list[str]:
    notes = ["Likelihood of delivery is the unit's judgement (assessment workbook) where "
             "made, otherwise the department's self-assessment."]
    unit = led.ratings(round_id, "unit")
    for s in summaries:
        r = unit.get((s.priority.id, "likelihood"))
        if r is not None:
            notes.append(f"{s.priority.id} likelihood {r['value']}: {r['file_name']}, sheet "
                         f"'{r['sheet']}', cell {r['cell']} (round {round_id}).")
        for series in s.series:
            src = series.sources.get(series.latest_period or "")
            if src:
                notes.append(f"{s.priority.id} data RAG from {series.measure.id} actual "
                             f"{format_value(series.measure, series.latest_actual)}: "
                             f"{src.text()}.")
    return notes


def _assessment_lines(s: PrioritySummary) -> list[str]:
    lines = []
    for dim, _ in FRAMEWORK:
        now = s.unit_now.get(dim) or s.self_now.get(dim) or "–"
        last = s.unit_last.get(dim) or "–"
        lines.append(f"{FRAMEWORK_SHORT[dim]}: {now} (last {last})")
    return lines


def _priority_slides(ws: Workspace, s: PrioritySummary, round_id: str) -> list[Slide]:
    led = ws.ledger
    texts = led.texts(round_id)
    issues = [t for t in texts if t["priority_id"] == s.priority.id and t["kind"] == "issue"]
    asks = [t for t in texts if t["priority_id"] == s.priority.id and t["kind"] == "decision"]
    side = [f"Likelihood of delivery: {RAG_NAMES.get(s.likelihood or '', '–')} "
            f"{s.movement}".strip()]
    side += _assessment_lines(s)[:4]
    if s.next_milestone:
        side.append(f"Next milestone: {fit(s.next_milestone, 90)}")
    side += [f"Issue: {fit(t['text'], 90)}" for t in issues[:2]]
    side += [f"Decision sought: {fit(t['text'], 90)}" for t in asks[:2]]
    text_notes = [f"'{fit(t['text'], 60)}': {t['file_name']}, sheet '{t['sheet']}', cell "
                  f"{t['cell']}." for t in issues[:2] + asks[:2]]
    rating_notes = []
    for dim, _ in FRAMEWORK:
        for src, table in (("unit", led.ratings(round_id, "unit")),
                           ("self", led.ratings(round_id, "self"))):
            r = table.get((s.priority.id, dim))
            if r is not None:
                rating_notes.append(f"{FRAMEWORK_SHORT[dim]} ({src}) {r['value']}: "
                                    f"{r['file_name']}, sheet '{r['sheet']}', cell {r['cell']}.")
                break
    out = []
    if not s.series:
        out.append(Slide("assessment", fit(s.priority.short, 60), layout="Title and Content",
                         subtitle=fit(s.priority.target_statement, 160),
                         bullets=_assessment_lines(s) + side[5:],
                         notes=rating_notes + text_notes))
    for series in s.series:
        m = series.measure
        notes = [f"Headline: {series.headline()}"]
        for p in sorted(series.actual):
            notes.append(f"Actual {period_label(p)} {format_value(m, series.actual[p])}: "
                         f"{series.sources[p].text()}.")
        notes.append(f"Planned trajectory and target ({format_value(m, m.target)} by "
                     f"{period_label(m.target_period)}): register.xlsx, sheet 'Trajectories' "
                     f"and 'Measures', measure {m.id}.")
        notes.append("Forecast: least-squares line through the last six actuals.")
        key = [f"Latest: {format_value(m, series.latest_actual)} "
               f"({period_label(series.latest_period) if series.latest_period else '–'})",
               f"Trajectory: {format_value(m, series.latest_planned)}",
               f"Data RAG: {series.rag or '–'}",
               f"Target: {format_value(m, m.target)} by {period_label(m.target_period)}"]
        out.append(Slide("trajectory", _title(s.priority.short, m.name),
                         layout="Two Content", subtitle=fit(series.headline(), 170),
                         series=series, side=key + side,
                         notes=notes + rating_notes + text_notes))
        if m.breakdown:
            out += _league_slides(ws, series, round_id)
    return out


def _title(priority: str, measure: str) -> str:
    """'A&E 4 hours: ...' when it fits a line, else the measure's own name."""
    both = f"{priority}: {measure}"
    return both if len(both) <= TITLE_CHARS else fit(measure, TITLE_CHARS)


def _league_slides(ws: Workspace, series: MeasureSeries, round_id: str) -> list[Slide]:
    reg, led = ws.register, ws.ledger
    m = series.measure
    lg = league_for(reg, led, m, round_id)
    if lg is None:
        return []
    table, latest, src = lg.rows, lg.period, lg.sources
    pick = table if len(table) <= 10 else table[:5] + table[-5:]
    header = ["Rank", "Organisation", period_label(latest), "Against the rate for all", "RAG"]
    body = [[str(r.rank), fit(r.name, 44), format_value(m, r.value), r.short_flag, r.rag]
            for r in pick]
    title = f"{reg.priority(m.priority_id).short}: league table"
    return [Slide("league", fit(title, TITLE_CHARS), table=[header] + body,
                  rag_columns=(4,), table_font=12,
                  notes=[f"{r.name}: {src.get(r.org, '')}." for r in pick] +
                  ["Top and bottom five organisations; flags use funnel-plot limits "
                   "(95% and 99.8%) around the pooled rate."])]


def _actions_slides(ws: Workspace, round_id: str) -> list[Slide]:
    led = ws.ledger
    due_by = ws.register.round(round_id).due
    prev = ws.register.previous_round(round_id)
    actions = led.actions(origin_prefix="Stocktake")
    if prev:
        actions = [a for a in actions if a["origin"] <= f"Stocktake {prev.id}~"] or actions
    header = ["Action", "Description", "Owner", "Due", "Status"]
    body = []
    for a in actions:
        due = dt.date.fromisoformat(a["due"])
        overdue = a["status"] in ("open", "in progress") and due < due_by
        body.append([a["id"], fit(a["description"], 70), fit(a["owner"], 30),
                     f"{due:%d %b %Y}", a["status"] + (" (OVERDUE)" if overdue else "")])
    notes = []
    for a in actions:
        ups = led.action_updates(a["id"])
        if ups:
            notes.append(f"{a['id']} status '{ups[-1]['status']}': return sheet "
                         f"'{ups[-1]['sheet']}', cell {ups[-1]['cell']}.")
    pages = chunks(body, 8)
    return [Slide("actions", "Actions from the last stocktake" +
                  (f" ({k} of {len(pages)})" if len(pages) > 1 else ""),
                  table=[header] + page, notes=notes)
            for k, page in enumerate(pages, start=1)]


# ----------------------------------------------------------------------------- rendering
def render_deck(slides: list[Slide], template: Path, target: Path) -> Path:
    prs = Presentation(str(template))
    names = {layout.name for layout in prs.slide_layouts}
    missing = {s.layout for s in slides} - names
    if missing:
        raise UsageError(f"the slide template {template} has no layout named "
                         f"{', '.join(sorted(missing))}; it needs: Title Slide, Title and "
                         "Content, Two Content, Title Only")
    for spec in slides:
        slide = prs.slides.add_slide(prs.slide_layouts.get_by_name(spec.layout))
        if slide.shapes.title is not None:
            slide.shapes.title.text = spec.title
        if spec.kind == "title":
            slide.placeholders[1].text = spec.subtitle
        elif spec.layout == "Title and Content":
            _bullets(slide.placeholders[1], ([spec.subtitle] if spec.subtitle else [])
                     + spec.bullets)
        elif spec.kind == "trajectory":
            _trajectory(prs, slide, spec)
        if spec.table:
            _table(prs, slide, spec)
        if spec.notes:
            slide.notes_slide.notes_text_frame.text = "Sources:\n" + "\n".join(spec.notes)
    with atomic_path(target) as tmp:
        prs.save(str(tmp))
    return target


def _bullets(placeholder, lines: list[str], size: int = 18) -> None:
    tf = placeholder.text_frame
    tf.word_wrap = True
    for i, line in enumerate(lines):
        p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        p.text = line
        p.font.size = Pt(size)


def _rag_cell(cell, code: str) -> None:
    cell.text = code
    para = cell.text_frame.paragraphs[0]
    para.alignment = PP_ALIGN.CENTER
    para.font.bold = True
    if code in RAG_RGB:
        cell.fill.solid()
        cell.fill.fore_color.rgb = RGBColor.from_string(RAG_RGB[code])
        para.font.color.rgb = RGBColor.from_string(RAG_TEXT[code])


def _table(prs, slide, spec: Slide) -> None:
    rows, cols = len(spec.table), len(spec.table[0])
    left, top = Emu(int(0.6 * 914400)), Emu(int(1.45 * 914400))
    width = prs.slide_width - 2 * left
    height = Emu(int(0.4 * 914400 * spec.table_font / 14)) * rows
    table = slide.shapes.add_table(rows, cols, left, top, width, height).table
    weights = [max(len(str(r[j])) for r in spec.table) for j in range(cols)]
    total = sum(min(w, 60) + 6 for w in weights)
    for j, w in enumerate(weights):
        table.columns[j].width = int(width * (min(w, 60) + 6) / total)
    for i, row in enumerate(spec.table):
        for j, value in enumerate(row):
            cell = table.cell(i, j)
            if i and j in spec.rag_columns:
                _rag_cell(cell, value)
            else:
                cell.text = str(value)
            for p in cell.text_frame.paragraphs:
                p.font.size = Pt(spec.table_font)
                if i == 0:
                    p.font.bold = True


def _trajectory(prs, slide, spec: Slide) -> None:
    series = spec.series
    if series is None:
        raise ValueError(f"trajectory slide {spec.title!r} was planned without a series")
    m = series.measure
    left_ph, right_ph = slide.placeholders[1], slide.placeholders[2]
    # the headline sentence sits under the title, across the slide
    box = slide.shapes.add_textbox(Emu(int(0.6 * 914400)), Emu(int(1.2 * 914400)),
                                   prs.slide_width - Emu(int(1.2 * 914400)),
                                   Emu(int(0.5 * 914400)))
    box.text_frame.word_wrap = True
    box.text_frame.text = spec.subtitle
    box.text_frame.paragraphs[0].font.size = Pt(15)
    box.text_frame.paragraphs[0].font.italic = True
    box.text_frame.paragraphs[0].font.color.rgb = NAVY
    x, y, cx, cy = left_ph.left, left_ph.top + Emu(int(0.35 * 914400)), left_ph.width, \
        left_ph.height - Emu(int(0.35 * 914400))
    left_ph._element.getparent().remove(left_ph._element)  # the chart takes its place
    periods = series.periods
    fc: dict[str, float | None] = dict(series.projection.values)
    if series.latest_period:
        fc[series.latest_period] = series.latest_actual
    data = CategoryChartData(number_format='0.0"%"' if m.unit == "percent" else "#,##0")
    data.categories = [period_date(p) for p in periods]
    data.add_series("Planned trajectory", [series.planned.get(p) for p in periods])
    data.add_series("Actual", [series.actual.get(p) for p in periods])
    data.add_series("Forecast", [fc.get(p) for p in periods])
    chart = slide.shapes.add_chart(XL_CHART_TYPE.LINE, x, y + Emu(int(0.15 * 914400)), cx,
                                   cy, data).chart
    chart.has_legend = True
    chart.legend.position = XL_LEGEND_POSITION.BOTTOM
    chart.legend.include_in_layout = False
    chart.font.size = Pt(12)
    styles = [("7F7F7F", MSO_LINE_DASH_STYLE.DASH, 2.0),
              ("1F3864", MSO_LINE_DASH_STYLE.SOLID, 3.0),
              ("2E75B6", MSO_LINE_DASH_STYLE.ROUND_DOT, 2.5)]
    for s, (rgb, dash, width) in zip(chart.plots[0].series, styles, strict=True):
        s.smooth = False
        s.format.line.color.rgb = RGBColor.from_string(rgb)
        s.format.line.dash_style = dash
        s.format.line.width = Pt(width)
        s.marker.style = XL_MARKER_STYLE.NONE
    if m.target_period in periods:  # the target: a diamond on the trajectory, labelled
        point = chart.plots[0].series[0].points[periods.index(m.target_period)]
        point.marker.style = XL_MARKER_STYLE.DIAMOND
        point.marker.size = 12
        point.marker.format.fill.solid()
        point.marker.format.fill.fore_color.rgb = RGBColor(0xC0, 0x00, 0x00)
        point.data_label.has_text_frame = True
        point.data_label.text_frame.text = f"Target {format_value(m, m.target)}"
    axis = chart.value_axis
    axis.has_major_gridlines = True
    if m.unit == "percent":  # a percentage axis ends at 100, and starts near the data
        low = min(v for v in list(series.planned.values()) + list(series.actual.values()) +
                  list(fc.values()) if v is not None)
        axis.maximum_scale = 100
        axis.minimum_scale = max(0, (int(low) - 5) // 10 * 10)
    axis.tick_labels.number_format = '0"%"' if m.unit == "percent" else "#,##0"
    axis.tick_labels.number_format_is_linked = False
    cat = chart.category_axis
    cat.tick_labels.number_format = "mmm yy"
    cat.tick_labels.number_format_is_linked = False
    span = len(periods) * (3 if m.frequency == "quarterly" else 1)
    _months_axis(chart, major=3 if span <= 24 else 6 if span <= 48 else 12)
    _bullets(right_ph, spec.side, size=14)


def _months_axis(chart, major: int = 3) -> None:
    """python-pptx writes the date axis in days; stocktakes count months."""
    ns = "http://schemas.openxmlformats.org/drawingml/2006/chart"
    for ax in chart._chartSpace.iter(f"{{{ns}}}dateAx"):
        base = ax.find(f"{{{ns}}}baseTimeUnit")
        if base is None:
            base = etree.SubElement(ax, f"{{{ns}}}baseTimeUnit")
            offset = ax.find(f"{{{ns}}}lblOffset")
            if offset is not None:
                offset.addnext(base)
        base.set("val", "months")
        for tag, val in (("majorUnit", str(major)), ("majorTimeUnit", "months")):
            el = ax.find(f"{{{ns}}}{tag}")
            if el is None:
                el = etree.SubElement(ax, f"{{{ns}}}{tag}")
                base.addnext(el) if tag == "majorUnit" else ax.find(
                    f"{{{ns}}}majorUnit").addnext(el)
            el.set("val", val)


def build_deck(ws: Workspace, round_id: str, *, priorities: list[str] | None = None,
               template: Path | None = None, target: Path | None = None) -> Path:
    target = Path(target or ws.outputs / f"stocktake-{round_id}.pptx")
    template = Path(template or TEMPLATE)
    if not template.exists():
        raise UsageError(f"no slide template at {template}")
    return render_deck(plan_deck(ws, round_id, priorities), template, target)
