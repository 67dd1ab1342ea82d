"""Values of a workbook by sheet and cell, and its defined names: all validation reads.

python-calamine reads values (fast, and it sees cached results, never evaluating anything);
the defined names come from xl/workbook.xml parsed with defusedxml. BookValues is a plain
object, so the same checks run on a file on disk or on a workbook open in Excel.
"""

from __future__ import annotations

import io
import math
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.parsers import expat

import defusedxml.ElementTree as SafeET
from openpyxl.utils import column_index_from_string, get_column_letter
from python_calamine import CalamineWorkbook

from ..foundation.errors import FileRefused
from .cells import Unreadable

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


# What one sheet may span before it is read. The native reader holds a sheet as a dense
# rectangle from A1 to its farthest cell (32 bytes a cell), so one cell typed at XFD1048576
# would ask for 512 GB: the extent is measured from the XML first, and a sheet beyond these
# bounds is refused, never read. ROW_ROOM is what a sheet may hold below the template's
# last named table (notes, a pasted block) and still be read.
MAX_SHEET_ROWS = 200_000
MAX_SHEET_COLS = 1_000
MAX_SHEET_CELLS = 4_000_000
ROW_ROOM = 2_000


class SheetTooLarge(Exception):
    """A sheet spans more cells than can be read in bounded memory."""

    def __init__(self, sheet: str, far: str, expected: str):
        super().__init__(f"sheet {sheet!r} reaches {far}, beyond {expected}")
        self.sheet, self.far, self.expected = sheet, far, expected


class PackageDamaged(FileRefused):
    """A part of the package is damaged or would make the native reader fail (an issue
    code, a finding); a command that reads one file says it in one line."""

    def __init__(self, code: str, found: str):
        super().__init__(found)
        self.code, self.found = code, found


_ROW_REF = re.compile(rb"<row\b[^>]*?\sr=\"([0-9]+)\"")
_CELL_COL = re.compile(rb"<c\b[^>]*?\sr=\"([A-Z]+)[0-9]*\"")
_TAG = re.compile(rb"<(row|c)(?=[\s>/])(?:\s+r=\"([A-Z]*)([0-9]+)\")?")


def _col(letters: bytes) -> int:
    return column_index_from_string(letters.decode()) if 0 < len(letters) <= 3 else 10 ** 6
_DIMENSION = re.compile(rb"<dimension\s+ref=\"([^\"]*)\"")
_COUNT = re.compile(rb"\b(?:count|uniqueCount)=\"([0-9]+)\"")
_CHUNK = 1 << 20  # what is inflated and scanned at a time


def sheet_extent(zf: zipfile.ZipFile, part: str, bounds: tuple[int, int] | None = None
                 ) -> tuple[int, int]:
    """(rows, columns) a sheet spans: its farthest row and column, as declared by its
    dimension and as its rows and cells say (the native reader trusts both; a row or cell
    without a reference follows the one before it). The XML is scanned in pieces, so the
    memory it takes does not grow with the sheet; given `bounds` (rows, columns), the scan
    stops at the first piece reaching beyond them."""
    rows = cols = 0  # the farthest row and column referenced
    n_rows = n_row_refs = n_cells = n_col_refs = 0
    head = b""
    for xml in _sheet_pieces(zf, part):
        if len(head) < 4096:
            head += xml[:4096 - len(head)]
        tags = _TAG.findall(xml)  # (tag, column letters, row) of every row and cell
        n = sum(1 for t, _, _ in tags if t == b"row")
        n_rows, n_cells = n_rows + n, n_cells + len(tags) - n
        if all(ref for _, _, ref in tags):
            n_row_refs, n_col_refs = n_row_refs + n, n_col_refs + len(tags) - n
            rows = max(rows, max((int(r) for t, _, r in tags if t == b"row"), default=0))
            cols = max(cols, max((_col(c) for c in {c for t, c, _ in tags if t == b"c"}),
                                 default=0))
        else:  # a reference elsewhere in the tag, or none
            row_refs, col_refs = _ROW_REF.findall(xml), _CELL_COL.findall(xml)
            n_row_refs, n_col_refs = n_row_refs + len(row_refs), n_col_refs + len(col_refs)
            rows = max(rows, max((int(m) for m in set(row_refs)), default=0))
            cols = max(cols, max((_col(c) for c in set(col_refs)), default=0))
        if bounds is not None and (rows > bounds[0] or cols > bounds[1]):
            break  # far enough to be refused: a cell there is what the user is told of
    rows += n_rows - n_row_refs
    if n_cells > n_col_refs:
        cols += _most_cells_in_a_row(zf, part)
    m = _DIMENSION.search(head)
    if m:
        rng = parse_ref(f"x!{m.group(1).decode('ascii', 'replace')}")
        if rng is not None:
            rows, cols = max(rows, rng.r2), max(cols, rng.c2)
    return rows, cols


