"""The council type-ahead: accessible-autocomplete, served by us, enhancing the selects of the 153
councils on the administration pages, which still work as plain selects without JavaScript.

The browser checks drive Debian's Chromium (never a downloaded one) through the fixtures of
tests/test_accessibility.py; screenshots go to ``test-artifacts/autocomplete/``.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests import test_accessibility as a11y
from tests.access_matrix import make_member, signed_in_client
from tests.factories import make_user
from tests.helpers import require_tool
from tests.test_accessibility import describe_violations, run_axe, sign_in_in_browser
from tracker.config import PROJECT_ROOT
from tracker.extensions import db
from tracker.models import Council, Membership, Role

live_server = a11y.live_server
browser = a11y.browser
axe_source = a11y.axe_source

AUTOCOMPLETE_JS = "/static/vendor/accessible-autocomplete/accessible-autocomplete.min.js"
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "autocomplete"
LEEDS = "E08000035"


def _require_built() -> None:
    built = PROJECT_ROOT / AUTOCOMPLETE_JS.lstrip("/")
    require_tool(
        "accessible-autocomplete in static/vendor", built.exists(), "`make assets` copies it"
    )


def test_the_type_ahead_is_served_by_us(client):
    _require_built()
    for path in (AUTOCOMPLETE_JS, "/static/js/council-autocomplete.js", "/static/js/init.js"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "javascript" in response.mimetype, path
        response.close()
    css = client.get("/static/css/tracker.css")
    assert b".autocomplete__wrapper" in css.data
    css.close()


def test_every_select_of_the_councils_is_marked_for_the_type_ahead(app, page):
    admin = signed_in_client(app, make_member(app, Role.NATIONAL_ADMIN))
    person = make_user(app)
    for path in ("/admin/users/new", f"/admin/users/{person.id}", "/admin/users", "/admin/audit"):
        council = page(admin.get(path)).select_one("select#council")
        assert council is not None, path
        assert council["data-module"] == "council-autocomplete", path
        assert len(council.select("option")) == 154, path  # the 153 and an empty choice


def _membership_councils(app, user_id: int) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(Council.gss_code)
                .join(Membership, Membership.council_id == Council.id)
                .where(Membership.user_id == user_id)
            )
        )


def _watch(page: Any) -> list[str]:
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"JavaScript error {e}"))
    page.on(
        "console",
        lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on(
        "response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )
    return problems


@pytest.mark.browser
def test_typing_leed_and_choosing_leeds_adds_a_role_in_leeds(app, live_server, browser, axe_source):
    _require_built()
    admin = make_member(app, Role.NATIONAL_ADMIN)
    person = make_user(app, display_name="Sam Newcomer")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        sign_in_in_browser(page, live_server, admin.email, admin.password, admin.totp_secret)
        problems = _watch(page)
        page.goto(f"{live_server}/admin/users/{person.id}", wait_until="load")
        field = page.locator("input#council")
        field.wait_for()
        # Enhanced: the select is hidden under its own id, the field has taken its label.
        assert page.locator("select#council-select").is_hidden()
        assert page.locator("label[for=council]").inner_text().strip() == "Council"
        assert describe_violations("user page", run_axe(page, axe_source)) == []

        page.get_by_label("Council editor").check()
        field.click()
        field.press_sequentially("Leed")
        option = page.locator("#council__listbox li", has_text="Leeds")
        option.first.wait_for()
        assert [t.strip() for t in page.locator("#council__listbox li").all_inner_texts()] == [
            "Leeds City Council"
        ]
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "council-type-ahead-open.png"))
        # The open list passes too.
        assert describe_violations("open list", run_axe(page, axe_source)) == []
        option.first.click()
        assert field.input_value() == "Leeds City Council"
        page.screenshot(path=str(ARTIFACTS / "council-type-ahead-chosen.png"))
        page.locator("main form button", has_text="Add role").click()
        page.wait_for_load_state("load")
        assert _membership_councils(app, person.id) == [LEEDS]
        assert problems == []
    finally:
        context.close()


@pytest.mark.browser
def test_without_javascript_the_plain_select_still_works(app, live_server, browser):
    admin = make_member(app, Role.NATIONAL_ADMIN)
    person = make_user(app)
    signed_in = browser.new_context()
    sign_in_in_browser(
        signed_in.new_page(), live_server, admin.email, admin.password, admin.totp_secret
    )
    cookies = signed_in.cookies()
    signed_in.close()
    context = browser.new_context(java_script_enabled=False)
    context.add_cookies(cookies)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/admin/users/{person.id}", wait_until="load")
        assert page.locator("input#council").count() == 0
        page.get_by_label("Council viewer").check()
        page.select_option("select#council", label="Leeds City Council")
        page.locator("main form button", has_text="Add role").click()
        page.wait_for_load_state("load")
        assert _membership_councils(app, person.id) == [LEEDS]
    finally:
        context.close()


@pytest.mark.browser
def test_clearing_the_field_sends_no_council(app, live_server, browser):
    """A name typed then rubbed out is not sent as the council picked before it."""
    _require_built()
    admin = make_member(app, Role.NATIONAL_ADMIN)
    person = make_user(app)
    context = browser.new_context()
    page = context.new_page()
    try:
        sign_in_in_browser(page, live_server, admin.email, admin.password, admin.totp_secret)
        page.goto(f"{live_server}/admin/users/{person.id}", wait_until="load")
        page.get_by_label("Council editor").check()
        field = page.locator("input#council")
        field.press_sequentially("Leed")
        page.locator("#council__listbox li", has_text="Leeds").first.click()
        field.fill("")
        field.press("Escape")  # the emptied field lists every council over the button
        page.locator("main form button", has_text="Add role").click()
        page.wait_for_load_state("load")
        assert "Select a council" in page.locator(".govuk-error-summary").inner_text()
        assert _membership_councils(app, person.id) == []
    finally:
        context.close()
