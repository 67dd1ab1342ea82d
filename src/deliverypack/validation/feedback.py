"""The feedback workbook: the department's own file, each problem highlighted at its cell.

The original bytes are never re-saved; this is a new file beside them. Nothing the
department typed is changed, so they can fix the marked cells and send it straight back.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.cell import coordinate_from_string
from openpyxl.utils.exceptions import CellCoordinatesException

from ..foundation.files import atomic_write, write_text_cell
from .issues import Issue
from .rules import ERROR_COLOUR, WARNING_COLOUR

# the template's own colours for errors and warnings (the key on its Instructions sheet)
ERROR_FILL = PatternFill("solid", fgColor=ERROR_COLOUR)
WARNING_FILL = PatternFill("solid", fgColor=WARNING_COLOUR)
ERROR_FONT = Font(bold=True, color="FFFFFF")
WARNING_FONT = Font(bold=True, italic=True, color="000000")


# A return larger than this, or one with a sheet too large to read, gets a feedback
# workbook of its problems alone: annotating a copy would load it whole (a million-row
# return took 25 s and 828 MB), which is what the reader refused to do.
ANNOTATE_MAX_BYTES = 5 * 1024 * 1024
UNANNOTATED = {"sheet-too-large", "package-damaged", "reader-crashed"}


def write_feedback(source: Path, issues: list[Issue], target: Path) -> Path:
    """The return annotated at each problem's cell, with a Problems sheet; or, for a file
    too large to load in bounded time and memory, the Problems sheet alone."""
    if source.stat().st_size > ANNOTATE_MAX_BYTES or any(i.code in UNANNOTATED
                                                          for i in issues):
        wb = Workbook()
        wb.remove(wb.active)
    else:
        try:
            wb = load_workbook(source)
        except Exception:  # a return openpyxl cannot load (a NaN value): its problems alone
            wb = Workbook()
            wb.remove(wb.active)
    marked: dict[tuple[str, str], list[Issue]] = {}
    for i in issues:
        if i.sheet in wb.sheetnames and _is_cell(i.cell):
            marked.setdefault((i.sheet, i.cell), []).append(i)
    for (sheet_name, cell), found in marked.items():
        c = wb[sheet_name][cell]
        worst = "error" if any(i.severity == "error" for i in found) else "warning"
        c.fill = ERROR_FILL if worst == "error" else WARNING_FILL
        c.font = ERROR_FONT if worst == "error" else WARNING_FONT  # legible on its fill
        text = "\n".join(f"{i.severity.upper()}: {i.message}" for i in found)
        c.comment = Comment(text, "deliverypack", width=320, height=120)
    if "Problems" in wb.sheetnames:
        del wb["Problems"]
    sheet = wb.create_sheet("Problems", 0)
    sheet["A1"] = f"Problems found in {source.name}"
    sheet["A1"].font = Font(bold=True, size=14, color="9C0006")
    sheet["A2"] = ("Fix each problem in the highlighted cells (dark red, white type: must fix; "
                "orange, italic: please check), then send the return again. This sheet may "
                "be left in.")
    headers = ["No.", "Severity", "Sheet", "Cell", "Problem"]
    for j, h in enumerate(headers, start=1):
        sheet.cell(row=4, column=j, value=h).font = Font(bold=True)
    ordered = sorted(issues, key=lambda i: (i.severity != "error", i.sheet, _row_of(i.cell)))
    for n, i in enumerate(ordered, start=1):
        r = 4 + n
        sheet.cell(row=r, column=1, value=n)
        sheet.cell(row=r, column=2, value=i.severity)
        write_text_cell(sheet.cell(row=r, column=3), i.sheet)
        link = sheet.cell(row=r, column=4, value=i.cell)
        if (i.sheet, i.cell) in marked:
            link.hyperlink = f"#'{i.sheet}'!{i.cell}"
            link.font = Font(color="0563C1", underline="single")
        write_text_cell(sheet.cell(row=r, column=5), i.message)
        sheet.cell(row=r, column=5).alignment = Alignment(wrap_text=True, vertical="top")
        sheet.row_dimensions[r].height = 15 * (1 + len(i.message) // 95)  # wrapped lines
        if i.severity == "error":
            sheet.cell(row=r, column=2).fill = ERROR_FILL
            sheet.cell(row=r, column=2).font = ERROR_FONT
    for col, w in zip("ABCDE", (6, 10, 28, 8, 100), strict=True):
        sheet.column_dimensions[col].width = w
    sheet.freeze_panes = "A5"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4  # UK government paper, not US Letter
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "4:4"
    wb.active = 0
    return atomic_write(target, wb.save)


def _is_cell(ref: str) -> bool:
    try:
        coordinate_from_string(ref)
        return True
    except (ValueError, CellCoordinatesException):
        return False


def _row_of(ref: str) -> int:
    try:
        return coordinate_from_string(ref)[1]
    except (ValueError, CellCoordinatesException):
        return 0
