"""Fifty people at once on SQLite: gunicorn with two workers, a minute of reads and writes mixed,
and not one 5xx nor one "database is locked" (SECURITY.md K; the issue's fault list).

Ten councils, five editors each. Every person, in a loop: reads their return's overview, an
action's page and the returns list, and one time in three saves one of their own actions (so
saves never conflict by design; a 409 would still not be an error). ``LOAD_SECONDS`` shortens
the minute for a quick local run.
"""

from __future__ import annotations

import os
import random
import threading
import time
from dataclasses import dataclass, field

from bench.load import Client
from tests.returns_data import action_versions, open_period
from tests.test_faults import (
    CSRF,
    SLUG,
    gunicorn_on,
    integrity,
    make_editors,
    require_sqlite,
    save_body,
    signed_in,
)

USERS = 50
COUNCILS = (
    "E08000035",  # Leeds
    "E08000036",  # Wakefield
    "E06000052",  # Cornwall
    "E09000007",  # Camden
    "E08000025",  # Birmingham
    "E10000030",  # Surrey
    "E06000023",  # Bristol
    "E08000003",  # Manchester
    "E10000017",  # Lancashire
    "E06000047",  # County Durham
)


@dataclass
class Tally:
    requests: int = 0
    saves: int = 0
    server_errors: list[str] = field(default_factory=list)
    locked: int = 0
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, what: str, status: int, content: bytes, ok: tuple[int, ...]) -> None:
        with self.lock:
            self.requests += 1
            if status >= 500:
                self.server_errors.append(f"{what}: {status}")
            if b"database is locked" in content:
                self.locked += 1
            if status not in ok and status < 500:
                self.unexpected.append(f"{what}: {status}")


def csrf_for(client: Client, gss: str) -> str:
    """The CSRF token of the client's session, from its council's return page."""
    page = client.request("GET", f"/councils/{gss}/returns/{SLUG}")[2].decode()
    return CSRF.search(page).group(1)


def test_fifty_people_for_a_minute_get_no_5xx_and_no_locked_database(app, tmp_path):
    database = require_sqlite(app)
    open_period(app, only=COUNCILS)
    people = make_editors(app, list(COUNCILS), per_council=USERS // len(COUNCILS))
    seconds = float(os.environ.get("LOAD_SECONDS", "60"))
    tally = Tally()
    log = tmp_path / "gunicorn.log"

    with gunicorn_on(app, log) as (_process, port):
        clients = [signed_in(port, email) for email, _code in people]
        versions = {code: action_versions(database, code) for code in COUNCILS}
        start = threading.Barrier(len(people) + 1)
        stop_at: list[float] = []

        def person(index: int) -> None:
            client = clients[index]
            _email, gss = people[index]
            # Each of a council's five editors saves its own fifth of the actions.
            mine = sorted(versions[gss])[index % 5 :: 5]
            saved_versions = {code: versions[gss][code] for code in mine}
            rng = random.Random(index)
            overview = f"/councils/{gss}/returns/{SLUG}"
            start.wait()
            token = csrf_for(client, gss)
            n = 0
            while time.monotonic() < stop_at[0]:
                code = mine[n % len(mine)]
                action = f"{overview}/actions/{code}"
                try:
                    if rng.random() < 1 / 3:
                        body = save_body(token, saved_versions[code], f"Load test {index}-{n}")
                        status, _h, content = client.request("POST", action, body)
                        tally.add("save", status, content, (302, 409))
                        if status == 302:
                            saved_versions[code] += 1
                            with tally.lock:
                                tally.saves += 1
                    else:
                        path = rng.choice([overview, action, f"/councils/{gss}/returns/"])
                        status, _h, content = client.request("GET", path)
                        tally.add(f"GET {path}", status, content, (200,))
                except OSError as error:
                    with tally.lock:
                        tally.server_errors.append(f"connection: {error}")
                n += 1

        threads = [threading.Thread(target=person, args=(i,)) for i in range(len(people))]
        for thread in threads:
            thread.start()
        stop_at.append(time.monotonic() + seconds)
        start.wait()
        for thread in threads:
            thread.join()

    server_log = log.read_text()
    print(
        f"{len(people)} people, {seconds:g} s: {tally.requests} requests "
        f"({tally.requests / seconds:.1f}/s), {tally.saves} saves"
    )
    assert len(people) == USERS
    assert tally.server_errors == [], tally.server_errors[:10]
    assert tally.locked == 0
    assert "database is locked" not in server_log
    assert "Traceback" not in server_log, server_log[-3000:]
    assert tally.unexpected == [], tally.unexpected[:10]
    assert tally.saves > 0
    assert integrity(database) == ("ok", [])
