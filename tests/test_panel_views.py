"""The panel's own view of each action (triangulation): members answer "From what you see, is
this happening?" on a signed-off return, the approver records views gathered at a meeting, and
the council sees the counts beside its RAG only from 3 answers, never with names, on the
dashboard, in the board paper (PDF and Word) and in its spreadsheet."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.access_matrix import make_member, signed_in_client
from tests.returns_data import (
    CORNWALL,
    LEEDS,
    SLUG,
    assess_all,
    get_return,
    open_period,
    sign_off,
    submit,
)
from tests.test_reports_pdf import pdf_text
from tests.test_reports_word import docx_text
from tracker.domain.visibility import PANEL_VIEW_WITHHELD
from tracker.domain.vocabulary import PANEL_VIEW_KEYS
from tracker.extensions import db
from tracker.models import Action, AuditEvent, PanelProfile, PanelView, Role, User
from tracker.panels import services
from tracker.reports import data, render, word

AMBER = {"stage": "planning", "rag": "amber", "narrative": "Waiting for the business case."}
DASHBOARD = f"/councils/{LEEDS}/dashboard?period={SLUG}"
WITHHELD_ONE = f"{PANEL_VIEW_WITHHELD} on 1 action, so it is not shown."


def thread_path(code: str, gss: str = LEEDS) -> str:
    return f"/councils/{gss}/panel/{SLUG}/actions/{code}"


def _token(html: str) -> str:
    match = re.search(r'name="[a-z-]*csrf_token"[^>]*value="([^"]+)"', html)
    assert match
    return match.group(1)


def answer(client, code: str, value: str, comment: str = "", gss: str = LEEDS):
    html = client.get(thread_path(code, gss)).get_data(as_text=True)
    return client.post(
        thread_path(code, gss) + "/view",
        data={"csrf_token": _token(html), "view-answer": value, "view-comment": comment},
    )


def _first_code(gss: str = LEEDS) -> str:
    return get_return(gss).assessments[0].action.code


@pytest.fixture
def signed(app):
    """Leeds and Cornwall signed off for 2025-26 Q3."""
    open_period(app)
    for code in (LEEDS, CORNWALL):
        assess_all(app, code, AMBER)
        submit(app, code)
        sign_off(app, code)
    with app.app_context():
        return app, _first_code()


def members(app, count: int) -> list:
    return [
        make_member(app, Role.PANEL_MEMBER, display_name=f"Canary Real {i}") for i in range(count)
    ]


def views_in_db(app, code: str) -> dict[str, int]:
    with app.app_context():
        return_id = get_return(LEEDS).id
        rows = db.session.execute(
            select(PanelView.answer, func.count())
            .join(Action, Action.id == PanelView.action_id)
            .where(PanelView.return_id == return_id, Action.code == code)
            .group_by(PanelView.answer)
        ).all()
        return {key: dict(rows).get(key, 0) for key in PANEL_VIEW_KEYS}


def names_of_members(app) -> list[str]:
    with app.app_context():
        real = list(
            db.session.scalars(select(User.display_name).where(User.display_name.like("Canary%")))
        )
        shown = list(db.session.scalars(select(PanelProfile.display_name)))
        return [name for name in real + shown if name]


def outputs(app) -> dict[str, str]:
    """The council's surfaces as text: the dashboard (its approver), the board paper's PDF and
    Word text, and the spreadsheet's cells."""
    approver = make_member(app, Role.COUNCIL_APPROVER)
    dashboard = signed_in_client(app, approver).get(DASHBOARD)
    assert dashboard.status_code == 200
    with app.app_context():
        report = data.build_council_report(get_return(LEEDS), include_draft_history=False)
        pdf = pdf_text(render.council_pdf(report))
        docx = docx_text(word.build_docx(report))
        book = load_workbook(io.BytesIO(render.council_xlsx(report)))
    sheet = book["Panel's view"]
    cells = "\n".join(
        " | ".join("" if v is None else str(v) for v in row)
        for row in sheet.iter_rows(values_only=True)
    )
    html = re.sub(r"<[^>]+>", " ", dashboard.get_data(as_text=True))
    return {
        "dashboard": " ".join(html.split()),
        "pdf": " ".join(pdf.split()),
        "word": docx,
        "xlsx": cells,
    }


# -- the member answers ---------------------------------------------------------------------------


