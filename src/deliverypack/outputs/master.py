"""The master assessment workbook, built from the ledger alone (XlsxWriter).

Every number is a value computed in consolidation/ (data RAG, forecast, league tables);
every text a department typed is written with write_string, and the workbook is opened
with strings_to_formulas off, so nothing typed ever becomes a formula.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import xlsxwriter

from ..consolidation.league import league_for
from ..consolidation.rag import format_value
from ..consolidation.views import MeasureSeries, priority_summaries, returns_status
from ..domain import FRAMEWORK, FRAMEWORK_SHORT, Measure
from ..periods import period_date, period_label
from ..workspace import Workspace
from .files import atomic_path

RAG_FILL = {"G": "#00B050", "AG": "#C4D79B", "AR": "#FFC000", "R": "#FF0000"}
RAG_FONT = {"G": "#FFFFFF", "AG": "#000000", "AR": "#000000", "R": "#FFFFFF"}
NAVY = "#1F3864"


class _Styles:
    def __init__(self, wb):
        self.wb = wb
        self.title = wb.add_format({"bold": True, "font_size": 16, "font_color": NAVY})
        self.sub = wb.add_format({"italic": True, "font_color": "#595959"})
        self.head = wb.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": NAVY,
                                   "text_wrap": True, "valign": "vcenter", "border": 1})
        self.group = wb.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#2E75B6",
                                    "align": "center", "border": 1})
        self.text = wb.add_format({"text_wrap": True, "valign": "top", "border": 1})
        self.cell = wb.add_format({"border": 1, "valign": "top"})
        self.date = wb.add_format({"border": 1, "num_format": "dd mmm yyyy", "valign": "top"})
        self.month = wb.add_format({"border": 1, "num_format": "mmm yyyy"})
        self.center = wb.add_format({"border": 1, "align": "center", "valign": "top"})
        self.rag = {k: wb.add_format({"bg_color": v, "font_color": RAG_FONT[k], "bold": True,
                                      "align": "center", "border": 1})
                    for k, v in RAG_FILL.items()}
        self.nums: dict[str, Any] = {}

    def num(self, measure: Measure | None, decimals: int | None = None):
        fmt = "#,##0.0" if measure is None or measure.unit in ("percent", "points") \
            else "#,##0"
        if decimals is not None:
            fmt = "#,##0" if decimals == 0 else "#,##0." + "0" * decimals
        if fmt not in self.nums:
            self.nums[fmt] = self.wb.add_format({"border": 1, "num_format": fmt})
        return self.nums[fmt]


def _put(ws, r: int, c: int, value: Any, fmt=None) -> None:
    """Write one value with the right method: text is always a string, never a formula."""
    if value is None or value == "":
        ws.write_blank(r, c, None, fmt)
    elif isinstance(value, str):
        ws.write_string(r, c, value, fmt)
    elif isinstance(value, dt.date):
        ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()), fmt)
    elif isinstance(value, bool):
        ws.write_boolean(r, c, value, fmt)
    else:
        ws.write_number(r, c, value, fmt)


def _fit_row(ws, r: int, texts: list[tuple[str, int]]) -> None:
    """Give a row the height its wrapped text needs (office suites do not grow rows
    written by a streaming writer): texts are (text, column width in characters)."""
    lines = max((1 + len(t or "") // max(w - 2, 1) for t, w in texts), default=1)
    if lines > 1:
        ws.set_row(r, 15 * lines)


def _rag(ws, st: _Styles, r: int, c: int, code: str | None) -> None:
    """RAG as a coloured cell with its letters: never colour alone."""
    _put(ws, r, c, code or "", st.rag.get(code or "", st.center))


def _table(ws, st: _Styles, top: int, headers: list[str], widths: list[int]) -> None:
    for j, (h, w) in enumerate(zip(headers, widths, strict=True)):
        ws.write_string(top, j, h, st.head)
        ws.set_column(j, j, w)
    ws.set_row(top, 32)
    ws.freeze_panes(top + 1, 0)


def _finish(ws, top: int, last_row: int, ncols: int, *, title: str) -> None:
    if last_row >= top:
        ws.autofilter(top, 0, max(last_row, top), ncols - 1)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(top)
    ws.set_header(f"&L&B{title}&R&D")
    ws.set_footer("&LBuilt by deliverypack from the ledger&RPage &P of &N")


def build_master(ws_: Workspace, round_id: str, target: Path | None = None) -> Path:
    reg, led = ws_.register, ws_.ledger
    target = Path(target or ws_.outputs / f"master-{round_id}.xlsx")
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
        _cover(wb, st, ws_, round_id)
        _summary(wb, st, summaries, round_id, prev.id if prev else None)
        _framework(wb, st, ws_, round_id, "unit")
        _framework(wb, st, ws_, round_id, "self")
        _trajectories(wb, st, summaries, round_id)
        _league_tables(wb, st, ws_, round_id)
        _milestones(wb, st, ws_, round_id)
        _actions(wb, st, ws_, round_id)
        _texts(wb, st, ws_, round_id, "Risks", "risk",
               ["Department", "Priority", "Risk", "Likelihood", "Impact", "Mitigation", "Source"],
               ["likelihood", "impact", "mitigation"])
        _texts(wb, st, ws_, round_id, "Asks of the centre", "ask",
               ["Department", "Priority", "Ask", "Of whom", "Source"], ["of_whom"])
        _returns_log(wb, st, ws_)
        _data_quality(wb, st, ws_)
        wb.close()
    return target


def _cover(wb, st, ws_, round_id):
    ws = wb.add_worksheet("Notes")
    ws.set_column(0, 0, 28)
    ws.set_column(1, 1, 100)
    ws.write_string(0, 0, f"{ws_.programme}: master assessment workbook", st.title)
    rnd = ws_.register.round(round_id)
    n = ws_.ledger.query("SELECT count(*) FROM submissions WHERE status='accepted' "
                         "AND superseded_by IS NULL")[0][0]
    rows = [("Round", f"{rnd.label} ({round_id})"), ("Protective marking", ws_.marking),
            ("Built from", f"the ledger {ws_.ledger_path.name}: {n} current accepted "
                           "submission(s); every value traces to a file, sheet and cell"),
            ("Data RAG", "G on or better than trajectory; AG short by no more than the "
                         "measure's AG tolerance; AR by no more than its AR tolerance; R beyond."),
            ("Forecast", "least-squares line through the last six actuals, projected to the "
                         "target date"),
            ("League tables", "funnel-plot limits at 95% and 99.8% around the pooled rate, by "
                              "volume; an organisation is flagged only beyond chance"),
            ("Regenerate", "deliverypack master --round " + round_id)]
    bold = wb.add_format({"bold": True, "valign": "top"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    for i, (k, v) in enumerate(rows, start=2):
        ws.write_string(i, 0, k, bold)
        ws.write_string(i, 1, v, wrap)
        ws.set_row(i, 15 * (1 + len(v) // 90))
    ws.set_landscape()
    ws.fit_to_pages(1, 0)


def _summary(wb, st, summaries, round_id, prev_id):
    ws = wb.add_worksheet("Summary")
    ws.write_string(0, 0, f"Summary: likelihood of delivery and data, round {round_id}",
                    st.title)
    top = 2
    headers = ["Priority", "Department", "Title", "Lead", f"Likelihood {round_id}",
               f"Likelihood {prev_id or '(none)'}", "Movement", "Data RAG", "Latest actual",
               "Trajectory", "Period", "Forecast against target", "Next milestone"]
    _table(ws, st, top, headers, [9, 11, 44, 24, 12, 12, 10, 9, 12, 12, 10, 50, 40])
    r = top
    for s in summaries:
        r += 1
        lead = s.series[0] if s.series else None
        _fit_row(ws, r, [(s.priority.title, 44), (s.priority.lead, 24),
                         (lead.projection.sentence(lead.measure) if lead else "", 50),
                         (s.next_milestone, 40)])
        _put(ws, r, 0, s.priority.id, st.cell)
        _put(ws, r, 1, s.department, st.cell)
        _put(ws, r, 2, s.priority.title, st.text)
        _put(ws, r, 3, s.priority.lead, st.text)
        _rag(ws, st, r, 4, s.likelihood)
        _rag(ws, st, r, 5, s.likelihood_last)
        _put(ws, r, 6, s.movement, st.center)
        _rag(ws, st, r, 7, s.data_rag)
        if lead and lead.latest_period:
            _put(ws, r, 8, lead.latest_actual, st.num(lead.measure))
            _put(ws, r, 9, lead.latest_planned, st.num(lead.measure))
            _put(ws, r, 10, period_date(lead.latest_period), st.month)
            _put(ws, r, 11, lead.projection.sentence(lead.measure), st.text)
        else:
            for c in range(8, 12):
                _put(ws, r, c, "", st.cell)
        _put(ws, r, 12, s.next_milestone, st.text)
    _finish(ws, top, r, len(headers), title="Summary")


def _framework(wb, st, ws_, round_id, source: str = "unit"):
    """The seed's table: priorities as rows, five columns per round, rounds side by side
    (the unit's judgement; the departments' self-assessment on a sheet of its own)."""
    reg, led = ws_.register, ws_.ledger
    rounds = [r.id for r in sorted(reg.rounds, key=lambda r: r.id) if r.id <= round_id]
    title = "Assessment framework" if source == "unit" else "Self-assessment"
    ws = wb.add_worksheet(title)
    ws.write_string(0, 0, "Assessment of delivery: the unit's judgement by round"
                    if source == "unit" else "Assessment of delivery: departments' "
                    "self-assessment by round", st.title)
    ws.write_string(1, 0, "The unit's judgement is final; the departments' self-assessment "
                          "is on the next sheet." if source == "unit" else
                          "As the departments rated themselves in their returns.", st.sub)
    top = 3
    ws.set_column(0, 0, 10)
    ws.set_column(1, 1, 46)
    # constant-memory mode writes rows strictly in order: the round groups first, then
    # the column headers (no merge spans two rows)
    ws.write_blank(top, 0, None, st.head)
    ws.write_blank(top, 1, None, st.head)
    blocks = [(rid, source) for rid in rounds]
    for b, (rid, _) in enumerate(blocks):
        ws.merge_range(top, 2 + 5 * b, top, 6 + 5 * b, reg.round(rid).label, st.group)
    ws.write_string(top + 1, 0, "Priority", st.head)
    ws.write_string(top + 1, 1, "Assessment of delivery", st.head)
    col = 2
    for _ in blocks:
        for k, (dim, _) in enumerate(FRAMEWORK):
            ws.write_string(top + 1, col + k, FRAMEWORK_SHORT[dim], st.head)
            ws.set_column(col + k, col + k, 11)
        col += 5
    ws.set_row(top + 1, 45)
    ratings = {(rid, src): led.ratings(rid, src) for rid, src in blocks}
    r = top + 1
    for pr in reg.priorities:
        r += 1
        _fit_row(ws, r, [(pr.title, 46)])
        _put(ws, r, 0, pr.id, st.cell)
        _put(ws, r, 1, pr.title, st.text)
        col = 2
        for rid, src in blocks:
            for k, (dim, _) in enumerate(FRAMEWORK):
                row = ratings[(rid, src)].get((pr.id, dim))
                v = row["value"] if row else None
                if dim in ("challenge", "stage"):
                    _put(ws, r, col + k, v or "", st.center)
                else:
                    _rag(ws, st, r, col + k, v)
            col += 5
    ws.freeze_panes(top + 2, 2)
    _finish(ws, top + 1, r, col, title=title)


def _trajectories(wb, st, summaries, round_id):
    ws = wb.add_worksheet("Trajectories")
    ws.write_string(0, 0, "Trajectories: planned, actual and forecast by measure", st.title)
    widths = [12, 12, 12, 12, 11, 9, 60]
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    r = 2
    for s in summaries:
        for series in s.series:
            r = _trajectory_block(wb, ws, st, series, r)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)


def _trajectory_block(wb, ws, st, series: MeasureSeries, r: int) -> int:
    m = series.measure
    ws.write_string(r, 0, f"{m.id}: {m.name} ({m.unit_label or m.unit}); target "
                          f"{format_value(m, m.target)} by {period_label(m.target_period)}",
                    wb.add_format({"bold": True, "font_color": NAVY, "font_size": 12}))
    ws.write_string(r + 1, 0, series.headline(), st.sub)
    top = r + 2
    for j, h in enumerate(["Period", "Planned", "Actual", "Forecast", "Variance", "Data RAG",
                           "Source"]):
        ws.write_string(top, j, h, st.head)
    periods = series.periods
    fc: dict[str, float | None] = dict(series.projection.values)
    if series.latest_period:  # join the forecast line to the last actual
        fc[series.latest_period] = series.latest_actual
    from ..consolidation.rag import data_rag
    for i, p in enumerate(periods):
        rr = top + 1 + i
        planned, actual = series.planned.get(p), series.actual.get(p)
        _put(ws, rr, 0, period_date(p), st.month)
        _put(ws, rr, 1, planned, st.num(m))
        _put(ws, rr, 2, actual, st.num(m))
        _put(ws, rr, 3, fc.get(p), st.num(m))
        var = None if planned is None or actual is None else actual - planned
        _put(ws, rr, 4, var, st.num(m))
        _rag(ws, st, rr, 5, data_rag(m, planned, actual))
        src = series.sources.get(p)
        _put(ws, rr, 6, src.text() if src else "", st.cell)
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
    chart.add_series({"name": "Forecast", "categories": cats,
                      "values": [name, top + 1, 3, last, 3],
                      "line": {"color": "#2E75B6", "dash_type": "round_dot", "width": 2.25},
                      "marker": {"type": "none"}})
    chart.set_title({"name": f"{m.name}", "name_font": {"size": 11}})
    chart.set_x_axis({"date_axis": True, "num_format": "mmm yy", 
                      "major_unit": 3, "major_unit_type": "months"})
    chart.set_y_axis({"num_format": "0\"%\"" if m.unit == "percent" else "#,##0",
                      "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_legend({"position": "bottom"})
    chart.show_blanks_as("gap")
    chart.set_size({"width": 620, "height": 300})
    ws.insert_chart(top, 8, chart)
    return max(last, top + 16) + 3


def _league_tables(wb, st, ws_, round_id):
    reg, led = ws_.register, ws_.ledger
    ws = wb.add_worksheet("League tables")
    ws.write_string(0, 0, "League tables of organisations, latest period", st.title)
    headers = ["Rank", "Code", "Organisation", "Value", "Previous", "Change", "Quartile",
               "Numerator", "Denominator", "Lower 99.8%", "Lower 95%", "Upper 95%",
               "Upper 99.8%", "Flag", "RAG"]
    widths = [6, 9, 44, 10, 10, 9, 9, 12, 12, 11, 11, 11, 11, 36, 6]
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    r = 2
    for m in reg.measures:
        lg = league_for(reg, led, m, round_id)
        if lg is None:
            continue
        table, latest, pooled = lg.rows, lg.period, lg.pooled
        ws.write_string(r, 0, f"{m.id}: {m.name}, {period_label(latest)}"
                        + (f" (pooled rate {pooled:.1f}%)" if pooled is not None else ""),
                        wb.add_format({"bold": True, "font_color": NAVY, "font_size": 12}))
        top = r + 1
        for j, h in enumerate(headers):
            ws.write_string(top, j, h, st.head)
        for i, row in enumerate(table):
            rr = top + 1 + i
            vals = [row.rank, row.org, row.name, row.value, row.previous, row.change,
                    row.quartile, row.numerator, row.denominator, row.lower998, row.lower95,
                    row.upper95, row.upper998, row.flag]
            for j, v in enumerate(vals):
                fmt = st.num(m, 1) if j in (3, 4, 5, 9, 10, 11, 12) else (
                    st.num(m, 0) if j in (7, 8) else st.cell)
                _put(ws, rr, j, v, fmt)
            _rag(ws, st, rr, 14, row.rag)
        r = top + len(table) + 3
    ws.freeze_panes(2, 0)
    _finish(ws, 2, r, len(headers), title="League tables")


def _milestones(wb, st, ws_, round_id):
    reg, led = ws_.register, ws_.ledger
    ws = wb.add_worksheet("Milestones")
    updates = led.milestone_updates(round_id)
    headers = ["Priority", "ID", "Milestone", "Due", "Status", "Forecast", "Slippage (days)",
               "Comment", "Source"]
    top = 0
    _table(ws, st, top, headers, [9, 10, 50, 12, 12, 12, 10, 40, 40])
    r = top
    for ms in reg.milestones:
        r += 1
        u = updates.get(ms.id)
        fc = dt.date.fromisoformat(u["forecast"]) if u and u["forecast"] else None
        vals = [ms.priority_id, ms.id, ms.title, ms.due, u["status"] if u else "no update", fc,
                (fc - ms.due).days if fc else None, u["comment"] if u else "",
                f"{u['file_name']} '{u['sheet']}'!{u['cell']}" if u else ""]
        for j, v in enumerate(vals):
            _put(ws, r, j, v, st.date if isinstance(v, dt.date) else
                 (st.text if j in (2, 7) else st.cell))
    _finish(ws, top, r, len(headers), title="Milestones")


def _actions(wb, st, ws_, round_id):
    led = ws_.ledger
    ws = wb.add_worksheet("Actions tracker")
    end = ws_.register.round(round_id)
    today = end.due
    headers = ["Action", "Description", "Owner", "Department", "Priority", "Due", "Status",
               "Overdue", "Latest update", "Origin"]
    _table(ws, st, 0, headers, [12, 56, 28, 11, 9, 12, 12, 9, 50, 20])
    r = 0
    for a in sorted(led.actions(), key=lambda a: (a["owner"], a["due"])):  # by owner
        r += 1
        ups = led.action_updates(a["id"])
        due = dt.date.fromisoformat(a["due"])
        overdue = a["status"] in ("open", "in progress") and due < today
        vals = [a["id"], a["description"], a["owner"], a["department"], a["priority_id"], due,
                a["status"], "OVERDUE" if overdue else "", ups[-1]["note"] if ups else "",
                a["origin"]]
        for j, v in enumerate(vals):
            _put(ws, r, j, v, st.date if isinstance(v, dt.date) else
                 (st.rag["R"] if v == "OVERDUE" else st.text))
    _finish(ws, 0, r, len(headers), title="Actions tracker")


def _texts(wb, st, ws_, round_id, title, kind, headers, extras):
    ws = wb.add_worksheet(title)
    _table(ws, st, 0, headers, [11, 9, 60] + [14] * len(extras) + [40])
    r = 0
    for t in ws_.ledger.texts(round_id, kind):
        r += 1
        extra = json.loads(t["extra"])
        vals = [t["department"], t["priority_id"], t["text"]] + \
            [extra.get(k) or "" for k in extras] + [f"{t['file_name']} '{t['sheet']}'!"
                                                    f"{t['cell']}"]
        for j, v in enumerate(vals):
            _put(ws, r, j, v, st.text)
    _finish(ws, 0, r, len(headers), title=title)


def _returns_log(wb, st, ws_):
    reg, led = ws_.register, ws_.ledger
    ws = wb.add_worksheet("Returns log")
    headers = ["Round", "Department", "Status", "Late", "Attempts", "File", "Received",
               "SHA-256", "First problem"]
    _table(ws, st, 0, headers, [9, 11, 14, 7, 9, 30, 20, 66, 60])
    r = 0
    for rnd in sorted(x.id for x in reg.rounds):
        for s in returns_status(reg, led, rnd):
            r += 1
            vals = [rnd, s.department, s.status, "late" if s.late else "", s.attempts, s.file,
                    s.received_at, s.sha256, s.problems[0] if s.problems else ""]
            for j, v in enumerate(vals):
                fmt = {"accepted": st.rag["G"], "rejected": st.rag["R"],
                       "not returned": st.rag["AR"]}.get(v, st.text) if j == 2 else st.text
                _put(ws, r, j, v, fmt)
        for vals in _collection_rows(reg, led, rnd):
            r += 1
            for j, v in enumerate(vals):
                fmt = {"accepted": st.rag["G"], "rejected": st.rag["R"], "partial": st.rag["AR"],
                       "not returned": st.rag["AR"]}.get(v, st.text) if j == 2 else st.text
                _put(ws, r, j, v, fmt)
    _finish(ws, 0, r, len(headers), title="Returns log and chasing list")


def _collection_rows(reg, led, rnd: str) -> list[list]:
    """Below the departments: each organisation's return, each measure's coverage of
    organisations ('14 of 15 trusts'), and the round's closures and reopenings."""
    from ..consolidation.coverage import coverage, organisation_status
    from ..ledger.rounds import round_history
    from ..periods import period_label

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
                 "submissions s ON s.id=v.submission_id WHERE s.status='accepted' AND "
                 "s.superseded_by IS NULL AND s.round=? ORDER BY v.measure_id, v.period", rnd)]
    return rows


def _data_quality(wb, st, ws_):
    ws = wb.add_worksheet("Data quality")
    headers = ["Round", "Department", "File", "Status", "Severity", "Code", "Sheet", "Cell",
               "Problem"]
    _table(ws, st, 0, headers, [9, 11, 28, 10, 9, 22, 24, 7, 80])
    r = 0
    for row in ws_.ledger.query(
            "SELECT s.round, s.department, s.file_name, s.status, i.* FROM issues i "
            "JOIN submissions s ON s.id=i.submission_id ORDER BY s.round, s.id"):
        r += 1
        vals = [row["round"], row["department"], row["file_name"], row["status"],
                row["severity"], row["code"], row["sheet"], row["cell"], row["message"]]
        for j, v in enumerate(vals):
            _put(ws, r, j, v, st.text)
    _finish(ws, 0, r, len(headers), title="Data quality log")
