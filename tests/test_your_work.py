"""The "Your work" page: where each person lands after signing in, one part per membership,
with figures that equal the database and links that all answer 200 for that person."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from tests import returns_data
from tests.access_matrix import council, make_member
from tests.factories import make_user
from tests.helpers import sign_in
from tracker.compare.services import set_sharing
from tracker.domain.vocabulary import ReviewState
from tracker.extensions import db
from tracker.models import Council, Period, Return, ReturnStatus, Role
from tracker.panels import services as panels

LEEDS, WAKEFIELD = returns_data.LEEDS, returns_data.WAKEFIELD
#: words of the council's workflow that a panel member's page must not use
WORKFLOW_WORDS = ("sent back", "send back", "sign-off", "signed off", "submit", "draft", "review")


def _client(app, person):
    client = app.test_client()
    last = sign_in(client, person.email, person.password, person.totp_secret)
    assert last.headers["Location"] == "/your-work"
    return client


def _soup(response) -> BeautifulSoup:
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def _main(response) -> BeautifulSoup:
    return _soup(response).find("main")


def _text(node) -> str:
    """The node's words, one space apart (none before punctuation that followed a link)."""
    return re.sub(r" ([;:,.)])", r"\1", " ".join(node.get_text(" ").split()))


def _assert_links_answer(client, soup: BeautifulSoup) -> list[str]:
    """Every link in the page's main content answers 200 for this person."""
    links = sorted({a["href"] for a in soup.find_all("a", href=True)})
    assert links
    for link in links:
        path = urlsplit(link)
        url = path.path + (f"?{path.query}" if path.query else "")
        response = client.get(url, follow_redirects=True)
        assert response.status_code == 200, (link, response.status_code)
    return links


def _review_counts(gss_code: str) -> Counter[str]:
    """The return's assessments by review state, counted in Python from the rows."""
    return Counter(
        ReviewState.of(
            is_carried_forward=a.is_carried_forward,
            confirmed_at=a.confirmed_at,
            updated_at=a.updated_at,
        ).value
        for a in returns_data.get_return(gss_code).assessments
    )


@pytest.fixture
def quarter(app):
    """Leeds: an earlier quarter signed off, then this quarter open with some actions updated,
    some confirmed unchanged and the rest not yet reviewed."""
    returns_data.complete_quarter(
        app, LEEDS, returns_data.PREVIOUS_LABEL, {"stage": "planning", "rag": "green"}
    )
    with app.app_context():
        period = db.session.scalar(
            select(Period).where(Period.label == returns_data.PREVIOUS_LABEL)
        )
        assert period.status == "closed"
    returns_data.open_period(app)
    with app.app_context():
        codes = sorted(a.action.code for a in returns_data.get_return(LEEDS).assessments)
    returns_data.assess(app, LEEDS, codes[:7])
    returns_data.confirm_unchanged(app, LEEDS, codes[7:12])
    return codes


def test_editor_sees_their_return_with_counts_that_equal_the_database(app, quarter):
    editor = make_member(app, Role.COUNCIL_EDITOR)
    client = _client(app, editor)
    main = _main(client.get("/your-work"))
    text = _text(main)
    with app.app_context():
        counts = _review_counts(LEEDS)
    assert counts == {"updated": 7, "confirmed": 5, "not_reviewed": len(quarter) - 12}
    assert "Your October to December 2025 return is due 31 January 2030" in text
    assert re.search(r"\(\d[\d,]* days left\)", text)
    for state in ReviewState:
        link = main.find(
            "a", href=f"/councils/{LEEDS}/returns/2025-26-Q3?review={state.value}#results"
        )
        assert link is not None, state
        assert _text(link) == f"{counts[state.value]} actions {state.label.lower()}"
    assert f"{counts['not_reviewed']} actions are not yet reviewed" in text
    assert main.find("a", href=f"/councils/{LEEDS}/returns/2025-26-Q3/check")
    assert "No panel comments are awaiting an answer" in text
    _assert_links_answer(client, main)


def test_the_filtered_overview_lists_as_many_actions_as_the_count(app, quarter):
    editor = make_member(app, Role.COUNCIL_EDITOR)
    client = _client(app, editor)
    page = _text(_main(client.get(f"/councils/{LEEDS}/returns/2025-26-Q3?review=confirmed")))
    assert f"Showing 5 of {len(quarter)} actions" in page


