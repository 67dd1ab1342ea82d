"""Read a workbook back through its WorkbookSpec, yielding every problem at once.

Checks are generators over plain cell values (BookValues), so a department sees all its
problems in one go and the same code serves a file or a workbook open in Excel.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..domain import Register
from ..periods import MONTHS, parse_period, period_end, period_label
from ..returns.read import BookValues, Range, address
from ..templates.build import cell_allowed, cell_required
from ..templates.layout import BlockSpec, ColumnSpec, WorkbookSpec
from .cells import (
    At,
    fmt_number,
    from_serial,
    is_blank,
    read_code,
    read_date,
    read_number,
    read_text,
)
from .issues import Issue


@dataclass(slots=True)
class CellRead:
    """A value read, the raw cell it came from, and where (the address made only on use)."""

    value: Any
    raw: Any
    sheet: str
    row: int
    col: int
    file: str = ""

    @property
    def at(self) -> At:
        return At(sheet=self.sheet, cell=address(self.row, self.col), file=self.file)


@dataclass
class RowRead:
    key: tuple
    cells: dict[str, CellRead]
    spec_row: dict[str, Any] = field(default_factory=dict)

    def is_input(self, col: str) -> bool:
        return col in self.spec_row.get("_input", [])

    def get(self, col: str) -> Any:
        c = self.cells.get(col)
        return c.value if c else None

    def at(self, col: str) -> At:
        return self.cells[col].at


@dataclass
class BlockRead:
    spec: BlockSpec
    sheet: str
    rows: list[RowRead] = field(default_factory=list)


@dataclass
class BookRead:
    """What a valid workbook says, every value with its sheet and cell."""

    spec: WorkbookSpec
    blocks: list[BlockRead] = field(default_factory=list)

    def of_kind(self, kind: str) -> Iterator[BlockRead]:
        return (b for b in self.blocks if b.spec.kind == kind)

    def cover(self) -> dict[str, Any]:
        block = next(self.of_kind("cover"), None)
        return {r.key[0]: r.get("value") for r in block.rows} if block else {}


# ----------------------------------------------------------------------------- identify
def template_id_of(book: BookValues) -> str | None:
    """The template id on the cover, found through the dp_cover name (or the Cover sheet)."""
    rng = book.names.get("dp_cover")
    candidates: list[tuple[str, int, int]] = []
    if rng is not None:
        candidates = [(rng.sheet, r, rng.c1) for r in range(rng.r1, rng.r2 + 1)]
    elif "Cover" in book.sheet_names:
        candidates = [("Cover", r, 1) for r in range(1, 60)]
    for sheet, r, c in candidates:
        if str(book.value(sheet, r, c) or "").strip() == "Template id":
            v = book.value(sheet, r, c + 1)
            return str(v).strip() if not is_blank(v) else None
    return None


# ----------------------------------------------------------------------------- values
def normalise(typ: str, raw: Any) -> Any:
    """A cell value in the spec's terms, for comparing locked cells and keys."""
    if is_blank(raw):
        return None
    if typ == "period":
        return _period_of(raw)
    if typ == "percent":
        return round(float(raw) * 100.0, 9) if isinstance(raw, int | float) else str(raw)
    if typ in ("number", "int"):
        return round(float(raw), 9) if isinstance(raw, int | float) and not isinstance(
            raw, bool) else str(raw)
    if typ == "date":
        if isinstance(raw, dt.datetime):
            return raw.date().isoformat()
        if isinstance(raw, dt.date):
            return raw.isoformat()
        serial = from_serial(raw)
        return serial.isoformat() if serial else str(raw)
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw).strip()


def _period_of(raw: Any) -> str | None:
    if isinstance(raw, dt.date):
        return parse_period(raw)
    if (serial := from_serial(raw)) is not None:
        return parse_period(serial)
    text = str(raw).strip()
    try:
        return parse_period(text)
    except ValueError:
        pass
    parts = text.replace("-", " ").split()
    if len(parts) == 2 and parts[0][:3].title() in MONTHS and parts[1].isdigit():
        return f"{int(parts[1]):04d}-{MONTHS.index(parts[0][:3].title()) + 1:02d}"
    return text


