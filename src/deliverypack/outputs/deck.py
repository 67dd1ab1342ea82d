"""The stocktake deck (.pptx) from the ledger, on the unit's branded template.

Two layers: `plan_deck` turns the ledger into plain slide view models (testable without a
file); `render_deck` draws them with python-pptx onto the template's named layouts. Every
trajectory is a native, editable PowerPoint chart, and every data slide's speaker notes
name the return file, sheet and cell of each number.

The deck leads with its message (the summary slide: on and off track, what changed, the
decisions sought), shows the assurance flags beside every judgement, and never cuts a
word: text is fitted by type size within limits, and a table that does not fit continues
on the next slide. Every slide carries the protective marking, the date and its number.
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
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.util import Emu, Pt

from ..consolidation.assurance import Flag, Recommendation, assurance_flags, decisions_sought
from ..consolidation.league import league_for
from ..consolidation.rag import format_value
from ..consolidation.views import MeasureSeries, PrioritySummary, priority_summaries
from ..foundation.domain import FRAMEWORK, FRAMEWORK_SHORT, RAG_NAMES, Register
from ..foundation.errors import UsageError
from ..foundation.files import atomic_path
from ..foundation.periods import period_date, period_label
from ..ledger.workspace import Workspace
from .facts import Issued, issued_on
from .slide_template import TEMPLATE
from .text import bold_px

RAG_RGB = {"G": "00B050", "AG": "C4D79B", "AR": "FFC000", "R": "FF0000"}
RAG_TEXT = {"G": "FFFFFF", "AG": "000000", "AR": "000000", "R": "FFFFFF"}
NAVY = RGBColor(0x1F, 0x38, 0x64)
FLAG_RED = RGBColor(0xC0, 0x00, 0x00)
TITLE_CHARS = 50  # what one line of a 28 pt bold title holds on a 16:9 slide
IN = 914400
# Type sizes the deck may use (points): never below MIN_PT on a slide a minister reads.
MIN_PT = 10
# the content area under the title and above the footer, in inches (on a 13.33 in slide)
TOP, BOTTOM = 1.3, 6.9
CHAR_EM = 0.56  # average glyph width as a share of the type size (a wide sans, to be safe)
LINE = 1.22  # line height as a share of the type size


# ----------------------------------------------------------------------------- fitting
def lines_for(text: str, width_in: float, pt: float) -> int:
    """Lines a paragraph wraps to in a box `width_in` wide at `pt` points (word wrap)."""
    per_line = max(int(width_in * 72 / (CHAR_EM * pt)), 1)
    lines, used = 1, 0
    for word in str(text).split():
        need = len(word) + (1 if used else 0)
        if used and used + need > per_line:
            lines += 1 + (len(word) - 1) // per_line
            used = len(word) % per_line or per_line
        else:
            used += need
            if used > per_line:
                lines += (used - 1) // per_line
                used = used % per_line or per_line
    return lines


def height_for(paragraphs: list[str], width_in: float, pt: float, gap: float = 0.25) -> float:
    """Inches the paragraphs need at `pt` (with `gap` lines between paragraphs)."""
    lines = sum(lines_for(p, width_in, pt) for p in paragraphs)
    return (lines + gap * max(len(paragraphs) - 1, 0)) * LINE * pt / 72 + 0.1


def size_to_fit(paragraphs: list[str], width_in: float, height_in: float,
                largest: int = 18, smallest: int = MIN_PT) -> int | None:
    """The largest type size at which the text fits the box; None if even `smallest`
    does not (then the caller continues on another slide)."""
    for pt in range(largest, smallest - 1, -1):
        if height_for(paragraphs, width_in, pt) <= height_in:
            return pt
    return None


def title_size(title: str, width_in: float = 12.13) -> int:
    """28 pt for a title that fits a line, smaller (to 20 pt, two lines) for a longer one."""
    for pt in (28, 26, 24):
        if lines_for(title, width_in, pt * 1.08) == 1:
            return pt
    return 22 if lines_for(title, width_in, 22 * 1.08) <= 2 else 20


# ----------------------------------------------------------------------------- view models
@dataclass
class Slide:
    kind: str  # title, summary, agenda, ratings, trajectory, assessment, league, actions, next
    title: str
    layout: str = "Title Only"
    subtitle: str = ""
    bullets: list[str] = field(default_factory=list)
    table: list[list[str]] = field(default_factory=list)  # first row: headers
    rag_columns: tuple[int, ...] = ()
    widths: list[float] = field(default_factory=list)  # column shares, when given
    series: MeasureSeries | None = None
    side: list[str] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    table_font: int = 14
    sections: list[tuple[str, list[str]]] = field(default_factory=list)  # summary slide
    message: str = ""  # the summary slide's one line
    key: str = ""  # a key printed at the foot of the slide
    theirs_label: str = "Department's own forecast"


@dataclass
class Context:
    """What every slide's foot says, and the round's facts the slides share."""

    marking: str
    programme: str
    issued: Issued  # the round's sign-off, never the day the file was built
    round_label: str


def plan_deck(workspace: Workspace, round_id: str, priority_ids: list[str] | None = None
              ) -> list[Slide]:
    reg, led = workspace.register, workspace.ledger
    rnd = reg.round(round_id)
    prev = reg.previous_round(round_id)
    summaries = priority_summaries(reg, led, round_id)
    if priority_ids:
        unknown = set(priority_ids) - {s.priority.id for s in summaries}
        if unknown:
            raise UsageError(f"unknown priority {', '.join(sorted(unknown))}")
        summaries = [s for s in summaries if s.priority.id in priority_ids]
    flags = assurance_flags(reg, led, round_id, summaries)
    recs = decisions_sought(reg, led, round_id, summaries, flags)
    last_label = prev.label if prev else "the last round"
    issued = issued_on(workspace, round_id)
    slides = [Slide("title", workspace.programme, layout="Title Slide",
                    subtitle=f"Prime Minister's stocktake\n{rnd.label} · {issued.text}\n"
                             f"{workspace.marking}",
                    notes=[f"Built by deliverypack from {workspace.ledger_path.name}, round "
                           f"{round_id}. Dated {issued.text}, {issued.basis}."])]
    slides.append(_summary_slide(reg, summaries, flags, recs, last_label))
    body: list[Slide] = _ratings_slides(led, round_id, summaries, flags, last_label)
    for s in summaries:
        body += _priority_slides(workspace, s, round_id, flags.get(s.priority.id, []),
                                 recs[s.priority.id])
    body += _actions_slides(workspace, round_id)
    body.append(_next_steps(reg, round_id, summaries, recs))
    # the agenda lists the titles of the slides after it, exactly as they read
    first = len(slides) + 2  # slide number of the first slide after the agenda
    items: list[list[str]] = []
    for n, sl in enumerate(body, start=first):
        base = sl.title.split(" (")[0] if sl.title.endswith(")") and " of " in sl.title \
            else sl.title
        if not items or items[-1][0] != base:
            items.append([base, str(n)])
    pages, pt = paginate([["Item", "Slide"]] + items, [0.88, 0.12], 12.13, BOTTOM - TOP,
                         16, 12)
    for k, page in enumerate(pages, 1):
        slides.append(Slide("agenda", "Agenda" + (f" ({k} of {len(pages)})"
                                                  if len(pages) > 1 else ""),
                            table=page, widths=[0.88, 0.12], table_font=pt))
    if len(pages) > 1:  # the agenda's own continuation pages shift the numbers after it
        for page in pages:
            for row in page[1:]:
                row[1] = str(int(row[1]) + len(pages) - 1)
    return slides + body


def paginate(table: list[list[str]], shares: list[float], width_in: float, height_in: float,
             largest: int = 14, smallest: int = 11) -> tuple[list[list[list[str]]], int]:
    """Split a table (first row headers) into pages that fit the box, at the largest type
    size that keeps it on as few pages as possible: (pages, type size)."""
    header, rows = table[0], table[1:]

    def row_h(row: list[str], pt: int) -> float:
        lines = max(lines_for(str(v), max(width_in * s - 0.2, 0.3), pt)
                    for v, s in zip(row, shares, strict=True))
        return lines * LINE * pt / 72 + 0.09

    best: tuple[int, int, list[list[list[str]]]] | None = None
    for pt in range(largest, smallest - 1, -1):
        pages: list[list[list[str]]] = []
        page: list[list[str]] = []
        used = row_h(header, pt)
        for row in rows:
            h = row_h(row, pt)
            if page and used + h > height_in:
                pages.append([header] + page)
                page, used = [], row_h(header, pt)
            page.append(row)
            used += h
        pages.append([header] + page)
        if best is None or len(pages) < best[1]:
            best = (pt, len(pages), pages)
        if len(pages) == 1:
            break
    assert best is not None
    return best[2], best[0]


def _on_track(s: PrioritySummary) -> bool | None:
    return None if s.likelihood is None else s.likelihood in ("G", "AG")


def _summary_slide(reg: Register, summaries: list[PrioritySummary],
                   flags: dict[str, list[Flag]], recs: dict[str, Recommendation],
                   last_label: str) -> Slide:
    """The opening slide: the message, on and off track, what changed, decisions sought."""
    n = len(summaries)
    on = [s for s in summaries if _on_track(s) is True]
    off = [s for s in summaries if _on_track(s) is False]
    unrated = [s for s in summaries if _on_track(s) is None]
    above = [s for s in summaries if any(f.code == "rating-above-data"
                                         for f in flags.get(s.priority.id, []))]
    message = f"{len(on)} of {n} priorities on track, {len(off)} off track"
    if above:
        message += (f"; {len(above)} rated better than {'its' if len(above) == 1 else 'their'}"
                    f" data support")
    where = [f"On track (likelihood G or AG): {len(on)}",
             f"Off track (AR or R): {len(off)}"
             + (f": {', '.join(s.priority.short for s in off)}" if off else "")]
    if unrated:
        where.append(f"Not yet rated: {', '.join(s.priority.short for s in unrated)}")
    moves = {"↑": [], "↓": [], "→": [], "new": []}  # type: dict[str, list[str]]
    for s in summaries:
        if s.movement in moves:
            moves[s.movement].append(f"{s.priority.short} ({s.likelihood_last} to "
                                     f"{s.likelihood})" if s.movement in "↑↓" else
                                     s.priority.short)
    changed = []
    if moves["↑"]:
        changed.append(f"Improved: {'; '.join(moves['↑'])}")
    if moves["↓"]:
        changed.append(f"Worse: {'; '.join(moves['↓'])}")
    changed.append(f"Unchanged: {len(moves['→'])} of {n}")
    if moves["new"]:
        changed.append(f"Rated for the first time: {', '.join(moves['new'])}")
    flagged = [s for s in summaries if flags.get(s.priority.id)]
    if flagged:
        def kinds(pid: str) -> str:
            return ", ".join(sorted({f.title.lower() for f in flags[pid]}))
        changed.append("Assurance flags: " + "; ".join(
            f"{s.priority.short} ({kinds(s.priority.id)})" for s in flagged))
    asks = top_decisions(summaries, flags, recs)
    return Slide("summary", "Summary", message=message,
                 sections=[("Where the programme stands", where),
                           (f"Since the last stocktake ({last_label})", changed),
                           ("Decisions sought from the Prime Minister", asks)],
                 notes=["On track: the unit's likelihood of delivery is G or AG; off track: "
                        "AR or R. Decisions sought: from the unit's assessment, the "
                        "department's return, or built from the data where neither gives "
                        "one (marked so), off-track priorities first."] +
                 [f"{r.priority_id}: {r.text} ({r.basis})" for r in recs.values()])


def top_decisions(summaries: list[PrioritySummary], flags: dict[str, list[Flag]],
                  recs: dict[str, Recommendation], most: int = 3) -> list[str]:
    """Two or three decisions for the Prime Minister: off-track and flagged priorities
    first; the same words asked by several priorities are asked once, naming them all."""
    order = {"R": 0, "AR": 1}

    def weight(s: PrioritySummary) -> tuple:
        return (order.get(s.likelihood or "", 2), -len(flags.get(s.priority.id, [])),
                s.priority.id)

    picked: dict[str, list[str]] = {}
    for s in sorted(summaries, key=weight):
        r = recs[s.priority.id]
        if r.text.startswith("No decision sought"):
            continue
        if r.text in picked or len(picked) < most:
            picked.setdefault(r.text, []).append(s.priority.short)
    out = []
    for text, who in picked.items():
        names = ", ".join(who[:3]) + (f" and {len(who) - 3} more" if len(who) > 3 else "")
        out.append(f"{names}: {text}")
    return out or ["None this round: the priorities are on track."]


RATINGS_KEY = ("Likelihood: the unit's judgement of delivery — G Green, AG Amber/Green, AR "
               "Amber/Red, R Red. Data RAG: latest actual against trajectory — G on or "
               "better, AG and AR within the measure's tolerances, R beyond. Move: ↑ better, "
               "↓ worse, → unchanged since {last}.")


def _ratings_slides(led, round_id: str, summaries: list[PrioritySummary],
                    flags: dict[str, list[Flag]], last_label: str) -> list[Slide]:
    header = ["Priority", "Dept", "Likelihood", f"Last ({last_label})", "Move", "Data RAG",
              "Assurance flags"]
    shares = [0.23, 0.07, 0.115, 0.12, 0.07, 0.09, 0.305]
    body = [[s.priority.short, s.department, s.likelihood or "–", s.likelihood_last or "–",
             s.movement or "", s.data_rag or "–",
             "; ".join(f.label for f in flags.get(s.priority.id, [])) or "none"]
            for s in summaries]
    pages, pt = paginate([header] + body, shares, 12.13, BOTTOM - TOP - 0.75, 14, 11)
    notes = _summary_notes(led, round_id, summaries)
    return [Slide("ratings", "Ratings at a glance" + (f" ({k} of {len(pages)})"
                                                     if len(pages) > 1 else ""),
                  table=page, rag_columns=(2, 3, 5), widths=shares, table_font=pt,
                  key=RATINGS_KEY.format(last=last_label), notes=notes)
            for k, page in enumerate(pages, start=1)]


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


def _priority_slides(workspace: Workspace, s: PrioritySummary, round_id: str, flags: list[Flag],
                     rec: Recommendation) -> list[Slide]:
    led = workspace.ledger
    texts = led.texts(round_id)
    issues = [t for t in texts if t["priority_id"] == s.priority.id and t["kind"] == "issue"]
    asks = [t for t in texts if t["priority_id"] == s.priority.id and t["kind"] == "decision"]
    side = [f"Likelihood of delivery: {RAG_NAMES.get(s.likelihood or '', '–')} "
            f"{s.movement}".strip()]
    side += _assessment_lines(s)[:4]
    if s.next_milestone:
        side.append(f"Next milestone: {s.next_milestone}")
    side += [f"Issue: {t['text']}" for t in issues[:1]]
    side.append(f"Decision sought: {rec.text}"
                + (" (built from the data)" if rec.from_data else ""))
    text_notes = [f"'{t['text']}': {t['file_name']}, sheet '{t['sheet']}', cell "
                  f"{t['cell']}." for t in issues[:1] + asks]
    text_notes.append(f"Decision sought: from {rec.basis}.")
    text_notes += [f"Assurance flag ({f.title}): {f.text}" for f in flags]
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
        out.append(Slide("assessment", s.priority.short, layout="Title and Content",
                         subtitle=s.priority.target_statement,
                         bullets=_assessment_lines(s) + side[5:], flags=flags,
                         notes=rating_notes + text_notes))
    dept = s.priority.department_id
    for series in s.series:
        m = series.measure
        notes = [f"Headline: {series.headline()}"]
        for p in sorted(series.actual):
            notes.append(f"Actual {period_label(p)} {format_value(m, series.actual[p])}: "
                         f"{series.sources[p].text()}.")
        notes.append(f"Planned trajectory and target ({format_value(m, m.target)} by "
                     f"{period_label(m.target_period)}): register.xlsx, sheet 'Trajectories' "
                     f"and 'Measures', measure {m.id}.")
        notes.append(f"Forecast: {series.projection.method}.")
        notes += [f"Revised: {r.text(m)} ({r.source.text()})." for r in series.revisions]
        if series.theirs:
            notes.append(f"{dept}'s own forecast: as typed in its returns (forecast column), "
                         f"{', '.join(period_label(p) for p in sorted(series.theirs))}.")
        key = [f"Latest: {format_value(m, series.latest_actual)} "
               f"({period_label(series.latest_period) if series.latest_period else '–'})",
               f"Trajectory: {format_value(m, series.latest_planned)}",
               f"Data RAG: {series.rag or '–'}",
               f"Target: {format_value(m, m.target)} by {period_label(m.target_period)}"]
        out.append(Slide("trajectory", _title(s.priority.short, m.name),
                         layout="Two Content", subtitle=series.headline(),
                         series=series, side=key + side, flags=flags,
                         notes=notes + rating_notes + text_notes,
                         theirs_label=f"{dept}'s own forecast"))
        if m.breakdown:
            out += _league_slides(workspace, series, round_id)
    return out


def _title(priority: str, measure: str) -> str:
    """'A&E 4 hours: ...' when it fits a line, else the measure's own name (never cut)."""
    both = f"{priority}: {measure}"
    return both if len(both) <= TITLE_CHARS else measure


