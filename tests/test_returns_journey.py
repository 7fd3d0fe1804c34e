"""A council completes, submits and signs off a full return in Chromium, with axe on the way.

An editor answers a few actions on their own form (one with a mistake first), marks the national
long-term actions not applicable and every other action embedded with bulk edit, checks the
answers and submits from the check page; the approver signs in with a code from their
authenticator app and signs the return off. Uses the live server and browser of
``tests/test_accessibility.py`` (Debian's Chromium, never a downloaded browser).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from tests.access_matrix import make_member
from tests.returns_data import (
    LABEL,
    LEEDS,
    SLUG,
    TRACKABLE,
    get_assessment,
    get_return,
    open_period,
)
from tests.test_accessibility import (  # noqa: F401 (fixtures)
    axe_source,
    browser,
    describe_violations,
    live_server,
    run_axe,
    sign_in_in_browser,
)
from tracker.extensions import db
from tracker.models import Action, ReturnSnapshot, Role

pytestmark = pytest.mark.browser

OVERVIEW = f"/councils/{LEEDS}/returns/{SLUG}"


class Checked:
    """Runs axe on each page it is asked about and keeps every violation."""

    def __init__(self, source: str) -> None:
        self.axe_source = source
        self.problems: list[str] = []

    def __call__(self, page: Any) -> None:
        self.problems += describe_violations(page.url, run_axe(page, self.axe_source))


def _text(page: Any, selector: str) -> str:
    return " ".join(page.locator(selector).first.inner_text().split())


def _sign_in_with_password(page: Any, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/auth/sign-in")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.locator("main form button", has_text="Sign in").click()
    page.wait_for_load_state("load")
    assert "/auth/" not in page.url, f"still signing in at {page.url}"


def _bulk(page: Any, base: str, query: str, stage: str, reason: str = "") -> None:
    """Bulk edit every action the filters in ``query`` list."""
    page.goto(f"{base}{OVERVIEW}/bulk?{query}")
    page.check("input[name=bulk-all_listed]")
    page.check(f"input[name=bulk-stage][value={stage}]")
    if reason:
        page.fill("textarea[name=bulk-not_applicable_reason]", reason)
    page.locator("main form button", has_text="Save changes").click()
    page.wait_for_load_state("load")


def test_an_editor_completes_and_submits_and_the_approver_signs_off(
    app,
    live_server,  # noqa: F811 (the imported fixtures)
    browser,  # noqa: F811
    axe_source,  # noqa: F811
):
    open_period(app)
    editor = make_member(app, Role.COUNCIL_EDITOR, display_name="Eddie Editor")
    approver = make_member(app, Role.COUNCIL_APPROVER, display_name="Dana Director")
    with app.app_context():
        national_long = db.session.scalar(
            select(func.count())
            .select_from(Action)
            .where(
                Action.lead == "national",
                Action.timeframe == "long",
                Action.parent_id.is_(None),
                Action.archived_at.is_(None),
            )
        )
    check = Checked(axe_source)

    editing = browser.new_context()
    try:
        page = editing.new_page()
        _sign_in_with_password(page, live_server, editor.email, editor.password)
        page.locator(".govuk-service-navigation__link", has_text="Returns").click()
        page.wait_for_load_state("load")
        assert _text(page, "h1") == f"{LABEL} return"
        assert _text(page, "#progress") == f"0 of {TRACKABLE} actions reviewed this quarter"
        check(page)

        # One action on its own form: a mistake first, then put right.
        page.locator("tr[id='action-A01.S01'] th a").click()
        page.wait_for_load_state("load")
        assert "Action A01.S01 ·" in _text(page, "main .govuk-caption-l")
        page.check("input[name=stage][value=implementing]")
        page.fill("textarea[name=narrative]", "Co-designed strategy agreed with partners")
        page.check("input[name=barriers][value=workforce]")
        page.fill("input[name=amount_pounds]", "£12,500")
        page.locator("main form button", has_text="Save and go to the next action").click()
        page.wait_for_load_state("load")
        assert "Select a RAG rating" in _text(page, ".govuk-error-summary")
        check(page)
        page.check("input[name=rag][value=amber]")
        page.locator("main form button", has_text="Save and go to the next action").click()
        page.wait_for_load_state("load")
        assert "Action A01.S02 ·" in _text(page, "main .govuk-caption-l")
        assert "Action A01.S01 saved" in _text(page, ".govuk-notification-banner")

        # The next one, not applicable locally, with its reason.
        page.check("input[name=stage][value=not_applicable]")
        page.fill("textarea[name=not_applicable_reason]", "Led by the county council")
        page.locator("main form button", has_text="Save and go back to the return").click()
        page.wait_for_load_state("load")
        assert _text(page, "#progress") == f"2 of {TRACKABLE} actions reviewed this quarter"

        # The national long-term actions in one go, then everything still unassessed.
        page.locator("a", has_text="Change several actions at once").click()
        page.wait_for_load_state("load")
        check(page)
        _bulk(page, live_server, "lead=national&timeframe=long", "not_applicable", "For government")
        assert f"{national_long} actions updated" in _text(page, ".govuk-notification-banner")
        _bulk(page, live_server, "stage=none", "embedded")
        assert (
            _text(page, "#progress") == f"{TRACKABLE} of {TRACKABLE} actions reviewed this quarter"
        )
        check(page)

        # Check the answers, then submit from the check page.
        page.locator("main a", has_text="Check your answers and submit").click()
        page.wait_for_load_state("load")
        assert _text(page, "h1") == f"Check your answers before submitting the {LABEL} return"
        assert page.locator("#blocked").count() == 0
        check(page)
        page.locator("main form button", has_text="Submit for sign-off").click()
        page.wait_for_load_state("load")
        assert "submitted for sign-off" in _text(page, ".govuk-notification-banner")
        assert "Submitted" in _text(page, ".govuk-summary-list")
    finally:
        editing.close()

    signing = browser.new_context()
    try:
        page = signing.new_page()
        sign_in_in_browser(
            page, live_server, approver.email, approver.password, approver.totp_secret
        )
        page.goto(f"{live_server}{OVERVIEW}")
        page.locator("main a", has_text="Sign off").first.click()
        page.wait_for_load_state("load")
        assert _text(page, "h1") == f"Sign off the {LABEL} return?"
        check(page)
        page.locator("main form button", has_text="Sign off return").click()
        page.wait_for_load_state("load")
        assert "signed off" in _text(page, ".govuk-notification-banner")
        status = page.locator(".govuk-summary-list__row", has_text="Status")
        assert " ".join(status.inner_text().split()) == "Status Signed off"
        signed = page.locator(".govuk-summary-list__row", has_text="Signed off").last
        assert "By Dana Director on " in signed.inner_text()
        check(page)
    finally:
        signing.close()

    assert not check.problems, "\n".join(check.problems)
    with app.app_context():
        return_ = get_return(LEEDS)
        assert (return_.status, return_.signed_off_by_id) == ("signed_off", approver.id)
        first = get_assessment(LEEDS, "A01.S01")
        assert (first.stage, first.rag, first.amount_pounds, first.barriers) == (
            "implementing",
            "amber",
            12500,
            ["workforce"],
        )
        assert get_assessment(LEEDS, "A01.S02").not_applicable_reason == "Led by the county council"
        snapshot = db.session.scalar(
            select(ReturnSnapshot).where(ReturnSnapshot.return_id == return_.id)
        )
        assert snapshot.data["assessments"]["A01.S01"]["amount_pounds"] == 12500
        assert len(snapshot.data["assessments"]) == TRACKABLE
