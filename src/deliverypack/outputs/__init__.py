"""Outputs: everything the unit hands to people, written atomically from the ledger."""
