"""Outgoing mail: written to files in development and tests, sent through SMTP in production."""

from __future__ import annotations

import smtplib
import ssl
import uuid
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app, render_template

MAIL_POLICY = policy.default.clone(max_line_length=998)


def mail_dir() -> Path:
    """The folder the file backend writes to: ``MAIL_FILE_DIR``, else ``instance/mail``."""
    configured = current_app.config.get("MAIL_FILE_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "mail"


def build_message(to: str, subject: str, body: str) -> EmailMessage:
    """An RFC 5322 plain-text message from the configured sender.

    Lines are not wrapped (RFC 5322 allows 998 characters), so a link in the body stays whole
    and can be followed from the .eml file in development.
    """
    message = EmailMessage(policy=MAIL_POLICY)
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    domain = sender.rsplit("@", 1)[-1].strip("> ") if "@" in sender else None
    message["Message-ID"] = make_msgid(domain=domain)
    # ASCII goes as 7bit; anything else as quoted-printable, which every server accepts.
    message.set_content(body, cte=None if body.isascii() else "quoted-printable")
    return message


def send_mail(to: str, subject: str, body: str) -> None:
    """Send a plain-text email through the configured backend (``MAIL_BACKEND``).

    Raises ``ValueError`` for an unknown backend and whatever ``smtplib`` raises when the SMTP
    server refuses the message.
    """
    if "\n" in to or "\r" in to or "\n" in subject or "\r" in subject:
        # EmailMessage refuses these too; saying so here keeps the cause obvious.
        raise ValueError("mail headers must not contain line breaks")
    message = build_message(to, subject, body)
    backend = current_app.config.get("MAIL_BACKEND", "file")
    if backend == "file":
        _write_file(message)
    elif backend == "smtp":
        _send_smtp(message)
    else:
        raise ValueError(f"unknown MAIL_BACKEND {backend!r}: use 'file' or 'smtp'")


def render_mail(template: str, **context: object) -> str:
    """A plain-text body from ``templates/email/<template>``."""
    return render_template(f"email/{template}", **context)


def _write_file(message: EmailMessage) -> Path:
    folder = mail_dir()
    folder.mkdir(parents=True, exist_ok=True)
    # Names sort in the order the messages were written.
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = folder / f"{stamp}-{uuid.uuid4().hex}.eml"
    path.write_bytes(message.as_bytes())
    return path


def _send_smtp(message: EmailMessage) -> None:
    config = current_app.config
    with smtplib.SMTP(config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=30) as smtp:
        if config.get("MAIL_USE_TLS", True):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        smtp.send_message(message)
