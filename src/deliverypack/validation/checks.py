"""Read a workbook back through its WorkbookSpec, yielding every problem at once.

Checks are generators over plain cell values (BookValues), so a department sees all its
problems in one go and the same code serves a file or a workbook open in Excel.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..foundation.domain import Register
from ..foundation.periods import MONTHS, parse_period, period_end, period_label
from . import rules
from .cells import (
    SLOW,
    At,
    Reader,
    fmt_number,
    from_serial,
    is_blank,
)
from .issues import Issue
from .layout import (
    BlockKind,
    BlockSpec,
    ColumnSpec,
    SheetSpec,
    SpecRow,
    WorkbookSpec,
    cell_allowed,
    cell_required,
)
from .read import BookValues, Range, address
from .rules import PANEL_NAME


@dataclass(slots=True)
class Where:
    """Where the rows of one table were read: shared by its rows, so a row carries only its
    values and row number, and an address is made only when something asks for it."""

    sheet: str
    file: str
    index: dict[str, int]  # column key -> position in the row's raw values
    cols: list[int]  # position -> 1-based column in the sheet


@dataclass(slots=True)
class RowRead:
    key: tuple
    values: dict[str, Any]  # every column of the table, in order: locked ones as issued
    raws: tuple  # the cells as read, in column order
    spec_row: SpecRow
    r: int
    where: Where

    def is_input(self, col: str) -> bool:
        """Typed in on this row though its column is locked (this round's actual)."""
        return col in self.spec_row.inputs

    def get(self, col: str) -> Any:
        return self.values.get(col)

    def raw(self, col: str) -> Any:
        j = self.where.index.get(col)
        return None if j is None else self.raws[j]

    def cell(self, col: str) -> str:
        """The address of a column's cell in this row ('D14')."""
        return address(self.r, self.where.cols[self.where.index[col]])

    def at(self, col: str) -> At:
        return At(self.where.sheet, self.cell(col), self.where.file)


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

    def of_kind(self, kind: BlockKind | str) -> Iterator[BlockRead]:
        return (b for b in self.blocks if b.spec.kind == kind)

    def cover(self) -> dict[str, Any]:
        block = next(self.of_kind(BlockKind.COVER), None)
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


def _shown(value: Any) -> str:
    """A value read, as a message quotes it."""
    if value is None:
        return "an empty cell"
    if isinstance(value, float):
        return fmt_number(value)
    if isinstance(value, dt.date):
        return f"{value:%d %b %Y}"
    return repr(str(value))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))
    return a == b


def cell_reader(typ: str, col: ColumnSpec, *, required: bool, allowed: list[str],
                label: str = "") -> Reader:
    """How one input cell is read: by its rule in the rulebook (the template's data
    validation and Checks panel are made from the same rule); `label` names the field in
    messages. One Reader serves every cell alike, in every template that has one."""
    if typ == "period":
        return Reader(_period_of, lambda raw, at, out: _period_of(raw))
    return rules.reader(rules.cell_rule(typ, label=label or col.header, required=required,
                                        allowed=allowed, minimum=col.minimum,
                                        maximum=col.maximum, plausible=col.plausible))


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


@dataclass(slots=True)
class _RowPlan:
    spec_row: SpecRow
    rkey: tuple
    template: dict[str, Any]  # every column in order, locked values filled in
    locked: list[tuple[int, str, Any, Any]]  # (position, type, value wanted, as issued)
    inputs: list[tuple[int, str, Reader]]  # (position, column, reader)


@dataclass
class _BlockPlan:
    keys: list[ColumnSpec]
    key_idx: list[int]
    expected: dict[tuple, _RowPlan]
    free: _RowPlan  # a list without keys: every column typed in
    index: dict[str, int]  # column key -> position
    subject: int | None = None  # a list's column saying what a row is about (its text)
    layouts: dict[tuple, list[int]] = field(default_factory=dict)