def _league_slides(workspace: Workspace, series: MeasureSeries, round_id: str) -> list[Slide]:
    reg, led = workspace.register, workspace.ledger
    m = series.measure
    lg = league_for(reg, led, m, round_id)
    if lg is None:
        return []
    pick = lg.pick(5)
    n = len(lg.rows)
    kind = m.breakdown or "organisation"
    shown = (f"Top and bottom 5 of {n} {kind}s" if len(pick) < n
             else f"All {n} {kind}s")
    if lg.expected and lg.expected > n:
        shown += f" ({lg.expected - n} of {lg.expected} sent no figure)"
    value_head = period_label(lg.period) + (f" ({lg.per})" if lg.per else "")
    header = ["Order" if lg.basis == "none" else "Rank", "Organisation", value_head]
    if lg.pooled is not None and lg.basis != "rate-quartile":
        header.append(f"Against the rate for all ({lg.pooled:.1f}%)")
    elif lg.basis in ("quartile", "rate-quartile", "population-quartile"):
        header.append("Quartile (1 = best)")
    header.append({"standard": f"RAG against {format_value(m, m.target)} standard",
                   "none": "RAG"}.get(lg.basis, "RAG by quartile"))
    body = []
    for i, r in enumerate(pick):
        if i and pick[i - 1].rank < r.rank - (1 if not pick[i - 1].tied else 0) and \
                lg.rows.index(r) - lg.rows.index(pick[i - 1]) > 1:
            gap = lg.rows.index(r) - lg.rows.index(pick[i - 1]) - 1
            body.append(["", f"{gap} {kind}{'s' if gap != 1 else ''} not shown", "",
                         *([""] * (len(header) - 3))])
        value = format_value(m, r.rate if r.rate is not None else r.value)
        row = [r.rank_label, r.name, value]
        if len(header) == 5:
            row.append(r.short_flag if lg.pooled is not None and lg.basis != "rate-quartile"
                       else str(r.quartile))
        row.append(r.rag or "not rated")
        body.append(row)
    shares = [0.07, 0.45, 0.12, 0.2, 0.16] if len(header) == 5 else [0.08, 0.55, 0.17, 0.2]
    title = f"{reg.priority(m.priority_id).short}: league table"
    subtitle = (f"{shown}, {period_label(lg.period)}. {lg.rag_words(m)}"
                + ("; funnel limits (95% and 99.8%) around the rate for all, by volume"
                   if lg.pooled is not None and lg.basis != "rate-quartile" else "")
                + ". Ties share a rank (=).")
    pages, pt = paginate([header] + body, shares, 12.13, BOTTOM - TOP - 0.7, 13, 11)
    return [Slide("league", title + (f" ({k} of {len(pages)})" if len(pages) > 1 else ""),
                  table=page, rag_columns=(len(header) - 1,), widths=shares,
                  subtitle=subtitle, table_font=pt,
                  notes=[f"{r.name}: {lg.sources.get(r.org, '')}." for r in pick] +
                  [f"{shown}. {lg.rag_words(m)}. Ranks are shared by equal values as "
                   "printed."])
            for k, page in enumerate(pages, start=1)]


