"""A panel member reads a submitted return, comments; an editor answers; the member sees the
answer, in Chromium, with axe on every page, at desktop and phone widths, and without JavaScript.

Uses the live server and browser of ``tests/test_accessibility.py`` (Debian's Chromium, never a
downloaded browser). Set ``PANEL_SCREENSHOTS=<folder>`` to keep screenshots of the pages.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.access_matrix import make_member
from tests.returns_data import LEEDS, SLUG, assess_all, open_period, submit
from tests.test_accessibility import (  # noqa: F401 (fixtures)
    axe_source,
    browser,
    describe_violations,
    live_server,
    run_axe,
)
from tracker.extensions import db
from tracker.models import CommentAnswer, Role

pytestmark = pytest.mark.browser

ACTION = "A01.S01"
THREAD = f"/councils/{LEEDS}/panel/{SLUG}/actions/{ACTION}"
PHONE = {"width": 375, "height": 812}


class Checked:
    """axe on each page it is asked about, one h1, no sideways scrolling; keeps every problem."""

    def __init__(self, source: str) -> None:
        self.axe_source = source
        self.problems: list[str] = []
        self.folder = os.environ.get("PANEL_SCREENSHOTS")

    def __call__(self, page: Any, name: str) -> None:
        self.problems += describe_violations(page.url, run_axe(page, self.axe_source))
        headings = page.locator("h1").all_inner_texts()
        if len(headings) != 1:
            self.problems.append(f"{page.url}: expected one h1, got {headings}")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 0:
            self.problems.append(f"{page.url}: scrolls sideways by {overflow}px")
        if self.folder:
            Path(self.folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(self.folder) / f"{name}.png"), full_page=True)


def _sign_in(page: Any, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/auth/sign-in")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.locator("main form button", has_text="Sign in").click()
    page.wait_for_load_state("load")
    assert "/auth/" not in page.url, f"still signing in at {page.url}"


def _text(page: Any, selector: str) -> str:
    return " ".join(page.locator(selector).first.inner_text().split())


def test_a_member_comments_an_editor_answers_and_the_member_sees_it(
    app,
    live_server,  # noqa: F811 (the imported fixtures)
    browser,  # noqa: F811
    axe_source,  # noqa: F811
):
    open_period(app)
    assess_all(app, LEEDS, {"stage": "implementing", "rag": "amber", "narrative": "Under way"})
    submit(app, LEEDS)
    member = make_member(app, Role.PANEL_MEMBER, display_name="Pat Panel")
    editor = make_member(app, Role.COUNCIL_EDITOR, display_name="Eddie Editor")
    check = Checked(axe_source)
    comment = "Carers in my street have not heard of this.\nCould you write to them?"

    reading = browser.new_context(viewport=PHONE)
    try:
        page = reading.new_page()
        _sign_in(page, live_server, member.email, member.password)
        page.locator("button.govuk-service-navigation__toggle").click()
        page.locator(".govuk-service-navigation__link", has_text="Your panel").click()
        page.wait_for_load_state("load")
        assert _text(page, "h1") == "Your co-production panel"
        check(page, "member-panel-phone")

        # Read the submitted return, then one action, then its comments.
        page.locator("main a", has_text="October to December 2025").click()
        page.wait_for_load_state("load")
        assert _text(page, "h1") == "Report for October to December 2025"
        page.goto(f"{live_server}/councils/{LEEDS}/returns/{SLUG}/actions/{ACTION}")
        assert "Under way" in page.locator("main").inner_text()
        page.locator("a", has_text="Comments on this action from the co-production panel").click()
        page.wait_for_load_state("load")
        assert _text(page, "main .govuk-caption-l").endswith(f"Comments on action {ACTION}")
        check(page, "thread-empty-phone")

        # A mistake first (nothing written), then the comment.
        page.locator("main form button", has_text="Post comment").click()
        page.wait_for_load_state("load")
        assert "Enter your comment" in _text(page, ".govuk-error-summary")
        check(page, "thread-error-phone")
        page.fill("textarea[name=comment-body]", comment)
        page.locator("main form button", has_text="Post comment").click()
        page.wait_for_load_state("load")
        assert "Your comment is posted" in _text(page, ".govuk-notification-banner")
        assert page.locator(".tracker-comment__text").first.inner_text() == comment
        assert "Waiting for an answer" in _text(page, ".tracker-comment")
        check(page, "thread-waiting-phone")
    finally:
        reading.close()

    answering = browser.new_context()
    try:
        page = answering.new_page()
        _sign_in(page, live_server, editor.email, editor.password)
        page.goto(f"{live_server}/councils/{LEEDS}/returns/{SLUG}")
        page.locator("main a", has_text="Comments awaiting an answer").click()
        page.wait_for_load_state("load")
        assert _text(page, "h1") == "Comments awaiting an answer"
        assert "Carers in my street" in page.locator("main").inner_text()
        check(page, "awaiting-desktop")
        page.locator("main a", has_text=f"({ACTION})").filter(has_text="Answer: ").click()
        page.wait_for_load_state("load")
        check(page, "answer-form-desktop")
        page.fill("textarea[name=answer-body]", "Thank you. We will write to every carer we know.")
        page.check("input[name=answer-is_you_said_we_did]")
        page.fill("textarea[name=answer-change_made]", "A letter to 2,400 carers in November")
        page.locator("main form button", has_text="Send answer").click()
        page.wait_for_load_state("load")
        assert "Your answer is sent" in _text(page, ".govuk-notification-banner")
    finally:
        answering.close()
    with app.app_context():
        assert db.session.scalar(select(CommentAnswer.change_made)) == (
            "A letter to 2,400 carers in November"
        )

    seeing = browser.new_context()
    try:
        page = seeing.new_page()
        _sign_in(page, live_server, member.email, member.password)
        page.goto(f"{live_server}{THREAD}")
        answer = page.locator(".tracker-answer").inner_text()
        assert "We will write to every carer we know." in answer
        assert "You said, we did" in answer and "A letter to 2,400 carers" in answer
        assert "Answered" in _text(page, ".tracker-comment")
        check(page, "thread-answered-desktop")
        page.goto(f"{live_server}/councils/{LEEDS}/panel/")
        assert "Answered" in page.locator(".tracker-my-comments").inner_text()
        page.goto(f"{live_server}/councils/{LEEDS}/panel/settings")
        check(page, "settings-desktop")
        page.goto(f"{live_server}/councils/{LEEDS}/panel/leave")
        check(page, "leave-desktop")
    finally:
        seeing.close()

    # Without JavaScript: the same pages, one h1 each, and the comment still posts.
    no_js = browser.new_context(java_script_enabled=False)
    try:
        page = no_js.new_page()
        _sign_in(page, live_server, member.email, member.password)
        for path in (f"/councils/{LEEDS}/panel/", THREAD, f"/councils/{LEEDS}/panel/settings"):
            page.goto(f"{live_server}{path}")
            assert page.locator("h1").count() == 1, path
        page.goto(f"{live_server}{THREAD}")
        page.fill("textarea[name=comment-body]", "Posted without JavaScript")
        page.locator("main form button", has_text="Post comment").click()
        page.wait_for_load_state("load")
        assert "Your comment is posted" in _text(page, ".govuk-notification-banner")
    finally:
        no_js.close()

    assert not check.problems, "\n".join(check.problems)


def test_a_hostile_thread_stays_inert_and_fits_a_phone(
    app,
    live_server,  # noqa: F811 (the imported fixtures)
    browser,  # noqa: F811
    axe_source,  # noqa: F811
):
    """The hostile corpus, posted and answered, runs nothing, passes axe, and wraps at 375px."""
    from tests.access_matrix import council
    from tests.returns_data import get_return
    from tests.test_panels_hostile import CORPUS, NAME
    from tracker.models import User
    from tracker.panels import services

    open_period(app)
    assess_all(app, LEEDS)
    submit(app, LEEDS)
    member = make_member(app, Role.PANEL_MEMBER)
    editor = make_member(app, Role.COUNCIL_EDITOR)
    with app.app_context():
        return_ = get_return(LEEDS)
        action = next(a.action for a in return_.assessments if a.action.code == ACTION)
        user, editor_user = db.session.get(User, member.id), db.session.get(User, editor.id)
        services.update_profile(
            user,
            council(LEEDS),
            display_name=NAME,
            is_real_name_shown=False,
            is_notified_by_email=False,
        )
        comments = [services.add_comment(return_, action, text, actor=user) for text in CORPUS]
        services.add_comment(return_, action, CORPUS[1], actor=user, parent=comments[0])
        services.answer_comment(
            comments[0],
            CORPUS[3],
            actor=editor_user,
            is_you_said_we_did=True,
            change_made=CORPUS[-1],
        )
        services.hide_comment(comments[5], CORPUS[0], actor=editor_user)
        db.session.commit()

    check = Checked(axe_source)
    context = browser.new_context(viewport=PHONE)
    dialogs: list[str] = []
    try:
        page = context.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        _sign_in(page, live_server, member.email, member.password)
        page.goto(f"{live_server}{THREAD}")
        page.locator(".tracker-comment__text").first.hover()
        check(page, "thread-hostile-phone")
        page.goto(f"{live_server}/councils/{LEEDS}/panel/")
        check(page, "panel-hostile-phone")
    finally:
        context.close()
    editing = browser.new_context()
    try:
        page = editing.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        _sign_in(page, live_server, editor.email, editor.password)
        page.goto(f"{live_server}/councils/{LEEDS}/panel/awaiting")
        check(page, "awaiting-hostile-desktop")
        page.goto(f"{live_server}{THREAD}")
        check(page, "thread-hostile-editor-desktop")
    finally:
        editing.close()
    assert dialogs == [], f"script ran: {dialogs}"
    assert not check.problems, "\n".join(check.problems)