_PLANS: dict[int, tuple[BlockSpec, _BlockPlan]] = {}
# lists whose partly filled rows a kind-specific check reports (meeting records' actions)
OWN_ROW_CHECKS = {"new_actions", "revisions"}
_MEMO_TYPES = (str, dt.date, dt.datetime)  # hashable, and never equal to a number
_KEYS: dict[tuple[str, Any], Any] = {}  # (type, raw key cell) -> the key it reads as
# (type, value a locked cell must hold) -> (class, raw) last read and found equal to it,
# so the same locked cell in the next return (of any template) costs one comparison
_GOOD: dict[tuple[str, Any], tuple[type, Any]] = {}


def _remember(memo: dict, key: Any, value: Any, limit: int = 8192) -> Any:
    if len(memo) >= limit:  # bounded: memory stays flat over any number of returns
        memo.clear()
    memo[key] = value
    return value


def _row_plan(block: BlockSpec, row: SpecRow, index: dict[str, int],
              keys: list[ColumnSpec], default: dict[str, Reader]) -> _RowPlan:
    inputs, types = row.inputs, row.types
    cover = block.kind == BlockKind.COVER
    plain = not (types or row.allowed or row.required or cover)
    locked, readers, template = [], [], {}
    for col in block.columns:
        key = col.key
        typ = types.get(key, col.type) if types else col.type
        if row.values and (col.role != "input" and key not in inputs or key in row.locked):
            value = row.get(key)
            locked.append((index[key], typ, expected_value(typ, value), value))
            template[key] = value
            continue
        if plain:
            reader = default[key]
        else:
            label = str(row.get("field") or "") if cover else ""
            reader = cell_reader(typ, col, required=cell_required(col, row),
                                 allowed=cell_allowed(block, col, row), label=label)
        readers.append((index[key], key, reader))
        template[key] = None
    return _RowPlan(row, tuple(row.get(c.key) for c in keys), template, locked, readers)


def _plan(block: BlockSpec) -> _BlockPlan:
    """Per table of an issued spec, made once: for each expected row key, the values its
    locked cells must hold and a reader for each input cell."""
    cached = _PLANS.get(id(block))
    if cached is not None and cached[0] is block:
        return cached[1]
    index = {c.key: j for j, c in enumerate(block.columns)}
    keys = block.key_columns
    default = {c.key: cell_reader(c.type, c, required=c.required, allowed=c.allowed)
               for c in block.columns}
    expected = {}
    for row in block.rows if keys else []:  # a list without keys is read as typed
        k = tuple(expected_value(c.type, row.get(c.key)) for c in keys)
        expected[k] = _row_plan(block, row, index, keys, default)
    subject = next((index[c.key] for c in block.columns if c.type == "text"), None) \
        if not keys and block.kind not in OWN_ROW_CHECKS else None
    plan = _BlockPlan(keys, [index[c.key] for c in keys], expected,
                      _row_plan(block, SpecRow(), index, keys, default), index, subject)
    _remember(_PLANS, id(block), (block, plan), limit=512)  # as many specs as the ledger keeps
    return plan


def _layout(plan: _BlockPlan, book: BookValues, rng: Range, block: BlockSpec, file: str
            ) -> tuple[list[int], Where]:
    """Where each column is: by its header above the range, else by position (a table
    whose columns were moved is still read right). Remembered per header line."""
    grid = book.grid(rng.sheet)
    line = grid[rng.r1 - 2] if 0 <= rng.r1 - 2 < len(grid) else []
    head = tuple(line[rng.c1 - 1:rng.c2])
    memo = (rng.sheet, rng.c1, head)
    cols = plan.layouts.get(memo)
    if cols is None:
        headers: dict[str, int] = {}
        for c, h in enumerate(head, start=rng.c1):
            if isinstance(h, str) and h.strip():
                headers.setdefault(h.strip(), c)
        cols = [headers.get(col.header, rng.c1 + j) for j, col in enumerate(block.columns)]
        _remember(plan.layouts, memo, cols)
    return cols, Where(rng.sheet, file, plan.index, cols)


