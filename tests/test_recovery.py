"""The ledger can be checked, backed up and rebuilt from archive/ alone; a lost ledger is
never silently replaced by an empty one."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from pptx import Presentation
from typer.testing import CliRunner

from deliverypack.cli import app
from deliverypack.demo import run_demo
from deliverypack.ledger.workspace import Workspace

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory) -> Path:
    from rich.console import Console
    root = tmp_path_factory.mktemp("demo") / "ws"
    run_demo(root, Console(quiet=True))
    return root


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _papers(root: Path, out: Path) -> dict[str, Path]:
    """The papers built from the ledger, written outside the workspace."""
    from deliverypack.outputs.agenda_pack import write_pack
    from deliverypack.outputs.deck import build_deck
    from deliverypack.outputs.delivery_report import write_report
    from deliverypack.outputs.master import build_master
    from deliverypack.sample.rounds import MEETINGS

    workspace = Workspace.open(root)
    out.mkdir(parents=True, exist_ok=True)
    rnd = workspace.round_or_latest(None)
    papers = {"master": build_master(workspace, rnd, out / "master.xlsx"),
              "deck": build_deck(workspace, rnd, target=out / "deck.pptx"),
              "report": write_report(workspace, rnd, "HO", target=out / "report.docx"),
              "pack": write_pack(workspace, "EOL", MEETINGS[1], target=out / "pack.docx")}
    workspace.ledger.close()
    return papers


def _workbook_values(path: Path) -> dict:
    wb = load_workbook(path)
    return {sheet.title: [[c.value for c in row] for row in sheet.iter_rows()]
            for sheet in wb.worksheets}


def _deck_content(path: Path) -> list:
    out = []
    for slide in Presentation(path).slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                out.append(shape.text_frame.text)
            if getattr(shape, "has_chart", False) and shape.has_chart:
                out.append([(s.name, list(s.values)) for p in shape.chart.plots
                            for s in p.series])
            if getattr(shape, "has_table", False) and shape.has_table:
                out.append([[c.text for c in r.cells] for r in shape.table.rows])
        out.append(slide.notes_slide.notes_text_frame.text if slide.has_notes_slide else "")
    return out


def _doc_content(path: Path) -> list:
    d = Document(path)
    return [p.text for p in d.paragraphs] + [[[c.text for c in r.cells] for r in t.rows]
                                             for t in d.tables]


def _tables(path: Path) -> dict[str, list]:
    db = sqlite3.connect(path)
    out = {}
    for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'"):
        cols = [c[1] for c in db.execute(f"PRAGMA table_info({t})")]
        keep = [c for c in cols if c != "created_at"]  # when the register was first read
        out[t] = sorted(map(repr, db.execute(f"SELECT {', '.join(keep)} FROM {t}")))
    db.close()
    return out


def test_rebuild_after_the_full_demo_gives_the_same_ledger_and_papers(demo_ws, tmp_path):
    ws_dir = _copy(demo_ws, tmp_path / "ws")
    before = _papers(ws_dir, tmp_path / "before")
    status_before = runner.invoke(app, ["status", "-w", str(ws_dir), "--json"]).stdout
    tables_before = _tables(ws_dir / "ledger.sqlite")
    assert len(tables_before["submissions"]) > 10 and tables_before["meetings"]

    (ws_dir / "ledger.sqlite").unlink()
    r = runner.invoke(app, ["status", "-w", str(ws_dir)])
    assert r.exit_code == 1 and "deliverypack rebuild" in r.output
    assert not (ws_dir / "ledger.sqlite").exists()  # never silently re-created

    r = runner.invoke(app, ["rebuild", "-w", str(ws_dir)])
    assert r.exit_code == 0, r.output
    assert _tables(ws_dir / "ledger.sqlite") == tables_before
    assert runner.invoke(app, ["status", "-w", str(ws_dir), "--json"]).stdout == status_before
    after = _papers(ws_dir, tmp_path / "after")
    assert _workbook_values(after["master"]) == _workbook_values(before["master"])
    assert _deck_content(after["deck"]) == _deck_content(before["deck"])
    assert _doc_content(after["report"]) == _doc_content(before["report"])
    assert _doc_content(after["pack"]) == _doc_content(before["pack"])
    r = runner.invoke(app, ["check", "-w", str(ws_dir)])
    assert r.exit_code == 0 and "Ledger sound" in r.output


def test_an_empty_ledger_beside_an_archive_is_refused_with_how_to_restore(demo_ws,
                                                                          tmp_path):
    ws_dir = _copy(demo_ws, tmp_path / "ws")
    (ws_dir / "ledger.sqlite").write_bytes(b"")
    for cmd in (["status"], ["master", "-o", str(tmp_path / "m.xlsx")]):
        r = runner.invoke(app, [*cmd, "-w", str(ws_dir)])
        assert r.exit_code == 1 and "is empty" in r.output and "backup" in r.output
    assert not (tmp_path / "m.xlsx").exists()
    assert (ws_dir / "ledger.sqlite").stat().st_size == 0


def test_check_names_what_is_wrong(demo_ws, tmp_path):
    ws_dir = _copy(demo_ws, tmp_path / "ws")
    archived = sorted(p for p in (ws_dir / "archive").glob("*.xlsx"))
    archived[0].unlink()  # a submission's file gone
    stray = ws_dir / "archive" / ("0" * 64 + ".xlsx")
    stray.write_bytes(b"PK")  # an archived file with no record
    r = runner.invoke(app, ["check", "-w", str(ws_dir)])
    assert r.exit_code == 1
    assert f"{archived[0].name} is missing from archive/" in r.output
    assert f"archive/{stray.name} was left by an interrupted ingest" in r.output


def test_random_bytes_in_the_ledger_are_caught_and_writers_refuse(demo_ws, tmp_path):
    ws_dir = _copy(demo_ws, tmp_path / "ws")
    path = ws_dir / "ledger.sqlite"
    # the ledger at rest: the session's open connection may hold its newest pages in the WAL
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid:mid + 8192] = bytes((i * 151 + 7) % 256 for i in range(8192))
    path.write_bytes(bytes(data))
    r = subprocess.run([sys.executable, "-m", "deliverypack.cli", "check", "-w", str(ws_dir)],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip(), r.stdout
    r = subprocess.run([sys.executable, "-m", "deliverypack.cli", "ingest", "-w", str(ws_dir),
                        str(ws_dir / "inbox")], capture_output=True, text=True)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_backup_is_a_consistent_copy_made_while_the_ledger_is_open(demo_ws, tmp_path):
    ws_dir = _copy(demo_ws, tmp_path / "ws")
    writer = sqlite3.connect(ws_dir / "ledger.sqlite")
    writer.execute("BEGIN IMMEDIATE")  # an ingest holding the write lock
    writer.execute("UPDATE submissions SET contact='uncommitted'")
    r = runner.invoke(app, ["backup", str(tmp_path / "copy.sqlite"), "-w", str(ws_dir)])
    writer.rollback()
    writer.close()
    assert r.exit_code == 0, r.output
    copy = sqlite3.connect(tmp_path / "copy.sqlite")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("SELECT count(*) FROM submissions WHERE contact='uncommitted'"
                        ).fetchone()[0] == 0
    assert _tables(tmp_path / "copy.sqlite") == _tables(ws_dir / "ledger.sqlite")


def test_rebuild_restores_foreign_templates_and_their_returns(workspace, tmp_path):
    """A department's own workbook read through a datamap: the template (added twice, the
    second time with a new blank) and its returns, recognised or named, come back from
    archive/ alone, with the template's files, in the order they happened."""
    from openpyxl import Workbook

    from deliverypack.returns.foreign import add_template, export_master
    from deliverypack.returns.ingest import ingest_file

    def blank(labels: list[str], path: Path) -> Workbook:
        wb = Workbook()
        wb.active.title = "Return"
        for r, label in enumerate(labels, 1):
            wb.active.cell(row=r, column=1, value=label)
        wb.save(path)
        return wb
    dm = tmp_path / "map.csv"
    dm.write_text("cell_key,template_sheet,cellreference,type,maps_to\n"
                  "Department,Return,B1,TEXT,department\nCost,Return,B2,NUMBER,\n")
    wb = blank(["Department", "Cost"], tmp_path / "blank1.xlsx")
    add_template(workspace, "SMALL", tmp_path / "blank1.xlsx", dm)
    for dept, cost, named in (("DH", 1.5, True), ("HO", 2.5, False)):
        wb.active["B1"], wb.active["B2"] = dept, cost
        wb.save(tmp_path / f"{dept}-2003-12.xlsx")
        rep = ingest_file(workspace, tmp_path / f"{dept}-2003-12.xlsx", round_id="2003-12",
                          template="SMALL" if named else None)
        assert rep.valid and rep.kind == "foreign", rep.issues
    wb = blank(["Department", "Cost (£m)"], tmp_path / "blank2.xlsx")
    add_template(workspace, "SMALL", tmp_path / "blank2.xlsx", dm)  # a new blank: labels differ
    wb.active["B1"], wb.active["B2"] = "DH", 3.5
    wb.save(tmp_path / "DH-2003-12-revised.xlsx")
    assert ingest_file(workspace, tmp_path / "DH-2003-12-revised.xlsx", round_id="2003-12").valid
    export_master(workspace, "SMALL", tmp_path / "before.xlsx")
    tables_before = _tables(workspace.ledger_path)
    assert len(tables_before["foreign_values"]) == 6
    assert runner.invoke(app, ["check", "-w", str(workspace.root)]).exit_code == 0
    workspace.ledger.close()

    workspace.ledger_path.unlink()
    shutil.rmtree(workspace.root / "foreign")  # the template's files too: archive/ is enough
    r = runner.invoke(app, ["rebuild", "-w", str(workspace.root)])
    assert r.exit_code == 0, r.output
    after = _tables(workspace.ledger_path)
    # the register's actions are re-adopted at the rebuild, dated by it (not journaled)
    assert [a.rsplit(", ", 1)[0] for a in after.pop("actions")] == \
        [a.rsplit(", ", 1)[0] for a in tables_before.pop("actions")]
    assert after == tables_before
    assert (workspace.root / "foreign" / "SMALL" / "blank.xlsx").read_bytes() == \
        (tmp_path / "blank2.xlsx").read_bytes()
    from deliverypack.ledger.workspace import Workspace
    export_master(Workspace.open(workspace.root), "SMALL", tmp_path / "after.xlsx")
    assert _workbook_values(tmp_path / "after.xlsx") == \
        _workbook_values(tmp_path / "before.xlsx")
    assert [[c for c in row] for row in load_workbook(tmp_path / "after.xlsx")
            .active.iter_rows(values_only=True)] == [["key", "DH", "HO"],
                                                     ["Department", "DH", "HO"],
                                                     ["Cost", 3.5, 2.5]]


