"""make bench: ingest and consolidation at scale, against the floor of merely reading files.

For N in BENCH_SIZES (default 100, 1000, 10000) it generates N filled department returns
(distinct copies of a sample return filled by the repo's filler) and N per-organisation
returns (one trust's monthly A&E figures each, filled by the filler), then measures:
  - the floor: open every file and read every cell with python-calamine;
  - validate + ingest throughput (files/s) and peak memory (RSS of the whole process tree),
    with one process and with --jobs (one per core);
  - master workbook, stocktake deck and delivery report generation for that ledger;
and, once, a master for 10,000 organisations x 36 periods and a deck of 100 priorities.
Prints a table and writes bench/results.json. Generated files are cached in bench/cache/.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / "cache"
SIZES = [int(x) for x in os.environ.get("BENCH_SIZES", "100,1000,10000").split(",")]
JOBS = os.cpu_count() or 1
ROUND = "2002-12"


def rss_tree(pid: int) -> int:
    """Resident memory of a process and all its descendants, in bytes (from /proc)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
            kids = Path(f"/proc/{p}/task/{p}/children").read_text().split()
            todo += [int(k) for k in kids]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def measure(cmd: list[str]) -> tuple[float, int, str]:
    """Run cmd; (seconds, peak RSS of its process tree, stdout)."""
    peak = [0]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], rss_tree(proc.pid))
            time.sleep(0.05)
    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = proc.communicate()
    th.join()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd} failed:\n{err[-2000:]}")
    return time.perf_counter() - t0, peak[0], out


def bench_register(n_orgs: int):
    """The sample programme, with the A&E measure returned by each of n_orgs trusts."""
    from deliverypack.foundation.domain import Organisation
    from deliverypack.sample.programme import sample_register

    reg = sample_register()
    for m in reg.measures:
        if m.id == "AE4":
            m.returned_by = "organisation"
    reg.organisations = [o for o in reg.organisations if o.kind != "trust"] + [
        Organisation(id=f"T{i:05d}", name=f"Trust {i:05d}", kind="trust", department_id="DH")
        for i in range(n_orgs)]
    return reg


def generate(n: int) -> Path:
    """A workspace with templates issued and n filled returns of each kind (cached)."""
    base = CACHE / f"n{n}"
    if (base / "done").exists():
        return base
    if base.exists():
        shutil.rmtree(base)
    from deliverypack.ledger.workspace import Workspace
    from deliverypack.sample.filler import fill_workbook
    from deliverypack.sample.programme import ACTIONS, sample_workspace
    from deliverypack.templates.issue import issue_organisation_returns, issue_returns
    from deliverypack.validation.register import write_register

    workspace = sample_workspace(base / "ws")
    write_register(workspace.register_path, bench_register(n), ACTIONS)
    workspace = Workspace.open(base / "ws")
    t0 = time.perf_counter()
    dept = issue_returns(workspace, ROUND)
    orgs = issue_organisation_returns(workspace, ROUND)
    print(f"  issued {len(dept)} department and {len(orgs)} organisation templates in "
          f"{time.perf_counter() - t0:.1f} s", flush=True)
    (base / "dept").mkdir()
    (base / "org").mkdir()
    ho = next(p for p in dept if p.name.startswith("HO-"))
    filled = fill_workbook(ho, workspace.ledger.template(_tid(ho)), workspace.register,
                           base / "HO.xlsx")
    # distinct copies: the same return as sent by the department again and again (each a
    # new file, so each is examined, hashed, archived and recorded as a resubmission)
    for i in range(n):
        _copy_with_stamp(filled, base / "dept" / f"HO-{ROUND}-{i:05d}.xlsx", i)
    t0 = time.perf_counter()
    from concurrent.futures import ProcessPoolExecutor
    with ProcessPoolExecutor(JOBS, initializer=_fill_init, initargs=(str(base / "ws"),)) as pool:
        list(pool.map(_fill_one, [(p, base / "org" / p.name, k) for k, p in enumerate(orgs)],
                      chunksize=32))
    print(f"  filled {len(orgs)} organisation returns in {time.perf_counter() - t0:.1f} s",
          flush=True)
    workspace.ledger.close()
    (base / "done").write_text("ok")
    return base


_FILL: dict = {}


def _fill_init(root: str) -> None:
    from deliverypack.ledger.workspace import Workspace

    _FILL["ws"] = Workspace.open(root)


