"""Returns: refuse hostile files, keep the bytes, ingest them (ours and foreign templates),
and check, back up or rebuild the ledger from what was kept."""
