"""Bad input, generated: every route as every role, and every form as someone it serves.

Two sweeps. What each covers is fixed: it walks ``app.url_map`` and the roles of the access
matrix (``tests/access_matrix.py``), in the matrix's world; only the input varies.

- **Every route × every role × every tenant relation** gets one request with generated input: a
  query string to a GET, a form body to a POST (the page's own field names, names forms must
  never bind and made-up ones, with text, numbers, huge and odd values, repeated fields, and a
  CSRF token that is mostly right). The input is seeded per role; ``FUZZ_SEED`` repeats a run
  (the seed is in every failure message). The answer is never a 5xx. A GET, and a POST the
  matrix refuses the role there (404, 405, sign-in), writes nothing: no INSERT, UPDATE or
  DELETE on any table but the bookkeeping ones during the request, and the fingerprint of the
  database, every column of every table from ``db.metadata``, is the same after the refused
  POSTs as before them.
- **Every form** (every POST route) gets Hypothesis-generated bodies from a role the matrix
  lets use it, in the first state of the returns where it is live (the sign-in steps and the
  links from mail from someone part-way through them, with real tokens): never a 5xx, and the
  test counts the forms that read at least one body (answered anything but 400, 404 or 405)
  against the POST routes, naming any it missed. ``FUZZ_EXAMPLES`` sets the bodies per form
  (default 5).

Report layouts are stubbed (the ``quick_reports`` fixture): they read no input. Oversized bodies
get 413 and change nothing; malformed uploads and workbooks are refused with a message.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import JSON, Table, event, select
from sqlalchemy.exc import DBAPIError
from werkzeug.datastructures import MultiDict

from tests.access_matrix import (
    MATRIX,
    RELATIONS,
    ROLES,
    SIGN_IN,
    STATES,
    Row,
    To,
    council,
    csrf_token,
    https_client,
    signed_in_client,
)
from tests.factories import MadeUser, make_user
from tests.helpers import HTTPS, post_form
from tests.matrix_world import MATRIX_PERIOD, MatrixWorlds, World
from tracker.accounts import services as accounts
from tracker.extensions import db
from tracker.models import Role, User

FORM_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
#: ends the session the rest of the run needs: requested last
SIGN_OUT = "auth.sign_out"
DENIED = {404, 405, SIGN_IN}
#: tables a refused request may still write, and why: the audit trail and the security log's
#: counters record refusals and attempts (rate limits count requests whatever they get)
BOOKKEEPING = {"audit_events": "records refusals", "throttle_counters": "counts attempts"}
FIELD = re.compile(r'<(?:input|select|textarea)[^>]*\sname="([^"]+)"')
#: names forms must never bind (SECURITY.md A): sent anyway, with made-up values
HOSTILE_NAMES = (
    "council_id",
    "status",
    "role",
    "user_id",
    "is_demo",
    "version_id",
    "return_id",
    "author_id",
    "gss_code",
    "next",
)
#: query parameters the pages read
QUERY_NAMES = ("stage", "rag", "area", "page", "sort", "period", "council", "chart", "next")
ODD_VALUES = (
    "",
    " ",
    "0",
    "-1",
    "99999999999999999999999",
    "1e309",
    "NaN",
    "2026-13-45",
    "2025-26 Q9",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "javascript:alert(1)",
    "' OR 1=1 --",
    '=HYPERLINK("http://x")',
    "\x00",
    "\r\nSet-Cookie: x=y",
    "%00",
    "ﬃ\u202e\u200b",
    "A" * 6000,
    "https://example.org/" + "a" * 2100,
    "implementing",
    "not_applicable",
    "red",
    "yes",
    "on",
    "embedded",
)

odd_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.sampled_from(ODD_VALUES),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)


# -- the database, every column of every table -----------------------------------------------


def fingerprint(app: Flask) -> dict[str, str]:
    """A digest of every row of every table (every column, ordered by primary key) but the
    bookkeeping ones."""
    with app.app_context():
        result = {
            name: table_digest(table)
            for name, table in sorted(db.metadata.tables.items())
            if name not in BOOKKEEPING
        }
        db.session.remove()
    return result


def table_digest(table: Table) -> str:
    """SHA-256 of every column of every row of ``table``; call in an app context."""
    order = list(table.primary_key.columns) or list(table.columns)
    rows = db.session.execute(select(*table.columns).order_by(*order)).all()
    return hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(name for name in before if before[name] != after.get(name))


def test_the_fingerprint_sees_a_change_to_any_column_of_any_table(matrix_worlds, tmp_path):
    """Each column of each table with rows (but the bookkeeping ones) is changed in turn, in
    the first row, inside a savepoint: the fingerprint must see every change. A primary key is
    part of every row it digests; the other columns are each changed to a value the database
    accepts (another row's, a referenced row's, or a made-up one). A few columns the database
    lets no value replace here (the one roadmap edition's id, a pair that must stay unique, a
    value its check constraint ties to another column) are left; every table with rows must
    show at least one change."""
    with matrix_worlds.app("submitted", tmp_path) as (app, _world, _people):
        before = fingerprint(app)
        assert set(before) == set(db.metadata.tables) - set(BOOKKEEPING)
        assert set(BOOKKEEPING) <= set(db.metadata.tables), "no such bookkeeping table"
        unseen, unchanged, seen, tables_seen, tables_with_rows = [], [], 0, set(), set()
        with app.app_context():
            for name, table in sorted(db.metadata.tables.items()):
                if name in BOOKKEEPING:
                    continue
                first = db.session.execute(select(table).limit(1)).first()
                if first is None:
                    continue
                tables_with_rows.add(name)
                where = [c == first._mapping[c.name] for c in table.primary_key.columns]
                # A row gone (a link table's rows are all key).
                savepoint = db.session.begin_nested()
                try:
                    db.session.execute(table.delete().where(*where))
                    if table_digest(table) == before[name]:
                        unseen.append(f"{name}: a deleted row")
                    else:
                        tables_seen.add(name)
                except DBAPIError:
                    pass  # other rows refer to it
                finally:
                    savepoint.rollback()
                for column in table.columns:
                    if column.primary_key:
                        continue
                    digest = None
                    for new in _candidates(table, column, first._mapping[column.name]):
                        savepoint = db.session.begin_nested()
                        try:
                            db.session.execute(
                                table.update().where(*where).values({column.name: new})
                            )
                            digest = table_digest(table)
                        except DBAPIError:
                            digest = None
                        finally:
                            savepoint.rollback()
                        if digest is not None:
                            break
                    if digest is None:
                        unchanged.append(f"{name}.{column.name}")
                    elif digest == before[name]:
                        unseen.append(f"{name}.{column.name}")
                    else:
                        seen += 1
                        tables_seen.add(name)
            db.session.rollback()
    assert not unseen, f"changes the fingerprint misses: {unseen}"
    assert tables_seen == tables_with_rows, sorted(tables_with_rows - tables_seen)
    assert len(unchanged) < 0.1 * (seen + len(unchanged)), unchanged
    assert len(tables_with_rows) > 15


def _candidates(table: Table, column, value: Any) -> list[Any]:
    """Values to try in place of ``value``: the column's other values, a referenced row's key,
    then a made-up one of the column's type."""
    if isinstance(column.type, JSON):
        return [_another(value, column)]  # PostgreSQL cannot compare json values
    others = db.session.scalars(
        select(column).where(column.is_distinct_from(value)).distinct().limit(3)
    ).all()
    referenced = [
        key
        for foreign_key in column.foreign_keys
        for key in db.session.scalars(
            select(foreign_key.column).where(foreign_key.column.is_distinct_from(value)).limit(1)
        )
    ]
    return [*others, *referenced, _another(value, column)]


