"""The collection service under load: 20 departments upload at once.

A workspace with 20 departments (the sample programme's five and fifteen more, each with
one priority and measure cloned from the sample's) has round 2002-12's templates issued
and filled; `deliverypack serve` runs on 127.0.0.1; each department's token posts its own
return to /api/v1/returns, all twenty together (a barrier starts them), in WAVES waves (each
wave a new file per department: a resubmission). Bounded: WAVES x 20 requests, each with a
timeout. Reports uploads per second, time to feedback per upload (the response carries the
verdict), and checks that nothing was lost: every upload answered with a submission, every
file's SHA-256 in the ledger and its bytes in archive/, and the last wave current.

    .venv/bin/python bench/service_load.py     # writes bench/service_results.json
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROUND = "2002-12"
DEPARTMENTS = 20
WAVES = int(os.environ.get("SERVICE_WAVES", "3"))
TIMEOUT = 120  # seconds a single upload may take before it counts as lost


def build_workspace(root: Path) -> dict[str, list[Path]]:
    """Twenty departments, templates issued, WAVES distinct filled returns each."""
    from deliverypack.foundation.domain import Department
    from deliverypack.ledger.workspace import Workspace
    from deliverypack.sample.filler import fill_workbook
    from deliverypack.sample.programme import ACTIONS, sample_register, sample_workspace
    from deliverypack.templates.issue import issue_returns
    from deliverypack.validation.register import write_register

    sample_workspace(root)
    reg = sample_register()
    model_p, model_m = reg.priority("DWP1"), reg.measure("JOB1")
    for i in range(DEPARTMENTS - len(reg.departments)):
        dept, pid, mid = f"D{i:02d}", f"D{i:02d}P1", f"D{i:02d}M1"
        reg.departments.append(Department(id=dept, name=f"Department {i:02d}"))
        reg.priorities.append(model_p.model_copy(update={"id": pid, "department_id": dept}))
        reg.measures.append(model_m.model_copy(update={"id": mid, "priority_id": pid,
                                                       "breakdown": ""}))
        reg.trajectories += [t.model_copy(update={"measure_id": mid})
                             for t in reg.trajectories if t.measure_id == model_m.id]
    write_register(root / "register.xlsx", reg, ACTIONS)
    workspace = Workspace.open(root)
    files: dict[str, list[Path]] = {}
    folder = root.parent / "returns"
    folder.mkdir()
    from deliverypack.validation.checks import template_id_of
    from deliverypack.validation.read import BookValues
    for t in issue_returns(workspace, ROUND):
        dept = t.name.split("-")[0]
        spec = workspace.ledger.template(template_id_of(BookValues.from_path(t)) or "")
        files[dept] = [fill_workbook(t, spec, workspace.register,
                                     folder / f"{dept}-{ROUND}-w{w}.xlsx",
                                     seed=w) for w in range(WAVES)]
    workspace.ledger.close()
    assert len(files) == DEPARTMENTS, sorted(files)
    return files


def cli(root: Path, *args: str) -> str:
    r = subprocess.run([sys.executable, "-m", "deliverypack.cli", *args, "-w", str(root)],
                       capture_output=True, text=True, timeout=120, check=True)
    return r.stdout.strip()


def post(base: str, token: str, path: Path) -> tuple[int, dict, float]:
    boundary = uuid.uuid4().hex
    data = path.read_bytes()
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{path.name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(f"{base}/api/v1/returns", data=body, method="POST", headers={
        "Authorization": f"Bearer {token}",
        "Content-Type": f"multipart/form-data; boundary={boundary}"})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
            status, answer = r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        status, answer = exc.code, json.loads(exc.read() or b"{}")
    return status, answer, time.perf_counter() - t0


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="dp-service-load-"))
    root = work / "ws"
    t0 = time.perf_counter()
    files = build_workspace(root)
    print(f"workspace with {len(files)} departments, {WAVES} returns each, in "
          f"{time.perf_counter() - t0:.1f} s", flush=True)
    tokens = {d: cli(root, "token", "create", "--department", d) for d in files}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = (work / "serve.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "deliverypack.cli", "serve", "-w",
                               str(root), "--host", "127.0.0.1", "--port", str(port)],
                              stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):  # bounded: 10 s
            try:
                with urllib.request.urlopen(f"{base}/login", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        results, walls = [], []
        for wave in range(WAVES):
            barrier = threading.Barrier(len(files))

            def one(dept: str, w: int = wave, b: threading.Barrier = barrier):
                b.wait(timeout=30)
                return dept, w, *post(base, tokens[dept], files[dept][w])
            t0 = time.perf_counter()
            with ThreadPoolExecutor(len(files)) as pool:
                wave_results = list(pool.map(one, sorted(files)))
            walls.append(time.perf_counter() - t0)
            results += wave_results
            print(f"wave {wave + 1}: {len(wave_results)} uploads in {walls[-1]:.2f} s", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()

    latencies = sorted(r[4] for r in results)
    ok = [r for r in results if r[2] == 200 and r[3].get("status") == "accepted"]
    db = sqlite3.connect(root / "ledger.sqlite")
    kept = {row[0] for row in db.execute("SELECT sha256 FROM submissions")}
    sent = {hashlib.sha256(p.read_bytes()).hexdigest() for fs in files.values() for p in fs}
    archived = {p.stem for p in (root / "archive").iterdir()}
    current = {row[0] for row in db.execute(
        "SELECT file_name FROM submissions WHERE status='accepted' AND superseded_by IS NULL "
        "AND kind='return'")}
    lost = sorted(sent - kept) + sorted(sent - archived)
    last_wave_current = current == {files[d][-1].name for d in files}
    report = {
        "departments": len(files), "waves": WAVES, "uploads": len(results),
        "accepted": len(ok),
        "other_answers": [(d, w, s) for d, w, s, _, _ in results if s != 200],
        "uploads_per_second": round(len(results) / sum(walls), 2),
        "wave_seconds": [round(w, 2) for w in walls],
        "time_to_feedback_s": {"median": round(statistics.median(latencies), 3),
                               "p90": round(latencies[int(0.9 * (len(latencies) - 1))], 3),
                               "max": round(latencies[-1], 3)},
        "lost": lost, "last_wave_current": last_wave_current,
        "file_bytes": sum(p.stat().st_size for fs in files.values() for p in fs) // len(results),
        "machine": f"{os.cpu_count()} cores",
    }
    print(json.dumps(report, indent=2))
    (HERE / "service_results.json").write_text(json.dumps(report, indent=2) + "\n")
    if lost or len(ok) != len(results) or not last_wave_current:
        sys.exit("something was lost or refused: see above")


if __name__ == "__main__":
    main()