def _fill_one(job) -> None:
    from deliverypack.sample.filler import fill_workbook

    template, target, seed = job
    workspace = _FILL["ws"]
    fill_workbook(template, workspace.ledger.template(_tid(template)), workspace.register, target,
                  seed=seed)


def _tid(path: Path) -> str:
    from deliverypack.validation.checks import template_id_of
    from deliverypack.validation.read import BookValues

    return template_id_of(BookValues.from_path(path)) or ""


def _copy_with_stamp(src: Path, dst: Path, i: int) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "docProps/core.xml":
                data = data.replace(b"</cp:coreProperties>",
                                    f"<cp:revision>{i}</cp:revision></cp:coreProperties>"
                                    .encode())
            zout.writestr(item, data)


FLOOR = """
import sys, glob, time
from multiprocessing import get_context
from python_calamine import CalamineWorkbook

def read(f):
    wb = CalamineWorkbook.from_path(f)
    for s in wb.sheet_names:
        wb.get_sheet_by_name(s).to_python(skip_empty_area=False)

if __name__ == "__main__":
    files = sorted(glob.glob(sys.argv[1] + '/*.xlsx'))
    jobs = int(sys.argv[2])
    t = time.perf_counter()
    if jobs == 1:
        for f in files:
            read(f)
    else:  # the same, on every core, started the way ingest starts its workers
        with get_context("forkserver").Pool(jobs) as pool:
            pool.map(read, files, chunksize=8)
    print(time.perf_counter() - t)
"""


INGEST = """
import sys, glob, time
from pathlib import Path
from deliverypack.ledger.workspace import Workspace
from deliverypack.returns.ingest import ingest_files
ws = Workspace.open(sys.argv[1])
ws.register, ws.ledger  # opened before the clock starts, as in a long-running ingest
files = sorted(Path(p) for p in glob.glob(sys.argv[2] + '/*.xlsx'))
t = time.perf_counter()
ok = 0
for r in ingest_files(ws, files, jobs=int(sys.argv[3])):
    ok += r.valid
print(ok, len(files), time.perf_counter() - t)
"""


def run_size(n: int) -> dict:
    print(f"N = {n:,}", flush=True)
    base = generate(n)
    row: dict = {"n": n}
    # this machine's timings vary by a third from run to run: the best of three runs
    # (of the floor and of ingest alike) where a run is short enough to repeat
    reps = 3 if n <= 1000 else 1
    for kind in ("dept", "org"):
        files = base / kind
        for jobs in (1, JOBS):
            row[f"{kind}_floor_j{jobs}_s"] = min(
                float(measure([sys.executable, str(FLOOR_PY), str(files), str(jobs)])[2])
                for _ in range(reps))
        row[f"{kind}_floor_s"] = row[f"{kind}_floor_j1_s"]
        for jobs in (1, JOBS):
            best, top = float("inf"), 0
            for _ in range(reps):
                work = base / f"run-{kind}-{jobs}"
                if work.exists():
                    shutil.rmtree(work)
                shutil.copytree(base / "ws", work)
                _, peak, out = measure([sys.executable, "-c", INGEST, str(work), str(files),
                                        str(jobs)])
                ok, total, secs = (int(out.split()[0]), int(out.split()[1]),
                                   float(out.split()[2]))
                assert ok == total == n, f"{ok} of {total} accepted"
                best, top = min(best, secs), max(top, peak)
            row[f"{kind}_ingest_j{jobs}_s"] = best
            row[f"{kind}_ingest_j{jobs}_rate"] = n / best
            row[f"{kind}_ingest_j{jobs}_peak_mb"] = top / 1e6
        for jobs in (1, JOBS):  # like for like: each against the floor on as many processes
            row[f"{kind}_ratio_j{jobs}"] = (row[f"{kind}_ingest_j{jobs}_s"]
                                            / row[f"{kind}_floor_j{jobs}_s"])
        row[f"{kind}_ratio_to_floor"] = row[f"{kind}_ratio_j1"]
    ws_dir = base / f"run-org-{JOBS}"
    for label, code in (("master", "build_master(ws, '2002-12')"),
                        ("deck", "build_deck(ws, '2002-12')"),
                        ("report", "write_report(ws, '2002-12', 'DH')")):
        _, peak, out = measure([sys.executable, "-c", OUTPUT.format(code=code), str(ws_dir)])
        row[f"{label}_s"] = float(out)
        row[f"{label}_peak_mb"] = peak / 1e6
    return row


