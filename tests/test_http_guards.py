"""Input that no page should see: a NUL byte, an id out of range, a forged Host header. Each is
refused early with a 400 or 404, never a database error or a redirect to someone else's host."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.access_matrix import csrf_token, https_client, make_member, signed_in_client
from tests.helpers import csrf_token as csrf_token_of_page
from tests.returns_data import LEEDS, open_period
from tracker.extensions import db
from tracker.models import Action, Role


@pytest.mark.parametrize(
    "url",
    [
        "/roadmap/actions/A01.S01%00",
        "/roadmap/areas/workforce%00",
        "/roadmap/actions?lead=lo%00cal",
        "/roadmap/actions?area=A99&area=%00",
        "/?a%00=1",
    ],
)
def test_nul_bytes_get_a_400_not_a_database_error(client, url):
    response = client.get(url)
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)


# -- ids out of range ------------------------------------------------------------------------------

#: beyond PostgreSQL's ``integer`` (2**31 - 1), beyond SQLite's and a C long's (2**63 - 1), and far
#: beyond; 0 is no row's id either
OUT_OF_RANGE_IDS = [2**31, 2**63, 10**30, 0]
#: an id no test database reaches, built into each URL and then swapped for one out of range
PLACEHOLDER_ID = 1987654321
#: an ``<int:name>`` (or ``<int(…):name>``) in a rule, by its name
INT_ARGUMENT = re.compile(r"<int(?:\([^)]*\))?:(\w+)>")


def _id_routes(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, URL with PLACEHOLDER_ID for every id) of each route with an int id."""
    slug = open_period(app)
    with app.app_context():
        action_code = db.session.scalar(
            select(Action.code)
            .where(Action.parent_id.is_(None), Action.archived_at.is_(None))
            .order_by(Action.code)
        )
    known = {"gss_code": LEEDS, "period_label": slug, "action_code": action_code}
    routes = []
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        ids = set(INT_ARGUMENT.findall(rule.rule))
        if not ids:
            continue
        values = {name: PLACEHOLDER_ID if name in ids else known[name] for name in rule.arguments}
        url = adapter.build(rule.endpoint, values)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((rule.endpoint, method, url))
    return routes


@pytest.mark.parametrize("role", ["anonymous", "national_admin", "council_editor"])
def test_an_id_out_of_range_in_any_url_is_not_found(app, role):
    routes = _id_routes(app)
    assert len(routes) >= 10, routes  # the admin, team, period and evidence routes
    if role == "anonymous":
        client = https_client(app)
    else:
        client = signed_in_client(app, make_member(app, Role(role)))
    token = csrf_token(client)
    for endpoint, method, url in routes:
        for number in OUT_OF_RANGE_IDS:
            path = url.replace(str(PLACEHOLDER_ID), str(number))
            if method == "GET":
                response = client.get(path)
            else:
                response = client.post(path, data={"csrf_token": token})
            where = f"{role} {method} {path} ({endpoint})"
            assert response.status_code != 500, where
            if role == "anonymous" and response.status_code == 302:
                assert response.headers["Location"].startswith("/auth/sign-in"), where
            else:
                assert response.status_code == 404, where


@pytest.mark.parametrize("path", ["/admin/users", "/admin/audit"])
def test_a_page_number_out_of_range_shows_the_last_page(app, path):
    client = signed_in_client(app, make_member(app, Role.NATIONAL_ADMIN))
    for number in (10**30, -(2**63), "x"):
        response = client.get(f"{path}?page={number}")
        assert response.status_code == 200, (path, number)


# -- the Host header -------------------------------------------------------------------------------

#: Host headers that are not ours: another site, with a port, and names that merely start with ours
FORGED_HOSTS = [
    "evil.example",
    "evil.example:5000",
    "localhost.evil.example",
    "127.0.0.1.evil.example",
]
#: the 400 page's heading (templates/errors/400.html)
BAD_REQUEST_HEADING = "Sorry, there is a problem with your request"


@pytest.mark.parametrize("host", FORGED_HOSTS)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/auth/sign-in"),
        ("POST", "/auth/sign-in"),
        ("GET", "/admin/"),  # would redirect to sign-in
        ("GET", "/councils/E08000035/team/"),
        ("GET", "/no-such-page"),
    ],
)
def test_a_forged_host_gets_our_400_page_and_nothing_points_at_it(client, page, host, method, path):
    data = None
    if method == "POST":
        # A good CSRF token and the session it belongs to, sent to the forged host too, so
        # that the Host header is what the POST is refused for.
        data = {"csrf_token": csrf_token_of_page(client.get("/auth/sign-in"))}
        cookie = client.get_cookie("__Host-session")
        client.set_cookie(cookie.key, cookie.value, domain=host.split(":")[0])
    response = client.open(path, method=method, data=data, headers={"Host": host})

    assert response.status_code == 400
    assert "Location" not in response.headers
    body = response.get_data(as_text=True)
    assert host.split(":")[0] not in body
    assert page(response).h1.get_text(strip=True) == BAD_REQUEST_HEADING
    assert "script-src 'self' 'nonce-" in response.headers["Content-Security-Policy"]


def test_a_signed_in_person_with_a_forged_host_gets_the_400_page(app, page):
    client = signed_in_client(app, make_member(app, Role.NATIONAL_ADMIN))
    assert client.get("/admin/").status_code == 200
    cookie = client.get_cookie("__Host-session")
    client.set_cookie(cookie.key, cookie.value, domain="evil.example")  # the session goes too
    response = client.get("/admin/", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert page(response).h1.get_text(strip=True) == BAD_REQUEST_HEADING


@pytest.mark.parametrize("host", ["localhost", "localhost:5000", "127.0.0.1", "127.0.0.1:5000"])
def test_the_loopback_names_are_trusted_by_default(client, host):
    assert client.get("/", headers={"Host": host}).status_code == 200
    response = client.get("/admin/", headers={"Host": host})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/sign-in")
