"""register.xlsx: the unit's programme as a workbook, read and validated like any return.

One declaration (SHEETS) drives the writer and the reader. Columns are found by header, so
the unit may reorder them; every problem is reported by sheet and cell.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from pydantic import ValidationError

from ..foundation.domain import (
    ACTION_STATUS,
    Department,
    Measure,
    Member,
    Milestone,
    Organisation,
    Priority,
    Register,
    Round,
    TaskForce,
    TrajectoryPoint,
)
from ..foundation.files import atomic_write, write_text_cell
from ..foundation.periods import parse_period
from .cells import At, is_blank, read_code, read_date, read_number, read_text
from .issues import Issue
from .read import BookValues, address


@dataclass(frozen=True)
class Col:
    header: str
    attr: str
    type: str = "text"  # text, number, int, date, period, code, list, bool
    required: bool = False
    allowed: tuple[str, ...] = ()
    note: str = ""
    width: int = 16


@dataclass(frozen=True)
class Sheet:
    name: str
    attr: str
    model: type
    columns: tuple[Col, ...]
    about: str


SHEETS: tuple[Sheet, ...] = (
    Sheet("Departments", "departments", Department, (
        Col("id", "id", required=True, width=10), Col("name", "name", required=True, width=40),
        Col("contact", "contact", width=30)), "Departments that send returns."),
    Sheet("Priorities", "priorities", Priority, (
        Col("id", "id", required=True, width=8), Col("department", "department_id", required=True),
        Col("title", "title", required=True, width=60), Col("short title", "short_title", width=28),
        Col("lead (SRO)", "lead", width=24), Col("target statement", "target_statement", width=60)),
        "Delivery priorities, each owned by a department."),
    Sheet("Measures", "measures", Measure, (
        Col("id", "id", required=True, width=8), Col("priority", "priority_id", required=True),
        Col("name", "name", required=True, width=40),
        Col("unit", "unit", "code", True, ("count", "percent", "points", "rate", "gbp")),
        Col("direction", "direction", "code", True, ("up", "down"),
            note="up: higher is better; down: lower is better"),
        Col("frequency", "frequency", "code", True, ("monthly", "quarterly")),
        Col("baseline", "baseline", "number"), Col("baseline period", "baseline_period", "period"),
        Col("target", "target", "number", True), Col("target period", "target_period", "period",
                                                      True),
        Col("tolerance AG", "tolerance_ag", "number",
            note="shortfall against trajectory still rated AG (measure units)"),
        Col("tolerance AR", "tolerance_ar", "number",
            note="shortfall still rated AR; beyond it the data RAG is R"),
        Col("plausible min", "plausible_min", "number",
            note="lowest believable national figure; a lower actual is queried, not refused"),
        Col("plausible max", "plausible_max", "number",
            note="highest believable national figure"),
        Col("organisation plausible min", "org_plausible_min", "number",
            note="lowest believable figure for one organisation (a trust, a force)"),
        Col("organisation plausible max", "org_plausible_max", "number",
            note="highest believable figure for one organisation"),
        Col("breakdown", "breakdown", note="organisation kind reported on, e.g. trust"),
        Col("returned by", "returned_by", "code", False, ("department", "organisation")),
        Col("numerator", "numerator_label", width=22),
        Col("denominator", "denominator_label", width=22),
        Col("source", "source", width=30)),
        "Measures: unit, direction of good, target, tolerances (data RAG), breakdown."),
    Sheet("Trajectories", "trajectories", TrajectoryPoint, (
        Col("measure", "measure_id", required=True), Col("period", "period", "period", True),
        Col("planned", "planned", "number", True)),
        "The planned value of each measure, period by period (YYYY-MM)."),
    Sheet("Milestones", "milestones", Milestone, (
        Col("id", "id", required=True), Col("priority", "priority_id", required=True),
        Col("title", "title", required=True, width=60), Col("due", "due", "date", True)),
        "Dated steps in each priority's implementation timetable."),
    Sheet("Organisations", "organisations", Organisation, (
        Col("id", "id", required=True), Col("name", "name", required=True, width=44),
        Col("kind", "kind", required=True), Col("department", "department_id", required=True),
        Col("population", "population", "number",
            note="people served; a count is then compared as a rate per 100,000")),
        "Frontline organisations (trusts, schools, local authorities) for league tables."),
    Sheet("TaskForces", "taskforces", TaskForce, (
        Col("id", "id", required=True), Col("name", "name", required=True, width=24),
        Col("chair", "chair", required=True, width=40),
        Col("terms of reference", "terms_of_reference", width=60),
        Col("cycle weeks", "cycle_weeks", "int"),
        Col("priorities", "priorities", "list", note="priority ids, comma separated"),
        Col("protective marking", "protective_marking", width=22)),
        "Implementation task forces."),
    Sheet("Members", "members", Member, (
        Col("task force", "taskforce_id", required=True), Col("name", "name", required=True,
                                                              width=34),
        Col("role", "role", required=True, width=50), Col("organisation", "organisation"),
        Col("kind", "kind", "code", True, ("minister", "official", "secretariat"))),
        "Members of each task force: ministers, officials and secretariat."),
    Sheet("Rounds", "rounds", Round, (
        Col("id", "id", "period", True), Col("label", "label", required=True),
        Col("due", "due", "date", True), Col("six monthly", "six_monthly", "bool")),
        "Reporting rounds (YYYY-MM) and when returns are due."),
    Sheet("Actions", "actions", dict, (
        Col("id", "id", required=True), Col("description", "description", required=True,
                                            width=60),
        Col("owner", "owner", required=True), Col("department", "department"),
        Col("priority", "priority_id"), Col("due", "due", "date", True),
        Col("status", "status", "code", False, tuple(ACTION_STATUS)),
        Col("origin", "origin", width=24)),
        "Actions agreed outside task force minutes (e.g. at a stocktake)."),
)

PERIOD_RULE = ("a period written YYYY-MM (2013-03); a quarter is written as its last month "
               "(2013-Q1 is 2013-03)")

# What each column means, where its header and note do not say it all, and an example.
HELP: dict[str, tuple[str, str]] = {
    "id": ("a short code of letters, digits and underscores, unique in the sheet", "HO2"),
    "name": ("the name as papers show it", "Home Office"),
    "contact": ("who the unit writes to", "Asha Patel, asha.patel@ho.example"),
    "department_id": ("the id of a department on the Departments sheet", "DH"),
    "title": ("the full title", "Ensure effective asylum process"),
    "short_title": ("a short title for sheet names and slides", "Asylum"),
    "lead": ("the senior responsible owner", "Director General, Immigration"),
    "target_statement": ("the target in words", "Remove more failed asylum seekers"),
    "priority_id": ("the id of a priority on the Priorities sheet", "HO2"),
    "unit": ("count, percent, points, rate or gbp", "percent"),
    "direction": ("up: higher is better; down: lower is better", "up"),
    "frequency": ("monthly or quarterly; a quarterly measure's periods are the quarters' "
                  "last months (03, 06, 09, 12)", "quarterly"),
    "baseline": ("the value at the start, in the measure's unit", "80"),
    "baseline_period": (PERIOD_RULE, "2002-07"),
    "target": ("the value to reach, in the measure's unit (a percentage as points)", "98"),
    "target_period": (PERIOD_RULE, "2004-12"),
    "tolerance_ag": ("shortfall against trajectory still rated AG, in the measure's unit",
                     "1"),
    "tolerance_ar": ("shortfall still rated AR; beyond it R. At least the AG tolerance", "3"),
    "plausible_min": ("lowest believable national figure: a lower one is queried", "50"),
    "plausible_max": ("highest believable national figure", "100"),
    "org_plausible_min": ("lowest believable figure for one organisation", "20"),
    "org_plausible_max": ("highest believable figure for one organisation", "100"),
    "breakdown": ("the kind of organisation the measure is broken down by (as on the "
                  "Organisations sheet); required when returned by organisation", "trust"),
    "returned_by": ("department (the department's return gives every figure) or "
                    "organisation (each organisation returns its own)", "organisation"),
    "numerator_label": ("for a percentage built from two counts: what is counted",
                        "Seen within 4 hours"),
    "denominator_label": ("and out of what", "Attendances"),
    "source": ("where the figures come from", "DH weekly A&E sitreps (QMAE)"),
    "measure_id": ("the id of a measure on the Measures sheet", "AE4"),
    "period": (PERIOD_RULE, "2003-12"),
    "planned": ("the planned value for the period, in the measure's unit", "92.5"),
    "due": ("a date", "31/03/2004"),
    "kind": ("the kind (organisations: trust, school, force; members: minister, official "
             "or secretariat)", "trust"),
    "chair": ("who chairs it", "Secretary of State for Work and Pensions"),
    "terms_of_reference": ("what it is for", "Drive delivery of the employment priorities"),
    "cycle_weeks": ("weeks between meetings", "6"),
    "priorities": ("priority ids, comma separated", "DWP1, BIS1"),
    "protective_marking": ("printed in headers and footers", "OFFICIAL-SENSITIVE"),
    "taskforce_id": ("the id of a task force on the TaskForces sheet", "EOL"),
    "role": ("the member's role", "Minister of State for Employment"),
    "organisation": ("the member's organisation", "DWP"),
    "population": ("the people an organisation serves (residents of a force area or "
                   "borough): a count it returns is ranked and RAG-rated as a rate per "
                   "100,000 of them; left blank, a count is ranked but not rated", "1700000"),
    "label": ("the round as papers name it", "December 2003"),
    "six_monthly": ("yes for a six-monthly assessment round, else no", "yes"),
    "description": ("what is to be done", "Report employer engagement by region"),
    "owner": ("who does it", "Director, Implementation Unit"),
    "department": ("the id of the owning department", "DWP"),
    "status": ("open, in progress, done or dropped", "open"),
    "origin": ("where it was agreed", "Stocktake 12 Jan 2004"),
}


# Ids that become parts of file names (a department's return, an organisation's, a round's
# folder): checked when the register is read, so no id can climb out of a folder, name a
# hidden file or carry a space. (sheet attr, column attr) -> (pattern, what it must be)
NAME_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
ROUND_ID = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
NAME_ID_RULE = "an id of letters, digits, - and _ (at most 40, starting with a letter or digit)"
PATH_IDS: dict[tuple[str, str], tuple[re.Pattern[str], str]] = {
    ("departments", "id"): (NAME_ID, NAME_ID_RULE),
    ("organisations", "id"): (NAME_ID, NAME_ID_RULE),
    ("rounds", "id"): (ROUND_ID, "a round written YYYY-MM (2003-12)"),
}


def column_help(col: Col) -> str:
    """One line of the instructions sheet: what a register column means, with an example."""
    meaning, example = HELP.get(col.attr, (col.note or col.header, ""))
    if col.note and col.note not in meaning:
        meaning = f"{meaning}; {col.note}"
    need = "required" if col.required else "optional"
    return f"{meaning} ({need}). Example: {example}" if example else f"{meaning} ({need})."


INSTRUCTIONS = [
    "The register: the unit's programme",
    "Each sheet is a table with its headers in row 1. Add rows; do not rename headers.",
    "Periods and rounds are written YYYY-MM (e.g. 2003-12). Dates as dates.",
    "Ids are short codes of letters, digits and underscores (e.g. HO2, AE1).",
    "deliverypack checks this workbook like any return: problems are reported by sheet and cell.",
]


def write_register(path: Path, reg: Register | None = None,
                   actions: list[dict[str, Any]] | None = None) -> Path:
    """Write the register (empty with headers and instructions when reg is None)."""
    wb = Workbook()
    sheet = wb.active
    sheet.title = "Instructions"
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 90
    sheet["A1"] = INSTRUCTIONS[0]
    sheet["A1"].font = Font(bold=True, size=14, color="1F3864")
    for i, line in enumerate(INSTRUCTIONS[1:], start=2):
        sheet.cell(row=i, column=1, value=line)
    r = len(INSTRUCTIONS) + 2
    for sh in SHEETS:
        sheet.cell(row=r, column=1, value=sh.name).font = Font(bold=True)
        sheet.cell(row=r, column=2, value=sh.about)
        r += 1
    r += 1
    sheet.cell(row=r, column=1, value="Every column, with an example").font = Font(bold=True)
    for sh in SHEETS:
        for col in sh.columns:
            r += 1
            write_text_cell(sheet.cell(row=r, column=1), f"{sh.name}: {col.header}")
            write_text_cell(sheet.cell(row=r, column=2), column_help(col))
    for sh in SHEETS:
        s = wb.create_sheet(sh.name)
        for j, col in enumerate(sh.columns, start=1):
            c = s.cell(row=1, column=j, value=col.header)
            c.font = Font(bold=True, color="FFFFFF")
            c.fill = PatternFill("solid", fgColor="1F3864")
            c.alignment = Alignment(wrap_text=True)
            s.column_dimensions[get_column_letter(j)].width = col.width
            if col.allowed:
                dv = DataValidation(type="list", formula1='"' + ",".join(col.allowed) + '"',
                                    allow_blank=not col.required)
                dv.add(f"{get_column_letter(j)}2:{get_column_letter(j)}5000")
                s.add_data_validation(dv)
            if col.note:
                dv = DataValidation(allow_blank=True, showInputMessage=True,
                                    promptTitle=col.header[:32], prompt=col.note[:255])
                dv.add(f"{get_column_letter(j)}2:{get_column_letter(j)}5000")
                s.add_data_validation(dv)
        s.freeze_panes = "A2"
        items: list[Any] = (actions or []) if sh.attr == "actions" else (
            getattr(reg, sh.attr) if reg else [])
        for i, item in enumerate(items, start=2):
            data = item if isinstance(item, dict) else item.model_dump()
            for j, col in enumerate(sh.columns, start=1):
                v = data.get(col.attr)
                if col.type == "list":
                    v = ", ".join(v or [])
                elif col.type == "bool":
                    v = "yes" if v else "no"
                cell = s.cell(row=i, column=j)
                if isinstance(v, str):
                    write_text_cell(cell, v)
                else:
                    cell.value = v
                if col.type == "date":
                    cell.number_format = "dd/mm/yyyy"
        s.auto_filter.ref = f"A1:{get_column_letter(len(sh.columns))}{max(2, len(items) + 1)}"
    return atomic_write(path, wb.save)


def read_register(path: Path, programme: str = "") -> tuple[Register, list[dict], list[Issue]]:
    """Read and check the register: (register, actions, issues)."""
    book = BookValues.from_path(Path(path))
    issues: list[Issue] = []
    data: dict[str, list[Any]] = {}
    where: dict[str, Where] = {}
    file = Path(path).name
    for sh in SHEETS:
        where[sh.name] = Where([], {})
        if sh.name not in book.sheet_names:
            issues.append(At(sh.name, "", file).issue("missing-sheet", expected=repr(sh.name)))
            data[sh.attr] = []
            continue
        data[sh.attr] = list(_read_sheet(book, sh, file, issues, where[sh.name]))
    actions = data.pop("actions")
    reg = Register(programme=programme or "Delivery programme", **data)
    issues.extend(_check_references(reg, actions, file, where))
    return reg, actions, issues


@dataclass(frozen=True)
class Where:
    """Where a sheet's items were read: the sheet row of each item kept, in order (blank and
    rejected rows are skipped, so list positions are not rows), and each attribute's column
    (1-based), so a later check reports the cell."""

    rows: list[int]
    columns: dict[str, int]

    def cell(self, index: int, attr: str) -> str:
        row = self.rows[index]
        return address(row, self.columns[attr]) if attr in self.columns else f"row {row}"


def _read_sheet(book: BookValues, sh: Sheet, file: str, issues: list[Issue],
                where: Where) -> Iterator[Any]:
    grid = book.grid(sh.name)
    if not grid:
        return
    headers = {str(h).strip().lower(): j for j, h in enumerate(grid[0]) if not is_blank(h)}
    cols = []
    for col in sh.columns:
        if col.header.lower() in headers:
            cols.append((col, headers[col.header.lower()]))
            where.columns[col.attr] = headers[col.header.lower()] + 1
        elif col.required:
            issues.append(At(sh.name, "1", file).issue("missing-name",
                                                       expected=f"a column headed {col.header!r}"))
    seen_ids: dict[str, str] = {}
    for i, raw_row in enumerate(grid[1:], start=2):
        if all(is_blank(v) for v in raw_row):
            continue
        item: dict[str, Any] = {}
        n_before = len(issues)
        for col, j in cols:
            raw = raw_row[j] if j < len(raw_row) else None
            at = At(sh.name, address(i, j + 1), file)
            item[col.attr] = value = _read_value(col, raw, at, issues)
            rule = PATH_IDS.get((sh.attr, col.attr))
            if rule is not None and value is not None and not rule[0].fullmatch(str(value)):
                issues.append(at.issue("not-allowed", found=value, expected=rule[1]))
        if any(x.severity == "error" for x in issues[n_before:]):
            continue
        key = item.get("id")
        if key is not None and sh.attr != "trajectories":
            if key in seen_ids:
                issues.append(At(sh.name, address(i, 1), file).issue(
                    "duplicate-key", found=f"the id {key}", expected=seen_ids[key]))
                continue
            seen_ids[key] = address(i, 1)
        clean = {k: v for k, v in item.items() if v is not None}
        if sh.model is dict:
            where.rows.append(i)
            yield clean
            continue
        try:
            model = sh.model(**clean)
        except ValidationError as exc:
            for err in exc.errors():
                issues.append(At(sh.name, address(i, 1), file).issue(
                    "not-allowed", found=str(err.get("input")), expected=err["msg"]))
            continue
        where.rows.append(i)
        yield model


def _read_value(col: Col, raw: Any, at: At, issues: list[Issue]) -> Any:
    if col.type == "number":
        return read_number(raw, at, issues, required=col.required)
    if col.type == "int":
        v = read_number(raw, at, issues, required=col.required)
        return int(v) if v is not None else None
    if col.type == "date":
        return read_date(raw, at, issues, required=col.required)
    if col.type == "code":
        return read_code(raw, list(col.allowed), at, issues, required=col.required)
    if col.type == "bool":
        answer = read_code(raw, ["yes", "no"], at, issues)
        return None if answer is None else answer == "yes"
    if col.type == "period":
        if is_blank(raw):
            if col.required:
                issues.append(at.issue("required-missing", expected="a period (YYYY-MM)"))
            return None
        try:
            return parse_period(raw if isinstance(raw, dt.date) else str(raw).strip())
        except ValueError:
            issues.append(at.issue("not-allowed", found=raw, expected=PERIOD_RULE))
            return None
    text = read_text(raw, at, issues, required=col.required, what=col.header)
    if col.type == "list":
        return [t.strip() for t in (text or "").split(",") if t.strip()]
    return text.strip() if isinstance(text, str) else text


def _check_references(reg: Register, actions: list[dict], file: str,
                      where: dict[str, Where]) -> Iterator[Issue]:
    """Every reference resolves: a priority's department, a measure's priority, and so on.
    Each problem names the sheet cell the reference was read from."""
    def refs(sheet: str, items: Sequence[Any], attr: str, known: set[str],
             what: str) -> Iterator[Issue]:
        for i, it in enumerate(items):
            v = it[attr] if isinstance(it, dict) else getattr(it, attr)
            if v and v not in known:
                yield At(sheet, where[sheet].cell(i, attr), file).issue(
                    "unknown-reference", found=v, expected=f"a {what} id")
    depts = {d.id for d in reg.departments}
    prios = {p.id for p in reg.priorities}
    meas = {m.id for m in reg.measures}
    tfs = {t.id for t in reg.taskforces}
    yield from refs("Priorities", reg.priorities, "department_id", depts, "department")
    yield from refs("Measures", reg.measures, "priority_id", prios, "priority")
    yield from refs("Trajectories", reg.trajectories, "measure_id", meas, "measure")
    yield from refs("Milestones", reg.milestones, "priority_id", prios, "priority")
    yield from refs("Organisations", reg.organisations, "department_id", depts, "department")
    yield from refs("Members", reg.members, "taskforce_id", tfs, "task force")
    yield from refs("Actions", actions, "department", depts, "department")
    for i, t in enumerate(reg.taskforces):
        for p in t.priorities:
            if p not in prios:
                yield At("TaskForces", where["TaskForces"].cell(i, "priorities"), file).issue(
                    "unknown-reference", found=p, expected="a priority id")
    for i, m in enumerate(reg.measures):
        if m.returned_by == "organisation" and not m.breakdown:
            yield At("Measures", where["Measures"].cell(i, "breakdown"), file).issue(
                "required-missing", expected=f"a breakdown (the organisation kind) for measure "
                                             f"{m.id}, which is returned by organisation")
        if m.breakdown and not any(o.kind == m.breakdown for o in reg.organisations):
            yield At("Measures", where["Measures"].cell(i, "breakdown"), file).issue(
                "unknown-reference", found=m.breakdown,
                expected="an organisation kind on the Organisations sheet")
        if m.tolerance_ar < m.tolerance_ag:
            yield At("Measures", where["Measures"].cell(i, "tolerance_ar"), file).issue(
                "out-of-range", found=f"tolerance AR {m.tolerance_ar:g}",
                expected=f"a tolerance AR of at least the tolerance AG ({m.tolerance_ag:g}) "
                         f"for measure {m.id}")
    for i, o in enumerate(reg.organisations):
        if o.population is not None and o.population <= 0:
            yield At("Organisations", where["Organisations"].cell(i, "population"), file).issue(
                "out-of-range", found=f"{o.population:g}",
                expected=f"a population above 0 for organisation {o.id}, or blank")
    quarterly = {m.id for m in reg.measures if m.frequency == "quarterly"}
    for i, tp in enumerate(reg.trajectories):
        if tp.measure_id in quarterly and int(tp.period[5:7]) % 3:
            yield At("Trajectories", where["Trajectories"].cell(i, "period"), file).issue(
                "not-allowed", found=tp.period,
                expected=f"a quarter's last month for quarterly measure {tp.measure_id} "
                         "(03, 06, 09 or 12)")
    import re
    ids: tuple[tuple[str, Sequence[Priority | Measure]], ...] = (
        ("Priorities", reg.priorities), ("Measures", reg.measures))
    for sheet, items in ids:
        for i, it in enumerate(items):
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,15}", it.id):
                yield At(sheet, where[sheet].cell(i, "id"), file).issue(
                    "not-allowed", found=it.id,
                    expected="a short id of letters, digits and underscores, starting with a "
                             "letter")
