"""Fifty people at once on SQLite: gunicorn with two workers, a minute of reads and writes mixed,
and not one 5xx, not one "database is locked", not one lost or altered acknowledged save
(SECURITY.md K; the issue's fault list).

Ten councils, five editors each. Every person, in a loop: reads their return's overview, an
action's page and the returns list, and one time in three saves an action: half of those saves
go to one of their own actions (a fifth of the council's, shared with nobody), the other half to
one of the council's two contended actions, which all five of its editors save at once. A save
carries the version the person last saw; when someone else saved first the app answers 409
with its conflict page, which gives the saved version, and the person saves again on that.

Afterwards every acknowledged save (a redirect) is read back from the database: the latest one
of each action is what the assessment holds (every field sent), each one is in the audit trail
with what it sent, no two acknowledged saves of an action were based on the same version (a
lost update), and the version went up once per acknowledged save (no unacknowledged one took
effect). ``LOAD_SECONDS`` shortens the minute for a quick local run.
"""

from __future__ import annotations

import json
import os
import random
import re
import sqlite3
import threading
import time
from collections import defaultdict
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

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
PER_COUNCIL = 5
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
#: actions of each council that all five of its editors save
CONTENDED = 2
#: what the app says when someone else saved the action first (templates/returns/conflict.html)
CONFLICT_MESSAGE = b"Someone else saved this action while you were changing it"
VERSION_FIELD = re.compile(rb'<input[^>]*name="version"[^>]*value="(\d+)"')


@dataclass(frozen=True)
class Save:
    """One save as sent, and how it was answered."""

    gss: str
    code: str
    #: the version the person had seen, sent with the save
    version: int
    body: dict[str, str]
    status: int


@dataclass
class Tally:
    requests: int = 0
    saves: list[Save] = field(default_factory=list)
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

    def acknowledged(self) -> list[Save]:
        return [save for save in self.saves if 300 <= save.status < 400]


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
    start_versions = {code: action_versions(database, code) for code in COUNCILS}
    contended = {gss: sorted(start_versions[gss])[:CONTENDED] for gss in COUNCILS}

    with gunicorn_on(app, log) as (_process, port):
        clients = [signed_in(port, email) for email, _code in people]
        start = threading.Barrier(len(people) + 1)
        stop_at: list[float] = []

        def person(index: int) -> None:
            client = clients[index]
            _email, gss = people[index]
            shared = contended[gss]
            # Each of a council's five editors saves its own fifth of the other actions.
            alone = [c for c in sorted(start_versions[gss]) if c not in shared]
            mine = alone[index % PER_COUNCIL :: PER_COUNCIL]
            seen = {code: start_versions[gss][code] for code in [*mine, *shared]}
            rng = random.Random(index)
            overview = f"/councils/{gss}/returns/{SLUG}"
            start.wait()
            token = csrf_for(client, gss)
            n = 0
            while time.monotonic() < stop_at[0]:
                try:
                    if rng.random() < 1 / 3:
                        code = rng.choice(shared) if rng.random() < 0.5 else mine[n % len(mine)]
                        save_once(client, token, gss, code, seen, f"Load test {index}-{n}")
                    else:
                        action = f"{overview}/actions/{rng.choice(mine)}"
                        path = rng.choice([overview, action, f"/councils/{gss}/returns/"])
                        status, _h, content = client.request("GET", path)
                        tally.add(f"GET {path}", status, content, (200,))
                except OSError as error:
                    with tally.lock:
                        tally.server_errors.append(f"connection: {error}")
                n += 1

        def save_once(
            client: Client, token: str, gss: str, code: str, seen: dict, narrative: str
        ) -> None:
            action = f"/councils/{gss}/returns/{SLUG}/actions/{code}"
            body = save_body(token, seen[code], narrative)
            status, _h, content = client.request("POST", action, body)
            tally.add(f"save {gss} {code}", status, content, (302, 409))
            with tally.lock:
                tally.saves.append(Save(gss, code, seen[code], body, status))
            if status == 302:
                seen[code] += 1
            elif status == 409:
                # The conflict page says so, and carries the version saved meanwhile.
                if CONFLICT_MESSAGE not in content:
                    with tally.lock:
                        tally.unexpected.append(f"save {gss} {code}: 409 without the message")
                found = VERSION_FIELD.search(content)
                if found:
                    seen[code] = int(found.group(1))

        threads = [threading.Thread(target=person, args=(i,)) for i in range(len(people))]
        for thread in threads:
            thread.start()
        stop_at.append(time.monotonic() + seconds)
        start.wait()
        for thread in threads:
            thread.join()

    server_log = log.read_text()
    acknowledged = tally.acknowledged()
    conflicts = sum(1 for save in tally.saves if save.status == 409)
    print(
        f"{len(people)} people, {seconds:g} s: {tally.requests} requests "
        f"({tally.requests / seconds:.1f}/s), {len(tally.saves)} saves, "
        f"{len(acknowledged)} acknowledged, {conflicts} conflicts"
    )
    assert len(people) == USERS
    assert tally.server_errors == [], tally.server_errors[:10]
    assert tally.locked == 0
    assert "database is locked" not in server_log
    assert "Traceback" not in server_log, server_log[-3000:]
    assert tally.unexpected == [], tally.unexpected[:10]
    assert acknowledged
    assert no_acknowledged_save_lost(database, start_versions, acknowledged) == []
    contended_acks = [s for s in acknowledged if s.code in contended[s.gss]]
    assert contended_acks and conflicts, "the contended actions saw no contention"
    assert integrity(database) == ("ok", [])