OUTPUT = """
import sys, time
from deliverypack.ledger.workspace import Workspace
from deliverypack.outputs.master import build_master
from deliverypack.outputs.deck import build_deck
from deliverypack.outputs.delivery_report import write_report
ws = Workspace.open(sys.argv[1])
t = time.perf_counter()
{code}
print(time.perf_counter() - t)
"""


def big_master() -> dict:
    """A master for 10,000 organisations x 36 periods, from a ledger written directly."""
    from deliverypack.ledger.workspace import Workspace
    from deliverypack.sample.programme import ACTIONS, sample_workspace
    from deliverypack.validation.register import write_register

    base = CACHE / "master-10000x36"
    if not (base / "done").exists():
        if base.exists():
            shutil.rmtree(base)
        workspace = sample_workspace(base / "ws")
        write_register(workspace.register_path, bench_register(10000), ACTIONS)
        workspace = Workspace.open(base / "ws")
        led = workspace.ledger
        rng = random.Random(1)
        from deliverypack.foundation.periods import period_range
        periods = period_range("2000-01", "2002-12")
        with led.transaction() as db:
            cur = db.execute(
                "INSERT INTO submissions (kind, department, round, file_name, sha256, size, "
                "received_at, status) VALUES ('org_return', 'BULK', ?, 'bulk', 'x', 0, ?, "
                "'accepted')", (ROUND, dt.datetime.now().isoformat()))
            sid = cur.lastrowid
            for i in range(10000):
                rows = []
                for p in periods:
                    den = rng.randint(3000, 9000)
                    num = int(den * rng.uniform(0.8, 0.99))
                    rows += [(sid, "AE4", f"T{i:05d}", p, "numerator", num, "S", "A1"),
                             (sid, "AE4", f"T{i:05d}", p, "denominator", den, "S", "B1"),
                             (sid, "AE4", f"T{i:05d}", p, "actual", 100 * num / den, "S", "A1")]
                db.executemany("INSERT INTO measure_values VALUES (?,?,?,?,?,?,?,?)", rows)
        led.close()
        (base / "done").write_text("ok")
    _, peak, out = measure([sys.executable, "-c", OUTPUT.format(
        code="build_master(ws, '2002-12')"), str(base / "ws")])
    return {"master_10000x36_s": float(out), "master_10000x36_peak_mb": peak / 1e6}


def big_deck() -> dict:
    """A stocktake deck of 100 priorities (the sample's measures, cloned)."""
    from deliverypack.foundation.domain import Measure, Priority, TrajectoryPoint
    from deliverypack.sample.programme import ACTIONS, sample_register, sample_workspace
    from deliverypack.validation.register import write_register

    base = CACHE / "deck-100"
    if not (base / "done").exists():
        if base.exists():
            shutil.rmtree(base)
        workspace = sample_workspace(base / "ws")
        reg = sample_register()
        src = next(m for m in reg.measures if m.id == "ASY4")
        traj = reg.trajectory("ASY4")
        for i in range(100 - len(reg.priorities)):
            pid = f"X{i:03d}"
            reg.priorities.append(Priority(id=pid, department_id="HO", title=f"Priority {pid}",
                                           short_title=f"Priority {pid}"))
            reg.measures.append(Measure(**{**src.model_dump(), "id": f"M{i:03d}",
                                           "priority_id": pid}))
            reg.trajectories += [TrajectoryPoint(measure_id=f"M{i:03d}", period=p, planned=v)
                                 for p, v in traj.items()]
        write_register(workspace.register_path, reg, ACTIONS)
        (base / "done").write_text("ok")
    _, peak, out = measure([sys.executable, "-c", OUTPUT.format(
        code="build_deck(ws, '2002-12')"), str(base / "ws")])
    return {"deck_100_priorities_s": float(out), "deck_100_priorities_peak_mb": peak / 1e6}


DFT = HERE.parent.parent / "shared" / "fixtures" / "dft-bicc-return"

