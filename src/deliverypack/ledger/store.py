"""The ledger: submissions, values with provenance, ratings, actions and meetings.

SQLite in WAL mode with foreign keys. Each file is recorded whole or not at all: in its own
transaction, or, when many files are ingested, in its own savepoint inside a batch that
commits every half second (a commit per file would cost more than reading the file). A
crash leaves the ledger as it was at the last commit, every file in it whole; Ctrl-C
commits the files already done. A resubmission supersedes the earlier one (both kept; the
latest counts); the same bytes twice change nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..validation.layout import (
    ORGANISATION_SEP,
    WorkbookSpec,
    organisation_spec,
    organisations_of,
)
from .schema import MIGRATIONS, SCHEMA_VERSION
from .signoff import awaiting_signoff, counts

BATCH_SECONDS = 0.5  # the most work a crash (not Ctrl-C) can undo in a long ingest


def now_iso() -> str:
    return dt.datetime.now().replace(microsecond=0).isoformat()


@dataclass
class Recorded:
    submission_id: int
    duplicate: bool = False
    superseded: int | None = None


class Ledger:
    def __init__(self, path: Path, *, readonly: bool | None = None, timeout: float = 30):
        """Open the ledger; read-only where it cannot be written (a read-only workspace:
        the commands that only read still work, the others fail at their first write
        with one line saying so)."""
        self.path = Path(path)
        self.readonly = (not _writable(self.path)) if readonly is None else readonly
        self.db = _connect(self.path, self.readonly, timeout)
        self.db.row_factory = sqlite3.Row
        self._specs: dict[str, WorkbookSpec] = {}
        self._batch_started: float | None = None  # when the open batch last committed
        self.commits = 0  # how many commits this connection has made (what is durable)
        self.clock: str | None = None  # the time stamped on records (a replay's own)
        # called with (spec, file, issued_at) for every template recorded: the workspace
        # keeps each spec beside the archive, so the ledger can be rebuilt from it
        self.on_template: Callable[[WorkbookSpec, str, str], None] | None = None
        self._migrate()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One file's records, whole or not at all (a savepoint when inside a batch)."""
        if self._batch_started is not None:
            self.db.execute("SAVEPOINT one_file")
            try:
                yield self.db
            except BaseException:
                # after a disk error SQLite may have rolled back already: the first
                # cause is what the user must see, not `no such savepoint`
                with contextlib.suppress(sqlite3.Error):
                    self.db.execute("ROLLBACK TO one_file")
                    self.db.execute("RELEASE one_file")
                raise
            self.db.execute("RELEASE one_file")
            if time.monotonic() - self._batch_started >= BATCH_SECONDS:
                self._commit()
                self.db.execute("BEGIN IMMEDIATE")
                self._batch_started = time.monotonic()
            return
        with self._outer():
            yield self.db

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group the transactions of many files into commits every BATCH_SECONDS. Only
        whole files are ever inside, so whatever ends the batch (Ctrl-C included), what
        is done is committed."""
        if self._batch_started is not None:
            yield
            return
        # the files done are whole: a failure keeps them (Ctrl-C), unless the disk failed
        with self._outer(time.monotonic, keep_done=True):
            yield

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Several steps' records as one transaction, committed together or not at all
        (a service upload: the submission and its upload record)."""
        if self._batch_started is not None:
            raise RuntimeError("atomic() cannot run inside a batch")
        with self._outer(lambda: float("inf")):  # savepoints inside never commit alone
            yield

    @contextmanager
    def _outer(self, clock: Callable[[], float] | None = None, *, keep_done: bool = False
               ) -> Iterator[None]:
        """The one open transaction (a file's, a batch's or atomic()'s): committed when the
        block ends; on a failure rolled back, or, with `keep_done`, committed (what is
        inside is whole) unless the commit itself fails. `clock` starts a batch's clock
        once the write lock is held (None: not a batch)."""
        self.db.execute("BEGIN IMMEDIATE")
        self._batch_started = clock() if clock is not None else None
        try:
            yield
        except BaseException:
            self._batch_started = None
            kept = False
            if keep_done:
                with contextlib.suppress(sqlite3.Error):  # the disk failed: roll back
                    self._commit()
                    kept = True
            if not kept:  # the first cause is what the user must see, not the rollback's
                with contextlib.suppress(sqlite3.Error):
                    self.db.execute("ROLLBACK")
            raise
        self._batch_started = None
        self._commit()

    def _commit(self) -> None:
        self.db.execute("COMMIT")
        self.commits += 1

    def _migrate(self) -> None:
        has_meta = self.db.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
        current = 0
        if has_meta:
            row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            current = int(row[0]) if row else 0
        if current > SCHEMA_VERSION:
            from ..foundation.errors import WorkspaceError
            raise WorkspaceError(f"{self.path} was written by a newer deliverypack "
                                 f"(schema {current}); upgrade deliverypack to read it")
        if current < SCHEMA_VERSION and self.readonly:
            from ..foundation.errors import WorkspaceError
            raise WorkspaceError(f"{self.path} needs upgrading (schema {current} to "
                                 f"{SCHEMA_VERSION}) and cannot be written")
        for version in range(current + 1, SCHEMA_VERSION + 1):
            # one script per version, applied whole or not at all
            self.db.executescript(
                f"BEGIN IMMEDIATE;\n{MIGRATIONS[version]};\n"
                f"INSERT OR REPLACE INTO meta VALUES ('schema_version', '{version}');\nCOMMIT;")

    def quick_check(self) -> list[str]:
        """SQLite's quick check: [] when the file is sound, else what is wrong."""
        rows = [r[0] for r in self.db.execute("PRAGMA quick_check").fetchall()]
        return [] if rows == ["ok"] else rows

    def query(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        return self.db.execute(sql, args).fetchall()

    # ------------------------------------------------------------------ templates
    def record_template(self, spec: WorkbookSpec, file: str) -> None:
        self._specs.pop(spec.template_id, None)
        issued = self.clock or now_iso()
        if self.on_template is not None:
            self.on_template(spec, file, issued)
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO templates VALUES (?,?,?,?,?,?,?,?)",
                       (spec.template_id, spec.version, spec.kind, spec.department, spec.round,
                        issued, file, spec.model_dump_json()))

    def template(self, template_id: str) -> WorkbookSpec | None:
        """The spec a template was issued with (cached: resubmissions share one)."""
        if template_id in self._specs:
            return self._specs[template_id]
        row = self.db.execute("SELECT spec FROM templates WHERE template_id=? "
                              "ORDER BY issued_at DESC LIMIT 1", (template_id,)).fetchone()
        spec = WorkbookSpec.model_validate_json(row[0]) if row else None
        if spec is None and ORGANISATION_SEP in template_id:
            # an organisation's return: made from its group's shared spec (not cached:
            # cheap to make, and thousands of them would push the shared one out)
            shared = self.template(template_id.rsplit(ORGANISATION_SEP, 1)[0])
            return organisation_spec(shared, template_id.rsplit(ORGANISATION_SEP, 1)[1]) \
                if shared is not None else None
        if spec is not None:
            if len(self._specs) > 256:
                self._specs.clear()
            self._specs[template_id] = spec
        return spec

    def issued_organisations(self, round_id: str) -> set[str]:
        """Every organisation issued a return of its own in a round."""
        out: set[str] = set()
        for (tid,) in self.db.execute("SELECT DISTINCT template_id FROM templates WHERE "
                                      "kind='org_return' AND round=?", (round_id,)):
            spec = self.template(tid)
            out |= set(organisations_of(spec)) if spec is not None else set()
        return out

    # ------------------------------------------------------------------ submissions
    def find_duplicate(self, sha256: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM submissions WHERE sha256=? ORDER BY id DESC "
                               "LIMIT 1", (sha256,)).fetchone()

    def record_submission(self, sub: dict[str, Any], issues: list[dict[str, Any]],
                          content: Content | None,
                          after: Callable[[int], None] | None = None) -> Recorded:
        """Record one file and everything read from it, in one transaction; `after` adds
        kind-specific records (a meeting) inside the same transaction."""
        dup = self.find_duplicate(sub["sha256"])
        if dup is not None:
            return Recorded(dup["id"], duplicate=True)
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO submissions (kind, template_id, department, round, file_name, "
                "sha256, size, archive_path, received_at, status, late, contact, "
                "signed_off_by, signed_off_on, n_errors, n_warnings) "
                "VALUES (:kind,:template_id,:department,:round,:file_name,:sha256,:size,"
                ":archive_path,:received_at,:status,:late,:contact,:signed_off_by,"
                ":signed_off_on,:n_errors,:n_warnings)", sub)
            sid = cur.lastrowid
            assert sid is not None  # an INSERT always sets it
            db.executemany(
                "INSERT INTO issues VALUES (?,?,?,?,?,?,?,?)",
                [(sid, i["code"], i["severity"], i["sheet"], i["cell"], i["found"],
                  i["expected"], i["message"]) for i in issues])
            superseded = None
            if sub["status"] == "accepted":
                prev = db.execute(
                    "SELECT id FROM submissions WHERE kind=? AND department=? AND round=? "
                    "AND status='accepted' AND superseded_by IS NULL AND id<>?",
                    (sub["kind"], sub["department"], sub["round"], sid)).fetchall()
                for p in prev:
                    db.execute("UPDATE submissions SET superseded_by=? WHERE id=?", (sid, p[0]))
                    superseded = p[0]
                if content is not None:
                    self._store_content(db, sid, sub, content)
                if after is not None:
                    after(sid)
        return Recorded(sid, superseded=superseded)

    def _store_content(self, db: sqlite3.Connection, sid: int, sub: dict[str, Any],
                       c: Content) -> None:
        db.executemany("INSERT INTO measure_values VALUES (?,?,?,?,?,?,?,?)",
                       [(sid, *v) for v in c.values])
        db.executemany("INSERT INTO ratings VALUES (?,?,?,?,?,?,?,?)",
                       [(sid, p, sub["round"], src, d, v, sh, ce)
                        for (p, src, d, v, sh, ce) in c.ratings])
        db.executemany("INSERT INTO texts VALUES (?,?,?,?,?,?,?,?,?,?)",
                       [(sid, sub["round"], dept or sub["department"], p, k, n, t,
                         json.dumps(x or {}), sh, ce)
                        for (dept, p, k, n, t, x, sh, ce) in c.texts])
        db.executemany("INSERT INTO milestone_updates VALUES (?,?,?,?,?,?,?)",
                       [(sid, *m) for m in c.milestones])
        db.executemany("INSERT INTO foreign_values VALUES (?,?,?,?,?,?,?)",
                       [(sid, *f) for f in c.foreign])
        stamp = sub["received_at"]
        for action_id, status, note, sheet, cell in c.action_updates:
            db.execute("INSERT INTO action_updates (action_id, submission_id, status, note, at,"
                       " sheet, cell) VALUES (?,?,?,?,?,?,?)",
                       (action_id, sid, status, note, stamp, sheet, cell))
            db.execute("UPDATE actions SET status=?, updated_at=? WHERE id=?",
                       (status, stamp, action_id))

    def submissions(self, round_id: str | None = None) -> list[sqlite3.Row]:
        if round_id:
            return self.query("SELECT * FROM submissions WHERE round=? ORDER BY id", round_id)
        return self.query("SELECT * FROM submissions ORDER BY id")

    def current_ids(self, kind: str = "return", round_id: str | None = None) -> list[int]:
        sql = f"SELECT s.id FROM submissions s WHERE s.kind=? AND {self._CURRENT}"
        args: list[Any] = [kind]
        if round_id:
            sql += " AND s.round=?"
            args.append(round_id)
        return [r[0] for r in self.query(sql, *args)]

    def issues_of(self, submission_id: int) -> list[sqlite3.Row]:
        return self.query("SELECT * FROM issues WHERE submission_id=?", submission_id)

    # ------------------------------------------------------------------ reading back
    @property
    def _CURRENT(self) -> str:
        """The submissions that count: accepted, latest, and signed off (consolidation)."""
        return counts(self.db, "s")

    def values(self, *, field: str | None = None, org: bool = False,
               round_upto: str | None = None) -> list[sqlite3.Row]:
        """Current values with provenance (latest accepted submission per department and
        round); for a period reported in several rounds, the latest round counts."""
        sql = (f"SELECT v.*, s.round, s.file_name, s.department FROM measure_values v "
               f"JOIN submissions s ON s.id=v.submission_id WHERE {self._CURRENT} "
               f"AND v.org_id {'<>' if org else '='} ''")
        args: list[Any] = []
        if field:
            sql += " AND v.field=?"
            args.append(field)
        if round_upto:
            sql += " AND s.round<=?"
            args.append(round_upto)
        sql += " ORDER BY s.round, s.id"
        return self.query(sql, *args)

    def latest_values(self, field: str, *, org: bool = False,
                      round_upto: str | None = None) -> dict[tuple, sqlite3.Row]:
        out: dict[tuple, sqlite3.Row] = {}
        for r in self.values(field=field, org=org, round_upto=round_upto):
            out[(r["measure_id"], r["org_id"], r["period"])] = r
        return out

    def org_periods(self, measure_id: str, round_upto: str, last: int = 2) -> list[str]:
        """The latest periods with organisation values for a measure, newest first."""
        rows = self.query(
            f"SELECT DISTINCT v.period FROM measure_values v JOIN submissions s "
            f"ON s.id=v.submission_id WHERE {self._CURRENT} AND v.measure_id=? "
            f"AND v.org_id<>'' AND s.round<=? ORDER BY v.period DESC LIMIT ?",
            measure_id, round_upto, last)
        return [r[0] for r in rows]

    def org_values(self, measure_id: str, periods: list[str], round_upto: str
                   ) -> list[sqlite3.Row]:
        """Organisation values of a measure for a few periods, with provenance."""
        marks = ",".join("?" * len(periods))
        return self.query(
            f"SELECT v.*, s.file_name, s.round FROM measure_values v JOIN submissions s "
            f"ON s.id=v.submission_id WHERE {self._CURRENT} AND v.measure_id=? "
            f"AND v.org_id<>'' AND s.round<=? AND v.period IN ({marks}) ORDER BY s.id",
            measure_id, round_upto, *periods)

    def pooled(self, measure_id: str, round_upto: str) -> list[sqlite3.Row]:
        """Per period and field: the sum and count of organisation values (in SQL, so
        memory does not grow with the number of organisations)."""
        return self.query(
            f"SELECT v.period, v.field, SUM(v.value) AS total, COUNT(*) AS n "
            f"FROM measure_values v JOIN submissions s ON s.id=v.submission_id "
            f"WHERE {self._CURRENT} AND v.measure_id=? AND v.org_id<>'' AND s.round<=? "
            f"GROUP BY v.period, v.field", measure_id, round_upto)

    def ratings(self, round_id: str, source: str) -> dict[tuple[str, str], sqlite3.Row]:
        rows = self.query(
            f"SELECT r.*, s.file_name FROM ratings r JOIN submissions s ON s.id=r.submission_id"
            f" WHERE {self._CURRENT} AND r.round=? AND r.source=?", round_id, source)
        return {(r["priority_id"], r["dimension"]): r for r in rows}

    def texts(self, round_id: str, kind: str | None = None) -> list[sqlite3.Row]:
        sql = (f"SELECT t.*, s.file_name FROM texts t JOIN submissions s "
               f"ON s.id=t.submission_id WHERE {self._CURRENT} AND t.round=?")
        args: list[Any] = [round_id]
        if kind:
            sql += " AND t.kind=?"
            args.append(kind)
        return self.query(sql + " ORDER BY t.priority_id, t.seq", *args)

    def milestone_updates(self, round_upto: str) -> dict[str, sqlite3.Row]:
        rows = self.query(
            f"SELECT m.*, s.round, s.file_name FROM milestone_updates m JOIN submissions s "
            f"ON s.id=m.submission_id WHERE {self._CURRENT} AND s.round<=? ORDER BY s.round",
            round_upto)
        return {r["milestone_id"]: r for r in rows}

    # ------------------------------------------------------------------ actions
    def upsert_action(self, a: dict[str, Any]) -> None:
        """Add an action if new; an existing action keeps its status and history."""
        stamp = self.clock or now_iso()
        self.db.execute(
            "INSERT INTO actions (id, description, owner, department, priority_id, due, status,"
            " origin, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT(id) DO NOTHING",
            (a["id"], a["description"], a["owner"], a.get("department", ""),
             a.get("priority_id", ""), str(a["due"]), a.get("status", "open"), a["origin"],
             stamp, stamp))

    def actions(self, *, department: str | None = None, open_only: bool = False,
                origin_prefix: str | None = None) -> list[sqlite3.Row]:
        sql, args = "SELECT * FROM actions WHERE 1=1", []
        if department:
            sql += " AND department=?"
            args.append(department)
        if open_only:
            sql += " AND status IN ('open', 'in progress')"
        if origin_prefix:
            sql += " AND origin LIKE ?"
            args.append(origin_prefix + "%")
        return self.query(sql + " ORDER BY id", *args)

    def action_updates(self, action_id: str) -> list[sqlite3.Row]:
        """An action's updates, but not those of a return still awaiting sign-off."""
        held = awaiting_signoff(self.db)
        return [u for u in self.query("SELECT * FROM action_updates WHERE action_id=? "
                                      "ORDER BY id", action_id)
                if u["submission_id"] not in held]