def _another(value: Any, column) -> Any:
    """A value of the column's type other than ``value``."""
    from datetime import date, datetime, timedelta

    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1000
    if isinstance(value, datetime):
        return value + timedelta(days=1)
    if isinstance(value, date):
        return value + timedelta(days=1)
    if isinstance(value, (dict, list)):
        return {"changed": True}
    if isinstance(value, (bytes, memoryview)):  # a chunk of a file in the database's store
        return bytes(value) + b" changed"
    if value is None:
        python_type = column.type.python_type
        if python_type is bool:
            return True
        if python_type is int:
            return 1
        if python_type is datetime:
            return datetime(2030, 1, 1)
        if python_type is date:
            return date(2030, 1, 1)
        if python_type in (dict, list):
            return {"changed": True}
        return "x"
    return str(value)[:-1] + ("y" if str(value).endswith("x") else "x")


# -- one request per route, role and relation -------------------------------------------------


def swept_routes(app: Flask) -> list[tuple[str, str]]:
    """(endpoint, method) of every route of ``app.url_map`` but static files."""
    return sorted(
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    )


def matrix_row(endpoint: str, method: str) -> Row:
    """The route's row of the access matrix (tests/test_access_matrix.py checks that every
    route has one)."""
    return next(row for row in MATRIX if (row.endpoint, row.method) == (endpoint, method))


