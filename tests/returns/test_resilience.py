"""One bad file never costs the batch: huge, crashing and special files are each rejected
with a code while every other file is ingested; the exit status is 1 and the JSON valid.
Every damaged file is generated here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bookkit import add_cells, assert_batch, cli, copies, far_cell, rewrite, sheet_part
from deliverypack.returns.ingest import ingest_files, validate_file
from places import FAULTS


@pytest.mark.parametrize("case", ["far-cell", "lying-dimension", "lying-shared-strings",
                                  "cells-without-references"])
def test_a_file_that_would_exhaust_the_reader_is_refused_unread(workspace, filled, tmp_path, case):
    good = filled("DH")
    bad = tmp_path / f"{case}.xlsx"
    if case == "far-cell":
        far_cell(good, bad)
        code, sheet = "sheet-too-large", "Cover"
    elif case == "lying-dimension":
        part = sheet_part(good, "Cover")
        rewrite(good, bad, lambda n, d: d.replace(b'<dimension ref="', b'<dimension ref="'
                                                  b'A1:XFD1048576" x="') if n == part else d)
        code, sheet = "sheet-too-large", "Cover"
    elif case == "lying-shared-strings":
        def change(name, data):
            return data
        change.extra = True
        with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad, "w") as zout:
            for item in zin.infolist():
                zout.writestr(item.filename, zin.read(item.filename))
            zout.writestr("xl/sharedStrings.xml", b'<sst xmlns="http://schemas.openxmlformats'
                          b'.org/spreadsheetml/2006/main" count="4000000000" '
                          b'uniqueCount="4000000000"><si><t>a</t></si></sst>')
        code, sheet = "package-damaged", ""
    else:  # cells with no reference follow each other: 20,000 of them run past column XFD
        add_cells(good, bad, "Cover", b"<row>" + b"<c/>" * 20000 + b"</row>")
        code, sheet = "sheet-too-large", "Cover"
    rep, _ = validate_file(workspace, bad)
    assert not rep.valid
    hit = next(i for i in rep.issues if i.code == code)
    assert hit.sheet == sheet and bad.name in (rep.file,)


def test_notes_below_the_template_are_read_but_a_far_row_in_a_table_sheet_is_not(
        workspace, filled, tmp_path):
    """A table sheet is bounded by the template's area (its last named row + room). A note
    far below the inputs is read, and reported as outside them: it is never lost."""
    good = filled("DH")
    near = add_cells(good, tmp_path / "near.xlsx", "Cover", b'<row r="500"><c r="H500" '
                     b't="inlineStr"><is><t>a note</t></is></c></row>')
    assert [(i.code, i.sheet, i.cell) for i in validate_file(workspace, near)[0].errors] == [
        ("outside-input", "Cover", "H500")]
    from deliverypack.validation.read import ROW_ROOM
    spec_sheet = next(s.name for s in workspace.ledger.template(
        validate_file(workspace, good)[0].template_id).sheets if s.name != "Cover")
    far = add_cells(good, tmp_path / "far.xlsx", spec_sheet,
                    f'<row r="{ROW_ROOM + 5000}"><c r="B{ROW_ROOM + 5000}" t="inlineStr">'
                    '<is><t>x</t></is></c></row>'.encode())
    rep, _ = validate_file(workspace, far)
    assert [(i.code, i.sheet) for i in rep.errors] == [("sheet-too-large", spec_sheet)]


def test_special_files_are_refused_without_being_opened(workspace, filled, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a-zero.xlsx").symlink_to("/dev/zero")
    (inbox / "b-passwd.xlsx").symlink_to("/etc/passwd")
    os.mkfifo(inbox / "c-fifo.xlsx")
    good = filled("DH")
    os.replace(good, inbox / "d-good.xlsx")
    r = cli("ingest", str(inbox), "-w", str(workspace.root), "--json", timeout=60)
    assert r.returncode == 1, r.stderr
    out = {Path(x["file"]).name: x for x in json.loads(r.stdout)}
    for name, kind in (("a-zero.xlsx", "symbolic link"), ("b-passwd.xlsx", "symbolic link"),
                       ("c-fifo.xlsx", "named pipe")):
        assert out[name]["status"] == "rejected"
        assert out[name]["issues"][0]["code"] == "not-a-regular-file"
        assert kind in out[name]["issues"][0]["message"]
    assert out["d-good.xlsx"]["status"] == "accepted"
    archived = [p.read_bytes() for p in workspace.archive.glob("*.xlsx")]
    assert not any(b"root:" in b for b in archived)  # /etc/passwd was never copied
    assert len(archived) == 1


def test_a_linked_folder_in_the_inbox_is_refused_not_followed(workspace, filled, tmp_path):
    """organisations/ linked to a folder outside the inbox, and another folder linked to
    /etc: neither is listed nor read; the link is refused as a linked file is."""
    inbox, outside = tmp_path / "inbox", tmp_path / "outside"
    inbox.mkdir()
    outside.mkdir()
    os.replace(filled("DH", name="DH-outside.xlsx"), outside / "DH-2002-12.xlsx")
    (inbox / "organisations").symlink_to(outside, target_is_directory=True)
    (inbox / "etc").symlink_to("/etc", target_is_directory=True)
    os.replace(filled("HO"), inbox / "HO-2002-12.xlsx")
    for command in ("ingest", "validate"):
        r = cli(command, str(inbox), "-w", str(workspace.root), "--json", timeout=60)
        assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
        out = {Path(x["file"]).name: x for x in json.loads(r.stdout)}
        assert set(out) == {"organisations", "HO-2002-12.xlsx"}
        assert out["HO-2002-12.xlsx"]["status"] == "accepted"
        link = out["organisations"]
        assert link["status"] == "rejected" and link["sha256"] == ""
        assert [(i["code"], "symbolic link" in i["message"]) for i in link["issues"]] == [
            ("not-a-regular-file", True)]
        assert "passwd" not in r.stderr and f"{inbox / 'etc'}: a symbolic link (not " \
            "followed)" in " ".join(r.stderr.split())
    rows = workspace.ledger.query("SELECT department, status FROM submissions")
    assert [tuple(x) for x in rows] == [("HO", "accepted")]  # the outside DH return unread
    assert len(list(workspace.archive.glob("*.xlsx"))) == 1


def _batch(workspace, filled, tmp_path, n: int, bad_at: list[int], make_bad) -> list[Path]:
    files = copies(filled("DH"), tmp_path / "inbox", n)
    for k in bad_at:
        make_bad(files[k], files[k])
    return files


def test_a_huge_file_in_the_middle_of_a_batch_of_20_costs_only_itself(workspace, filled, tmp_path):
    files = _batch(workspace, filled, tmp_path, 20, [10], lambda s, d: far_cell(s, d.with_suffix(
        ".tmp")).replace(d))
    r = cli("ingest", str(tmp_path / "inbox"), "-w", str(workspace.root), "--json")
    assert_batch(workspace, r, files, {10: "sheet-too-large"})


def test_a_crash_inside_the_reader_costs_only_that_file_on_the_parallel_path(
        workspace, filled, tmp_path):
    """300 files on worker processes: one aborts its worker (SIGABRT inside the reader),
    one is huge; both are rejected by name, the other 298 are ingested."""
    mark = "abort-the-reader-here"

    def crashing(src, dst):
        tmp = dst.with_suffix(".tmp")
        rewrite(src, tmp, lambda n, d: d.replace(b"</cp:coreProperties>",
                                                 f"<dc:subject>{mark}</dc:subject>"
                                                 "</cp:coreProperties>".encode())
                if n == "docProps/core.xml" else d, stored=("docProps/core.xml",))
        tmp.replace(dst)
    files = copies(filled("DH"), tmp_path / "inbox", 300)
    crashing(files[150], files[150])
    far_cell(files[40], files[40].with_suffix(".tmp")).replace(files[40])
    env = {"PYTHONPATH": os.pathsep.join([str(FAULTS), os.environ.get(
        "PYTHONPATH", "")]), "DP_FAULT_ABORT_MARK": mark}
    r = cli("ingest", str(tmp_path / "inbox"), "-w", str(workspace.root), "--json", "--jobs", "2",
            env=env)
    assert_batch(workspace, r, files, {150: "reader-crashed", 40: "sheet-too-large"})
    # and the crash is real: the same file read in one process takes the process down
    alone = subprocess.run([sys.executable, "-c", "import sys; from deliverypack.ledger."
                            "workspace import Workspace; from deliverypack.returns.ingest "
                            "import validate_file; validate_file(Workspace.open(sys.argv[1]), "
                            "sys.argv[2])", str(workspace.root), str(files[150])],
                           env={**os.environ, **env}, capture_output=True, timeout=300)
    assert alone.returncode == -6, alone.stderr[-2000:]  # SIGABRT


def test_a_crash_inside_the_reader_costs_only_that_file_on_the_serial_path(
        workspace, filled, tmp_path):
    """20 files on one job: the reads run in one worker process, so a file that aborts
    the reader (SIGABRT) is rejected by name and the other 19 are ingested."""
    mark = "abort-the-reader-here"
    files = copies(filled("DH"), tmp_path / "inbox", 20)
    rewrite(files[9], files[9].with_suffix(".tmp"), lambda n, d: d.replace(
        b"</cp:coreProperties>", f"<dc:subject>{mark}</dc:subject></cp:coreProperties>"
        .encode()) if n == "docProps/core.xml" else d, stored=("docProps/core.xml",)
    ).replace(files[9])
    env = {"PYTHONPATH": os.pathsep.join([str(FAULTS), os.environ.get(
        "PYTHONPATH", "")]), "DP_FAULT_ABORT_MARK": mark}
    r = cli("ingest", str(tmp_path / "inbox"), "-w", str(workspace.root), "--json", "--jobs", "1",
            env=env)
    assert_batch(workspace, r, files, {9: "reader-crashed"})


def test_pool_path_recovers_in_process(workspace, filled, tmp_path):
    """The in-library parallel path gives the same result as the serial one for a batch
    holding a huge file."""
    files = copies(filled("DH"), tmp_path / "inbox", 6)
    far_cell(files[3], files[3].with_suffix(".tmp")).replace(files[3])
    reps = ingest_files(workspace, files, jobs=2)
    assert [r.status for r in reps] == ["accepted"] * 3 + ["rejected"] + ["accepted"] * 2


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            kids = [int(k) for k in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except OSError:
            continue
        out += kids
        todo += kids
    return out


def _running(pid: int) -> bool:
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc (Linux)")
def test_workers_die_with_a_killed_ingest(workspace, filled, tmp_path):
    import signal
    import time
    copies(filled("DH"), tmp_path / "inbox", 300)
    proc = subprocess.Popen([sys.executable, "-m", "deliverypack.cli", "ingest",
                             str(tmp_path / "inbox"), "-w", str(workspace.root), "--jobs", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.monotonic()
    while len(_descendants(proc.pid)) < 3 and time.monotonic() - t0 < 60:
        time.sleep(0.05)
    kids = _descendants(proc.pid)
    assert len(kids) >= 3, "the forkserver and its workers never started"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    t0 = time.monotonic()
    while any(_running(k) for k in kids) and time.monotonic() - t0 < 10:
        time.sleep(0.1)
    assert not [k for k in kids if _running(k)], "processes outlived the killed ingest"


def test_feedback_for_a_file_too_large_to_read_lists_its_problems_alone(workspace, filled,
                                                                        tmp_path):
    """Bounded time and memory: the oversized return is never loaded to be annotated."""
    from openpyxl import load_workbook

    from deliverypack.returns.ingest import ingest_file
    good = filled("DH")
    sheet = next(s.name for s in workspace.ledger.template(validate_file(workspace,
                                                                         good)[0].template_id)
                 .sheets if s.name != "Cover")
    bad = add_cells(good, tmp_path / "DH-huge.xlsx", sheet,
                    b'<row r="900000"><c r="Z900000" t="inlineStr"><is><t>x</t></is></c>'
                    b'</row>')
    rep = ingest_file(workspace, bad)
    assert rep.feedback is not None and not rep.valid
    wb = load_workbook(rep.feedback)
    assert wb.sheetnames == ["Problems"]
    rows = [[c.value for c in r] for r in wb["Problems"].iter_rows(min_row=5)]
    assert any(r[2] == sheet and "Z900000" in r[4] for r in rows), rows