_C_TAG = re.compile(rb"<c(?=[\s>/])")


def _sheet_pieces(zf: zipfile.ZipFile, part: str) -> Iterator[bytes]:
    """A part's XML in pieces of about a megabyte, each ending just before a '<', so no
    tag is ever split between two (zipfile bounds what it inflates by the declared size
    and checks the CRC)."""
    carry = b""
    with zf.open(part) as fh:
        while piece := fh.read(_CHUNK):
            buf = carry + piece
            cut = buf.rfind(b"<")
            if cut <= 0:  # no tag starts here, or one long tag: keep it whole
                carry = buf
                continue
            yield buf[:cut]
            carry = buf[cut:]
    if carry:
        yield carry


def _most_cells_in_a_row(zf: zipfile.ZipFile, part: str) -> int:
    """The most cells any row holds: how far cells without references can run."""
    most = in_row = 0
    for xml in _sheet_pieces(zf, part):
        rows = xml.split(b"<row")
        in_row += len(_C_TAG.findall(rows[0]))  # the row open at the piece's start
        for r in rows[1:]:
            most, in_row = max(most, in_row), len(_C_TAG.findall(r))
    return max(most, in_row)


def check_shared_strings(zf: zipfile.ZipFile) -> None:
    """A shared-string count the native reader reserves memory for must be one the part can
    hold (each string takes at least `<si/>`, five bytes): a count that lies aborts it."""
    try:
        info = zf.getinfo("xl/sharedStrings.xml")
    except KeyError:
        return
    with zf.open(info) as fh:
        head = fh.read(1024)
    m = re.search(rb"<(?:\w+:)?sst\b[^>]*>", head)
    for n in _COUNT.findall(m.group(0) if m else b""):
        if int(n) > info.file_size // 5 + 1:
            raise PackageDamaged("package-damaged", f"a shared-strings count of {int(n):,} "
                                 f"in a part of {info.file_size:,} bytes")


# ----------------------------------------------------------------------------- package
# Every part of a package is inflated once, from the archive's own bytes, before anything
# reads it: never beyond the size its directory entry declares (a part that holds more is
# damage, found one chunk later, so a bomb with lying sizes costs a chunk), its checksum
# compared, and every XML part parsed for well-formedness, whether or not a reader would
# ever open it. A package that passes is one every reader sees the same way.
_LOCAL = struct.Struct("<4s2B4HL2L2H")  # a zip local file header (APPNOTE.TXT 4.3.7)
# Parts parsed as XML. VML (legacy drawings: comment boxes, form controls) is left out:
# Excel has long written it with HTML habits (an unclosed <br>), and nothing reads it.
XML_PARTS = (".xml", ".rels")


def check_package(zf: zipfile.ZipFile, data: bytes) -> None:
    """Raise PackageDamaged for the first part that is repeated, a link, named with a
    backslash, larger or smaller than declared, fails its checksum, or is broken XML."""
    seen: set[str] = set()
    for info in zf.infolist():
        name = info.filename
        if "\\" in name:  # a Windows path: another reader may unpack it elsewhere
            raise PackageDamaged("unsafe-zip-entry", repr(name))
        if name.casefold() in seen:  # part names are compared without case (OPC)
            raise PackageDamaged("package-damaged", f"the part {name} twice (readers "
                                 "disagree on which copy they read)")
        seen.add(name.casefold())
        mode = info.external_attr >> 16
        if info.create_system == 3 and stat.S_ISLNK(mode):
            raise PackageDamaged("package-damaged", f"the part {name} stored as a link "
                                 "to another file")
        if info.is_dir():
            continue
        parse = _xml_checker(name) if name.lower().endswith(XML_PARTS) else None
        chunks = member_bytes(zf, info, data)
        try:
            for chunk in chunks:
                if parse is not None:
                    parse(chunk, False)
            if parse is not None:
                parse(b"", True)
        except expat.ExpatError as exc:
            for _ in chunks:  # a bad checksum or size, if there is one, is the cause
                pass
            raise PackageDamaged("package-damaged", f"malformed XML in part {name}"
                                 f"{_sheet_named(zf, name)} at line {exc.lineno}, column "
                                 f"{exc.offset + 1}: {expat.ErrorString(exc.code)}") from None