def expected_value(typ: str, value: Any) -> Any:
    if value is None or value == "":
        return None
    if typ in ("percent", "number", "int"):
        return round(float(value), 9)
    if typ == "date":
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    return str(value)


def display(typ: str, value: Any) -> str:
    if value is None:
        return "an empty cell"
    if typ == "percent":
        return f"{float(value):g}%"
    if typ == "period":
        return period_label(value)
    if typ in ("number", "int"):
        return fmt_number(float(value))
    return repr(str(value))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))
    return a == b


def read_cell(typ: str, col: ColumnSpec, raw: Any, at: At, out: list[Issue], *,
              required: bool, allowed: list[str], label: str = "") -> Any:
    """Parse one input cell by its declared type; `label` names the field in messages."""
    what = (label or col.header).lower()
    if typ in ("code", "rating"):
        return read_code(raw, allowed, at, out, required=required)
    if typ in ("number", "percent", "int"):
        v = read_number(raw, at, out, required=required, percent=typ == "percent",
                        minimum=col.minimum, maximum=col.maximum, plausible=col.plausible,
                        what=f"the {what} as a percentage between 0 and 100"
                        if typ == "percent" else f"the {what} as a number")
        if typ == "int" and v is not None and not float(v).is_integer():
            out.append(at.issue("not-a-number", found=raw, expected="a whole number"))
            return None
        return int(v) if typ == "int" and v is not None else v
    if typ == "date":
        return read_date(raw, at, out, required=required, what=f"the {what} as a date")
    if typ == "period":
        p = _period_of(raw)
        return p
    return read_text(raw, at, out, required=required, what=f"the {what}")


# ----------------------------------------------------------------------------- blocks
def check_structure(book: BookValues, spec: WorkbookSpec, reg: Register | None,
                    file: str) -> Iterator[Issue]:
    for sheet in spec.sheets:
        if sheet.name not in book.sheet_names:
            yield At(sheet=sheet.name, cell="", file=file).issue("missing-sheet",
                                                                 expected=repr(sheet.name))
    for sheet, block in spec.blocks():
        if sheet.name not in book.sheet_names:
            continue  # reported once, as a missing sheet
        if (block.rows or block.free_rows) and block.name not in book.names:
            yield At(sheet=sheet.name, cell="", file=file).issue("missing-name",
                                                                 expected=block.name)
    if reg is None:  # checked without the unit's register (the Excel add-in)
        return
    if spec.department not in {d.id for d in reg.departments} | {"UNIT", ""} and \
            spec.kind == "return":
        yield At(sheet="Cover", cell="", file=file).issue("unknown-department",
                                                          found=spec.department)
    if spec.round and spec.round not in {r.id for r in reg.rounds}:
        yield At(sheet="Cover", cell="", file=file).issue("unknown-round", found=spec.round)


def _column_positions(book: BookValues, rng: Range, block: BlockSpec) -> dict[str, int]:
    """Where each column is: by its header above the range, else by position."""
    grid = book.grid(rng.sheet)
    line = grid[rng.r1 - 2] if 0 <= rng.r1 - 2 < len(grid) else []
    headers = {}
    for c in range(rng.c1, min(rng.c2, len(line)) + 1):
        h = line[c - 1]
        if isinstance(h, str) and h.strip():
            headers.setdefault(h.strip(), c)
    pos = {}
    for j, col in enumerate(block.columns):
        pos[col.key] = headers.get(col.header, rng.c1 + j)
    return pos


_PLANS: dict[int, tuple[BlockSpec, list[ColumnSpec], dict]] = {}


def _plan(block: BlockSpec) -> tuple[list[ColumnSpec], dict[tuple, tuple[dict, dict]]]:
    """Per block, once per issued spec: its key columns, and for each expected row key the
    row and the value every locked cell must hold."""
    cached = _PLANS.get(id(block))
    if cached is not None and cached[0] is block:
        return cached[1], cached[2]
    keys = block.key_columns
    expected: dict[tuple, tuple[dict, dict]] = {}
    for row in block.rows if keys else []:  # a list without keys is read as typed
        k = tuple(expected_value(c.type, row.get(c.key)) for c in keys)
        inputs = row.get("_input", ())
        types = row.get("_type") or {}
        wants = {c.key: expected_value(types.get(c.key, c.type), row.get(c.key))
                 for c in block.columns if c.role != "input" and c.key not in inputs}
        expected[k] = (row, wants)
    if len(_PLANS) > 512:  # about as many specs as the ledger keeps parsed; memory stays flat
        _PLANS.clear()
    _PLANS[id(block)] = (block, keys, expected)
    return keys, expected


