"""Review, then sign off: what changed since the return was sent back, the Director's summary
and recommendations saved with it, and the send-back note kept to the council's staff."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.access_matrix import make_member, post, signed_in_client
from tests.returns_data import (
    LEEDS,
    SLUG,
    assess,
    assess_all,
    get_return,
    open_period,
    submit,
)
from tracker.extensions import db
from tracker.models import MAX_RECOMMENDATIONS, Action, ReturnSnapshot, Role, User
from tracker.returns import services

OVERVIEW = f"/councils/{LEEDS}/returns/{SLUG}"
SIGN_OFF = f"{OVERVIEW}/sign-off"
NOTE = "Please add narratives to the carers actions"


def _text(element) -> str:
    return " ".join(element.get_text().split())


@pytest.fixture
def sent_back_and_resubmitted(app):
    """Leeds: every action assessed, submitted, sent back with :data:`NOTE`; the editors then
    changed one action's narrative and another's stage, and submitted again."""
    open_period(app)
    assess_all(app, LEEDS, {"stage": "planning", "rag": "amber", "narrative": "Scoping"})
    submit(app, LEEDS)
    approver = make_member(app, Role.COUNCIL_APPROVER)
    with app.app_context():
        return_ = get_return(LEEDS)
        services.send_back_return(return_, NOTE, actor=db.session.get(User, approver.id))
        db.session.commit()
    assess(app, LEEDS, ["A01.S01"], {"narrative": "Carers' strategy agreed in November"})
    assess(app, LEEDS, ["A02.S01"], {"stage": "implementing", "rag": "green"})
    submit(app, LEEDS)
    return approver


def test_the_sign_off_page_lists_what_changed_since_it_was_sent_back(
    app, page, sent_back_and_resubmitted
):
    client = signed_in_client(app, sent_back_and_resubmitted)
    soup = page(client.get(SIGN_OFF))

    heading = soup.select_one("#since-sent-back")
    assert heading is not None
    main = _text(soup.select_one("main"))
    assert NOTE in main
    rows = {
        row.select_one("th a").get_text(strip=True): [_text(c) for c in row.select("td")]
        for row in soup.select("#changes-since-sent-back tbody tr")
    }
    assert rows == {
        "A01.S01": ["Progress", "Planning (unchanged)"],
        "A02.S01": ["Stage, RAG rating", "Planning to Implementing"],
    }
    # Named by title, with the code beside it.
    first = _text(soup.select_one("#changes-since-sent-back tbody th"))
    with app.app_context():
        title = db.session.scalar(select(Action.text).where(Action.code == "A01.S01"))
    assert first.startswith(" ".join(title.split())[:40])
    # The editors' own check is there too.
    assert soup.select_one("#check-review-states") is not None
    assert soup.select_one("#exceptions-red") is not None


def test_a_return_never_sent_back_has_no_such_section(app, page):
    open_period(app)
    assess_all(app, LEEDS)
    submit(app, LEEDS)
    client = signed_in_client(app, make_member(app, Role.COUNCIL_APPROVER))
    soup = page(client.get(SIGN_OFF))
    assert soup.select_one("#since-sent-back") is None
    assert soup.select_one("textarea[name=summary]") is not None
    assert len(soup.select("input[name^=recommendation_]")) == MAX_RECOMMENDATIONS


def test_the_directors_summary_and_recommendations_are_saved_with_the_return(
    app, page, sent_back_and_resubmitted
):
    client = signed_in_client(app, sent_back_and_resubmitted)
    response = post(
        client,
        SIGN_OFF,
        {
            "summary": "A strong quarter for carers.\nWorkforce remains the risk.",
            "recommendation_1": "Note the progress on carers",
            "recommendation_2": "  ",
            "recommendation_3": "Agree the workforce plan",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        return_ = get_return(LEEDS)
        assert return_.status == "signed_off"
        summary = "A strong quarter for carers.\nWorkforce remains the risk."
        assert return_.director_summary == summary
        assert return_.board_recommendations == [
            "Note the progress on carers",
            "Agree the workforce plan",
        ]
        snapshot = db.session.scalar(
            select(ReturnSnapshot).where(ReturnSnapshot.return_id == return_.id)
        )
        assert snapshot.data["director_summary"] == return_.director_summary
        assert snapshot.data["board_recommendations"] == return_.board_recommendations

    soup = page(client.get(OVERVIEW))
    assert "A strong quarter for carers." in _text(soup.select_one("main"))
    assert [_text(li) for li in soup.select("#board-recommendations li")] == [
        "Note the progress on carers",
        "Agree the workforce plan",
    ]


def test_a_summary_too_long_is_refused_and_nothing_changes(app, page, sent_back_and_resubmitted):
    client = signed_in_client(app, sent_back_and_resubmitted)
    response = post(
        client,
        SIGN_OFF,
        {"summary": "x" * (services.SUMMARY_MAX + 1), "recommendation_4": "y" * 501},
    )
    assert response.status_code == 422
    soup = page(response)
    errors = [_text(a) for a in soup.select(".govuk-error-summary a")]
    assert "The summary must be 5,000 characters or fewer" in errors
    assert "Recommendation 4 must be 500 characters or fewer" in errors
    with app.app_context():
        return_ = get_return(LEEDS)
        assert (return_.status, return_.director_summary) == ("submitted", "")


def test_the_send_back_note_stays_with_staff_and_leaves_the_return_once_signed_off(
    app, page, sent_back_and_resubmitted
):
    approver = signed_in_client(app, sent_back_and_resubmitted)
    editor = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    # Submitted again: the staff still see the note beside the status.
    rows = {
        _text(r.dt): _text(r.dd)
        for r in page(editor.get(OVERVIEW)).select(".govuk-summary-list__row")
    }
    assert rows["Sent back with comments"] == NOTE

    assert post(approver, SIGN_OFF).status_code == 302

    for client in (approver, editor):
        soup = page(client.get(OVERVIEW))
        rows = {_text(r.dt): _text(r.dd) for r in soup.select(".govuk-summary-list__row")}
        assert "Sent back with comments" not in rows
        # Kept in the return's history for the council's staff.
        history = _text(soup.select_one("#return-history"))
        assert "Sent back to the editors" in history and NOTE in history
        assert "Signed off" in history

    outsiders = [Role.PANEL_MEMBER, Role.REGIONAL_MEMBER, Role.NATIONAL_ADMIN]
    for role in outsiders:
        client = signed_in_client(app, make_member(app, role))
        response = client.get(OVERVIEW)
        assert response.status_code == 200, role
        main = _text(page(response).select_one("main"))
        assert NOTE not in main, role
        assert "Sent back" not in main, role
        assert "History of this return" not in main, role


def test_panel_members_never_see_a_send_back_note_while_the_return_is_submitted(
    app, page, sent_back_and_resubmitted
):
    panel = signed_in_client(app, make_member(app, Role.PANEL_MEMBER))
    response = panel.get(OVERVIEW)
    assert response.status_code == 200
    main = _text(page(response).select_one("main"))
    assert NOTE not in main
    assert "Sent back" not in main
