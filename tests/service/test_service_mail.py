"""E-mail, read back from a real SMTP server (aiosmtpd) that the test starts on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import io
import socket
from email.message import EmailMessage

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from deliverypack.cli import app as cli
from deliverypack.service.app import create_app
from deliverypack.service.engine import Engine
from deliverypack.service.ops import remind
from service_kit import (  # noqa: F401  (fixtures)
    PEOPLE,
    ROUND,
    SAMPLES,
    _service_base,
    client,
    service_root,
    sign_in,
    upload,
)

aiosmtpd = pytest.importorskip("aiosmtpd.controller")


class Inbox:
    """Every message the server received."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(
            envelope.content, policy=email.policy.default)))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.messages if address in rcpt]

    def take(self) -> list[tuple[list[str], EmailMessage]]:
        out, self.messages = self.messages, []
        return out


@pytest.fixture
def inbox(service_root):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    box = Inbox()
    server = aiosmtpd.Controller(box, hostname="127.0.0.1", port=port)
    server.start()
    settings = service_root / "deliverypack.toml"
    settings.write_text(settings.read_text() + f'\n[smtp]\nhost = "127.0.0.1"\nport = {port}\n'
                        'sender = "unit@example.gov.uk"\n\n[service]\n'
                        'base_url = "https://returns.example.gov.uk"\n')
    yield box
    server.stop()


def body(m: EmailMessage) -> str:
    return m.get_body(("plain",)).get_content()


def test_an_invitation_is_mailed_with_the_link_printed(service_root, inbox):
    r = CliRunner().invoke(cli, ["users", "add", "kim@example.gov.uk", "--name", "Kim",
                                 "--department", "HO", "--role", "approver", "-w",
                                 str(service_root)])
    assert r.exit_code == 0 and "also e-mailed" in r.output
    link = next(w for w in r.output.split() if "/invite/" in w)
    [m] = inbox.to("kim@example.gov.uk")
    assert "approver account" in body(m) and link in body(m)
    assert link.startswith("https://returns.example.gov.uk/invite/")


def test_upload_receipts_and_the_sign_off_request(service_root, inbox):
    app = create_app(service_root)
    c = client(app)
    csrf = sign_in(c, "dh-submitter")
    upload(c, csrf, service_root.parent / "files" / "DH-2002-12-broken.xlsx")
    [rejected] = inbox.to(PEOPLE["dh-submitter"][0])
    assert rejected["Subject"].endswith("Return rejected: DH-2002-12-broken.xlsx")
    text = body(rejected)
    assert "Sheet 'DH1 A&E 4 hours', cell" in text and "found 'n/a'" in text
    [attached] = [p for p in rejected.walk() if p.get_filename()]
    assert attached.get_filename() == "DH-2002-12-broken.feedback.xlsx"
    wb = load_workbook(io.BytesIO(attached.get_payload(decode=True)))
    assert wb.sheetnames[0] == "Problems"
    assert not inbox.to(PEOPLE["dh-approver"][0])  # nothing to sign off yet
    inbox.take()

    upload(c, csrf, SAMPLES / "DH-2002-12.xlsx")
    [accepted] = inbox.to(PEOPLE["dh-submitter"][0])
    assert "Return received" in accepted["Subject"]
    [ask] = inbox.to(PEOPLE["dh-approver"][0])
    assert "Sign-off needed" in ask["Subject"]
    assert "https://returns.example.gov.uk/submissions/" in body(ask)
    assert not inbox.to(PEOPLE["ho-approver"][0])


def test_remind_sends_each_reminder_once(service_root, inbox):
    engine = Engine(service_root)
    due = engine.call(lambda: engine.workspace.register.round(ROUND).due)
    try:
        soon = remind(engine, today=due - dt.timedelta(days=3))
        assert {(r.department, r.kind) for r in soon} >= {("DH", "due soon"),
                                                          ("HO", "due soon")}
        dh = inbox.to(PEOPLE["dh-approver"][0])
        assert len(dh) == 1 and dh[0]["Subject"].endswith(
            "Reminder: Department of Health return for "
            f"{engine.workspace.register.round(ROUND).label} "
            f"due {due.isoformat()}")
        assert remind(engine, today=due - dt.timedelta(days=2)) == []  # cron again: nothing
        inbox.take()
        late = remind(engine, today=due + dt.timedelta(days=1))
        assert {r.kind for r in late} == {"overdue"}
        assert "was due on" in body(inbox.to(PEOPLE["ho-submitter"][0])[0])
        assert remind(engine, today=due + dt.timedelta(days=9)) == []
        assert remind(engine, today=due - dt.timedelta(days=30)) == []  # too early
    finally:
        engine.close()


def test_remind_from_the_command_line_and_from_the_dashboard(service_root, inbox):
    r = CliRunner().invoke(cli, ["remind", "--round", ROUND, "-w", str(service_root)])
    assert r.exit_code == 0 and f"{ROUND} DH: overdue reminder sent to" in r.output
    again = CliRunner().invoke(cli, ["remind", "--round", ROUND, "-w", str(service_root)])
    assert again.output.strip() == "No reminders due."
    inbox.take()
    app = create_app(service_root)
    u = client(app)
    csrf = sign_in(u, "unit")
    r = u.post("/unit/remind", data={"csrf": csrf, "department": "HO", "round": ROUND})
    assert r.status_code == 303 and "sent=HO" in r.headers["location"]
    sent = inbox.take()
    assert {a for rcpt, _ in sent for a in rcpt} == {PEOPLE["ho-submitter"][0],
                                                     PEOPLE["ho-approver"][0]}


def test_mail_trouble_is_said_plainly_and_sends_nothing_twice(service_root):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = service_root / "deliverypack.toml"
    settings.write_text(settings.read_text() + f'\n[smtp]\nhost = "127.0.0.1"\nport = {port}\n')
    r = CliRunner().invoke(cli, ["remind", "--round", ROUND, "-w", str(service_root)])
    assert r.exit_code == 1 and "could not send e-mail through 127.0.0.1" in r.output
    assert "Traceback" not in r.output
    r = CliRunner().invoke(cli, ["users", "add", "pat@example.gov.uk", "--name", "Pat",
                                 "--role", "unit", "-w", str(service_root)])
    assert r.exit_code == 0 and "/invite/" in r.output and "also e-mailed" not in r.output
    engine = Engine(service_root)
    try:
        claimed = engine.store.all("SELECT * FROM service_reminders")
    finally:
        engine.close()
    assert claimed == []  # a reminder that could not go is tried again next run
