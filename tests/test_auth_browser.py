"""Sign-in in a real browser: the ``__Host-`` cookie over http://127.0.0.1, the idle-timeout
warning's "Stay signed in", sign-out, and axe on every page of the sign-in journeys.

Uses the live server, Chromium and axe-core fixtures of ``tests/test_accessibility.py``.
"""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from tests import test_accessibility as a11y
from tests.factories import make_user
from tests.helpers import latest_mail, link_in, path_of
from tracker.accounts import services
from tracker.extensions import db
from tracker.models import Council, Role

pytestmark = pytest.mark.browser
# The fixtures of the accessibility crawl, shared.
live_server = a11y.live_server
browser = a11y.browser
axe_source = a11y.axe_source
PASSWORD = "lantern orchard pebble 42"


def _check(page, axe_source, problems: list[str], label: str) -> None:
    problems += a11y.describe_violations(f"{label} {page.url}", a11y.run_axe(page, axe_source))


def _sign_in(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/auth/sign-in")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("main button:has-text('Sign in')")
    page.wait_for_load_state()


def test_sign_in_journeys_work_in_chromium_and_pass_axe(app, live_server, browser, axe_source):
    with app.app_context():
        council = db.session.scalar(select(Council).where(Council.gss_code == "E06000001"))
    editor = make_user(app, memberships=[(Role.COUNCIL_EDITOR, council)], password=PASSWORD)
    admin = make_user(app, memberships=[(Role.NATIONAL_ADMIN, None)], password=PASSWORD)
    with app.app_context():
        invited = services.create_user("invited@example.org", "New Person", actor=None)
        services.invite_user(invited, actor=None)
        db.session.commit()
    invitation_path = path_of(link_in(latest_mail(app, "invited@example.org")))
    problems: list[str] = []
    context = browser.new_context()
    page = context.new_page()

    page.goto(f"{live_server}/auth/sign-in")
    _check(page, axe_source, problems, "sign-in")
    page.click("main button:has-text('Sign in')")
    assert page.title().startswith("Error: Sign in")
    _check(page, axe_source, problems, "sign-in errors")
    page.goto(f"{live_server}/auth/forgot-password")
    _check(page, axe_source, problems, "forgot password")
    page.fill("#email", editor.email)
    page.click("main button:has-text('Send the link')")
    assert page.url.endswith("/auth/forgot-password/check-your-email")
    _check(page, axe_source, problems, "check email")
    page.goto(live_server + path_of(link_in(latest_mail(app, editor.email))))
    _check(page, axe_source, problems, "reset password")
    page.goto(live_server + invitation_path)
    _check(page, axe_source, problems, "invitation")
    page.goto(f"{live_server}/auth/invitation/not-a-token")
    _check(page, axe_source, problems, "link expired")

    _sign_in(page, live_server, editor.email, PASSWORD)
    (cookie,) = [c for c in context.cookies() if c["name"] == "__Host-session"]
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/"
    page.goto(f"{live_server}/account")
    assert page.locator("h1").inner_text() == "Your account"
    _check(page, axe_source, problems, "account")
    page.goto(f"{live_server}/account/password")
    _check(page, axe_source, problems, "change password")
    page.evaluate("document.getElementById('session-timeout').showModal()")
    _check(page, axe_source, problems, "timeout warning")
    saved = dict(cookie)

    page.reload()
    page.click(".govuk-service-navigation button:has-text('Sign out')")
    page.wait_for_load_state()
    assert page.url.endswith("/auth/signed-out")
    assert not [c for c in context.cookies() if c["name"] == "__Host-session"]
    _check(page, axe_source, problems, "signed out")
    context.add_cookies([saved])
    page.goto(f"{live_server}/account")
    assert "/auth/sign-in" in page.url  # the replayed cookie is refused

    _sign_in(page, live_server, admin.email, admin.password)
    assert "/auth/two-factor/set-up" in page.url
    assert page.evaluate("document.querySelector('img.tracker-qr-code').naturalWidth") > 0
    _check(page, axe_source, problems, "set up app")
    secret = page.locator("#secret-key").inner_text().replace(" ", "").strip()
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("main button:has-text('Continue')")
    page.wait_for_load_state()
    assert "two-factor" not in page.url
    page.wait_for_load_state("networkidle")
    context.close()
    assert problems == [], "\n" + "".join(problems)


def test_the_idle_warning_lets_a_person_stay_signed_in(app, live_server, browser):
    # A short timeout so that the warning opens within seconds.
    app.config.update(
        SESSION_IDLE_TIMEOUT=timedelta(seconds=90), SESSION_WARNING_BEFORE=timedelta(seconds=88)
    )
    made = make_user(app, password=PASSWORD)
    context = browser.new_context()
    page = context.new_page()
    _sign_in(page, live_server, made.email, PASSWORD)
    page.goto(f"{live_server}/roadmap/")
    dialog = page.locator("#session-timeout")
    dialog.wait_for(state="visible", timeout=10_000)
    assert "You will be signed out soon" in dialog.inner_text()
    assert page.evaluate("document.activeElement.textContent.trim()") == "Stay signed in"
    with page.expect_response(lambda r: r.url.endswith("/auth/keep-alive")) as response:
        page.click("#session-timeout button:has-text('Stay signed in')")
    assert response.value.status == 204
    dialog.wait_for(state="hidden", timeout=5_000)
    page.wait_for_load_state("networkidle")
    context.close()
