"""The service under attack: CSRF, session fixation, open redirects, path tricks in
downloads, oversized uploads, password guessing, invitations."""

from __future__ import annotations

import sqlite3

from typer.testing import CliRunner

from deliverypack.cli import app as cli
from service_kit import (  # noqa: F401  (fixtures)
    PASSWORD,
    PEOPLE,
    ROUND,
    SAMPLES,
    _service_base,
    app,
    client,
    csrf_of,
    log_in,
    service_root,
    sign_in,
    upload,
)


def _login(c, who: str, password: str = PASSWORD, next_: str = ""):
    return log_in(c, PEOPLE[who][0], password, next_)


def test_forms_without_the_sessions_csrf_token_change_nothing(app, service_root):
    c = client(app)
    csrf = sign_in(c, "dh-submitter")
    path = SAMPLES / "DH-2002-12.xlsx"
    for token in ("", "forged", csrf[:-1]):
        r = c.post("/returns/upload", data={"csrf": token},
                   files={"file": (path.name, path.read_bytes())})
        assert r.status_code == 403 and "did not come from this service" in r.text
    other = client(app)
    other_csrf = sign_in(other, "dh-approver")
    r = c.post("/returns/upload", data={"csrf": other_csrf},  # another session's token
               files={"file": (path.name, path.read_bytes())})
    assert r.status_code == 403
    db = sqlite3.connect(service_root / "ledger.sqlite")
    assert db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0
    assert upload(c, csrf, path).status_code == 303  # the right token works


def test_the_sign_in_form_needs_its_own_token(app):
    c = client(app)
    c.get("/login")
    r = c.post("/login", data={"csrf": "guess", "email": PEOPLE["unit"][0],
                               "password": PASSWORD})
    assert r.status_code == 403 and "dp_session" not in r.headers.get("set-cookie", "")


def test_sign_in_never_keeps_a_session_id_the_browser_brought(app):
    c = client(app)
    planted = "attacker-chosen-session-id"
    c.cookies.set("dp_session", planted, domain="testserver.local")
    r = _login(c, "dh-submitter")
    assert r.status_code == 303
    fresh = r.cookies.get("dp_session")
    assert fresh and fresh != planted
    attacker = client(app)
    attacker.cookies.set("dp_session", planted, domain="testserver.local")
    assert attacker.get("/returns").headers["location"].startswith("/login")
    # signing in again replaces the session; the old id stops working
    again = _login(c, "dh-submitter")
    assert again.cookies.get("dp_session") != fresh
    stale = client(app)
    stale.cookies.set("dp_session", fresh, domain="testserver.local")
    assert stale.get("/returns").status_code == 303


def test_session_cookie_is_secure_httponly_and_samesite(app):
    r = _login(client(app), "unit")
    cookie = next(v for k, v in r.headers.multi_items()
                  if k == "set-cookie" and v.startswith("dp_session="))
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie


def test_after_sign_in_only_this_sites_pages_are_followed(app):
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example",
                 "http:/evil.example", "/%0d%0aLocation: https://evil.example", "javascript:x"):
        r = _login(client(app), "unit", next_=evil)
        assert r.status_code == 303
        where = r.headers["location"]
        if evil.startswith("/%"):  # percent-encoded text stays a path on this site
            assert where.startswith("/%0d%0aLocation:") and "\n" not in where
        else:
            assert where == "/unit", (evil, where)
    r = _login(client(app), "unit", next_=f"/unit/framework?round={ROUND}")
    assert r.headers["location"] == f"/unit/framework?round={ROUND}"
    page = client(app).get("/login?next=https://evil.example/")
    assert 'name="next" value="/"' in page.text


def test_path_tricks_in_download_routes_find_nothing(app, service_root):
    u = client(app)
    sign_in(u, "unit")
    d = client(app)
    sign_in(d, "dh-submitter")
    ledger = (service_root / "ledger.sqlite").read_bytes()[:16]
    attempts = [
        (u, "/unit/outputs/..%2Fledger.sqlite"), (u, "/unit/outputs/../ledger.sqlite"),
        (u, "/unit/outputs/%2E%2E%2Fdeliverypack.toml"),
        (u, "/unit/outputs/master-2002-12.xlsx%00"),
        (u, "/unit/outputs/..%5Cledger.sqlite"), (u, "/submissions/..%2F..%2Fledger.sqlite"),
        (u, "/submissions/1%2F..%2F..%2Fledger.sqlite/feedback"),
        (u, "/submissions/-1/feedback"),
        (d, f"/returns/{ROUND}%2F..%2F..%2Fledger.sqlite/template"),
        (d, "/returns/..%2F..%2Fregister.xlsx%23/template"), (d, "/returns/..%2F..%2F/template"),
        (u, "/static/..%2F..%2F..%2Fledger.sqlite"), (u, "/static/../app.py"),
    ]
    for c, url in attempts:
        r = c.get(url)
        assert r.status_code in (403, 404), (url, r.status_code)
        assert ledger not in r.content and b"[programme]" not in r.content