def _next_round(reg: Register, round_id: str):
    later = sorted((r for r in reg.rounds if r.id > round_id), key=lambda r: r.id)
    return later[0] if later else None


def _actions_slides(workspace: Workspace, round_id: str) -> list[Slide]:
    """The actions agreed at the last stocktake, then every other open action on the
    programme; open and overdue first."""
    reg, led = workspace.register, workspace.ledger
    due_by = reg.round(round_id).due
    prev = reg.previous_round(round_id)
    agreed_at = f"Stocktake {prev.id}" if prev else None
    all_actions = led.actions()
    last = [a for a in all_actions if agreed_at and a["origin"] == agreed_at]
    others = [a for a in all_actions if a not in last and a["status"] in ("open", "in progress")]

    def state(a) -> tuple[int, str]:
        due = dt.date.fromisoformat(a["due"])
        live = a["status"] in ("open", "in progress")
        return (0 if live and due < due_by else 1 if live else 2, a["due"])

    header = ["Action", "Description", "Owner", "Due", "Status", "Agreed at"]
    body = []
    for a in sorted(last, key=state) + sorted(others, key=state):
        due = dt.date.fromisoformat(a["due"])
        overdue = state(a)[0] == 0
        body.append([a["id"], a["description"], a["owner"], f"{due:%d %b %Y}",
                     a["status"] + (" (overdue)" if overdue else ""), a["origin"]])
    nxt = _next_round(reg, round_id)
    due_line = (f"Next returns due {nxt.due:%d %B %Y} ({nxt.label})." if nxt else
                "The next round's returns are not yet scheduled in the register.")
    if last:
        lead = (f"{len(last)} action(s) agreed at the stocktake of "
                f"{prev.label if prev else ''}; open actions from elsewhere below them. ")
    else:
        lead = (f"No actions were recorded at the stocktake of "
                f"{prev.label if prev else 'the last round'}; the open actions on the "
                "programme are below. " if prev else "Open actions on the programme. ")
    notes = []
    for a in last + others:
        ups = led.action_updates(a["id"])
        if ups:
            notes.append(f"{a['id']} status '{ups[-1]['status']}': return sheet "
                         f"'{ups[-1]['sheet']}', cell {ups[-1]['cell']}.")
    shares = [0.13, 0.35, 0.2, 0.1, 0.1, 0.12]
    if not body:
        body = [["", "No open actions.", "", "", "", ""]]
    pages, pt = paginate([header] + body, shares, 12.13, BOTTOM - TOP - 0.75, 14, 11)
    return [Slide("actions", "Actions from the last stocktake" +
                  (f" ({k} of {len(pages)})" if len(pages) > 1 else ""),
                  table=page, widths=shares, subtitle=lead + due_line,
                  table_font=pt, notes=notes)
            for k, page in enumerate(pages, start=1)]