def _key_of(plan: _BlockPlan, raws: tuple) -> tuple:
    """A row's key in the spec's terms (a month typed as text or a date reads the same)."""
    out = []
    for c, j in zip(plan.keys, plan.key_idx, strict=True):
        raw = raws[j]
        if raw.__class__ in _MEMO_TYPES:
            k = _KEYS.get((c.type, raw))
            if k is None:
                k = _remember(_KEYS, (c.type, raw), normalise(c.type, raw))
        else:
            k = normalise(c.type, raw)
        out.append(k)
    return tuple(out)


def read_block(book: BookValues, block: BlockSpec, sheet_name: str, file: str,
               out: list[Issue], end: int | None = None) -> BlockRead | None:
    """Read a table through its defined name, and on to row `end` (the rows the template
    leaves below it, where a row inserted under a full table lands). The hot loop of
    ingest: everyday cells take one comparison or one fast read; issues and addresses are
    made only for problems."""
    rng = book.names.get(block.name)
    if rng is None:
        return None
    result = BlockRead(spec=block, sheet=rng.sheet)
    plan = _plan(block)
    cols, where = _layout(plan, book, rng, block, file)
    c0s = [c - 1 for c in cols]
    width, n_cols = max(c0s) + 1, len(c0s)
    grid = book.grid(rng.sheet)
    formulas = book.formulas.get(rng.sheet)
    sheet, keyed, expected = rng.sheet, bool(plan.keys), plan.expected
    seen: dict[tuple, int] = {}
    rows = result.rows
    for r in range(rng.r1, min(max(rng.r2, end or 0), len(grid)) + 1):
        line = grid[r - 1]
        if len(line) >= width:
            raws = tuple([line[c] for c in c0s])
        else:
            raws = tuple([line[c] if c < len(line) else None for c in c0s])
        empty = raws.count("") + raws.count(None)  # calamine reads an empty cell as ""
        if empty == n_cols or (empty and all(map(is_blank, raws))):
            continue  # an inserted or unused row
        if keyed:
            k = _key_of(plan, raws)
            rp = expected.get(k)
            if rp is None:
                j = next((j for j in plan.key_idx if not is_blank(raws[j])), None)
                if j is None:
                    j = next(j for j, v in enumerate(raws) if not is_blank(v))
                out.append(At(sheet, address(r, cols[j]), file).issue(
                    "unexpected-row", found=raws[j]))
                continue
            if k in seen:
                j = plan.key_idx[0]
                what = ", ".join(f"{c.header.lower()} {display(c.type, v)}"
                                 for c, v in zip(plan.keys, k, strict=True))
                out.append(At(sheet, address(r, cols[j]), file).issue(
                    "duplicate-key", found=what, expected=address(seen[k], cols[j])))
                continue
            seen[k] = r
            rkey = rp.rkey
        else:
            rp, rkey = plan.free, (len(rows) + 1,)
            if plan.subject is not None and is_blank(raws[plan.subject]):
                has = [block.columns[j].header.lower() for j, v in enumerate(raws)
                       if not is_blank(v)]
                out.append(At(sheet, address(r, cols[plan.subject]), file).issue(
                    "row-incomplete", found=" and ".join(has),
                    expected=block.columns[plan.subject].header.lower()))
        for j, typ, want, shown in rp.locked:
            raw = raws[j]
            good = _GOOD.get((typ, want))
            if good is not None and raw.__class__ is good[0] and raw == good[1]:
                continue
            got = normalise(typ, raw)
            if want != got and not _same(want, got):
                out.append(At(sheet, address(r, cols[j]), file).issue(
                    "locked-cell-changed", found=raw, expected=display(typ, shown)))
            elif raw.__class__ is not bool:
                _remember(_GOOD, (typ, want), (raw.__class__, raw))
        values = rp.template.copy()
        for j, key, reader in rp.inputs:
            raw = raws[j]
            v = reader.fast(raw)
            if v is SLOW:
                v = reader.full(raw, At(sheet, address(r, cols[j]), file), out)
            values[key] = v
        if formulas:
            for j, key, _ in rp.inputs:
                f = formulas.get((r, cols[j]))
                if f is not None:
                    out.append(At(sheet, address(r, cols[j]), file).issue(
                        "formula-input", found=f, expected=_shown(values[key])))
        rows.append(RowRead(rkey, values, raws, rp.spec_row, r, where))
    for k, rp in expected.items():
        if k not in seen:
            label = ", ".join(display(c.type, rp.spec_row.get(c.key)) for c in plan.keys)
            out.append(At(sheet=rng.sheet, cell="", file=file).issue("missing-row",
                                                                     expected=label))
    return result


