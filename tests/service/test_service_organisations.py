"""Organisations that return their own figures (a trust's A&E return) on the service:
accounts tied to the organisation, the unit's dashboard lists each organisation's state."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from deliverypack.cli import app as cli
from deliverypack.ledger.workspace import Workspace
from deliverypack.sample.filler import fill_workbook
from deliverypack.sample.programme import ACTIONS, sample_register, sample_workspace
from deliverypack.service.app import create_app
from deliverypack.service.engine import Engine
from deliverypack.service.ops import add_user
from deliverypack.templates.issue import issue_organisation_returns, issue_returns
from deliverypack.validation.register import write_register
from service_kit import PASSWORD, ROUND, client, csrf_of, log_in, spec_of

TRUST_PEOPLE = {"t1": "pat@trust-one.nhs.uk", "t1-approver": "sro@trust-one.nhs.uk",
                "t2": "lee@trust-two.nhs.uk"}


@pytest.fixture
def trusts(tmp_path):
    """The sample programme with the A&E measure returned by each trust itself."""
    root = tmp_path / "ws"
    sample_workspace(root)
    reg = sample_register()
    for m in reg.measures:
        if m.id == "AE4":
            m.returned_by = "organisation"
    write_register(root / "register.xlsx", reg, ACTIONS)
    workspace = Workspace.open(root)
    issue_returns(workspace, ROUND)
    papers = issue_organisation_returns(workspace, ROUND)
    t1, t2 = papers[0], papers[1]
    filled = fill_workbook(t1, spec_of(workspace, t1), workspace.register, tmp_path / t1.name)
    workspace.ledger.close()
    ids = [p.name.split("-")[0] for p in (t1, t2)]
    engine = Engine(root)
    add_user(engine, TRUST_PEOPLE["t1"], "Pat", ids[0], "submitter", password=PASSWORD)
    add_user(engine, TRUST_PEOPLE["t1-approver"], "Sam Sro", ids[0], "approver",
             password=PASSWORD)
    add_user(engine, TRUST_PEOPLE["t2"], "Lee", ids[1], "submitter", password=PASSWORD)
    add_user(engine, "unit@example.gov.uk", "Unit", None, "unit", password=PASSWORD)
    engine.close()
    return create_app(root), ids, filled


def login(app, email: str):
    c = client(app)
    assert log_in(c, email).status_code == 303
    return c


def test_a_trust_uploads_its_own_return_and_its_approver_signs_it_off(trusts):
    app, (t1, t2), filled = trusts
    pat = login(app, TRUST_PEOPLE["t1"])
    page = pat.get("/returns").text
    assert f"/returns/{ROUND}/template" in page
    template = pat.get(f"/returns/{ROUND}/template")
    assert f'filename="{t1}-{ROUND}.xlsx"' in template.headers["content-disposition"]
    r = pat.post("/returns/upload", data={"csrf": csrf_of(page)},
                 files={"file": (filled.name, filled.read_bytes())})
    assert r.status_code == 303
    sub = r.headers["location"]
    assert "Accepted" in pat.get(sub).text

    lee = login(app, TRUST_PEOPLE["t2"])  # another trust sees nothing of it
    assert lee.get(sub).status_code == 403
    refused = lee.post("/returns/upload", data={"csrf": csrf_of(lee.get("/returns").text)},
                       files={"file": (filled.name, filled.read_bytes())})
    assert refused.status_code == 403

    sro = login(app, TRUST_PEOPLE["t1-approver"])
    assert sro.post(f"{sub}/signoff",
                    data={"csrf": csrf_of(sro.get(sub).text)}).status_code == 303
    unit = login(app, "unit@example.gov.uk")
    dash = unit.get(f"/unit?round={ROUND}").text
    orgs = dash[dash.index('id="organisations"'):]
    row = re.search(rf'<tr data-department="{t1}">(.*?)</tr>', orgs, re.S).group(1)
    assert "signed off" in row and "Sam Sro" in row
    other = re.search(rf'<tr data-department="{t2}">(.*?)</tr>', orgs, re.S).group(1)
    assert "not started" in other


def test_the_status_api_gives_organisations_within_the_tokens_reach(trusts):
    """GET /api/v1/status answers as `status --json` does, organisations included: the unit
    sees all, a department its own organisations and measures, an organisation itself."""
    app, (t1, t2), filled = trusts
    root = app.state.svc.engine.root

    def token(*args: str) -> str:
        r = CliRunner().invoke(cli, ["token", "create", *args, "-w", str(root)])
        assert r.exit_code == 0, r.output
        return r.output.strip()

    def status(tok: str) -> dict:
        r = client(app).get(f"/api/v1/status?round={ROUND}",
                            headers={"Authorization": f"Bearer {tok}"})
        assert r.status_code == 200
        return r.json()

    pat = login(app, TRUST_PEOPLE["t1"])
    pat.post("/returns/upload", data={"csrf": csrf_of(pat.get("/returns").text)},
             files={"file": (filled.name, filled.read_bytes())})

    every = status(token("--unit"))
    cli_json = CliRunner().invoke(cli, ["status", "--round", ROUND, "--json", "-w", str(root)])
    assert every == json.loads(cli_json.stdout)
    orgs = {o["organisation"]: o for o in every["organisations"][ROUND]["returns"]}
    assert orgs[t1]["status"] == "awaiting sign-off" and orgs[t2]["status"] == "not returned"
    assert any(c["measure"] == "AE4" for c in every["organisations"][ROUND]["coverage"])

    own = status(token("--department", t1))
    assert own[ROUND] == []
    assert [o["organisation"] for o in own["organisations"][ROUND]["returns"]] == [t1]
    assert own["organisations"][ROUND]["coverage"] == []  # other trusts' states stay hidden

    dh = status(token("--department", "DH"))
    assert {o["organisation"] for o in dh["organisations"][ROUND]["returns"]} == set(orgs)
    assert {c["measure"] for c in dh["organisations"][ROUND]["coverage"]} == {"AE4"}
    ho = status(token("--department", "HO"))
    assert ho["organisations"][ROUND] == {"returns": [], "coverage": []}
