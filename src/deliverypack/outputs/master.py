"""The master assessment workbook, built from the ledger alone (XlsxWriter).

Every number is a value computed in consolidation/ (data RAG, forecast, league tables,
assurance flags); every text a department typed is written with write_string, and the
workbook is opened with strings_to_formulas off, so nothing typed ever becomes a formula.

It prints: every sheet is A4 landscape, one page wide, with the protective marking in its
header and footer, page numbers, print titles and UK dates; columns are kept to about
SHEET_CHARS characters so type prints at 8 pt or more; every row with wrapped text is
given the height its lines need; charts sit beside their table, never over cells.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import xlsxwriter

from ..consolidation.assurance import FLAG_TITLES, Flag, assurance_flags
from ..consolidation.league import league_for
from ..consolidation.rag import data_rag, format_value, shortfall
from ..consolidation.views import MeasureSeries, priority_summaries, returns_status
from ..foundation.domain import FRAMEWORK, Measure
from ..foundation.files import atomic_path
from ..foundation.periods import period_date, period_label
from ..ledger.signoff import counts
from ..ledger.workspace import Workspace
from .facts import Issued, issued_on
from .text import bold_px

RAG_FILL = {"G": "#00B050", "AG": "#C4D79B", "AR": "#FFC000", "R": "#FF0000"}
RAG_FONT = {"G": "#FFFFFF", "AG": "#000000", "AR": "#000000", "R": "#FFFFFF"}
NAVY = "#1F3864"
SHEET_CHARS = 145  # widest sheet, in column-width characters: prints at about 8 pt on A4
LINE_PT = 15  # the height of one line of 11 pt text in a row
VARIANCE = "Variance: better (+) / worse (−) than trajectory"
FRAMEWORK_HEAD = {"challenge": "Challenge", "quality": "Quality", "capacity": "Capacity",
                  "stage": "Stage", "likelihood": "Likelihood"}


class _Styles:
    def __init__(self, wb):
        self.wb = wb
        self.title = wb.add_format({"bold": True, "font_size": 16, "font_color": NAVY})
        self.sub = wb.add_format({"italic": True, "font_color": "#595959"})
        self.sub_wrap = wb.add_format({"italic": True, "font_color": "#595959",
                                       "text_wrap": True, "valign": "top"})
        self.head = wb.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": NAVY,
                                   "text_wrap": True, "valign": "vcenter", "border": 1})
        self.group = wb.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#2E75B6",
                                    "align": "center", "border": 1})
        self.text = wb.add_format({"text_wrap": True, "valign": "top", "border": 1})
        self.cell = wb.add_format({"border": 1, "valign": "top"})
        self.date = wb.add_format({"border": 1, "num_format": "dd mmm yyyy", "valign": "top"})
        self.month = wb.add_format({"border": 1, "num_format": "mmm yyyy", "valign": "top"})
        self.center = wb.add_format({"border": 1, "align": "center", "valign": "top"})
        self.block = wb.add_format({"bold": True, "font_color": NAVY, "font_size": 12})
        self.flag = wb.add_format({"text_wrap": True, "valign": "top", "border": 1,
                                   "font_color": "#C00000", "bold": True})
        self.small_text = wb.add_format({"text_wrap": True, "valign": "top", "border": 1})
        self.stamp = wb.add_format({"border": 1, "num_format": "dd mmm yyyy hh:mm",
                                    "valign": "top"})
        self.rag = {k: wb.add_format({"bg_color": v, "font_color": RAG_FONT[k], "bold": True,
                                      "align": "center", "valign": "top", "border": 1})
                    for k, v in RAG_FILL.items()}
        self.nums: dict[str, Any] = {}

    def num(self, measure: Measure | None, decimals: int | None = None, *,
            diff: bool = False):
        """A number format that prints the measure's unit: 94.1%, +0.7 pts, £1,200."""
        unit = measure.unit if measure is not None else "count"
        if decimals is None:
            decimals = 1 if unit in ("percent", "points", "rate") else 0
        body = "#,##0" + ("." + "0" * decimals if decimals else "")
        suffix = {"percent": '" pts"' if diff else '"%"', "points": '" pts"'}.get(unit, "")
        prefix = '"£"' if unit == "gbp" else ""
        fmt = prefix + body + suffix
        if diff:  # signed both ways, so better and worse read at a glance
            fmt = f"+{fmt};−{fmt};{fmt}"
        if fmt not in self.nums:
            self.nums[fmt] = self.wb.add_format({"border": 1, "num_format": fmt,
                                                 "valign": "top"})
        return self.nums[fmt]


def _put(sheet, r: int, c: int, value: Any, fmt=None) -> None:
    """Write one value with the right method: text is always a string, never a formula."""
    if value is None or value == "":
        sheet.write_blank(r, c, None, fmt)
    elif isinstance(value, str):
        sheet.write_string(r, c, value, fmt)
    elif isinstance(value, dt.date):
        sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), fmt)
    elif isinstance(value, bool):
        sheet.write_boolean(r, c, value, fmt)
    else:
        sheet.write_number(r, c, value, fmt)


