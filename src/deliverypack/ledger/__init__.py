"""The ledger: the record between returns and outputs (SQLite), and the workspace that holds
it with the register, the kept specs and the journals."""

from .store import Ledger

__all__ = ["Ledger"]
