"""The ledger can be checked, backed up and rebuilt from archive/ alone.

Beside every archived file sits its journal record (`<sha256>.xlsx.journal.json`): the name
it was received under, when, the template it was checked against (its spec kept once in
archive/templates/), the foreign template or round it was ingested with, and its order
among every other kept file, meetings and the unit's assessments included. The journal is
written before the ledger records the file, so a file archived but never recorded (a full
disk, a kill) is recorded from its journal on the next ingest, and the whole ledger can be
re-created by replaying the journals in order.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import WorkspaceError
from ..ledger import Ledger
from ..templates.layout import WorkbookSpec
from ..workspace import Workspace

JOURNAL = ".journal.json"
SPECS = "templates"  # archive/templates/<template id>.json: the specs returns were read by
FOREIGN = "foreign"  # archive/foreign/: foreign templates as added, their files by hash


def journal_path(ws: Workspace, archived: str) -> Path:
    return ws.root / f"{archived}{JOURNAL}"


def keep_spec(ws: Workspace, spec: WorkbookSpec, file: str, issued_at: str) -> None:
    """Keep an issued template's spec (what its returns are read by) in archive/templates/."""
    body = json.dumps({"issued_at": issued_at, "file": file,
                       "spec": json.loads(spec.model_dump_json())})
    _write_atomic(ws.archive / SPECS / f"{_safe(spec.template_id)}.json", body.encode())


def specs(ws: Workspace) -> list[tuple[WorkbookSpec, str, str]]:
    """Every template spec kept, as (spec, file, issued_at), in the order issued."""
    out = []
    for p in (ws.archive / SPECS).glob("*.json") if (ws.archive / SPECS).is_dir() else []:
        try:
            body = json.loads(p.read_text(encoding="utf-8"))
            out.append((WorkbookSpec.model_validate(body["spec"]), body.get("file", ""),
                        body.get("issued_at", "")))
        except (OSError, ValueError, KeyError):
            continue  # reported by `check`
    return sorted(out, key=lambda x: (x[2], x[0].template_id))


def keep_foreign(ws: Workspace, row: dict[str, Any], blank: Path, datamap: Path) -> None:
    """Keep a foreign template as added (its ledger row, its blank and datamap by their
    SHA-256) in archive/foreign/, ordered among the journals, so a rebuild registers it
    again before the returns read through it, and a template added again later replaces
    it at the same point as it did."""
    folder = ws.archive / FOREIGN
    for src, sha in ((blank, row["blank_sha256"]), (datamap, row["datamap_sha256"])):
        kept = folder / f"{sha}{src.suffix.lower()}"
        if not kept.exists():
            _write_atomic(kept, src.read_bytes())
    order = time.time_ns()
    body = {"version": 1, "order": order, "foreign_template": row,
            "blank": f"{row['blank_sha256']}{blank.suffix.lower()}",
            "datamap": f"{row['datamap_sha256']}{datamap.suffix.lower()}"}
    _write_atomic(folder / f"{order}-{_safe(row['name'])}{JOURNAL}",
                  json.dumps(body, indent=1).encode())


