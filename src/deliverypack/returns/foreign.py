"""Foreign templates: a department's own workbook (DfT's project return, a GMPP return)
validated and ingested through a datamap, exported as a datamaps-style master, and
pre-filled for the next round without touching anything outside the mapped cells.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET
import xlsxwriter
from lxml import etree
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

from ..foundation.errors import DeliverypackError, UsageError, WorkspaceError
from ..foundation.files import replace_bytes
from ..ledger.store import Content, now_iso
from ..ledger.workspace import FOREIGN, Workspace, keep_foreign
from ..templates.datamap import MapEntry, check_against_blank, read_datamap
from ..validation.cells import (
    At,
    is_blank,
    read_code,
    read_date,
    read_number,
    unreadable,
)
from ..validation.issues import Issue
from ..validation.read import BookValues, PackageDamaged, SheetTooLarge
from .intake import inspect

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
LABELS = 300  # label cells kept as the template's fingerprint
# What a department or organisation id may be wherever it becomes part of a file name:
# letters, digits, - and _ (as the register's ids are), never a dot, a slash or a space.
PARTY_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}")
TEMPLATE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,39}")  # it names a folder


def party_id(value: object) -> str | None:
    """`value` as an id safe to build a file name from, or None."""
    text = str(value).strip() if value is not None else ""
    return text if PARTY_ID.fullmatch(text) else None
MATCH = 0.9  # share of labels a return must keep to be recognised


class DatamapRejected(DeliverypackError):
    def __init__(self, issues: list[Issue]):
        self.issues = issues
        lines = "\n".join(f"  - {i.file}: {i.text()}" if i.file and not i.location else
                           f"  - {i.text()}" for i in issues[:30])
        more = f"\n  ... and {len(issues) - 30} more" if len(issues) > 30 else ""
        super().__init__(f"the template was not added ({len(issues)} problem(s)):\n"
                         f"{lines}{more}")


@dataclass
class ForeignTemplate:
    name: str
    blank: Path
    datamap: Path
    entries: list[MapEntry]
    sheets: list[str]
    labels: list[tuple[str, int, int, str]]  # (sheet, row, col, text) beside mapped cells


def folder(workspace: Workspace, name: str) -> Path:
    return workspace.root / "foreign" / name


def add_template(workspace: Workspace, name: str, blank: Path, datamap: Path) -> ForeignTemplate:
    """Register a foreign template: its bytes, hash and checked datamap."""
    if not TEMPLATE_NAME.fullmatch(name):
        raise UsageError(f"template name {name!r}: use letters, digits, - and _")
    blank, datamap = Path(blank), Path(datamap)
    intake = inspect(blank, allow_macros=True)
    refused = [i for i in intake.issues if i.severity == "error"]
    if refused:
        raise DatamapRejected(refused)
    entries, issues = read_datamap(datamap)
    try:
        book = BookValues.from_bytes(intake.data, intake.zip) if intake.zip else \
            BookValues.from_path(blank)
        issues += check_against_blank(entries, book.sheet_names, datamap.name)
        if issues:
            raise DatamapRejected(issues)
        labels = _labels(book, entries)
    except (PackageDamaged, SheetTooLarge) as exc:  # a damaged blank: said, not a traceback
        at = At(sheet=getattr(exc, "sheet", ""), cell="", file=blank.name)
        raise DatamapRejected([at.issue(exc.code, found=exc.found) if isinstance(
            exc, PackageDamaged) else at.issue("sheet-too-large", found=exc.far,
                                               expected=exc.expected)]) from None
    dest = folder(workspace, name)
    dest.mkdir(parents=True, exist_ok=True)
    kept_blank = dest / f"blank{blank.suffix.lower()}"
    kept_blank.write_bytes(intake.data)  # the bytes checked, not the file as it is now
    shutil.copyfile(datamap, dest / "datamap.csv")
    row = {"name": name, "blank_file": str(kept_blank.relative_to(workspace.root)),
           "blank_sha256": intake.sha256, "datamap_file": "datamap.csv",
           "datamap_sha256": _sha(datamap), "sheets": json.dumps(book.sheet_names),
           "labels": json.dumps(labels), "added_at": now_iso()}

    keep_foreign(workspace, row, kept_blank, dest / "datamap.csv")  # before the ledger, as a return
    with workspace.ledger.transaction() as db:
        db.execute("INSERT OR REPLACE INTO foreign_templates VALUES (?,?,?,?,?,?,?,?)",
                   tuple(row.values()))
    _load.cache_clear()
    return ForeignTemplate(name, kept_blank, dest / "datamap.csv", entries, book.sheet_names,
                           labels)


def _labels(book: BookValues, entries: list[MapEntry]) -> list[tuple[str, int, int, str]]:
    """The text nearest the left of each mapped cell (its field's label): the template's
    fingerprint, by which a return is recognised."""
    labels: list[tuple[str, int, int, str]] = []
    for e in entries:
        if len(labels) >= LABELS:
            break
        c, r = _rc(e.cell)
        for cc in range(c - 1, 0, -1):
            v = book.value(e.sheet, r, cc)
            if isinstance(v, str) and v.strip():
                labels.append((e.sheet, r, cc, v.strip()))
                break
    return labels


def _sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _rc(cell: str) -> tuple[int, int]:
    col, row = coordinate_from_string(cell)
    return column_index_from_string(col), row


_COLUMNS = "name, blank_file, sheets, labels, datamap_sha256, added_at"


@lru_cache(maxsize=32)
def _load(root: str, rows: tuple[tuple[str, ...], ...]) -> tuple[ForeignTemplate, ...]:
    """The templates of the given ledger rows (read from the workspace's ledger, whichever
    file it is: a rebuild reads a ledger still being written beside the real one)."""
    out = []
    for name, blank_file, sheets, labels, _, _ in rows:
        dest = Path(root) / "foreign" / name
        entries, _ = read_datamap(dest / "datamap.csv")
        out.append(ForeignTemplate(name, Path(root) / blank_file, dest / "datamap.csv",
                                   entries, json.loads(sheets),
                                   [tuple(x) for x in json.loads(labels)]))
    return tuple(out)


def templates(workspace: Workspace) -> list[ForeignTemplate]:
    rows = tuple(tuple(r) for r in workspace.ledger.query(
        f"SELECT {_COLUMNS} FROM foreign_templates ORDER BY name"))
    return list(_load(str(workspace.root), rows)) if rows else []


def template(workspace: Workspace, name: str) -> ForeignTemplate:
    for t in templates(workspace):
        if t.name == name:
            return t
    known = ", ".join(t.name for t in templates(workspace)) or "none"
    raise UsageError(f"no foreign template named {name!r} (registered: {known}); add it with "
                     "deliverypack template add")


def recognise(workspace: Workspace, book: BookValues) -> ForeignTemplate | None:
    """The registered template whose sheets and labels this workbook has."""
    have = set(book.sheet_names)
    for t in templates(workspace):
        if not set(t.sheets) <= have:
            continue
        kept = sum(1 for s, r, c, text in t.labels
                   if str(book.value(s, r, c) or "").strip() == text)
        if not t.labels or kept / len(t.labels) >= MATCH:
            return t
    return None


# ----------------------------------------------------------------------------- reading
@dataclass
class ForeignRead:
    """A foreign return's mapped values, each typed as the cell held it."""

    template: ForeignTemplate
    values: list[tuple[MapEntry, str, Any]] = field(default_factory=list)  # entry, kind, value

    def cover(self) -> dict[str, Any]:
        return {}

    def mapped(self, target: str) -> Any:
        return next((v for e, _, v in self.values if e.maps_to == target), None)

    def content(self) -> Content:
        c = Content(values=[], ratings=[], texts=[], milestones=[], action_updates=[])
        for e, kind, v in self.values:
            number = float(v) if kind == "number" else None
            text = v.isoformat() if kind in ("date", "time") else (
                None if kind == "number" else str(v))
            c.foreign.append((e.key, e.sheet, e.cell, kind, text, number))
            parts = e.maps_to.split(":")
            if parts[0] == "measure" and kind == "number":
                c.values.append((parts[1], "", parts[3], parts[2], number, e.sheet, e.cell))
            elif parts[0] == "rating" and text:
                c.ratings.append((parts[1], "self", parts[2], text.strip(), e.sheet, e.cell))
        return c


def kind_of(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, dt.datetime):
        return "date" if value.time() == dt.time() else "datetime"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.time):
        return "time"
    if isinstance(value, str):
        return "text"
    return None


