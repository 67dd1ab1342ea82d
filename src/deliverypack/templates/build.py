"""Draw a WorkbookSpec as a protected, pre-filled .xlsx that departments can fill.

openpyxl, because templates need what only it writes well: cell protection, data
validations with input messages, and defined names over each table.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from ..foundation.files import atomic_write, write_text_cell
from ..foundation.periods import period_date
from ..validation.layout import (
    BlockSpec,
    WorkbookSpec,
    cell_allowed,
    cell_is_input,
    cell_type,
)

INPUT_FILL = PatternFill("solid", fgColor="FFF4CC")
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
    validations: dict[str, dict[tuple, list[str]]] = {}
    for sheet in spec.sheets:
        ws = wb.create_sheet(sheet.name)
        ws.sheet_properties.tabColor = "1F3864"
        ws["A1"] = sheet.heading
        ws["A1"].font = Font(bold=True, size=14, color="1F3864")
        ws["A2"] = sheet.subheading
        ws["A2"].font = Font(italic=True, color="595959")
        r = 4
        widths: dict[int, int] = defaultdict(lambda: 10)
        dv_groups: dict[tuple, list[str]] = defaultdict(list)
        for block in sheet.blocks:
            r = _draw_block(wb, ws, block, r, widths, dv_groups)
        for c, w in widths.items():
            ws.column_dimensions[get_column_letter(c)].width = w
        if widths[1] >= 40:  # a wide column A prints alone: wrap the titles inside it
            chars = widths[1] * 0.9  # characters a line of column A holds, or so
            for cell, size in ((ws["A1"], 20), (ws["A2"], 15)):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                ws.row_dimensions[cell.row].height = size * (
                    1 + int(len(str(cell.value or "")) * size / 15 // chars))
        validations[sheet.name] = dv_groups
        _add_validations(ws, dv_groups)
        ws.freeze_panes = "A4"
        ws.protection.sheet = True
        # Let people insert rows inside tables and resize things; the reader copes.
        ws.protection.insertRows = False
        ws.protection.formatColumns = False
        ws.protection.formatRows = False
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4  # UK government paper, not US Letter
        ws.page_setup.fitToWidth = pages_wide(widths.values())
        if ws.page_setup.fitToWidth > 1 and widths[1] <= 20:  # a narrow key column
            ws.print_title_cols = "A:A"  # prints on every page across
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    _embed_spec(wb, spec)
    wb.properties.title = spec.title
    wb.properties.identifier = spec.template_id
    wb.properties.creator = "deliverypack"
    return atomic_write(target, wb.save)


SPEC_SHEET = "dp_spec"
CHUNK = 30000  # under Excel's 32,767 characters a cell


def _embed_spec(wb: Workbook, spec: WorkbookSpec) -> None:
    """The cell map travels inside the template (a very hidden sheet), so a department can
    check its return in Excel before sending it. The unit's ledger copy stays authoritative."""
    ws = wb.create_sheet(SPEC_SHEET)
    ws.sheet_state = "veryHidden"
    body = spec.model_dump_json()
    for i in range(0, len(body), CHUNK):
        write_text_cell(ws.cell(row=1 + i // CHUNK, column=1), body[i:i + CHUNK])
    ws.protection.sheet = True


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
    ws = wb.create_sheet("Instructions")
    ws.column_dimensions["A"].width = 110
    for i, line in enumerate(spec.instructions, start=1):
        c = ws.cell(row=i, column=1, value=line)
        c.alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[i].height = 15 * (1 + len(line) // 100)  # wrapped lines show
        if i == 1:
            c.font = Font(bold=True, size=14, color="1F3864")
            ws.row_dimensions[i].height = 22
    key_row = len(spec.instructions) + 2
    ws.cell(row=key_row, column=1, value="Shaded cells like this one are for you to fill.")
    ws.cell(row=key_row, column=1).fill = INPUT_FILL
    ws.cell(row=key_row + 1, column=1,
            value=f"Template {spec.template_id}, version {spec.version}.")
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.protection.sheet = True


def _draw_block(wb: Workbook, ws, block: BlockSpec, r: int, widths: dict[int, int],
                dv_groups: dict[tuple, list[str]]) -> int:
    ws.cell(row=r, column=FIRST_COL, value=block.title).font = SECTION_FONT
    r += 1
    if block.note:
        ws.cell(row=r, column=FIRST_COL, value=block.note).font = Font(italic=True,
                                                                       color="595959")
        # wrapped in its own column so a long note prints on the page, not past it
        ws.cell(row=r, column=FIRST_COL).alignment = Alignment(wrap_text=True, vertical="top")
        width = max(block.columns[0].width if block.columns else 20, 20)
        ws.row_dimensions[r].height = 15 * (1 + int(len(block.note) // (width * 0.9)))
        r += 1
    for j, col in enumerate(block.columns):
        c = ws.cell(row=r, column=FIRST_COL + j, value=col.header)
        c.font, c.fill, c.border = HEADER_FONT, HEADER_FILL, BOX
        c.alignment = Alignment(wrap_text=True, vertical="center")
        widths[FIRST_COL + j] = max(widths[FIRST_COL + j], col.width)
    head_lines = max((1 + int(len(c.header) // max(c.width * 0.9, 4)) for c in block.columns),
                     default=2)
    ws.row_dimensions[r].height = max(30, 15 * head_lines)  # every header line shows
    first = r + 1
    rows = block.rows + [{} for _ in range(block.free_rows)]
    for i, row in enumerate(rows):
        rr = first + i
        lines = 1  # a row grows to its longest wrapped text (LibreOffice does not)
        for j, col in enumerate(block.columns):
            c = ws.cell(row=rr, column=FIRST_COL + j)
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
                allowed = cell_allowed(block, col, row)
                key = (typ, tuple(allowed), col.prompt, col.header)
                dv_groups[key].append(c.coordinate)
            else:
                c.font = LOCKED_FONT
        if lines > 1:
            ws.row_dimensions[rr].height = 15 * lines
    last = first + len(rows) - 1
    if rows:
        ref = (f"{quote_sheetname(ws.title)}!${get_column_letter(FIRST_COL)}${first}:"
               f"${get_column_letter(FIRST_COL + len(block.columns) - 1)}${last}")
        wb.defined_names[block.name] = DefinedName(block.name, attr_text=ref)
    return last + 3


def _add_validations(ws, groups: dict[tuple, list[str]]) -> None:
    """Dropdowns for codes, number and date checks, and an input message on every input."""
    for (typ, allowed, prompt, header), cells in groups.items():
        if allowed:
            dv = DataValidation(type="list", formula1='"' + ",".join(allowed) + '"',
                                allow_blank=True)
            dv.error = "Choose one of: " + ", ".join(allowed)
            dv.errorTitle = "Not an allowed value"
        elif typ == "percent":
            dv = DataValidation(type="decimal", operator="between", formula1="0",
                                formula2="1", allow_blank=True)
            dv.error = "Type a percentage between 0% and 100%."
        elif typ in ("number", "int"):
            dv = DataValidation(type="decimal", allow_blank=True, operator="greaterThanOrEqual",
                                formula1="-1E+300")
            dv.error = "Type a number."
        elif typ == "date":
            dv = DataValidation(type="date", operator="greaterThan", formula1="36526",
                                allow_blank=True)
            dv.error = "Type a date, e.g. 31/12/2003."
        else:
            dv = DataValidation(type="textLength", operator="lessThanOrEqual", formula1="4000",
                                allow_blank=True)
            dv.error = "At most 4000 characters."
        dv.errorStyle = "stop"
        dv.showErrorMessage = True
        dv.showInputMessage = True
        dv.promptTitle = header[:32]
        dv.prompt = (prompt or _default_prompt(typ, list(allowed)))[:255]
        for coord in cells:
            dv.add(coord)
        ws.add_data_validation(dv)


def _default_prompt(typ: str, allowed: list[str]) -> str:
    if allowed:
        return "Choose: " + ", ".join(allowed)
    return {"percent": "A percentage, e.g. 98%.", "number": "A number.",
            "int": "A whole number.", "date": "A date, e.g. 31/12/2003."}.get(typ, "Text.")