def test_check_names_a_foreign_template_a_rebuild_would_lose(workspace, tmp_path):
    from openpyxl import Workbook

    from deliverypack.returns.foreign import add_template
    wb = Workbook()
    wb.active.title = "Return"
    wb.save(tmp_path / "blank.xlsx")
    (tmp_path / "map.csv").write_text("cell_key,template_sheet,cellreference,type,maps_to\n"
                                      "Cost,Return,B2,NUMBER,\n")
    add_template(workspace, "SMALL", tmp_path / "blank.xlsx", tmp_path / "map.csv")
    for p in (workspace.archive / "foreign").glob("*.journal.json"):
        p.unlink()  # as a template added before templates were kept in archive/
    r = runner.invoke(app, ["check", "-w", str(workspace.root)])
    assert r.exit_code == 1 and "foreign template SMALL has no record" in r.output


def _actions(path: Path) -> list[tuple]:
    with closing(sqlite3.connect(path)) as db:
        return db.execute("SELECT * FROM actions ORDER BY id").fetchall()


def test_rebuild_adopts_the_register_actions_adopted_then_not_the_register_now(workspace):
    """Register actions are adopted into the ledger when it is opened; each adoption is
    journaled, so a rebuild after the register changed gives the actions it had."""
    from deliverypack.ledger.workspace import ADOPTIONS, adoptions
    from deliverypack.returns.recovery import rebuild
    from deliverypack.validation.register import read_register, write_register

    root = workspace.root
    workspace.ledger.close()
    before = _actions(root / "ledger.sqlite")
    assert before and adoptions(workspace)
    kept = {a["id"] for rec in adoptions(workspace) for a in rec["actions"]}
    assert kept == {row[0] for row in before}

    reg, actions, _ = read_register(workspace.register_path)
    changed = [{**actions[0], "description": "Reworded after adoption"},
               *actions[2:],
               {**actions[1], "id": "NEW-1", "description": "Added after adoption"}]
    write_register(workspace.register_path, reg, changed)

    rebuilt = Workspace.open(root)
    rebuild(rebuilt, force=True)
    assert _actions(root / "ledger.sqlite") == before  # descriptions, origins, times alike

    # opened again, the ledger adopts what is new in the register, and journals it
    again = Workspace.open(root)
    ids = {r["id"] for r in again.ledger.query("SELECT id FROM actions")}
    again.ledger.close()
    assert "NEW-1" in ids
    assert [a["id"] for a in adoptions(again)[-1]["actions"]] == ["NEW-1"]
    assert len(list((root / "archive" / ADOPTIONS).iterdir())) == len(adoptions(again))
    rebuild(Workspace.open(root), force=True)
    assert {row[0] for row in _actions(root / "ledger.sqlite")} == ids


