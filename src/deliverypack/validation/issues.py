"""Issues as data: one model, a catalogue of stable kebab-case codes, messages from templates.

The README's table of codes is generated from CATALOGUE, and a test checks that every code
is triggered by a real workbook, so the documentation cannot drift from the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class IssueType:
    code: str
    severity: Severity
    title: str
    template: str  # formatted with found= and expected=
    description: str


_TYPES = [
    # file level: the file is refused before any cell is read
    IssueType("file-unreadable", "error", "File cannot be read",
              "the file could not be read: {found}", "The file is missing, empty or unreadable."),
    IssueType("not-a-regular-file", "error", "Not a regular file",
              "expected a regular file, found {found}; it was not opened",
              "A link, pipe or device in the inbox is refused without being read."),
    IssueType("not-a-workbook", "error", "Not an Excel workbook",
              "expected an Excel workbook (.xlsx), found {found}",
              "The file is not an .xlsx workbook (for example a PDF, CSV or renamed file)."),
    IssueType("legacy-xls", "error", "Old Excel format",
              "expected an .xlsx workbook, found an old-style .xls file; save it as .xlsx",
              "Excel 97-2003 files are not accepted; save as Excel Workbook (.xlsx)."),
    IssueType("encrypted", "error", "Password protected",
              "expected a workbook without a password to open, found an encrypted file",
              "A workbook encrypted with a password cannot be read; remove the password."),
    IssueType("file-too-large", "error", "File too large",
              "expected at most {expected}, found {found}",
              "The file or one of its parts is larger than any genuine return."),
    IssueType("zip-bomb", "error", "Suspicious compression",
              "expected ordinary compression, found {found}",
              "A part of the file expands far more than a real workbook would (a zip bomb)."),
    IssueType("sheet-too-large", "error", "Sheet too large",
              "expected cells within {expected}, found a cell at {found}; the sheet was "
              "not read", "A sheet reaches far beyond the template's area (a cell typed "
              "at the bottom-right corner of a sheet); clear the stray cells."),
    IssueType("package-damaged", "error", "Damaged workbook",
              "expected a sound workbook package, found {found}",
              "The workbook's package is damaged or altered (a bad checksum, a repeated or "
              "linked part, sizes or counts that lie, broken XML); save it again in Excel."),
    IssueType("reader-crashed", "error", "Workbook could not be read",
              "the workbook stopped the reader ({found}); the other files were not affected",
              "The spreadsheet reader failed on this file; save it again in Excel."),
    IssueType("unsafe-zip-entry", "error", "Unsafe part name",
              "expected ordinary part names, found {found}",
              "A part of the file has a name that points outside the workbook."),
    IssueType("unsafe-xml", "error", "Unsafe XML",
              "expected plain XML, found {found}",
              "The file declares XML entities or a DTD (an XML entity attack); it is refused."),
    IssueType("macros-present", "error", "Macros added",
              "expected no macros (our templates have none), found {found}",
              "A macro project was added to a deliverypack template; no macro is ever run."),
    IssueType("macros-ignored", "warning", "Macros ignored",
              "the workbook carries a macro project ({found}); it was not run and is ignored",
              "Foreign templates may carry macros; they are never run."),
    IssueType("external-links", "error", "External links",
              "expected no links to other workbooks, found {found}",
              "The workbook links to other files; paste values instead."),
    # structure: is this one of our returns, unchanged where it is locked?
    IssueType("unknown-template", "error", "Not a known template",
              "expected {expected}, found {found}",
              "The workbook is not a template issued by this workspace."),
    IssueType("wrong-version", "error", "Old template version",
              "expected template version {expected}, found {found}",
              "The return was filled in an out-of-date template."),
    IssueType("unknown-department", "error", "Unknown department",
              "expected one of the register's departments, found {found}",
              "The department on the cover is not in the register."),
    IssueType("unknown-round", "error", "Unknown round",
              "expected one of the register's rounds, found {found}",
              "The round on the cover is not in the register."),
    IssueType("missing-sheet", "error", "Sheet missing",
              "expected a sheet named {expected}, found none",
              "A sheet of the template was deleted or renamed."),
    IssueType("missing-name", "error", "Table missing",
              "expected the named range {expected}, found none",
              "A named table of the template was deleted."),
    IssueType("locked-cell-changed", "error", "Locked cell changed",
              "this cell is locked; expected {expected}, found {found}",
              "A pre-filled, locked cell was changed (only shaded cells may be typed in)."),
    IssueType("unexpected-row", "error", "Row not in template",
              "expected one of the template's rows, found {found}",
              "A row key (period, milestone, organisation) is not one the template sent."),
    IssueType("missing-row", "error", "Row deleted",
              "expected a row for {expected}, found none",
              "A row of a pre-filled table was deleted."),
    # cells
    IssueType("required-missing", "error", "Required cell empty",
              "expected {expected}, found an empty cell",
              "A cell that must be filled in is empty."),
    IssueType("not-a-number", "error", "Not a number",
              "expected {expected}, found {found}",
              "A number was expected."),
    IssueType("number-as-text", "warning", "Number typed as text",
              "the number was typed as text ({found}) and read as {expected}",
              "A number stored as text was read as the number it shows."),
    IssueType("not-a-date", "error", "Not a date",
              "expected a date (e.g. 31/12/2003), found {found}",
              "A date was expected."),
    IssueType("date-as-text", "warning", "Date typed as text",
              "the date was typed as text ({found}) and read day first as {expected}",
              "A date stored as text was read as a UK (day-first) date."),
    IssueType("not-allowed", "error", "Value not allowed",
              "expected one of {expected}, found {found}",
              "The value is not one of the values in the cell's dropdown."),
    IssueType("value-normalised", "warning", "Value read as a code",
              "{found} was read as {expected}",
              "A near-miss of an allowed value (case, spaces, full word) was read as the code."),
    IssueType("out-of-range", "error", "Out of range",
              "expected {expected}, found {found}",
              "A number is outside the values the measure can take (e.g. a % above 100)."),
    IssueType("percent-as-points", "warning", "Percentage read as points",
              "the cell shows {found}: the whole number typed was read as {expected}",
              "A whole number from 2 to 100 typed in a percentage cell (98 rather than 98%, "
              "shown as 9,800%) was read as percentage points."),
    IssueType("implausible-value", "warning", "Implausible value",
              "expected a value between {expected}, found {found}; please check it",
              "A value is far outside the measure's plausible range."),
    IssueType("unusual-against-history", "warning", "Far from the measure's history",
              "found {found}, far from this measure's recent figures: expected {expected}; "
              "please check it (a true figure is kept as sent)",
              "An actual under a tenth or over ten times the median of the measure's last "
              "six figures (at least three needed): a slipped decimal point or a wrong unit. "
              "A warning only, so a true unusual figure can still be sent."),
    IssueType("formula-text", "warning", "Text looks like a formula",
              "the text {found} begins like a formula; it is kept as text and never calculated",
              "Text beginning with =, +, -, @ is stored and written as text only."),
    IssueType("excel-error", "error", "Excel error value",
              "expected a value, found the Excel error {found}",
              "The cell shows an error (#DIV/0!, #N/A, #REF!...) where a value was expected."),
    IssueType("formula-no-value", "error", "Formula without a value",
              "the cell holds the formula {found} but no calculated value; open and save the "
              "file in Excel (or type the value itself)",
              "A formula whose result was never saved (written by a program, not Excel) "
              "cannot be read; nothing is ever calculated by deliverypack."),
    IssueType("number-not-finite", "error", "Not a finite number",
              "expected a number, found {found}, which no spreadsheet shows as a value; "
              "type the figure again",
              "A value of NaN or infinity (written by a program, never by Excel) is refused "
              "wherever it is, in a number, text or date cell."),
    IssueType("control-character", "error", "Control character in text",
              "expected text without control characters, found {found}; retype the text "
              "without it",
              "Text holding an invisible control character (other than a tab or line break), "
              "which no paper can print, is refused rather than silently changed."),
    IssueType("formula-input", "warning", "Formula in an input cell",
              "the cell holds the formula {found}; its saved value {expected} was taken",
              "A formula typed into an input cell is read at the value Excel saved for it."),
    IssueType("implausible-date", "error", "Date out of range",
              "expected a date from {expected}, found {found}",
              "A date cell holds a date no programme means, usually a number typed into a "
              "date cell (2003 becomes 25 Jun 1905)."),
    IssueType("outside-input", "error", "Typed outside the inputs",
              "nothing can be kept from this cell, which is outside the shaded input cells; "
              "found {found}; {expected}",
              "A value typed outside the template's input cells (below or beside a table, "
              "in a margin) would be lost, so it is reported."),
    IssueType("row-incomplete", "error", "Row partly filled",
              "this row has {found} but no {expected}",
              "A row of a list (issues, risks, asks, actions) is partly filled: the part "
              "that says what it is about is missing."),
    IssueType("wrong-round", "error", "Return for another round",
              "expected a return for round {expected}, found a return issued for round "
              "{found}", "The return was issued for a different round from the one being "
              "ingested (last round's template sent again)."),
    IssueType("round-closed", "error", "Round closed",
              "round {found} is closed ({expected}); the unit must reopen it, with a reason, "
              "before a return for it can be kept",
              "Returns for a round whose papers are published are refused."),
    IssueType("file-name-department", "warning", "File named for another department",
              "the file's name says {found}, but the return is {expected}'s",
              "The file name names a department other than the one on the cover."),
    IssueType("not-yet-available", "warning", "Figure not yet available",
              "no figure for {found}: {expected}; it is kept as a gap, and the figure built "
              "from organisations is marked partial",
              "An organisation's row says why it has no figure yet; accepted, shown as a gap."),
    IssueType("text-too-long", "error", "Text too long",
              "expected at most {expected} characters, found {found}",
              "A text cell is longer than a paper can carry."),
    # cross-field
    IssueType("narrative-required", "error", "Narrative required",
              "expected a narrative because {found}, found an empty cell",
              "A rating of AR or R needs a narrative explaining it."),
    IssueType("forecast-date-required", "error", "Forecast date required",
              "expected a forecast date for a milestone with status {found}",
              "A milestone not yet complete needs a forecast date."),
    IssueType("forecast-date-inconsistent", "warning", "Forecast date and status disagree",
              "status {found} but the forecast date is {expected}",
              "A milestone's forecast date does not agree with its status."),
    IssueType("due-before-meeting", "error", "Due date before the meeting",
              "expected a due date after the meeting ({expected}), found {found}",
              "A new action must be due after the meeting that allocated it."),
    IssueType("unknown-reference", "error", "Unknown reference",
              "expected one of {expected}, found {found}",
              "A cell refers to a department, priority, measure or organisation not in the "
              "register."),
    IssueType("duplicate-key", "error", "Duplicate",
              "expected each row once, found {found} again (already given at {expected})",
              "The same row (month, milestone, organisation) appears twice in a table."),
    IssueType("unsupported-value", "warning", "Value not read",
              "the cell holds {found}, a kind of value deliverypack does not read; it was "
              "not stored", "An unusual value in a foreign return (a duration, a time "
              "where another type is mapped) is flagged, never guessed."),
    # datamaps (foreign templates)
    IssueType("datamap-missing-column", "error", "Datamap column missing",
              "expected a column named {expected}", "The datamap has no key, sheet or cell "
              "column."),
    IssueType("datamap-duplicate-key", "error", "Datamap key repeated",
              "the key {found} is already mapped at {expected}", "Two lines share a key."),
    IssueType("datamap-duplicate-cell", "error", "Datamap cell repeated",
              "the cell {found} is already mapped at {expected}", "Two keys map one cell."),
    IssueType("datamap-unknown-type", "error", "Datamap type unknown",
              "expected a type of {expected}, found {found}", "A type datamaps does not have."),
    IssueType("datamap-bad-cell", "error", "Datamap cell reference wrong",
              "expected a cell reference such as C11, found {found}",
              "A cell reference (or a min or max) that cannot be read."),
    IssueType("datamap-unknown-sheet", "error", "Datamap sheet not in template",
              "the sheet {found} is not in the blank template",
              "A mapped sheet that the blank template does not have."),
    IssueType("datamap-bad-mapping", "error", "Datamap maps_to unknown",
              "expected department, round, measure:ID:actual:YYYY-MM or "
              "rating:PRIORITY:DIMENSION, found {found}", "A maps_to deliverypack cannot use."),
    # completeness
    IssueType("actual-missing", "warning", "Actual missing",
              "expected the actual for {expected}, a period that has passed; found an empty cell",
              "An actual for a period that has passed was left empty."),
]

CATALOGUE: dict[str, IssueType] = {t.code: t for t in _TYPES}


class Issue(BaseModel):
    """One problem found in a file, located as precisely as the file allows."""

    code: str
    severity: Severity
    file: str = ""
    sheet: str = ""
    cell: str = ""
    found: str = ""
    expected: str = ""
    message: str

    @property
    def location(self) -> str:
        if self.sheet and self.cell:
            return f"Sheet '{self.sheet}', cell {self.cell}"
        if self.sheet:
            return f"Sheet '{self.sheet}'"
        if self.cell:  # a line of a CSV file such as a datamap
            return f"{self.file}, {self.cell}" if self.file else self.cell
        return ""

    def text(self) -> str:
        """The sentence a returns officer reads."""
        return f"{self.location}: {self.message}" if self.location else self.message


def show(value: object) -> str:
    """A value as the user typed it, quoted, for messages."""
    if value is None or value == "":
        return "an empty cell"
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else repr(value[:57] + "...")
    if isinstance(value, float):
        return f"{value:,.10g}"
    return str(value)


def issue(code: str, *, sheet: str = "", cell: str = "", found: object = "",
          expected: object = "", file: str = "") -> Issue:
    """Make an Issue from the catalogue; the message comes from the code's template."""
    t = CATALOGUE[code]
    found_s = found if isinstance(found, str) and code not in _QUOTE_FOUND else show(found)
    exp_s = str(expected)
    return Issue(code=code, severity=t.severity, file=file, sheet=sheet, cell=cell,
                 found=found_s, expected=exp_s,
                 message=t.template.format(found=found_s, expected=exp_s))


# Codes whose `found` is a cell value and so is shown quoted, as typed.
_QUOTE_FOUND = {
    "not-a-number", "number-as-text", "not-a-date", "date-as-text", "not-allowed",
    "value-normalised", "formula-text", "locked-cell-changed", "unexpected-row",
    "unknown-reference", "outside-input", "unknown-department", "unknown-round", "unknown-template",
    "wrong-version", "due-before-meeting", "unsupported-value", "datamap-duplicate-key",
    "datamap-duplicate-cell", "datamap-unknown-type", "datamap-bad-cell",
    "datamap-unknown-sheet", "datamap-bad-mapping",
}