# ----------------------------------------------------------------------------- margins
@dataclass(slots=True)
class Placed:
    """Where a table sits in the returned sheet: its title row, its header row, the range
    its defined name covers, and the last row read for it (up to the next table's title,
    so rows added just below a table are read, not dropped)."""

    block: BlockSpec
    rng: Range
    top: int
    header: int
    end: int = 0
    cols: list[int] = field(default_factory=list)


def _text(v: Any) -> str:
    return "" if is_blank(v) else " ".join(str(v).split())


def place_blocks(book: BookValues, sheet: SheetSpec) -> list[Placed]:
    """The tables of one sheet as they sit in the returned workbook, top to bottom."""
    if sheet.name not in book.sheet_names:
        return []
    grid = book.grid(sheet.name)
    out: list[Placed] = []
    for block in sheet.blocks:
        rng = book.names.get(block.name)
        if rng is None or rng.sheet != sheet.name:
            continue
        header = rng.r1 - 1
        while header > 1 and not any(not is_blank(v) for v in
                                     (grid[header - 1] if header <= len(grid) else [])):
            header -= 1  # a row inserted between the header and the first data row
        default_top = header - (2 if block.note else 1)
        top = next((r for r in range(header - 1, 0, -1) if r <= len(grid) and grid[r - 1]
                    and _text(grid[r - 1][0]) == _text(block.title)), default_top)
        out.append(Placed(block, rng, top, header))
    out.sort(key=lambda p: p.rng.r1)
    panel = book.names.get(PANEL_NAME)  # the Checks panel under the cover table
    for p, nxt in zip(out, [*out[1:], None], strict=False):
        p.end = (nxt.top - 1) if nxt is not None else len(grid)
        if panel is not None and panel.sheet == sheet.name and panel.r1 > p.rng.r2:
            p.end = min(p.end, panel.r1 - 1)
        p.end = max(p.end, p.rng.r2)
    return out


