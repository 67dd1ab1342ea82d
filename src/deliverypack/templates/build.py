"""Draw a WorkbookSpec as a protected, pre-filled .xlsx that departments can fill.

openpyxl, because templates need what only it writes well: cell protection, data
validations with input messages, and defined names over each table.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from ..foundation.files import atomic_write, write_text_cell
from ..foundation.periods import period_date, period_label
from ..validation import rules
from ..validation.feedback import ERROR_FONT, WARNING_FONT
from ..validation.layout import (
    BlockKind,
    BlockSpec,
    ColumnSpec,
    SpecRow,
    WorkbookSpec,
    cell_allowed,
    cell_is_input,
    cell_required,
    cell_type,
)
from ..validation.rules import PANEL_NAME

INPUT_FILL = PatternFill("solid", fgColor=rules.INPUT_COLOUR)
TO_FILL_FILL = PatternFill("solid", fgColor=rules.TO_FILL_COLOUR, bgColor=rules.TO_FILL_COLOUR)
WARNING_FILL = PatternFill("solid", fgColor=rules.WARNING_COLOUR,
                           bgColor=rules.WARNING_COLOUR)
ERROR_FILL = PatternFill("solid", fgColor=rules.ERROR_COLOUR, bgColor=rules.ERROR_COLOUR)
HEADER_FILL = PatternFill("solid", fgColor="1F3864")
SECTION_FONT = Font(bold=True, size=12, color="1F3864")
HEADER_FONT = Font(bold=True, color="FFFFFF")
LOCKED_FONT = Font(color="404040")
THIN = Side(style="thin", color="BFBFBF")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
FIRST_COL = 1  # tables start in column A


def excel_value(typ: str, value: Any) -> Any:
    """The value as Excel should hold it (percentages as fractions, months as dates)."""
    if value is None:
        return None
    if typ == "percent":
        return float(value) / 100.0
    if typ == "period":
        return period_date(value)
    if typ == "date" and isinstance(value, str):
        return dt.date.fromisoformat(value)
    return value


NUMBER_FORMATS = {"percent": "0.0%", "number": "#,##0.##", "int": "0", "date": "dd/mm/yyyy",
                  "period": "mmm yyyy"}


def build_workbook(spec: WorkbookSpec, target: Path) -> Path:
    """Write the template to `target` atomically."""
    wb = Workbook()
    wb.remove(wb.active)
    _instructions(wb, spec)
    inputs: list[InputCell] = []
    for sheet_spec in spec.sheets:
        sheet = wb.create_sheet(sheet_spec.name)
        sheet.sheet_properties.tabColor = "1F3864"
        sheet["A1"] = sheet_spec.heading
        sheet["A1"].font = Font(bold=True, size=14, color="1F3864")
        sheet["A2"] = sheet_spec.subheading
        sheet["A2"].font = Font(italic=True, color="595959")
        r = 4
        widths: dict[int, int] = defaultdict(lambda: 10)
        sheet_inputs: list[InputCell] = []
        for block in sheet_spec.blocks:
            r = _draw_block(wb, sheet, block, r, widths, sheet_inputs)
        for c, w in widths.items():
            sheet.column_dimensions[get_column_letter(c)].width = w
        if widths[1] >= 40:  # a wide column A prints alone: wrap the titles inside it
            chars = widths[1] * 0.9  # characters a line of column A holds, or so
            for cell, size in ((sheet["A1"], 20), (sheet["A2"], 15)):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                sheet.row_dimensions[cell.row].height = size * (
                    1 + int(len(str(cell.value or "")) * size / 15 // chars))
        _add_validations(sheet, sheet_inputs)
        inputs += sheet_inputs
        sheet.freeze_panes = "A4"
        sheet.protection.sheet = True
        # Let people insert rows inside tables and resize things; the reader copes.
        sheet.protection.insertRows = False
        sheet.protection.formatColumns = False
        sheet.protection.formatRows = False
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.paperSize = sheet.PAPERSIZE_A4  # UK government paper, not US Letter
        sheet.page_setup.fitToWidth = pages_wide(widths.values())
        if sheet.page_setup.fitToWidth > 1 and widths[1] <= 20:  # a narrow key column
            sheet.print_title_cols = "A:A"  # prints on every page across
        sheet.page_setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
    _checks_panel(wb, wb[spec.sheets[0].name], inputs)
    _rules_text(wb, inputs)
    _embed_spec(wb, spec)
    wb.properties.title = spec.title
    wb.properties.identifier = spec.template_id
    wb.properties.creator = "deliverypack"
    return atomic_write(target, wb.save)


def template_inputs(spec: WorkbookSpec) -> list[InputCell]:
    """Every input cell of the template a spec draws, with its rule (drawn into a scratch
    workbook, so the cells are exactly where build_workbook puts them)."""
    wb = Workbook()
    out: list[InputCell] = []
    for sheet_spec in spec.sheets:
        sheet = wb.create_sheet(sheet_spec.name)
        r = 4
        for block in sheet_spec.blocks:
            r = _draw_block(wb, sheet, block, r, defaultdict(lambda: 10), out)
    return out


SPEC_SHEET = "dp_spec"
CHUNK = 30000  # under Excel's 32,767 characters a cell


def _embed_spec(wb: Workbook, spec: WorkbookSpec) -> None:
    """The cell map travels inside the template (a very hidden sheet), so a department can
    check its return in Excel before sending it. The unit's ledger copy stays authoritative."""
    sheet = wb.create_sheet(SPEC_SHEET)
    sheet.sheet_state = "veryHidden"
    body = spec.model_dump_json()
    for i in range(0, len(body), CHUNK):
        write_text_cell(sheet.cell(row=1 + i // CHUNK, column=1), body[i:i + CHUNK])
    sheet.protection.sheet = True


def embedded_spec(grid: list[list]) -> WorkbookSpec | None:
    """The spec a template carries, from its dp_spec sheet's values."""
    text = "".join(str(r[0]) for r in grid if r and isinstance(r[0], str))
    return WorkbookSpec.model_validate_json(text) if text else None


PRINT_WIDTH_PT = 735  # A4 landscape less the default margins
PT_PER_CHAR = 7.0  # a column width unit as LibreOffice and Excel print it, roughly
MIN_SCALE = 0.75  # never shrink type below three quarters (9-11 pt stays at 7 pt or more)


def pages_wide(widths) -> int:
    """How many pages across a sheet may print on so its type is not shrunk below MIN_SCALE
    (fitting a wide sheet to one page width set it at 4 pt)."""
    total = sum(widths) * PT_PER_CHAR
    return max(1, -(-int(total) // int(PRINT_WIDTH_PT / MIN_SCALE)))


def _instructions(wb: Workbook, spec: WorkbookSpec) -> None:
    sheet = wb.create_sheet("Instructions")
    sheet.column_dimensions["A"].width = 110
    for i, line in enumerate(spec.instructions, start=1):
        c = sheet.cell(row=i, column=1, value=line)
        c.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.row_dimensions[i].height = 15 * (1 + len(line) // 100)  # wrapped lines show
        if i == 1:
            c.font = Font(bold=True, size=14, color="1F3864")
            sheet.row_dimensions[i].height = 22
    key_row = len(spec.instructions) + 2
    for k, (text, fill, font) in enumerate(COLOUR_KEY):
        c = sheet.cell(row=key_row + k, column=1, value=text)
        c.fill, c.border = fill, BOX
        if font is not None:
            c.font = font
    sheet.cell(row=key_row + len(COLOUR_KEY) + 1, column=1,
            value=f"Template {spec.template_id}, version {spec.version}.")
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.protection.sheet = True


COLOUR_KEY = [
    ("Pale yellow: a cell for you to fill.", INPUT_FILL, None),
    ("Blue: required, still empty.", TO_FILL_FILL, None),
    ("ORANGE, BOLD ITALIC: a warning. An unusual figure may stand if it is true; check it.",
     WARNING_FILL, WARNING_FONT),
    ("DARK RED, BOLD WHITE: an error. The return will be refused until it is fixed.",
     ERROR_FILL, ERROR_FONT),
]


def _rules_text(wb: Workbook, cells: list[InputCell]) -> None:
    """What each kind of input cell takes, on the Instructions sheet: written from the
    same rules as the cells' validation, so the words cannot disagree with the checks."""
    sheet = wb["Instructions"]
    r = sheet.max_row + 2
    sheet.cell(row=r, column=1, value="What each cell takes (the Checks panel on the Cover "
            "counts what is left to fix)").font = Font(bold=True, color="1F3864")
    seen: set[str] = set()
    for cell in cells:
        name = cell.rule.label if cell.table == "About this return" else \
            f"{cell.table.split(':')[0]}, {cell.rule.label.lower()}"
        line = f"{name}: {rules.describe(cell.rule)}"
        if line in seen:
            continue
        seen.add(line)
        r += 1
        sheet.cell(row=r, column=1, value=line).alignment = Alignment(wrap_text=True)


def _draw_block(wb: Workbook, sheet, block: BlockSpec, r: int, widths: dict[int, int],
                inputs: list[InputCell]) -> int:
    sheet.cell(row=r, column=FIRST_COL, value=block.title).font = SECTION_FONT
    r += 1
    if block.note:
        sheet.cell(row=r, column=FIRST_COL, value=block.note).font = Font(italic=True,
                                                                       color="595959")
        # wrapped in its own column so a long note prints on the page, not past it
        sheet.cell(row=r, column=FIRST_COL).alignment = Alignment(wrap_text=True, vertical="top")
        width = max(block.columns[0].width if block.columns else 20, 20)
        sheet.row_dimensions[r].height = 15 * (1 + int(len(block.note) // (width * 0.9)))
        r += 1
    for j, col in enumerate(block.columns):
        c = sheet.cell(row=r, column=FIRST_COL + j, value=col.header)
        c.font, c.fill, c.border = HEADER_FONT, HEADER_FILL, BOX
        c.alignment = Alignment(wrap_text=True, vertical="center")
        widths[FIRST_COL + j] = max(widths[FIRST_COL + j], col.width)
    head_lines = max((1 + int(len(c.header) // max(c.width * 0.9, 4)) for c in block.columns),
                     default=2)
    sheet.row_dimensions[r].height = max(30, 15 * head_lines)  # every header line shows
    first = r + 1
    rows = [*block.rows, *(SpecRow() for _ in range(block.free_rows))]
    where = Placement({col.key: FIRST_COL + j for j, col in enumerate(block.columns)},
                      {row["code"]: first + i for i, row in enumerate(rows) if "code" in row})
    for i, row in enumerate(rows):
        rr = first + i
        lines = 1  # a row grows to its longest wrapped text (LibreOffice does not)
        for j, col in enumerate(block.columns):
            c = sheet.cell(row=rr, column=FIRST_COL + j)
            typ = cell_type(block, col, row)
            value = excel_value(typ, row.get(col.key))
            if isinstance(value, str):
                write_text_cell(c, value)
            else:
                c.value = value
            c.border = BOX
            if typ in NUMBER_FORMATS:
                c.number_format = NUMBER_FORMATS[typ]
            if typ == "text":
                c.alignment = Alignment(wrap_text=True, vertical="top")
                if isinstance(value, str):
                    lines = max(lines, 1 + int(len(value) // (max(col.width, 6) * 1.05)))
            elif typ in ("period", "date"):
                c.alignment = Alignment(horizontal="left")
            if cell_is_input(col, row) or not block.rows:
                c.protection = Protection(locked=False)
                c.fill = INPUT_FILL
                inputs.append(_input_cell(sheet.title, block, col, row, rr, FIRST_COL + j,
                                          typ, where))
            else:
                c.font = LOCKED_FONT
        if lines > 1:
            sheet.row_dimensions[rr].height = 15 * lines
    last = first + len(rows) - 1
    if rows:
        ref = (f"{quote_sheetname(sheet.title)}!${get_column_letter(FIRST_COL)}${first}:"
               f"${get_column_letter(FIRST_COL + len(block.columns) - 1)}${last}")
        wb.defined_names[block.name] = DefinedName(block.name, attr_text=ref)
    return last + 3


@dataclass(frozen=True)
class Placement:
    """Where a table's columns (by key) and coded rows (by code) were drawn."""

    cols: dict[str, int]
    rows: dict[str, int]


@dataclass(frozen=True)
class InputCell:
    """One input cell of the template and its rule: what its data validation, its
    conditional formatting and its line in the Checks panel are made from."""

    sheet: str
    row: int
    col: int
    rule: rules.CellRule
    header: str
    prompt: str
    cross: tuple  # the cross-field rules marking this cell, as a grouping key
    recipe: Callable[[Callable[[int, int], str]], list[rules.Check]]
    label: str = ""  # the cell as the panel names it: "Actual: Jul 2002"
    table: str = ""  # the title of its table


def _input_cell(sheet: str, block: BlockSpec, col: ColumnSpec, row: SpecRow, r: int,
                c: int, typ: str, where: Placement) -> InputCell:
    """The rule of an input cell, from the spec (type, bounds, allowed values, required:
    in a list's blank rows nothing is required until the row is used), and the formula
    checks of its value and of the cross-field rules it carries."""
    label = str(row.get("field") or col.header) if block.kind == BlockKind.COVER else col.header
    key = next((row.get(k.key) for k in block.key_columns if k.key != col.key), None)
    where_label = label if not isinstance(key, str) or block.kind == BlockKind.COVER else \
        f"{label}: {period_label(key) if typ_of_key(block) == 'period' else key}"[:80]
    rule = rules.cell_rule(typ if typ != "period" else "text", label=label,
                           required=cell_required(col, row) and bool(block.rows),
                           allowed=cell_allowed(block, col, row), minimum=col.minimum,
                           maximum=col.maximum, plausible=col.plausible)
    cross = rules.cross_rules(block.kind, col.key)
    narrative = block.kind == BlockKind.ASSESS and row.get("code") == "narrative"
    ratings = [(where.rows[d], where.cols["now"]) for d in rules.RATED if d in where.rows]

    def recipe(ref: Callable[[int, int], str]) -> list[rules.Check]:
        out = rules.value_checks(rule, ref(r, c))
        for cr in cross:
            assert cr.checks is not None
            out += cr.checks(lambda key: ref(r, where.cols[key]), row.values)
        if narrative:
            out += rules.assess_narrative(ref(r, c), [ref(r2, c2) for r2, c2 in ratings])
        return out
    sig = tuple(cr.code for cr in cross) + (("narrative", r) if narrative else ())
    return InputCell(sheet, r, c, rule, col.header, col.prompt, sig, recipe, where_label,
                     block.title)


def typ_of_key(block: BlockSpec) -> str:
    return block.key_columns[0].type if block.key_columns else "text"


def _runs(cells: list[InputCell]) -> list[list[InputCell]]:
    """Cells of one column with the same rule, in unbroken runs down the sheet: one data
    validation and one set of formatting rules each, written for the run's first cell."""
    runs: list[list[InputCell]] = []
    for cell in sorted(cells, key=lambda k: (k.col, k.row)):
        last = runs[-1][-1] if runs else None
        if last is not None and (last.col, last.rule, last.cross, last.header,
                                 last.prompt, last.row + 1) == (
                cell.col, cell.rule, cell.cross, cell.header, cell.prompt, cell.row):
            runs[-1].append(cell)
        else:
            runs.append([cell])
    return runs


def _local_ref(top: int) -> Callable[[int, int], str]:
    """References for a formula written for a run's first row: relative on that row (so
    each cell of the run checks its own row), absolute elsewhere."""
    def ref(r: int, c: int) -> str:
        col = get_column_letter(c)
        return f"{col}{r}" if r == top else f"${col}${r}"
    return ref


def _add_validations(sheet, cells: list[InputCell]) -> None:
    """From the rulebook: a stop-style data validation with an input message on every
    input cell, and conditional formatting marking errors, warnings and required cells
    still empty, as they are typed."""
    for run in _runs(cells):
        first, last = run[0], run[-1]
        top = f"{get_column_letter(first.col)}{first.row}"
        sqref = top if len(run) == 1 else f"{top}:{get_column_letter(last.col)}{last.row}"
        v = rules.validation(first.rule, top)
        dv = DataValidation(type=v.type, operator=v.operator, formula1=v.formula1,
                            formula2=v.formula2, allow_blank=True)
        dv.error, dv.errorTitle = v.error[:255], "Not accepted"
        dv.errorStyle = "stop"
        dv.showErrorMessage = True
        dv.showInputMessage = True
        dv.promptTitle = first.header[:32]
        dv.prompt = ((first.prompt + " " if first.prompt else "")
                     + rules.describe(first.rule))[:255]
        dv.add(sqref)
        sheet.add_data_validation(dv)
        checks = first.recipe(_local_ref(first.row))
        errors = [c.condition for c in checks if c.severity == "error"
                  and c.code != "required-missing"]
        empty = [c.condition for c in checks if c.code == "required-missing"]
        warns = [c.condition for c in checks if c.severity == "warning"]
        for conds, fill, font in ((errors, ERROR_FILL, ERROR_FONT),
                                  (empty, TO_FILL_FILL, None),
                                  (warns, WARNING_FILL, WARNING_FONT)):
            if conds:
                sheet.conditional_formatting.add(sqref, FormulaRule(
                    formula=[_any(conds)], fill=fill, font=font, stopIfTrue=True))


def _any(conds: list[str]) -> str:
    return conds[0] if len(conds) == 1 else "OR(" + ",".join(conds) + ")"


PANEL_COL = 1  # the Checks panel sits under the cover table, so the Cover prints on a page
PANEL_LINES = 10
CHECKS_SHEET = "Checks"


def _checks_panel(wb: Workbook, cover, cells: list[InputCell]) -> None:
    """The Checks panel on the Cover: errors and warnings counted by formulas (a hidden
    Checks sheet holds one line per input cell), the first problems listed by sheet and
    cell, and "Ready to send" when no error is left. `ChecksErrors` names the count."""
    if not cells:
        return
    hs = wb.create_sheet(CHECKS_SHEET)
    hs.sheet_state = "hidden"
    heads = ["Cell", "Error", "Warning", "Is error", "Is warning", "Error no.",
             "Warning no."]
    for j, h in enumerate(heads, start=1):
        hs.cell(row=1, column=j, value=h).font = Font(bold=True)
    for i, cell in enumerate(cells, start=2):
        qs = quote_sheetname(cell.sheet)

        def ref(r: int, c: int, qs: str = qs) -> str:
            return f"{qs}!${get_column_letter(c)}${r}"
        checks = cell.recipe(ref)
        me = ref(cell.row, cell.col)
        # names from the register stay inert text: string literals, quotes doubled
        hs.cell(row=i, column=1, value=f"={rules._q(f'Sheet {chr(39)}{cell.sheet}{chr(39)} ')}"
                f"&ADDRESS(ROW({me}),COLUMN({me}),4)&{rules._q(f' ({cell.label})')}")
        for col, sev in ((2, "error"), (3, "warning")):
            f = '""'
            for chk in reversed([c for c in checks if c.severity == sev]):
                f = f'IF(IFERROR({chk.condition},FALSE),{rules._q(chk.message)},{f})'
            hs.cell(row=i, column=col, value="=" + f)
        hs.cell(row=i, column=4, value=f'=IF(LEN(B{i})>0,1,0)')
        hs.cell(row=i, column=5, value=f'=IF(LEN(C{i})>0,1,0)')
        hs.cell(row=i, column=6, value=f"=N(F{i - 1})+D{i}")
        hs.cell(row=i, column=7, value=f"=N(G{i - 1})+E{i}")
    n = len(cells) + 1
    hs.column_dimensions["A"].width = 50
    hs.protection.sheet = True
    rng = {k: f"{CHECKS_SHEET}!${k}$2:${k}${n}" for k in "ABCDEFG"}
    c0 = PANEL_COL
    top = cover.max_row + 2
    cover.cell(row=top, column=c0, value="Checks").font = SECTION_FONT
    cover.cell(row=top + 1, column=c0,
               value="Counted as you type, by the rules the unit's checks apply.").font = \
        Font(italic=True, color="595959")
    labels = [("Errors to fix", f"=SUM({rng['D']})"),
              ("Warnings to check", f"=SUM({rng['E']})")]
    for k, (text, formula) in enumerate(labels):
        r = top + 2 + k
        cover.cell(row=r, column=c0, value=text).font = Font(bold=True)
        cover.cell(row=r, column=c0 + 1, value=formula).alignment = Alignment(
            horizontal="left")
    e, w = f"${get_column_letter(c0 + 1)}${top + 2}", f"${get_column_letter(c0 + 1)}${top + 3}"
    sr = top + 4
    cover.cell(row=sr, column=c0, value="Status").font = Font(bold=True)
    status = cover.cell(row=sr, column=c0 + 1, value=(
        f'=IF({e}=0,IF({w}=0,"Ready to send","Ready to send: "&{w}&" warning(s) to check"),'
        f'"Not ready: "&{e}&" error(s) to fix")'))
    status.font = Font(bold=True, size=12)
    cover.conditional_formatting.add(status.coordinate, FormulaRule(
        formula=[f"{e}>0"], fill=ERROR_FILL, font=ERROR_FONT, stopIfTrue=True))
    cover.conditional_formatting.add(status.coordinate, FormulaRule(
        formula=[f"{w}>0"], fill=WARNING_FILL, font=WARNING_FONT, stopIfTrue=True))
    cover.cell(row=sr + 1, column=c0, value=f"Where (first {PANEL_LINES})").font = \
        Font(bold=True)
    for k in range(1, PANEL_LINES + 1):
        r = sr + 1 + k
        cover.cell(row=r, column=c0, value=k).alignment = Alignment(horizontal="right",
                                                                   vertical="top")
        cover.cell(row=r, column=c0 + 1, value=(
            f'=IFERROR(IF({k}<={e},"Error: "&INDEX({rng["A"]},MATCH({k},{rng["F"]},0))&": "'
            f'&INDEX({rng["B"]},MATCH({k},{rng["F"]},0)),"Warning: "&INDEX({rng["A"]},'
            f'MATCH({k}-{e},{rng["G"]},0))&": "&INDEX({rng["C"]},MATCH({k}-{e},{rng["G"]},0))'
            f'),"")')).alignment = Alignment(wrap_text=True, vertical="top")
        cover.row_dimensions[r].height = 45  # three wrapped lines
    end = sr + 1 + PANEL_LINES
    for r in range(top + 2, end + 1):
        for c in (c0, c0 + 1):
            cover.cell(row=r, column=c).border = BOX
    cover_ref = quote_sheetname(cover.title)
    wb.defined_names["ChecksErrors"] = DefinedName("ChecksErrors",
                                                   attr_text=f"{cover_ref}!{e}")
    wb.defined_names["ChecksWarnings"] = DefinedName("ChecksWarnings",
                                                     attr_text=f"{cover_ref}!{w}")
    wb.defined_names["ChecksStatus"] = DefinedName(
        "ChecksStatus", attr_text=f"{cover_ref}!${get_column_letter(c0 + 1)}${sr}")
    wb.defined_names[PANEL_NAME] = DefinedName(PANEL_NAME, attr_text=(
        f"{cover_ref}!${get_column_letter(c0)}${top}:${get_column_letter(c0 + 1)}${end}"))


def _default_prompt(typ: str, allowed: list[str]) -> str:
    if allowed:
        return "Choose: " + ", ".join(allowed)
    return {"percent": "A percentage, e.g. 98%.", "number": "A number.",
            "int": "A whole number.", "date": "A date, e.g. 31/12/2003."}.get(typ, "Text.")