def _next_steps(reg: Register, round_id: str, summaries: list[PrioritySummary],
                recs: dict[str, Recommendation]) -> Slide:
    nxt = _next_round(reg, round_id)
    off = [s.priority.short for s in summaries if _on_track(s) is False]
    bullets = ["Agree the decisions sought on the summary slide, with owners and dates"]
    bullets.append(f"Departments' next returns are due {nxt.due:%d %B %Y} for {nxt.label}"
                   if nxt else "Set the next round and its due date in the register")
    if off:
        bullets.append(f"Consider a priority review for those off track: {', '.join(off)}")
    return Slide("next", "Next steps", layout="Title and Content", bullets=bullets)


# ----------------------------------------------------------------------------- rendering
def render_deck(slides: list[Slide], template: Path, target: Path,
                context: Context | None = None) -> Path:
    prs = Presentation(str(template))
    names = {layout.name for layout in prs.slide_layouts}
    missing = {s.layout for s in slides} - names
    if missing:
        raise UsageError(f"the slide template {template} has no layout named "
                         f"{', '.join(sorted(missing))}; it needs: Title Slide, Title and "
                         "Content, Two Content, Title Only")
    scale = prs.slide_width / 12192000  # a 4:3 template is narrower: scale the geometry
    for number, spec in enumerate(slides, start=1):
        slide = prs.slides.add_slide(prs.slide_layouts.get_by_name(spec.layout))
        if slide.shapes.title is not None:
            slide.shapes.title.text = spec.title
            tf = slide.shapes.title.text_frame
            tf.word_wrap = True
            if spec.kind != "title":
                for p in tf.paragraphs:
                    p.font.size = Pt(title_size(spec.title, 12.13 * scale))
        if spec.kind == "title":
            slide.placeholders[1].text = spec.subtitle
        elif spec.kind == "summary":
            _summary(prs, slide, spec, scale)
        elif spec.layout == "Title and Content":
            body = ([spec.subtitle] if spec.subtitle else []) + spec.bullets
            body += [f"Assurance: {f.label}" for f in spec.flags]
            _bullets(slide.placeholders[1], body,
                     size_to_fit(body, 12.13 * scale - 0.4, 5.2, 20, MIN_PT) or MIN_PT)
        elif spec.kind == "trajectory":
            _trajectory(prs, slide, spec, scale)
        if spec.table:
            _table(prs, slide, spec, scale)
        if spec.key:
            _textbox(slide, (0.6 * scale, BOTTOM - 0.62, 12.13 * scale, 0.6),
                     [spec.key], size_to_fit([spec.key], 12.13 * scale, 0.6, 11, MIN_PT)
                     or MIN_PT, italic=True)
        if context is not None and spec.kind != "title":
            _foot(slide, context, number, len(slides), scale)
        elif context is not None:
            _foot(slide, context, number, len(slides), scale, number_only=False)
        if spec.notes:
            slide.notes_slide.notes_text_frame.text = "Sources:\n" + "\n".join(spec.notes)
    with atomic_path(target) as tmp:
        prs.save(str(tmp))
    return target


