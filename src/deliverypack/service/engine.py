"""The engine behind the service: one thread owns the workspace and its ledger connection.

Every call that reads the register or writes the ledger runs on that thread, one at a
time, exactly as `ingest` would run it (the same `examine` and `keep`), so twenty uploads
at once queue instead of contending for SQLite's single writer.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ..consolidation.views import ReturnStatus, returns_status
from ..ledger.workspace import Workspace
from ..returns.ingest import examine, keep
from ..validation.report import FileReport
from .store import ServiceStore

T = TypeVar("T")

STATES = ("not started", "uploaded with errors", "awaiting sign-off", "signed off")


@dataclass
class Upload:
    """What became of one uploaded file."""

    report: FileReport
    forbidden: bool = False  # another department's return: not kept


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

    @property
    def label(self) -> str:
        return f"{self.state}, late" if self.late else self.state

    def to_json(self) -> dict[str, Any]:
        return {"department": self.department, "name": self.name, "round": self.round,
                "due": self.due.isoformat(), "state": self.state, "late": self.late,
                "attempts": self.attempts, "file": self.file,
                "submission_id": self.submission_id, "signed_off_by": self.signed_off_by,
                "signed_off_at": self.signed_off_at, "problems": self.problems,
                "organisation": self.organisation}


class Engine:
    def __init__(self, root: Path):
        self.root = Path(root)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="deliverypack-engine")
        self.ws: Workspace = self.call(lambda: Workspace.open(self.root))
        self.call(lambda: self.ws.ledger)  # the engine's tables first
        self.store = ServiceStore(self.ws.ledger_path)

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run fn on the engine thread and wait for its answer."""
        return self._pool.submit(fn, *args).result()

    def close(self) -> None:
        def shut() -> None:
            if "ledger" in self.ws.__dict__:
                self.ws.ledger.close()
        self._pool.submit(shut).result()
        self._pool.shutdown(wait=True)

    # ------------------------------------------------------------------ returns
    def upload(self, path: Path, department: str | None) -> Upload:
        """Validate and keep one file exactly as `ingest` does; a return that belongs to
        another department than `department` (None: any) is refused and not kept."""
        def run() -> Upload:
            ex = examine(self.ws, path)
            rep = ex.report
            if department is not None and rep.department and rep.department != department:
                return Upload(rep, forbidden=True)
            return Upload(keep(self.ws, ex))
        return self.call(run)

    def status(self, round_id: str) -> list[ReturnStatus]:
        return self.call(lambda: returns_status(self.ws.register, self.ws.ledger, round_id))

    def parties(self, round_id: str) -> list[tuple[str, str, str]]:
        """Who returns in a round: (id, name, submission kind) for every department with
        priorities and every organisation issued a return of its own."""
        def run() -> list[tuple[str, str, str]]:
            reg = self.ws.register
            out = [(d.id, d.name, "return") for d in reg.departments
                   if reg.priorities_of(d.id)]
            issued = self.ws.ledger.issued_organisations(round_id)
            return out + [(o.id, o.name, "org_return") for o in reg.organisations
                          if o.id in issued]
        return self.call(run)

    def party_name(self, party: str) -> str:
        """A department's or organisation's name, from the register."""
        def run() -> str:
            reg = self.ws.register
            names = {d.id: d.name for d in reg.departments}
            names.update({o.id: o.name for o in reg.organisations})
            return names.get(party, party)
        return self.call(run)

    def is_party(self, party: str | None) -> bool:
        def run() -> bool:
            reg = self.ws.register
            return party in {d.id for d in reg.departments} | {o.id for o in
                                                               reg.organisations}
        return self.call(run)

    def positions(self, round_id: str, department: str | None = None,
                  today: dt.date | None = None) -> list[DeptRound]:
        """Every department's and organisation's state in a round (or one party's)."""
        today = today or dt.date.today()
        rnd = self.call(lambda: self.ws.register.round(round_id))
        rows = []
        for party, name, kind in self.parties(round_id):
            if department is not None and party != department:
                continue
            subs = self.store.all(
                "SELECT s.*, u.submission_id AS web FROM submissions s LEFT JOIN "
                "service_uploads u ON u.submission_id=s.id WHERE s.kind=? AND s.department=? "
                "AND s.round=? ORDER BY s.id", kind, party, round_id)
            current = next((x for x in reversed(subs) if x["status"] == "accepted"
                            and x["superseded_by"] is None), None)
            latest = subs[-1] if subs else None
            sign: Any = self.store.one(
                "SELECT s.at, a.name, a.email FROM service_signoffs s JOIN service_accounts a "
                "ON a.id=s.account_id WHERE s.submission_id=?", current["id"]) \
                if current else None
            if sign is None and current is not None and current["web"] is None and \
                    current["signed_off_by"]:
                # came by e-mail and `ingest`: the sign-off is the one on its cover
                sign = {"at": current["received_at"],
                        "name": f"{current['signed_off_by']} (on the return's cover)"}
            if not subs:
                state = "not started"
            elif current is None:
                state = "uploaded with errors"
            elif sign is None:
                state = "awaiting sign-off"
            else:
                state = "signed off"
            shown = current or latest
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
                organisation=kind == "org_return"))
        return rows

    def template_path(self, round_id: str, party: str) -> Path:
        """The return issued to a department, or to an organisation (organisations/)."""
        own = self.ws.outbox(round_id) / f"{party}-{round_id}.xlsx"
        org = self.ws.outbox(round_id) / "organisations" / f"{party}-{round_id}.xlsx"
        return org if not own.exists() and org.exists() else own

    def copy_feedback(self, rep: FileReport) -> Path | None:
        """Keep this submission's feedback workbook under its own id (a later upload of a
        file with the same name writes ingest's feedback file again)."""
        if rep.feedback is None or rep.submission_id is None:
            return None
        dest = self.ws.feedback(rep.round or "unknown") / "service" / \
            f"{rep.submission_id}.feedback.xlsx"
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_suffix(".partial")
        shutil.copyfile(rep.feedback, tmp)
        tmp.replace(dest)
        return dest