def member_bytes(zf: zipfile.ZipFile, info: zipfile.ZipInfo, data: bytes
                 ) -> Iterator[bytes]:
    """A part's bytes in chunks, inflated from the archive's bytes and bounded by the size
    its directory entry declares; PackageDamaged if it holds more or less, or its checksum
    is wrong."""
    name, size = info.filename, info.file_size
    if info.flag_bits & 0x1:
        raise PackageDamaged("package-damaged", f"the part {name} encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise PackageDamaged("package-damaged", f"the part {name} compressed by method "
                             f"{info.compress_type}, which spreadsheet programs never use")
    at = info.header_offset
    head = data[at:at + _LOCAL.size]
    fields = _LOCAL.unpack(head) if len(head) == _LOCAL.size else None
    if fields is None or fields[0] != b"PK\x03\x04":
        raise PackageDamaged("package-damaged", f"no local header for the part {name}")
    start = at + _LOCAL.size + fields[10] + fields[11]  # + name and extra lengths
    if data[at + _LOCAL.size:at + _LOCAL.size + fields[10]].replace(b"\\", b"/") != \
            name.encode("utf-8" if info.flag_bits & 0x800 else "cp437", "replace"):
        raise PackageDamaged("package-damaged", f"the part {name} named otherwise in its "
                             "local header")
    raw = memoryview(data)[start:start + info.compress_size]
    if len(raw) < info.compress_size:
        raise PackageDamaged("package-damaged", f"the part {name} cut short")
    crc, total = 0, 0
    inflate = zlib.decompressobj(-zlib.MAX_WBITS) \
        if info.compress_type == zipfile.ZIP_DEFLATED else None
    try:
        for i in range(0, len(raw), _CHUNK):
            piece: bytes = bytes(raw[i:i + _CHUNK])
            while piece:
                out = piece if inflate is None else inflate.decompress(piece, _CHUNK)
                piece = b"" if inflate is None else inflate.unconsumed_tail
                total += len(out)
                if total > size:
                    raise PackageDamaged("package-damaged", f"the part {name} holding more "
                                         f"than the {size:,} bytes its entry declares")
                crc = zlib.crc32(out, crc)
                if out:
                    yield out
        if inflate is not None and (not inflate.eof or inflate.unused_data):
            raise PackageDamaged("package-damaged", f"the part {name} cut short or "
                                 "followed by stray bytes")
    except zlib.error as exc:
        raise PackageDamaged("package-damaged", f"the part {name} that cannot be "
                             f"inflated ({exc})") from None
    if total != size:
        raise PackageDamaged("package-damaged", f"the part {name} holding {total:,} bytes "
                             f"where its entry declares {size:,}")
    if crc != info.CRC:
        raise PackageDamaged("package-damaged", f"a bad checksum (CRC) in the part {name}")


def _xml_checker(name: str) -> Any:
    """A well-formedness parser (expat, nothing built) for one part; a DTD is refused."""
    parser = expat.ParserCreate()

    def no_dtd(*_: Any) -> None:
        raise PackageDamaged("unsafe-xml", f"a DTD or entity declaration in {name}")
    parser.StartDoctypeDeclHandler = no_dtd
    parser.EntityDeclHandler = no_dtd
    return parser.Parse


def _sheet_named(zf: zipfile.ZipFile, part: str) -> str:
    """' (sheet 'Cover')' for a sheet's part, '' for any other (or when unknown)."""
    try:
        name = next((s for s, p in sheet_parts(zf).items() if p == part), None)
    except Exception:  # the workbook part itself may be the broken one
        return ""
    return f" (sheet {name!r})" if name else ""


