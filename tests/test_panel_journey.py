"""A panel member's journey in Chromium, at a phone's width and a desktop's, by links and
buttons alone from sign-in: the panel page, a signed-off report, an action's comments, their own
view of whether it is happening, a comment, "you said, we did", the Easy Read summary and the
download of everything they wrote. axe runs on every page; at 320 px no page may scroll
sideways (WCAG 2.2 1.4.10). Uses the live server and browser of ``tests/test_accessibility.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.access_matrix import council, make_member, make_person
from tests.returns_data import LEEDS, assess_all, get_return, open_period, sign_off, submit
from tests.test_accessibility import (  # noqa: F401 (fixtures)
    axe_source,
    browser,
    describe_violations,
    live_server,
    run_axe,
    sign_in_in_browser,
)
from tracker.domain.periods import months
from tracker.extensions import db
from tracker.models import Comment, PanelView, Role

pytestmark = pytest.mark.browser

FIRST = "A01.S01"


def _text(page: Any, selector: str = "main") -> str:
    return " ".join(page.locator(selector).first.inner_text().split())


@pytest.mark.parametrize("width", [320, 1280])
def test_a_panel_member_comments_gives_their_view_and_reads_the_answers(
    app,
    live_server,  # noqa: F811 (the imported fixtures)
    browser,  # noqa: F811
    axe_source,  # noqa: F811
    width,
):
    open_period(app)
    assess_all(app, LEEDS, {"stage": "implementing", "rag": "green", "narrative": "Going well"})
    submit(app, LEEDS)
    sign_off(app, LEEDS)
    with app.app_context():
        from tracker.panels import services as panels

        leeds = council(LEEDS)
        other = make_person("other@example.org", Role.PANEL_MEMBER, council=leeds, name="O")
        editor = make_person("ed@example.org", Role.COUNCIL_EDITOR, council=leeds, name="E")
        return_ = get_return(LEEDS)
        action = next(a.action for a in return_.assessments if a.action.code == FIRST)
        title = " ".join(action.text.split())
        asked = panels.add_comment(return_, action, "Is the carers' centre open yet?", actor=other)
        panels.answer_comment(
            asked, "It opens in May.", actor=editor, is_you_said_we_did=True, change_made="Opened"
        )
        db.session.commit()
        quarter = months(return_.period.label)
    member = make_member(app, Role.PANEL_MEMBER)
    problems: list[str] = []
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()

    def look() -> None:
        problems.extend(describe_violations(page.url, run_axe(page, axe_source)))
        wide = page.evaluate("document.documentElement.scrollWidth")
        if wide > width:
            problems.append(f"{page.url}: {wide}px wide at {width}px")

    def nav(text: str) -> None:
        """A link of the service's menu, opening the menu first on a narrow screen."""
        toggle = page.locator(".govuk-service-navigation__toggle")
        if toggle.is_visible():
            toggle.click()
        click(text, ".govuk-service-navigation a")

    def click(text: str, selector: str = "main a") -> None:
        page.locator(selector, has_text=text).first.click()
        page.wait_for_load_state("load")
        look()

    try:
        sign_in_in_browser(page, live_server, member.email, member.password)
        look()
        click("panel page")
        assert _text(page, "h1") == "Your co-production panel"
        # The report by its months, then the action by its title.
        click(quarter)
        page.locator(f"tr[id='action-{FIRST}'] th a").click()
        page.wait_for_load_state("load")
        look()
        assert title[:40] in _text(page)
        click("Comments on this action from the co-production panel")
        assert "Is the carers' centre open yet?" in _text(page)

        # Their own view: is it happening?
        page.check("input[name='view-answer'][value=partly]")
        page.locator("#panel-view button", has_text="Save your answer").click()
        page.wait_for_load_state("load")
        look()
        assert "You answered: Partly" in _text(page, "#panel-view")

        # A comment of their own.
        page.fill("textarea[name='comment-body']", "The leaflet is hard to find.")
        page.locator("main form button", has_text="Post comment").click()
        page.wait_for_load_state("load")
        look()
        assert "The leaflet is hard to find." in _text(page)

        # You said, we did; the Easy Read summary; everything they wrote.
        nav("Your panel")
        click("You said, we did")
        assert "It opens in May." in _text(page) and "Opened" in _text(page)
        assert title[:40] in _text(page)
        page.go_back()
        page.wait_for_load_state("load")
        click("Easy Read")
        assert "things are working well" in _text(page)
        page.go_back()
        page.wait_for_load_state("load")
        click("Everything you have written, on one page")
        assert "The leaflet is hard to find." in _text(page)
        assert "UTC" not in _text(page)
        with page.expect_download() as download:
            page.go_back()
            page.wait_for_load_state("load")
            page.locator("main a", has_text="Download everything you have written").click()
        saved = download.value.path()
        csv_text = Path(saved).read_text(encoding="utf-8-sig")
        assert "The leaflet is hard to find." in csv_text and title[:30] in csv_text
    finally:
        context.close()

    assert not problems, "\n".join(problems)
    with app.app_context():
        views = list(db.session.scalars(select(PanelView)))
        assert [(v.answer, v.on_behalf) for v in views] == [("partly", False)]
        assert db.session.scalar(
            select(Comment).where(Comment.body == "The leaflet is hard to find.")
        )
