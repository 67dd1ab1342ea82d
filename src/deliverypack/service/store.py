"""The service's records (accounts, sessions, tokens, uploads, sign-offs, reminders, audit).

Each call opens its own short SQLite connection to the workspace's ledger, so request
threads never share one; the engine's own connection lives on the engine thread.

Every fact a rebuild must bring back (an account, its password, its deactivation, a token
and its revocation, a warning's acknowledgement, the audit log) is first kept in
archive/service/ (ledger/workspace.py), before or in the same step as the ledger commits
it, as returns are journalled: the ledger is never ahead of archive/. Sessions, login
attempts and invitations are not kept: a rebuild signs everyone out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..ledger.service_schema import apply_service_schema
from ..ledger.workspace import append_audit_line, write_service_record

ROLES = ("submitter", "approver", "unit", "admin")
DEPARTMENT_ROLES = ("submitter", "approver")


def now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def token_hash(token: str) -> str:
    """Tokens and session ids are kept only as their SHA-256: a copy of the ledger gives
    nobody a way in."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


class ServiceStore:
    def __init__(self, ledger_path: Path, archive: Path | None = None):
        self.path = Path(ledger_path)
        self.archive = Path(archive) if archive is not None else self.path.parent / "archive"
        with self.connect() as db:
            apply_service_schema(db)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA journal_mode = WAL")
        try:
            yield db
        finally:
            db.close()

    def one(self, sql: str, *args: Any) -> sqlite3.Row | None:
        with self.connect() as db:
            return db.execute(sql, args).fetchone()

    def all(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        with self.connect() as db:
            return db.execute(sql, args).fetchall()

    def run(self, sql: str, *args: Any) -> int:
        """Execute one write; the new row's id."""
        with self.connect() as db:
            cur = db.execute(sql, args)
            return int(cur.lastrowid or 0)

    # ------------------------------------------------------------------ accounts
    def keep(self, kind: str, **body: Any) -> None:
        """Keep one fact in archive/service/ (before the ledger commits it)."""
        write_service_record(self.archive, kind, body)

    def add_account(self, email: str, name: str, department: str | None, role: str,
                    password_hash: str | None = None) -> int:
        """Insert the account and keep its record under the id it got, then commit."""
        row = {"email": email.strip(), "name": name, "department": department, "role": role,
               "password_hash": password_hash, "created_at": now().isoformat()}
        with self.connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                aid = int(db.execute(
                    "INSERT INTO service_accounts (email, name, department, role, "
                    "password_hash, created_at) VALUES (:email,:name,:department,:role,"
                    ":password_hash,:created_at)", row).lastrowid or 0)
                self.keep("account", id=aid, active=1, **row)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return aid

    def account(self, account_id: int) -> sqlite3.Row | None:
        return self.one("SELECT * FROM service_accounts WHERE id=? AND active=1", account_id)

    def account_by_email(self, email: str) -> sqlite3.Row | None:
        return self.one("SELECT * FROM service_accounts WHERE email=? AND active=1",
                        email.strip())

    def accounts(self, department: str | None = None, roles: tuple[str, ...] = ROLES
                 ) -> list[sqlite3.Row]:
        marks = ",".join("?" * len(roles))
        if department is None:
            return self.all(f"SELECT * FROM service_accounts WHERE role IN ({marks}) "
                            "ORDER BY role, email", *roles)
        return self.all(f"SELECT * FROM service_accounts WHERE department=? AND active=1 AND "
                        f"role IN ({marks}) ORDER BY email", department, *roles)

    def any_account_by_email(self, email: str) -> sqlite3.Row | None:
        """The account for an address, active or deactivated."""
        return self.one("SELECT * FROM service_accounts WHERE email=?", email.strip())

    def deactivate(self, account_id: int) -> int:
        """Deactivate an account in one transaction: it can no longer sign in, its sessions
        end and its unused invitations are spent. The number of sessions ended."""
        with self.connect() as db:
            db.execute("BEGIN IMMEDIATE")
            email = db.execute("SELECT email FROM service_accounts WHERE id=?",
                               (account_id,)).fetchone()
            self.keep("deactivation", account_id=account_id,
                      email=email[0] if email else None, at=now().isoformat())
            db.execute("UPDATE service_accounts SET active=0 WHERE id=?", (account_id,))
            ended = db.execute("DELETE FROM service_sessions WHERE account_id=?",
                               (account_id,)).rowcount
            db.execute("UPDATE service_invitations SET used_at=? WHERE account_id=? AND "
                       "used_at IS NULL", (now().isoformat(), account_id))
            db.execute("COMMIT")
            return int(ended)

    def invite(self, account_id: int, hours: int) -> str:
        token = new_token()
        t = now()
        self.run("INSERT INTO service_invitations VALUES (?,?,?,?,NULL)", token_hash(token),
                 account_id, t.isoformat(), (t + dt.timedelta(hours=hours)).isoformat())
        return token

    def invitation(self, token: str) -> sqlite3.Row | None:
        """An unused, unexpired invitation, or None."""
        return self.one("SELECT * FROM service_invitations WHERE token_hash=? AND used_at IS "
                        "NULL AND expires_at > ?", token_hash(token), now().isoformat())

    def accept_invitation(self, token: str, password_hash: str) -> int | None:
        """Set the password and spend the invitation in one transaction (single use)."""
        with self.connect() as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT account_id FROM service_invitations WHERE token_hash=? "
                             "AND used_at IS NULL AND expires_at > ?", (token_hash(token),
                                                                       now().isoformat())
                             ).fetchone()
            if row is None:
                db.execute("ROLLBACK")
                return None
            email = db.execute("SELECT email FROM service_accounts WHERE id=?",
                               (row[0],)).fetchone()
            self.keep("password", account_id=int(row[0]), email=email[0] if email else None,
                      password_hash=password_hash, at=now().isoformat())
            db.execute("UPDATE service_invitations SET used_at=? WHERE token_hash=?",
                       (now().isoformat(), token_hash(token)))
            db.execute("UPDATE service_accounts SET password_hash=?, failed_logins=0, "
                       "locked_until=NULL WHERE id=?", (password_hash, row[0]))
            db.execute("COMMIT")
            return int(row[0])

    # ------------------------------------------------------------------ sessions
    def new_session(self, account_id: int, hours: int, ip: str) -> tuple[str, str]:
        """A fresh session id and its CSRF token (never one the browser brought)."""
        sid, csrf = new_token(), new_token()
        t = now()
        self.run("INSERT INTO service_sessions VALUES (?,?,?,?,?,?)", token_hash(sid),
                 account_id, csrf, t.isoformat(),
                 (t + dt.timedelta(hours=hours)).isoformat(), ip)
        return sid, csrf

    def session(self, sid: str) -> sqlite3.Row | None:
        return self.one("SELECT s.csrf, s.expires_at, a.* FROM service_sessions s JOIN "
                        "service_accounts a ON a.id = s.account_id WHERE s.id_hash=? AND "
                        "s.expires_at > ? AND a.active=1", token_hash(sid), now().isoformat())

    def end_session(self, sid: str) -> None:
        self.run("DELETE FROM service_sessions WHERE id_hash=?", token_hash(sid))

    # ------------------------------------------------------------------ login throttling
    def note_attempt(self, ip: str, email: str, ok: bool) -> None:
        self.run("INSERT INTO service_login_attempts VALUES (?,?,?,?)", ip, email.lower(),
                 time.time(), int(ok))

    def recent_failures_from(self, ip: str, seconds: float) -> int:
        row = self.one("SELECT COUNT(*) FROM service_login_attempts WHERE ip=? AND ok=0 AND "
                       "at > ?", ip, time.time() - seconds)
        return int(row[0]) if row else 0

    # ------------------------------------------------------------------ API tokens
    def add_token(self, department: str | None, created_by: str) -> str:
        token = new_token()
        row = (token_hash(token), department, "unit" if department is None else "department",
               now().isoformat(), created_by)
        self.keep("token", token_hash=row[0], department=row[1], scope=row[2],
                  created_at=row[3], created_by=row[4])
        self.run("INSERT INTO service_tokens VALUES (?,?,?,?,?,NULL)", *row)
        return token

    def revoke_token(self, hashed: str) -> bool:
        """Revoke a token (by its hash) for good; whether it was live."""
        if self.one("SELECT 1 FROM service_tokens WHERE token_hash=? AND revoked_at IS NULL",
                    hashed) is None:
            return False
        at = now().isoformat()
        self.keep("token revoked", token_hash=hashed, at=at)
        self.run("UPDATE service_tokens SET revoked_at=? WHERE token_hash=?", at, hashed)
        return True

    # ------------------------------------------------------------------ warnings
    def acknowledge(self, sub: sqlite3.Row, issue_no: int, comment: str,
                    account_id: int) -> None:
        """Keep a warning's acknowledgement by the file's SHA-256 and the warning's place
        among the file's issues (ids change on a rebuild), then record it."""
        nos = [r[0] for r in self.all("SELECT rowid FROM issues WHERE submission_id=? "
                                      "ORDER BY rowid", sub["id"])]
        at = now().isoformat()
        self.keep("warning acknowledged", sha256=sub["sha256"], archived=sub["archive_path"],
                  issue_no=issue_no, place=nos.index(issue_no) if issue_no in nos else None,
                  comment=comment, account_id=account_id, at=at)
        self.run("INSERT OR REPLACE INTO service_warning_acks VALUES (?,?,?,?,?)",
                 sub["id"], issue_no, comment, account_id, at)

    def token(self, token: str) -> sqlite3.Row | None:
        return self.one("SELECT * FROM service_tokens WHERE token_hash=? AND revoked_at IS "
                        "NULL", token_hash(token))

    # ------------------------------------------------------------------ audit
    def audit(self, actor: str, action: str, obj: str = "", ip: str = "",
              detail: str = "") -> None:
        """Append the row to archive/service/audit.jsonl (flushed), then to the ledger."""
        row = {"at": now().isoformat(), "actor": actor, "action": action, "object": obj,
               "ip": ip, "detail": detail}
        append_audit_line(self.archive, row)
        self.run("INSERT INTO service_audit (at, actor, action, object, ip, detail) "
                 "VALUES (?,?,?,?,?,?)", *row.values())

    def audit_log(self, limit: int = 500) -> list[sqlite3.Row]:
        return self.all("SELECT * FROM service_audit ORDER BY id DESC LIMIT ?", limit)