def field_names(client: FlaskClient, url: str) -> list[str]:
    """The names of the fields on the page at ``url`` (a form's own GET), if it has any."""
    response = client.get(url)
    if response.status_code != 200 or response.mimetype != "text/html":
        return []
    return sorted(set(FIELD.findall(response.get_data(as_text=True))) - {"csrf_token"})


def odd_value(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return rng.choice(ODD_VALUES)
    if kind == 1:
        return str(rng.randint(-(2**70), 2**70))
    alphabet = (
        "abcXYZ019 -_.,;:/\\'\"<>&%#=+@\t\r\n\x00"
        if kind == 2
        else "".join(chr(rng.randrange(0x20, 0x2FFF)) for _ in range(20))
    )
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 300)))


def odd_pairs(rng: random.Random, names: list[str], hostile: tuple[str, ...]) -> list[tuple]:
    """Up to a dozen (name, value) pairs: the form's own names, hostile ones and made-up ones,
    repeated at times."""
    pairs = []
    for _ in range(rng.randrange(0, 13)):
        pool = rng.randrange(3)
        if pool == 0 and names:
            name = rng.choice(names)
        elif pool == 1:
            name = rng.choice(hostile)
        else:
            name = "".join(rng.choice("abcdefghij_-[]0") for _ in range(rng.randrange(1, 12)))
        pairs.append((name, odd_value(rng)))
    return pairs


def _seed() -> int:
    configured = os.environ.get("FUZZ_SEED")
    return int(configured) if configured else random.SystemRandom().randrange(2**32)