def _textbox(slide, box: tuple[float, float, float, float], paragraphs: list[str],
             size: float, *, bold: bool = False, italic: bool = False, color=None,
             align=None):
    x, y, w, h = box
    shape = slide.shapes.add_textbox(Emu(int(x * IN)), Emu(int(y * IN)), Emu(int(w * IN)),
                                     Emu(int(h * IN)))
    tf = shape.text_frame
    tf.word_wrap = True
    tf.margin_left = tf.margin_right = Emu(int(0.05 * IN))
    tf.margin_top = tf.margin_bottom = Emu(int(0.02 * IN))
    for i, text in enumerate(paragraphs):
        p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        p.text = text
        p.font.size = Pt(size)
        p.font.bold = bold
        p.font.italic = italic
        if color is not None:
            p.font.color.rgb = color
        if align is not None:
            p.alignment = align
    return shape


def _foot(slide, ctx: Context, number: int, total: int, scale: float,
          number_only: bool = True) -> None:
    """The marking, the paper's date and the slide number, on every slide."""
    y, h = 7.08, 0.3
    _textbox(slide, (0.6 * scale, y, 3.4 * scale, h), [ctx.marking], 10, bold=True)
    _textbox(slide, (4.1 * scale, y, 5.2 * scale, h),
             [f"Stocktake {ctx.round_label} · {ctx.issued.text}"], 10,
             align=PP_ALIGN.CENTER)
    _textbox(slide, (9.4 * scale, y, 3.33 * scale, h), [f"Slide {number} of {total}"], 10,
             align=PP_ALIGN.RIGHT)


