"""Passwords, sessions, CSRF, login throttling and safe redirects."""

from __future__ import annotations

import datetime as dt
import hmac
import sqlite3
from dataclasses import dataclass
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .store import ServiceStore, now

HASHER = PasswordHasher()  # argon2-cffi's default type is Argon2id
MIN_PASSWORD = 12
MAX_FAILURES = 5  # failed logins before an account is locked
LOCK_MINUTES = 15
IP_WINDOW_SECONDS = 300
IP_MAX_FAILURES = 20  # failed logins from one address in the window before it must wait


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"a password of at least {MIN_PASSWORD} characters"
    return None


@dataclass
class LoginResult:
    account: sqlite3.Row | None
    message: str = ""


def check_login(store: ServiceStore, email: str, password: str, ip: str) -> LoginResult:
    """The account if the password is right and neither it nor the address is held back.

    Every answer but success reads the same, so the page does not tell which e-mail
    addresses have accounts."""
    wrong = "That e-mail address and password do not match an account."
    if store.recent_failures_from(ip, IP_WINDOW_SECONDS) >= IP_MAX_FAILURES:
        return LoginResult(None, "Too many failed attempts from this address: wait a few "
                                 "minutes and try again.")
    acc = store.account_by_email(email)
    if acc is None or not acc["password_hash"]:
        HASHER.hash(password)  # spend the same time as a real check
        store.note_attempt(ip, email, False)
        return LoginResult(None, wrong)
    if acc["locked_until"] and acc["locked_until"] > now().isoformat():
        store.note_attempt(ip, email, False)
        return LoginResult(None, "This account is locked after repeated failed attempts; "
                                 f"try again after {acc['locked_until'][11:16]}.")
    try:
        HASHER.verify(acc["password_hash"], password)
    except (VerificationError, InvalidHashError):
        failures = acc["failed_logins"] + 1
        locked = (now() + dt.timedelta(minutes=LOCK_MINUTES)).isoformat() \
            if failures >= MAX_FAILURES else None
        store.run("UPDATE service_accounts SET failed_logins=?, locked_until=? WHERE id=?",
                  0 if locked else failures, locked, acc["id"])
        store.note_attempt(ip, email, False)
        return LoginResult(None, wrong)
    if HASHER.check_needs_rehash(acc["password_hash"]):
        store.run("UPDATE service_accounts SET password_hash=? WHERE id=?",
                  HASHER.hash(password), acc["id"])
    store.run("UPDATE service_accounts SET failed_logins=0, locked_until=NULL WHERE id=?",
              acc["id"])
    store.note_attempt(ip, email, True)
    return LoginResult(acc)


def same_token(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path on this site: never another host (`//evil`, `https://evil`, `/\\evil`)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or any(ord(c) < 32 for c in target):
        return default
    return target
