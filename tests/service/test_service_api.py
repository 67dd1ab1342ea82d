"""The JSON API answers as `ingest --json` and `status --json` do, within the token's reach."""

from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from deliverypack.cli import app as cli
from service_kit import (  # noqa: F401  (fixtures)
    ROUND,
    SAMPLES,
    _service_base,
    app,
    client,
    service_root,
)


def token(root, *args: str) -> str:
    r = CliRunner().invoke(cli, ["token", "create", *args, "-w", str(root)])
    assert r.exit_code == 0, r.output
    return r.output.strip()


def post(app, tok: str | None, path):
    headers = {"Authorization": f"Bearer {tok}"} if tok else {}
    return client(app).post("/api/v1/returns", headers=headers,
                            files={"file": (path.name, path.read_bytes())})


def cli_json(root, path) -> dict:
    """What `ingest --json` prints for the same file, in a copy of the same workspace."""
    r = CliRunner().invoke(cli, ["ingest", str(path), "--json", "-w", str(root)])
    return json.loads(r.stdout)[0]


def test_an_upload_answers_with_the_object_ingest_json_prints(app, service_root, tmp_path):
    twin = tmp_path / "twin"
    shutil.copytree(service_root, twin)
    dh = token(service_root, "--department", "DH")
    bad = service_root.parent / "files" / "DH-2002-12-broken.xlsx"
    r = post(app, dh, bad)
    assert r.status_code == 422
    got, want = r.json(), cli_json(twin, bad)
    assert set(got) == set(want)
    for key in want:
        if key not in ("file", "feedback"):
            assert got[key] == want[key], key
    assert got["file"] == bad.name and got["status"] == "rejected"
    assert got["feedback"].endswith("/feedback")
    good = post(app, dh, SAMPLES / "DH-2002-12.xlsx")
    assert good.status_code == 200 and good.json()["status"] == "accepted"
    assert good.json()["issues"] == cli_json(twin, SAMPLES / "DH-2002-12.xlsx")["issues"]


def test_no_token_a_wrong_token_or_another_departments_return(app, service_root):
    path = SAMPLES / "HO-2002-12.xlsx"
    assert post(app, None, path).status_code == 401
    assert post(app, "not-a-token", path).status_code == 401
    dh = token(service_root, "--department", "DH")
    r = post(app, dh, path)
    assert r.status_code == 403 and "not a DH return" in r.json()["error"]
    status = client(app).get(f"/api/v1/status?round={ROUND}",
                             headers={"Authorization": f"Bearer {dh}"}).json()
    assert status[ROUND][0]["status"] == "not returned"  # the HO file was not kept


def test_status_is_limited_to_the_tokens_department(app, service_root, tmp_path):
    dh, unit = token(service_root, "--department", "DH"), token(service_root, "--unit")
    post(app, dh, SAMPLES / "DH-2002-12.xlsx")
    mine = client(app).get(f"/api/v1/status?round={ROUND}",
                           headers={"Authorization": f"Bearer {dh}"}).json()
    assert [s["department"] for s in mine[ROUND]] == ["DH"]
    # sent through the service: it counts once the approver signs it off, and says so
    assert mine[ROUND][0]["status"] == "awaiting sign-off"
    assert "awaits the approver's sign-off; until then no return counts" in \
        mine[ROUND][0]["problems"][0]
    # the department's organisations: coverage of its own measures only
    assert {c["measure"] for c in mine["organisations"][ROUND]["coverage"]} == {"AE4"}
    every = client(app).get(f"/api/v1/status?round={ROUND}",
                            headers={"Authorization": f"Bearer {unit}"}).json()
    r = CliRunner().invoke(cli, ["status", "--round", ROUND, "--json", "-w", str(service_root)])
    assert every == json.loads(r.stdout)
    assert client(app).get("/api/v1/status").status_code == 401


def test_token_create_needs_exactly_one_scope(service_root):
    r = CliRunner().invoke(cli, ["token", "create", "-w", str(service_root)])
    assert r.exit_code == 2 and "--department ID or --unit" in r.output