def _lines(text: str | None, width: float) -> int:
    """Lines a text wraps to in a column `width` characters wide (word wrap; a column
    holds about its width in characters of text, a little more than of digits)."""
    per_line = max(int(width) - 1, 1)
    total = 0
    for para in str(text or "").split("\n"):
        lines, used = 1, 0
        for word in para.split():
            need = len(word) + (1 if used else 0)
            if used and used + need > per_line:
                lines += 1 + (len(word) - 1) // per_line
                used = len(word) % per_line or per_line
            else:
                used += need
                while used > per_line:
                    lines += 1
                    used -= per_line
        total += lines
    return total


def _fit_row(sheet, r: int, texts: list[tuple[Any, float]], least: int = 1) -> None:
    """Give a row the height its wrapped text needs (office suites do not grow rows
    written by a streaming writer): texts are (value, column width in characters)."""
    lines = max([least] + [_lines(t, w) for t, w in texts if isinstance(t, str)])
    if lines > 1:
        sheet.set_row(r, LINE_PT * lines + 2)


def _fit_values(sheet, r: int, values: list[Any], widths: Sequence[float], least: int = 1) -> None:
    _fit_row(sheet, r, list(zip(values, widths, strict=False)), least)


def _rag(sheet, st: _Styles, r: int, c: int, code: str | None) -> None:
    """RAG as a coloured cell with its letters: never colour alone."""
    _put(sheet, r, c, code or "", st.rag.get(code or "", st.center))


def head_chars(word: str) -> float:
    """Column width (in characters) a bold 11 pt heading word needs not to break inside
    itself when printed: a column of width w is about 7w + 5 pixels wide, and LibreOffice
    fits a word up to about 1.12 times that (measured on its printed pages)."""
    return (bold_px(word) / 1.12 - 5) / 7 - 0.71


def fit_heads(headers: Sequence[str], widths: list[Any]) -> list[Any]:
    """Widen, in place, any column whose heading has a word too long for it, so no heading
    breaks inside a word; the widths chosen by hand already fit, this is the guard."""
    for j, h in enumerate(headers):
        need = max((head_chars(w) for w in str(h).split()), default=0.0)
        if need > widths[j]:
            widths[j] = math.ceil(need * 2) / 2
    return widths


def _table(sheet, st: _Styles, top: int, headers: list[str], widths: list[Any]) -> None:
    assert sum(widths) <= SHEET_CHARS + 5, (headers, sum(widths))  # the widths by hand
    fit_heads(headers, widths)  # a long word from the register widens, and prints smaller
    for j, w in enumerate(widths):
        sheet.set_column(j, j, w)
    _fit_values(sheet, top, headers, widths, least=2)
    for j, h in enumerate(headers):
        sheet.write_string(top, j, h, st.head)
    sheet.freeze_panes(top + 1, 0)


class Print:
    """What every printed page carries: the marking, the paper's title, its date."""

    def __init__(self, marking: str, programme: str, issued: Issued):
        self.marking, self.programme, self.issued = marking, programme, issued

    def setup(self, sheet, title: str, repeat: int | tuple[int, int] | None = None) -> None:
        sheet.set_landscape()
        sheet.set_paper(9)  # A4
        sheet.set_margins(left=0.4, right=0.4, top=0.75, bottom=0.75)
        sheet.fit_to_pages(1, 0)
        if repeat is not None:
            first, last = repeat if isinstance(repeat, tuple) else (repeat, repeat)
            sheet.repeat_rows(first, last)
        esc = lambda t: t.replace("&", "&&")  # noqa: E731  (& starts a header code)
        sheet.set_header(f"&L&\"-,Bold\"{esc(self.marking)}&C{esc(title)}&R{esc(self.programme)}")
        sheet.set_footer(f"&L&\"-,Bold\"{esc(self.marking)}&C{esc(self.dated)}&RPage &P of &N")

    @property
    def dated(self) -> str:
        return (f"Signed off {self.issued.text}" if self.issued.date
                else "Draft: not yet signed off")


def _finish(sheet, pr: Print, top: int, last_row: int, ncols: int, *, title: str) -> None:
    if last_row >= top:
        sheet.autofilter(top, 0, max(last_row, top), ncols - 1)
    pr.setup(sheet, title, top)


