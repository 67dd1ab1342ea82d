"""Datamaps: DfT's declarative map of key -> sheet -> cell -> type, read as `datamaps` reads it.

Header synonyms (cell_key|key, template_sheet|sheet, cellreference|cell_ref, type), quoted
commas inside keys, a UTF-8 byte-order mark and trailing empty lines are all accepted. The
optional columns deliverypack adds: required, allowed (a |-separated list), min, max and
maps_to (a deliverypack field such as measure:AE4:actual:2003-11 or rating:HO1:likelihood).
Every problem is reported with its line number.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..validation.cells import At
from ..validation.issues import Issue

TYPES = {"TEXT", "NUMBER", "DATE", "TIME"}
COLUMNS = {
    "key": ("cell_key", "key"),
    "sheet": ("template_sheet", "sheet"),
    "cell": ("cellreference", "cell_ref", "cell_reference", "cellref", "cell"),
    "type": ("type", "cell_type"),
    "required": ("required",),
    "allowed": ("allowed",),
    "min": ("min",),
    "max": ("max",),
    "maps_to": ("maps_to",),
}
_CELL = re.compile(r"^\$?([A-Z]{1,3})\$?([1-9]\d{0,6})$")
MAPS_TO = re.compile(r"^(department|round|measure:[A-Za-z0-9_]+:(actual|forecast):\d{4}-\d{2}"
                     r"|rating:[A-Za-z0-9_]+:(challenge|quality|capacity|stage|likelihood))$")


@dataclass
class MapEntry:
    line: int
    key: str
    sheet: str
    cell: str
    type: str
    required: bool = False
    allowed: list[str] = field(default_factory=list)
    min: float | None = None
    max: float | None = None
    maps_to: str = ""


def read_datamap(path: Path) -> tuple[list[MapEntry], list[Issue]]:
    """Parse and check a datamap: (entries, issues); an entry with an error is left out."""
    path = Path(path)
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text))
    issues: list[Issue] = []

    def at(line: int) -> At:
        return At(sheet="", cell=f"line {line}", file=path.name)
    try:
        header = next(reader)
    except StopIteration:
        return [], [at(1).issue("datamap-missing-column", expected="a header row")]
    names = [h.strip().lower() for h in header]
    col: dict[str, int] = {}
    for field_name, synonyms in COLUMNS.items():
        for s in synonyms:
            if s in names:
                col[field_name] = names.index(s)
                break
    for needed in ("key", "sheet", "cell"):
        if needed not in col:
            issues.append(at(1).issue("datamap-missing-column",
                                      expected=" or ".join(COLUMNS[needed])))
    if issues:
        return [], issues
    entries: list[MapEntry] = []
    keys: dict[str, int] = {}
    cells: dict[tuple[str, str], int] = {}
    for line, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue  # trailing empty lines

        def get(name: str, row=row) -> str:
            i = col.get(name)
            return row[i].strip() if i is not None and i < len(row) else ""
        key, sheet, cell = get("key"), get("sheet"), get("cell").upper()
        typ = (get("type") or "TEXT").upper()
        n = len(issues)
        if typ not in TYPES:
            issues.append(at(line).issue("datamap-unknown-type", found=typ,
                                         expected=", ".join(sorted(TYPES))))
        if not _CELL.match(cell):
            issues.append(at(line).issue("datamap-bad-cell", found=cell))
        if key in keys:
            issues.append(at(line).issue("datamap-duplicate-key", found=key,
                                         expected=f"line {keys[key]}"))
        if (sheet, cell) in cells:
            issues.append(at(line).issue("datamap-duplicate-cell", found=f"{sheet}!{cell}",
                                         expected=f"line {cells[(sheet, cell)]}"))
        maps_to = get("maps_to")
        if maps_to and not MAPS_TO.match(maps_to):
            issues.append(at(line).issue("datamap-bad-mapping", found=maps_to))
        entry = MapEntry(line=line, key=key, sheet=sheet, cell=cell, type=typ,
                         required=get("required").lower() in ("yes", "true", "1", "y"),
                         allowed=[a.strip() for a in get("allowed").split("|") if a.strip()],
                         min=_float(get("min"), at(line), issues),
                         max=_float(get("max"), at(line), issues), maps_to=maps_to)
        keys.setdefault(key, line)
        cells.setdefault((sheet, cell), line)
        if len(issues) == n:
            entries.append(entry)
    return entries, issues


def _float(text: str, at: At, issues: list[Issue]) -> float | None:
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        issues.append(at.issue("datamap-bad-cell", found=text))
        return None


def check_against_blank(entries: list[MapEntry], sheet_names: list[str],
                        datamap: str) -> list[Issue]:
    """Every mapped sheet exists in the blank template."""
    issues = []
    known = set(sheet_names)
    for e in entries:
        if e.sheet not in known:
            issues.append(At(sheet="", cell=f"line {e.line}", file=datamap).issue(
                "datamap-unknown-sheet", found=e.sheet))
    return issues