# Values no reader should take as they are: NaN and infinity (which no spreadsheet writes
# as a value), and text holding characters XML 1.0 cannot hold (decoded from _xHHHH_),
# which no paper could print. Each becomes an Unreadable, so every path reading the cell
# (our templates, foreign templates, a workbook open in Excel) says so the same way.
_CONTROL_NAMES = {"\x0b": "a vertical tab (a line break pasted from Word)",
                  "\x0c": "a form feed (a page break pasted from Word)",
                  "\x00": "a null character"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def odd_value(v: Any) -> Unreadable | None:
    """The Unreadable standing for `v`, or None for a value that can be read."""
    if v.__class__ is float and not math.isfinite(v):
        return Unreadable("number-not-finite", "NaN (not a number)" if math.isnan(v) else
                          "infinity" if v > 0 else "minus infinity")
    if v.__class__ is str:
        m = _CONTROL.search(v)
        if m is not None:
            c = m.group()
            what = _CONTROL_NAMES.get(c, f"the control character U+{ord(c):04X}")
            return Unreadable("control-character", f"{what} at character {m.start() + 1} "
                              f"of {v[:60]!r}")
    return None


def mark_odd_values(grid: list[list[Any]]) -> None:
    """Put an Unreadable in the place of each NaN, infinity or text with control
    characters (a scan of the grid; most rows hold none)."""
    for line in grid:
        for j, v in enumerate(line):
            if (v.__class__ is float and v - v != 0.0) or (
                    v.__class__ is str and _CONTROL.search(v)):
                line[j] = odd_value(v)


@dataclass
class BookValues:
    """Sheet names, defined names and a grid of values per sheet (loaded on first use)."""

    sheet_names: list[str]
    names: dict[str, Range]
    _grids: dict[str, list[list[Any]]] = field(default_factory=dict)
    _loader: Any = None
    row_limits: dict[str, int] = field(default_factory=dict)  # the template's area + room
    _marker: Any = None  # sheet -> {(row, col): CellMark}, for cells holding formulas
    # cells holding a formula with a saved value, by sheet: {(row, col): formula}
    formulas: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)

    def grid(self, sheet: str) -> list[list[Any]]:
        if sheet not in self._grids:
            grid = self._loader(sheet) if self._loader else []
            mark_odd_values(grid)
            marks = self._marker(sheet) if self._marker else {}
            if marks:
                _overlay(grid, marks, self.formulas.setdefault(sheet, {}))
            self._grids[sheet] = grid
        return self._grids[sheet]

    def bound_to(self, names: list[str]) -> None:
        """Bound each sheet's reading to the template's area: the last row of its named
        tables (as this workbook places them) plus ROW_ROOM."""
        for n in names:
            rng = self.names.get(n)
            if rng is not None:
                self.row_limits[rng.sheet] = max(self.row_limits.get(rng.sheet, 0),
                                                 min(rng.r2, MAX_SHEET_ROWS) + ROW_ROOM)

    def value(self, sheet: str, row: int, col: int) -> Any:
        grid = self.grid(sheet)
        if row - 1 < len(grid) and col - 1 < len(grid[row - 1]):
            return grid[row - 1][col - 1]
        return None

    @classmethod
    def from_grids(cls, grids: dict[str, list[list[Any]]], names: dict[str, Range]):
        for grid in grids.values():
            mark_odd_values(grid)
        return cls(sheet_names=list(grids), names=names, _grids=dict(grids))

    @classmethod
    def from_path(cls, path: Path) -> BookValues:
        data = Path(path).read_bytes()
        return cls.from_bytes(data, zipfile.ZipFile(io.BytesIO(data)))

    @classmethod
    def from_bytes(cls, data: bytes, zf: zipfile.ZipFile) -> BookValues:
        """A workbook's values from its bytes (and the zip already open over them), once
        every part of the package is shown sound."""
        check_package(zf, data)
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
        check_shared_strings(zf)
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        parts = sheet_parts(zf, root)

        def load(sheet: str) -> list[list[Any]]:
            if sheet not in sheets:
                return []
            part = parts.get(sheet)
            if part is not None:
                limit = min(book.row_limits.get(sheet, MAX_SHEET_ROWS), MAX_SHEET_ROWS)
                rows, cols = sheet_extent(zf, part, (limit, MAX_SHEET_COLS))
                if rows > limit or cols > MAX_SHEET_COLS or rows * cols > MAX_SHEET_CELLS:
                    far = address(min(rows, 1048576), min(cols, 16384)) \
                        if cols <= 16384 else f"column {cols:,}"
                    raise SheetTooLarge(sheet, far, f"{limit:,} rows and "
                                        f"{MAX_SHEET_COLS:,} columns")
            return wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)

        def mark(sheet: str) -> dict[tuple[int, int], CellMark]:
            part = parts.get(sheet)
            return cell_marks(zf.read(part)) if part else {}

        book = cls(sheet_names=sheets, names=names, _loader=load, _marker=mark)
        return book