def _summary(prs, slide, spec: Slide, scale: float) -> None:
    width = 12.13 * scale
    _textbox(slide, (0.6 * scale, TOP, width, 0.55), [spec.message],
             size_to_fit([spec.message], width, 0.55, 24, 16) or 16, bold=True, color=NAVY)
    col_w = (width - 0.4) / 2
    left = spec.sections[:2]
    right = spec.sections[2:]
    top = TOP + 0.75
    height = BOTTOM - top
    # one type size for both columns: the largest at which each fits
    size = min(size_to_fit([line for head, lines in sections for line in [head] + lines],
                           col_w - 0.1, height, 18, MIN_PT) or MIN_PT
               for sections in (left, right))
    for x, sections in ((0.6 * scale, left), (0.6 * scale + col_w + 0.4, right)):
        shape = _textbox(slide, (x, top, col_w, height), [], size)
        tf = shape.text_frame
        first = True
        for head, lines in sections:
            for j, text in enumerate([head] + lines):
                p = tf.paragraphs[0] if first else tf.add_paragraph()
                first = False
                p.text = text if j == 0 else (f"{j}. {text}" if "Decisions" in head
                                              else f"• {text}")
                p.font.size = Pt(size + (1 if j == 0 else 0))
                p.font.bold = j == 0
                if j == 0:
                    p.font.color.rgb = NAVY
                    p.space_before = Pt(size * 0.6) if p is not tf.paragraphs[0] else Pt(0)


def _bullets(placeholder, lines: list[str], size: int = 18) -> None:
    tf = placeholder.text_frame
    tf.word_wrap = True
    for i, line in enumerate(lines):
        p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        p.text = line
        p.font.size = Pt(size)
        if line.startswith("Assurance: "):
            p.font.color.rgb = FLAG_RED
            p.font.bold = True


def _rag_cell(cell, code: str) -> None:
    cell.text = code
    para = cell.text_frame.paragraphs[0]
    para.alignment = PP_ALIGN.CENTER
    para.font.bold = True
    if code in RAG_RGB:
        cell.fill.solid()
        cell.fill.fore_color.rgb = RGBColor.from_string(RAG_RGB[code])
        para.font.color.rgb = RGBColor.from_string(RAG_TEXT[code])


