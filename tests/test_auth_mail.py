"""Outgoing mail: .eml files in development and tests, SMTP with STARTTLS in production."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser

import pytest

from tests.helpers import latest_mail, link_in, mail_body, mail_folder
from tracker import mail


def test_the_file_backend_writes_rfc_5322_messages_in_order(app):
    with app.app_context():
        mail.send_mail("jo@example.org", "First", "Hello Jo")
        mail.send_mail("al@example.org", "Second", "Zoë, open https://example.org/" + "x" * 120)
    files = sorted(mail_folder(app).glob("*.eml"))
    assert len(files) == 2
    first = BytesParser(policy=policy.default).parsebytes(files[0].read_bytes())
    assert first["Subject"] == "First" and first["To"] == "jo@example.org"
    assert first["From"] == "Roadmap Tracker <no-reply@localhost>"
    assert first["Date"] and first["Message-ID"]
    second = latest_mail(app)
    assert mail_body(second).startswith("Zoë")
    # The link is one unbroken line in the file, so a person can follow it from the .eml.
    assert "https://example.org/" + "x" * 120 in files[1].read_text()
    assert link_in(second) == "https://example.org/" + "x" * 120


def test_header_injection_is_refused(app):
    with app.app_context(), pytest.raises(ValueError):
        mail.send_mail("jo@example.org\r\nBcc: x@example.org", "Hi", "body")
    with app.app_context(), pytest.raises(ValueError):
        mail.send_mail("jo@example.org", "Hi\nBcc: x@example.org", "body")


def test_an_unknown_backend_is_an_error(app):
    app.config["MAIL_BACKEND"] = "pigeon"
    with app.app_context(), pytest.raises(ValueError, match="MAIL_BACKEND"):
        mail.send_mail("jo@example.org", "Hi", "body")


class FakeSMTP:
    """Records what smtplib.SMTP was asked to do."""

    calls: list = []

    def __init__(self, host, port, timeout):
        self.calls.append(("connect", host, port))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.calls.append(("quit",))

    def starttls(self, context):
        self.calls.append(("starttls", context.verify_mode.name))

    def login(self, user, password):
        self.calls.append(("login", user, password))

    def send_message(self, message):
        self.calls.append(("send", message["To"], message["Subject"]))


def test_the_smtp_backend_uses_starttls_and_logs_in(app, monkeypatch):
    FakeSMTP.calls = []
    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSMTP)
    app.config.update(
        MAIL_BACKEND="smtp",
        MAIL_SERVER="smtp.example.org",
        MAIL_PORT=587,
        MAIL_USERNAME="tracker",
        MAIL_PASSWORD="s3cret",
    )
    with app.app_context():
        mail.send_mail("jo@example.org", "Hi", "body")
    assert FakeSMTP.calls == [
        ("connect", "smtp.example.org", 587),
        ("starttls", "CERT_REQUIRED"),
        ("login", "tracker", "s3cret"),
        ("send", "jo@example.org", "Hi"),
        ("quit",),
    ]
    assert not mail_folder(app).exists()


def test_mail_settings_come_from_the_environment(monkeypatch):
    from tracker.config import environment_overrides

    monkeypatch.setenv("MAIL_BACKEND", "smtp")
    monkeypatch.setenv("MAIL_SERVER", "relay.example.org")
    monkeypatch.setenv("MAIL_PORT", "2525")
    monkeypatch.setenv("MAIL_USE_TLS", "false")
    monkeypatch.setenv("BASE_URL", "https://tracker.example.org")
    overrides = environment_overrides()
    assert overrides["MAIL_BACKEND"] == "smtp"
    assert overrides["MAIL_SERVER"] == "relay.example.org"
    assert overrides["MAIL_PORT"] == 2525
    assert overrides["MAIL_USE_TLS"] is False
    assert overrides["BASE_URL"] == "https://tracker.example.org"
