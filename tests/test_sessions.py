"""Sessions: the cookie, server-side ending, idle and absolute timeouts, and the second factor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from tests.factories import make_user
from tests.helpers import (
    csrf_token,
    post_form,
    session_cookie,
    set_session_cookie,
    sign_in,
    sign_out,
)
from tracker.accounts import services
from tracker.extensions import db
from tracker.models import Council, Role, User

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _council(app, gss_code: str = "E06000001") -> Council:
    with app.app_context():
        council = db.session.scalar(select(Council).where(Council.gss_code == gss_code))
        db.session.expunge(council)
        return council


def _flashes(page, response) -> list[str]:
    return [
        b.get_text(" ", strip=True)
        for b in page(response).find_all(class_="govuk-notification-banner")
    ]


# -- the cookie ------------------------------------------------------------------------------------


def test_the_session_cookie_is_host_prefixed_secure_httponly_and_lax(app, client):
    made = make_user(app)
    response = sign_in(client, made.email, made.password)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=")
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite", "path"} <= attributes
    assert "SameSite=Lax" in cookie and "Path=/" in cookie
    # __Host- forbids Domain; a browser-session cookie has no Expires.
    assert "domain" not in attributes and "expires" not in attributes


def test_signing_in_starts_a_new_session(app, client):
    made = make_user(app)
    client.get("/auth/sign-in")
    before = session_cookie(client)
    assert before is not None  # the CSRF token lives in the session
    sign_in(client, made.email, made.password)
    after = session_cookie(client)
    assert after != before
    # The cookie from before sign-in does not become signed in.
    other = app.test_client()
    set_session_cookie(other, before)
    assert other.get("/account").status_code == 302


def test_signed_in_responses_are_not_stored(app, client):
    made = make_user(app)
    assert "no-store" not in client.get("/roadmap/").headers.get("Cache-Control", "")
    sign_in(client, made.email, made.password)
    for path in ("/roadmap/", "/account", "/does-not-exist"):
        assert client.get(path).headers["Cache-Control"] == "no-store"


# -- replaying a cookie ----------------------------------------------------------------------------


def test_a_cookie_replayed_after_sign_out_lands_on_sign_in(app, client):
    made = make_user(app)
    sign_in(client, made.email, made.password)
    saved = session_cookie(client)
    sign_out(client)
    attacker = app.test_client()
    set_session_cookie(attacker, saved)
    response = attacker.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/sign-in")


def test_a_cookie_replayed_after_a_password_change_lands_on_sign_in(app, client):
    made = make_user(app)
    sign_in(client, made.email, made.password)
    saved = session_cookie(client)
    post_form(
        client,
        "/account/password",
        {"current_password": made.password, "new_password": "lantern orchard pebble 42"},
    )
    assert client.get("/account").status_code == 200  # this browser carries on
    attacker = app.test_client()
    set_session_cookie(attacker, saved)
    assert attacker.get("/account").status_code == 302


@pytest.mark.parametrize("action", ["disable", "end_sessions", "reset_totp"])
def test_a_cookie_replayed_after_an_administrator_acts_lands_on_sign_in(app, client, action):
    made = make_user(app)
    sign_in(client, made.email, made.password)
    saved = session_cookie(client)
    with app.app_context():
        user = db.session.get(User, made.id)
        {
            "disable": services.disable_user,
            "end_sessions": services.end_sessions,
            "reset_totp": services.reset_totp,
        }[action](user, actor=None)
        db.session.commit()
    assert client.get("/account").status_code == 302
    attacker = app.test_client()
    set_session_cookie(attacker, saved)
    assert attacker.get("/account").status_code == 302


def test_a_tampered_cookie_is_ignored(app, client):
    made = make_user(app)
    sign_in(client, made.email, made.password)
    value = session_cookie(client)
    set_session_cookie(client, value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert client.get("/account").status_code == 302


# -- timeouts --------------------------------------------------------------------------------------


def test_thirty_idle_minutes_sign_a_person_out_with_a_message(app, client, page):
    made = make_user(app)
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client, made.email, made.password)
        clock.move_to(START + timedelta(minutes=29))
        assert client.get("/account").status_code == 200
        clock.move_to(START + timedelta(minutes=29 + 31))
        response = client.get("/account")
        assert response.headers["Location"] == "/auth/sign-in?next=/account"
        assert _flashes(page, client.get(response.headers["Location"])) == [
            "Important You were signed out because you were inactive for 30 minutes"
        ]


def test_activity_keeps_a_session_going_for_at_most_twelve_hours(app, client, page):
    made = make_user(app)
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client, made.email, made.password)
        for minutes in range(20, 12 * 60, 20):
            clock.move_to(START + timedelta(minutes=minutes))
            assert client.get("/account").status_code == 200, minutes
        clock.move_to(START + timedelta(hours=12, minutes=1))
        response = client.get("/account")
        assert response.status_code == 302
        assert "signed in for 12 hours" in " ".join(_flashes(page, client.get("/auth/sign-in")))


def test_the_cookie_is_rewritten_at_most_once_a_minute(app, client):
    made = make_user(app)
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client, made.email, made.password)
        client.get("/account")  # the first page puts a new CSRF token in the new session
        clock.move_to(START + timedelta(seconds=30))
        assert "Set-Cookie" not in client.get("/account").headers
        clock.move_to(START + timedelta(seconds=61))
        assert "__Host-session=" in client.get("/account").headers["Set-Cookie"]


def test_stay_signed_in_extends_the_idle_timeout(app, client):
    made = make_user(app)
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client, made.email, made.password)
        clock.move_to(START + timedelta(minutes=26))
        token = csrf_token(client.get("/account"))
        clock.move_to(START + timedelta(minutes=26, seconds=30))
        response = client.post("/auth/keep-alive", headers={"X-CSRFToken": token})
        assert response.status_code == 204
        clock.move_to(START + timedelta(minutes=26 + 29))
        assert client.get("/account").status_code == 200


def test_stay_signed_in_needs_a_csrf_token_and_a_session(app, client):
    made = make_user(app)
    assert client.post("/auth/keep-alive").status_code == 400
    sign_in(client, made.email, made.password)
    assert client.post("/auth/keep-alive").status_code == 400
    token = csrf_token(client.get("/account"))
    sign_out(client)
    response = client.post("/auth/keep-alive", headers={"X-CSRFToken": token})
    assert response.status_code in (302, 400)


def test_signed_in_pages_carry_the_timeout_warning_and_its_script(app, client, page):
    made = make_user(app)
    anonymous = page(client.get("/roadmap/"))
    assert anonymous.find(id="session-timeout") is None
    assert anonymous.find("script", src="/static/js/session-timeout.js") is None
    sign_in(client, made.email, made.password)
    soup = page(client.get("/roadmap/"))
    dialog = soup.find("dialog", id="session-timeout")
    # Seconds left, counted down from sign-in: a busy machine may have crossed a second since.
    assert 30 * 60 - 5 <= int(dialog["data-expires-in"]) <= 30 * 60
    assert dialog["data-keep-alive-url"] == "/auth/keep-alive"
    assert soup.find("script", src="/static/js/session-timeout.js")["type"] == "module"
    assert soup.find("meta", attrs={"name": "csrf-token"})["content"]
    assert "do nothing for 30 minutes" in soup.find("noscript").get_text()


# -- the second factor during a session ------------------------------------------------------------


def test_a_role_needing_mfa_granted_mid_session_sends_the_person_to_set_up(app, client, page):
    council = _council(app)
    made = make_user(app, memberships=[(Role.COUNCIL_EDITOR, council)])
    sign_in(client, made.email, made.password)
    assert client.get("/account").status_code == 200
    from tracker.admin.services import add_membership

    with app.app_context():
        user = db.session.get(User, made.id)
        add_membership(user, Role.COUNCIL_APPROVER, council=db.session.merge(council), actor=None)
        db.session.commit()

    response = client.get("/account")
    assert response.headers["Location"] == "/auth/two-factor/set-up?next=/account"
    # Public pages still work, but show no signed-in person's details.
    assert client.get("/roadmap/").status_code == 200
    start = client.get("/auth/two-factor/set-up?next=/account")
    assert page(start).find("h1").get_text(strip=True) == "You need to set up an authenticator app"
    assert client.get("/auth/two-factor/qr.svg").status_code == 404
    created = post_form(client, "/auth/two-factor/set-up?next=/account", {})
    assert created.headers["Location"] == "/auth/two-factor/set-up?next=/account"
    with app.app_context():
        secret = db.session.get(User, made.id).totp_secret
    import pyotp

    done = post_form(
        client, "/auth/two-factor/set-up?next=/account", {"code": pyotp.TOTP(secret).now()}
    )
    assert done.headers["Location"] == "/account"
    assert client.get("/account").status_code == 200


def test_a_pending_second_factor_expires_with_the_idle_timeout(app, client):
    made = make_user(app, memberships=[(Role.NATIONAL_ADMIN, None)], mfa=True)
    with time_machine.travel(START, tick=False) as clock:
        post_form(client, "/auth/sign-in", {"email": made.email, "password": made.password})
        clock.move_to(START + timedelta(minutes=31))
        assert client.get("/auth/two-factor").headers["Location"] == "/auth/sign-in"
