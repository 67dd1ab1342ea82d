"""Organisations are first-class in collection: a round folder's organisations/ returns are
ingested, status and the returns log list them with each measure's coverage, a row can say
"not yet available", and plausible ranges apply at the level they were set for."""

from __future__ import annotations

import json
import shutil

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from conftest import spec_of
from deliverypack.cli import app
from deliverypack.consolidation.coverage import coverage
from deliverypack.ledger.workspace import Workspace
from deliverypack.returns.ingest import ingest_file, validate_file
from deliverypack.sample.filler import fill_workbook
from deliverypack.templates.issue import issue_organisation_returns

runner = CliRunner()


def _register(workspace: Workspace, tmp_path, **cols) -> Workspace:
    """The sample programme with AE4 (A&E within four hours) returned by each trust."""
    wb = load_workbook(workspace.register_path)
    sh = wb["Measures"]
    head = {c.value: c.column for c in sh[1]}
    row = next(c.row for c in sh["A"] if c.value == "AE4")
    for header, value in {"returned by": "organisation", **cols}.items():
        sh.cell(row=row, column=head[header]).value = value
    wb.save(workspace.register_path)
    workspace.ledger.close()
    root = tmp_path / "orgws"
    shutil.copytree(workspace.root, root)
    return Workspace.open(root)


@pytest.fixture
def org_ws(workspace, tmp_path) -> Workspace:
    return _register(workspace, tmp_path)


def _fill(workspace: Workspace, template, target, overrides=None):
    return fill_workbook(template, spec_of(workspace, template), workspace.register, target,
                         overrides=overrides)


def test_a_round_folder_takes_its_organisations_and_status_lists_them(org_ws, tmp_path):
    templates = issue_organisation_returns(org_ws, "2002-12")
    inbox = org_ws.inbox("2002-12") / "organisations"
    inbox.mkdir(parents=True)
    for t in templates[1:]:  # the first trust does not return
        _fill(org_ws, t, inbox / t.name)
    (org_ws.inbox("2002-12") / "notes.txt").write_text("sent by email")
    r = runner.invoke(app, ["ingest", str(org_ws.inbox("2002-12")), "-w", str(org_ws.root),
                            "--json"])
    out = json.loads(r.stdout)
    assert len(out) == len(templates) - 1 and all(o["status"] == "accepted" for o in out)
    assert "notes.txt: not a workbook" in r.stderr
    missing = templates[0].name.split("-")[0]
    n = len(templates)
    r = runner.invoke(app, ["status", "--round", "2002-12", "-w", str(org_ws.root)])
    assert f"{n - 1} of {n} trusts; partial, missing {missing}" in r.stdout.replace("\n", " ")
    r = runner.invoke(app, ["status", "--round", "2002-12", "-w", str(org_ws.root), "--json"])
    got = json.loads(r.stdout)
    assert {x["department"] for x in got["2002-12"]} >= {"DH", "HO"}  # as before
    rows = got["organisations"]["2002-12"]
    orgs = {x["organisation"]: x for x in rows["returns"]}
    assert orgs[missing]["status"] == "not returned" and len(orgs) == n
    cov = [x for x in rows["coverage"] if x["measure"] == "AE4"]
    assert cov and all(x["partial"] and x["missing"] == [missing] for x in cov), cov
    assert all(x["summary"] == f"{n - 1} of {n} trusts" for x in cov)
    # the master's returns log lists them too
    r = runner.invoke(app, ["master", "--round", "2002-12", "-w", str(org_ws.root)])
    assert r.exit_code == 0, r.output
    log = load_workbook(org_ws.outputs / "master-2002-12.xlsx")["Returns log"]
    cells = [[c.value for c in row] for row in log.iter_rows()]
    assert any(row[1] == f"{missing} (trust)" and row[2] == "not returned" for row in cells)
    assert any(row[2] == "partial" and f"{n - 1} of {n} trusts" in (row[8] or "")
               for row in cells)


def test_not_yet_available_is_accepted_with_a_warning_and_kept_as_a_gap(org_ws, tmp_path):
    template = issue_organisation_returns(org_ws, "2002-12")[0]
    spec = spec_of(org_ws, template)
    b = next(b for _, b in spec.blocks() if b.kind == "orgs")
    over = {(b.name, 0, "numerator"): None, (b.name, 0, "denominator"): None,
            (b.name, 0, "unavailable"): "Data system migration; figures due in February"}
    rep = ingest_file(org_ws, _fill(org_ws, template, tmp_path / template.name, over))
    assert rep.valid, rep.flatten(("code", "cell", "message"))
    hit = next(i for i in rep.issues if i.code == "not-yet-available")
    assert "Data system migration" in hit.message and "gap" in hit.message
    org, period = b.rows[0]["org"], b.rows[0]["period"]
    assert not org_ws.ledger.query("SELECT * FROM measure_values WHERE org_id=? AND period=?",
                                   org, period)
    c = coverage(org_ws.register, org_ws.ledger, "2002-12")[("AE4", period)]
    assert c.unavailable == {org: "Data system migration; figures due in February"}
    assert org not in c.returned and c.partial
    # without a reason, an empty figure is still an error that says what to do
    bad = _fill(org_ws, template, tmp_path / "bad.xlsx", {(b.name, 0, "numerator"): None})
    msg = next(i.message for i in validate_file(org_ws, bad)[0].issues
               if i.code == "required-missing")
    assert "or a reason in 'Not yet available: why'" in msg


def test_plausible_ranges_apply_at_the_level_they_were_set_for(workspace, tmp_path):
    org_ws = _register(workspace, tmp_path, **{"numerator": None, "denominator": None,
                                        "organisation plausible min": 20,
                                        "organisation plausible max": 100})
    template = issue_organisation_returns(org_ws, "2002-12")[0]
    spec = spec_of(org_ws, template)
    b = next(b for _, b in spec.blocks() if b.kind == "orgs")
    f = _fill(org_ws, template, tmp_path / "t.xlsx", {(b.name, 0, "value"): 40.0,
                                                      (b.name, 1, "value"): 10.0})
    rep, _ = validate_file(org_ws, f)
    implausible = [i for i in rep.issues if i.code == "implausible-value"]
    # 40% is below the national range (50-100) but a believable trust figure
    assert [i.found for i in implausible] == ["10%"]
    assert implausible[0].expected == "20 and 100"
