"""A workspace: settings, the register, the ledger and the folders of one programme."""

from __future__ import annotations

import json
import os
import time
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ..foundation.domain import Register
from ..foundation.errors import WorkspaceError
from ..foundation.files import replace_bytes
from ..validation.issues import Issue
from ..validation.layout import WorkbookSpec
from .store import Ledger, now_iso

SETTINGS_FILE = "deliverypack.toml"
# The marking on every paper unless the settings (or a task force) say otherwise: the one
# default, written into new workspaces and used where a workspace's settings omit it.
DEFAULT_MARKING = "OFFICIAL-SENSITIVE"

SPECS = "templates"  # archive/templates/<template id>.json: the specs returns were read by
ADOPTIONS = "adoptions"  # archive/adoptions/<order>.journal.json: register actions adopted

DEFAULT_SETTINGS = """\
# deliverypack workspace settings
[programme]
name = "{name}"
unit = "{unit}"
protective_marking = "{marking}"
"""


@dataclass
class Workspace:
    root: Path
    settings: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def open(cls, root: Path | str) -> Workspace:
        root = Path(root).resolve()
        path = root / SETTINGS_FILE
        if not path.exists():
            raise WorkspaceError(
                f"{root} is not a deliverypack workspace (no {SETTINGS_FILE}); "
                f"create one with: deliverypack init {root}")
        try:
            settings = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise WorkspaceError(f"{path}: {exc}") from exc
        return cls(root=root, settings=settings)

    # folders
    @property
    def register_path(self) -> Path:
        return self.root / "register.xlsx"

    @property
    def ledger_path(self) -> Path:
        return self.root / "ledger.sqlite"

    def outbox(self, round_id: str) -> Path:
        return self.root / "outbox" / round_id

    def inbox(self, round_id: str) -> Path:
        return self.root / "inbox" / round_id

    def feedback(self, round_id: str) -> Path:
        return self.root / "feedback" / round_id

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def outputs(self) -> Path:
        return self.root / "outputs"

    @property
    def programme(self) -> str:
        return self.settings.get("programme", {}).get("name", "Delivery programme")

    @property
    def unit_name(self) -> str:
        return self.settings.get("programme", {}).get("unit", "Delivery Unit")

    @property
    def marking(self) -> str:
        return self.settings.get("programme", {}).get("protective_marking", DEFAULT_MARKING)

    @cached_property
    def _register(self) -> tuple[Register, list[dict], list[Issue]]:
        from ..validation.register import read_register

        if not self.register_path.exists():
            raise WorkspaceError(f"no register at {self.register_path}")
        return read_register(self.register_path, programme=self.programme)

    @property
    def register(self) -> Register:
        """The register, refusing to go on if it has errors (each named by sheet and cell)."""
        reg, _, issues = self._register
        errors = [i for i in issues if i.severity == "error"]
        if errors:
            lines = "\n".join(f"  - {i.text()}" for i in errors[:20])
            more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
            raise WorkspaceError(f"the register has {len(errors)} problem(s):\n{lines}{more}")
        return reg

    @property
    def register_issues(self) -> list[Issue]:
        return self._register[2]

    @cached_property
    def ledger(self) -> Ledger:
        self._refuse_lost_ledger()
        # how long to wait for another process's write (an ingest) before giving up
        wait = float(self.settings.get("ledger", {}).get("lock_timeout", 30))
        led = Ledger(self.ledger_path, timeout=wait)
        if not led.readonly:
            self.adopt_register_actions(led)
        led.on_template = lambda spec, file, issued: keep_spec(self, spec, file, issued)
        return led

    def adopt_register_actions(self, led: Ledger, *, order: int | None = None) -> None:
        """Add the register's actions the ledger does not have yet. Only what is new is
        written: a worker process opening the ledger while an ingest holds the write lock
        must not need it. What is adopted is journaled first (archive/adoptions/), so a
        rebuild adopts the same actions at the same point even if the register changed
        (`order` places the record among the journals; by default, now)."""
        known = {r[0] for r in led.query("SELECT id FROM actions")}
        new = [{**a, "origin": a.get("origin") or "Register"}
               for a in self._register[1] if a["id"] not in known]
        if not new:
            return
        keep_adoption(self, new, led.clock or now_iso(), order=order)
        for a in new:
            led.upsert_action(a)

    def _refuse_lost_ledger(self) -> None:
        """A missing or empty ledger beside received or published files was lost, not
        never made: refuse to start a new one silently over the record."""
        path = self.ledger_path
        if path.exists() and path.stat().st_size > 0:
            return
        held = [d.name + "/" for d in (self.archive, self.outputs)
                if d.is_dir() and any(f.is_file() for f in d.iterdir())]
        if held:
            state = "is empty" if path.exists() else "is missing"
            raise WorkspaceError(
                f"the ledger {path} {state}, but {' and '.join(held)} hold files: it was "
                "lost, not never made. Restore it from a backup (copy the file written by "
                "`deliverypack backup` to ledger.sqlite), or re-create it from archive/ "
                "with `deliverypack rebuild`.")

    def writable_ledger(self) -> Ledger:
        """The ledger for a command that writes: refused if SQLite's quick check fails."""
        led = self.ledger
        problems = [] if led.readonly else led.quick_check()
        if problems:
            lines = [ln.strip() for p in problems for ln in p.splitlines()
                     if ln.strip() and not ln.startswith("***")] or problems
            raise WorkspaceError(
                f"the ledger {self.ledger_path} is damaged ({lines[0]}); nothing was "
                "written. Run `deliverypack check`, then restore a backup or run "
                "`deliverypack rebuild`.")
        return led

    def round_or_latest(self, round_id: str | None) -> str:
        """The round asked for, or the latest round with an accepted return."""
        reg = self.register
        known = sorted(r.id for r in reg.rounds)
        if round_id:
            if round_id not in known:
                from ..foundation.errors import UsageError
                raise UsageError(f"unknown round {round_id!r}; the register has: "
                                 f"{', '.join(known) or 'no rounds'}")
            return round_id
        with_data = [r[0] for r in self.ledger.query(
            "SELECT DISTINCT round FROM submissions WHERE status='accepted' ORDER BY round")]
        if with_data:
            return with_data[-1]
        if not known:
            from ..foundation.errors import UsageError
            raise UsageError("the register has no rounds")
        return known[0]