def _writable(path: Path) -> bool:
    """Whether the ledger (or, before it exists, its folder) can be written."""
    if path.exists():
        return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    return os.access(path.parent, os.W_OK)


def _connect(path: Path, readonly: bool, timeout: float) -> sqlite3.Connection:
    """A connection in WAL mode; read-only through a URI where the workspace is read-only
    (and, where even the WAL's shared-memory file cannot be made, as an immutable file)."""
    if not readonly:
        db = sqlite3.connect(path, isolation_level=None, timeout=timeout)
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        return db
    uri = path.resolve().as_uri()
    try:
        db = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None,
                             timeout=timeout)
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.OperationalError:
        db = sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None)
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db


@dataclass
class Content:
    """What an accepted file adds to the ledger, each value with its sheet and cell."""

    values: list[tuple]  # (measure, org, period, field, value, sheet, cell)
    ratings: list[tuple]  # (priority, source, dimension, value, sheet, cell)
    texts: list[tuple]  # (department, priority, kind, seq, text, extra, sheet, cell)
    milestones: list[tuple]  # (milestone, status, forecast, comment, sheet, cell)
    action_updates: list[tuple]  # (action, status, note, sheet, cell)
    foreign: list[tuple] = field(default_factory=list)  # (key, sheet, cell, kind, text, number)