def _orphan(workspace: Workspace, src: Path, age: float) -> Path:
    """What a batch ingest's worker leaves when the ingest is killed before the journal:
    the bytes archived under their hash, nothing else."""
    import hashlib
    import os
    import time
    data = src.read_bytes()
    dst = workspace.archive / f"{hashlib.sha256(data).hexdigest()}.xlsx"
    dst.write_bytes(data)
    os.utime(dst, (time.time() - age, time.time() - age))
    return dst


def test_an_orphan_of_an_interrupted_ingest_is_said_not_damage_and_swept(workspace, filled,
                                                                         tmp_path):
    """An archived file with neither journal nor record is what an ingest killed after
    its worker archived a file leaves: `check` says so and passes; the next ingest running
    alone moves it to archive/orphans/ once it is ten minutes old (never while another
    ingest runs, never a fresh one); the department's file, ingested again, is recorded."""
    import fcntl
    import os

    from bookkit import copies
    from deliverypack.returns.ingest import IngestLock, ingest_files
    from deliverypack.returns.recovery import check

    sent = copies(filled("DH"), tmp_path / "inbox", 5)
    assert [r.status for r in ingest_files(workspace, sent[:1])] == ["accepted"]
    old, fresh = _orphan(workspace, sent[1], 3600), _orphan(workspace, sent[2], 0)
    res = check(workspace)
    assert res.ok and res.archived == 1, res.problems
    assert [line.split(" ")[0] for line in res.left] == [
        f"archive/{p.name}" for p in sorted([old, fresh])]
    r = runner.invoke(app, ["check", "-w", str(workspace.root)])
    assert r.exit_code == 0 and "Ledger sound" in r.output
    assert f"archive/{old.name} was left by an interrupted ingest" in " ".join(r.output.split())
    # another ingest running: nothing is swept
    fd = os.open(workspace.root / IngestLock.NAME, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        ingest_files(workspace, sent[3:4])
        assert old.exists() and fresh.exists()
    finally:
        os.close(fd)
    ingest_files(workspace, sent[4:5])  # alone now
    assert not old.exists() and (workspace.archive / "orphans" / old.name).exists()
    assert fresh.exists()
    assert [line.split(" ")[0] for line in check(workspace).left] == [f"archive/{fresh.name}"]
    # the department's file is still where it was sent: ingested again, it is recorded
    assert [r.status for r in ingest_files(workspace, [sent[1], sent[2]])] == ["accepted"] * 2
    assert old.exists()
    res = check(workspace)
    assert res.ok and not res.left and res.archived == 5
    r = runner.invoke(app, ["rebuild", "--force", "-w", str(workspace.root)])
    assert r.exit_code == 0, r.output
    assert check(Workspace.open(workspace.root)).ok


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc (Linux)")
def test_after_kill_9_of_an_ingest_check_passes_and_the_next_ingests_clear_what_it_left(
        workspace, filled, tmp_path):
    """A real kill -9 of a batch ingest on two workers, while its workers archive ahead
    of the journal: `check` finds no damage; an ingest of other files clears what it left
    once old enough; a rebuild gives a ledger that checks sound."""
    import os
    import signal
    import time

    from bookkit import copies
    from deliverypack.returns.ingest import unclaimed
    from deliverypack.returns.recovery import check

    copies(filled("DH"), tmp_path / "inbox", 200)
    other = copies(filled("HO"), tmp_path / "other", 1)
    proc = subprocess.Popen([sys.executable, "-m", "deliverypack.cli", "ingest",
                             str(tmp_path / "inbox"), "-w", str(workspace.root), "--jobs", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.monotonic()
    while len(list(workspace.archive.glob("*.xlsx"))) < 40 and time.monotonic() - t0 < 120:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(1)  # the workers die with it
    workspace = Workspace.open(workspace.root)
    res = check(workspace)
    assert res.ok, res.problems
    left = unclaimed(workspace)
    assert left, "the kill left nothing archived ahead of its journal"
    for p in left:  # as if ten minutes had passed
        os.utime(p, (time.time() - 3600, time.time() - 3600))
    r = subprocess.run([sys.executable, "-m", "deliverypack.cli", "ingest", str(other[0]), "-w",
                        str(workspace.root)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert not unclaimed(workspace)
    assert len(list((workspace.archive / "orphans").glob("*.xlsx"))) == len(left)
    res = check(workspace)
    assert res.ok and not res.left, res.problems
    r = runner.invoke(app, ["rebuild", "--force", "-w", str(workspace.root)])
    assert r.exit_code == 0, r.output
    assert check(Workspace.open(workspace.root)).ok