def keep_spec(workspace: Workspace, spec: WorkbookSpec, file: str, issued_at: str) -> None:
    """Keep an issued template's spec (what its returns are read by) in archive/templates/."""
    body = json.dumps({"issued_at": issued_at, "file": file,
                       "spec": json.loads(spec.model_dump_json())})
    replace_bytes(workspace.archive / SPECS / f"{_safe(spec.template_id)}.json", body.encode())


def kept_specs(workspace: Workspace) -> list[tuple[WorkbookSpec, str, str]]:
    """Every template spec kept, as (spec, file, issued_at), in the order issued."""
    out = []
    folder = workspace.archive / SPECS
    for p in folder.glob("*.json") if folder.is_dir() else []:
        try:
            body = json.loads(p.read_text(encoding="utf-8"))
            out.append((WorkbookSpec.model_validate(body["spec"]), body.get("file", ""),
                        body.get("issued_at", "")))
        except (OSError, ValueError, KeyError):
            continue  # reported by `check`
    return sorted(out, key=lambda x: (x[2], x[0].template_id))


def _safe(template_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in template_id)


JOURNAL = ".journal.json"


def keep_adoption(workspace: Workspace, actions: list[dict[str, Any]], adopted_at: str, *,
                  order: int | None = None) -> None:
    """Keep the register actions about to be adopted into the ledger, and when, ordered
    among the files' journals (written whole, then renamed)."""
    order = time.time_ns() if order is None else order
    body = {"version": 1, "order": order, "adopted_at": adopted_at,
            "actions": json.loads(json.dumps(actions, default=str))}
    replace_bytes(workspace.archive / ADOPTIONS / f"{order}{JOURNAL}",
                  json.dumps(body, indent=1).encode())


def adoptions(workspace: Workspace) -> list[dict[str, Any]]:
    """Every adoption of register actions kept, in the order made."""
    folder = workspace.archive / ADOPTIONS
    out = []
    for p in folder.glob(f"*{JOURNAL}") if folder.is_dir() else []:
        try:
            body = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # reported by `check`
        if isinstance(body, dict) and isinstance(body.get("actions"), list):
            out.append(body)
    return sorted(out, key=lambda r: r.get("order", 0))


def replay_adoption(led: Ledger, record: dict[str, Any]) -> None:
    """Adopt again what one adoption record adopted, stamped with its own time."""
    led.clock = record.get("adopted_at") or None
    try:
        for a in record["actions"]:
            led.upsert_action(a)
    finally:
        led.clock = None


def journal_path(workspace: Workspace, archived: str) -> Path:
    return workspace.root / f"{archived}{JOURNAL}"


def write_journal(workspace: Workspace, archived: str, record: dict[str, Any]) -> None:
    """Keep what the ledger is about to record of one file beside its archived bytes."""
    record = {"version": 1, "order": time.time_ns(), **record}
    replace_bytes(journal_path(workspace, archived), json.dumps(record, indent=1).encode())


def journals(workspace: Workspace) -> list[tuple[Path, dict[str, Any]]]:
    """Every journal record in archive/, in the order the files were kept."""
    out = []
    for p in workspace.archive.glob(f"*{JOURNAL}") if workspace.archive.is_dir() else []:
        try:
            out.append((p, json.loads(p.read_text(encoding="utf-8"))))
        except (OSError, ValueError):
            continue  # reported by `check`
    return sorted(out, key=lambda x: x[1].get("order", 0))


