"""The round lifecycle in the ledger: open -> closed (papers published) -> reopened only by
the unit, with a reason. Each change is an event kept for ever; the latest is the state."""

from __future__ import annotations

from dataclasses import dataclass

from .store import Ledger, now_iso


@dataclass(frozen=True)
class RoundEvent:
    round: str
    event: str  # "closed" or "reopened"
    reason: str
    at: str

    def text(self) -> str:
        return f"{self.event} {self.at[:16].replace('T', ' ')}: {self.reason}"


def round_history(led: Ledger, round_id: str) -> list[RoundEvent]:
    return [RoundEvent(r["round"], r["event"], r["reason"], r["at"]) for r in led.query(
        "SELECT * FROM round_events WHERE round=? ORDER BY id", round_id)]


def round_state(led: Ledger, round_id: str) -> RoundEvent | None:
    """The event that closed the round, or None while it is open."""
    last = led.query("SELECT * FROM round_events WHERE round=? ORDER BY id DESC LIMIT 1",
                     round_id)
    if last and last[0]["event"] == "closed":
        r = last[0]
        return RoundEvent(r["round"], r["event"], r["reason"], r["at"])
    return None


def close_round(led: Ledger, round_id: str, reason: str) -> bool:
    """Close a round (False if it was closed already: nothing is written twice)."""
    if round_state(led, round_id) is not None:
        return False
    with led.transaction() as db:
        db.execute("INSERT INTO round_events (round, event, reason, at) VALUES (?,?,?,?)",
                   (round_id, "closed", reason, now_iso()))
    return True


def reopen_round(led: Ledger, round_id: str, reason: str) -> None:
    """Reopen a closed round; the reason is kept and shown in the returns log."""
    from ..foundation.errors import UsageError

    if not reason.strip():
        raise UsageError("say why the round is reopened: --reason TEXT")
    if round_state(led, round_id) is None:
        raise UsageError(f"round {round_id} is not closed; nothing to reopen")
    with led.transaction() as db:
        db.execute("INSERT INTO round_events (round, event, reason, at) VALUES (?,?,?,?)",
                   (round_id, "reopened", reason.strip(), now_iso()))
