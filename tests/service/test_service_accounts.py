"""Accounts end: `users deactivate` and the admin's page deactivate an account, its sessions
end at once, it cannot sign in again, and the audit log says who did it."""

from __future__ import annotations

import re
import sqlite3

from typer.testing import CliRunner

from deliverypack.cli import app as cli
from service_kit import (  # noqa: F401  (fixtures)
    PASSWORD,
    PEOPLE,
    _service_base,
    app,
    client,
    csrf_of,
    log_in,
    service_root,
    sign_in,
)


def audit(root) -> list[tuple[str, str, str, str]]:
    db = sqlite3.connect(root / "ledger.sqlite")
    try:
        return db.execute("SELECT actor, action, object, detail FROM service_audit "
                          "ORDER BY id").fetchall()
    finally:
        db.close()


def can_sign_in(app, who: str) -> bool:
    return log_in(client(app), PEOPLE[who][0]).status_code == 303


def test_users_deactivate_ends_the_sessions_and_the_sign_in(app, service_root):
    dh = client(app)
    sign_in(dh, "dh-submitter")
    assert dh.get("/returns").status_code == 200
    r = CliRunner().invoke(cli, ["users", "deactivate", PEOPLE["dh-submitter"][0], "-w",
                                 str(service_root)])
    assert r.exit_code == 0, r.output
    assert "deactivated; 1 session(s) ended" in r.output
    page = dh.get("/returns")  # the same browser, its session gone
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert not can_sign_in(app, "dh-submitter")
    assert can_sign_in(app, "dh-approver")  # nobody else is touched
    assert ("cli", "account deactivated", PEOPLE["dh-submitter"][0],
            "role submitter, department DH; 1 session(s) ended") in audit(service_root)
    db = sqlite3.connect(service_root / "ledger.sqlite")
    assert db.execute("SELECT COUNT(*) FROM service_sessions s JOIN service_accounts a ON "
                      "a.id=s.account_id WHERE a.email=?",
                      (PEOPLE["dh-submitter"][0],)).fetchone()[0] == 0
    db.close()

    again = CliRunner().invoke(cli, ["users", "deactivate", PEOPLE["dh-submitter"][0], "-w",
                                     str(service_root)])
    assert again.exit_code != 0 and "already deactivated" in again.output
    unknown = CliRunner().invoke(cli, ["users", "deactivate", "nobody@example.gov.uk", "-w",
                                       str(service_root)])
    assert unknown.exit_code != 0 and "no account for nobody@example.gov.uk" in unknown.output
    readd = CliRunner().invoke(cli, ["users", "add", PEOPLE["dh-submitter"][0], "--name", "X",
                                     "--role", "submitter", "--department", "DH", "-w",
                                     str(service_root)])
    assert readd.exit_code != 0 and "deactivated" in readd.output
    assert "Traceback" not in readd.output


def test_the_admin_deactivates_from_the_accounts_page(app, service_root):
    ho = client(app)
    sign_in(ho, "ho-approver")
    admin = client(app)
    csrf = sign_in(admin, "admin")
    page = admin.get("/admin/accounts").text
    email = PEOPLE["ho-approver"][0]
    row = re.search(rf'<tr data-account="{re.escape(email)}">(.*?)</tr>', page, re.S).group(1)
    action = re.search(r'action="(/admin/accounts/\d+/deactivate)"', row).group(1)
    r = admin.post(action, data={"csrf": csrf})
    assert r.status_code == 200 and f"{email} deactivated; 1 session(s) ended" in r.text
    row = re.search(rf'<tr data-account="{re.escape(email)}" class="inactive">(.*?)</tr>',
                    r.text, re.S).group(1)
    assert "deactivated" in row and "Deactivate</button>" not in row
    assert ho.get("/returns").status_code == 303
    assert (PEOPLE["admin"][0], "account deactivated", email) in [
        a[:3] for a in audit(service_root)]
    assert admin.post(action, data={"csrf": csrf}).status_code == 409  # already done
    assert admin.post(action, data={"csrf": "forged"}).status_code == 403

    own = re.search(rf'<tr data-account="{re.escape(PEOPLE["admin"][0])}">(.*?)</tr>', page,
                    re.S).group(1)
    assert "deactivate" not in own  # no button to lock yourself out
    admin_id = sqlite3.connect(service_root / "ledger.sqlite").execute(
        "SELECT id FROM service_accounts WHERE role='admin'").fetchone()[0]
    mine = admin.post(f"/admin/accounts/{admin_id}/deactivate", data={"csrf": csrf})
    assert mine.status_code == 409 and "your own account" in mine.text
    assert admin.post("/admin/accounts/9999/deactivate", data={"csrf": csrf}).status_code == 404
