"""Values of a workbook by sheet and cell, and its defined names: all validation reads.

python-calamine reads values (fast, and it sees cached results, never evaluating anything);
the defined names come from xl/workbook.xml parsed with defusedxml. BookValues is a plain
object, so the same checks run on a file on disk or on a workbook open in Excel.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET
from openpyxl.utils import column_index_from_string, get_column_letter
from python_calamine import CalamineWorkbook

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?$")


@dataclass(frozen=True)
class Range:
    """A rectangle of cells, 1-based and inclusive, as an Excel defined name points to."""

    sheet: str
    r1: int
    c1: int
    r2: int
    c2: int


@lru_cache(maxsize=8192)  # every return of a template holds the same names
def parse_ref(text: str) -> Range | None:
    """"'My sheet'!$A$5:$E$20" -> Range; None for anything else (#REF!, several areas)."""
    text = text.strip()
    if "!" not in text or "," in text:
        return None
    sheet, _, cells = text.rpartition("!")
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    m = _REF.match(cells)
    if not m:
        return None
    c1, r1 = column_index_from_string(m.group(1)), int(m.group(2))
    c2 = column_index_from_string(m.group(3)) if m.group(3) else c1
    r2 = int(m.group(4)) if m.group(4) else r1
    return Range(sheet, r1, c1, r2, c2)


_LETTERS = [""] + [get_column_letter(i) for i in range(1, 703)]


def address(row: int, col: int) -> str:
    return f"{_LETTERS[col] if col < len(_LETTERS) else get_column_letter(col)}{row}"


@dataclass
class BookValues:
    """Sheet names, defined names and a grid of values per sheet (loaded on first use)."""

    sheet_names: list[str]
    names: dict[str, Range]
    _grids: dict[str, list[list[Any]]] = field(default_factory=dict)
    _loader: Any = None

    def grid(self, sheet: str) -> list[list[Any]]:
        if sheet not in self._grids:
            self._grids[sheet] = self._loader(sheet) if self._loader else []
        return self._grids[sheet]

    def value(self, sheet: str, row: int, col: int) -> Any:
        grid = self.grid(sheet)
        if row - 1 < len(grid) and col - 1 < len(grid[row - 1]):
            return grid[row - 1][col - 1]
        return None

    @classmethod
    def from_grids(cls, grids: dict[str, list[list[Any]]], names: dict[str, Range]):
        return cls(sheet_names=list(grids), names=names, _grids=dict(grids))

    @classmethod
    def from_path(cls, path: Path) -> BookValues:
        data = Path(path).read_bytes()
        return cls.from_bytes(data, zipfile.ZipFile(io.BytesIO(data)))

    @classmethod
    def from_bytes(cls, data: bytes, zf: zipfile.ZipFile) -> BookValues:
        """A workbook's values from its bytes (and the zip already open over them)."""
        root = SafeET.fromstring(zf.read("xl/workbook.xml"))
        sheets = [s.get("name") for s in root.iter(f"{NS}sheet")]
        names: dict[str, Range] = {}
        for dn in root.iter(f"{NS}definedName"):
            name = dn.get("name") or ""
            if name.startswith("_xlnm") or dn.text is None:
                continue
            rng = parse_ref(dn.text)
            if rng is not None and rng.sheet in sheets:  # a name on a deleted sheet is #REF!
                names[name] = rng
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))

        def load(sheet: str) -> list[list[Any]]:
            if sheet not in sheets:
                return []
            return wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)

        return cls(sheet_names=sheets, names=names, _loader=load)


_ERROR_CELL = re.compile(rb'<c r="([A-Z]{1,3}[0-9]+)"[^>]*?t="e"[^>]*>'
                         rb'(?:<f[^>]*>.*?</f>|<f[^>]*/>)?<v>([^<]*)</v>', re.S)


def error_cells(zf: zipfile.ZipFile, sheets: set[str]) -> dict[tuple[str, str], str]:
    """Cells holding an Excel error (#DIV/0!, #REF!...), which calamine reads as empty:
    {(sheet, cell): error}. A byte scan of the named sheets' XML, nothing evaluated."""
    root = SafeET.fromstring(zf.read("xl/workbook.xml"))
    rels = SafeET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    target = {r.get("Id"): r.get("Target") for r in rels}
    rid = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    out: dict[tuple[str, str], str] = {}
    for sh in root.iter(f"{NS}sheet"):
        name = sh.get("name")
        if name not in sheets:
            continue
        t = target.get(sh.get(rid), "")
        part = t.lstrip("/") if t.startswith("/") else f"xl/{t}"
        data = zf.read(part)
        if b't="e"' not in data:
            continue
        for m in _ERROR_CELL.finditer(data):
            out[(name, m.group(1).decode())] = m.group(2).decode()
    return out
