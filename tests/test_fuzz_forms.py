"""Bad input, generated (Hypothesis): every form and query string, as every role.

For each role of the access matrix (``tests/access_matrix.py``), Hypothesis picks a route and a
tenant relation, then sends generated input: a query string to a GET, a form body to a POST
(the page's own field names and made-up ones, with text, numbers, huge and odd values, repeated
fields, and a CSRF token that is mostly right). Whatever it sends:

- the answer is never a 5xx;
- where the matrix says the role may not use the route there (404, 405, sign-in), nothing in
  the database changes.

Oversized bodies get 413 and change nothing; malformed uploads and workbooks are refused with a
message. ``FUZZ_EXAMPLES`` sets the examples per role (default 100; about 90 s in all).
"""

from __future__ import annotations

import io
import os
import re
from urllib.parse import urlencode

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import String, cast, func, select, text, update
from werkzeug.datastructures import MultiDict

from tests.access_matrix import (
    COUNCIL_CODES,
    MATRIX,
    RELATIONS,
    ROLES,
    SIGN_IN,
    csrf_token,
    https_client,
    make_member,
    signed_in_client,
)
from tests.matrix_world import MATRIX_PERIOD, build_world
from tracker.extensions import db
from tracker.models import Council, Role

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))
#: routes left out: signing out ends the session the rest of the run needs; PDFs take seconds
#: to render and read no input
SKIPPED = re.compile(r"^auth\.sign_out$|_pdf$")
DENIED = {404, 405, SIGN_IN}
#: tables whose rows a denied request may still touch: the trail, sign-in throttling, sessions
BOOKKEEPING = {"audit_events", "throttle_counters"}
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

odd_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.sampled_from(
        [
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
        ]
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)


def small_world(app: Flask):
    """The access matrix's world, with only its three councils active: opening the period then
    makes three drafts, not 153 (seconds faster; the other councils play no part)."""
    with app.app_context():
        db.session.execute(
            update(Council)
            .where(Council.gss_code.not_in(list(COUNCIL_CODES.values())))
            .values(is_active=False)
        )
        db.session.commit()
    return build_world(app)


def fingerprint(app: Flask) -> dict[str, tuple]:
    """Rows of every domain table, and the sum of the versions where rows carry one."""
    result = {}
    with app.app_context():
        for name, table in sorted(db.metadata.tables.items()):
            if name in BOOKKEEPING:
                continue
            columns = [func.count()]
            for column in ("version_id", "session_version"):
                if column in table.c:
                    columns.append(func.coalesce(func.sum(table.c[column]), 0))
            for column in ("status", "is_active", "is_hidden", "withdrawn_at", "body", "stage"):
                if column in table.c:
                    # As text: PostgreSQL cannot compare json values for DISTINCT.
                    columns.append(func.count(func.distinct(cast(table.c[column], String))))
            result[name] = tuple(db.session.execute(select(*columns).select_from(table)).one())
        db.session.remove()
    return result


def field_names(client, url: str) -> list[str]:
    """The names of the fields on the page at ``url`` (a form's own GET), if it has any."""
    response = client.get(url)
    if response.status_code != 200 or response.mimetype != "text/html":
        return []
    return sorted(set(FIELD.findall(response.get_data(as_text=True))) - {"csrf_token"})


@pytest.mark.parametrize("role", ROLES)
def test_generated_input_never_gives_a_5xx_nor_a_forbidden_change(app, role):
    world = small_world(app)
    if role == "anonymous":
        client = https_client(app)
    else:
        client = signed_in_client(app, make_member(app, Role(role)))
    token = csrf_token(client)
    rows = [row for row in MATRIX if not SKIPPED.search(row.endpoint)]
    routes = {(rule.endpoint, m) for rule in app.url_map.iter_rules() for m in rule.methods or ()}
    rows = [row for row in rows if (row.endpoint, row.method) in routes]
    # The URL of each (row, relation), and the names of its form's fields, worked out once.
    urls = {(row, relation): world.url(row, relation) for row in rows for relation in RELATIONS}
    names = {
        url: field_names(client, url)
        for (row, _relation), url in urls.items()
        if row.method == "POST"
    }
    seen = {"requests": 0, "denied": 0}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        row = data.draw(st.sampled_from(rows), label="route")
        relation = data.draw(st.sampled_from(RELATIONS), label="relation")
        url = urls[(row, relation)]
        own = names.get(url, [])
        keys = data.draw(
            st.lists(
                st.one_of(
                    st.sampled_from(own or ["q"]),
                    st.sampled_from((*HOSTILE_NAMES, "stage", "rag", "area", "page", "sort")),
                    st.text(min_size=1, max_size=12),
                ),
                max_size=12,
            ),
            label="fields",
        )
        pairs = [(key, data.draw(odd_text, label=key)) for key in keys]
        expected = row.expected(role, relation)
        denied = expected in DENIED
        before = fingerprint(app) if denied and row.method == "POST" else None
        if row.method == "GET":
            query = urlencode(pairs)
            response = client.get(f"{url}?{query}" if query else url)
        else:
            csrf = data.draw(
                st.sampled_from([token, token, token, token, "", "not-a-token"]), label="csrf"
            )
            response = client.post(url, data=MultiDict([("csrf_token", csrf), *pairs]))
        seen["requests"] += 1
        assert response.status_code < 500, (
            f"{role} {row.method} {url} with {pairs!r}: {response.status_code}"
        )
        if before is not None:
            seen["denied"] += 1
            assert fingerprint(app) == before, f"{role} changed data through {row.endpoint}"

    check()
    assert seen["requests"] >= min(EXAMPLES, 50)


# -- oversized bodies and malformed files ---------------------------------------------------


def _editor(app: Flask):
    return signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))


def _period_slug() -> str:
    return MATRIX_PERIOD.replace(" ", "-")


def test_an_oversized_form_gets_413_and_changes_nothing(app):
    world = small_world(app)
    client = _editor(app)
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
def test_an_oversized_upload_gets_413_and_changes_nothing(app, endpoint, setting, path):
    world = small_world(app)
    app.config[setting] = 64 * 1024  # a small limit, so the test sends little
    client = _editor(app)
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
def test_malformed_uploads_are_refused_with_a_message(app, path, filename, content, message):
    world = small_world(app)
    client = _editor(app)
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


def test_fuzzing_reaches_every_form_of_the_matrix(app):
    """Every POST route of the matrix is fuzzed (none skipped but signing out)."""
    posts = {row.endpoint for row in MATRIX if row.method == "POST"}
    skipped = {endpoint for endpoint in posts if SKIPPED.search(endpoint)}
    assert skipped == {"auth.sign_out"}
    with app.app_context():
        assert db.session.execute(text("SELECT 1")).scalar() == 1
