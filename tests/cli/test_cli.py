"""The CLI contract: exit codes, JSON shape, plain errors and no tracebacks for bad input."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from conftest import block, spec_of
from deliverypack.cli import app
from places import ROOT

runner = CliRunner()


def test_init_sample_and_templates(tmp_path):
    workspace = tmp_path / "ws"
    r = runner.invoke(app, ["init", str(workspace), "--sample"])
    assert r.exit_code == 0 and (workspace / "register.xlsx").exists()
    r = runner.invoke(app, ["templates", "--round", "2002-12", "-w", str(workspace)])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (workspace / "outbox" / "2002-12").iterdir()) == [
        "BIS-2002-12.xlsx", "DH-2002-12.xlsx", "DWP-2002-12.xlsx", "DfES-2002-12.xlsx",
        "HO-2002-12.xlsx"]
    r = runner.invoke(app, ["init", str(workspace)])
    assert r.exit_code == 1 and "already a workspace" in r.output


def test_usage_errors_exit_2_without_traceback(workspace):
    r = runner.invoke(app, ["templates", "--round", "1999-01", "-w", str(workspace.root)])
    assert r.exit_code == 2 and "unknown round '1999-01'" in r.output
    assert "Traceback" not in r.output
    r = runner.invoke(app, ["status", "-w", str(workspace.root / "nowhere")])
    assert r.exit_code == 1 and "not a deliverypack workspace" in r.output


def test_validate_and_ingest_json_and_exit_codes(workspace, filled, tmp_path):
    good = filled("HO")
    spec = spec_of(workspace, good)
    traj = block(spec, "traj")
    i = next(k for k, r in enumerate(traj.rows) if "actual" in r.inputs)
    bad = filled("DH", overrides={(block(spec_of(workspace,
                                                 workspace.outbox("2002-12") / "DH-2002-12.xlsx"),
                                         "traj").name, i, "actual"): "n/a"})
    r = runner.invoke(app, ["validate", str(good), "-w", str(workspace.root), "--json"])
    assert r.exit_code == 0
    out = json.loads(r.stdout)
    assert out[0]["status"] == "accepted" and out[0]["department"] == "HO"
    # validate keeps nothing
    assert workspace.ledger.query("SELECT count(*) FROM submissions")[0][0] == 0
    r = runner.invoke(app, ["ingest", str(good), str(bad), "-w", str(workspace.root), "--json"])
    assert r.exit_code == 1
    out = {o["department"]: o for o in json.loads(r.stdout)}
    assert out["HO"]["status"] == "accepted"
    issue = next(x for x in out["DH"]["issues"] if x["code"] == "not-a-number")
    assert set(issue) >= {"code", "severity", "sheet", "cell", "message"}
    assert issue["message"].startswith(f"Sheet '{issue['sheet']}', cell {issue['cell']}:")
    hostile = tmp_path / "x.xlsx"
    hostile.write_bytes(b"%PDF-1.4 not a workbook")
    r = runner.invoke(app, ["ingest", str(hostile), "-w", str(workspace.root)])
    assert r.exit_code == 1 and "a PDF document" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["status", "--round", "2002-12", "-w", str(workspace.root), "--json"])
    st = {s["department"]: s for s in json.loads(r.stdout)["2002-12"]}
    assert st["HO"]["status"] == "accepted" and st["DH"]["status"] == "rejected"
    assert st["BIS"]["status"] == "not returned"


def test_formula_looking_text_is_kept_as_text_in_the_ledger(workspace, filled):
    from deliverypack.returns.ingest import ingest_file
    spec = spec_of(workspace, workspace.outbox("2002-12") / "HO-2002-12.xlsx")
    risks = block(spec, "risks")
    texts = ['=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3", "@SUM(1)"]
    path = filled("HO", overrides={(risks.name, i, "risk"): t for i, t in enumerate(texts)})
    rep = ingest_file(workspace, path)
    assert rep.valid and rep.codes() == {"formula-text"}
    stored = [r[0] for r in workspace.ledger.query(
        "SELECT text FROM texts WHERE kind='risk' AND priority_id='HO1' ORDER BY seq")]
    assert stored == texts


def test_every_command_is_documented_in_the_readme():

    import typer.main
    readme = (ROOT / "README.md").read_text()
    group = typer.main.get_group(app)
    names = []
    for name, cmd in group.commands.items():
        sub = getattr(cmd, "commands", None)
        names += [f"{name} {s}" for s in sub] if sub else [name]
    assert len(names) >= 15
    missing = [n for n in names if f"deliverypack {n}" not in readme]
    assert not missing, f"commands not in the README: {missing}"


def test_ingest_uses_workers_only_for_batches_big_enough(workspace, filled, monkeypatch):
    """A handful of returns is ingested on one process (starting workers would cost more);
    a big batch on every core; --jobs always wins."""
    import os

    import deliverypack.cli as cli
    import deliverypack.returns.ingest as ingest
    used = []
    real = ingest.ingest_files

    def spy(ws_, files, **kw):
        used.append(kw["jobs"])
        return real(ws_, files, **{**kw, "jobs": 1})
    monkeypatch.setattr(ingest, "ingest_files", spy)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    good = str(filled("HO"))
    runner.invoke(app, ["ingest", good, "-w", str(workspace.root), "--json"])
    runner.invoke(app, ["ingest", good, "-w", str(workspace.root), "--json", "--jobs", "3"])
    monkeypatch.setattr(cli, "SMALL_BATCH", 1)
    runner.invoke(app, ["ingest", good, "-w", str(workspace.root), "--json"])
    assert used == [1, 3, 4]


def test_the_service_commands_fail_in_one_line_with_their_exit_codes(tmp_path):
    """users, token and remind outside a workspace: one `Error:` line naming the folder,
    exit 1; a usage error is said before the workspace is opened, exit 2."""
    nowhere = str(tmp_path / "nowhere")
    for args in (["users", "add", "a@example.gov.uk", "--name", "A", "--role", "unit"],
                 ["users", "deactivate", "a@example.gov.uk"], ["token", "create", "--unit"],
                 ["token", "revoke"], ["remind"]):
        r = runner.invoke(app, [*args, "-w", nowhere], input="a-token\n")
        assert r.exit_code == 1, (args, r.output)
        assert r.output.splitlines() == [
            f"Error: {nowhere} is not a deliverypack workspace (no deliverypack.toml); "
            f"create one with: deliverypack init {nowhere}"], args
    r = runner.invoke(app, ["token", "create", "-w", nowhere])
    assert (r.exit_code, r.output) == (2, "Error: say one of --department ID or --unit\n")
    r = runner.invoke(app, ["token", "revoke", "-w", nowhere], input="\n")
    assert (r.exit_code, r.output) == (2, "Error: expected the token on standard input\n")
