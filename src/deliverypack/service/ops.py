"""Account, token and reminder operations shared by the CLI and the web pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..foundation.errors import UsageError
from .engine import Engine
from .mail import Mailer, MailError, MailSettings, invitation_text, reminder_text
from .store import DEPARTMENT_ROLES, ROLES, ServiceStore

INVITE_HOURS = 72


def service_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The [service] table of deliverypack.toml, with its defaults."""
    s = dict(settings.get("service", {}))
    s.setdefault("base_url", "http://127.0.0.1:8000")
    s.setdefault("remind_days_before", 5)
    s.setdefault("remind_overdue_days", 30)
    return s


def mailer_for(engine: Engine) -> Mailer:
    return Mailer(MailSettings.from_settings(engine.workspace.settings), engine.workspace.programme)


@dataclass
class NewAccount:
    account_id: int
    link: str | None  # the invitation, unless a password was set directly
    mailed: bool = False


def add_user(engine: Engine, email: str, name: str, department: str | None, role: str, *,
             password: str | None = None, actor: str = "cli", ip: str = "") -> NewAccount:
    """Create an account; an invitation link unless a password is given."""
    from .auth import hash_password, password_problem

    store = engine.store
    if role not in ROLES:
        raise UsageError(f"--role: expected one of {', '.join(ROLES)}, found {role!r}")
    if "@" not in email or len(email) > 254 or any(c.isspace() for c in email.strip()):
        raise UsageError(f"expected an e-mail address, found {email!r}")
    if role in DEPARTMENT_ROLES:
        if not engine.is_party(department):
            known = engine.call(lambda: [d.id for d in engine.workspace.register.departments])
            raise UsageError(f"--department: a {role} belongs to a department of the "
                             f"register ({', '.join(known)}) or to an organisation that "
                             f"returns its own figures; found {department!r}")
    else:
        department = None
    existing = store.any_account_by_email(email)
    if existing is not None:
        raise UsageError(f"there is already an account for {email}" + (
            "" if existing["active"] else " (deactivated; its record stays in the audit log)"))
    if password is not None and (problem := password_problem(password)):
        raise UsageError(f"expected {problem}")
    aid = store.add_account(email, name, department, role,
                            hash_password(password) if password is not None else None)
    store.audit(actor, "account created", email, ip, f"role {role}, department "
                f"{department or '-'}")
    if password is not None:
        return NewAccount(aid, None)
    token = store.invite(aid, INVITE_HOURS)
    link = f"{service_settings(engine.workspace.settings)['base_url'].rstrip('/')}/invite/{token}"
    try:
        mailed = mailer_for(engine).send([email], "Your account on the collection service",
                                         invitation_text(name, role, link, INVITE_HOURS))
    except MailError as exc:  # the link is printed all the same
        store.audit(actor, "invitation mail failed", email, ip, str(exc))
        mailed = False
    store.audit(actor, "invitation sent" if mailed else "invitation made", email, ip)
    return NewAccount(aid, link, mailed)


def deactivate_user(engine: Engine, email: str, *, actor: str = "cli", ip: str = "") -> int:
    """Deactivate the account for `email`: it cannot sign in, its sessions end at once and
    its invitations stop working. The account and everything it did stay in the ledger and
    the audit log. The number of sessions ended."""
    store = engine.store
    acc = store.any_account_by_email(email)
    if acc is None:
        raise UsageError(f"there is no account for {email}")
    if not acc["active"]:
        raise UsageError(f"the account for {acc['email']} is already deactivated")
    ended = store.deactivate(acc["id"])
    store.audit(actor, "account deactivated", acc["email"], ip,
                f"role {acc['role']}, department {acc['department'] or '-'}; "
                f"{ended} session(s) ended")
    return ended


