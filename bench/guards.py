"""What the reading guards cost: per file, the time spent measuring each read sheet's
extent and checking the shared-strings count (so that no sheet is read densely beyond its
bounds), against the whole of validating the file. Department and organisation returns
from bench/run.py's generator (cached in bench/cache/). Run: python bench/guards.py [N]"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # noqa: E402  (the generator of bench/run.py)

from deliverypack.ledger.workspace import Workspace  # noqa: E402
from deliverypack.returns.ingest import validate_file  # noqa: E402
from deliverypack.validation import read  # noqa: E402


def cost(ws: Workspace, files: list[Path]) -> tuple[float, float]:
    """(seconds validating all files, seconds of it spent in the guards): best of three."""
    spent = [0.0]
    real_extent, real_sst = read.sheet_extent, read.check_shared_strings

    def timed(fn):
        def wrapper(*a):
            t = time.perf_counter()
            try:
                return fn(*a)
            finally:
                spent[0] += time.perf_counter() - t
        return wrapper
    read.sheet_extent, read.check_shared_strings = timed(real_extent), timed(real_sst)
    best = (float("inf"), 0.0)
    try:
        for _ in range(3):
            spent[0] = 0.0
            t0 = time.perf_counter()
            for f in files:
                validate_file(ws, f)
            total = time.perf_counter() - t0
            best = min(best, (total, spent[0]))
    finally:
        read.sheet_extent, read.check_shared_strings = real_extent, real_sst
    return best


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    base = run.generate(n)
    ws = Workspace.open(base / "ws")
    for kind in ("dept", "org"):
        files = sorted((base / kind).glob("*.xlsx"))
        total, guards = cost(ws, files)
        print(f"{kind:5} {len(files):>6} files: validate {1000 * total / len(files):6.2f} ms "
              f"a file, of which guards {1000 * guards / len(files):5.3f} ms "
              f"({100 * guards / total:.1f}%)")


if __name__ == "__main__":
    main()
