"""Crash safety: SIGKILL a real gunicorn (SQLite, two workers) in the middle of a burst of saves,
again and again. Each time the database must open intact (``PRAGMA integrity_check``, no broken
foreign keys) and hold every save the server acknowledged (SECURITY.md K and L).

The helpers here (a gunicorn on the test's database, people who can sign in, a signed-in HTTP
client) are shared with ``tests/test_load_concurrency.py``.

``FAULT_RUNS`` sets how many kills (default 5; ``FAULT_RUNS=50 pytest tests/test_faults.py``
for the figure in docs/performance.md).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import random
import re
import secrets
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from bench.load import Client
from bench.run import GUNICORN, free_port
from tests.conftest import SECRET_KEY
from tests.helpers import skip_for_database
from tests.returns_data import LABEL, LEEDS, action_versions, open_period
from tracker.accounts import passwords
from tracker.accounts import services as accounts
from tracker.admin.services import add_membership
from tracker.config import PROJECT_ROOT
from tracker.extensions import db
from tracker.models import Action, Assessment, Council, Return, Role

PASSWORD = "correct horse battery staple 7"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SLUG = LABEL.replace(" ", "-")


# -- shared helpers -----------------------------------------------------------------------------


def require_sqlite(app: Flask) -> Path:
    """The test's SQLite file (these tests are about SQLite under a real server)."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("sqlite:///"):
        skip_for_database("SQLite crash and locking behaviour; PostgreSQL has its own")
    return Path(url.removeprefix("sqlite:///"))


def make_editors(app: Flask, gss_codes: list[str], per_council: int = 1) -> list[tuple[str, str]]:
    """Council editors who can sign in with PASSWORD: [(email, gss code)]. One password hash
    for all, so that fifty people take a second, not a minute."""
    password_hash = passwords.hash_password(PASSWORD)
    people = []
    with app.app_context():
        for code in gss_codes:
            council = db.session.scalar(select(Council).where(Council.gss_code == code))
            for _ in range(per_council):
                email = f"editor-{secrets.token_hex(4)}@example.org"
                user = accounts.create_user(email, "Load Tester", actor=None)
                user.password_hash = password_hash
                user.password_changed_at = accounts.utcnow()
                add_membership(user, Role.COUNCIL_EDITOR, council=council, actor=None)
                people.append((email, code))
        db.session.commit()
        db.session.remove()
    return people