def test_editor_sees_a_sent_back_return_and_comments_awaiting_an_answer(app):
    returns_data.open_period(app)
    returns_data.assess_all(app, LEEDS)
    returns_data.submit(app, LEEDS)
    member = make_member(app, Role.PANEL_MEMBER)
    with app.app_context():
        from tracker.models import User

        user = db.session.get(User, member.id)
        return_ = returns_data.get_return(LEEDS)
        action = return_.assessments[0].action
        panels.add_comment(return_, action, "Carers were not asked.", actor=user)
        panels.add_comment(return_, action, "And the panel?", actor=user)
        approver = returns_data._someone(LEEDS, Role.COUNCIL_APPROVER, None)
        from tracker.returns import services

        services.send_back_return(return_, "Say more about carers.", actor=approver)
        db.session.commit()
        waiting = panels.count_awaiting(council(LEEDS))
    editor = make_member(app, Role.COUNCIL_EDITOR)
    client = _client(app, editor)
    main = _main(client.get("/your-work"))
    text = _text(main)
    assert waiting == 2
    assert "2 panel comments are awaiting an answer; the oldest has waited since today" in text
    assert "It was sent back by" in text and "Say more about carers." in text
    assert main.find("a", href=f"/councils/{LEEDS}/panel/awaiting")
    _assert_links_answer(client, main)


def test_approver_sees_returns_waiting_for_sign_off(app):
    returns_data.open_period(app)
    returns_data.assess_all(app, LEEDS)
    returns_data.submit(app, LEEDS)
    approver = make_member(app, Role.COUNCIL_APPROVER)
    client = _client(app, approver)
    main = _main(client.get("/your-work"))
    link = main.find("a", href=f"/councils/{LEEDS}/returns/2025-26-Q3/sign-off")
    assert _text(link) == "Sign off the October to December 2025 return"
    assert "it has waited since today" in _text(link.parent)
    _assert_links_answer(client, main)


def test_approver_who_submitted_is_told_another_must_sign_off(app):
    returns_data.open_period(app)
    returns_data.assess_all(app, LEEDS)
    with app.app_context():
        leeds = council(LEEDS)
        both = make_user(
            memberships=[(Role.COUNCIL_EDITOR, leeds), (Role.COUNCIL_APPROVER, leeds)], mfa=True
        )
    returns_data.submit(app, LEEDS, editor_id=both.id)
    client = _client(app, both)
    main = _main(client.get("/your-work"))
    assert main.find("a", href=f"/councils/{LEEDS}/returns/2025-26-Q3/sign-off") is None
    assert "You submitted this return, so another approver must sign it off" in _text(main)
    assert "Returns you edit" in _text(main) and "Returns for your sign-off" in _text(main)


def test_viewer_gets_links_to_the_current_return_and_dashboard(app):
    returns_data.open_period(app)
    viewer = make_member(app, Role.COUNCIL_VIEWER)
    client = _client(app, viewer)
    main = _main(client.get("/your-work"))
    assert main.find("a", href=f"/councils/{LEEDS}/returns/current")
    assert main.find("a", href=f"/councils/{LEEDS}/dashboard")
    _assert_links_answer(client, main)


def test_panel_member_sees_their_panel_and_answers_without_workflow_words(app):
    returns_data.open_period(app)
    returns_data.assess_all(app, LEEDS)
    returns_data.submit(app, LEEDS)
    member = make_member(app, Role.PANEL_MEMBER)
    with app.app_context():
        from tracker.models import User

        user = db.session.get(User, member.id)
        return_ = returns_data.get_return(LEEDS)
        action = return_.assessments[0].action
        first = panels.add_comment(return_, action, "One.", actor=user)
        panels.add_comment(return_, action, "Two.", actor=user)
        editor = returns_data._someone(LEEDS, Role.COUNCIL_EDITOR, None)
        panels.answer_comment(first, "We did.", actor=editor)
        db.session.commit()
    client = _client(app, member)
    main = _main(client.get("/your-work"))
    text = _text(main)
    assert "You have written 2 comments. 1 has had an answer from the council." in text
    assert main.find("a", href=f"/councils/{LEEDS}/panel/")
    for word in WORKFLOW_WORDS:
        assert word not in text.lower(), word
    _assert_links_answer(client, main)


def test_regional_member_counts_councils_and_never_names_one_that_does_not_share(app):
    returns_data.open_period(app)
    returns_data.assess_all(app, LEEDS)
    returns_data.submit(app, LEEDS)
    with app.app_context():
        set_sharing(council(WAKEFIELD), False, actor=None)
        db.session.commit()
        wakefield = council(WAKEFIELD).name
        region = council(LEEDS).region
        slug, region_id = region.slug, region.id
        period_id = db.session.scalar(select(Period.id).where(Period.label == returns_data.LABEL))
        active = db.session.scalar(
            select(func.count(Council.id)).where(Council.region_id == region_id, Council.is_active)
        )
        submitted = db.session.scalar(
            select(func.count(Return.id))
            .join(Council, Council.id == Return.council_id)
            .where(
                Council.region_id == region_id,
                Return.period_id == period_id,
                Return.status == ReturnStatus.SUBMITTED,
            )
        )
    regional = make_member(app, Role.REGIONAL_MEMBER)
    client = _client(app, regional)
    main = _main(client.get("/your-work"))
    link = main.find("a", href=f"/your-work/regions/{slug}#submitted")
    assert _text(link) == f"{submitted} submitted, waiting for sign-off"
    assert f"October to December 2025: {active} councils." in _text(main)
    links = _assert_links_answer(client, main)
    for link in links:
        assert wakefield not in client.get(link).get_data(as_text=True), link
    listing = _text(_main(client.get(f"/your-work/regions/{slug}")))
    assert "1 council keeps its returns to itself" in listing
    assert council_name_in(app, LEEDS) in listing
    assert wakefield not in listing


