"""A service upload is journalled as one before its ledger row exists.

The engine puts who uploaded the file (account or token, department, time, address) into
the file's journal record (archive/<sha>.xlsx.journal.json), which is written before the
ledger records the file; the submission and its service_uploads row are then committed in
one transaction. A file archived but never recorded (a kill, a full disk) is replayed by
`reconcile` from its journal as what it was, a service upload awaiting sign-off, never as
an e-mailed return that counts.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

from ..ledger.service_schema import apply_service_schema
from ..ledger.workspace import Workspace
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