def check_foreign(book: BookValues, tpl: ForeignTemplate, file: str,
                  errors: dict[tuple[str, str], str] | None = None
                  ) -> tuple[list[Issue], ForeignRead]:
    """Every mapped cell: its type, required, allowed values and range; values keep types.
    `errors` are the cells holding an Excel error, which a value reader sees as empty: each
    is an error (`excel-error`), as in the unit's own templates, never a blank."""
    issues: list[Issue] = []
    read = ForeignRead(tpl)
    errors = errors or {}
    for e in tpl.entries:
        c, r = _rc(e.cell)
        raw = book.value(e.sheet, r, c)
        at = At(sheet=e.sheet, cell=e.cell, file=file)
        if (e.sheet, e.cell) in errors:  # never a value meant: refused, as in our own
            issues.append(at.issue("excel-error", found=errors[(e.sheet, e.cell)]))
            continue
        if unreadable(raw, at, issues):  # a formula never calculated, NaN, control chars
            continue
        if is_blank(raw):
            if e.required:
                issues.append(at.issue("required-missing", expected=e.key))
            continue
        kind = kind_of(raw)
        if kind is None:
            issues.append(at.issue("unsupported-value", found=f"{type(raw).__name__} {raw!r}"))
            continue
        value: Any = raw
        if e.type == "NUMBER":
            value = read_number(raw, at, issues, minimum=e.min, maximum=e.max,
                                what=f"{e.key} (a number)")
            kind = "number"
        elif e.type == "DATE" and kind not in ("date", "datetime"):
            value = read_date(raw, at, issues, what=f"{e.key} (a date)")
            kind = "date"
        elif e.type == "TIME" and kind != "time":
            issues.append(at.issue("unsupported-value", found=f"{raw!r} where a time is "
                                                              "expected"))
            continue
        if e.allowed and value is not None:
            value = read_code(value, e.allowed, at, issues)
        if value is not None:
            read.values.append((e, kind, value))
    return issues, read


