"""Faults of the machine end in one line: `Error: <first cause> (<path>)`, exit 1, the JSON
of the files done still valid, nothing half-written left, and what was archived but not
recorded recorded on the next run. Commands that only read work on a read-only workspace."""

from __future__ import annotations

import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bookkit import copies
from deliverypack.ledger.workspace import Workspace

CLI = [sys.executable, "-m", "deliverypack.cli"]


def run(*args: str, user: bool = False, preexec=None, timeout: int = 300
        ) -> subprocess.CompletedProcess:
    """The real command in its own process; as an unprivileged user where asked (root
    ignores file permissions)."""
    cmd = [*CLI, *args]
    if user and os.geteuid() == 0:
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          preexec_fn=preexec, env={**os.environ, "HOME": "/tmp", "COLUMNS": "200"})


def one_line_error(r: subprocess.CompletedProcess, *needles: str) -> str:
    assert r.returncode == 1, (r.returncode, r.stderr[-3000:])
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), r.stderr[-3000:]
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


def _unprivileged_possible() -> bool:
    return os.geteuid() != 0 or shutil.which("setpriv") is not None


def _open_to_all(path: Path, writable: bool) -> None:
    for p in [path, *path.rglob("*")]:
        mode = 0o755 if p.is_dir() else 0o644
        p.chmod(mode | (0o022 if writable else 0) if writable else mode & ~0o222)


@pytest.fixture
def open_dir():
    """A folder any user can reach (pytest's own tree is private to its user)."""
    import tempfile
    d = Path(tempfile.mkdtemp(prefix="dp-faults-"))
    d.chmod(0o755)
    yield d
    for p in [d, *d.rglob("*")]:
        if p.is_dir():
            p.chmod(0o755)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def sample_files(workspace, filled, tmp_path) -> list[Path]:
    return copies(filled("DH"), tmp_path / "inbox", 6)


@pytest.mark.skipif(not _unprivileged_possible(), reason="needs setpriv when run as root")
def test_a_read_only_workspace_reads_and_refuses_writes_in_one_line(workspace, sample_files,
                                                                   open_dir):
    r = run("ingest", str(sample_files[0].parent), "-w", str(workspace.root))
    assert r.returncode == 0, r.stderr
    workspace.ledger.close()
    workspace = Workspace.open(shutil.copytree(workspace.root, open_dir / "ws"))
    shutil.copytree(sample_files[0].parent, open_dir / "inbox")
    tmp_path = open_dir
    _open_to_all(workspace.root, writable=False)
    _open_to_all(tmp_path / "inbox", writable=False)
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o777)
    r = run("status", "-w", str(workspace.root), "--json", user=True)
    assert r.returncode == 0, r.stderr
    assert any(s["status"] == "accepted" for s in json.loads(r.stdout)["2002-12"])
    r = run("master", "-w", str(workspace.root), "-o", str(out / "m.xlsx"), user=True)
    assert r.returncode == 0 and (out / "m.xlsx").exists(), r.stderr
    r = run("deck", "-w", str(workspace.root), "-o", str(out / "d.pptx"), user=True)
    assert r.returncode == 0 and (out / "d.pptx").exists(), r.stderr
    fresh = copies(sample_files[0], tmp_path / "fresh", 1, tag="ro")
    _open_to_all(tmp_path / "fresh", writable=False)
    r = run("ingest", str(fresh[0]), "-w", str(workspace.root), "--json", user=True)
    one_line_error(r, "Permission denied", str(workspace.root))
    assert json.loads(r.stdout) == []
    r = run("master", "-w", str(workspace.root), user=True)  # into the workspace's outputs/
    one_line_error(r, "Permission denied")
    assert not list(workspace.root.rglob("*.partial")) and not list(workspace.root.rglob("*.tmp"))


def _can_mount_tmpfs() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    r = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
                       capture_output=True)
    return r.returncode == 0


