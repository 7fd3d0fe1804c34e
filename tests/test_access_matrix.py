"""Every cell of the access matrix (``tests/access_matrix.py``), and nothing left out of it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.access_matrix import (
    MATRIX,
    RELATIONS,
    ROLES,
    SIGN_IN,
    ByState,
    Leaf,
    Row,
    To,
    cell_count,
    checks,
    csrf_token,
    https_client,
    leaves,
    signed_in_client,
)
from tests.factories import MadeUser
from tests.matrix_world import MatrixWorlds, World, build

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def routes(app: Flask) -> set[tuple[str, str]]:
    """(endpoint, method) of every route but the static files."""
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in (rule.methods or set()) - IGNORED_METHODS
    }


def test_every_route_is_in_the_matrix(app):
    listed = {(row.endpoint, row.method) for row in MATRIX}
    missing = sorted(routes(app) - listed)
    assert not missing, "add these routes to tests/access_matrix.py:\n  " + "\n  ".join(
        f"{endpoint} {method}" for endpoint, method in missing
    )


def test_the_matrix_lists_only_real_routes_once(app):
    rows = [(row.endpoint, row.method) for row in MATRIX]
    assert len(rows) == len(set(rows)), "a route is listed twice"
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    unknown = sorted({endpoint for endpoint, _ in rows} - endpoints)
    assert not unknown, f"no such endpoints: {unknown}"
    # A method a route does not have must answer 405 for everyone.
    for row in MATRIX:
        if (row.endpoint, row.method) not in routes(app):
            assert {leaf for role in ROLES for leaf in leaves(row.cell(role))} == {405}, row
    # Every redirect's target is a real endpoint.
    targets = {
        leaf.endpoint
        for row in MATRIX
        for role in ROLES
        for leaf in leaves(row.cell(role))
        if isinstance(leaf, To)
    }
    assert targets - endpoints == set()


def test_every_redirect_in_the_matrix_says_where_it_goes():
    bare = [
        f"{row.endpoint} {row.method} {role}: {leaf}"
        for row in MATRIX
        for role in ROLES
        for leaf in leaves(row.cell(role))
        if isinstance(leaf, int) and 300 <= leaf < 400
    ]
    assert not bare, "give these redirects a target (To(endpoint)):\n  " + "\n  ".join(bare)


def test_only_rows_that_read_returns_depend_on_their_state():
    misplaced = [
        f"{row.endpoint} {row.method} {role}"
        for row in MATRIX
        for role in ROLES
        if isinstance(row.cell(role), ByState) and len(row.states) == 1
    ]
    assert not misplaced, misplaced


def test_the_matrix_checks_outsiders_reading_a_submitted_return_of_another_region():
    """The cross-region rows the issue lists: a regional member of another region gets 404 for
    a submitted return's pages, files and report; one of the same region gets them once it is
    submitted and never while it is a draft or kept to the council."""
    reads = {
        "returns.overview",
        "returns.action",
        "returns.history",
        "returns.export_xlsx",
        "returns.export_csv",
        "returns.evidence",
        "returns.download_evidence",
        "reports.council_report",
        "reports.council_report_pdf",
        "reports.council_report_xlsx",
    }
    rows = {row.endpoint: row for row in MATRIX if row.method == "GET"}
    for endpoint in reads:
        row = rows[endpoint]
        assert row.expected("regional_member", "other_region", "submitted") == 404, endpoint
        assert row.expected("regional_member", "same_region", "submitted") == 200, endpoint
        assert row.expected("regional_member", "same_region", "signed_off") == 200, endpoint
        assert row.expected("regional_member", "same_region", "unshared") == 404, endpoint
        if endpoint != "returns.history":  # the history lists submitted quarters only
            assert row.expected("regional_member", "same_region", "draft") == 404, endpoint


def test_someone_not_signed_in_reads_no_return_in_any_state():
    """Why the anonymous column is checked in the draft state only (see checks())."""
    for row in MATRIX:
        if len(row.states) > 1:
            assert set(leaves(row.anonymous)) <= {SIGN_IN, 401, 405}, row.endpoint
    assert {role for role, state in checks() if state != "draft"} == set(ROLES) - {"anonymous"}


def test_the_matrix_checks_over_three_thousand_requests():
    assert cell_count() > 3000


def ordered(rows: list[Row]) -> list[Row]:
    """GETs first, then POSTs, signing out last: no cell's change can decide an earlier one."""
    return sorted(rows, key=lambda r: (r.method != "GET", r.endpoint == "auth.sign_out"))


def described(expected: Leaf, app: Flask, values: dict[str, object], path: str) -> str:
    """A cell's value as :func:`outcome` describes a response."""
    if expected == SIGN_IN:
        return f"302 to /auth/sign-in next={path}"
    if isinstance(expected, To):
        return f"{expected.status} to {build(app, expected.endpoint, values)}"
    return str(expected)


def outcome(response) -> str:
    """What the response was: its status and, for a redirect, where to (path, and ``next``)."""
    if not 300 <= response.status_code < 400:
        return str(response.status_code)
    location = urlsplit(response.headers["Location"])
    next_path = parse_qs(location.query).get("next")
    return f"{response.status_code} to {location.path}" + (
        f" next={next_path[0]}" if next_path else ""
    )


@pytest.mark.parametrize(("role", "state"), checks())
def test_access_matrix(matrix_worlds: MatrixWorlds, tmp_path, quick_reports, role, state):
    with matrix_worlds.app(state, tmp_path) as (app, world, people):
        check_every_cell(app, world, people, role, state)


def check_every_cell(
    app: Flask, world: World, people: dict[str, MadeUser], role: str, state: str
) -> None:
    client: FlaskClient = (
        https_client(app) if role == "anonymous" else signed_in_client(app, people[role])
    )
    token = csrf_token(client)

    rows = [row for row in ordered(MATRIX) if state in row.states]
    mismatches = []
    checked = 0
    for row in rows:
        for relation in RELATIONS:
            values = world.values(row, relation)
            url = world.url(row, relation, values)
            if row.method == "GET":
                response = client.get(url)
            else:
                data = {"csrf_token": token, **world.form(row, relation)}
                response = client.post(url, data=data)
            expected = described(row.expected(role, relation, state), app, values, url)
            actual = outcome(response)
            checked += 1
            if row.endpoint == "auth.sign_out":
                token = csrf_token(client)  # signing out ended the session and its token
            if actual != expected:
                mismatches.append(
                    f"{row.endpoint} {row.method} {relation}: expected {expected}, got {actual}"
                    f" ({url})"
                )
    assert checked == len(rows) * len(RELATIONS)
    assert not mismatches, f"{role}, {state}: {len(mismatches)} of {checked} cells differ:\n  " + (
        "\n  ".join(mismatches)
    )
