"""Every cell of the access matrix (``tests/access_matrix.py``), and nothing left out of it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.access_matrix import (
    MATRIX,
    RELATIONS,
    ROLES,
    SIGN_IN,
    Row,
    cell_count,
    council,
    csrf_token,
    https_client,
    make_member,
    make_person,
    signed_in_client,
)
from tracker.extensions import db
from tracker.models import Action, ActionArea, Membership, Period, Role
from tracker.returns.periods import create_period, open_period

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
            assert {row.expected(r, rel) for r in ROLES for rel in RELATIONS} == {405}, row


def test_the_matrix_checks_over_a_thousand_requests():
    assert cell_count() > 1000


# -- the world the matrix speaks of -------------------------------------------------------------


@dataclass
class World:
    """Council A's people of one role, and the ids the URLs need."""

    app: Flask
    area_slug: str
    action_code: str
    #: (relation) -> (user_id, membership_id) of a council editor there, for GETs
    shared: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: (relation) -> more URL values: periods and evidence (see periods_and_evidence)
    per_relation: dict[str, dict[str, object]] = field(default_factory=dict)

    def subject(self, relation: str) -> tuple[int, int]:
        """A new council editor in the relation's council: (user id, membership id)."""
        with self.app.app_context():
            person = make_person(
                f"subject-{secrets.token_hex(4)}@example.org",
                Role.COUNCIL_EDITOR,
                council=council(relation),
            )
            membership_id = db.session.scalar(
                select(Membership.id).where(Membership.user_id == person.id)
            )
            db.session.commit()
            return person.id, membership_id

    def url(self, row: Row, relation: str) -> str:
        rule = next(r for r in self.app.url_map.iter_rules() if r.endpoint == row.endpoint)
        values: dict[str, object] = {}
        if {"user_id", "membership_id"} & rule.arguments:
            user_id, membership_id = (
                self.subject(relation) if row.method == "POST" else self.shared[relation]
            )
            values.update(user_id=user_id, membership_id=membership_id)
        known = {
            "gss_code": council_code(relation),
            "token": secrets.token_urlsafe(32),
            "invitation_id": 2**31 - 1,
            "slug": self.area_slug,
            "code": self.action_code,
            "period_label": MATRIX_PERIOD.replace(" ", "-"),
            "region_slug": REGION_SLUGS[relation],
            **self.per_relation.get(relation, {}),
        }
        for name in rule.arguments - values.keys():
            values[name] = known[name]
        return self.app.url_map.bind("localhost").build(row.endpoint, values)


def council_code(relation: str) -> str:
    from tests.access_matrix import COUNCIL_CODES

    return COUNCIL_CODES[relation]


#: the ADASS region of each relation's council (A and B share Yorkshire and the Humber)
REGION_SLUGS = {
    "own": "yorkshire-and-the-humber",
    "same_region": "yorkshire-and-the-humber",
    "other_region": "south-west",
}

#: an open period: every council has a draft return for it
MATRIX_PERIOD = "2025-26 Q3"


def build_world(app: Flask) -> World:
    """The objects the URLs point at."""
    with app.app_context():
        if db.session.scalar(select(Period).where(Period.label == MATRIX_PERIOD)) is None:
            period = create_period(MATRIX_PERIOD, date(2030, 1, 31), actor=None)
            open_period(period, actor=None)
        world = World(
            app=app,
            area_slug=db.session.scalar(select(ActionArea.slug).order_by(ActionArea.id)),
            action_code=db.session.scalar(select(Action.code).order_by(Action.id)),
        )
        db.session.commit()
    for relation in RELATIONS:
        world.shared[relation] = world.subject(relation)
    world.per_relation = periods_and_evidence(app)
    return world


def periods_and_evidence(app: Flask) -> dict[str, dict[str, object]]:
    """URL values of the period and evidence routes, for each relation: an upcoming period to
    open and close (``period_id``), a trackable action (``action_code``) and, in the relation's
    council, an uploaded file that supports that action in MATRIX_PERIOD (``evidence_id``)."""
    import io

    from werkzeug.datastructures import FileStorage

    from tracker.returns import evidence

    with app.app_context():
        upcoming = create_period("2025-26 Q4", date(2030, 4, 30), actor=None)
        action_code = db.session.scalar(
            select(Action.code)
            .where(Action.parent_id.is_(None), Action.archived_at.is_(None))
            .order_by(Action.code)
        )
        values: dict[str, dict[str, object]] = {}
        for relation in RELATIONS:
            place = council(relation)
            # Evidence is linked by one of the council's editors (the only people who may).
            keeper = make_person(
                f"evidence-{secrets.token_hex(4)}@example.org", Role.COUNCIL_EDITOR, council=place
            )
            item = evidence.add_file_evidence(
                place,
                "Board paper",
                "board_paper",
                date(2025, 10, 1),
                FileStorage(io.BytesIO(b"%PDF-1.7\n%%EOF\n"), filename="board paper.pdf"),
                actor=keeper,
            )
            assessment = evidence.get_assessment(
                place, MATRIX_PERIOD.replace(" ", "-"), action_code
            )
            assert assessment is not None
            evidence.link_evidence(assessment, item, actor=keeper)
            values[relation] = {
                "period_id": upcoming.id,
                "action_code": action_code,
                "evidence_id": item.id,
            }
        db.session.commit()
    return values


def ordered(rows: list[Row]) -> list[Row]:
    """GETs first, then POSTs, signing out last: no cell's change can decide an earlier one."""
    return sorted(rows, key=lambda r: (r.method != "GET", r.endpoint == "auth.sign_out"))


def outcome(response, expected: int | str) -> int | str:
    """What the response was, in the matrix's terms."""
    if response.status_code == 302 and expected == SIGN_IN:
        location = urlsplit(response.headers["Location"]).path
        return SIGN_IN if location == "/auth/sign-in" else f"302 to {location}"
    return response.status_code


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(app, role):
    world = build_world(app)
    if role == "anonymous":
        client: FlaskClient = https_client(app)
    else:
        client = signed_in_client(app, make_member(app, Role(role)))
    token = csrf_token(client)

    mismatches = []
    checked = 0
    for row in ordered(MATRIX):
        for relation in RELATIONS:
            expected = row.expected(role, relation)
            url = world.url(row, relation)
            if row.method == "GET":
                response = client.get(url)
            else:
                response = client.post(url, data={"csrf_token": token})
            actual = outcome(response, expected)
            checked += 1
            if row.endpoint == "auth.sign_out":
                token = csrf_token(client)  # signing out ended the session and its token
            if actual != expected:
                mismatches.append(
                    f"{row.endpoint} {row.method} {relation}: expected {expected}, got {actual}"
                    f" ({url})"
                )
    assert checked == len(MATRIX) * len(RELATIONS)
    assert not mismatches, f"{role}: {len(mismatches)} of {checked} cells differ:\n  " + (
        "\n  ".join(mismatches)
    )