def check_margins(book: BookValues, sheet: SheetSpec, placed: list[Placed], file: str
                  ) -> Iterator[Issue]:
    """Every cell of the sheet that is neither read nor the template's own text: a
    heading, title, note or column header changed is a locked cell changed; anything typed
    elsewhere is reported by its cell, so nothing typed is silently dropped."""
    grid = book.grid(sheet.name)
    name = sheet.name

    def at(r: int, c: int) -> At:
        return At(name, address(r, c), file)

    def cell(r: int, c: int) -> Any:
        return grid[r - 1][c - 1] if 0 < r <= len(grid) and c <= len(grid[r - 1]) else None
    claimed: set[tuple[int, int]] = set()
    spans: dict[int, list[tuple[int, int]]] = {}
    panel = book.names.get(PANEL_NAME)
    if panel is not None and panel.sheet == name:  # the Checks panel: formulas, locked
        for pr in range(panel.r1, panel.r2 + 1):
            spans.setdefault(pr, []).append((panel.c1, panel.c2))
    prev_end = 0
    for k, p in enumerate(placed):
        # texts in column A above the table, with the row the template put each in
        own = [p.block.title] + ([p.block.note] if p.block.note else [])
        wanted = [(t, p.header - len(own) + i) for i, t in enumerate(own)]
        if k == 0:
            wanted = [(t, i + 1) for i, t in enumerate((sheet.heading, sheet.subheading))
                      if t] + wanted
        rows = range(prev_end + 1, p.header)
        prev_end = p.end
        for text, default_row in wanted:
            r = next((r for r in rows if (r, 1) not in claimed and
                      _text(cell(r, 1)) == _text(text)), None)
            if r is None:
                claimed.add((default_row, 1))
                yield at(default_row, 1).issue("locked-cell-changed",
                                               found=cell(default_row, 1),
                                               expected=repr(text))
            else:
                claimed.add((r, 1))
        headers = {_text(c.header) for c in p.block.columns}
        for j, col in enumerate(p.block.columns):
            c = p.rng.c1 + j
            claimed.add((p.header, c))
            v = cell(p.header, c)
            if _text(v) not in headers:  # columns moved as a whole are read by header
                yield at(p.header, c).issue("locked-cell-changed", found=v,
                                            expected=repr(col.header))
        for r in range(p.header + 1, p.end + 1):  # the rows read: their table's columns
            spans.setdefault(r, []).append((p.rng.c1, p.rng.c2))
    # a table drawn with no rows (no open actions) has no name: its texts stand alone
    placed_ids = {id(p.block) for p in placed}
    loose = {_text(t) for b in sheet.blocks if id(b) not in placed_ids
             for t in [b.title, b.note] + [c.header for c in b.columns] if t}
    for r, line in enumerate(grid, start=1):
        read = spans.get(r, ())
        for c, v in enumerate(line, start=1):
            if v is None or v == "" or any(a <= c <= b for a, b in read) or \
                    (r, c) in claimed or is_blank(v) or _text(v) in loose:
                continue
            yield at(r, c).issue("outside-input", found=v,
                                 expected="type it in a shaded cell of the right table")


# ----------------------------------------------------------------------------- cross-field
@dataclass(slots=True)
class _RuleRow:
    """A row read, as a cross-field rule of the rulebook sees it (rules.Row)."""

    row: RowRead
    spec: BlockSpec

    @property
    def key(self) -> tuple:
        return self.row.key

    def get(self, col: str) -> Any:
        return self.row.get(col)

    def raw(self, col: str) -> Any:
        return self.row.raw(col)

    def header(self, col: str) -> str:
        return self.spec.column(col).header

    def is_input(self, col: str) -> bool:
        return self.row.is_input(col)

    def at(self, col: str) -> At:
        return self.row.at(col)


@dataclass(slots=True)
class _TableRow:
    """A table of one input column whose rows are codes (the self-assessment), read as one
    row: column 'quality' is the quality row's cell."""

    rows: dict[str, RowRead]
    column: str = "now"

    @property
    def key(self) -> tuple:
        return ()

    def get(self, col: str) -> Any:
        return self.rows[col].get(self.column) if col in self.rows else None

    def raw(self, col: str) -> Any:
        return self.rows[col].raw(self.column) if col in self.rows else None

    def header(self, col: str) -> str:
        return str(self.rows[col].key[0]) if col in self.rows else col

    def is_input(self, col: str) -> bool:
        return col in self.rows and self.rows[col].is_input(self.column)

    def has(self, col: str) -> bool:
        return col in self.rows

    def at(self, col: str) -> At:
        return self.rows[col].at(self.column)


def check_cross(block: BlockRead, round_id: str) -> Iterator[Issue]:
    """The rulebook's cross-field rules for this kind of table: the same declarations the
    template's formulas are made from, applied to the values read."""
    mine = [r for r in rules.CROSS_RULES if r.kind == block.spec.kind]
    if not mine:
        return
    keys = {c.key for c in block.spec.columns}
    per_row = [r for r in mine if r.scope == "row" and keys.issuperset(r.when.cols)]
    for row in block.rows if per_row else []:
        view = _RuleRow(row, block.spec)
        for rule in per_row:
            if rule.broken(view, round_id):
                yield _issue(rule, view)
    if any(r.scope == "table" for r in mine):
        table = _TableRow({r.get("code"): r for r in block.rows})
        for rule in mine:
            if rule.scope == "table" and all(table.has(c) for c in rule.when.cols) and \
                    rule.broken(table, round_id):
                yield _issue(rule, table)