# ----------------------------------------------------------------------------- export
def current_returns(workspace: Workspace, name: str) -> list[Any]:
    from ..ledger.signoff import counts

    return workspace.ledger.query(
        "SELECT * FROM submissions s WHERE kind='foreign' AND template_id=? AND "
        f"{counts(workspace.ledger.db)} ORDER BY department, file_name", name)


def export_master(workspace: Workspace, name: str, target: Path | None = None) -> Path:
    """The datamaps-style wide master: keys as rows, one column per return, values typed."""
    from ..foundation.files import atomic_path

    tpl = template(workspace, name)
    subs = current_returns(workspace, name)
    target = Path(target or workspace.outputs / f"{name}-master.xlsx")
    values: dict[int, dict[str, Any]] = {}
    for s in subs:
        values[s["id"]] = {r["key"]: r for r in workspace.ledger.query(
            "SELECT * FROM foreign_values WHERE submission_id=?", s["id"])}
    with atomic_path(target) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False,
                                            "strings_to_urls": False,
                                            "strings_to_numbers": False})
        sheet = wb.add_worksheet("Master")
        bold = wb.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        date = wb.add_format({"num_format": "dd/mm/yyyy"})
        sheet.write_string(0, 0, "key", bold)
        for j, s in enumerate(subs, start=1):
            sheet.write_string(0, j, s["department"] or s["file_name"], bold)
            sheet.set_column(j, j, 24)
        sheet.set_column(0, 0, 60)
        sheet.freeze_panes(1, 1)
        for i, e in enumerate(tpl.entries, start=1):
            sheet.write_string(i, 0, e.key)
            for j, s in enumerate(subs, start=1):
                v = values[s["id"]].get(e.key)
                if v is None:
                    continue
                if v["kind"] == "number":
                    sheet.write_number(i, j, v["number"])
                elif v["kind"] in ("date", "datetime"):
                    sheet.write_datetime(i, j, dt.datetime.fromisoformat(v["text"]), date)
                else:
                    sheet.write_string(i, j, v["text"])
        wb.close()
    return target