def create_token(engine: Engine, department: str | None, *, actor: str = "cli") -> str:
    """A bearer token for the JSON API: a department's, or the unit's (None)."""
    if department is not None and not engine.is_party(department):
        known = engine.call(lambda: [d.id for d in engine.workspace.register.departments])
        raise UsageError(f"--department: expected a department ({', '.join(known)}) or an "
                         f"organisation of the register, found {department!r}")
    token = engine.store.add_token(department, actor)
    engine.store.audit(actor, "API token created", department or "unit")
    return token


def revoke_token(engine: Engine, token: str, *, actor: str = "cli") -> None:
    """Revoke an API token for good (kept in archive/service/, so a rebuild keeps it so)."""
    from .store import token_hash

    row = engine.store.one("SELECT * FROM service_tokens WHERE token_hash=?",
                           token_hash(token.strip()))
    if row is None:
        raise UsageError("there is no such API token")
    if not engine.store.revoke_token(row["token_hash"]):
        raise UsageError("that API token is already revoked")
    engine.store.audit(actor, "API token revoked", row["department"] or "unit")


def recipients(store: ServiceStore, department: str) -> list[str]:
    return [a["email"] for a in store.accounts(department, ("submitter", "approver"))]


@dataclass
class Reminder:
    department: str
    round: str
    kind: str
    recipients: list[str]
    sent: bool


def remind(engine: Engine, *, round_id: str | None = None, today: dt.date | None = None,
           department: str | None = None, actor: str = "cli", ip: str = ""
           ) -> list[Reminder]:
    """Remind departments whose return is not signed off: `remind_days_before` days before
    the due date and once overdue, each at most once (safe to run from cron). With
    `department` it is the unit's one-click reminder, sent whenever asked."""
    today = today or dt.date.today()
    cfg = service_settings(engine.workspace.settings)
    before, window = int(cfg["remind_days_before"]), int(cfg["remind_overdue_days"])
    rounds = engine.call(lambda: list(engine.workspace.register.rounds))
    if round_id is not None:
        rounds = [r for r in rounds if r.id == round_id]
        if not rounds:
            raise UsageError(f"unknown round {round_id!r}")
    elif department is None:  # cron: only rounds around their due date
        rounds = [r for r in rounds
                  if r.due - dt.timedelta(days=before) <= today <= r.due + dt.timedelta(
                      days=window)]
    mailer, store, out = mailer_for(engine), engine.store, []
    base = cfg["base_url"].rstrip("/")
    for rnd in rounds:
        for pos in engine.positions(rnd.id, department, today=today):
            if pos.state == "signed off":
                continue
            overdue = today > rnd.due
            if department is not None:
                kind = f"manual {dt.datetime.now().isoformat(timespec='seconds')}"
            elif overdue:
                kind = "overdue"
            elif today >= rnd.due - dt.timedelta(days=before):
                kind = "due soon"
            else:
                continue
            to = recipients(store, pos.department)
            with store.connect() as db:  # claim it first: two runs at once send it once
                claimed = db.execute(
                    "INSERT OR IGNORE INTO service_reminders VALUES (?,?,?,?,?)",
                    (pos.department, rnd.id, kind, dt.datetime.now().isoformat(
                        timespec="seconds"), ", ".join(to))).rowcount
            if not claimed:
                continue
            subject, body = reminder_text(pos.name, rnd.label, rnd.due.isoformat(),
                                          pos.label, overdue, f"{base}/returns")
            try:
                sent = mailer.send(to, subject, body)
            except MailError:
                store.run("DELETE FROM service_reminders WHERE department=? AND round=? AND "
                          "kind=?", pos.department, rnd.id, kind)
                raise
            store.audit(actor, f"reminder ({kind.split(' ')[0]})",
                        f"{pos.department} {rnd.id}", ip,
                        f"to {', '.join(to) or 'nobody (no accounts)'}"
                        + ("" if sent else "; mail not configured"))
            out.append(Reminder(pos.department, rnd.id, kind, to, sent))
    return out