# -- reading the saves back ---------------------------------------------------------------------

#: the fields save_body sends, and the column each is stored in (as the app stores it)
STORED = {
    "stage": "stage",
    "rag": "rag",
    "narrative": "narrative",
    "is_co_produced": "is_co_produced",
}
AS_STORED = {"is_co_produced": {"yes": 1, "no": 0}}


def no_acknowledged_save_lost(
    database: Path, start_versions: dict[str, dict[str, int]], acknowledged: list[Save]
) -> list[str]:
    """What is wrong with the acknowledged saves, read back from the database: [] when every
    one of them took effect as sent, exactly once, and none was overwritten unseen."""
    problems: list[str] = []
    by_action: dict[tuple[str, str], list[Save]] = defaultdict(list)
    for save in acknowledged:
        by_action[(save.gss, save.code)].append(save)
    stored = stored_assessments(database)
    trail = audited_narratives(database)
    for (gss, code), saves in sorted(by_action.items()):
        row = stored[(gss, code)]
        based_on = sorted(save.version for save in saves)
        if len(set(based_on)) != len(based_on):
            problems.append(f"{gss} {code}: two acknowledged saves from one version (lost update)")
        if row["version_id"] != start_versions[gss][code] + len(saves):
            problems.append(
                f"{gss} {code}: version {row['version_id']} after {len(saves)} acknowledged"
                f" saves from {start_versions[gss][code]}"
            )
        latest = max(saves, key=lambda save: save.version)
        for name, column in STORED.items():
            sent = AS_STORED.get(name, {}).get(latest.body[name], latest.body[name])
            if row[column] != sent:
                problems.append(
                    f"{gss} {code}: {column} is {row[column]!r}, the last save sent {sent!r}"
                )
        missing = [
            s.body["narrative"] for s in saves if s.body["narrative"] not in trail[row["id"]]
        ]
        if missing:
            problems.append(
                f"{gss} {code}: acknowledged saves not in the audit trail: {missing[:3]}"
            )
    return problems


def stored_assessments(database: Path) -> dict[tuple[str, str], dict]:
    with closing(sqlite3.connect(database)) as connection:
        connection.row_factory = sqlite3.Row
        rows = connection.execute(
            "SELECT councils.gss_code, actions.code, assessments.* FROM assessments "
            "JOIN actions ON actions.id = assessments.action_id "
            "JOIN returns ON returns.id = assessments.return_id "
            "JOIN councils ON councils.id = returns.council_id"
        ).fetchall()
    return {(row["gss_code"], row["code"]): dict(row) for row in rows}


def audited_narratives(database: Path) -> dict[int, set[str]]:
    """Assessment id → every narrative the audit trail records it was saved with."""
    found: dict[int, set[str]] = defaultdict(set)
    with closing(sqlite3.connect(database)) as connection:
        for object_id, after in connection.execute(
            "SELECT object_id, after FROM audit_events WHERE action = 'assessment.update'"
        ):
            narrative = json.loads(after or "{}").get("narrative")
            if narrative is not None:
                found[int(object_id)].add(narrative)
    return found