@pytest.mark.skipif(not _can_mount_tmpfs(), reason="needs a private tmpfs (root, unshare)")
def test_a_full_disk_ends_in_one_line_and_the_next_run_reconciles(workspace, filled, tmp_path):
    files = copies(filled("DH"), tmp_path / "inbox", 40)
    workspace.ledger.close()
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    size = sum(f.stat().st_size for f in workspace.root.rglob("*") if f.is_file()) + 600_000
    script = (f"mount -t tmpfs -o size={size} tmpfs {mnt} && cp -r {workspace.root} {mnt}/ws && "
              f"{' '.join(CLI)} ingest {tmp_path / 'inbox'} -w {mnt}/ws --json "
              f"> {tmp_path}/out.json 2> {tmp_path}/err.txt; echo $? > {tmp_path}/rc; "
              f"cp -r {mnt}/ws {tmp_path}/after")
    subprocess.run(["unshare", "-m", "sh", "-c", script], check=True, timeout=300)
    rc = int((tmp_path / "rc").read_text())
    err = (tmp_path / "err.txt").read_text()
    r = subprocess.CompletedProcess([], rc, (tmp_path / "out.json").read_text(), err)
    line = one_line_error(r)
    assert "disk is full" in line or "No space left on device" in line, line
    done = json.loads(r.stdout)
    after = tmp_path / "after"
    assert not list(after.rglob("*.partial"))
    recorded = sqlite3.connect(after / "ledger.sqlite").execute(
        "SELECT count(*) FROM submissions").fetchone()[0]
    assert recorded == len([d for d in done if d["status"] == "accepted"])
    archived = [p for p in (after / "archive").glob("*.xlsx")]
    assert len(archived) > recorded  # archived, not recorded: the fault came between
    # with room again, the next run records them from their journals
    r = run("ingest", str(files[0]), "-w", str(after), "--json")
    assert r.returncode == 0, r.stderr
    r = run("check", "-w", str(after))
    assert r.returncode == 0, r.stdout + r.stderr
    n = sqlite3.connect(after / "ledger.sqlite").execute(
        "SELECT count(*) FROM submissions").fetchone()[0]
    assert n == len(archived)


def test_a_file_size_limit_shows_the_first_cause(workspace, filled, tmp_path):
    files = copies(filled("DH"), tmp_path / "inbox", 30)
    workspace.ledger.close()
    limit = (workspace.root / "ledger.sqlite").stat().st_size + 150_000

    def cap():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    r = run("ingest", str(tmp_path / "inbox"), "-w", str(workspace.root), "--json", preexec=cap)
    line = one_line_error(r)
    assert "savepoint" not in line and "cannot commit" not in line, line
    assert "disk I/O error" in line or "File too large" in line or "full" in line, line
    done = json.loads(r.stdout)
    assert len(done) < len(files)
    assert not list(workspace.root.rglob("*.partial"))
    n = sqlite3.connect(workspace.root / "ledger.sqlite").execute(
        "SELECT count(*) FROM submissions").fetchone()[0]
    assert n == len(done)


