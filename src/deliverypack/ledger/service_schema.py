"""The service's own tables in the ledger, created when the service opens a workspace.

Kept apart from ledger/schema.py (the engine's migrations): every statement is
CREATE ... IF NOT EXISTS, so applying it again changes nothing, and a ledger without the
service is untouched until the service first opens it.
"""

from __future__ import annotations

import sqlite3

SERVICE_SCHEMA = """
CREATE TABLE IF NOT EXISTS service_accounts (
  id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE COLLATE NOCASE, name TEXT NOT NULL,
  department TEXT, role TEXT NOT NULL CHECK (role IN ('submitter','approver','unit','admin')),
  password_hash TEXT, failed_logins INTEGER NOT NULL DEFAULT 0, locked_until TEXT,
  active INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL);

-- single-use invitation links: only the SHA-256 of the token is kept
CREATE TABLE IF NOT EXISTS service_invitations (
  token_hash TEXT PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES service_accounts(id),
  created_at TEXT NOT NULL, expires_at TEXT NOT NULL, used_at TEXT);

CREATE TABLE IF NOT EXISTS service_sessions (
  id_hash TEXT PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES service_accounts(id),
  csrf TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL, ip TEXT);

CREATE TABLE IF NOT EXISTS service_login_attempts (
  ip TEXT NOT NULL, email TEXT NOT NULL, at REAL NOT NULL, ok INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS service_login_attempts_by_ip ON service_login_attempts (ip, at);

-- API tokens: a department's, or the unit's (department NULL)
CREATE TABLE IF NOT EXISTS service_tokens (
  token_hash TEXT PRIMARY KEY, department TEXT, scope TEXT NOT NULL
  CHECK (scope IN ('department','unit')), created_at TEXT NOT NULL, created_by TEXT,
  revoked_at TEXT);

-- who uploaded which submission, from where (the ledger's submission is the return)
CREATE TABLE IF NOT EXISTS service_uploads (
  submission_id INTEGER NOT NULL REFERENCES submissions(id), account_id INTEGER,
  token_hash TEXT, department TEXT NOT NULL, round TEXT, file_name TEXT NOT NULL,
  feedback_path TEXT, at TEXT NOT NULL, ip TEXT);
CREATE INDEX IF NOT EXISTS service_uploads_by_dept ON service_uploads (department, round);

CREATE TABLE IF NOT EXISTS service_warning_acks (
  submission_id INTEGER NOT NULL REFERENCES submissions(id), issue_no INTEGER NOT NULL,
  comment TEXT NOT NULL, account_id INTEGER NOT NULL, at TEXT NOT NULL,
  PRIMARY KEY (submission_id, issue_no));

-- a return counts as the department's once its approver has signed it off
CREATE TABLE IF NOT EXISTS service_signoffs (
  submission_id INTEGER PRIMARY KEY REFERENCES submissions(id), department TEXT NOT NULL,
  round TEXT NOT NULL, account_id INTEGER NOT NULL, at TEXT NOT NULL, ip TEXT);

-- one row per reminder sent: the key makes `remind` safe to run again
CREATE TABLE IF NOT EXISTS service_reminders (
  department TEXT NOT NULL, round TEXT NOT NULL, kind TEXT NOT NULL, sent_at TEXT NOT NULL,
  recipients TEXT NOT NULL, PRIMARY KEY (department, round, kind));

CREATE TABLE IF NOT EXISTS service_audit (
  id INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
  object TEXT NOT NULL DEFAULT '', ip TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '');
"""


def apply_service_schema(db: sqlite3.Connection) -> None:
    """Create the service's tables if they are not there yet."""
    db.executescript(SERVICE_SCHEMA)
