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
