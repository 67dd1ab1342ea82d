"""`rebuild` brings the collection service back from archive/ alone: accounts (with their
passwords), tokens and their revocation, warnings acknowledged, sign-offs and the audit
log, so the papers built after a rebuild are the papers built before it."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from deliverypack.cli import app as cli
from deliverypack.service.app import create_app
from deliverypack.service.ops import add_user
from service_kit import (  # noqa: F401  (fixtures)
    PASSWORD,
    ROUND,
    SAMPLES,
    _service_base,
    cli_run,
    client,
    csrf_of,
    log_in,
    service_root,
    sign_in,
    upload,
)

NEW_PASSWORD = "a long enough invited password"
ACK = "Typed as text; the value is right"


def master_cells(root: Path) -> dict[str, list[tuple]]:
    cli_run(root, "master", "--round", ROUND)
    wb = load_workbook(root / "outputs" / f"master-{ROUND}.xlsx")
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in wb}


def rows(root: Path, sql: str) -> list[tuple]:
    db = sqlite3.connect(root / "ledger.sqlite")
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def dh_status(root: Path) -> dict:
    table = json.loads(cli_run(root, "status", "--round", ROUND, "--json"))[ROUND]
    return next(s for s in table if s["department"] == "DH")


def api_status(app, token: str) -> int:
    return client(app).get(f"/api/v1/status?round={ROUND}",
                           headers={"Authorization": f"Bearer {token}"}).status_code


AUDIT = "SELECT at, actor, action, object, ip, detail FROM service_audit ORDER BY id"
ACKS = ("SELECT s.sha256, a.issue_no - (SELECT MIN(rowid) FROM issues i WHERE "
        "i.submission_id=a.submission_id), a.comment, a.account_id, a.at FROM "
        "service_warning_acks a JOIN submissions s ON s.id=a.submission_id")
SIGNOFFS = ("SELECT s.sha256, o.department, o.round, o.account_id, o.at FROM "
            "service_signoffs o JOIN submissions s ON s.id=o.submission_id")
ACCOUNTS = "SELECT id, email, name, department, role, password_hash, active FROM " \
           "service_accounts ORDER BY id"
TOKENS = "SELECT * FROM service_tokens ORDER BY token_hash"


def test_rebuild_restores_accounts_tokens_acknowledgements_signoffs_and_audit(
        service_root, tmp_path):
    root = service_root
    app = create_app(root, max_upload_bytes=2 * 1024 * 1024)
    engine = app.state.svc.engine
    # an account made by invitation, its password set through the invitation page
    link = add_user(engine, "invited@example.gov.uk", "Invited Person", "DH",
                    "submitter").link
    assert link is not None
    token_path = "/invite/" + link.rsplit("/invite/", 1)[1]
    b = client(app)
    form = b.get(token_path)
    assert b.post(token_path, data={"csrf": csrf_of(form.text), "password": NEW_PASSWORD,
                                    "again": NEW_PASSWORD}).status_code == 303
    # and one deactivated
    add_user(engine, "gone@example.gov.uk", "Gone Person", "HO", "approver",
             password=PASSWORD)
    cli_run(root, "users", "deactivate", "gone@example.gov.uk")

    # a DH return with warnings: uploaded, every warning acknowledged, signed off
    c = client(app)
    csrf = sign_in(c, "dh-submitter")
    sub_url = upload(c, csrf, root.parent / "files" / "DH-2002-12-warning.xlsx"
                     ).headers["location"]
    nos = re.findall(r'name="ack-(\d+)"', c.get(sub_url).text)
    assert nos, "a warning to acknowledge"
    assert c.post(f"{sub_url}/acknowledge",
                  data={"csrf": csrf, **{f"ack-{n}": ACK for n in nos}}).status_code == 303
    a = client(app)
    a_csrf = sign_in(a, "dh-approver")
    assert a.post(f"{sub_url}/signoff", data={"csrf": a_csrf}).status_code == 303
    # an HO upload left awaiting sign-off, and an e-mailed return beside them
    h = client(app)
    upload(h, sign_in(h, "ho-submitter"), SAMPLES / "HO-2002-12.xlsx")
    # tokens: one live, one revoked
    live = cli_run(root, "token", "create", "--department", "DH").strip()
    gone = cli_run(root, "token", "create", "--unit").strip()
    assert cli_run(root, "token", "revoke", stdin=gone + "\n")
    assert api_status(app, live) == 200 and api_status(app, gone) == 401
    engine.close()

    signed = dh_status(root)
    assert signed["status"] == "accepted" and signed["file"] == "DH-2002-12-warning.xlsx"
    before = {q: rows(root, q) for q in (AUDIT, ACKS, SIGNOFFS, ACCOUNTS, TOKENS)}
    assert len(before[ACKS]) == len(nos) and len(before[SIGNOFFS]) == 1
    assert any(r[2] == "return signed off" for r in before[AUDIT])
    master_before = master_cells(root)

    # the ledger is lost; archive/ alone brings everything back
    for extra in ("", "-wal", "-shm"):
        Path(f"{root / 'ledger.sqlite'}{extra}").unlink(missing_ok=True)
    assert "Ledger rebuilt" in cli_run(root, "rebuild")
    cli_run(root, "check")

    after = {q: rows(root, q) for q in (AUDIT, ACKS, SIGNOFFS, ACCOUNTS, TOKENS)}
    for q, kept in before.items():
        assert after[q] == kept, q
    assert [r[6] for r in after[ACCOUNTS] if r[1] == "gone@example.gov.uk"] == [0]
    assert dh_status(root) == signed  # the signed-off upload still counts
    assert master_cells(root) == master_before

    app = create_app(root, max_upload_bytes=2 * 1024 * 1024)
    try:
        for who in ("dh-submitter", "dh-approver", "unit", "admin"):
            sign_in(client(app), who)  # the same passwords
        assert log_in(client(app), "invited@example.gov.uk", NEW_PASSWORD).status_code == 303
        # deactivated stays deactivated
        assert log_in(client(app), "gone@example.gov.uk").status_code == 401
        assert c.get(sub_url).status_code in (302, 303)  # sessions do not survive
        page = client(app)
        sign_in(page, "dh-approver")
        sid = rows(root, "SELECT id FROM submissions WHERE file_name="
                         "'DH-2002-12-warning.xlsx'")[0][0]
        shown = page.get(f"/submissions/{sid}").text
        assert ACK in shown and "Alex Dh" in shown
        assert api_status(app, live) == 200 and api_status(app, gone) == 401
        unit = client(app)
        sign_in(unit, "unit")
        dash = unit.get(f"/unit?round={ROUND}").text
        dh = re.search(r'<tr data-department="DH">(.*?)</tr>', dash, re.S).group(1)
        ho = re.search(r'<tr data-department="HO">(.*?)</tr>', dash, re.S).group(1)
        assert "signed off" in dh and "awaiting sign-off" in ho
    finally:
        app.state.svc.engine.close()


def test_check_names_a_service_record_it_cannot_read(service_root):
    folder = service_root / "archive" / "service"
    record = sorted(folder.glob("*-account.journal.json"))[0]
    record.write_text('{"kind": "account", "email": ')
    with open(folder / "audit.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"at": "2002-12-')
    r = CliRunner().invoke(cli, ["check", "-w", str(service_root)])
    assert r.exit_code != 0
    out = " ".join(r.output.split())
    assert f"archive/service/{record.name} cannot be read" in out
    assert "archive/service/audit.jsonl, line" in out
