"""Worker processes die with their parent.

Imported in the forkserver (as a preload) and called in each worker: on Linux the kernel
sends SIGKILL to a process whose parent has gone (prctl PR_SET_PDEATHSIG), so a kill -9 of
an ingest takes its forkserver, and with it every worker, within moments, instead of
leaving them holding memory. Elsewhere this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask the kernel to kill this process when its parent ends (Linux only)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent ended before the request was made
        os._exit(1)


die_with_parent()  # on import: the forkserver imports this module as its preload
