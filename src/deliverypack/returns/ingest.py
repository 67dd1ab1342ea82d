"""validate and ingest: intake -> read -> check -> (keep bytes, record in the ledger).

`validate` checks without keeping anything; `ingest` also archives the bytes under their
SHA-256, records the submission and its values in one transaction, and writes a feedback
workbook for a rejected return.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import re
import shutil
import sqlite3
import sys
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zipfile import ZipFile

from ..foundation.domain import FRAMEWORK, Register
from ..foundation.errors import DeliverypackError, FileRefused
from ..ledger.store import Content, Recorded
from ..ledger.workspace import JOURNAL, Workspace, journal_path, journals, write_journal
from ..templates.taskforce import check_meeting, store_meeting
from ..validation.cells import At
from ..validation.checks import BlockRead, BookRead, RowRead, check_book, template_id_of
from ..validation.feedback import write_feedback
from ..validation.issues import Issue
from ..validation.layout import BlockKind, WorkbookSpec
from ..validation.read import BookValues, PackageDamaged, SheetTooLarge, error_cells
from ..validation.report import FileReport
from .history import history_warnings
from .intake import Intake, crash_text, inspect
from .uploads import KEY as SERVICE_UPLOAD
from .uploads import held_actions, replay_upload


def validate_file(workspace: Workspace, path: Path, *, template: str | None = None,
                  round_id: str | None = None, intake: Intake | None = None
                  ) -> tuple[FileReport, Any]:
    """Every problem in one file; and, if it can be read, what it says.

    Our own templates are found by the template id on their cover; a foreign template
    (read through a datamap) by name, or by its sheets and labels."""
    path = Path(path)
    if intake is None:
        intake = inspect(path, allow_macros=True)  # macros are refused below for our own
    try:
        return _validate_file(workspace, path, template, round_id, intake)
    except Exception as exc:  # a fault of ours on this one file costs only this file
        if not about_the_file(exc):
            raise
        return crash_report(path, intake, exc), None


def about_the_file(exc: BaseException) -> bool:
    """Whether an exception raised while examining a file is about that file (so it is
    reported against the file, and the batch goes on), not a fault of the machine or the
    ledger (SQLite, the disk, a missing workspace), which stops the run in one line."""
    if isinstance(exc, FileRefused):
        return True
    return not isinstance(exc, sqlite3.Error | OSError | UnicodeDecodeError
                          | DeliverypackError)


def crash_report(path: Path, intake: Intake, exc: BaseException | None) -> FileReport:
    """A file whose examining failed in a way nothing foresaw: rejected with
    reader-crashed, naming what failed (the process reading it died, when exc is None)."""
    report = FileReport(file=path.name, path=path, sha256=intake.sha256, size=intake.size)
    report.issues.extend(intake.issues)
    at = At(sheet="", cell="", file=path.name)
    report.issues.append(_unreadable(at, exc) if isinstance(exc, FileRefused) else at.issue(
        "reader-crashed", found=crash_text(exc) if exc is not None else
        "the reading process ended abruptly"))
    return report


def _validate_file(workspace: Workspace, path: Path, template: str | None,
                   round_id: str | None, intake: Intake) -> tuple[FileReport, Any]:
    report = FileReport(file=path.name, path=path)
    report.sha256, report.size = intake.sha256, intake.size
    report.issues.extend(intake.issues)
    if intake.refused or intake.zip is None:
        return report, None
    at = At(sheet="", cell="", file=path.name)
    try:
        book = BookValues.from_bytes(intake.data, intake.zip)
        tid = template_id_of(book)
    except BaseException as exc:  # a damaged workbook: say so, never a traceback
        report.issues.append(_unreadable(at, _reraise_interrupts(exc)))
        return report, None
    if tid is None or template:
        return _validate_foreign(workspace, book, intake.zip, report, template, round_id)
    report.issues = [at.issue("macros-present", found=i.found) if i.code == "macros-ignored"
                     else i for i in report.issues]  # our templates never carry macros
    spec = workspace.ledger.template(tid)
    if spec is None:
        report.issues.append(at.issue(
            "unknown-template", found=tid,
            expected="a workbook issued by this workspace (deliverypack templates)"))
        return report, None
    report.template_id, report.kind = spec.template_id, spec.kind
    report.department, report.round = spec.department, spec.round
    book.bound_to([b.name for _, b in spec.blocks()])
    try:
        issues, read = check_workbook(book, spec, workspace.register, path.name)
    except BaseException as exc:
        report.issues.append(_unreadable(at, _reraise_interrupts(exc)))
        return report, None
    report.issues.extend(issues)
    report.issues.extend(round_checks(workspace, spec, path, at, round_id))
    report.issues.extend(history_warnings(workspace.ledger, workspace.register, read))
    return report, read


def _reraise_interrupts(exc: BaseException) -> BaseException:
    """Ctrl-C and exits go on; anything else a reader raises (a native reader's panic is a
    BaseException) is about the file."""
    if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit | MemoryError):
        raise exc
    return exc


def _unreadable(at: At, exc: BaseException) -> Issue:
    """The issue for a workbook the reader could not, or must not, read."""
    if isinstance(exc, SheetTooLarge):
        return At(sheet=exc.sheet, cell="", file=at.file).issue(
            "sheet-too-large", found=exc.far, expected=exc.expected)
    if isinstance(exc, PackageDamaged):
        return at.issue(exc.code, found=exc.found)
    return at.issue("not-a-workbook", found=f"a workbook that cannot be read ({exc})")


def round_checks(workspace: Workspace, spec: Any, path: Path, at: At, round_id: str | None
                 ) -> list[Any]:
    """A return is for the round it was issued for, while that round is open; a file
    named for someone else is worth a word."""
    from ..ledger.rounds import round_state

    out = []
    if round_id and spec.round and spec.round != round_id:
        out.append(at.issue("wrong-round", found=spec.round, expected=round_id))
    closed = round_state(workspace.ledger, spec.round) if spec.round else None
    if closed is not None:
        out.append(at.issue("round-closed", found=spec.round, expected=closed.text()))
    if spec.kind in ("return", "org_return") and spec.department:
        reg = workspace.register
        ids = {d.id.upper(): d.id for d in reg.departments} if spec.kind == "return" else \
            {o.id.upper(): o.id for o in reg.organisations}
        words = re.split(r"[-_ .]+", path.stem.upper())
        other = next((ids[w] for w in words if w in ids and ids[w] != spec.department), None)
        if other is not None:
            out.append(at.issue("file-name-department", found=other,
                                expected=spec.department))
    return out


def _validate_foreign(workspace: Workspace, book: BookValues, zf: ZipFile, report: FileReport,
                      name: str | None, round_id: str | None) -> tuple[FileReport, Any]:
    from . import foreign

    tpl = foreign.template(workspace, name) if name else foreign.recognise(workspace, book)
    if tpl is None:
        report.issues.append(At(sheet="", cell="", file=report.file).issue(
            "unknown-template", found="no template id on a Cover sheet",
            expected="a workbook issued by this workspace (deliverypack templates) or a "
                     "registered foreign template (deliverypack template add)"))
        return report, None
    try:
        errors = error_cells(zf, {e.sheet for e in tpl.entries})
        issues, read = foreign.check_foreign(book, tpl, report.file, errors)
    except BaseException as exc:  # a damaged or oversized workbook: never a traceback
        report.issues.append(_unreadable(At(sheet="", cell="", file=report.file),
                                         _reraise_interrupts(exc)))
        return report, None
    report.issues.extend(issues)
    report.kind, report.template_id = "foreign", tpl.name
    report.department, report.round = _foreign_party(workspace, tpl, read, report, round_id)
    return report, read


def _foreign_party(workspace: Workspace, tpl: Any, read: Any, report: FileReport,
                   round_id: str | None) -> tuple[str, str]:
    """Who sent a foreign return, and for which round: a mapped department must be an id
    (it names files: the next round's pre-filled copy), a mapped round one of the
    register's; without a mapped department, the file's name says (DfT-2003-12.xlsm: DfT)
    when it is an id."""
    from .foreign import party_id

    entry = {e.maps_to: e for e in tpl.entries}
    dept = read.mapped("department")
    if dept is not None and party_id(dept) is None:
        e = entry["department"]
        report.issues.append(At(sheet=e.sheet, cell=e.cell, file=report.file).issue(
            "unknown-department", found=str(dept)))
        dept = ""  # and not the file's name: the return says who it is, wrongly
    if dept is None:
        dept = party_id(re.sub(r"[-_ ]?\d{4}-\d{2}$", "", report.path.stem))
    rnd = read.mapped("round")
    if isinstance(rnd, dt.date):  # a round typed as a date: its month
        rnd = f"{rnd:%Y-%m}"
    if rnd is not None and str(rnd).strip() not in {r.id for r in workspace.register.rounds}:
        e = entry["round"]
        report.issues.append(At(sheet=e.sheet, cell=e.cell, file=report.file).issue(
            "unknown-round", found=str(rnd)))
        rnd = None
    return str(dept or ""), str(rnd or round_id or "").strip()


@dataclass
class Examined:
    """Everything learnt from a file, its bytes archived but nothing recorded yet: made in
    a worker process, recorded by the one process that writes the ledger."""

    report: FileReport
    content: Content | None
    cover: dict[str, Any]
    read: BookRead | None  # kept only where a kind-specific hook needs it (meetings)
    archived: str | None = None  # where its bytes are kept, relative to the workspace
    options: dict[str, str | None] = field(default_factory=dict)  # --template, --round


def examine(workspace: Workspace, path: Path, template: str | None = None,
            round_id: str | None = None, *, keep_bytes: bool = True) -> Examined:
    """Validate a file and archive its bytes (where there are several files, this runs
    in worker processes, so the archive is written in parallel too); without
    `keep_bytes` (validate) nothing is written."""
    intake = inspect(path, allow_macros=True)
    archived = archive_bytes(workspace, intake) if intake.sha256 and keep_bytes else None
    report, read = validate_file(workspace, path, template=template, round_id=round_id,
                                 intake=intake)
    content = None
    kind = KINDS.get(report.kind)
    try:
        if report.valid and read is not None:
            content = kind.extract(read) if kind else read.content()  # else: foreign
        cover = read.cover() if read is not None else {}
    except Exception as exc:
        if not about_the_file(exc):
            raise
        report, read, content, cover = crash_report(path, intake, exc), None, None, {}
    return Examined(report, content, cover, read if kind and kind.after_ingest else None,
                    archived, {"foreign_template": template, "round_option": round_id})


def archive_bytes(workspace: Workspace, intake: Intake) -> str:
    """Keep the bytes as received under their SHA-256 (written whole, then renamed, so an
    archived file is never half there); the same bytes twice are kept once."""
    archive = workspace.archive / f"{intake.sha256}{intake.path.suffix.lower() or '.bin'}"
    if not archive.exists():
        archive.parent.mkdir(parents=True, exist_ok=True)
        tmp = archive.with_name(f"{archive.name}.{os.getpid()}.partial")
        try:
            tmp.write_bytes(intake.data)
            tmp.replace(archive)
        finally:  # a full disk leaves nothing half-written
            tmp.unlink(missing_ok=True)
    return archive.relative_to(workspace.root).as_posix()


def clean_partials(workspace: Workspace) -> list[Path]:
    """Remove what a killed ingest left half-written in archive/ (a .partial whose writing
    process is gone); return what was removed."""
    gone = []
    for tmp in workspace.archive.glob("*.partial") if workspace.archive.is_dir() else []:
        pid = tmp.suffixes[-2].lstrip(".") if len(tmp.suffixes) >= 2 else ""
        if pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid)):
            continue  # another ingest is writing it now
        tmp.unlink(missing_ok=True)
        gone.append(tmp)
    return gone


def keep(workspace: Workspace, ex: Examined, *, received: dt.datetime | None = None,
         journal: bool = True) -> FileReport:
    """Record the submission in one transaction (its journal record first, beside the
    archived bytes, so the ledger can be rebuilt), feedback if rejected."""
    report, path = ex.report, ex.report.path
    if not report.sha256:
        return report  # nothing readable to keep
    led = workspace.ledger
    dup = led.find_duplicate(report.sha256)
    if dup is not None:
        report.duplicate, report.submission_id, report.kept = True, dup["id"], True
        return report
    received = received or dt.datetime.now().replace(microsecond=0)
    cover = ex.cover
    late = 0
    if report.round:
        try:
            late = int(received.date() > workspace.register.round(report.round).due)
        except StopIteration:
            late = 0
    signed = cover.get("Sign-off date")
    sub = {
        "kind": report.kind or "unknown", "template_id": report.template_id or None,
        "department": report.department or None, "round": report.round or None,
        "file_name": path.name, "sha256": report.sha256, "size": report.size,
        "archive_path": ex.archived,
        "received_at": received.isoformat(), "status": report.status, "late": late,
        "contact": " ".join(str(cover.get(k) or "") for k in
                            ("Contact name", "Contact email", "Contact telephone")
                            ).strip() or None,
        "signed_off_by": cover.get("Signed off by (SRO or delegate)"),
        "signed_off_on": signed.isoformat() if isinstance(signed, dt.date) else None,
        "n_errors": len(report.errors), "n_warnings": len(report.warnings),
    }

    def after(submission_id: int) -> None:
        assert ex.read is not None  # `after` is passed only when there is a read
        for step in KINDS[report.kind].after_ingest:
            step(workspace, ex.read, submission_id)
    if journal and ex.archived:
        try:
            write_journal(workspace, ex.archived, {
                "file_name": path.name, "received_at": sub["received_at"],
                "sha256": report.sha256, "archive_path": ex.archived, "kind": sub["kind"],
                "template_id": sub["template_id"], "department": sub["department"],
                "round": sub["round"], **ex.options})
        except OSError:
            # no journal (a full disk): an archived file nothing could replay would be an
            # orphan; the file is still where it was sent from, and the next run keeps it
            if not journal_path(workspace, ex.archived).exists():
                (workspace.root / ex.archived).unlink(missing_ok=True)
            raise
    rec: Recorded = led.record_submission(
        sub, [i.model_dump() for i in report.issues], ex.content,
        after if report.valid and ex.read is not None else None)
    report.kept, report.submission_id, report.superseded = True, rec.submission_id, rec.superseded
    if not report.valid and report.kind and report.kind != "foreign":
        report.feedback = write_feedback(
            path, report.issues,
            workspace.feedback(report.round or "meetings") / f"{path.stem}.feedback.xlsx")
    return report


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def ingest_file(workspace: Workspace, path: Path, *, received: dt.datetime | None = None,
                template: str | None = None, round_id: str | None = None) -> FileReport:
    """Validate one file and keep it: archived bytes, a ledger record, feedback if rejected."""
    return keep(workspace, examine(workspace, Path(path), template, round_id), received=received)


_WORKER: dict[str, Workspace] = {}


def _worker_init(root: str) -> None:
    from .lifeline import die_with_parent

    die_with_parent()
    _WORKER["workspace"] = Workspace.open(root)


@dataclass(frozen=True)
class Reading:
    """What a worker does to each file it is handed (sent to it, so it is plain data): the
    command's --foreign and --round, and whether the bytes are archived (ingest) or
    nothing is written (validate)."""

    template: str | None = None
    round_id: str | None = None
    keep_bytes: bool = True

    def __call__(self, paths: list[Path]) -> list[Examined]:  # in the worker
        return [examine(_WORKER["workspace"], p, self.template, self.round_id,
                        keep_bytes=self.keep_bytes) for p in paths]

    def crashed(self, workspace: Workspace, path: Path) -> Examined:
        """A file whose reading killed the process reading it: rejected with
        reader-crashed (its bytes archived, if this reading keeps them)."""
        intake = inspect(path, allow_macros=True)
        report = crash_report(path, intake, None)
        keep = intake.sha256 and self.keep_bytes
        return Examined(report, None, {}, None, archive_bytes(workspace, intake) if keep
                        else None)


def validate_files(workspace: Workspace, paths: Iterable[Path], *,
                   template: str | None = None, round_id: str | None = None,
                   progress: Callable[[FileReport], None] | None = None) -> list[FileReport]:
    """Check files without keeping anything, each read in a worker process: a crash inside
    the native reader (which no exception handler sees) rejects its file with
    reader-crashed, and the others are checked. The worker is forked from this process
    where that is safe (so it costs milliseconds), else started clean (see _pool)."""
    reports: list[FileReport] = []

    def done(ex: Examined) -> None:
        reports.append(ex.report)
        if progress:
            progress(ex.report)
    _examine_in_pool(workspace, [Path(p) for p in paths], 1,
                     Reading(template, round_id, keep_bytes=False), done)
    return reports


def replay(workspace: Workspace, record: dict[str, Any]) -> None:
    """Record one archived file from its journal: the spec it was read by is re-registered,
    then the bytes are validated and kept as they were, under their name and time."""
    led = workspace.ledger
    src = workspace.root / record["archive_path"]
    received = dt.datetime.fromisoformat(record["received_at"])
    with tempfile.TemporaryDirectory(prefix="dp-replay-") as tmp:
        named = Path(tmp) / Path(record["file_name"]).name  # never a path: a name only
        shutil.copyfile(src, named)
        led.clock = record["received_at"]
        try:
            ex = examine(workspace, named, record.get("foreign_template"),
                         record.get("round_option"))
            held = held_actions(led.db)  # a service upload's action updates wait
            rep = keep(workspace, ex, received=received, journal=False)
        finally:
            led.clock = None
    if record.get(SERVICE_UPLOAD):  # uploaded to the service: it awaits sign-off
        replay_upload(workspace, record, rep, held)


def reconcile(workspace: Workspace) -> int:
    """Record the files archived with a journal but missing from the ledger (a fault
    between the two); returns how many."""
    known = {r[0] for r in workspace.ledger.query("SELECT sha256 FROM submissions")}
    todo = [rec for _, rec in journals(workspace) if rec.get("sha256") not in known]
    for rec in todo:
        replay(workspace, rec)
    return len(todo)


def ingest_files(workspace: Workspace, paths: Iterable[Path], *,
                 received: dt.datetime | None = None,
                 jobs: int = 1, progress: Callable[[FileReport], None] | None = None,
                 template: str | None = None, round_id: str | None = None,
                 isolate: bool = False) -> list[FileReport]:
    """Ingest many files: examined on `jobs` processes, kept by this one in file order.

    Work is handed out in bounded windows so memory stays flat however many files there
    are; Ctrl-C stops cleanly (every file already kept is whole, the rest untouched).
    With `isolate`, files are examined in a worker process even where jobs is 1 (a
    single file too), so a crash inside the native reader (which no exception handler
    sees) costs only its file.
    """
    paths = [Path(p) for p in paths]
    reports: list[FileReport] = []
    led = workspace.ledger
    uncommitted: list[FileReport] = []  # kept since the ledger's last commit
    seen = [led.commits]

    def done(r: FileReport) -> None:
        if led.commits != seen[0]:
            uncommitted.clear()
            seen[0] = led.commits
        uncommitted.append(r)
        reports.append(r)
        if progress:
            progress(r)
    current: list[FileReport] = []  # the file being kept, until it is done

    def keep_one(ex: Examined) -> None:
        current[:] = [ex.report]
        r = keep(workspace, ex, received=received)
        current.clear()
        done(r)
    with IngestLock(workspace) as lock:
        clean_partials(workspace)
        reconcile(workspace)  # files archived by an ingest that failed before recording them
        if lock.alone:  # no other ingest runs: what an interrupted one left is an orphan
            sweep_orphans(workspace)
        lock.share()  # other ingests may run beside this one from here
        try:
            with led.batch():
                # a read-only ledger keeps nothing: the first write fails, in one line,
                # before a worker is started for nothing
                if (jobs <= 1 and not isolate) or led.readonly:
                    for p in paths:
                        keep_one(examine(workspace, p, template, round_id))
                else:
                    _examine_in_pool(workspace, paths, max(jobs, 1),
                                     Reading(template, round_id), keep_one)
        except BaseException:
            if not _settle(workspace, uncommitted, current, done) and led.commits == seen[0]:
                for r in uncommitted:  # the last commit failed: these files were not kept
                    r.kept, r.submission_id = False, None
            forget_unkept(workspace, paths, reports)
            raise
    return reports


class IngestLock:
    """Held shared by every batch ingest for its whole run (a lock file the kernel frees
    when the process dies, kill -9 included); taken exclusively at the start, without
    waiting, to learn whether any other ingest is running."""

    NAME = ".ingest.lock"

    def __init__(self, workspace: Workspace):
        self.path = workspace.root / self.NAME
        self.fd: int | None = None
        self.alone = False

    def __enter__(self) -> IngestLock:
        try:
            import fcntl
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except (ImportError, OSError):  # no locks here (a read-only workspace, Windows)
            return self  # alone stays False: nothing is swept
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self.alone = True
        except OSError:
            fcntl.flock(self.fd, fcntl.LOCK_SH)
        return self

    def share(self) -> None:
        if self.fd is not None and self.alone:
            import fcntl
            fcntl.flock(self.fd, fcntl.LOCK_SH)

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.close(self.fd)  # frees the lock


# An archived file with neither journal nor ledger record, this old, and no other ingest
# running, was left by an interrupted one: a batch's workers archive ahead of the journal
# (and hold the lock meanwhile); a single ingest or a service upload journals within
# moments of archiving (and does not hold it), which this age covers many times over.
ORPHAN_AGE = 600.0  # (recovery.check says "ten minutes")


def unclaimed(workspace: Workspace) -> list[Path]:
    """Archived files nothing claims: no journal beside them, no record in the ledger."""
    if not workspace.archive.is_dir():
        return []
    known = {r[0] for r in workspace.ledger.query("SELECT sha256 FROM submissions")}
    return sorted(p for p in workspace.archive.iterdir() if p.is_file()
                  and not p.name.endswith((JOURNAL, ".partial"))
                  and not Path(f"{p}{JOURNAL}").exists() and p.name.split(".")[0] not in known)


def sweep_orphans(workspace: Workspace) -> list[Path]:
    """Move what an interrupted ingest archived ahead of its journal to archive/orphans/
    (call only while no other ingest runs): nothing is lost, since the department's file
    is still where it was sent from, and the next ingest of it records it whole."""
    import time

    moved = []
    for p in unclaimed(workspace):
        try:
            if time.time() - p.stat().st_mtime < ORPHAN_AGE:
                continue
            dest = workspace.archive / "orphans" / p.name
            dest.parent.mkdir(exist_ok=True)
            os.replace(p, dest)
        except OSError:
            continue  # left for the next run; the fault, if any, is met below
        moved.append(dest)
    return moved


def _settle(workspace: Workspace, uncommitted: list[FileReport], current: list[FileReport],
            done: Callable[[FileReport], None]) -> bool:
    """After a fault ended a batch, ask the ledger which of the files whose commit was in
    doubt it holds: those since its last commit, and the one being kept when the fault
    came (its record may have been committed before its feedback failed). The one being
    kept, if held, is reported done. False when the ledger cannot say (its transaction
    still open, or it cannot be read): then nothing is assumed kept beyond the last commit."""
    led = workspace.ledger
    doubt = [r for r in [*uncommitted, *current] if r.sha256]
    try:
        if led.db.in_transaction:
            return False
        held = {}
        for r in doubt:
            row = led.db.execute("SELECT id FROM submissions WHERE sha256 = ? ORDER BY id "
                                 "DESC LIMIT 1", (r.sha256,)).fetchone()
            held[id(r)] = row[0] if row else None
    except sqlite3.Error:
        return False
    for r in doubt:
        if not r.duplicate:
            r.kept, r.submission_id = held[id(r)] is not None, held[id(r)]
    if current and current[0].kept:
        done(current[0])
    return True


def forget_unkept(workspace: Workspace, paths: list[Path], reports: list[FileReport]) -> int:
    """After a fault, remove the archived bytes of files examined but never journaled (a
    worker archives ahead of the recording; a full disk can stop the journal): nothing is
    lost, since each file is still where it was sent and the next run reads it again. A
    file with a journal is left for the next run to record. Returns how many."""
    import hashlib
    import sqlite3
    import stat

    from ..ledger.workspace import JOURNAL

    kept = {r.path for r in reports if r.kept}
    gone = 0
    for p in paths:
        if p in kept:
            continue
        try:
            if not stat.S_ISREG(os.lstat(p).st_mode):
                continue
            sha = hashlib.sha256(p.read_bytes()).hexdigest()
            archived = workspace.archive / f"{sha}{p.suffix.lower() or '.bin'}"
            if not archived.exists() or Path(f"{archived}{JOURNAL}").exists():
                continue
            if workspace.ledger.find_duplicate(sha) is None:
                archived.unlink(missing_ok=True)
                gone += 1
        except (OSError, sqlite3.Error):
            continue  # the fault itself is what the user is told about
    return gone


def _pool(workspace: Workspace, jobs: int) -> ProcessPoolExecutor:
    # workers start from a clean server process, not forked from this one, where this one
    # runs a second thread (a progress display's) or has the ledger open (SQLite's state
    # must not cross a fork); where it has neither (validate), a forked worker starts in
    # milliseconds instead of importing deliverypack again (a second). Workers, and the
    # server, are killed by the kernel if this process dies
    if _fork_is_safe(workspace):
        ctx: Any = multiprocessing.get_context("fork")
    elif sys.platform.startswith("linux"):
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["deliverypack.returns.lifeline"])
    else:
        ctx = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_worker_init,
                               initargs=(str(workspace.root),))


def _fork_is_safe(workspace: Workspace) -> bool:
    """Whether a worker may be forked from this process: Linux, one thread (a lock held
    by another would be held forever in the child), and no ledger connection open."""
    import threading

    return (sys.platform.startswith("linux") and threading.active_count() == 1
            and "ledger" not in vars(workspace))  # the cached property never opened


def _examine_in_pool(workspace: Workspace, paths: list[Path], jobs: int, reading: Reading,
                     then: Callable[[Examined], None]) -> None:
    """Examine files on `jobs` worker processes; `then` each result here, in file order.

    A bounded number of small chunks is in flight at any time, topped up as each is
    taken, so memory stays flat and no worker waits for the others at a window's end.
    A worker that dies (a native reader aborting on a hostile file) costs only that file:
    the chunk it was in is examined again one file at a time, in a fresh worker, which
    names the file; the chunks in flight are handed out again. One worker (a small batch
    read apart from this process) takes small chunks, so it archives few files ahead of
    their recording: a full disk then finds most files before it recorded whole."""
    size = CHUNK if jobs > 1 else 2
    chunks = deque(paths[i:i + size] for i in range(0, len(paths), size))
    while chunks:
        with _pool(workspace, jobs) as pool:
            pending: deque[tuple[list[Path], Any]] = deque()
            try:
                _drain(pool, chunks, pending, 4 * jobs, reading, then)
            except BrokenProcessPool:
                lost = [c for c, _ in pending]
                chunks.extendleft(reversed(lost))
                pool.shutdown(wait=False, cancel_futures=True)
                if chunks:  # the first chunk not yet taken holds the file, or is innocent
                    _examine_alone(workspace, chunks.popleft(), reading, then)
            except KeyboardInterrupt:
                pool.shutdown(wait=False, cancel_futures=True)
                raise


def _drain(pool: ProcessPoolExecutor, chunks: deque[list[Path]],
           pending: deque[tuple[list[Path], Any]], window: int, reading: Reading,
           then: Callable[[Examined], None]) -> None:
    """Keep `window` chunks in flight, taking results in order; a chunk leaves `pending`
    only once every file of it has been handed to `then`."""
    def top_up(n: int) -> None:
        for _ in range(min(n, len(chunks))):
            fut = pool.submit(reading, chunks[0])
            pending.append((chunks.popleft(), fut))
    top_up(window)
    while pending:
        results = pending[0][1].result()
        pending.popleft()
        for ex in results:
            then(ex)
        top_up(1)


def _examine_alone(workspace: Workspace, paths: list[Path], reading: Reading,
                   then: Callable[[Examined], None]) -> None:
    """Examine each file in a worker of its own; a file that kills its worker is rejected
    with reader-crashed, and the next file gets a fresh worker."""
    todo = deque(paths)
    while todo:
        with _pool(workspace, 1) as pool:
            try:
                while todo:
                    [ex] = pool.submit(reading, [todo[0]]).result()
                    todo.popleft()
                    then(ex)
            except BrokenProcessPool:
                then(reading.crashed(workspace, todo.popleft()))


CHUNK = 16  # files a worker examines per task: few enough to keep results in file order


# ----------------------------------------------------------------------------- content
def _iso(v: Any) -> Any:
    return v.isoformat() if isinstance(v, dt.date) else v


def content_of(read: BookRead) -> Content:
    """What an accepted workbook adds to the ledger, each value with its sheet and cell:
    every row of each table through its kind's extractor (EXTRACTORS)."""
    c = Content(values=[], ratings=[], texts=[], milestones=[], action_updates=[])
    dept = read.spec.department
    for b in read.blocks:
        extract = EXTRACTORS.get(b.spec.kind)
        if extract is None:  # the cover, an agenda: nothing for the ledger's tables
            continue
        for n, row in enumerate(b.rows, start=1):
            extract(c, b, row, n, dept)
    return c


RowExtractor = Callable[[Content, BlockRead, RowRead, int, str], None]
_DIMS = {label: dim for dim, label in FRAMEWORK}


def _trajectory(c: Content, b: BlockRead, row: RowRead, n: int, dept: str) -> None:
    meta = b.spec.meta
    for f in ("actual", "forecast"):
        v = row.get(f)
        if v is not None and row.is_input(f):
            c.values.append((meta["measure"], "", row.key[0], f, v, b.sheet, row.cell(f)))
    if row.get("comment") and row.is_input("comment"):
        c.texts.append((dept, meta.get("priority", ""), "comment", n, row.get("comment"),
                        {"period": row.key[0], "measure": meta["measure"]}, b.sheet,
                        row.cell("comment")))


def _organisations(c: Content, b: BlockRead, row: RowRead, n: int, dept: str) -> None:
    meta = b.spec.meta
    org, period = row.key
    num, den, val = row.get("numerator"), row.get("denominator"), row.get("value")
    for f, v in (("numerator", num), ("denominator", den)):
        if v is not None:
            c.values.append((meta["measure"], org, period, f, v, b.sheet, row.cell(f)))
    if num is not None and den:
        val = round(100.0 * num / den, 6)
    if val is not None:
        cell = row.cell("numerator" if num is not None else "value")
        c.values.append((meta["measure"], org, period, "actual", val, b.sheet, cell))
    if row.get("unavailable"):  # no figure yet, and why: kept, shown as a gap
        c.texts.append((dept, meta.get("priority", ""), "unavailable", n,
                        row.get("unavailable"),
                        {"measure": meta["measure"], "org": org, "period": period},
                        b.sheet, row.cell("unavailable")))


def _self_assessment(c: Content, b: BlockRead, row: RowRead, n: int, dept: str) -> None:
    code, v = row.get("code"), row.get("now")
    if v is None:
        return
    pid = b.spec.meta.get("priority", "")
    if code == "narrative":
        c.texts.append((dept, pid, "narrative", 1, v, {}, b.sheet, row.cell("now")))
    else:
        c.ratings.append((pid, "self", _DIMS.get(row.key[0], code), v, b.sheet,
                          row.cell("now")))


def _milestone(c: Content, b: BlockRead, row: RowRead, n: int, dept: str) -> None:
    c.milestones.append((row.key[0], row.get("status"), _iso(row.get("forecast")),
                         row.get("comment"), b.sheet, row.cell("status")))


def _listed(text_col: str) -> RowExtractor:
    """An issue, risk or ask: the row's text, and its other columns beside it."""
    def extract(c: Content, b: BlockRead, row: RowRead, n: int, dept: str) -> None:
        text = row.get(text_col)
        if not text:
            return
        kind = b.spec.kind
        sub = kind[:-1]
        if kind == BlockKind.ISSUES:
            sub = "decision" if row.get("type") == "Decision sought" else "issue"
        extra = {k: _iso(row.get(k)) for k in row.values if k != text_col}
        c.texts.append((dept, b.spec.meta.get("priority", ""), sub, n, text, extra, b.sheet,
                        row.cell(text_col)))
    return extract


def _action_update(c: Content, b: BlockRead, row: RowRead, n: int, dept: str) -> None:
    if row.get("status"):
        c.action_updates.append((row.key[0], row.get("status"), row.get("update"), b.sheet,
                                 row.cell("status")))


def _unit_assessment(c: Content, b: BlockRead, row: RowRead, n: int, dept: str) -> None:
    for dim, _ in FRAMEWORK:
        v = row.get(f"unit_{dim}")
        if v is not None:
            c.ratings.append((row.key[0], "unit", dim, v, b.sheet, row.cell(f"unit_{dim}")))
    if row.get("narrative"):
        c.texts.append((row.get("department"), row.key[0], "unit_narrative", 1,
                        row.get("narrative"), {}, b.sheet, row.cell("narrative")))


def _department_narrative(c: Content, b: BlockRead, row: RowRead, n: int, dept: str
                          ) -> None:
    if row.get("narrative"):
        c.texts.append((row.key[0], "", "dept_narrative", 1, row.get("narrative"), {},
                        b.sheet, row.cell("narrative")))


def _challenge(c: Content, b: BlockRead, row: RowRead, n: int, dept: str) -> None:
    if row.get("challenge"):
        c.texts.append((row.get("department") or "", row.get("priority") or "", "challenge",
                        row.get("number") or n, row.get("challenge"),
                        {"progress": row.get("progress")}, b.sheet, row.cell("challenge")))


# What each kind of table adds to the ledger, declared once. The meeting record's tables
# are kept by its own step (store_meeting), the revisions by store_revisions.
EXTRACTORS: dict[BlockKind, RowExtractor] = {
    BlockKind.TRAJ: _trajectory,
    BlockKind.ORGS: _organisations,
    BlockKind.ASSESS: _self_assessment,
    BlockKind.MILES: _milestone,
    BlockKind.ISSUES: _listed("text"),
    BlockKind.RISKS: _listed("risk"),
    BlockKind.ASKS: _listed("ask"),
    BlockKind.ACTIONS: _action_update,
    BlockKind.UNIT_ASSESS: _unit_assessment,
    BlockKind.DEPT_NARRATIVE: _department_narrative,
    BlockKind.CHALLENGES: _challenge,
}


# ----------------------------------------------------------------------------- kinds
ExtraCheck = Callable[[BookRead], Iterator[Issue]]
AfterIngest = Callable[[Workspace, BookRead, int], None]


def store_revisions(workspace: Workspace, read: BookRead, submission_id: int) -> None:
    """Keep a return's revisions of earlier months, each with its sheet and cell; the value
    first returned stays where it is."""
    rows = [(submission_id, r.get("measure"), "", f"{r.get('period'):%Y-%m}", r.get("value"),
             r.get("reason"), b.sheet, r.cell("value"))
            for b in read.of_kind("revisions") for r in b.rows
            if r.get("measure") and r.get("period") and r.get("value") is not None]
    if rows:
        workspace.ledger.db.executemany("INSERT INTO revisions VALUES (?,?,?,?,?,?,?,?)", rows)


@dataclass(frozen=True)
class WorkbookKind:
    """One kind of workbook deliverypack issues and reads back: the checks it needs beyond
    its spec's, what runs in the ledger transaction once it is accepted, and how its content
    is extracted for the ledger."""

    name: str
    what: str  # as a person would say it: "a meeting record"
    checks: tuple[ExtraCheck, ...] = ()
    after_ingest: tuple[AfterIngest, ...] = ()
    extract: Callable[[BookRead], Content] = content_of


# Every kind, declared once: ingest, validate and the Excel add-in all read this table.
KINDS: dict[str, WorkbookKind] = {k.name: k for k in (
    WorkbookKind("return", "a department return", after_ingest=(store_revisions,)),
    WorkbookKind("org_return", "an organisation return"),
    WorkbookKind("assessment", "the unit's assessment"),
    WorkbookKind("meeting", "a meeting record", checks=(check_meeting,),
                 after_ingest=(store_meeting,)),
)}


def check_workbook(book: BookValues, spec: WorkbookSpec, reg: Register | None, file: str
                   ) -> tuple[list[Issue], BookRead]:
    """Check one of our own workbooks against its spec and its kind's extra checks."""
    kind = KINDS.get(spec.kind)
    if kind is None:
        raise ValueError(f"{file}: a template of unknown kind {spec.kind!r}")
    return check_book(book, spec, reg, file, extra=list(kind.checks))