WRITE = re.compile(r"^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.I)


@contextmanager
def writes_recorded(app: Flask) -> Iterator[list[str]]:
    """Every INSERT, UPDATE and DELETE the app runs meanwhile on a table that is not
    bookkeeping: ``[statement, …]``, to blame a change on the request that made it."""
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def record(_connection, _cursor, statement, _parameters, _context, _executemany) -> None:
        match = WRITE.match(statement)
        if match and match.group(1) not in BOOKKEEPING:
            statements.append(" ".join(statement.split())[:200])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize("role", ROLES)
def test_every_route_as_every_role_gets_no_5xx_nor_a_forbidden_change(
    matrix_worlds: MatrixWorlds, tmp_path, quick_reports, role
):
    seed = _seed()
    rng = random.Random(f"{seed}-{role}")
    with matrix_worlds.app("draft", tmp_path) as (app, world, people):
        client = https_client(app) if role == "anonymous" else signed_in_client(app, people[role])
        token = csrf_token(client)
        routes = swept_routes(app)
        # GETs first (they change nothing), then the refused POSTs, then the POSTs this role
        # may make, which may change things.
        plan: list[tuple[int, str, str, str]] = []
        for endpoint, method in routes:
            for relation in RELATIONS:
                denied = matrix_row(endpoint, method).expected(role, relation) in DENIED
                phase = 0 if method == "GET" else 1 if denied else 2
                if endpoint == SIGN_OUT:
                    phase = 3
                plan.append((phase, endpoint, method, relation))
        plan.sort()
        # Every URL and form first: a POST's subject (a person to remove, say) is made for
        # it, and that change must come before the first fingerprint.
        urls = {
            (endpoint, method, relation): world.url(matrix_row(endpoint, method), relation)
            for _phase, endpoint, method, relation in plan
        }
        names = {
            endpoint: form_fields(client, role, endpoint, urls.get((endpoint, "GET", "own")))
            for endpoint, method in routes
            if method == "POST"
        }
        requested: set[tuple[str, str]] = set()
        problems: list[str] = []
        before = fingerprint(app)
        for phase, endpoint, method, relation in plan:
            url = urls[(endpoint, method, relation)]
            if method == "GET":
                pairs = odd_pairs(rng, list(QUERY_NAMES), QUERY_NAMES + HOSTILE_NAMES)
            else:
                pairs = odd_pairs(rng, names[endpoint] or ["q"], HOSTILE_NAMES)
            if phase >= 2 and before is not None:
                # The refused POSTs are done: together they changed nothing.
                after = fingerprint(app)
                if after != before:
                    problems.append(
                        f"{role}: refused requests changed {changed_tables(before, after)}"
                    )
                before = None
            with writes_recorded(app) as writes:
                if method == "GET":
                    query = urlencode(pairs)
                    response = client.get(f"{url}?{query}" if query else url)
                else:
                    csrf = rng.choice([token, token, token, token, "", "not-a-token"])
                    response = client.post(url, data=MultiDict([("csrf_token", csrf), *pairs]))
            requested.add((endpoint, method))
            where = f"{role} {method} {url} (FUZZ_SEED={seed}) with {pairs!r}"
            if response.status_code >= 500:
                problems.append(f"{where}: {response.status_code}")
            if phase < 2 and writes:
                problems.append(
                    f"{where}: {'a GET' if phase == 0 else 'refused, yet'} wrote {writes}"
                )
        if before is not None:
            after = fingerprint(app)
            if after != before:
                problems.append(f"{role}: refused requests changed {changed_tables(before, after)}")
    assert requested == set(routes), sorted(set(routes) - requested)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:20])


def form_fields(client: FlaskClient, role: str, endpoint: str, url: str | None) -> list[str]:
    """The names of the form's fields, from its own page in council A when the role may
    read that page (else none: the made-up names stand in)."""
    if url is None or matrix_row(endpoint, "GET").expected(role, "own") != 200:
        return []
    return field_names(client, url)


def _form_fields(client: FlaskClient, row: Row, url: str) -> list[str]:
    """The form's field names, from its page when the route has a GET on the same URL."""
    has_get = any(r.endpoint == row.endpoint and r.method == "GET" for r in MATRIX)
    return field_names(client, url) if has_get else []


# -- every form, posted as someone it serves --------------------------------------------------

#: forms that end the poster's session or place on a panel: posted last
LAST = ("panels.leave", "account.change_password", SIGN_OUT)
#: the sign-in steps and the links from mail: posted by someone part-way through them;
#: revoking an API token, posted by its owner (the matrix's token is nobody's); and withdrawing
#: an invitation, posted by the council's approver (the matrix's invitation is unknown)
SPECIAL = {
    "auth.two_factor",
    "auth.two_factor_set_up",
    "auth.reset_password",
    "auth.invitation",
    "auth.team_invitation",
    "account.invitation",
    "account.revoke_token",
    "team.withdraw_invitation",
}


def served(expected: object) -> bool:
    """True when a matrix cell lets the request through to the form (not refused, not sent
    home or to sign in before the form is read)."""
    if expected in DENIED:
        return False
    sent_away = {"home.your_work", "auth.sign_in"}
    return not (isinstance(expected, To) and expected.endpoint in sent_away)


