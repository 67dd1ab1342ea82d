"""E-mail: invitations, upload receipts, sign-off requests and reminders.

SMTP settings come from the workspace's deliverypack.toml:

    [smtp]
    host = "smtp.example.gov.uk"
    port = 587
    sender = "delivery-unit@example.gov.uk"
    starttls = true
    username = "..."          # optional; the password from DELIVERYPACK_SMTP_PASSWORD

Without a host nothing is sent, and the audit log says so.
"""

from __future__ import annotations

import os
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from ..foundation.errors import DeliverypackError
from ..validation.report import FileReport


class MailError(DeliverypackError):
    """The SMTP server could not be reached or refused the message."""


@dataclass
class MailSettings:
    host: str = ""
    port: int = 25
    sender: str = "deliverypack@localhost"
    starttls: bool = False
    username: str = ""

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> MailSettings:
        s = settings.get("smtp", {})
        return cls(host=str(s.get("host", "")), port=int(s.get("port", 25)),
                   sender=str(s.get("sender", cls.sender)),
                   starttls=bool(s.get("starttls", False)),
                   username=str(s.get("username", "")))


class Mailer:
    def __init__(self, settings: MailSettings, programme: str):
        self.settings = settings
        self.programme = programme

    @property
    def enabled(self) -> bool:
        return bool(self.settings.host)

    def send(self, to: list[str], subject: str, body: str,
             attachment: Path | None = None, attachment_name: str | None = None) -> bool:
        """Send one message to every address in `to`; False when mail is not set up."""
        if not self.enabled or not to:
            return False
        msg = EmailMessage()
        msg["From"] = self.settings.sender
        msg["To"] = ", ".join(to)
        msg["Subject"] = f"[{self.programme}] {subject}"
        msg.set_content(body)
        if attachment is not None and attachment.exists():
            msg.add_attachment(attachment.read_bytes(), maintype="application",
                               subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                               filename=attachment_name or attachment.name)
        s = self.settings
        try:
            with smtplib.SMTP(s.host, s.port, timeout=15) as smtp:
                if s.starttls:
                    smtp.starttls()
                if s.username:
                    smtp.login(s.username, os.environ.get("DELIVERYPACK_SMTP_PASSWORD", ""))
                smtp.send_message(msg)
        except OSError as exc:  # smtplib's errors are OSErrors too
            raise MailError(f"could not send e-mail through {s.host}:{s.port} ({exc}); "
                            "check [smtp] in deliverypack.toml") from exc
        return True


def invitation_text(name: str, role: str, link: str, hours: int) -> str:
    return (f"Dear {name},\n\nYou have been given a {role} account on the delivery unit's "
            f"collection service. Choose your password here (the link works once and "
            f"expires in {hours} hours):\n\n{link}\n")


def receipt_text(rep: FileReport, link: str) -> tuple[str, str]:
    """Subject and body of an upload receipt: accepted, or rejected with the problems."""
    if rep.valid:
        subject = f"Return received: {rep.file} ({rep.department} {rep.round})"
        body = (f"Your return {rep.file} for round {rep.round} passed validation and now "
                f"awaits your approver's sign-off.\n")
        if rep.warnings:
            body += (f"\nIt has {len(rep.warnings)} warning(s), each to be acknowledged "
                     "with a short comment before sign-off.\n")
    else:
        subject = f"Return rejected: {rep.file}"
        lines = "\n".join(f"  - Sheet '{i.sheet}', cell {i.cell}: {i.message}" if i.cell
                          else f"  - {i.message}" for i in rep.errors)
        body = (f"Your return {rep.file} could not be accepted. The problems:\n\n{lines}\n\n"
                "The feedback workbook attached marks each one at its cell. Please correct "
                "them and upload the return again.\n")
    return subject, body + f"\nSee it on the service: {link}\n"


def signoff_request_text(rep: FileReport, uploader: str, link: str) -> tuple[str, str]:
    return (f"Sign-off needed: {rep.department} return for {rep.round}",
            f"{uploader} has uploaded the {rep.department} return for round {rep.round} "
            f"({rep.file}); it passed validation. Please review it and sign it off:\n\n"
            f"{link}\n")


def reminder_text(dept_name: str, round_label: str, due: str, state: str, overdue: bool,
                  link: str) -> tuple[str, str]:
    if overdue:
        subject = f"Overdue: {dept_name} return for {round_label}"
        first = f"The {dept_name} return for {round_label} was due on {due}"
    else:
        subject = f"Reminder: {dept_name} return for {round_label} due {due}"
        first = f"The {dept_name} return for {round_label} is due on {due}"
    return subject, (f"{first}; its state on the collection service is: {state}.\n\n"
                     f"Upload or sign it off here: {link}\n")