def read_block(book: BookValues, block: BlockSpec, sheet_name: str, file: str,
               out: list[Issue]) -> BlockRead | None:
    """Read a table through its defined name. The hot loop of ingest: kept lean, with
    provenance made lazily and addresses only for problems."""
    rng = book.names.get(block.name)
    if rng is None:
        return None
    result = BlockRead(spec=block, sheet=rng.sheet)
    pos = _column_positions(book, rng, block)
    keys, expected = _plan(block)
    seen: set[tuple] = set()
    grid = book.grid(rng.sheet)
    sheet = rng.sheet
    cols = [(c, pos[c.key] - 1) for c in block.columns]
    key_idx = [j for j, (c, _) in enumerate(cols) if c.role == "key"]
    is_cover = block.kind == "cover"
    empty: tuple = ()
    for r in range(rng.r1, rng.r2 + 1):
        line = grid[r - 1] if r - 1 < len(grid) else empty
        n = len(line)
        raws = [line[c0] if c0 < n else None for _, c0 in cols]
        if all(v is None or v == "" or (v.__class__ is str and not v.strip()) for v in raws):
            continue  # an inserted or unused row
        if keys:
            k = tuple(normalise(cols[j][0].type, raws[j]) for j in key_idx)
            hit = expected.get(k)
            if hit is None:
                j = next((j for j in key_idx if not is_blank(raws[j])), None)
                if j is None:
                    j = next(j for j, v in enumerate(raws) if not is_blank(v))
                out.append(At(sheet, address(r, cols[j][1] + 1), file).issue(
                    "unexpected-row", found=raws[j]))
                continue
            if k in seen:
                j = key_idx[0]
                out.append(At(sheet, address(r, cols[j][1] + 1), file).issue(
                    "duplicate-key", found=raws[j]))
                continue
            seen.add(k)
            row, wants = hit
        else:
            row, wants = {}, {}
        types = row.get("_type")
        cells: dict[str, CellRead] = {}
        for (col, c0), raw in zip(cols, raws, strict=True):
            key = col.key
            typ = types.get(key, col.type) if types else col.type
            if key in wants:
                want = wants[key]
                got = normalise(typ, raw)
                if want != got and not _same(want, got):
                    out.append(At(sheet, address(r, c0 + 1), file).issue(
                        "locked-cell-changed", found=raw,
                        expected=display(typ, row.get(key))))
                cells[key] = CellRead(row.get(key), raw, sheet, r, c0 + 1, file)
                continue
            at = At(sheet, address(r, c0 + 1), file)
            label = str(row.get("field") or "") if is_cover else ""
            value = read_cell(typ, col, raw, at, out, required=cell_required(col, row),
                              allowed=cell_allowed(block, col, row), label=label)
            cells[key] = CellRead(value, raw, sheet, r, c0 + 1, file)
        rkey = tuple(row.get(c.key) for c in keys) if keys else (len(result.rows) + 1,)
        result.rows.append(RowRead(key=rkey, cells=cells, spec_row=row))
    for k, (row, _) in expected.items():
        if k not in seen:
            label = ", ".join(display(c.type, row.get(c.key)) for c in keys)
            out.append(At(sheet=rng.sheet, cell="", file=file).issue("missing-row",
                                                                     expected=label))
    return result


# ----------------------------------------------------------------------------- cross-field
def check_assessment(block: BlockRead) -> Iterator[Issue]:
    """A rating of AR or R must come with a narrative."""
    rows = {r.get("code"): r for r in block.rows}
    narrative = rows.get("narrative")
    weak = [f"{r.key[0].split(' (')[0].lower()} is {r.get('now')}" for code, r in rows.items()
            if code in ("quality", "capacity", "likelihood") and r.get("now") in ("AR", "R")]
    if weak and narrative is not None and is_blank(narrative.get("now")):
        yield narrative.at("now").issue("narrative-required", found=" and ".join(weak))