def who_may_post(endpoint: str) -> tuple[str, str, str] | None:
    """(state, role, relation) of the first cell of the matrix that serves the form: drafts and
    submitted returns first, then signed-off ones (the panel's own view is given only there)."""
    row = matrix_row(endpoint, "POST")
    for state in STATES[:3]:
        for role in ROLES:
            for relation in RELATIONS:
                if state in row.states and served(row.expected(role, relation, state)):
                    return state, role, relation
    return None


def test_every_form_has_someone_it_serves_in_the_matrix(app):
    forms = {endpoint for endpoint, method in swept_routes(app) if method == "POST"}
    orphans = sorted(f for f in forms - SPECIAL if who_may_post(f) is None)
    assert not orphans, f"no role may post these forms, so nothing fuzzes them: {orphans}"


class Posters:
    """Signed-in clients of the world's people, made when first needed."""

    def __init__(self, app: Flask, people: dict[str, MadeUser]) -> None:
        self.app, self.people = app, people
        self.clients: dict[str, FlaskClient] = {}

    def __call__(self, role: str) -> FlaskClient:
        if role not in self.clients:
            self.clients[role] = (
                https_client(self.app)
                if role == "anonymous"
                else signed_in_client(self.app, self.people[role])
            )
        return self.clients[role]


def part_way(app: Flask, endpoint: str, world: World) -> tuple[FlaskClient, str]:
    """A client part-way through the step the form belongs to, and the form's URL."""
    client = https_client(app)
    if endpoint in {"auth.two_factor", "auth.two_factor_set_up"}:
        # Someone whose role needs a second factor, with an app set up or not yet.
        with app.app_context():
            person = make_user(
                memberships=[(Role.NATIONAL_ADMIN, None)], mfa=endpoint == "auth.two_factor"
            )
        response = post_form(
            client,
            "/auth/sign-in",
            {"email": person.email, "password": person.password},
            base_url=HTTPS,
        )
        path = urlsplit(response.headers["Location"]).path
        assert path == world.app.url_map.bind("localhost").build(endpoint), path
        return client, path
    if endpoint == "account.revoke_token":
        # One of the poster's own tokens, for Leeds where they are a viewer.
        from tracker.accounts import tokens
        from tracker.domain.principal import load_principal

        with app.app_context():
            owner = make_user(memberships=[(Role.COUNCIL_VIEWER, council("own"))])
            token, _secret = tokens.create(
                load_principal(db.session.get(User, owner.id)),
                name="Fuzzed",
                scope=f"council:{council('own').gss_code}",
            )
            db.session.commit()
            path = app.url_map.bind("localhost").build(endpoint, {"token_id": token.id})
        return signed_in_client(app, owner), path
    if endpoint == "team.withdraw_invitation":
        # An invitation to Leeds's team waiting for an answer, withdrawn by the approver who
        # sent it.
        from tracker.team.services import invite_to_team

        with app.app_context():
            leeds = council("own")
            approver = make_user(memberships=[(Role.COUNCIL_APPROVER, leeds)])
            sent = invite_to_team(
                leeds,
                "fuzz-withdrawn@example.org",
                "Invited",
                Role.COUNCIL_VIEWER,
                actor=db.session.get(User, approver.id),
            )
            db.session.commit()
            path = app.url_map.bind("localhost").build(
                endpoint, {"gss_code": leeds.gss_code, "invitation_id": sent.invitation.id}
            )
        return signed_in_client(app, approver), path
    if endpoint in {"auth.team_invitation", "account.invitation"}:
        # An invitation to Leeds's team: to an address with no account (the link's page), or
        # to someone signed in (their answer page), sent by Leeds's approver.
        from tracker.team.services import invite_to_team

        with app.app_context():
            leeds = council("own")
            approver = make_user(memberships=[(Role.COUNCIL_APPROVER, leeds)])
            invitee = make_user(email=f"fuzz-{endpoint.replace('.', '-')}@example.org")
            address = (
                "fuzz-new@example.org" if endpoint == "auth.team_invitation" else invitee.email
            )
            sent = invite_to_team(
                leeds,
                address,
                "Invited",
                Role.COUNCIL_VIEWER,
                actor=db.session.get(User, approver.id),
            )
            db.session.commit()
            values = {"token": sent.token, "invitation_id": sent.invitation.id}
        if endpoint == "account.invitation":
            client = signed_in_client(app, invitee)
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        values = {k: v for k, v in values.items() if k in rule.arguments}
        return client, app.url_map.bind("localhost").build(endpoint, values)
    with app.app_context():
        if endpoint == "auth.invitation":
            invited = accounts.create_user("fuzz-invited@example.org", "Invited", actor=None)
            token = accounts.invite_user(invited, actor=None)
        else:
            tokens: list[str] = []
            someone = make_user(email="fuzz-reset@example.org")
            accounts.request_password_reset(
                someone.email, link_for=lambda t: tokens.append(t) or "https://localhost/"
            )
            token = tokens[0]
        db.session.commit()
    return client, app.url_map.bind("localhost").build(endpoint, {"token": token})


