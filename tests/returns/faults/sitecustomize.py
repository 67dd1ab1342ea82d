"""Fault injection for tests (on PYTHONPATH only in the tests that ask for it): a workbook
whose bytes hold DP_FAULT_ABORT_MARK makes the native reader's caller abort (SIGABRT), in
whichever process reads it, as a crash inside python-calamine would."""

import os

MARK = os.environ.get("DP_FAULT_ABORT_MARK", "").encode()

if MARK:
    from deliverypack.validation import read as _read

    _Real = _read.CalamineWorkbook

    class _Aborting:
        @staticmethod
        def from_filelike(fh):
            data = fh.read()
            fh.seek(0)
            if MARK in data:
                os.abort()
            return _Real.from_filelike(fh)

    _read.CalamineWorkbook = _Aborting

# A workbook whose bytes hold DP_FAULT_RAISE_MARK makes a step of ours raise an exception
# nothing foresaw, after the workbook was read soundly: a bug met on one file.
RAISE = os.environ.get("DP_FAULT_RAISE_MARK", "").encode()

if RAISE:
    from deliverypack.returns import ingest as _ingest

    _real_round_checks = _ingest.round_checks

    def _raising(workspace, spec, path, at, round_id):
        if RAISE in open(path, "rb").read():
            raise LookupError("an unforeseen fault on this file")
        return _real_round_checks(workspace, spec, path, at, round_id)

    _ingest.round_checks = _raising
