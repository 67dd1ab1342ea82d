"""What the reading guards cost: per file, the time spent measuring each read sheet's
extent and checking the shared-strings count (so that no sheet is read densely beyond its
bounds), against the whole of validating the file. Department and organisation returns
from bench/run.py's generator (cached in bench/cache/). Run: python bench/guards.py [N]

`python bench/guards.py million` validates a return with a million rows typed below a
table (refused as too large) in a process of its own: its time and peak memory."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # noqa: E402  (the generator of bench/run.py)

from deliverypack.ledger.workspace import Workspace  # noqa: E402
from deliverypack.returns.ingest import validate_file  # noqa: E402
from deliverypack.validation import read  # noqa: E402


def cost(workspace: Workspace, files: list[Path]) -> tuple[float, float]:
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
                validate_file(workspace, f)
            total = time.perf_counter() - t0
            best = min(best, (total, spent[0]))
    finally:
        read.sheet_extent, read.check_shared_strings = real_extent, real_sst
    return best


def million_rows(base: Path, rows: int = 1_000_000) -> Path:
    """The HO return with `rows` numbers typed in column B below its first table sheet's
    inputs (cached): about 40 MB of sheet XML, 2 MB on disk."""
    import zipfile

    target = base / f"HO-rows-{rows}.xlsx"
    if target.exists():
        return target
    src = base / "HO.xlsx"
    with zipfile.ZipFile(src) as zin:
        part = read.sheet_parts(zin)[read.BookValues.from_path(src).sheet_names[2]]
        with zipfile.ZipFile(target.with_suffix(".tmp"), "w", zipfile.ZIP_DEFLATED) as zout:
            for item in zin.infolist():
                data = zin.read(item.filename)
                if item.filename == part:
                    extra = b"".join(b'<row r="%d"><c r="B%d"><v>%d</v></c></row>' % (r, r, r)
                                     for r in range(5001, 5001 + rows))
                    data = data.replace(b"</sheetData>", extra + b"</sheetData>")
                zout.writestr(item.filename, data)
    target.with_suffix(".tmp").replace(target)
    return target


def million() -> None:
    import json
    import subprocess

    base = run.generate(100)
    path = million_rows(base)
    code = ("import json, resource, sys, time; from pathlib import Path; "
            "from deliverypack.ledger.workspace import Workspace; "
            "from deliverypack.returns.ingest import validate_file; "
            "ws = Workspace.open(sys.argv[1]); t = time.perf_counter(); "
            "rep = validate_file(ws, Path(sys.argv[2]))[0]; "
            "print(json.dumps({'s': time.perf_counter() - t, 'codes': sorted(rep.codes()), "
            "'peak_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))")
    r = subprocess.run([sys.executable, "-c", code, str(base / "ws"), str(path)],
                       capture_output=True, text=True, check=True)
    got = json.loads(r.stdout)
    print(f"million rows ({path.stat().st_size / 1e6:.1f} MB file): {got['s']:.2f} s, "
          f"peak {got['peak_mb']:.0f} MB, {got['codes']}")


def main() -> None:
    if sys.argv[1:] == ["million"]:
        million()
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    base = run.generate(n)
    workspace = Workspace.open(base / "ws")
    for kind in ("dept", "org"):
        files = sorted((base / kind).glob("*.xlsx"))
        total, guards = cost(workspace, files)
        print(f"{kind:5} {len(files):>6} files: validate {1000 * total / len(files):6.2f} ms "
              f"a file, of which guards {1000 * guards / len(files):5.3f} ms "
              f"({100 * guards / total:.1f}%)")


if __name__ == "__main__":
    main()