# ----------------------------------------------------------------------------- pre-fill
def prefill_all(workspace: Workspace, name: str, round_id: str) -> list[Path]:
    """Next round's copies of the foreign template, one per department that returned it,
    with the mapped cells pre-filled from the ledger and nothing else changed."""
    tpl = template(workspace, name)
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", round_id):  # it names files and a folder
        raise UsageError(f"round {round_id!r}: expected a month such as 2004-07")
    out = []
    for s in current_returns(workspace, name):
        if party_id(s["department"]) is None:  # recorded before ids were checked
            raise DeliverypackError(
                f"submission {s['id']} ({s['file_name']}) names its department "
                f"{s['department']!r}, which is not an id a file can be named by; "
                "re-ingest it or correct its department")
        cells = {}
        for r in workspace.ledger.query("SELECT * FROM foreign_values WHERE submission_id=?",
                                 s["id"]):
            v: Any = r["number"] if r["kind"] == "number" else r["text"]
            if r["kind"] in ("date", "datetime"):
                v = dt.datetime.fromisoformat(r["text"])
            cells[(r["sheet"], r["cell"])] = v
        target = workspace.outbox(round_id) / f"{s['department']}-{round_id}{tpl.blank.suffix}"
        assert target.parent == workspace.outbox(round_id)  # a name, never a path
        out.append(prefill(tpl.blank, cells, target))
    return out


def prefill(blank: Path, cells: dict[tuple[str, str], Any], target: Path) -> Path:
    """Copy the blank template's bytes, changing only the given cells' values."""
    from ..foundation.files import atomic_path

    with zipfile.ZipFile(blank) as zin:
        parts = _sheet_parts(zin)
        by_part: dict[str, dict[str, Any]] = {}
        for (sheet, cell), v in cells.items():
            if sheet in parts:
                by_part.setdefault(parts[sheet], {})[cell] = v
        with atomic_path(target) as tmp, zipfile.ZipFile(tmp, "w") as zout:
            for item in zin.infolist():
                data = zin.read(item.filename)
                if item.filename in by_part:
                    data = _set_cells(data, by_part[item.filename])
                zout.writestr(item, data, compress_type=item.compress_type)
    return target


def _sheet_parts(zin: zipfile.ZipFile) -> dict[str, str]:
    wb = SafeET.fromstring(zin.read("xl/workbook.xml"))
    rels = SafeET.fromstring(zin.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels}
    out = {}
    for s in wb.iter(f"{{{NS}}}sheet"):
        t = targets[s.get(f"{{{REL_NS}}}id")]
        out[s.get("name")] = t.lstrip("/") if t.startswith("/") else f"xl/{t}"
    return out


EXCEL_EPOCH = dt.datetime(1899, 12, 30)
# XML 1.0 cannot hold most control characters; OOXML writes them as _xHHHH_ (and a literal
# "_xHHHH_" in the text as _x005F_xHHHH_), as Excel does, so no character typed is lost.
_XML_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_LITERAL_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")