def check_unit_assessment(block: BlockRead) -> Iterator[Issue]:
    for row in block.rows:
        weak = [f"{d} is {row.get(f'unit_{d}')}" for d in ("quality", "capacity", "likelihood")
                if row.get(f"unit_{d}") in ("AR", "R")]
        if weak and is_blank(row.get("narrative")):
            yield row.at("narrative").issue("narrative-required", found=" and ".join(weak))


def check_milestones(block: BlockRead, round_id: str) -> Iterator[Issue]:
    end = period_end(round_id)
    for row in block.rows:
        status, forecast, due = row.get("status"), row.get("forecast"), row.get("due")
        if isinstance(due, str):
            due = dt.date.fromisoformat(due)
        if status and status != "Complete" and forecast is None:
            yield row.at("forecast").issue("forecast-date-required", found=repr(status))
        if forecast is None or status is None:
            continue
        if status == "On track" and due and forecast > due:
            yield row.at("forecast").issue("forecast-date-inconsistent", found=repr(status),
                                           expected=f"{forecast:%d %b %Y}, after the due date")
        if status == "Complete" and forecast > end:
            yield row.at("forecast").issue("forecast-date-inconsistent", found=repr(status),
                                           expected=f"{forecast:%d %b %Y}, in the future")


def check_organisations(block: BlockRead) -> Iterator[Issue]:
    for row in block.rows:
        num, den = row.get("numerator"), row.get("denominator")
        if num is not None and den is not None and num > den:
            yield row.at("numerator").issue(
                "out-of-range", found=num,
                expected=f"no more than the {block.spec.column('denominator').header.lower()}"
                         f" ({fmt_number(den)})")


def check_completeness(block: BlockRead, round_id: str) -> Iterator[Issue]:
    """An actual left empty for a month of this round that has passed."""
    for row in block.rows:
        period = row.key[0]
        cell = row.cells.get("actual")
        if cell is not None and is_blank(cell.raw) and period <= round_id:
            if row.is_input("actual"):
                yield row.at("actual").issue("actual-missing", expected=period_label(period))


CROSS: dict[str, Callable[..., Iterator[Issue]]] = {
    "assess": lambda b, s: check_assessment(b),
    "unit_assess": lambda b, s: check_unit_assessment(b),
    "miles": lambda b, s: check_milestones(b, s.round),
    "orgs": lambda b, s: check_organisations(b),
    "traj": lambda b, s: check_completeness(b, s.round),
}


def _version_check(read: BookRead, spec: WorkbookSpec, issues: list[Issue]
                   ) -> Iterator[Issue]:
    """A return filled in another version of the template says so plainly."""
    cover = next(read.of_kind("cover"), None)
    row = next((r for r in cover.rows if r.key[0] == "Template version"), None) if cover \
        else None
    raw = normalise("text", row.cells["value"].raw) if row else None
    if row is None or raw in (None, spec.version):
        yield from issues
        return
    at = row.at("value")
    yield from (i for i in issues if (i.sheet, i.cell) != (at.sheet, at.cell))
    yield at.issue("wrong-version", found=raw, expected=spec.version)


def check_book(book: BookValues, spec: WorkbookSpec, reg: Register | None, file: str,
               extra: list[Callable[[BookRead], Iterator[Issue]]] | None = None
               ) -> tuple[list[Issue], BookRead]:
    """Every problem in the workbook, and what it says where it can be read."""
    issues = list(check_structure(book, spec, reg, file))
    read = BookRead(spec=spec)
    for sheet, block in spec.blocks():
        b = read_block(book, block, sheet.name, file, issues)
        if b is not None:
            read.blocks.append(b)
    issues = list(_version_check(read, spec, issues))
    for b in read.blocks:
        if b.spec.kind in CROSS:
            issues.extend(CROSS[b.spec.kind](b, spec))
    for check in extra or []:
        issues.extend(check(read))
    return issues, read