def _table(prs, slide, spec: Slide, scale: float) -> None:
    rows, cols = len(spec.table), len(spec.table[0])
    top = TOP + 0.15
    if spec.subtitle and spec.kind in ("league", "actions"):
        size = size_to_fit([spec.subtitle], 12.13 * scale, 0.55, 14, MIN_PT) or MIN_PT
        _textbox(slide, (0.6 * scale, TOP - 0.05, 12.13 * scale, 0.6), [spec.subtitle], size,
                 italic=True, color=NAVY)
        top = TOP + 0.6
    left = Emu(int(0.6 * scale * IN))
    width = Emu(int(12.13 * scale * IN))
    height = Emu(int(0.3 * IN * spec.table_font / 14)) * rows
    table = slide.shapes.add_table(rows, cols, left, Emu(int(top * IN)), width, height).table
    shares = header_shares(spec.table[0], spec.widths or _shares(spec.table),
                           12.13 * scale, spec.table_font)
    for j, s in enumerate(shares):
        table.columns[j].width = int(width * s / sum(shares))
    for i, row in enumerate(spec.table):
        for j, value in enumerate(row):
            cell = table.cell(i, j)
            cell.margin_top = cell.margin_bottom = Emu(int(0.03 * IN))
            cell.vertical_anchor = MSO_ANCHOR.TOP
            if i and j in spec.rag_columns:
                _rag_cell(cell, value)
            else:
                cell.text = str(value)
            for p in cell.text_frame.paragraphs:
                p.font.size = Pt(spec.table_font)
                if i == 0:
                    p.font.bold = True
                if i and j == cols - 1 and spec.kind == "ratings" and value != "none":
                    p.font.color.rgb = FLAG_RED


CELL_MARGINS = 0.25  # inches a table cell keeps clear of text, both sides, with room


def header_shares(header: list[str], shares: list[float], width_in: float, pt: float
                  ) -> list[float]:
    """Column shares in which no heading word breaks inside itself: a column too narrow
    for its longest heading word takes the width from the column with most to spare."""
    total = sum(shares)
    widths = [width_in * s / total for s in shares]
    need = [max((bold_px(w, pt) / 96 for w in str(h).split()), default=0.0) + CELL_MARGINS
            for h in header]
    for j in range(len(widths)):
        short = need[j] - widths[j]
        if short > 0:
            k = max(range(len(widths)), key=lambda i: widths[i] - need[i])
            if k != j and widths[k] - need[k] >= short:
                widths[j] += short
                widths[k] -= short
    return [w / width_in for w in widths]


def _shares(table: list[list[str]]) -> list[float]:
    weights = [max(len(str(r[j])) for r in table) for j in range(len(table[0]))]
    return [min(w, 60) + 6 for w in weights]