@contextlib.contextmanager
def gunicorn_on(app: Flask, log: Path, workers: int = 2) -> Iterator[tuple[subprocess.Popen, int]]:
    """gunicorn, ``workers`` sync workers, serving the app on the test's database; in its own
    process group, so that one SIGKILL takes the master and its workers together."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": SECRET_KEY,
        "MAIL_FILE_DIR": str(log.parent / "mail"),
        # No chart browser in these workers: they draw no chart, and each of the crash test's
        # many restarts would start two browsers for nothing.
        "REPORT_WARM_UP": "0",
    }
    with log.open("ab") as log_file:
        process = subprocess.Popen(
            [
                GUNICORN,
                *("--bind", f"127.0.0.1:{port}", "--workers", str(workers)),
                *("--timeout", "120", "--no-control-socket", "app:app"),
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                if Client("127.0.0.1", port, timeout=2).request("GET", "/healthz")[0] == 200:
                    break
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.1)
        yield process, port
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def signed_in(port: int, email: str) -> Client:
    """A client signed in as ``email`` through the sign-in page."""
    client = Client("127.0.0.1", port, timeout=120)
    page = client.request("GET", "/auth/sign-in")[2].decode()
    token = CSRF.search(page).group(1)
    status, _h, _c = client.request(
        "POST", "/auth/sign-in", {"csrf_token": token, "email": email, "password": PASSWORD}
    )
    assert status == 302, f"sign-in as {email}: {status}"
    return client


def csrf(client: Client) -> str:
    """The CSRF token of the client's session, from its council's return page."""
    page = client.request("GET", f"/councils/{LEEDS}/returns/{SLUG}")[2].decode()
    token = CSRF.search(page)
    assert token, "no CSRF token on the return page"
    return token.group(1)


def save_body(token: str, version: int, narrative: str) -> dict[str, str]:
    """The fields of a valid assessment save."""
    return {
        "csrf_token": token,
        "version": str(version),
        "stage": "implementing",
        "rag": "amber",
        "narrative": narrative,
        "is_co_produced": "no",
    }


def integrity(database: Path) -> tuple[str, list]:
    with closing(sqlite3.connect(database)) as connection:
        return (
            connection.execute("PRAGMA integrity_check").fetchone()[0],
            connection.execute("PRAGMA foreign_key_check").fetchall(),
        )


# -- the test -----------------------------------------------------------------------------------


@dataclass
class Burst:
    """Saves sent and acknowledged in one run."""

    acknowledged: dict[str, str]
    sent: int = 0
    failed: int = 0


def burst_then_kill(
    process: subprocess.Popen, port: int, cookies: dict, todo: dict[str, int], run: int
) -> Burst:
    """Four threads save their own actions; SIGKILL lands while they are at it."""
    burst = Burst(acknowledged={})
    lock = threading.Lock()
    codes = sorted(todo)

    def saver(thread: int) -> None:
        client = Client("127.0.0.1", port, dict(cookies), timeout=30)
        try:
            token = csrf(client)
        except (OSError, http.client.HTTPException):
            return
        for code in codes[thread::4]:
            narrative = f"Fault run {run}, save of {code}: {secrets.token_hex(6)}"
            body = save_body(token, todo[code], narrative)
            try:
                with lock:
                    burst.sent += 1
                status, _h, _c = client.request(
                    "POST", f"/councils/{LEEDS}/returns/{SLUG}/actions/{code}", body
                )
            except (OSError, http.client.HTTPException):
                # The server is gone: refused, reset, or killed part-way through its answer
                # (IncompleteRead). Not acknowledged, so not counted.
                return
            with lock:
                if status == 302:
                    burst.acknowledged[code] = narrative
                else:
                    burst.failed += 1

    threads = [threading.Thread(target=saver, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    # Kill once saves are flowing, at a random moment.
    deadline = time.monotonic() + 30
    while len(burst.acknowledged) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(random.uniform(0.05, 0.6))
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    for thread in threads:
        thread.join()
    return burst


def test_sigkill_during_saves_loses_no_acknowledged_save(app, tmp_path):
    database = require_sqlite(app)
    open_period(app)
    [(email, _code)] = make_editors(app, [LEEDS])
    runs = int(os.environ.get("FAULT_RUNS", "5"))
    log = tmp_path / "gunicorn.log"
    cookies: dict[str, str] = {}
    totals = {"acknowledged": 0, "sent": 0}
    for run in range(runs):
        with gunicorn_on(app, log) as (process, port):
            if not cookies:
                cookies = signed_in(port, email).cookies
            burst = burst_then_kill(process, port, cookies, action_versions(database, LEEDS), run)
        assert burst.acknowledged, f"run {run}: no save was acknowledged before the kill"
        assert burst.failed == 0, f"run {run}: {burst.failed} saves refused before the kill"

        check, broken_keys = integrity(database)
        assert check == "ok", f"run {run}: {check}"
        assert broken_keys == [], f"run {run}: {broken_keys}"
        with closing(sqlite3.connect(database)) as connection:
            saved = dict(
                connection.execute(
                    "SELECT actions.code, assessments.narrative FROM assessments "
                    "JOIN actions ON actions.id = assessments.action_id "
                    "JOIN returns ON returns.id = assessments.return_id "
                    "JOIN councils ON councils.id = returns.council_id "
                    "WHERE councils.gss_code = ?",
                    (LEEDS,),
                ).fetchall()
            )
            audited = {
                row[0]
                for row in connection.execute(
                    "SELECT after FROM audit_events WHERE action = 'assessment.update'"
                )
            }
        lost = {
            code: narrative
            for code, narrative in burst.acknowledged.items()
            if saved.get(code) != narrative
        }
        assert not lost, f"run {run}: acknowledged saves lost: {lost}"
        unaudited = [
            code
            for code, narrative in burst.acknowledged.items()
            if not any(narrative in after for after in audited)
        ]
        assert not unaudited, f"run {run}: acknowledged saves without their audit row"
        totals["acknowledged"] += len(burst.acknowledged)
        totals["sent"] += burst.sent
    # Every run found the database intact with all it had acknowledged.
    print(f"{runs} SIGKILL runs: {totals['acknowledged']} of {totals['sent']} saves acknowledged")

    with app.app_context():
        # And the app opens it and reads on as if nothing happened.
        assert db.session.scalar(select(Return.id).limit(1)) is not None
        assert db.session.scalar(select(Assessment.id).join(Action).limit(1)) is not None