def build_master(workspace: Workspace, round_id: str, target: Path | None = None) -> Path:
    reg, led = workspace.register, workspace.ledger
    target = Path(target or workspace.outputs / f"master-{round_id}.xlsx")
    summaries = priority_summaries(reg, led, round_id)
    prev = reg.previous_round(round_id)
    with atomic_path(target) as tmp:
        # constant memory: each sheet is written row by row, in order, and flushed
        wb = xlsxwriter.Workbook(str(tmp), {"constant_memory": True,
                                            "strings_to_formulas": False,
                                            "strings_to_urls": False,
                                            "strings_to_numbers": False})
        wb.set_properties({"title": f"Master assessment {round_id}", "author": "deliverypack",
                           "created": dt.datetime(2000, 1, 1)})
        st = _Styles(wb)
        pr = Print(workspace.marking, workspace.programme,
                   issued_on(workspace, round_id))
        flags = assurance_flags(reg, led, round_id, summaries)
        rnd = reg.round(round_id)
        _cover(wb, st, pr, workspace, round_id)
        _summary(wb, st, pr, summaries, flags, rnd.label, prev.label if prev else None)
        _flags_sheet(wb, st, pr, summaries, flags, rnd.label)
        _framework(wb, st, pr, workspace, round_id, "unit")
        _framework(wb, st, pr, workspace, round_id, "self")
        _trajectories(wb, st, pr, summaries, round_id)
        _league_tables(wb, st, pr, workspace, round_id)
        _milestones(wb, st, pr, workspace, round_id)
        _actions(wb, st, pr, workspace, round_id)
        _texts(wb, st, pr, workspace, round_id, "Risks", "risk",
               ["Department", "Priority", "Risk", "Likelihood", "Impact", "Mitigation",
                "Source"], ["likelihood", "impact", "mitigation"], [11, 8, 40, 10, 8, 38, 26])
        _texts(wb, st, pr, workspace, round_id, "Asks of the centre", "ask",
               ["Department", "Priority", "Ask", "Of whom", "Source"], ["of_whom"],
               [11, 8, 62, 24, 30])
        _returns_log(wb, st, pr, workspace)
        _data_quality(wb, st, pr, workspace)
        wb.close()
    return target


