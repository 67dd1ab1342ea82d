"""Excel add-in: "Check this return" and "Refresh master", a thin adapter over the engine.

The checks are the engine's own (a pure function over cell values): this module only reads
the open workbook's values and names through xlwings, and colours cells and writes a
Problems sheet back. It never changes a value the department typed.

In desktop Excel the functions are called with `xw.Book.caller()`; on this Linux machine they
are tested through xlwings' remote book (`xw.Book(json=payload)`), whose effects come back
as a list of actions (`book.json()`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..returns.ingest import check_workbook
from ..templates.build import SPEC_SHEET, embedded_spec
from ..validation.checks import template_id_of
from ..validation.feedback import ERROR_FONT, WARNING_FONT
from ..validation.issues import Issue
from ..validation.read import BookValues, parse_ref
from ..validation.report import FileReport
from ..validation.rules import ERROR_COLOUR, WARNING_COLOUR

PROBLEMS = "Problems"


@dataclass(frozen=True)
class Look:
    """How a problem cell is shown: the rulebook's fill and the feedback workbook's type,
    so the add-in, the feedback workbook and the template's formatting agree (dark red
    with bold white type for an error, orange with bold italic for a warning)."""

    fill: str  # "#A50021", as xlwings takes a colour
    font: str
    bold: bool
    italic: bool


def _look(fill: str, font: Any) -> Look:
    return Look("#" + fill[-6:], "#" + str(font.color.rgb)[-6:], bool(font.b), bool(font.i))


LOOKS = {"error": _look(ERROR_COLOUR, ERROR_FONT), "warning": _look(WARNING_COLOUR,
                                                                   WARNING_FONT)}
ERROR, WARNING = LOOKS["error"].fill, LOOKS["warning"].fill


def looks(issues: list[Issue]) -> dict[tuple[str, str], Look]:
    """The look of each problem cell: the worst of its problems (an error over a warning)."""
    worst: dict[tuple[str, str], str] = {}
    for i in issues:
        if i.sheet and i.cell:
            key = (i.sheet, i.cell)
            if worst.get(key) != "error":
                worst[key] = "error" if i.severity == "error" else "warning"
    return {key: LOOKS[severity] for key, severity in worst.items()}


def _grid(sheet) -> list[list[Any]]:
    """Every value from A1 to the last used cell, as a grid."""
    api = sheet.api
    if isinstance(api, dict):  # the remote book: values travel with the payload
        rows = len(api.get("values") or [])
        cols = max((len(r) for r in api.get("values") or [[]]), default=0)
    else:
        last = sheet.used_range.last_cell
        rows, cols = last.row, last.column
    if not rows or not cols:
        return []
    values = sheet.range((1, 1), (rows, cols)).options(ndim=2).value
    return [[_cell(v) for v in row] for row in values]


def _cell(v: Any) -> Any:
    if isinstance(v, dt.datetime) and v.time() == dt.time():
        return v  # a date typed into a date cell
    return "" if v is None else v


def book_values(book) -> BookValues:
    """The open workbook as the engine reads a file: grids by sheet, defined names."""
    grids = {s.name: _grid(s) for s in book.sheets}
    names = {}
    for n in book.names:
        rng = parse_ref(n.refers_to.lstrip("="))
        if rng is not None:
            names[n.name.split("!")[-1]] = rng
    return BookValues.from_grids(grids, names)


def check_return(book, register=None) -> FileReport:
    """Check the open return; colour each problem cell and list the problems on a sheet."""
    values = book_values(book)
    report = FileReport(file=book.name, path=Path(book.name))
    spec = embedded_spec(values.grid(SPEC_SHEET)) if SPEC_SHEET in values.sheet_names else None
    if spec is None or template_id_of(values) != spec.template_id:
        from ..validation.cells import At
        report.issues.append(At("", "", book.name).issue(
            "unknown-template", found=template_id_of(values) or "no template id",
            expected="a return made by deliverypack"))
    else:
        report.kind, report.department, report.round = spec.kind, spec.department, spec.round
        issues, _ = check_workbook(values, spec, register, book.name)
        report.issues.extend(issues)
    _show(book, report.issues)
    return report


def _show(book, issues: list[Issue]) -> None:
    names = [s.name for s in book.sheets]
    for (sheet_name, cell), look in looks(issues).items():
        if sheet_name in names:
            rng = book.sheets[sheet_name].range(cell)
            rng.color = look.fill
            rng.font.color = look.font
            rng.font.bold = look.bold
            rng.font.italic = look.italic
    if PROBLEMS in [s.name for s in book.sheets]:
        sheet = book.sheets[PROBLEMS]
        sheet.cells.clear_contents()
    else:
        sheet = book.sheets.add(name=PROBLEMS, before=book.sheets[0])
    rows = [["Severity", "Sheet", "Cell", "Problem"]]
    rows += [[i.severity, i.sheet, i.cell, i.message] for i in issues]
    if not issues:
        rows.append(["", "", "", "No problems found: the return can be sent."])
    sheet.range("A1").value = rows


def refresh_master(book=None, folder: str | Path | None = None,
                   round_id: str | None = None) -> Path:
    """For the unit: rebuild the master from the ledger and open it in Excel."""
    from ..ledger.workspace import Workspace
    from ..outputs.master import build_master

    if folder is None and book is not None:
        folder = Path(book.fullname).parent
    workspace = Workspace.open(folder or ".")
    path = build_master(workspace, workspace.round_or_latest(round_id))
    if book is not None and not isinstance(book.sheets[0].api, dict):
        import xlwings as xw

        xw.Book(str(path))
    return path


def main_check() -> None:  # pragma: no cover - called from Excel (RunPython)
    import xlwings as xw

    check_return(xw.Book.caller())


def main_refresh() -> None:  # pragma: no cover - called from Excel (RunPython)
    import xlwings as xw

    refresh_master(xw.Book.caller())
