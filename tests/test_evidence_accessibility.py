"""The evidence pages an editor sees, in Chromium: axe WCAG 2.2 AA, with and without errors.

The signed-in crawl of ``tests/test_accessibility.py`` reaches the evidence pages as a national
administrator and a council approver, who read them; only editors reach the forms.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.factories import make_user
from tests.test_accessibility import (  # noqa: F401 (fixtures: axe_source, browser, live_server)
    Visit,
    _periods_and_evidence,
    axe_source,
    browser,
    crawl,
    describe_violations,
    live_server,
    run_axe,
    sign_in_in_browser,
)
from tracker.extensions import db
from tracker.models import Action, Council, Role

pytestmark = pytest.mark.browser

EVIDENCE_ENDPOINTS = {
    "returns.evidence",
    "returns.add_evidence_link",
    "returns.upload_evidence",
    "returns.choose_evidence",
    "returns.evidence_library",
}


@pytest.fixture
def editor_page(app, live_server, browser):  # noqa: F811 (the imported fixtures)
    """A Chromium page signed in as a Leeds editor (with an authenticator app, so that the
    shared sign-in helper works), and the evidence page of the first action."""
    evidence_page = _periods_and_evidence(app)
    with app.app_context():
        leeds = db.session.scalar(select(Council).where(Council.gss_code == "E08000035"))
        person = make_user(
            email="editor@example.org",
            display_name="Eddie Editor",
            memberships=[(Role.COUNCIL_EDITOR, leeds)],
            mfa=True,
        )
        second = db.session.scalars(
            select(Action.code)
            .where(Action.parent_id.is_(None), Action.archived_at.is_(None))
            .order_by(Action.code)
            .offset(1)
            .limit(1)
        ).one()
    context = browser.new_context()
    page = context.new_page()
    sign_in_in_browser(page, live_server, person.email, person.password, person.totp_secret)
    try:
        yield (
            context,
            page,
            evidence_page,
            evidence_page.replace(evidence_page.split("/")[-2], second),
        )
    finally:
        context.close()


def check(page: Any, visit: Visit, source: str) -> list[str]:
    problems = describe_violations(visit.url, run_axe(page, source))
    headings = [text.strip() for text in page.locator("h1").all_inner_texts()]
    if len(headings) != 1 or not headings[0]:
        problems.append(f"{visit.url}: expected one h1 with text, got {headings}")
    return problems


def test_an_editors_evidence_pages_pass_axe(app, live_server, editor_page, axe_source):  # noqa: F811
    context, _page, first, second = editor_page
    extra = (
        first,
        first + "/add-link",
        first + "/upload",
        first + "/choose",
        second,
        second + "/choose",
        "/councils/E08000035/returns/evidence",
    )
    visits, problems = crawl(
        app,
        live_server,
        context,
        lambda page, visit: check(page, visit, axe_source),
        extra_paths=extra,
        wanted=lambda endpoint: endpoint in EVIDENCE_ENDPOINTS,
    )
    visited = {v.url.removeprefix(live_server) for v in visits}
    assert set(extra) <= visited, sorted(set(extra) - visited)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("suffix", "button"),
    [("/add-link", "Add link"), ("/upload", "Upload file"), ("/choose", "Add evidence")],
)
def test_the_forms_with_errors_pass_axe(
    app,
    live_server,  # noqa: F811
    editor_page,
    axe_source,  # noqa: F811
    suffix,
    button,
):
    _context, page, _first, second = editor_page
    page.goto(live_server + second + suffix)
    page.locator("main form button", has_text=button).click()
    page.wait_for_load_state("load")
    summary = page.locator(".govuk-error-summary")
    assert summary.count() == 1, page.content()
    assert page.title().startswith("Error: ")
    violations = run_axe(page, axe_source)
    assert not violations, "\n".join(describe_violations(page.url, violations))
