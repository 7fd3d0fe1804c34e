"""Changes to roles, accounts and authenticator apps need a recent proof of identity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import time_machine
from sqlalchemy import func, select

from tests.factories import make_user
from tests.helpers import post_form, sign_in
from tracker.extensions import db
from tracker.models import Membership, Role

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _setup(app) -> tuple:
    """A national administrator, a person without roles, and Leeds's GSS code."""
    admin = make_user(app, memberships=[(Role.NATIONAL_ADMIN, None)], mfa=True)
    person = make_user(app, email="someone@example.org")
    return admin, person, "E08000035"


def _memberships(app, user_id: int) -> int:
    with app.app_context():
        query = select(func.count()).select_from(Membership).where(Membership.user_id == user_id)
        return db.session.scalar(query)


def test_a_stale_sign_in_is_asked_to_confirm_before_a_role_change(app, client, page):
    admin, person, leeds = _setup(app)
    user_page = f"/admin/users/{person.id}"
    change = {"role": "council_viewer", "council": leeds}
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client, admin.email, admin.password, admin.totp_secret)
        clock.shift(timedelta(minutes=16))
        refused = post_form(client, f"{user_page}/memberships", change, token_from=user_page)
        assert refused.status_code == 302
        assert refused.headers["Location"].startswith("/auth/confirm-identity?next=")
        assert _memberships(app, person.id) == 0

        confirm = client.get(refused.headers["Location"])
        assert page(confirm).h1.get_text(strip=True) == "Confirm it is you"
        wrong = post_form(
            client,
            refused.headers["Location"],
            {"password": "not the password", "code": "000000"},
        )
        assert wrong.status_code == 422
        assert "Enter your correct password" in wrong.get_data(as_text=True)

        clock.shift(timedelta(seconds=31))
        code = pyotp.TOTP(admin.totp_secret).now()
        confirmed = post_form(
            client, refused.headers["Location"], {"password": admin.password, "code": code}
        )
        assert confirmed.status_code == 302
        assert confirmed.headers["Location"] == user_page

        done = post_form(client, f"{user_page}/memberships", change, token_from=user_page)
        assert done.status_code == 302
        assert _memberships(app, person.id) == 1


def test_a_fresh_sign_in_is_not_asked_again(app, client):
    admin, person, leeds = _setup(app)
    user_page = f"/admin/users/{person.id}"
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client, admin.email, admin.password, admin.totp_secret)
        clock.shift(timedelta(minutes=10))
        response = post_form(
            client,
            f"{user_page}/memberships",
            {"role": "council_viewer", "council": leeds},
            token_from=user_page,
        )
        assert response.headers["Location"] == user_page
        assert _memberships(app, person.id) == 1


def test_confirm_identity_needs_a_sign_in(client):
    response = client.get("/auth/confirm-identity")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/sign-in")
