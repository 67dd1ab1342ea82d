"""Workspace settings: what init writes is what the code assumes, and nothing dead."""

from __future__ import annotations

import tomllib

from deliverypack.ledger.workspace import SETTINGS_FILE, Workspace, init_workspace


def test_settings_without_a_marking_use_the_one_init_writes(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    written = tomllib.loads((ws.root / SETTINGS_FILE).read_text())
    assert ws.marking == written["programme"]["protective_marking"]
    (ws.root / SETTINGS_FILE).write_text('[programme]\nname = "P"\n')
    assert Workspace.open(ws.root).marking == written["programme"]["protective_marking"]


def test_init_writes_only_settings_something_reads(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    written = tomllib.loads((ws.root / SETTINGS_FILE).read_text())
    assert set(written) == {"programme"}  # [returns] jobs was written and read by nothing
    assert set(written["programme"]) == {"name", "unit", "protective_marking"}
    assert (ws.programme, ws.unit_name) == (written["programme"]["name"],
                                            written["programme"]["unit"])
