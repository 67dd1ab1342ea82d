"""The engine behind the service: one thread owns the workspace and its ledger connection.

Every call that reads the register or writes the ledger runs on that thread, one at a
time, exactly as `ingest` would run it (the same `examine` and `keep`), so twenty uploads
at once queue instead of contending for SQLite's single writer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ..consolidation.coverage import collection_json
from ..consolidation.views import ReturnStatus, returns_status
from ..ledger.signoff import awaiting_signoff, counting, pending
from ..ledger.workspace import Workspace
from ..returns.ingest import examine, keep, reconcile
from ..returns.uploads import KEY, held_actions, keep_feedback, record_signoff, record_upload
from ..validation.report import FileReport
from .store import ServiceStore

T = TypeVar("T")

STATES = ("not started", "uploaded with errors", "awaiting sign-off", "signed off")


@dataclass
class Upload:
    """What became of one uploaded file."""

    report: FileReport
    forbidden: bool = False  # another department's return: not kept
    feedback: Path | None = None  # this submission's own copy of its feedback workbook


@dataclass
class Uploader:
    """Who sent a file to the service: an account, or an API token; from where."""

    department: str  # the account's or token's ('' for the unit's token)
    account_id: int | None = None
    token_hash: str | None = None
    ip: str = ""


@dataclass
class DeptRound:
    """A department's position in a round, as the service sees it: a return counts once
    its approver has signed it off."""

    department: str
    name: str
    round: str
    due: dt.date
    state: str
    late: bool
    attempts: int = 0
    file: str = ""
    submission_id: int | None = None
    uploaded_by: str = ""
    signed_off_by: str = ""
    signed_off_at: str = ""
    problems: list[str] = field(default_factory=list)
    organisation: bool = False  # an organisation's own return (a trust's, a school's)
    counting_file: str = ""  # the signed-off return that counts (while a later one waits)
    counting_id: int | None = None

    @property
    def label(self) -> str:
        return f"{self.state}, late" if self.late else self.state

    def to_json(self) -> dict[str, Any]:
        return {"department": self.department, "name": self.name, "round": self.round,
                "due": self.due.isoformat(), "state": self.state, "late": self.late,
                "attempts": self.attempts, "file": self.file,
                "submission_id": self.submission_id, "signed_off_by": self.signed_off_by,
                "signed_off_at": self.signed_off_at, "problems": self.problems,
                "organisation": self.organisation, "counting_file": self.counting_file}


class Engine:
    def __init__(self, root: Path):
        self.root = Path(root)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="deliverypack-engine")
        self.workspace: Workspace = self.call(lambda: Workspace.open(self.root))
        self.call(lambda: self.workspace.ledger)  # the engine's tables first
        self.store = ServiceStore(self.workspace.ledger_path, self.workspace.archive)
        # uploads archived but never recorded (a kill between): recorded from their journal
        self.call(lambda: reconcile(self.workspace))

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run fn on the engine thread and wait for its answer."""
        return self._pool.submit(fn, *args).result()

    def close(self) -> None:
        def shut() -> None:
            if "ledger" in self.workspace.__dict__:
                self.workspace.ledger.close()
        self._pool.submit(shut).result()
        self._pool.shutdown(wait=True)

    # ------------------------------------------------------------------ returns
    def upload(self, path: Path, department: str | None, who: Uploader | None = None
               ) -> Upload:
        """Validate and keep one file exactly as `ingest` does; a return that belongs to
        another department than `department` (None: any) is refused and not kept.

        The upload is recorded as the service's in the same engine step, so no paper built
        meanwhile takes it for an e-mailed return; and the action updates it carries are
        held back (the actions keep their statuses) until it is signed off."""
        def run() -> Upload:
            ex = examine(self.workspace, path)
            rep = ex.report
            if department is not None and rep.department and rep.department != department:
                return Upload(rep, forbidden=True)
            led = self.workspace.ledger
            held = held_actions(led.db)
            fact = None
            if who is not None:  # journalled before the ledger row exists
                fact = {"account_id": who.account_id, "token_hash": who.token_hash,
                        "department": who.department, "ip": who.ip,
                        "at": dt.datetime.now().replace(microsecond=0).isoformat()}
                ex.options[KEY] = fact  # type: ignore[assignment]
            with led.atomic():  # the submission and its upload record, or neither
                rep = keep(self.workspace, ex)
                fb = keep_feedback(self.workspace, rep)
                if fact is not None and rep.submission_id is not None and not rep.duplicate:
                    with led.transaction() as db:
                        record_upload(self.workspace, db, rep, fact, fb, held)
            return Upload(rep, feedback=fb)
        return self.call(run)

    def sign_off(self, submission_id: int, department: str, round_id: str, account_id: int,
                 ip: str) -> None:
        """Keep the approver's sign-off in archive/service/, then record it and, in the same
        transaction, let the return's action updates through (held back since its upload)."""
        def run() -> None:
            led = self.workspace.ledger
            at = dt.datetime.now().replace(microsecond=0).isoformat()
            sub = led.query("SELECT sha256, archive_path FROM submissions WHERE id=?",
                            submission_id)
            if sub:  # kept by the file's hash first: ids change on a rebuild
                self.store.keep("signoff", sha256=sub[0]["sha256"],
                                archived=sub[0]["archive_path"], department=department,
                                round=round_id, account_id=account_id, at=at, ip=ip)
            with led.transaction() as db:
                record_signoff(db, submission_id, department, round_id, account_id, at, ip)
        self.call(run)

    def status(self, round_id: str) -> list[ReturnStatus]:
        return self.call(lambda: returns_status(self.workspace.register, self.workspace.ledger,
                                                round_id))

    def collection(self, round_id: str, party: str | None = None) -> dict[str, Any]:
        """Organisations' returns and coverage as `status --json` gives them; for one
        department, its own organisations and measures; for one organisation, its return."""
        def run() -> dict[str, Any]:
            reg = self.workspace.register
            out = collection_json(reg, self.workspace.ledger, round_id)
            if party is not None:
                out["returns"] = [o for o in out["returns"]
                                  if party in (o["organisation"], o["department"])]
                out["coverage"] = [c for c in out["coverage"]
                                   if reg.department_of_measure(c["measure"]) == party]
            return out
        return self.call(run)

    def parties(self, round_id: str) -> list[tuple[str, str, str]]:
        """Who returns in a round: (id, name, submission kind) for every department with
        priorities and every organisation issued a return of its own."""
        def run() -> list[tuple[str, str, str]]:
            reg = self.workspace.register
            out = [(d.id, d.name, "return") for d in reg.departments
                   if reg.priorities_of(d.id)]
            issued = self.workspace.ledger.issued_organisations(round_id)
            return out + [(o.id, o.name, "org_return") for o in reg.organisations
                          if o.id in issued]
        return self.call(run)

    def party_name(self, party: str) -> str:
        """A department's or organisation's name, from the register."""
        def run() -> str:
            reg = self.workspace.register
            names = {d.id: d.name for d in reg.departments}
            names.update({o.id: o.name for o in reg.organisations})
            return names.get(party, party)
        return self.call(run)

    def is_party(self, party: str | None) -> bool:
        def run() -> bool:
            reg = self.workspace.register
            return party in {d.id for d in reg.departments} | {o.id for o in
                                                               reg.organisations}
        return self.call(run)

    def positions(self, round_id: str, department: str | None = None,
                  today: dt.date | None = None) -> list[DeptRound]:
        """Every department's and organisation's state in a round (or one party's)."""
        today = today or dt.date.today()
        rnd = self.call(lambda: self.workspace.register.round(round_id))
        with self.store.connect() as db:
            awaiting = awaiting_signoff(db)
        rows = []
        for party, name, kind in self.parties(round_id):
            if department is not None and party != department:
                continue
            subs = self.store.all(
                "SELECT s.*, u.submission_id AS web FROM submissions s LEFT JOIN "
                "service_uploads u ON u.submission_id=s.id WHERE s.kind=? AND s.department=? "
                "AND s.round=? ORDER BY s.id", kind, party, round_id)
            waiting, counted = pending(subs, awaiting), counting(subs, awaiting)
            latest = subs[-1] if subs else None
            sign: Any = self.store.one(
                "SELECT s.at, a.name, a.email FROM service_signoffs s JOIN service_accounts a "
                "ON a.id=s.account_id WHERE s.submission_id=?", counted["id"]) \
                if counted else None
            if sign is None and counted is not None:
                # came by e-mail and `ingest`: the sign-off is the one on its cover
                sign = {"at": counted["received_at"],
                        "name": f"{counted['signed_off_by'] or 'not named'} (on the return's "
                                "cover)"}
            if not subs:
                state = "not started"
            elif waiting is not None:
                state = "awaiting sign-off"
            elif counted is not None:
                state = "signed off"
            else:
                state = "uploaded with errors"
            shown = waiting or counted or latest
            up = self.store.one(
                "SELECT a.name FROM service_uploads u JOIN service_accounts a ON "
                "a.id=u.account_id WHERE u.submission_id=?", shown["id"]) if shown else None
            problems = [] if latest is None or latest["status"] == "accepted" else [
                f"Sheet '{i['sheet']}', cell {i['cell']}: {i['message']}" if i["cell"]
                else i["message"] for i in self.store.all(
                    "SELECT * FROM issues WHERE submission_id=? AND severity='error'",
                    latest["id"])]
            late = (sign is None and today > rnd.due) or bool(
                sign is not None and sign["at"][:10] > rnd.due.isoformat())
            rows.append(DeptRound(
                department=party, name=name, round=round_id, due=rnd.due, state=state,
                late=late, attempts=len(subs), file=shown["file_name"] if shown else "",
                submission_id=shown["id"] if shown else None,
                uploaded_by=up["name"] if up else "",
                signed_off_by=sign["name"] if sign else "",
                signed_off_at=sign["at"] if sign else "", problems=problems,
                organisation=kind == "org_return",
                counting_file=counted["file_name"] if counted else "",
                counting_id=counted["id"] if counted else None))
        return rows

    def template_path(self, round_id: str, party: str) -> Path:
        """The return issued to a department, or to an organisation (organisations/)."""
        own = self.workspace.outbox(round_id) / f"{party}-{round_id}.xlsx"
        org = self.workspace.outbox(round_id) / "organisations" / f"{party}-{round_id}.xlsx"
        return org if not own.exists() and org.exists() else own

    def copy_feedback(self, rep: FileReport) -> Path | None:
        return keep_feedback(self.workspace, rep)