def foreign_records(ws: Workspace) -> list[dict[str, Any]]:
    """Every foreign template kept, in the order added."""
    folder = ws.archive / FOREIGN
    out = []
    for p in folder.glob(f"*{JOURNAL}") if folder.is_dir() else []:
        try:
            out.append(json.loads(p.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue  # reported by `check`
    return sorted(out, key=lambda r: r.get("order", 0))


def restore_foreign(ws: Workspace, record: dict[str, Any]) -> None:
    """Register a kept foreign template again: its files put back where the workspace
    keeps them (from archive/ alone), its ledger row as it was."""
    from ..templates import foreign

    row = record["foreign_template"]
    if not foreign.TEMPLATE_NAME.fullmatch(str(row["name"])):
        raise WorkspaceError(f"archive/{FOREIGN}/ names a foreign template "
                             f"{row['name']!r}, which is not a template name")
    dest = foreign.folder(ws, row["name"])
    blank = dest / f"blank{Path(record['blank']).suffix}"
    for src, target in ((record["blank"], blank), (record["datamap"], dest / "datamap.csv")):
        _write_atomic(target, (ws.archive / FOREIGN / Path(src).name).read_bytes())
    cols = ("name", "blank_file", "blank_sha256", "datamap_file", "datamap_sha256",
            "sheets", "labels", "added_at")
    values = {**row, "blank_file": blank.relative_to(ws.root).as_posix()}
    with ws.ledger.transaction() as db:
        db.execute(f"INSERT OR REPLACE INTO foreign_templates ({', '.join(cols)}) "
                   f"VALUES ({', '.join('?' * len(cols))})", [values[c] for c in cols])
    foreign._load.cache_clear()


def write_journal(ws: Workspace, archived: str, record: dict[str, Any]) -> None:
    """Keep what the ledger is about to record of one file beside its archived bytes."""
    record = {"version": 1, "order": time.time_ns(), **record}
    _write_atomic(journal_path(ws, archived), json.dumps(record, indent=1).encode())


def _safe(template_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in template_id)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.partial")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def journals(ws: Workspace) -> list[tuple[Path, dict[str, Any]]]:
    """Every journal record in archive/, in the order the files were kept."""
    out = []
    for p in ws.archive.glob(f"*{JOURNAL}") if ws.archive.is_dir() else []:
        try:
            out.append((p, json.loads(p.read_text(encoding="utf-8"))))
        except (OSError, ValueError):
            continue  # reported by `check`
    return sorted(out, key=lambda x: x[1].get("order", 0))


def replay(ws: Workspace, record: dict[str, Any]) -> None:
    """Record one archived file from its journal: the spec it was read by is re-registered,
    then the bytes are validated and kept as they were, under their name and time."""
    from .ingest import examine, keep

    led = ws.ledger
    src = ws.root / record["archive_path"]
    received = dt.datetime.fromisoformat(record["received_at"])
    with tempfile.TemporaryDirectory(prefix="dp-replay-") as tmp:
        named = Path(tmp) / Path(record["file_name"]).name  # never a path: a name only
        shutil.copyfile(src, named)
        led.clock = record["received_at"]
        try:
            ex = examine(ws, named, record.get("foreign_template"), record.get("round_option"))
            keep(ws, ex, received=received, journal=False)
        finally:
            led.clock = None


def reconcile(ws: Workspace) -> int:
    """Record the files archived with a journal but missing from the ledger (a fault
    between the two); returns how many."""
    known = {r[0] for r in ws.ledger.query("SELECT sha256 FROM submissions")}
    todo = [rec for _, rec in journals(ws) if rec.get("sha256") not in known]
    for rec in todo:
        replay(ws, rec)
    return len(todo)


def rebuild(ws: Workspace, *, force: bool = False) -> tuple[Path, int, Path | None]:
    """Re-create the ledger from archive/ alone; (ledger, files replayed, old ledger kept
    aside or None). An existing sound ledger is replaced only with force, and kept."""
    target = ws.ledger_path
    aside = None
    if target.exists() and target.stat().st_size > 0 and not force:
        raise WorkspaceError(f"{target} exists; to replace it with one rebuilt from "
                             "archive/ say --force (the old ledger is kept beside it)")
    records = journals(ws)
    tmp = target.with_name(f"{target.name}.rebuild")
    for extra in ("", "-wal", "-shm"):
        Path(f"{tmp}{extra}").unlink(missing_ok=True)
    led = Ledger(tmp)
    ws.__dict__["ledger"] = led  # the workspace's ledger while replaying
    try:
        ws.adopt_register_actions(led)
        for spec, file, issued in specs(ws):  # every template issued, returned or not
            led.clock = issued or None
            led.record_template(spec, file)
        led.clock = None
        events = [(rec.get("order", 0), 1, rec) for _, rec in records] + [
            (rec.get("order", 0), 0, rec) for rec in foreign_records(ws)]
        for _, is_file, rec in sorted(events, key=lambda e: e[:2]):
            if is_file:
                replay(ws, rec)
            else:
                restore_foreign(ws, rec)
        led.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        led.close()
        ws.__dict__.pop("ledger", None)
    if target.exists():
        aside = target.with_name(f"{target.name}.before-rebuild-"
                                 f"{dt.datetime.now():%Y%m%dT%H%M%S}")
        os.replace(target, aside)
    for extra in ("-wal", "-shm"):
        Path(f"{target}{extra}").unlink(missing_ok=True)
    os.replace(tmp, target)
    return target, len(records), aside


# ----------------------------------------------------------------------------- check
@dataclass
class CheckResult:
    integrity: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    submissions: int = 0
    archived: int = 0

    @property
    def ok(self) -> bool:
        return not self.integrity and not self.problems


def archived_files(ws: Workspace) -> list[Path]:
    """The archived returns themselves (not journals, specs or half-written files)."""
    if not ws.archive.is_dir():
        return []
    return sorted(p for p in ws.archive.iterdir() if p.is_file()
                  and not p.name.endswith((JOURNAL, ".partial")))


def check(ws: Workspace) -> CheckResult:
    """SQLite's integrity check, then the ledger's own invariants: every submission's file
    is in archive/ with its hash, every archived file has its record and its journal."""
    res = CheckResult()
    led = ws.ledger
    rows = [r[0] for r in led.query("PRAGMA integrity_check")]
    if rows != ["ok"]:
        res.integrity = rows[:20]
        return res
    res.integrity = _unreadable_rows(led)
    if res.integrity:
        return res
    fk = led.query("PRAGMA foreign_key_check")
    if fk:
        res.problems.append(f"{len(fk)} row(s) point to records that do not exist "
                            f"(first: table {fk[0][0]}, row {fk[0][1]})")
    subs = led.query("SELECT id, sha256, archive_path, file_name FROM submissions")
    res.submissions = len(subs)
    by_sha = {}
    for s in subs:
        by_sha[s["sha256"]] = s
        if not s["archive_path"]:
            continue
        path = ws.root / s["archive_path"]
        if not path.is_file():
            res.problems.append(f"submission {s['id']} ({s['file_name']}): its file "
                                f"{s['archive_path']} is missing from archive/")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != s["sha256"]:
            res.problems.append(f"submission {s['id']} ({s['file_name']}): "
                                f"{s['archive_path']} no longer has its recorded hash")
    kept = {r["foreign_template"]["name"]: r["foreign_template"].get("blank_sha256")
            for r in foreign_records(ws) if isinstance(r.get("foreign_template"), dict)}
    for t in led.query("SELECT name, blank_sha256 FROM foreign_templates"):
        if kept.get(t["name"]) != t["blank_sha256"]:
            res.problems.append(f"foreign template {t['name']} has no record in "
                                "archive/foreign/: a rebuild would leave it out (add it "
                                "again with deliverypack template add)")
    files = archived_files(ws)
    res.archived = len(files)
    for f in files:
        sha = f.name.split(".")[0]
        if sha not in by_sha:
            res.problems.append(f"archive/{f.name} has no record in the ledger "
                                "(the next ingest records it from its journal)"
                                if Path(f"{f}{JOURNAL}").exists() else
                                f"archive/{f.name} has no record in the ledger and no "
                                "journal")
        elif not Path(f"{f}{JOURNAL}").exists():
            res.problems.append(f"archive/{f.name} has no journal record: a rebuild "
                                "would leave it out")
    return res


def _unreadable_rows(led: Any) -> list[str]:
    """SQLite checks its pages' structure, not what a row holds: bytes overwritten inside
    a long value (a template's spec spans overflow pages) pass its check. Every row is read
    back, its text decoded, and each template's spec parsed."""
    out: list[str] = []
    tables = [r[0] for r in led.query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    for t in tables:
        try:
            rows = led.query(f'SELECT * FROM "{t}"')
        except sqlite3.Error as exc:
            out.append(f"table {t}: its rows cannot be read ({exc})")
            continue
        if t == "templates":
            for r in rows:
                try:
                    json.loads(r["spec"])
                except ValueError:
                    out.append(f"table templates: the spec of {r['template_id']} "
                               f"(version {r['version']}) is damaged")
    return out


# ----------------------------------------------------------------------------- backup
def backup(ws: Workspace, dest: Path | None = None) -> Path:
    """A consistent copy of the ledger through SQLite's online backup API (safe while an
    ingest writes), written beside its destination and moved into place whole."""
    src_path = ws.ledger_path
    if not src_path.exists():
        raise WorkspaceError(f"there is no ledger at {src_path} to back up")
    if dest is None:
        dest = ws.root / "backups" / f"ledger-{dt.datetime.now():%Y%m%dT%H%M%S}.sqlite"
    dest = Path(dest)
    if dest.is_dir():
        dest = dest / f"ledger-{dt.datetime.now():%Y%m%dT%H%M%S}.sqlite"
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.partial")
    try:
        src = sqlite3.connect(f"{src_path.resolve().as_uri()}?mode=ro", uri=True)
        out = sqlite3.connect(tmp)
        try:
            src.backup(out)
            out.execute("PRAGMA journal_mode = DELETE")
        finally:
            out.close()
            src.close()
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest
