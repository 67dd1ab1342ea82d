"""The ledger can be checked, backed up and rebuilt from archive/ alone.

Beside every archived file sits its journal record (`<sha256>.xlsx.journal.json`): the name
it was received under, when, the template it was checked against (its spec kept once in
archive/templates/), the foreign template or round it was ingested with, and its order
among every other kept file, meetings and the unit's assessments included. The journal is
written before the ledger records the file, so a file archived but never recorded (a full
disk, a kill) is recorded from its journal on the next ingest, and the whole ledger can be
re-created by replaying the journals in order. The collection service's facts kept in
archive/service/ (accounts, tokens, acknowledgements, sign-offs, the audit log) are replayed
among them (returns/uploads.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..foundation.errors import WorkspaceError
from ..ledger import Ledger
from ..ledger.workspace import (
    JOURNAL,
    Workspace,
    adoptions,
    audit_lines,
    foreign_records,
    journals,
    kept_specs,
    replay_adoption,
    service_records,
)
from .foreign import restore_foreign
from .ingest import replay
from .uploads import restore_audit, restore_service_record


def rebuild(workspace: Workspace, *, force: bool = False) -> tuple[Path, int, Path | None]:
    """Re-create the ledger from archive/ alone; (ledger, files replayed, old ledger kept
    aside or None). An existing sound ledger is replaced only with force, and kept."""
    target = workspace.ledger_path
    aside = None
    if target.exists() and target.stat().st_size > 0 and not force:
        raise WorkspaceError(f"{target} exists; to replace it with one rebuilt from "
                             "archive/ say --force (the old ledger is kept beside it)")
    records = journals(workspace)
    tmp = target.with_name(f"{target.name}.rebuild")
    for extra in ("", "-wal", "-shm"):
        Path(f"{tmp}{extra}").unlink(missing_ok=True)
    led = Ledger(tmp)
    workspace.__dict__["ledger"] = led  # the workspace's ledger while replaying
    try:
        adopted = adoptions(workspace)
        if not adopted:  # kept before adoptions were journaled: the register as it is now,
            workspace.adopt_register_actions(led, order=0)  # journaled first, for next time
        for spec, file, issued in kept_specs(workspace):  # every template issued, returned or not
            led.clock = issued or None
            led.record_template(spec, file)
        led.clock = None
        # adoptions of register actions, foreign templates added, files kept and the
        # service's records (accounts, tokens, acknowledgements, sign-offs): in order
        events = [(rec.get("order", 0), 2, rec) for _, rec in records] + [
            (rec.get("order", 0), 1, rec) for rec in foreign_records(workspace)] + [
            (rec.get("order", 0), 0, rec) for rec in adopted] + [
            (rec.get("order", 0), 3, rec) for rec in service_records(workspace)[0]]
        for _, what, rec in sorted(events, key=lambda e: e[:2]):
            if what == 2:
                replay(workspace, rec)
            elif what == 1:
                restore_foreign(workspace, rec)
            elif what == 0:
                replay_adoption(led, rec)
            else:
                restore_service_record(workspace, rec)
        restore_audit(workspace)
        led.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        led.close()
        workspace.__dict__.pop("ledger", None)
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
    left: list[str] = field(default_factory=list)  # unclaimed, not damage: said, not failed

    @property
    def ok(self) -> bool:
        return not self.integrity and not self.problems


def archived_files(workspace: Workspace) -> list[Path]:
    """The archived returns themselves (not journals, specs or half-written files)."""
    if not workspace.archive.is_dir():
        return []
    return sorted(p for p in workspace.archive.iterdir() if p.is_file()
                  and not p.name.endswith((JOURNAL, ".partial")))


def check(workspace: Workspace) -> CheckResult:
    """SQLite's integrity check, then the ledger's own invariants: every submission's file
    is in archive/ with its hash, every archived file has its record and its journal (a
    file with neither was left by an interrupted ingest: said in `left`, not damage)."""
    res = CheckResult()
    led = workspace.ledger
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
        path = workspace.root / s["archive_path"]
        if not path.is_file():
            res.problems.append(f"submission {s['id']} ({s['file_name']}): its file "
                                f"{s['archive_path']} is missing from archive/")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != s["sha256"]:
            res.problems.append(f"submission {s['id']} ({s['file_name']}): "
                                f"{s['archive_path']} no longer has its recorded hash")
    kept = {r["foreign_template"]["name"]: r["foreign_template"].get("blank_sha256")
            for r in foreign_records(workspace) if isinstance(r.get("foreign_template"), dict)}
    for t in led.query("SELECT name, blank_sha256 FROM foreign_templates"):
        if kept.get(t["name"]) != t["blank_sha256"]:
            res.problems.append(f"foreign template {t['name']} has no record in "
                                "archive/foreign/: a rebuild would leave it out (add it "
                                "again with deliverypack template add)")
    unread = service_records(workspace)[1] + audit_lines(workspace)[1]
    res.problems += [f"{name} cannot be read: a rebuild would leave that service record "
                     "out" for name in unread]
    files = archived_files(workspace)
    res.archived = len(files)
    for f in files:
        sha = f.name.split(".")[0]
        if sha not in by_sha and not Path(f"{f}{JOURNAL}").exists():
            # archived by an ingest's worker ahead of its journal, and the ingest killed
            res.archived -= 1
            res.left.append(f"archive/{f.name} was left by an interrupted ingest before "
                            "it was recorded (the file sent is where it was sent from; "
                            "ingest it again to record it); the next ingest moves it to "
                            "archive/orphans/ once it is ten minutes old")
        elif sha not in by_sha:  # journaled, then the ingest stopped: it will be recorded
            res.archived -= 1
            res.left.append(f"archive/{f.name} has no record in the ledger yet (an "
                            "ingest stopped before recording it; the next ingest records "
                            "it from its journal)")
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
def backup(workspace: Workspace, dest: Path | None = None) -> Path:
    """A consistent copy of the ledger through SQLite's online backup API (safe while an
    ingest writes), written beside its destination and moved into place whole."""
    src_path = workspace.ledger_path
    if not src_path.exists():
        raise WorkspaceError(f"there is no ledger at {src_path} to back up")
    if dest is None:
        dest = workspace.root / "backups" / f"ledger-{dt.datetime.now():%Y%m%dT%H%M%S}.sqlite"
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