def test_a_member_answers_and_changes_their_answer_in_one_row(signed):
    app, code = signed
    member = make_member(app, Role.PANEL_MEMBER)
    client = signed_in_client(app, member)
    page = client.get(thread_path(code)).get_data(as_text=True)
    assert "From what you see, is this happening?" in page
    assert "I don&#39;t know" in page or "I don't know" in page
    response = answer(client, code, "partly", "The ramps are half done")
    assert response.status_code == 302
    response = answer(client, code, "yes", "Now finished")
    assert response.status_code == 302
    with app.app_context():
        rows = db.session.scalars(select(PanelView)).all()
        assert [(r.answer, r.comment, r.on_behalf) for r in rows] == [
            ("yes", "Now finished", False)
        ]
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "panel_view.save")
        ).all()
        assert len(events) == 2
        # the trail says a view was given, never which
        assert all("yes" not in str(e.after) and "partly" not in str(e.after) for e in events)
    page = client.get(thread_path(code)).get_data(as_text=True)
    assert "You answered: <strong>Yes</strong>" in page
    assert "Now finished" in page  # their own comment, to change


def test_no_answer_on_a_draft_or_a_return_not_yet_signed_off(app):
    open_period(app)
    assess_all(app, LEEDS, AMBER)
    member = make_member(app, Role.PANEL_MEMBER)
    client = signed_in_client(app, member)
    with app.app_context():
        code = _first_code()
    # a draft: the panel does not see it at all
    assert client.get(thread_path(code)).status_code == 404
    submit(app, LEEDS)
    page = client.get(thread_path(code)).get_data(as_text=True)
    assert "From what you see, is this happening?" not in page
    response = client.post(
        thread_path(code) + "/view", data={"csrf_token": _token(page), "view-answer": "yes"}
    )
    assert response.status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count(PanelView.id))) == 0
        with pytest.raises(services.PanelError):
            services.save_panel_view(
                get_return(LEEDS),
                get_return(LEEDS).assessments[0].action,
                "yes",
                "",
                actor=db.session.get(User, member.id),
            )


def test_another_councils_member_and_the_councils_staff_get_404(signed):
    app, code = signed
    outsider = make_member(app, Role.PANEL_MEMBER, "other_region")  # Cornwall's panel
    client = signed_in_client(app, outsider)
    assert answer(client, code, "yes", gss=CORNWALL).status_code == 302  # their own council
    page = client.get(thread_path(_code(app, CORNWALL), CORNWALL)).get_data(as_text=True)
    response = client.post(
        thread_path(code) + "/view", data={"csrf_token": _token(page), "view-answer": "yes"}
    )
    assert response.status_code == 404
    editor = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    page = editor.get(thread_path(code)).get_data(as_text=True)
    assert "From what you see" not in page
    response = editor.post(
        thread_path(code) + "/view", data={"csrf_token": _token(page), "view-answer": "yes"}
    )
    assert response.status_code == 404
    with app.app_context():
        leeds = get_return(LEEDS).id
        assert (
            db.session.scalar(select(func.count(PanelView.id)).where(PanelView.return_id == leeds))
            == 0
        )


def _code(app, gss: str) -> str:
    with app.app_context():
        return _first_code(gss)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"view-answer": "maybe"}, "Select whether, from what you see, this is happening"),
        ({}, "Select whether, from what you see, this is happening"),
        ({"view-answer": "yes", "view-comment": "x" * 1001}, "1,000 characters or fewer"),
        ({"view-answer": "yes", "view-comment": "bad\x1b[31m"}, "control characters"),
    ],
)
def test_bad_input_gets_a_clear_message_and_changes_nothing(signed, values, message):
    app, code = signed
    client = signed_in_client(app, make_member(app, Role.PANEL_MEMBER))
    assert answer(client, code, "partly", "First").status_code == 302
    page = client.get(thread_path(code)).get_data(as_text=True)
    response = client.post(thread_path(code) + "/view", data={"csrf_token": _token(page), **values})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body and "There is a problem" in body
    with app.app_context():
        rows = db.session.scalars(select(PanelView)).all()
        assert [(r.answer, r.comment) for r in rows] == [("partly", "First")]
    with app.app_context(), pytest.raises(services.PanelError):
        services._checked_view(values.get("view-answer"), values.get("view-comment"))


# -- the facilitator ------------------------------------------------------------------------------