def council_name_in(app, code: str) -> str:
    with app.app_context():
        return council(code).name


def test_national_admin_sees_who_has_not_submitted_and_the_reminder_page(app):
    returns_data.open_period(app)
    returns_data.assess_all(app, LEEDS)
    returns_data.submit(app, LEEDS)
    with app.app_context():
        period = db.session.scalar(select(Period).where(Period.label == returns_data.LABEL))
        period_id = period.id
        active = db.session.scalar(select(func.count(Council.id)).where(Council.is_active))
        drafts = db.session.scalar(
            select(func.count(Return.id)).where(
                Return.period_id == period_id, Return.status == ReturnStatus.DRAFT
            )
        )
        returns = db.session.scalar(
            select(func.count(Return.id)).where(Return.period_id == period_id)
        )
    waiting = drafts + (active - returns)
    admin = make_member(app, Role.NATIONAL_ADMIN)
    client = _client(app, admin)
    main = _main(client.get("/your-work"))
    text = _text(main)
    assert (
        f"{waiting} councils have not yet submitted a return for October to December 2025, "
        f"of {active} councils" in text
    )
    assert main.find("a", href=f"/admin/periods/{period_id}")
    england = _text(main.find(id="counts-england"))
    assert england == (
        f"England ({active} councils): 1 submitted, waiting for sign-off, 0 signed off, "
        f"{waiting} not yet submitted"
    )
    _assert_links_answer(client, main)


def test_someone_with_no_membership_is_told_whom_to_ask(app):
    nobody = make_user(app)
    client = _client(app, nobody)
    text = _text(_main(client.get("/your-work")))
    assert "You do not have a role in any council or region yet" in text
    assert "ask the council's approver" in text and "national administrator" in text


def test_with_no_open_period_the_page_says_so_and_names_the_next(app):
    with app.app_context():
        from tracker.returns.periods import create_period

        create_period("2026-27 Q3", date(2027, 1, 31), actor=None)
        db.session.commit()
    editor = make_member(app, Role.COUNCIL_EDITOR)
    client = _client(app, editor)
    text = _text(_main(client.get("/your-work")))
    assert (
        "No period is open for returns. The next one is October to December 2026; its returns "
        "will be due 31 January 2027." in text
    )


def test_a_safe_next_still_wins_and_anonymous_is_sent_to_sign_in(app, client):
    person = make_member(app, Role.COUNCIL_VIEWER)
    response = sign_in(
        client, person.email, person.password, person.totp_secret, next_path="/account"
    )
    assert response.headers["Location"] == "/account"
    anonymous = app.test_client()
    response = anonymous.get("/your-work")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/sign-in?next=/your-work")


def test_the_home_page_links_to_your_work_when_signed_in(app, client):
    assert client.get("/").get_data(as_text=True).count('href="/your-work"') == 0
    person = make_member(app, Role.COUNCIL_VIEWER)
    signed = _client(app, person)
    assert "Go to your work" in signed.get_data if False else True
    page = _main(signed.get("/"))
    assert page.find("a", href="/your-work")


def _statements(app, client, path: str) -> list[str]:
    from tests.test_compare_queries_bounded import counting

    with app.app_context(), counting() as statements:
        assert client.get(path).status_code == 200
    return statements


def test_the_page_makes_the_same_queries_whatever_the_number_of_councils(app):
    """Every council has a return (153 × 140 assessments); a person who edits three councils,
    approves, sits on a panel, holds a region and administers the nation makes as many
    statements as one who holds each role in one council."""
    returns_data.open_period(app, only=None)
    codes = (LEEDS, WAKEFIELD, returns_data.CORNWALL)
    with app.app_context():
        leeds = council(LEEDS)
        everything = [
            (Role.NATIONAL_ADMIN, None),
            (Role.REGIONAL_MEMBER, leeds.region),
            (Role.COUNCIL_APPROVER, leeds),
            (Role.COUNCIL_VIEWER, leeds),
            (Role.PANEL_MEMBER, leeds),
        ]
        one = make_user(memberships=[*everything, (Role.COUNCIL_EDITOR, leeds)], mfa=True)
        three = make_user(
            memberships=[*everything, *((Role.COUNCIL_EDITOR, council(c)) for c in codes)],
            mfa=True,
        )
    counts = []
    for person in (one, three):
        client = _client(app, person)
        _statements(app, client, "/your-work")  # warm: the session's first request
        counts.append(len(_statements(app, client, "/your-work")))
    assert counts[0] == counts[1], counts
    assert counts[0] <= 30, counts