def _issue(rule: rules.CrossRule, view: _RuleRow | _TableRow) -> Issue:
    found = rule.found(view) if rule.found else None
    expected = rule.expected(view) if rule.expected else None
    return view.at(rule.column).issue(rule.code, found=found, expected=expected)


def check_milestones(block: BlockRead, round_id: str) -> Iterator[Issue]:
    """A forecast date that contradicts its status (engine-only: see rules.ENGINE_ONLY)."""
    end = period_end(round_id)
    for row in block.rows:
        status, forecast, due = row.get("status"), row.get("forecast"), row.get("due")
        if isinstance(due, str):
            due = dt.date.fromisoformat(due)
        if isinstance(forecast, str):  # locked: a milestone completed in an earlier round
            forecast = dt.date.fromisoformat(forecast)
        if forecast is None or status is None:
            continue
        if status == "On track" and due and forecast > due:
            yield row.at("forecast").issue("forecast-date-inconsistent", found=repr(status),
                                           expected=f"{forecast:%d %b %Y}, after the due date")
        if status == "Complete" and forecast > end:
            yield row.at("forecast").issue("forecast-date-inconsistent", found=repr(status),
                                           expected=f"{forecast:%d %b %Y}, in the future")


def check_organisations(block: BlockRead) -> Iterator[Issue]:
    """An organisation row with no figure and a reason why: a gap, with a warning (the
    figure-or-reason and numerator rules are the rulebook's)."""
    keys = {col.key for col in block.spec.columns}
    figures = [c for c in ("numerator", "denominator", "value") if c in keys]
    if "unavailable" not in keys:
        return
    for row in block.rows:
        reason = row.get("unavailable")
        if reason and all(is_blank(row.raw(c)) for c in figures):
            yield row.at("unavailable").issue(
                "not-yet-available", found=f"{row.key[0]}, {period_label(row.key[1])}",
                expected=reason)


def check_revisions(block: BlockRead, round_id: str) -> Iterator[Issue]:
    """A revision names a month already past, with a value and a reason."""
    for row in block.rows:
        for col in ("period", "value", "reason"):
            if is_blank(row.raw(col)):
                yield row.at(col).issue("row-incomplete", found="a revision",
                                        expected=block.spec.column(col).header.lower())
        d = row.get("period")
        if isinstance(d, dt.date) and f"{d:%Y-%m}" > round_id:
            yield row.at("period").issue("out-of-range", found=f"{d:%b %Y}",
                                         expected=f"a month up to {period_label(round_id)}")


# engine-only checks between cells, beside the rulebook's (check_cross)
CROSS: dict[str, Callable[..., Iterator[Issue]]] = {
    "miles": lambda b, s: check_milestones(b, s.round),
    "orgs": lambda b, s: check_organisations(b),
    "revisions": lambda b, s: check_revisions(b, s.round),
}


def _version_check(read: BookRead, spec: WorkbookSpec, issues: list[Issue]
                   ) -> Iterator[Issue]:
    """A return filled in another version of the template says so plainly."""
    cover = next(read.of_kind(BlockKind.COVER), None)
    row = next((r for r in cover.rows if r.key[0] == "Template version"), None) if cover \
        else None
    raw = normalise("text", row.raw("value")) if row else None
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
    for sheet in spec.sheets:
        placed = place_blocks(book, sheet)
        ends = {id(p.block): p.end for p in placed}
        for block in sheet.blocks:
            b = read_block(book, block, sheet.name, file, issues, end=ends.get(id(block)))
            if b is not None:
                read.blocks.append(b)
        if placed:
            issues.extend(check_margins(book, sheet, placed, file))
    issues = list(_version_check(read, spec, issues))
    for b in read.blocks:
        issues.extend(check_cross(b, spec.round))
        if b.spec.kind in CROSS:
            issues.extend(CROSS[b.spec.kind](b, spec))
    for check in extra or []:
        issues.extend(check(read))
    return issues, read