def test_an_upload_over_the_limit_is_refused_before_its_body_is_read(app, service_root):
    c = client(app)
    csrf = sign_in(c, "dh-submitter")
    pulled = []

    def body():
        for _ in range(100):  # bounded: 100 chunks of 64 KiB at most
            pulled.append(1)
            yield b"x" * 65536
    r = c.post("/returns/upload", content=body(),
               headers={"content-length": str(50 * 1024 * 1024),
                        "content-type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413 and "larger than the service accepts" in r.text
    assert len(pulled) <= 2  # the server answered from the declared size
    big = service_root.parent / "big.xlsx"
    big.write_bytes(b"PK" + b"\0" * (3 * 1024 * 1024))
    assert upload(c, csrf, big).status_code == 413
    assert not any((service_root / "inbox" / "service").glob("*/big.xlsx"))


def test_password_guessing_locks_the_account(app, service_root):
    c = client(app)
    for _ in range(5):
        r = _login(c, "dh-approver", "wrong password 123")
        assert r.status_code == 401 and "do not match" in r.text
    r = _login(c, "dh-approver")  # the right password, now too late
    assert r.status_code == 401 and "locked" in r.text
    db = sqlite3.connect(service_root / "ledger.sqlite")
    h = db.execute("SELECT password_hash FROM service_accounts WHERE email=?",
                   (PEOPLE["dh-approver"][0],)).fetchone()[0]
    assert h.startswith("$argon2id$")
    failed = db.execute("SELECT COUNT(*) FROM service_audit WHERE action='sign-in failed' AND "
                        "actor=?", (PEOPLE["dh-approver"][0],)).fetchone()[0]
    assert failed == 6


def test_many_failures_from_one_address_make_it_wait(app):
    c = client(app)
    for n in range(20):  # bounded: the address limit, spread over made-up accounts
        page = c.get("/login")
        c.post("/login", data={"csrf": csrf_of(page.text), "email": f"guess{n}@example.gov.uk",
                               "password": "guess"})
    r = _login(c, "unit")  # a real account and password, from the same address
    assert r.status_code == 401 and "Too many failed attempts from this address" in r.text


def test_an_invitation_link_works_once(app, service_root):
    out = CliRunner().invoke(cli, ["users", "add", "new.dh@example.gov.uk", "--name",
                                   "New Submitter", "--department", "DH", "--role",
                                   "submitter", "-w", str(service_root)])
    assert out.exit_code == 0, out.output
    link = next(w for w in out.output.split() if "/invite/" in w)
    path = link[link.index("/invite/"):]
    c = client(app)
    page = c.get(path)
    assert page.status_code == 200 and "New Submitter" in page.text
    short = c.post(path, data={"csrf": csrf_of(page.text), "password": "short",
                               "again": "short"})
    assert short.status_code == 400 and "at least 12" in short.text
    new_password = "a long new password"
    ok = c.post(path, data={"csrf": csrf_of(page.text), "password": new_password,
                            "again": new_password})
    assert ok.status_code == 303
    assert c.get(path).status_code == 404  # spent
    login = c.get("/login")
    r = c.post("/login", data={"csrf": csrf_of(login.text), "email": "new.dh@example.gov.uk",
                               "password": new_password})
    assert r.status_code == 303 and r.headers["location"] == "/returns"


def test_an_expired_invitation_is_refused(app, service_root):
    out = CliRunner().invoke(cli, ["users", "add", "late@example.gov.uk", "--name", "Late",
                                   "--role", "unit", "-w", str(service_root)])
    path = out.output[out.output.index("/invite/"):].split()[0]
    db = sqlite3.connect(service_root / "ledger.sqlite")
    db.execute("UPDATE service_invitations SET expires_at='2000-01-01T00:00:00'")
    db.commit()
    db.close()
    assert client(app).get(path).status_code == 404


def test_users_add_refuses_bad_input_plainly(service_root):
    r = CliRunner().invoke(cli, ["users", "add", "x@example.gov.uk", "--name", "X",
                                 "--department", "NOPE", "--role", "submitter", "-w",
                                 str(service_root)])
    assert r.exit_code == 2 and "NOPE" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(cli, ["users", "add", "y@example.gov.uk", "--name", "Y", "--role",
                                 "boss", "-w", str(service_root)])
    assert r.exit_code == 2 and "submitter, approver, unit, admin" in r.output
    r = CliRunner().invoke(cli, ["users", "add", "z@example.gov.uk", "--name", "Z", "--role",
                                 "unit", "--password-stdin", "-w", str(service_root)],
                           input="short\n")
    assert r.exit_code == 2 and "at least 12" in r.output
