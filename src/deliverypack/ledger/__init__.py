"""The ledger: the record between returns and outputs (SQLite)."""

from .store import Ledger

__all__ = ["Ledger"]