def _cover(wb, st, pr: Print, workspace, round_id):
    sheet = wb.add_worksheet("Notes")
    widths = [26, 104]
    sheet.set_column(0, 0, widths[0])
    sheet.set_column(1, 1, widths[1])
    sheet.write_string(0, 0, f"{workspace.programme}: master assessment workbook", st.title)
    rnd = workspace.register.round(round_id)
    n = workspace.ledger.query("SELECT count(*) FROM submissions s WHERE "
                         + counts(workspace.ledger.db))[0][0]
    rows = [("Round", f"{rnd.label} ({round_id})"), ("Protective marking", workspace.marking),
            ("Dated", f"{pr.issued.text}, {pr.issued.basis}" if pr.issued.date else
             f"not yet signed off: {pr.issued.basis}, so this workbook is a draft"),
            ("Built from", f"the ledger {workspace.ledger_path.name}: {n} current accepted "
                           "submission(s); every value traces to a file, sheet and cell"),
            ("Data RAG", "G on or better than trajectory; AG short by no more than the "
                         "measure's AG tolerance; AR by no more than its AR tolerance; R beyond."),
            ("Variance", "actual minus trajectory, signed so that + is better and − is worse "
                         "than trajectory for every measure, whichever way is good for it; "
                         "percentages differ in percentage points (pts)."),
            ("Forecast", "the unit's projection: a least-squares trend of the recent actuals "
                         "(six months, or four quarters), drawn from the last actual, on the "
                         "log-odds scale for a percentage; at least four monthly or three "
                         "quarterly actuals; not projected beyond five years. Where two years "
                         "of figures show a clear seasonal pattern, the trend is fitted to the "
                         "seasonally adjusted actuals and the pattern added back; with less "
                         "history, a trend that runs against the change on a year ago is "
                         "flagged as possibly seasonal. The department's "
                         "own forecast, as typed in its return, is shown beside it."),
            ("Assurance flags", "facts a reviewer must see beside a judgement: "
                                + "; ".join(t.lower() for t in FLAG_TITLES.values())
                                + ". The unit's judgement is never changed by them; they "
                                  "are listed on the 'Assurance flags' sheet."),
            ("League tables", "a proportion rated against the standard (the measure's "
                              "target, with its tolerances); funnel-plot limits at 95% and "
                              "99.8% around the rate for all, by volume, say whether a "
                              "difference is beyond chance; ties share a rank"),
            ("Dates", "day month year throughout"),
            ("Regenerate", "deliverypack master --round " + round_id)]
    bold = wb.add_format({"bold": True, "valign": "top"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    for i, (k, v) in enumerate(rows, start=2):
        _fit_values(sheet, i, [k, v], widths)
        sheet.write_string(i, 0, k, bold)
        sheet.write_string(i, 1, v, wrap)
    pr.setup(sheet, "Notes", 0)


def _variance(m: Measure, planned: float | None, actual: float | None) -> float | None:
    """Actual against trajectory, + better and − worse whichever way is good."""
    if planned is None or actual is None:
        return None
    return round(-shortfall(m, planned, actual), 9)


def _summary(wb, st, pr: Print, summaries, flags: dict[str, list[Flag]], label: str,
             prev_label: str | None):
    """One row per measure (a priority without a measure has one row of its own)."""
    sheet = wb.add_worksheet("Summary")
    sheet.write_string(0, 0, f"Summary: likelihood of delivery and data, {label}", st.title)
    top = 2
    headers = ["Priority", "Title", "Measure", f"Likelihood {label}",
               f"Likelihood {prev_label or '(none)'}", "Move", "Data RAG", "Latest actual",
               "Trajectory", VARIANCE, "As of", "Forecast against target", "Assurance flags"]
    widths = [7, 14, 20, 10, 10, 5, 6, 9, 9, 11, 8, 21, 19]
    _table(sheet, st, top, headers, widths)
    r = top
    for s in summaries:
        labels = "; ".join(f.label for f in flags.get(s.priority.id, []))
        for series in s.series or [None]:
            r += 1
            m = series.measure if series else None
            sentence = series.projection.sentence(m) if series and m else ""
            row = [s.priority.id, s.priority.short, m.name if m else "(no measure)",
                   None, None, s.movement, None,
                   series.latest_actual if series else None,
                   series.latest_planned if series else None,
                   _variance(m, series.latest_planned, series.latest_actual)
                   if series and m else None,
                   period_date(series.latest_period) if series and series.latest_period
                   else None, sentence, labels]
            _fit_values(sheet, r, row, widths)
            _put(sheet, r, 0, s.priority.id, st.cell)
            _put(sheet, r, 1, s.priority.short, st.text)
            _put(sheet, r, 2, row[2], st.text)
            _rag(sheet, st, r, 3, s.likelihood)
            _rag(sheet, st, r, 4, s.likelihood_last)
            _put(sheet, r, 5, s.movement, st.center)
            _rag(sheet, st, r, 6, series.rag if series else None)
            for c in (7, 8):
                _put(sheet, r, c, row[c], st.num(m) if m else st.cell)
            _put(sheet, r, 9, row[9], st.num(m, diff=True) if m else st.cell)
            _put(sheet, r, 10, row[10], st.month)
            _put(sheet, r, 11, sentence, st.text)
            _put(sheet, r, 12, labels, st.flag if labels else st.text)
    _finish(sheet, pr, top, r, len(headers), title=f"Summary, {label}")


def _flags_sheet(wb, st, pr: Print, summaries, flags: dict[str, list[Flag]], label: str):
    """Every assurance flag of the round on one sheet, beside the judgement it qualifies."""
    sheet = wb.add_worksheet("Assurance flags")
    sheet.write_string(0, 0, f"Assurance flags, {label}", st.title)
    sheet.write_string(1, 0, "Facts a reviewer must see beside the judgement. The unit's "
                          "judgement is not changed by them.", st.sub)
    top = 3
    headers = ["Priority", "Title", "Likelihood", "Measure", "Flag", "In short",
               "What the reviewer must see"]
    widths = [7, 18, 9.5, 8, 22, 22, 56]
    _table(sheet, st, top, headers, widths)
    r = top
    for s in summaries:
        for f in flags.get(s.priority.id, []):
            r += 1
            row = [s.priority.id, s.priority.short, s.likelihood or "", f.measure_id,
                   f.title, f.label, f.text]
            _fit_values(sheet, r, row, widths)
            for j, v in enumerate(row):
                if j == 2:
                    _rag(sheet, st, r, j, v or None)
                else:
                    _put(sheet, r, j, v, st.text)
    if r == top:
        r += 1
        _put(sheet, r, 0, "No assurance flags this round.", st.sub)
    _finish(sheet, pr, top, r, len(headers), title=f"Assurance flags, {label}")


def _framework(wb, st, pr: Print, workspace, round_id, source: str = "unit"):
    """The seed's table: priorities as rows, five columns per round, the last three
    rounds side by side (the unit's judgement; the self-assessment on a sheet of its own)."""
    reg, led = workspace.register, workspace.ledger
    rounds = [r.id for r in sorted(reg.rounds, key=lambda r: r.id) if r.id <= round_id][-3:]
    title = "Assessment framework" if source == "unit" else "Self-assessment"
    sheet = wb.add_worksheet(title)
    sheet.write_string(0, 0, "Assessment of delivery: the unit's judgement by round"
                    if source == "unit" else "Assessment of delivery: departments' "
                    "self-assessment by round", st.title)
    sheet.write_string(1, 0, "The unit's judgement is final; the departments' self-assessment "
                          "is on the next sheet." if source == "unit" else
                          "As the departments rated themselves in their returns.", st.sub)
    top = 3
    dim_widths = {"challenge": 9, "quality": 7.5, "capacity": 8.5, "stage": 5.5,
                  "likelihood": 9.5}
    widths = [7, 22] + [dim_widths[d] for _ in rounds for d, _ in FRAMEWORK]
    assert sum(widths) <= SHEET_CHARS + 5
    for j, w in enumerate(widths):
        sheet.set_column(j, j, w)
    # constant-memory mode writes rows strictly in order: the round groups first, then
    # the column headers (no merge spans two rows)
    sheet.write_blank(top, 0, None, st.head)
    sheet.write_blank(top, 1, None, st.head)
    for b, rid in enumerate(rounds):
        sheet.merge_range(top, 2 + 5 * b, top, 6 + 5 * b, reg.round(rid).label, st.group)
    sheet.set_row(top + 1, 2 * LINE_PT + 2)
    sheet.write_string(top + 1, 0, "Priority", st.head)
    sheet.write_string(top + 1, 1, "Assessment of delivery", st.head)
    col = 2
    for _ in rounds:
        for k, (dim, _) in enumerate(FRAMEWORK):
            sheet.write_string(top + 1, col + k, FRAMEWORK_HEAD[dim], st.head)
        col += 5
    ratings = {rid: led.ratings(rid, source) for rid in rounds}
    r = top + 1
    for p in reg.priorities:
        r += 1
        _fit_row(sheet, r, [(p.title, widths[1])])
        _put(sheet, r, 0, p.id, st.cell)
        _put(sheet, r, 1, p.title, st.text)
        col = 2
        for rid in rounds:
            for k, (dim, _) in enumerate(FRAMEWORK):
                row = ratings[rid].get((p.id, dim))
                v = row["value"] if row else None
                if dim in ("challenge", "stage"):
                    _put(sheet, r, col + k, v or "", st.center)
                else:
                    _rag(sheet, st, r, col + k, v)
            col += 5
    r += 2
    sheet.write_string(r, 0, "Key: challenge L, M, H, VH (low to very high); stage 1 to 4; the "
                          "others G Green, AG Amber/Green, AR Amber/Red, R Red.", st.sub)
    sheet.freeze_panes(top + 2, 2)
    _finish(sheet, pr, top + 1, r - 2, col, title=title)
    sheet.repeat_rows(top, top + 1)


TRAJ_HEADERS = ["Period", "Planned", "Actual", "Forecast (unit)", "Department's forecast",
                "Variance (+ better, − worse)", "Data RAG", "Source"]
TRAJ_WIDTHS = [8, 9, 9, 9, 13, 10, 6, 21]
CHART_COL = len(TRAJ_WIDTHS) + 1  # one narrow empty column, then the chart
CHART_COLS, CHART_COL_WIDTH = 6, 9
CHART_PX = (CHART_COLS * (CHART_COL_WIDTH * 7 + 5), 380)
PAGE_PT = 640  # printable height of an A4 landscape page, in sheet points at its scale


def _trajectories(wb, st, pr: Print, summaries, round_id):
    sheet = wb.add_worksheet("Trajectories")
    sheet.write_string(0, 0, "Trajectories: planned, actual and forecast by measure", st.title)
    for j, w in enumerate(TRAJ_WIDTHS):
        sheet.set_column(j, j, w)
    sheet.set_column(len(TRAJ_WIDTHS), len(TRAJ_WIDTHS), 1)
    sheet.set_column(CHART_COL, CHART_COL + CHART_COLS - 1, CHART_COL_WIDTH)  # the chart's
    r, breaks = 2, []
    used: float = 2 * LINE_PT
    for s in summaries:
        for series in s.series:
            need = _block_height(series)
            if used + need > PAGE_PT and r > 2:  # a block never breaks across pages
                breaks.append(r)
                used = 0
            r = _trajectory_block(wb, sheet, st, series, r)
            used += need
    sheet.set_h_pagebreaks(breaks)
    pr.setup(sheet, "Trajectories", 0)


def _block_height(series: MeasureSeries) -> float:
    """Points a trajectory block takes: title, headline, header, a row a period, a gap;
    a revised figure adds a line to the headline and one to its source cell."""
    rows = max(len(series.periods) + 1, 21)
    return (rows + 2) * LINE_PT + 34 + 3 * LINE_PT + 2 * LINE_PT * len(series.revisions)


def _where(series: MeasureSeries) -> tuple[str, dict[str, str]]:
    """The sheet every figure first returned is on (said once), and each period's file and
    cell; a revised figure names its own sheet."""
    revised = {rev.period for rev in series.revisions}
    sheets = {src.sheet for p, src in series.sources.items() if p not in revised}
    one = sheets.pop() if len(sheets) == 1 else ""
    cells = {p: (f"{src.file}!{src.cell}" if one and src.sheet == one
                 else f"{src.file} '{src.sheet}'!{src.cell}")
             for p, src in series.sources.items()}
    return one, cells


def _trajectory_block(wb, sheet, st, series: MeasureSeries, r: int) -> int:
    m = series.measure
    # the title and headline are wrapped across the block's width, never spilling past it
    last_col = CHART_COL + CHART_COLS - 1
    width = sum(TRAJ_WIDTHS) + 1 + CHART_COLS * CHART_COL_WIDTH
    title = (f"{m.id}: {m.name} ({m.unit_label or 'number'}); target "
             f"{format_value(m, m.target)} by {period_label(m.target_period)}")
    _fit_row(sheet, r, [(title, width * 0.85)])
    sheet.merge_range(r, 0, r, last_col, title, st.block)
    one_sheet, cells = _where(series)
    head = series.headline() + (f" Source cells are on sheet '{one_sheet}' of each return"
                                f"{', revisions on their own' if series.revisions else ''}."
                                if one_sheet else "")
    head += "".join(f" Revised: {rev.text(m)}." for rev in series.revisions)
    revised = {rev.period: rev for rev in series.revisions}
    _fit_row(sheet, r + 1, [(head, width)])
    sheet.merge_range(r + 1, 0, r + 1, last_col, head, st.sub_wrap)
    top = r + 2
    _fit_values(sheet, top, TRAJ_HEADERS, TRAJ_WIDTHS, least=2)
    for j, h in enumerate(TRAJ_HEADERS):
        sheet.write_string(top, j, h, st.head)
    periods = series.periods
    fc: dict[str, float | None] = dict(series.projection.values)
    if fc and series.latest_period:  # join the forecast line to the last actual
        fc[series.latest_period] = series.latest_actual
    for i, p in enumerate(periods):
        rr = top + 1 + i
        planned, actual = series.planned.get(p), series.actual.get(p)
        where = cells.get(p, "")
        if p in revised:
            where += f" (revised from {format_value(m, revised[p].was)})"
        _fit_row(sheet, rr, [(where, TRAJ_WIDTHS[-1])])
        _put(sheet, rr, 0, period_date(p), st.month)
        _put(sheet, rr, 1, planned, st.num(m))
        _put(sheet, rr, 2, actual, st.num(m))
        _put(sheet, rr, 3, fc.get(p), st.num(m))
        _put(sheet, rr, 4, series.theirs.get(p), st.num(m))
        _put(sheet, rr, 5, _variance(m, planned, actual), st.num(m, diff=True))
        _rag(sheet, st, rr, 6, data_rag(m, planned, actual))
        _put(sheet, rr, 7, where, st.small_text)
    last = top + len(periods)
    chart = wb.add_chart({"type": "line"})
    name = "Trajectories"
    cats = [name, top + 1, 0, last, 0]
    target_index = periods.index(m.target_period) if m.target_period in periods else None
    planned_points: list[dict[str, dict[str, str]] | None] | None = None
    if target_index is not None:
        planned_points = [None] * len(periods)
        planned_points[target_index] = {"fill": {"color": "#C00000"},
                                        "border": {"color": "#C00000"}}
    chart.add_series({"name": "Planned trajectory", "categories": cats,
                      "values": [name, top + 1, 1, last, 1],
                      "line": {"color": "#7F7F7F", "dash_type": "dash", "width": 2},
                      "marker": {"type": "diamond", "size": 9} if target_index is not None
                      else {"type": "none"},
                      "points": planned_points,
                      "data_labels": {"value": False, "custom": [
                          {"delete": True} if i != target_index else
                          {"value": f"Target {format_value(m, m.target)}"}
                          for i in range(len(periods))]} if target_index is not None else None})
    chart.add_series({"name": "Actual", "categories": cats,
                      "values": [name, top + 1, 2, last, 2],
                      "line": {"color": NAVY, "width": 2.75}, "marker": {"type": "none"}})
    chart.add_series({"name": "Forecast (unit)", "categories": cats,
                      "values": [name, top + 1, 3, last, 3],
                      "line": {"color": "#2E75B6", "dash_type": "round_dot", "width": 2.25},
                      "marker": {"type": "none"}})
    if series.theirs:
        chart.add_series({"name": "Department's forecast", "categories": cats,
                          "values": [name, top + 1, 4, last, 4],
                          "line": {"color": "#C55A11", "dash_type": "dash_dot", "width": 2},
                          "marker": {"type": "circle", "size": 4,
                                     "fill": {"color": "#C55A11"},
                                     "border": {"color": "#C55A11"}}})
    chart.set_title({"name": f"{m.name}", "name_font": {"size": 11}})
    span = len(periods) * (3 if m.frequency == "quarterly" else 1)
    chart.set_x_axis({"date_axis": True, "num_format": "mmm yy",
                      "major_unit": 3 if span <= 18 else 6 if span <= 36 else 12,
                      "major_unit_type": "months", "num_font": {"rotation": 0}})
    unit_name = {"percent": "Per cent", "points": "Percentage points", "gbp": "£",
                 "rate": "Rate", "count": "Number"}[m.unit]
    chart.set_y_axis({"num_format": "0\"%\"" if m.unit == "percent" else "#,##0",
                      "name": unit_name, "name_font": {"size": 10, "bold": False,
                                                       "rotation": 0},
                      "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
                      **_axis_bounds(series, fc)})
    chart.set_legend({"position": "bottom"})
    chart.show_blanks_as("gap")
    chart.set_size({"width": CHART_PX[0], "height": CHART_PX[1]})
    sheet.insert_chart(top, CHART_COL, chart, {"object_position": 1})
    return max(last, top + 20) + 3


def _axis_bounds(series: MeasureSeries, fc: dict) -> dict[str, float]:
    """The deck's value axis (a percentage ends at 100), so the papers agree."""
    from .charts import value_axis

    lo, hi = value_axis(series, {**fc, **series.theirs})
    return {k: v for k, v in (("min", lo), ("max", hi)) if v is not None}


def _league_tables(wb, st, pr: Print, workspace, round_id):
    reg, led = workspace.register, workspace.ledger
    sheet = wb.add_worksheet("League tables")
    sheet.write_string(0, 0, "League tables of organisations, latest period", st.title)
    widths: list[float] = [6, 7, 24, 9, 9, 9, 8, 10, 12, 8, 8, 8, 8, 18, 8]
    leagues = [(m, lg) for m in reg.measures
               if (lg := league_for(reg, led, m, round_id)) is not None]
    # codes print whole (E08000001): the code column takes what it needs from the names'
    code = max([len(row.org) for _, lg in leagues for row in lg.rows] + [5]) * 1.15 + 1.5
    if code > widths[1]:
        widths[2] -= min(code - widths[1], widths[2] - 16)
        widths[1] = round(code, 1)
    for j, w in enumerate(widths):
        sheet.set_column(j, j, w)
    r, breaks = 2, []
    for m, lg in leagues:
        if r > 2:  # each measure's table starts a page: a table never leaves its heading
            breaks.append(r)
        table, latest, pooled = lg.rows, lg.period, lg.pooled
        headers = ["Order (= tie)" if lg.basis == "none" else "Rank (= tie)", "Code",
                   "Organisation",
                   "Value" + (f" ({lg.per})" if lg.per else ""),
                   "Previous", "Change", "Quartile (1 = best)", "Numerator", "Denominator",
                   "Lower 99.8%", "Lower 95%", "Upper 95%", "Upper 99.8%",
                   "Against the rate for all", lg.rag_words(m).split(":")[0]]
        for j, w in enumerate(fit_heads(headers, widths)):
            sheet.set_column(j, j, w)
        sheet.write_string(r, 0, f"{m.id}: {m.name}, {period_label(latest)}: {len(table)} of "
                        f"{lg.expected or len(table)} {m.breakdown or 'organisation'}s"
                        + (f"; rate for all {pooled:.1f}%" if pooled is not None else ""),
                        st.block)
        top = r + 1
        _fit_values(sheet, top, headers, widths, least=2)
        for j, h in enumerate(headers):
            sheet.write_string(top, j, h, st.head)
        for i, row in enumerate(table):
            rr = top + 1 + i
            vals = [row.rank_label, row.org, row.name,
                    row.rate if row.rate is not None else row.value, row.previous,
                    row.change, row.quartile if lg.basis != "none" else None,
                    row.numerator, row.denominator, row.lower998,
                    row.lower95, row.upper95, row.upper998, row.flag]
            _fit_values(sheet, rr, vals, widths)
            for j, v in enumerate(vals):
                if j in (3, 4):  # a count as a whole number; a rate to one place
                    fmt = st.num(m) if row.rate is None else st.num(None, 1)
                elif j == 5:
                    fmt = st.num(m, diff=True) if row.rate is None else \
                        st.num(None, 1, diff=True)
                elif j in (9, 10, 11, 12):
                    fmt = st.num(m, 1)
                elif j in (7, 8):
                    fmt = st.num(None, 0)
                else:
                    fmt = st.text if j in (2, 13) else st.cell
                _put(sheet, rr, j, v, fmt)
            _rag(sheet, st, rr, 14, row.rag or None)
        r = top + len(table) + 3
    sheet.freeze_panes(2, 0)
    sheet.set_h_pagebreaks(breaks)
    pr.setup(sheet, "League tables", 0)  # the sheet's title on each page, not one table's


def _milestones(wb, st, pr: Print, workspace, round_id):
    reg, led = workspace.register, workspace.ledger
    sheet = wb.add_worksheet("Milestones")
    updates = led.milestone_updates(round_id)
    headers = ["Priority", "ID", "Milestone", "Due", "Status", "Forecast", "Slippage (days)",
               "Comment", "Source"]
    widths = [7, 9, 36, 11, 10, 11, 8, 28, 22]
    top = 0
    _table(sheet, st, top, headers, widths)
    r = top
    for ms in reg.milestones:
        r += 1
        u = updates.get(ms.id)
        fc = dt.date.fromisoformat(u["forecast"]) if u and u["forecast"] else None
        vals = [ms.priority_id, ms.id, ms.title, ms.due, u["status"] if u else "no update", fc,
                (fc - ms.due).days if fc else None, u["comment"] if u else "",
                f"{u['file_name']} '{u['sheet']}'!{u['cell']}" if u else ""]
        _fit_values(sheet, r, vals, widths)
        for j, v in enumerate(vals):
            _put(sheet, r, j, v, st.date if isinstance(v, dt.date) else
                 (st.text if j in (2, 7, 8) else st.cell))
    _finish(sheet, pr, top, r, len(headers), title="Milestones")


def _actions(wb, st, pr: Print, workspace, round_id):
    led = workspace.ledger
    sheet = wb.add_worksheet("Actions tracker")
    end = workspace.register.round(round_id)
    today = end.due
    headers = ["Action", "Description", "Owner", "Department", "Priority", "Due", "Status",
               "Overdue", "Latest update", "Agreed at"]
    widths = [11, 31, 20, 11, 7, 11, 9, 9, 22, 14]
    _table(sheet, st, 0, headers, widths)
    r = 0
    for a in sorted(led.actions(), key=lambda a: (a["owner"], a["due"])):  # by owner
        r += 1
        ups = led.action_updates(a["id"])
        due = dt.date.fromisoformat(a["due"])
        overdue = a["status"] in ("open", "in progress") and due < today
        vals = [a["id"], a["description"], a["owner"], a["department"], a["priority_id"], due,
                a["status"], "OVERDUE" if overdue else "", ups[-1]["note"] if ups else "",
                a["origin"]]
        _fit_values(sheet, r, vals, widths)
        for j, v in enumerate(vals):
            _put(sheet, r, j, v, st.date if isinstance(v, dt.date) else
                 (st.rag["R"] if v == "OVERDUE" else st.text))
    _finish(sheet, pr, 0, r, len(headers), title="Actions tracker")


def _texts(wb, st, pr: Print, workspace, round_id, title, kind, headers, extras, widths):
    sheet = wb.add_worksheet(title)
    _table(sheet, st, 0, headers, widths)
    r = 0
    for t in workspace.ledger.texts(round_id, kind):
        r += 1
        extra = json.loads(t["extra"])
        vals = [t["department"], t["priority_id"], t["text"]] + \
            [extra.get(k) or "" for k in extras] + [f"{t['file_name']} '{t['sheet']}'!"
                                                    f"{t['cell']}"]
        _fit_values(sheet, r, vals, widths)
        for j, v in enumerate(vals):
            _put(sheet, r, j, v, st.text)
    _finish(sheet, pr, 0, r, len(headers), title=title)


def _received(text: str | None) -> dt.datetime | str:
    try:
        return dt.datetime.fromisoformat(text) if text else ""
    except ValueError:
        return text or ""


def _returns_log(wb, st, pr: Print, workspace):
    reg, led = workspace.register, workspace.ledger
    sheet = wb.add_worksheet("Returns log")
    headers = ["Round", "Department", "Status", "Late", "Attempts", "File", "Received",
               "SHA-256", "First problem"]
    widths = [8, 11, 12, 6, 8.5, 22, 16, 24, 34.5]
    _table(sheet, st, 0, headers, widths)
    r = 0
    for rnd in sorted(x.id for x in reg.rounds):
        for s in returns_status(reg, led, rnd):
            r += 1
            vals = [rnd, s.department, s.status, "late" if s.late else "", s.attempts, s.file,
                    _received(s.received_at), s.sha256,
                    s.problems[0] if s.problems else ""]
            _fit_values(sheet, r, vals, widths)
            for j, v in enumerate(vals):
                fmt = {"accepted": st.rag["G"], "rejected": st.rag["R"],
                       "not returned": st.rag["AR"]}.get(v, st.text) if j == 2 else (
                    st.stamp if j == 6 else st.text)
                if j == 7 and v:  # a hash has no spaces: break it where it must wrap
                    v = " ".join(v[k:k + 16] for k in range(0, len(v), 16))
                _put(sheet, r, j, v, fmt)
        for vals in _collection_rows(reg, led, rnd):
            r += 1
            _fit_values(sheet, r, vals, widths)
            for j, v in enumerate(vals):
                fmt = {"accepted": st.rag["G"], "rejected": st.rag["R"], "partial": st.rag["AR"],
                       "not returned": st.rag["AR"]}.get(v, st.text) if j == 2 else st.text
                _put(sheet, r, j, v, fmt)
    _finish(sheet, pr, 0, r, len(headers), title="Returns log and chasing list")


def _collection_rows(reg, led, rnd: str) -> list[list]:
    """Below the departments: each organisation's return, each measure's coverage of
    organisations ('14 of 15 trusts'), and the round's closures and reopenings."""
    from ..consolidation.coverage import coverage, organisation_status
    from ..foundation.periods import period_label
    from ..ledger.rounds import round_history

    rows: list[list] = [
        [rnd, f"{o.organisation} ({o.kind})", o.status, "late" if o.late else "", o.attempts,
         o.file, o.received_at, "", o.problems[0] if o.problems else ""]
        for o in organisation_status(reg, led, rnd)]
    rows += [[rnd, f"{c.measure_id} {period_label(c.period)}",
              "partial" if c.partial else "complete", "", "", "", "", "",
              c.text() + (f"; missing {', '.join(c.missing)}" if c.partial else "")]
             for c in coverage(reg, led, rnd).values()]
    rows += [[rnd, "Round", e.event, "", "", "", e.at, "", e.reason]
             for e in round_history(led, rnd)]
    rows += [[rnd, r["department"], "revised", "", "", r["file_name"], r["received_at"], "",
              f"{r['measure_id']} {period_label(r['period'])} revised to {r['value']:,.10g}: "
              f"{r['reason']} ('{r['sheet']}'!{r['cell']})"]
             for r in led.query(
                 "SELECT v.*, s.department, s.file_name, s.received_at FROM revisions v JOIN "
                 f"submissions s ON s.id=v.submission_id WHERE {counts(led.db)} AND "
                 "s.round=? ORDER BY v.measure_id, v.period", rnd)]
    return rows


def _data_quality(wb, st, pr: Print, workspace):
    sheet = wb.add_worksheet("Data quality")
    headers = ["Round", "Department", "File", "Status", "Severity", "Code", "Sheet", "Cell",
               "Problem"]
    widths = [8, 11, 22, 9, 8, 18, 16, 6, 45]
    _table(sheet, st, 0, headers, widths)
    r = 0
    for row in workspace.ledger.query(
            "SELECT s.round, s.department, s.file_name, s.status, i.* FROM issues i "
            "JOIN submissions s ON s.id=i.submission_id ORDER BY s.round, s.id"):
        r += 1
        vals = [row["round"], row["department"], row["file_name"], row["status"],
                row["severity"], row["code"], row["sheet"], row["cell"], row["message"]]
        _fit_values(sheet, r, vals, widths)
        for j, v in enumerate(vals):
            _put(sheet, r, j, v, st.text)
    _finish(sheet, pr, 0, r, len(headers), title="Data quality log")