def test_fuzzing_reaches_every_form(matrix_worlds: MatrixWorlds, tmp_path, quick_reports):
    """Every POST route of ``app.url_map`` gets Hypothesis-generated bodies from
    someone it serves, and each one reads at least one of them: counted against the routes."""
    reached: set[str] = set()
    tried: set[str] = set()
    problems: list[str] = []
    with ExitStack() as stack:
        apps: dict[str, Any] = {}

        def world_in(state: str):
            if state not in apps:
                app, world, people = stack.enter_context(
                    matrix_worlds.app(state, _folder(tmp_path, state))
                )
                apps[state] = (app, world, Posters(app, people))
            return apps[state]

        forms = sorted(
            {
                endpoint
                for endpoint, method in swept_routes(world_in("draft")[0])
                if method == "POST"
            },
            key=lambda endpoint: (endpoint in LAST, endpoint),
        )
        for endpoint in forms:
            row = matrix_row(endpoint, "POST")
            if endpoint in SPECIAL:
                app, world, _posters = world_in("draft")
                client, url = part_way(app, endpoint, world)
                page = url
            else:
                chosen = who_may_post(endpoint)
                if chosen is None:
                    continue
                state, role, relation = chosen
                app, world, posters = world_in(state)
                client = posters(role)
                values = world.values(row, relation)
                url = world.url(row, relation, values)
                page = url
            token = csrf_token(client)
            own = _form_fields(client, row, page) or sorted(
                world.form(row, "own") if endpoint not in SPECIAL else {}
            )
            extra = dict(world.form(row, relation)) if endpoint not in SPECIAL else {}
            tried.add(endpoint)
            for outcome in fuzz_form(client, url, token, own, extra):
                if outcome >= 500:
                    problems.append(f"{endpoint}: {outcome}")
                if outcome not in (400, 404, 405) and outcome < 500:
                    reached.add(endpoint)
    assert not problems, problems
    forms_set = set(forms)
    assert tried == forms_set
    missed = sorted(forms_set - reached)
    assert not missed, f"fuzzing reached {len(reached)} of {len(forms_set)} forms; not: {missed}"


def _folder(tmp_path: Path, state: str) -> Path:
    folder = tmp_path / state
    folder.mkdir(exist_ok=True)
    return folder


