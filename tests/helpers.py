"""Helpers for tests that sign in, read mail or parse forms (import them; not fixtures).

The test client talks plain ``http://localhost`` by default. The session cookie is ``Secure``
and ``__Host-``; Werkzeug's test client sends it over http anyway, and browsers treat localhost
as secure. Pass ``base_url="https://localhost"`` to test as production runs: Flask-WTF then
checks that the ``Referer`` is on the same host (``WTF_CSRF_SSL_STRICT``), so these helpers
always send one.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

import pyotp
import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

HTTP = "http://localhost"
HTTPS = "https://localhost"


def csrf_token(response: TestResponse) -> str:
    """The CSRF token in the first form of an HTML page."""
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    field = soup.find("input", attrs={"name": "csrf_token"})
    assert field is not None, "no csrf_token on this page"
    return field["value"]


def post_form(
    client: FlaskClient,
    path: str,
    data: dict[str, str] | None = None,
    *,
    base_url: str = HTTP,
    token_from: str | None = None,
    follow_redirects: bool = False,
) -> TestResponse:
    """GET the page with the form (``token_from``, else ``path``), then POST ``data`` with its
    CSRF token and a same-site ``Referer``."""
    page = client.get(token_from or path, base_url=base_url)
    token = csrf_token(page)
    return client.post(
        path,
        data={"csrf_token": token, **(data or {})},
        base_url=base_url,
        headers={"Referer": f"{base_url}{token_from or path}"},
        follow_redirects=follow_redirects,
    )


def sign_in(
    client: FlaskClient,
    email: str,
    password: str,
    totp_secret: str | None = None,
    *,
    base_url: str = HTTP,
    next_path: str | None = None,
) -> TestResponse:
    """Sign in through the real pages: password, then a TOTP code when ``totp_secret`` is given.

    :returns: the last response (a redirect once fully signed in). Asserts that each step got
        past its form.
    """
    path = "/auth/sign-in" + (f"?next={next_path}" if next_path else "")
    response = post_form(client, path, {"email": email, "password": password}, base_url=base_url)
    assert response.status_code == 302, f"sign-in failed with {response.status_code}"
    if totp_secret is None:
        return response
    location = urlsplit(response.headers["Location"])
    step = location.path + (f"?{location.query}" if location.query else "")
    assert location.path in ("/auth/two-factor", "/auth/two-factor/set-up"), step
    code = pyotp.TOTP(totp_secret).now()
    response = post_form(client, step, {"code": code}, base_url=base_url)
    assert response.status_code == 302, f"second factor failed with {response.status_code}"
    return response


def sign_out(client: FlaskClient, *, base_url: str = HTTP) -> TestResponse:
    """POST the sign-out form in the header of the home page (or, signed out, with the token of
    the sign-in page)."""
    home = client.get("/", base_url=base_url)
    source = "/" if 'name="csrf_token"' in home.get_data(as_text=True) else "/auth/sign-in"
    return post_form(client, "/auth/sign-out", token_from=source, base_url=base_url)


def session_cookie(client: FlaskClient) -> str | None:
    """The value of the ``__Host-session`` cookie the client holds, or None."""
    cookie = client.get_cookie("__Host-session")
    return cookie.value if cookie else None


def set_session_cookie(client: FlaskClient, value: str) -> None:
    """Put a saved session cookie back (to replay it)."""
    client.set_cookie("__Host-session", value, secure=True, httponly=True, samesite="Lax")


# -- mail -----------------------------------------------------------------------------------------


def mail_folder(app: Flask) -> Path:
    """Where the file mail backend writes for ``app``."""
    configured = app.config.get("MAIL_FILE_DIR")
    return Path(configured) if configured else Path(app.instance_path) / "mail"


def sent_mail(app: Flask, to: str | None = None) -> list[EmailMessage]:
    """Every message written by the file backend (oldest first), optionally only those to ``to``."""
    folder = mail_folder(app)
    messages = []
    for path in sorted(folder.glob("*.eml")) if folder.exists() else []:
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        if to is None or message["To"] == to:
            messages.append(message)
    return messages


def latest_mail(app: Flask, to: str | None = None) -> EmailMessage:
    """The newest message (to ``to``); fails when there is none."""
    messages = sent_mail(app, to)
    assert messages, f"no mail sent{f' to {to}' if to else ''}"
    return messages[-1]


def mail_body(message: EmailMessage) -> str:
    """The plain-text body of a message."""
    return message.get_body(preferencelist=("plain",)).get_content()


def link_in(message: EmailMessage) -> str:
    """The first http(s) link in a message's body."""
    match = re.search(r"https?://\S+", mail_body(message))
    assert match, "no link in the message"
    return match.group(0)


def path_of(link: str) -> str:
    """``/auth/invitation/abc`` from ``http://127.0.0.1:5000/auth/invitation/abc``."""
    parts = urlsplit(link)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def count_pdf_renders(monkeypatch) -> list[int]:
    """Count the PDFs laid out from now on: a list that grows by one per render (the renders
    still happen)."""
    from tracker.reports import pdf

    calls: list[int] = []
    real = pdf.html_to_pdf

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(pdf, "html_to_pdf", counting)
    return calls


# -- tools the tests need -------------------------------------------------------------------------

#: how a test that does not apply to this run's database says so (the SQLite crash tests on the
#: PostgreSQL pass): the one kind of skip allowed under CI
OTHER_DATABASE = "not for this database: "


def in_ci() -> bool:
    """True when ``CI`` is set to anything but "", "0" or "false" (as the Makefile reads it)."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false"}


def require_tool(name: str, available: bool, hint: str = "`make test` installs it") -> None:
    """Go on when ``available``; otherwise skip the test, or fail it under CI, where every test
    must run (a green CI run with skipped checks would prove nothing)."""
    if available:
        return
    message = f"{name} is missing: {hint}"
    if in_ci():
        pytest.fail(f"{message} (CI=true: nothing may be skipped)", pytrace=False)
    pytest.skip(message)


def skip_for_database(reason: str) -> NoReturn:
    """Skip a test that does not apply to this run's database server (allowed under CI)."""
    pytest.skip(OTHER_DATABASE + reason)


def skip_refused_under_ci(report: pytest.TestReport) -> None:
    """Under CI, turn a skipped test into a failure, unless it skipped for the database
    (``skip_for_database``); tests/conftest.py calls this for every report."""
    if not (report.skipped and in_ci()) or hasattr(report, "wasxfail"):
        return
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    reason = reason.removeprefix("Skipped: ")
    if reason.startswith(OTHER_DATABASE):
        return
    report.outcome = "failed"
    report.longrepr = f"skipped under CI=true, where every test must run: {reason}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_answers(url: str) -> bool:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


@contextlib.contextmanager
def redis_server(directory: Path) -> Iterator[str]:
    """A private ``redis-server`` on a free port, nothing saved to disk; yields its URL. Fails
    under CI (skips elsewhere) when the binary is missing (Debian package redis-server)."""
    binary = shutil.which("redis-server")
    require_tool("redis-server", binary is not None, "`make test` installs Debian's redis-server")
    assert binary is not None
    port = free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while not redis_answers(url):
            assert server.poll() is None, "redis-server stopped"
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def stored_evidence(app) -> dict[str, bytes]:
    """Every evidence file in the app's file store (the folder, or the database), by name."""
    from tracker import storage

    with app.app_context():
        store = storage.store()
        return {
            item.key.removeprefix("evidence/"): store.read(item.key)
            for item in store.list("evidence/")
        }
