"""Which submission counts for a department's (or organisation's) round: the latest accepted
one that is signed off.

A return e-mailed to the unit and read by `ingest` carries its sign-off on its cover (the
SRO's name and the date are required there), so it counts once accepted, as it always has.
A return uploaded to the collection service, through its pages or its API, counts only once
the department's approver has signed it off on the service (a service_signoffs row); until
then the last signed-off return counts, if there is one, and `status`, the returns log and
the service's dashboard say what is awaiting sign-off.

The rule is stated once, here, twice over: as SQL for the ledger's reads (every figure,
rating and text in the papers) and in Python for the status of a round. Without the
service's tables the SQL is the ledger's plain rule (accepted and not superseded), which its
index answers directly.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

# uploaded to the service and not (yet) signed off there
AWAITING = ("SELECT submission_id FROM service_uploads WHERE submission_id NOT IN "
            "(SELECT submission_id FROM service_signoffs)")


def service_in_use(db: sqlite3.Connection) -> bool:
    """Whether any submission came through the collection service."""
    tables = {r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name IN "
        "('service_uploads', 'service_signoffs')")}
    if tables != {"service_uploads", "service_signoffs"}:
        return False
    return db.execute("SELECT EXISTS (SELECT 1 FROM service_uploads)").fetchone()[0] == 1


def counts(db: sqlite3.Connection, alias: str = "s") -> str:
    """SQL: the submission `alias` is the one that counts for its kind, department and round.

    The latest accepted submission (superseded_by IS NULL) counts when it is signed off; an
    earlier one counts only while every later accepted one awaits sign-off."""
    plain = f"{alias}.status='accepted' AND {alias}.superseded_by IS NULL"
    if not service_in_use(db):
        return plain
    a = alias
    return (f"({a}.status='accepted' AND {a}.id NOT IN ({AWAITING}) AND "
            f"({a}.superseded_by IS NULL OR NOT EXISTS (SELECT 1 FROM submissions later "
            f"WHERE later.kind={a}.kind AND later.department IS {a}.department AND "
            f"later.round IS {a}.round AND later.status='accepted' AND later.id>{a}.id "
            f"AND later.id NOT IN ({AWAITING}))))")


def awaiting_signoff(db: sqlite3.Connection) -> set[int]:
    """Ids of submissions uploaded to the service that are not signed off."""
    if not service_in_use(db):
        return set()
    return {r[0] for r in db.execute(AWAITING)}


def counting(subs: Sequence[Any], awaiting: set[int]) -> Any | None:
    """Of one department's submissions for a round (oldest first), the one that counts."""
    return next((s for s in reversed(subs) if s["status"] == "accepted"
                 and s["id"] not in awaiting), None)


def pending(subs: Sequence[Any], awaiting: set[int]) -> Any | None:
    """The latest accepted submission, when it is still awaiting sign-off on the service."""
    latest = next((s for s in reversed(subs) if s["status"] == "accepted"), None)
    return latest if latest is not None and latest["id"] in awaiting else None


def pending_note(waiting: Any, counted: Any | None) -> str:
    """One plain sentence for status and the returns log."""
    then = (f"until then {counted['file_name']} (received {str(counted['received_at'])[:10]})"
            " counts" if counted is not None else "until then no return counts")
    return (f"{waiting['file_name']} was uploaded to the collection service and awaits the "
            f"approver's sign-off; {then}.")