def ooxml_text(value: str) -> str:
    """Text as an OOXML string element holds it (ST_Xstring escaping)."""
    value = _LITERAL_ESCAPE.sub(r"_x005F_\1", value)
    return _XML_BAD.sub(lambda m: f"_x{ord(m.group()):04X}_", value)


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _set_value(cell: etree._Element, value: Any) -> None:
    """Make `cell` hold `value` (text inline, numbers and dates as numbers), keeping its
    reference and style."""
    keep = {k: v for k in ("r", "s") if (v := cell.get(k)) is not None}
    cell.attrib.clear()
    for child in list(cell):
        cell.remove(child)
    for k, v in keep.items():
        cell.set(k, v)
    if isinstance(value, str):
        cell.set("t", "inlineStr")
        t = etree.SubElement(etree.SubElement(cell, _q("is")), _q("t"))
        t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        t.text = ooxml_text(value)
        return
    if isinstance(value, dt.datetime | dt.date):
        d = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        number = (d - EXCEL_EPOCH).total_seconds() / 86400
    else:
        number = float(value)
    etree.SubElement(cell, _q("v")).text = repr(number)


def _widen_spans(row: etree._Element, col: int) -> None:
    """A row's optional `spans` hint ("2:5") must cover a cell added outside it."""
    spans = row.get("spans")
    if spans is None:
        return
    m = re.fullmatch(r"(\d+):(\d+)", spans)
    if m is None:  # several ranges: only a hint, so drop it rather than guess
        del row.attrib["spans"]
        return
    lo, hi = int(m.group(1)), int(m.group(2))
    row.set("spans", f"{min(lo, col)}:{max(hi, col)}")


def _set_cells(data: bytes, cells: dict[str, Any]) -> bytes:
    """Change the given cells in a sheet part, editing the parsed XML (rows with `spans`,
    any namespace prefix); a formula cell is the template's and is never overwritten."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                             remove_blank_text=False)
    root = etree.fromstring(data, parser)
    sheet_data = root.find(_q("sheetData"))
    if sheet_data is None:
        raise DeliverypackError("the template's sheet has no sheetData")
    rows = {int(r.get("r", "0")): r for r in sheet_data.iterchildren(_q("row"))}
    for ref, value in cells.items():
        if value is None:
            continue
        col, rnum = _rc(ref)
        row = rows.get(rnum)
        if row is None:
            row = etree.Element(_q("row"), r=str(rnum))
            later = [n for n in rows if n > rnum]
            if later:
                rows[min(later)].addprevious(row)
            else:
                sheet_data.append(row)
            rows[rnum] = row
        cell = next((c for c in row.iterchildren(_q("c")) if c.get("r") == ref), None)
        if cell is None:
            cell = etree.Element(_q("c"), r=ref)
            after = next((c for c in row.iterchildren(_q("c"))
                          if _rc(c.get("r", ref))[0] > col), None)
            if after is not None:
                after.addprevious(cell)
            else:
                row.append(cell)
            _widen_spans(row, col)
        elif cell.find(_q("f")) is not None:
            continue
        _set_value(cell, value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def restore_foreign(workspace: Workspace, record: dict[str, Any]) -> None:
    """Register a kept foreign template again: its files put back where the workspace
    keeps them (from archive/ alone), its ledger row as it was."""
    row = record["foreign_template"]
    if not TEMPLATE_NAME.fullmatch(str(row["name"])):
        raise WorkspaceError(f"archive/{FOREIGN}/ names a foreign template "
                             f"{row['name']!r}, which is not a template name")
    dest = folder(workspace, row["name"])
    blank = dest / f"blank{Path(record['blank']).suffix}"
    for src, target in ((record["blank"], blank), (record["datamap"], dest / "datamap.csv")):
        replace_bytes(target, (workspace.archive / FOREIGN / Path(src).name).read_bytes())
    cols = ("name", "blank_file", "blank_sha256", "datamap_file", "datamap_sha256",
            "sheets", "labels", "added_at")
    values = {**row, "blank_file": blank.relative_to(workspace.root).as_posix()}
    with workspace.ledger.transaction() as db:
        db.execute(f"INSERT OR REPLACE INTO foreign_templates ({', '.join(cols)}) "
                   f"VALUES ({', '.join('?' * len(cols))})", [values[c] for c in cols])
    _load.cache_clear()