@dataclass(frozen=True, slots=True)
class CellMark:
    """What calamine does not say about a cell: that it holds a formula (and whether a
    value was saved for it), or an Excel error, which calamine reads as empty."""

    formula: str | None  # the formula as written, '=' first; None for a typed error
    error: str | None  # '#DIV/0!'...
    has_value: bool


_CELL = re.compile(rb'<c\b([^>/]*)>(.*?)</c>', re.S)
_ATTR_R = re.compile(rb'\br="([A-Z]{1,3})([0-9]+)"')
_F = re.compile(rb'<f\b[^>]*?(?:/>|>(.*?)</f>)', re.S)
_V = re.compile(rb'<v\s*/>|<v>(.*?)</v>', re.S)  # <v/>: an empty value, as lxml writes it
_HAS_F = re.compile(rb"<f[\s>/]")


def cell_marks(xml: bytes) -> dict[tuple[int, int], CellMark]:
    """{(row, col): CellMark} for the cells of a sheet's XML holding a formula or an
    error: a byte scan, skipped at once for a sheet with neither (every template)."""
    if b't="e"' not in xml and _HAS_F.search(xml) is None:  # (<formula1> is not a cell's)
        return {}
    from xml.sax.saxutils import unescape

    out: dict[tuple[int, int], CellMark] = {}
    for m in _CELL.finditer(xml):
        attrs, body = m.group(1), m.group(2)
        is_error = b't="e"' in attrs
        f = _F.search(body)
        if f is None and not is_error:
            continue
        r = _ATTR_R.search(attrs)
        if r is None:
            continue
        v = _V.search(body)
        value = unescape((v.group(1) or b"").decode("utf-8", "replace")) if v else ""
        formula = None
        if f is not None:
            formula = "=" + unescape((f.group(1) or b"").decode("utf-8", "replace"))
        # a formula whose saved value is the empty string is written <v></v> with t="str";
        # openpyxl writes the same <v></v>, untyped, for a formula never calculated
        saved = bool(value) or (v is not None and b't="str"' in attrs)
        out[(int(r.group(2)), column_index_from_string(r.group(1).decode()))] = CellMark(
            formula, value if is_error else None, saved)
    return out


def _overlay(grid: list[list[Any]], marks: dict[tuple[int, int], CellMark],
             formulas: dict[tuple[int, int], str]) -> None:
    """Put an Unreadable in the place of each cell whose value cannot be taken (an error,
    a formula never calculated); note the formulas that have a value."""
    for (r, c), mk in marks.items():
        if mk.error is not None:
            cell: Any = Unreadable("excel-error", mk.error)
        elif not mk.has_value:
            cell = Unreadable("formula-no-value", mk.formula or "a formula")
        else:
            formulas[(r, c)] = mk.formula or ""
            continue
        while len(grid) < r:
            grid.append([])
        line = grid[r - 1]
        if len(line) < c:
            line.extend([""] * (c - len(line)))
        line[c - 1] = cell




_ERROR_CELL = re.compile(rb'<c r="([A-Z]{1,3}[0-9]+)"[^>]*?t="e"[^>]*>'
                         rb'(?:<f[^>]*>.*?</f>|<f[^>]*/>)?<v>([^<]*)</v>', re.S)


def sheet_parts(zf: zipfile.ZipFile, root: Any = None) -> dict[str, str]:
    """{sheet name: its part in the package}, through the workbook's relationships."""
    if root is None:
        root = SafeET.fromstring(zf.read("xl/workbook.xml"))
    try:
        rels = SafeET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except KeyError:
        return {}
    target = {r.get("Id"): r.get("Target") or "" for r in rels}
    rid = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    out: dict[str, str] = {}
    names = set(zf.namelist())
    for sh in root.iter(f"{NS}sheet"):
        t = target.get(sh.get(rid), "")
        part = t.lstrip("/") if t.startswith("/") else f"xl/{t}"
        if part in names:
            out[sh.get("name") or ""] = part
    return out


def error_cells(zf: zipfile.ZipFile, sheets: set[str]) -> dict[tuple[str, str], str]:
    """Cells holding an Excel error (#DIV/0!, #REF!...), which calamine reads as empty:
    {(sheet, cell): error}. A byte scan of the named sheets' XML, nothing evaluated."""
    out: dict[tuple[str, str], str] = {}
    for name, part in sheet_parts(zf).items():
        if name not in sheets:
            continue
        data = zf.read(part)
        if b't="e"' not in data:
            continue
        for m in _ERROR_CELL.finditer(data):
            out[(name, m.group(1).decode())] = m.group(2).decode()
    return out