def fuzz_form(
    client: FlaskClient, url: str, token: str, own: list[str], extra: dict[str, object]
) -> Iterator[int]:
    """POST Hypothesis-generated bodies to the form at ``url``; yields each answer's status
    (a sign-in redirect counts as 404: refused)."""
    statuses: list[int] = []

    @settings(
        max_examples=FORM_EXAMPLES,
        deadline=None,
        database=None,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        keys = data.draw(
            st.lists(
                st.one_of(
                    st.sampled_from(own or ["q"]),
                    st.sampled_from(HOSTILE_NAMES),
                    st.text(min_size=1, max_size=12),
                ),
                max_size=12,
            ),
            label="fields",
        )
        pairs = [(key, data.draw(odd_text, label=key)) for key in keys]
        csrf = data.draw(
            st.sampled_from([token, token, token, token, "", "not-a-token"]), label="csrf"
        )
        body = MultiDict([("csrf_token", csrf), *[(k, str(v)) for k, v in extra.items()], *pairs])
        response = client.post(url, data=body)
        status = response.status_code
        if status == 302 and urlsplit(response.headers["Location"]).path == "/auth/sign-in":
            status = 404
        statuses.append(status)
        assert response.status_code < 500, f"POST {url} with {pairs!r}: {response.status_code}"

    check()
    yield from statuses


# -- oversized bodies and malformed files ---------------------------------------------------


@pytest.fixture
def editor_world(matrix_worlds: MatrixWorlds, tmp_path) -> Iterator[tuple[Flask, World, Any]]:
    """The draft world, and a client signed in as council A's editor."""
    with matrix_worlds.app("draft", tmp_path) as (app, world, people):
        yield app, world, signed_in_client(app, people["council_editor"])


def _period_slug() -> str:
    return MATRIX_PERIOD.replace(" ", "-")


def test_an_oversized_form_gets_413_and_changes_nothing(editor_world):
    app, world, client = editor_world
    token = csrf_token(client)
    code = world.per_relation["own"]["action_code"]
    url = f"/councils/E08000035/returns/{_period_slug()}/actions/{code}"
    before = fingerprint(app)
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.post(
        url, data={"csrf_token": token, "stage": "embedded", "narrative": "x" * (limit + 10)}
    )
    assert response.status_code == 413
    assert (
        "too large" in response.get_data(as_text=True).lower() or response.mimetype == "text/html"
    )
    assert fingerprint(app) == before


@pytest.mark.parametrize(
    ("endpoint", "setting", "path"),
    [
        ("returns.import_upload", "IMPORT_MAX_BYTES", "/import"),
        (
            "returns.upload_evidence",
            "EVIDENCE_MAX_BYTES",
            "/actions/{code}/evidence/upload",
        ),
    ],
)
def test_an_oversized_upload_gets_413_and_changes_nothing(editor_world, endpoint, setting, path):
    app, world, client = editor_world
    app.config[setting] = 64 * 1024  # a small limit, so the test sends little
    token = csrf_token(client)
    code = world.per_relation["own"]["action_code"]
    url = f"/councils/E08000035/returns/{_period_slug()}" + path.format(code=code)
    before = fingerprint(app)
    big = io.BytesIO(b"PK\x03\x04" + b"0" * (app.config[setting] + 200 * 1024))
    response = client.post(
        url,
        data={
            "csrf_token": token,
            "title": "Too big",
            "evidence_type": "data",
            "file": (big, "big.xlsx"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 413, endpoint
    assert fingerprint(app) == before


@pytest.mark.parametrize(
    ("path", "filename", "content", "message"),
    [
        ("/import", "return.xlsx", b"this is not a workbook", "xlsx"),
        ("/import", "return.xlsx", b"PK\x03\x04" + b"\x00" * 200, "xlsx"),
        ("/import", "return.csv", b"\xff\xfe\x00garbage\x00,,,\n\x00", "csv"),
        ("/actions/{code}/evidence/upload", "paper.pdf", b"<html><script>x</script>", "pdf"),
        ("/actions/{code}/evidence/upload", "paper.exe", b"MZ\x90\x00", "file"),
    ],
)
def test_malformed_uploads_are_refused_with_a_message(
    editor_world, path, filename, content, message
):
    app, world, client = editor_world
    token = csrf_token(client)
    code = world.per_relation["own"]["action_code"]
    url = f"/councils/E08000035/returns/{_period_slug()}" + path.format(code=code)
    before = fingerprint(app)
    response = client.post(
        url,
        data={
            "csrf_token": token,
            "title": "A paper",
            "evidence_type": "board_paper",
            "file": (io.BytesIO(content), filename),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code in (400, 422), response.status_code
    html = response.get_data(as_text=True)
    assert "govuk-error-summary" in html
    summary = html[html.index("govuk-error-summary") :][:3000].lower()
    assert message in summary or "file" in summary
    assert fingerprint(app) == before