def _trajectory(prs, slide, spec: Slide, scale: float) -> None:
    series = spec.series
    if series is None:
        raise ValueError(f"trajectory slide {spec.title!r} was planned without a series")
    m = series.measure
    left_ph, right_ph = slide.placeholders[1], slide.placeholders[2]
    # the headline sentence sits under the title, across the slide
    width = 12.13 * scale
    size = size_to_fit([spec.subtitle], width, 0.62, 15, MIN_PT) or MIN_PT
    _textbox(slide, (0.6 * scale, TOP - 0.05, width, 0.65), [spec.subtitle], size,
             italic=True, color=NAVY)
    x, y, cx = left_ph.left, Emu(int((TOP + 0.65) * IN)), left_ph.width
    revised = revision_lines(series)
    foot_h = min(0.95, height_for(revised, cx / IN, 11)) if revised else 0.0
    cy = Emu(int((BOTTOM - TOP - 0.7 - foot_h) * IN))
    if revised:  # under the chart: which figures were restated, from what, and why
        _textbox(slide, (x / IN, TOP + 0.65 + (cy / IN) + 0.02, cx / IN, foot_h), revised,
                 size_to_fit(revised, cx / IN, foot_h, 11, MIN_PT) or MIN_PT, italic=True,
                 color=FLAG_RED)
    left_ph._element.getparent().remove(left_ph._element)  # the chart takes its place
    periods = series.periods
    fc: dict[str, float | None] = dict(series.projection.values)
    if fc and series.latest_period:  # the forecast is drawn from the last actual
        fc[series.latest_period] = series.latest_actual
    data = CategoryChartData(number_format='0.0"%"' if m.unit == "percent" else "#,##0")
    data.categories = [period_date(p) for p in periods]
    data.add_series("Planned trajectory", [series.planned.get(p) for p in periods])
    data.add_series("Actual", [series.actual.get(p) for p in periods])
    data.add_series("Forecast (unit's projection)", [fc.get(p) for p in periods])
    styles = [("7F7F7F", MSO_LINE_DASH_STYLE.DASH, 2.0),
              ("1F3864", MSO_LINE_DASH_STYLE.SOLID, 3.0),
              ("2E75B6", MSO_LINE_DASH_STYLE.ROUND_DOT, 2.5)]
    if series.theirs:
        theirs: dict[str, float | None] = dict(series.theirs)
        if series.latest_period:
            theirs[series.latest_period] = series.latest_actual
        data.add_series(spec.theirs_label, [theirs.get(p) for p in periods])
        styles.append(("C55A11", MSO_LINE_DASH_STYLE.DASH_DOT, 2.0))
    chart = slide.shapes.add_chart(XL_CHART_TYPE.LINE, x, y, cx, cy, data).chart
    chart.has_legend = True
    chart.legend.position = XL_LEGEND_POSITION.BOTTOM
    chart.legend.include_in_layout = False
    chart.font.size = Pt(12)
    for s, (rgb, dash, w) in zip(chart.plots[0].series, styles, strict=True):
        s.smooth = False
        s.format.line.color.rgb = RGBColor.from_string(rgb)
        s.format.line.dash_style = dash
        s.format.line.width = Pt(w)
        s.marker.style = XL_MARKER_STYLE.NONE
    for rev in series.revisions:  # a revised actual: a hollow circle on the line
        if rev.period in periods:
            point = chart.plots[0].series[1].points[periods.index(rev.period)]
            point.marker.style = XL_MARKER_STYLE.CIRCLE
            point.marker.size = 9
            point.marker.format.fill.solid()
            point.marker.format.fill.fore_color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
            point.marker.format.line.color.rgb = FLAG_RED
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
    values = [v for v in list(series.planned.values()) + list(series.actual.values()) +
              list(fc.values()) + list(series.theirs.values()) if v is not None]
    if m.unit == "percent" and values:  # a percentage axis ends at 100, starts near the data
        axis.maximum_scale = 100
        axis.minimum_scale = max(0, (int(min(values)) - 5) // 10 * 10)
    axis.tick_labels.number_format = '0"%"' if m.unit == "percent" else "#,##0"
    axis.tick_labels.number_format_is_linked = False
    axis.has_title = True
    axis.axis_title.text_frame.text = axis_unit(m)
    axis.axis_title.text_frame.paragraphs[0].font.size = Pt(11)
    axis.axis_title.text_frame.paragraphs[0].font.bold = False
    body = axis.axis_title.text_frame._txBody.find(
        "{http://schemas.openxmlformats.org/drawingml/2006/main}bodyPr")
    body.set("rot", "0")  # read across, as printed type is read (and checked)
    body.set("vert", "horz")
    cat = chart.category_axis
    cat.tick_labels.number_format = "mmm yy"
    cat.tick_labels.number_format_is_linked = False
    span = len(periods) * (3 if m.frequency == "quarterly" else 1)
    _months_axis(chart, major=3 if span <= 24 else 6 if span <= 48 else 12)
    # the side panel: key figures, the judgement, flags beside it, the decision sought
    px, py, pw = right_ph.left / IN, TOP + 0.65, right_ph.width / IN
    ph = BOTTOM - py
    right_ph._element.getparent().remove(right_ph._element)
    lines = spec.side[:5] + [f"Assurance: {f.label}" for f in spec.flags] + spec.side[5:]
    size = size_to_fit(lines, pw - 0.1, ph, 14, MIN_PT) or MIN_PT
    box = _textbox(slide, (px, py, pw, ph), lines, size)
    for p in box.text_frame.paragraphs:
        if p.text.startswith("Assurance: "):
            p.font.color.rgb = FLAG_RED
            p.font.bold = True
        elif p.text.startswith(("Likelihood of delivery", "Decision sought")):
            p.font.bold = True
        p.space_after = Pt(2)


def revision_lines(series: MeasureSeries, most: int = 2) -> list[str]:
    """The footnote under a chart: each revised figure (circled on the line), at most
    `most` of them, the rest counted and listed in the speaker notes."""
    m = series.measure
    lines = [f"○ {r.text(m)}" for r in series.revisions[:most]]
    extra = len(series.revisions) - most
    if extra > 0:
        lines.append(f"and {extra} more revised figure{'s' if extra > 1 else ''}: see the "
                     "notes")
    return lines


def axis_unit(m) -> str:
    """The value axis title: what one unit on it is."""
    return {"percent": "Per cent", "points": "Percentage points", "gbp": "£",
            "rate": "Rate", "count": "Number"}[m.unit] + (
        f" ({m.unit_label})" if m.unit in ("rate",) and m.unit_label != "rate" else "")


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


def build_deck(workspace: Workspace, round_id: str, *, priorities: list[str] | None = None,
               template: Path | None = None, target: Path | None = None) -> Path:
    target = Path(target or workspace.outputs / f"stocktake-{round_id}.pptx")
    template = Path(template or TEMPLATE)
    if not template.exists():
        raise UsageError(f"no slide template at {template}")
    context = Context(workspace.marking, workspace.programme, issued_on(workspace, round_id),
                      workspace.register.round(round_id).label)
    return render_deck(plan_deck(workspace, round_id, priorities), template, target, context)