def test_a_locked_ledger_is_one_line(workspace, sample_files, tmp_path):
    settings = workspace.root / "deliverypack.toml"
    settings.write_text(settings.read_text() + "\n[ledger]\nlock_timeout = 0.5\n")
    workspace.ledger.close()
    holder = sqlite3.connect(workspace.root / "ledger.sqlite", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        r = run("ingest", str(tmp_path / "inbox"), "-w", str(workspace.root), "--json")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    one_line_error(r, "database is locked", "ledger.sqlite")
    assert json.loads(r.stdout) == []


@pytest.mark.skipif(not _unprivileged_possible(), reason="needs setpriv when run as root")
def test_permission_denied_on_the_outputs_folder_is_one_line(workspace, sample_files, open_dir):
    assert run("ingest", str(sample_files[0].parent), "-w", str(workspace.root)).returncode == 0
    workspace.ledger.close()
    workspace = Workspace.open(shutil.copytree(workspace.root, open_dir / "ws"))
    _open_to_all(workspace.root, writable=True)
    (workspace.root / "outputs").chmod(0o555)
    r = run("master", "-w", str(workspace.root), user=True)
    one_line_error(r, "Permission denied", "outputs")


def test_cell_text_is_never_console_markup(workspace, filled, tmp_path):
    from conftest import block, spec_of
    template = workspace.outbox("2002-12") / "HO-2002-12.xlsx"
    spec = spec_of(workspace, template)
    b = block(spec, "issues")
    path = filled("HO", overrides={(b.name, 0, "text"): "[/] [bold]not bold[/bold] [link]",
                                   (b.name, 0, "type"): "Bogus [/]"})
    for cmd in ("validate", "ingest"):
        r = run(cmd, str(path), "-w", str(workspace.root))
        assert r.returncode == 1, r.stderr
        assert "Traceback" not in r.stderr and "MarkupError" not in r.stderr
        assert "found 'Bogus [/]'" in r.stdout, r.stdout  # shown as typed, not as markup


def _damage_ledger(workspace: Workspace, how: str) -> None:
    led = workspace.root / "ledger.sqlite"
    for extra in ("-wal", "-shm"):
        Path(f"{led}{extra}").unlink(missing_ok=True)
    if how == "empty":
        led.write_bytes(b"")
    elif how == "missing":
        led.unlink()
    else:  # its header overwritten
        b = bytearray(led.read_bytes())
        b[:100] = bytes(100)
        led.write_bytes(bytes(b))


@pytest.mark.parametrize("fault", ["file-size-limit", "empty", "missing", "damaged"])
def test_json_is_printed_when_the_fault_comes_before_the_first_file(workspace, filled,
                                                                    tmp_path, fault):
    """`ingest --json` and `validate --json` print `[]` (valid JSON: no file done) and
    one line on stderr, exit 1, when the fault comes before any file is read."""
    files = copies(filled("DH"), tmp_path / "inbox", 3)
    r = run("ingest", str(files[0]), "-w", str(workspace.root))  # archive/ now holds one
    assert r.returncode == 0, r.stderr
    workspace.ledger.close()
    preexec = None
    if fault == "file-size-limit":  # below the ledger's own size: its first write fails
        limit = 20_000
        assert (workspace.root / "ledger.sqlite").stat().st_size > limit

        def preexec():
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    else:
        _damage_ledger(workspace, fault)
    commands = ["ingest"] if fault == "file-size-limit" else ["ingest", "validate"]
    for command in commands:
        r = run(command, str(tmp_path / "inbox"), "-w", str(workspace.root), "--json",
                preexec=preexec)
        assert "Traceback" not in r.stderr, r.stderr[-3000:]
        if command == "validate" and r.returncode == 1 and not r.stderr.strip():
            continue  # validate read the files without the ledger's help: not a fault
        one_line_error(r)
        assert json.loads(r.stdout) == [], r.stdout


def test_a_file_recorded_just_before_a_fault_is_reported_done(workspace, filled, tmp_path,
                                                              monkeypatch):
    """The fault comes after a rejected file's record, while its feedback is written: the
    ledger holds it, so the files reported done are exactly the ledger's."""
    import errno

    from bookkit import add_cells
    from deliverypack.returns import ingest as ingest_mod

    files = copies(filled("DH"), tmp_path / "inbox", 5)
    # a note typed outside the inputs: a rejected return of ours, which gets feedback
    add_cells(files[2], files[2].with_suffix(".tmp"), "Cover", b'<row r="500"><c r="H500" '
              b't="inlineStr"><is><t>a note</t></is></c></row>').replace(files[2])

    def full(*_a, **_k):
        raise OSError(errno.EFBIG, "File too large", "feedback.xlsx")
    monkeypatch.setattr(ingest_mod, "write_feedback", full)
    done = []
    with pytest.raises(OSError, match="File too large"):
        ingest_mod.ingest_files(workspace, files, progress=done.append)
    assert [Path(r.path).name for r in done] == [f.name for f in files[:3]]
    assert done[2].kept and done[2].status == "rejected" and done[2].submission_id
    held = {x[0] for x in workspace.ledger.query("SELECT sha256 FROM submissions")}
    assert {r.sha256 for r in done if r.kept} == held


@pytest.mark.parametrize("room", [60_000, 250_000])
def test_under_a_file_size_limit_the_json_lists_exactly_the_files_recorded(
        workspace, filled, tmp_path, room):
    files = copies(filled("DH"), tmp_path / "inbox", 30)
    workspace.ledger.close()
    limit = (workspace.root / "ledger.sqlite").stat().st_size + room

    def cap():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    r = run("ingest", str(tmp_path / "inbox"), "-w", str(workspace.root), "--json", preexec=cap)
    one_line_error(r)
    done = json.loads(r.stdout)
    held = {x[0] for x in sqlite3.connect(workspace.root / "ledger.sqlite").execute(
        "SELECT sha256 FROM submissions")}
    assert {d["sha256"] for d in done} == held
    assert len(done) < len(files)