def test_the_approver_records_views_from_a_meeting_audited_and_marked(signed):
    app, code = signed
    approver = make_member(app, Role.COUNCIL_APPROVER)
    client = signed_in_client(app, approver)
    thread = client.get(thread_path(code)).get_data(as_text=True)
    assert "Record views the panel gave at a meeting" in thread
    meeting = thread_path(code) + "/meeting"
    page = client.get(meeting).get_data(as_text=True)
    form = {
        "csrf_token": _token(page),
        "meeting_on": ["1", "12", "2026"],
        "answer": "not_yet",
        "comment": "Nobody has heard of it",
    }
    assert client.post(meeting, data=form).status_code == 302
    assert (
        client.post(meeting, data={**form, "answer": "dont_know", "comment": ""}).status_code == 302
    )
    missing = client.post(meeting, data={**form, "meeting_on": ["", "", ""]})
    assert missing.status_code == 422
    assert "Enter the date of the meeting" in missing.get_data(as_text=True)
    with app.app_context():
        rows = db.session.scalars(select(PanelView).order_by(PanelView.id)).all()
        assert [(r.answer, r.on_behalf, r.profile_id, str(r.meeting_on)) for r in rows] == [
            ("not_yet", True, None, "2026-12-01"),
            ("dont_know", True, None, "2026-12-01"),
        ]
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "panel_view.record_for_meeting")
        ).all()
        assert [(e.actor_id, e.after["on_behalf"], e.after["meeting_on"]) for e in events] == [
            (approver.id, True, "2026-12-01")
        ] * 2
    # an editor, a viewer and a member cannot record for a meeting
    for role in (Role.COUNCIL_EDITOR, Role.COUNCIL_VIEWER, Role.PANEL_MEMBER):
        assert signed_in_client(app, make_member(app, role)).get(meeting).status_code == 404


# -- what the council sees: withheld below 3 answers ----------------------------------------------


def test_two_answers_are_withheld_everywhere_and_three_are_shown_matching_the_database(signed):
    app, code = signed
    two = members(app, 2)
    for person, value in zip(two, ("yes", "not_yet"), strict=True):
        assert answer(signed_in_client(app, person), code, value, "Canary comment").status_code
    seen = outputs(app)
    for surface, text in seen.items():
        assert WITHHELD_ONE in text, surface
        assert "Canary comment" not in text, surface
    assert "How many panel members gave each answer" not in seen["dashboard"]
    assert "how many gave each answer" not in seen["pdf"]
    assert "how many gave each answer" not in seen["word"]
    assert seen["xlsx"].count("\n") == 2  # the header, a blank row and the sentence

    # the third answer, gathered at a meeting by the approver, lets the counts be shown
    facilitator = make_member(app, Role.COUNCIL_APPROVER)
    with app.app_context():
        approver = db.session.get(User, facilitator.id)
        return_ = get_return(LEEDS)
        action = services.get_action(code)
        services.record_meeting_view(
            return_, action, "yes", "", meeting_on=return_.signed_off_at.date(), actor=approver
        )
        db.session.commit()
        title = " ".join(action.text.split())
    counts = views_in_db(app, code)
    assert counts == {"yes": 2, "partly": 0, "not_yet": 1, "dont_know": 0}
    seen = outputs(app)
    expected = "Amber 2 0 1 0 3 1"  # Yes, Partly, Not yet, Don't know, answered, at a meeting
    # the PDF's table wraps the action's title around its figures
    table = seen["pdf"][seen["pdf"].index("how many gave each answer") :].split(" Trend ")[0]
    assert f"Planning, {expected}" in table and f"({code})" in table
    assert f"{title} ({code}) Planning, {expected}" in seen["word"]
    assert f"{title} ({code}) | Planning, Amber | 2 | 0 | 1 | 0 | 3 | 1" in seen["xlsx"]
    dashboard = seen["dashboard"]
    assert f"{title} ({code}) 1 of 3 gathered at a panel meeting" in dashboard
    assert re.search(r"Amber\s+2 0 1 0 3", dashboard)
    # the council's own staff see the comments, without names or answers
    assert "What the panel added (2)" in dashboard and "Canary comment" in dashboard
    for surface, text in seen.items():
        assert WITHHELD_ONE not in text, surface
        for name in names_of_members(app):
            assert name not in text, (surface, name)
        if surface != "dashboard":
            assert "Canary comment" not in text, surface


def test_a_regional_member_sees_counts_but_no_comments(signed):
    app, code = signed
    for person in members(app, 3):
        answer(signed_in_client(app, person), code, "partly", "Canary comment")
    regional = signed_in_client(app, make_member(app, Role.REGIONAL_MEMBER))
    html = regional.get(DASHBOARD).get_data(as_text=True)
    assert "The panel&#39;s view beside your RAG" in html or "The panel's view beside" in html
    assert "Canary comment" not in html
    for name in names_of_members(app):
        assert name not in html