DFT_INGEST = """
import sys, glob, time
from pathlib import Path
from deliverypack.ledger.workspace import Workspace
from deliverypack.returns.ingest import ingest_files
ws = Workspace.open(sys.argv[1])
ws.register, ws.ledger
files = sorted(Path(p) for p in glob.glob(sys.argv[2] + '/*.xlsm'))
t = time.perf_counter()
ok = sum(r.valid for r in ingest_files(ws, files, jobs=int(sys.argv[3]), round_id='2003-12'))
print(ok, len(files), time.perf_counter() - t)
"""


def dft(n: int = 200) -> dict:
    """The real DfT project return (25 sheets, 1,944 mapped cells), n copies."""
    if not DFT.exists():
        print("  (shared/fixtures/dft-bicc-return not present: DfT benchmark skipped)")
        return {}
    from deliverypack.returns.foreign import add_template
    from deliverypack.sample.programme import sample_workspace

    base = CACHE / f"dft-{n}"
    if base.exists():
        shutil.rmtree(base)
    workspace = sample_workspace(base / "ws")
    add_template(workspace, "DFT", DFT / "blank_template.xlsm", DFT / "datamap.csv")
    workspace.ledger.close()
    (base / "in").mkdir()
    for i in range(n):
        _copy_with_stamp(DFT / "filled_return.xlsm", base / "in" / f"D{i:03d}-2003-12.xlsm", i)
    out = {}
    for jobs in (1, JOBS):
        work = base / f"run-{jobs}"
        shutil.copytree(base / "ws", work)
        _, peak, text = measure([sys.executable, "-c", DFT_INGEST, str(work),
                                 str(base / "in"), str(jobs)])
        ok, total, secs = int(text.split()[0]), int(text.split()[1]), float(text.split()[2])
        assert ok == total == n, f"{ok} of {total} DfT returns accepted"
        out[f"dft_{n}_j{jobs}_ms_per_return"] = 1000 * secs / n
        out[f"dft_{n}_j{jobs}_peak_mb"] = peak / 1e6
    return out


FLOOR_PY = CACHE / "floor.py"


def main() -> None:
    CACHE.mkdir(exist_ok=True)
    FLOOR_PY.write_text(FLOOR)  # a file, not -c: the floor's worker processes import it
    rows = [run_size(n) for n in SIZES]
    extra = {**big_master(), **big_deck(), **dft()}
    print()
    head = (f"{'N':>7} {'kind':5} {'floor s':>8} {'1 proc/s':>9} {'x floor':>8} "
            f"{f'{JOBS} proc/s':>9} {'x floor':>8} {'peak MB':>8}")
    print(head)
    print("-" * len(head))
    for r in rows:
        for kind in ("dept", "org"):
            print(f"{r['n']:>7,} {kind:5} {r[f'{kind}_floor_s']:>8.2f} "
                  f"{r[f'{kind}_ingest_j1_rate']:>9.0f} {r[f'{kind}_ratio_j1']:>8.1f} "
                  f"{r[f'{kind}_ingest_j{JOBS}_rate']:>9.0f} {r[f'{kind}_ratio_j{JOBS}']:>8.1f} "
                  f"{r[f'{kind}_ingest_j{JOBS}_peak_mb']:>8.0f}")
    print()
    for r in rows:
        print(f"N = {r['n']:,}: master {r['master_s']:.1f} s, deck {r['deck_s']:.1f} s, "
              f"report {r['report_s']:.1f} s")
    print(f"master, 10,000 organisations x 36 periods: {extra['master_10000x36_s']:.1f} s "
          f"(peak {extra['master_10000x36_peak_mb']:.0f} MB)")
    print(f"deck, 100 priorities: {extra['deck_100_priorities_s']:.1f} s")
    if "dft_200_j1_ms_per_return" in extra:
        print(f"DfT project return (25 sheets, 1,944 cells), 200 copies: "
              f"{extra['dft_200_j1_ms_per_return']:.0f} ms a return on 1 process "
              f"(peak {extra['dft_200_j1_peak_mb']:.0f} MB), "
              f"{extra[f'dft_200_j{JOBS}_ms_per_return']:.0f} ms on {JOBS} "
              f"(peak {extra[f'dft_200_j{JOBS}_peak_mb']:.0f} MB)")
    result = {"machine": {"cores": JOBS, "python": sys.version.split()[0]},
              "date": dt.date.today().isoformat(), "sizes": rows, **extra}
    (HERE / "results.json").write_text(json.dumps(result, indent=2))
    print(f"\nwritten {HERE / 'results.json'}")


if __name__ == "__main__":
    main()
