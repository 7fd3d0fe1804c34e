"""The quarter's work in Chromium, one journey per role, each starting at sign-in and moving
only by links and buttons (no typed addresses after the sign-in page):

- the editor lands on "Your work", finds the return blocked by actions not yet reviewed,
  updates one, confirms the rest unchanged through the confirmation page, checks the answers
  and submits;
- the approver lands on "Your work", sends the return back, then (after the editors change an
  action and submit again) sees what changed since and signs off with a summary and a
  recommendation for the board;
- the regional member lands on "Your work" and follows a count to the councils behind it;
- the national administrator lands on "Your work", follows it to the period page, is stopped
  from closing the period early without confirming, closes it, and reopens it with a reason.

axe runs on every page of the way. Uses the live server and browser of
``tests/test_accessibility.py`` (Debian's Chromium, never a downloaded browser).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from tests.access_matrix import make_member
from tests.returns_data import (
    LEEDS,
    PREVIOUS_LABEL,
    TRACKABLE,
    assess,
    assess_all,
    complete_quarter,
    get_assessment,
    get_return,
    open_period,
    sign_off,
    submit,
)
from tests.test_accessibility import (  # noqa: F401 (fixtures)
    axe_source,
    browser,
    describe_violations,
    live_server,
    run_axe,
    sign_in_in_browser,
)
from tests.test_returns_journey import Checked
from tracker.domain.periods import months
from tracker.extensions import db
from tracker.models import AuditEvent, Period, Role

pytestmark = pytest.mark.browser

PLANNING_AMBER = {"stage": "planning", "rag": "amber", "narrative": "Scoping with partners"}


def _text(page: Any, selector: str) -> str:
    return " ".join(page.locator(selector).first.inner_text().split())


def _click(page: Any, selector: str, text: str) -> None:
    page.locator(selector, has_text=text).first.click()
    page.wait_for_load_state("load")


def _sign_in(page: Any, base: str, person: Any) -> None:
    sign_in_in_browser(page, base, person.email, person.password, person.totp_secret)
    assert page.url.endswith("/your-work"), page.url
    assert _text(page, "h1") == "Your work"


def _period_months(app) -> str:
    with app.app_context():
        return months(get_return(LEEDS).period.label)


def test_the_editor_reviews_every_action_checks_and_submits(
    app,
    live_server,  # noqa: F811 (the imported fixtures)
    browser,  # noqa: F811
    axe_source,  # noqa: F811
):
    complete_quarter(app, LEEDS, PREVIOUS_LABEL, PLANNING_AMBER)
    open_period(app)
    editor = make_member(app, Role.COUNCIL_EDITOR, display_name="Eddie Editor")
    check = Checked(axe_source)
    context = browser.new_context()
    try:
        page = context.new_page()
        _sign_in(page, live_server, editor)
        check(page)
        quarter = _period_months(app)
        assert f"Your {quarter} return is due" in _text(page, "main")
        assert f"{TRACKABLE} actions not yet reviewed" in _text(page, "main")

        # Blocked: nothing reviewed yet. The check page says how many and links to them.
        _click(page, "main a", "See what stops it being submitted")
        assert _text(page, "h1").startswith("Check your answers before submitting")
        blocked = _text(page, "#blocked")
        assert "cannot be submitted yet" in blocked
        assert page.locator("main form button", has_text="Submit for sign-off").count() == 0
        check(page)

        # Update one action on its own form.
        _click(page, ".govuk-back-link", "Back to the")
        page.locator("tr[id='action-A01.S01'] th a").click()
        page.wait_for_load_state("load")
        page.check("input[name=stage][value=implementing]")
        page.check("input[name=rag][value=green]")
        page.fill("textarea[name=narrative]", "Carers' strategy agreed with partners")
        _click(page, "main form button", "Save and go back to the return")
        states = _text(page, "#review-states")
        assert "Updated: 1" in states
        assert f"Not yet reviewed: {TRACKABLE - 1}" in states
        check(page)

        # Confirm every other action unchanged, through the confirmation page.
        _click(page, "#review-states a", "Not yet reviewed")
        boxes = page.locator("#confirm-form input[name=actions]")
        assert boxes.count() == TRACKABLE - 1
        for box in boxes.all():
            box.check()
        _click(page, "main button", "Confirm the chosen actions unchanged")
        assert _text(page, "h1").startswith("Confirm")
        assert page.locator("main table tbody tr").count() == TRACKABLE - 1
        check(page)
        _click(page, "main form button", "Confirm unchanged")
        assert _text(page, "#progress") == (
            f"{TRACKABLE} of {TRACKABLE} actions reviewed this quarter"
        )
        states = _text(page, "#review-states")
        assert f"Confirmed unchanged: {TRACKABLE - 1}" in states
        assert "Not yet reviewed: 0" in states

        # Check the answers (the change since last quarter is listed), then submit.
        _click(page, "main a", "Check your answers and submit")
        assert page.locator("#blocked").count() == 0
        assert "A01.S01" in _text(page, "#stage-changes")
        check(page)
        _click(page, "main form button", "Submit for sign-off")
        assert "submitted for sign-off" in _text(page, ".govuk-notification-banner")

        # Your work now says the return waits for sign-off.
        _click(page, ".govuk-service-navigation a", "Your work")
        assert "is submitted and waiting for your approver's sign-off" in _text(page, "main")
        check(page)
    finally:
        context.close()

    assert not check.problems, "\n".join(check.problems)
    with app.app_context():
        return_ = get_return(LEEDS)
        assert return_.status == "submitted"
        confirmed = db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "assessment.confirm", AuditEvent.council_id.is_not(None))
        )
        assert confirmed == TRACKABLE - 1
        assert get_assessment(LEEDS, "A01.S01").stage == "implementing"


def test_the_approver_sends_back_then_reviews_the_changes_and_signs_off(
    app,
    live_server,  # noqa: F811
    browser,  # noqa: F811
    axe_source,  # noqa: F811
):
    complete_quarter(app, LEEDS, PREVIOUS_LABEL, PLANNING_AMBER)
    open_period(app)
    assess_all(app, LEEDS, PLANNING_AMBER)
    submit(app, LEEDS)
    approver = make_member(app, Role.COUNCIL_APPROVER, display_name="Dana Director")
    check = Checked(axe_source)
    quarter = _period_months(app)
    context = browser.new_context()
    try:
        page = context.new_page()
        _sign_in(page, live_server, approver)
        check(page)
        _click(page, "main a", f"Sign off the {quarter} return")
        assert _text(page, "h1").startswith("Sign off the")
        assert page.locator("#since-sent-back").count() == 0
        check(page)
        _click(page, "main a", "Send it back to the editors instead")
        page.fill("textarea[name=comment]", "Say more about the carers' strategy (A01.S01)")
        _click(page, "main form button", "Send back to editors")
        assert "sent back" in _text(page, ".govuk-notification-banner")

        # Meanwhile the editors change one action and submit again.
        assess(app, LEEDS, ["A01.S01"], {"narrative": "Strategy agreed on 3 November"})
        submit(app, LEEDS)

        _click(page, ".govuk-service-navigation a", "Your work")
        _click(page, "main a", f"Sign off the {quarter} return")
        since = _text(page, "#changes-since-sent-back")
        assert "A01.S01" in since and "Progress" in since
        assert "Say more about the carers' strategy" in _text(page, "main")
        # The editors' check is on the page too.
        assert page.locator("#check-review-states").count() == 1
        check(page)
        page.fill("textarea[name=summary]", "A steady quarter; carers' work moved on.")
        page.fill("input[name=recommendation_1]", "Note the progress on carers")
        _click(page, "main form button", "Sign off return")
        assert "signed off" in _text(page, ".govuk-notification-banner")
        assert "A steady quarter" in _text(page, "main")
        assert _text(page, "#board-recommendations") == "Note the progress on carers"
        # The send-back note now lives only in the history.
        assert "Sent back with comments" not in _text(page, ".govuk-summary-list")
        check(page)
    finally:
        context.close()

    assert not check.problems, "\n".join(check.problems)
    with app.app_context():
        return_ = get_return(LEEDS)
        assert (return_.status, return_.signed_off_by_id) == ("signed_off", approver.id)
        assert return_.board_recommendations == ["Note the progress on carers"]


def test_the_regional_member_follows_a_count_to_the_councils_behind_it(
    app,
    live_server,  # noqa: F811
    browser,  # noqa: F811
    axe_source,  # noqa: F811
):
    open_period(app)
    assess_all(app, LEEDS, PLANNING_AMBER)
    submit(app, LEEDS)
    sign_off(app, LEEDS)
    regional = make_member(app, Role.REGIONAL_MEMBER)
    check = Checked(axe_source)
    context = browser.new_context()
    try:
        page = context.new_page()
        _sign_in(page, live_server, regional)
        check(page)
        _click(page, "main a", "1 signed off")
        assert _text(page, "h1") == "Where returns stand"
        signed = page.locator("#signed-off + ul")
        assert "Leeds City Council" in " ".join(signed.inner_text().split())
        check(page)
        _click(page, "main a", "Compare the councils of")
        assert page.locator("h1").count() == 1
    finally:
        context.close()
    assert not check.problems, "\n".join(check.problems)


def test_the_administrator_cannot_close_a_period_early_by_mistake(
    app,
    live_server,  # noqa: F811
    browser,  # noqa: F811
    axe_source,  # noqa: F811
):
    open_period(app)
    admin = make_member(app, Role.NATIONAL_ADMIN)
    check = Checked(axe_source)
    with app.app_context():
        label = get_return(LEEDS).period.label
    context = browser.new_context()
    try:
        page = context.new_page()
        _sign_in(page, live_server, admin)
        check(page)
        _click(page, "main a", "See which councils have not submitted")
        assert _text(page, "h1") == label
        check(page)
        _click(page, "main a", f"Close {label}")
        early = _text(page, "#early")
        assert "31 January 2030" in early
        assert "3 of 3 returns are still drafts" in early, early
        check(page)

        # Without ticking the box, nothing closes.
        _click(page, "main form button", f"Close {label}")
        assert "There is a problem" in _text(page, ".govuk-error-summary")
        with app.app_context():
            assert db.session.scalar(select(Period.status).where(Period.label == label)) == "open"
        check(page)

        page.check("input[name=understand]")
        _click(page, "main form button", f"Close {label}")
        with app.app_context():
            assert db.session.scalar(select(Period.status).where(Period.label == label)) == "closed"

        # Reopened, with a reason, from the period's own page.
        _click(page, "main a", f"Reopen {label}")
        page.fill("textarea[name=reason]", "Closed by mistake: councils still have weeks left")
        _click(page, "main form button", f"Reopen {label}")
        check(page)
    finally:
        context.close()
    assert not check.problems, "\n".join(check.problems)
    with app.app_context():
        assert db.session.scalar(select(Period.status).where(Period.label == label)) == "open"
        reopened = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "period.reopen"))
        assert "Closed by mistake" in str(reopened.after)