FOREIGN = "foreign"  # archive/foreign/: foreign templates as added, their files by hash


def keep_foreign(workspace: Workspace, row: dict[str, Any], blank: Path, datamap: Path) -> None:
    """Keep a foreign template as added (its ledger row, its blank and datamap by their
    SHA-256) in archive/foreign/, ordered among the journals, so a rebuild registers it
    again before the returns read through it, and a template added again later replaces
    it at the same point as it did."""
    folder = workspace.archive / FOREIGN
    for src, sha in ((blank, row["blank_sha256"]), (datamap, row["datamap_sha256"])):
        kept = folder / f"{sha}{src.suffix.lower()}"
        if not kept.exists():
            replace_bytes(kept, src.read_bytes())
    order = time.time_ns()
    body = {"version": 1, "order": order, "foreign_template": row,
            "blank": f"{row['blank_sha256']}{blank.suffix.lower()}",
            "datamap": f"{row['datamap_sha256']}{datamap.suffix.lower()}"}
    replace_bytes(folder / f"{order}-{_safe(row['name'])}{JOURNAL}",
                  json.dumps(body, indent=1).encode())


def foreign_records(workspace: Workspace) -> list[dict[str, Any]]:
    """Every foreign template kept, in the order added."""
    folder = workspace.archive / FOREIGN
    out = []
    for p in folder.glob(f"*{JOURNAL}") if folder.is_dir() else []:
        try:
            out.append(json.loads(p.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue  # reported by `check`
    return sorted(out, key=lambda r: r.get("order", 0))


def init_workspace(root: Path, *, register: Register | None = None,
                   actions: list[dict[str, Any]] | None = None, unit: str = "Delivery Unit",
                   marking: str = DEFAULT_MARKING) -> Workspace:
    """Create a workspace: settings, a register (empty, or the programme given), folders."""
    from ..validation.register import write_register

    root = Path(root)
    if (root / SETTINGS_FILE).exists():
        raise WorkspaceError(f"{root} is already a workspace; nothing was changed")
    root.mkdir(parents=True, exist_ok=True)
    for sub in ("outbox", "inbox", "archive", "feedback", "outputs"):
        (root / sub).mkdir(exist_ok=True)
    write_register(root / "register.xlsx", register, actions)
    name = register.programme if register is not None else "Delivery programme"
    settings = DEFAULT_SETTINGS.format(name=name, unit=unit, marking=marking)
    (root / SETTINGS_FILE).write_text(settings, encoding="utf-8")
    return Workspace.open(root)


SERVICE = "service"  # archive/service/: the collection service's facts, one file each
AUDIT = "audit.jsonl"  # archive/service/audit.jsonl: the service's audit log, a line each


def write_service_record(archive: Path, kind: str, body: dict[str, Any]) -> None:
    """Keep one service fact (an account, a token, a sign-off ...) in archive/service/ as
    its own file, written whole before the ledger commits it, so a rebuild restores it."""
    order = time.time_ns()
    record = {"version": 1, "order": order, "kind": kind, **body}
    replace_bytes(archive / SERVICE / f"{order}-{kind}{JOURNAL}",
                  json.dumps(record, indent=1).encode())


def append_audit_line(archive: Path, row: dict[str, Any]) -> None:
    """Append one audit row to archive/service/audit.jsonl and flush it to the disk."""
    path = archive / SERVICE / AUDIT
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab") as fh:
        fh.write(json.dumps(row).encode() + b"\n")
        fh.flush()
        os.fsync(fh.fileno())


def service_records(workspace: Workspace) -> tuple[list[dict[str, Any]], list[str]]:
    """Every service fact kept, in the order it happened, and the files that cannot be
    read (for `check`)."""
    folder = workspace.archive / SERVICE
    out, bad = [], []
    for p in folder.glob(f"*{JOURNAL}") if folder.is_dir() else []:
        try:
            rec = json.loads(p.read_text(encoding="utf-8"))
            if not isinstance(rec, dict) or "kind" not in rec:
                raise ValueError("no kind")
            out.append(rec)
        except (OSError, ValueError):
            bad.append(f"archive/{SERVICE}/{p.name}")
    return sorted(out, key=lambda r: r.get("order", 0)), bad


def audit_lines(workspace: Workspace) -> tuple[list[dict[str, Any]], list[str]]:
    """The audit log kept in archive/service/audit.jsonl, and the lines that cannot be read
    (a line cut short by a crash mid-append is the last and only one)."""
    path = workspace.archive / SERVICE / AUDIT
    out, bad = [], []
    if path.is_file():
        for n, line in enumerate(path.read_bytes().splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise ValueError("not an object")
                out.append(row)
            except ValueError:
                bad.append(f"archive/{SERVICE}/{AUDIT}, line {n}")
    return out, bad
