"""Workspace settings: what init writes is what the code assumes, and nothing dead."""

from __future__ import annotations

import tomllib

from deliverypack.ledger.workspace import SETTINGS_FILE, Workspace, init_workspace


def test_settings_without_a_marking_use_the_one_init_writes(tmp_path):
    workspace = init_workspace(tmp_path / "ws")
    written = tomllib.loads((workspace.root / SETTINGS_FILE).read_text())
    assert workspace.marking == written["programme"]["protective_marking"]
    (workspace.root / SETTINGS_FILE).write_text('[programme]\nname = "P"\n')
    assert Workspace.open(workspace.root).marking == written["programme"]["protective_marking"]


def test_init_writes_only_settings_something_reads(tmp_path):
    workspace = init_workspace(tmp_path / "ws")
    written = tomllib.loads((workspace.root / SETTINGS_FILE).read_text())
    assert set(written) == {"programme"}  # [returns] jobs was written and read by nothing
    assert set(written["programme"]) == {"name", "unit", "protective_marking"}
    assert (workspace.programme, workspace.unit_name) == (written["programme"]["name"],
                                            written["programme"]["unit"])
