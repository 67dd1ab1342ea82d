"""A service upload is journalled as one before its ledger row exists.

The engine puts who uploaded the file (account or token, department, time, address) into
the file's journal record (archive/<sha>.xlsx.journal.json), which is written before the
ledger records the file; the submission and its service_uploads row are then committed in
one transaction. A file archived but never recorded (a kill, a full disk) is replayed by
`reconcile` from its journal as what it was, a service upload awaiting sign-off, never as
an e-mailed return that counts.

The service's other facts (accounts, tokens, warnings acknowledged, sign-offs, the audit
log) are kept in archive/service/ as they happen; `rebuild` brings them back here, among the
returns' journals in the order they happened, finding each return by its SHA-256 (its
submission id changes on a rebuild).
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

from ..ledger.service_schema import apply_service_schema
from ..ledger.workspace import Workspace, audit_lines
from ..validation.report import FileReport

KEY = "service_upload"  # the journal record's field


def held_actions(db: sqlite3.Connection) -> dict[str, tuple[str, str]]:
    """Every action's status before a service upload: its updates wait for sign-off."""
    return {r[0]: (r[1], r[2]) for r in db.execute(
        "SELECT id, status, updated_at FROM actions").fetchall()}


def keep_feedback(workspace: Workspace, rep: FileReport) -> Path | None:
    """Keep this submission's feedback workbook under its own id (a later upload of a
    file with the same name writes ingest's feedback file again)."""
    if rep.feedback is None or rep.submission_id is None:
        return None
    dest = workspace.feedback(rep.round or "unknown") / "service" / \
        f"{rep.submission_id}.feedback.xlsx"
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".partial")
    shutil.copyfile(rep.feedback, tmp)
    tmp.replace(dest)
    return dest


def record_upload(workspace: Workspace, db: sqlite3.Connection, rep: FileReport,
                  fact: dict[str, Any], feedback: Path | None,
                  held: dict[str, tuple[str, str]]) -> None:
    """The service_uploads row for a kept submission, and its action updates held back."""
    db.execute("INSERT INTO service_uploads VALUES (?,?,?,?,?,?,?,?,?)", (
        rep.submission_id, fact.get("account_id"), fact.get("token_hash"),
        rep.department or fact.get("department") or "", rep.round or None, rep.file,
        str(feedback.relative_to(workspace.root)) if feedback else None, fact["at"],
        fact.get("ip") or ""))
    touched = {r[0] for r in db.execute(
        "SELECT action_id FROM action_updates WHERE submission_id=?", (rep.submission_id,))}
    for aid in touched & set(held):
        db.execute("UPDATE actions SET status=?, updated_at=? WHERE id=?", (*held[aid], aid))


def replay_upload(workspace: Workspace, record: dict[str, Any], rep: FileReport,
                  held: dict[str, tuple[str, str]]) -> None:
    """Record a replayed file as the service upload its journal says it was."""
    if rep.submission_id is None or rep.duplicate:
        return
    led = workspace.ledger
    if not led.query("SELECT 1 FROM sqlite_master WHERE name='service_uploads'"):
        apply_service_schema(led.db)
    if led.query("SELECT 1 FROM service_uploads WHERE submission_id=?", rep.submission_id):
        return
    fb = keep_feedback(workspace, rep)
    with led.transaction() as db:
        record_upload(workspace, db, rep, record[KEY], fb, held)


def record_signoff(db: sqlite3.Connection, submission_id: int, department: str,
                   round_id: str, account_id: int, at: str, ip: str) -> None:
    """The approver's sign-off and, in the same transaction, the return's action updates
    let through (held back since its upload)."""
    db.execute("INSERT OR IGNORE INTO service_signoffs VALUES (?,?,?,?,?,?)",
               (submission_id, department, round_id, account_id, at, ip))
    for u in db.execute("SELECT action_id, status, at FROM action_updates WHERE "
                        "submission_id=? ORDER BY id", (submission_id,)).fetchall():
        db.execute("UPDATE actions SET status=?, updated_at=? WHERE id=?", (u[1], u[2], u[0]))


def _submission(db: sqlite3.Connection, rec: dict[str, Any]) -> int | None:
    row = db.execute("SELECT id FROM submissions WHERE sha256=? ORDER BY id DESC",
                     (rec.get("sha256"),)).fetchone()
    return int(row[0]) if row else None


def restore_service_record(workspace: Workspace, rec: dict[str, Any]) -> None:
    """Recreate one kept service fact in the ledger being rebuilt."""
    led = workspace.ledger
    apply_service_schema(led.db)
    kind = rec["kind"]
    with led.transaction() as db:
        if kind == "account":
            taken = db.execute("SELECT 1 FROM service_accounts WHERE id=?",
                               (rec["id"],)).fetchone()
            if db.execute("SELECT 1 FROM service_accounts WHERE email=?",
                          (rec["email"],)).fetchone():
                return  # kept, then its commit lost, then made again: the later stands
            db.execute("INSERT INTO service_accounts (id, email, name, department, role, "
                       "password_hash, active, created_at) VALUES (?,?,?,?,?,?,?,?)",
                       (None if taken else rec["id"], rec["email"], rec["name"],
                        rec.get("department"), rec["role"], rec.get("password_hash"),
                        int(rec.get("active", 1)), rec["created_at"]))
        elif kind == "password":
            db.execute("UPDATE service_accounts SET password_hash=? WHERE email=?",
                       (rec["password_hash"], rec["email"]))
        elif kind == "deactivation":
            db.execute("UPDATE service_accounts SET active=0 WHERE email=?", (rec["email"],))
        elif kind == "token":
            db.execute("INSERT OR IGNORE INTO service_tokens VALUES (?,?,?,?,?,NULL)",
                       (rec["token_hash"], rec.get("department"), rec["scope"],
                        rec["created_at"], rec.get("created_by")))
        elif kind == "token revoked":
            db.execute("UPDATE service_tokens SET revoked_at=? WHERE token_hash=?",
                       (rec["at"], rec["token_hash"]))
        elif kind == "warning acknowledged":
            sid = _submission(db, rec)
            nos = [r[0] for r in db.execute("SELECT rowid FROM issues WHERE submission_id=? "
                                            "ORDER BY rowid", (sid,))]
            place = rec.get("place")
            if sid is not None and isinstance(place, int) and 0 <= place < len(nos):
                db.execute("INSERT OR REPLACE INTO service_warning_acks VALUES (?,?,?,?,?)",
                           (sid, nos[place], rec["comment"], rec["account_id"], rec["at"]))
        elif kind == "signoff":
            sid = _submission(db, rec)
            if sid is not None:
                record_signoff(db, sid, rec["department"], rec["round"], rec["account_id"],
                               rec["at"], rec.get("ip") or "")


def restore_audit(workspace: Workspace) -> int:
    """Put the kept audit log back in the ledger being rebuilt; the rows restored."""
    rows, _ = audit_lines(workspace)
    if not rows:
        return 0
    led = workspace.ledger
    apply_service_schema(led.db)
    with led.transaction() as db:
        db.executemany("INSERT INTO service_audit (at, actor, action, object, ip, detail) "
                       "VALUES (?,?,?,?,?,?)", [
                           (r.get("at", ""), r.get("actor", ""), r.get("action", ""),
                            r.get("object", ""), r.get("ip", ""), r.get("detail", ""))
                           for r in rows])
    return len(rows)
