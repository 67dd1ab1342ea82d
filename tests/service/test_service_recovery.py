"""A service upload is one transaction, journalled as a service upload first: a fault
between keeping the file and recording who uploaded it leaves nothing that counts, and the
file comes back from its journal as an upload awaiting sign-off, never as an e-mailed
return that counts."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from openpyxl import load_workbook

import deliverypack.service.engine as engine_mod
from deliverypack.service.engine import Engine, Uploader
from service_kit import ROUND, SAMPLES, _service_base, cli_run, service_root  # noqa: F401

FILE = "HO-2002-12.xlsx"


def ho_status(root) -> dict:
    return next(s for s in json.loads(cli_run(root, "status", "--round", ROUND, "--json"))[ROUND]
                if s["department"] == "HO")


def ho_in_master(root) -> bool:
    cli_run(root, "master", "--round", ROUND)
    wb = load_workbook(root / "outputs" / f"master-{ROUND}.xlsx")
    return any(v == FILE for row in wb["Trajectories"].iter_rows(values_only=True)
               for v in row)


def journal_of(root) -> dict:
    recs = [json.loads(p.read_text()) for p in (root / "archive").glob("*.journal.json")]
    return next(r for r in recs if r["file_name"] == FILE)


def assert_restored_as_awaiting(root) -> None:
    engine = Engine(root)  # the service starting again reconciles
    pos = next(p for p in engine.positions(ROUND, "HO"))
    engine.close()
    assert pos.state == "awaiting sign-off" and pos.file == FILE
    st = ho_status(root)
    assert st["status"] == "awaiting sign-off" and st["file"] == FILE
    assert not ho_in_master(root)


def test_a_fault_between_keeping_and_recording_the_upload_leaves_it_awaiting(
        service_root, monkeypatch):
    def fail(*a, **k):
        raise OSError("disk I/O error")
    monkeypatch.setattr(engine_mod, "record_upload", fail)
    engine = Engine(service_root)
    with pytest.raises(OSError):
        engine.upload(SAMPLES / FILE, "HO", Uploader("HO", 3, None, "10.0.0.9"))
    engine.close()
    monkeypatch.undo()
    # one transaction: the submission was not recorded without its upload record ...
    assert ho_status(service_root)["status"] != "accepted"
    assert not ho_in_master(service_root)
    # ... and its journal already says who uploaded it
    assert journal_of(service_root)["service_upload"]["account_id"] == 3
    assert_restored_as_awaiting(service_root)
    assert ho_status(service_root)["status"] == "awaiting sign-off"


def test_a_kill_between_keeping_and_recording_the_upload_leaves_it_awaiting(service_root):
    script = (
        "import os, sys\n"
        "import deliverypack.service.engine as m\n"
        "from pathlib import Path\n"
        "def die(*a, **k): os._exit(9)\n"
        "m.record_upload = die\n"
        "e = m.Engine(Path(sys.argv[1]))\n"
        "e.upload(Path(sys.argv[2]), 'HO', m.Uploader('HO', 3, None, ''))\n")
    done = subprocess.run([sys.executable, "-c", script, str(service_root),
                           str(SAMPLES / FILE)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 9, done.stderr
    assert ho_status(service_root)["status"] != "accepted"
    # an e-mailed ingest of anything reconciles too: the upload still does not count
    cli_run(service_root, "ingest", str(SAMPLES / "DH-2002-12.xlsx"))
    st = ho_status(service_root)
    assert st["status"] == "awaiting sign-off" and st["file"] == FILE
    assert not ho_in_master(service_root)
    assert_restored_as_awaiting(service_root)
