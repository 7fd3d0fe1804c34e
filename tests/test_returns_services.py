"""Periods and returns: opening with carry-forward, assessment rules, conflicts, the workflow."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.factories import get_user, make_user
from tracker.extensions import db
from tracker.models import (
    Action,
    Assessment,
    AuditEvent,
    Council,
    Evidence,
    Period,
    Return,
    ReturnSnapshot,
    Role,
)
from tracker.returns.periods import (
    PeriodError,
    close_period,
    create_period,
    open_period,
    parse_period_label,
    period_for,
    quarter_dates,
)
from tracker.returns.services import (
    AssessmentConflict,
    AssessmentInvalid,
    ReturnError,
    reopen_return,
    return_progress,
    save_assessment,
    send_back_return,
    sign_off_return,
    submit_return,
    validate_assessment,
)

TRACKABLE = 140
COUNCILS = 153
IMPLEMENTING_GREEN = {"stage": "implementing", "rag": "green", "narrative": "Under way"}


@pytest.mark.parametrize(
    ("label", "expected"),
    [("2025-26 Q3", (2025, 3)), ("2029-30 Q1", (2029, 1)), ("2099-00 Q4", (2099, 4))],
)
def test_period_labels_parse(label, expected):
    assert parse_period_label(label) == expected


@pytest.mark.parametrize("label", ["2025-27 Q3", "2025/26 Q3", "2025-26 Q5", "", "Q3 2025-26"])
def test_malformed_period_labels_are_refused(label):
    with pytest.raises(PeriodError):
        parse_period_label(label)


def test_quarters_follow_the_financial_year():
    assert quarter_dates(2025, 1) == (date(2025, 4, 1), date(2025, 6, 30))
    assert quarter_dates(2025, 3) == (date(2025, 10, 1), date(2025, 12, 31))
    assert quarter_dates(2025, 4) == (date(2026, 1, 1), date(2026, 3, 31))
    assert period_for(date(2026, 2, 14)) == (2025, 4)
    assert period_for(date(2026, 11, 23)) == (2026, 3)


@pytest.fixture
def people(app):
    """A national administrator, and an editor and approver of Leeds, by id."""
    with app.app_context():
        leeds = db.session.scalar(select(Council).where(Council.gss_code == "E08000035"))
        admin = make_user(memberships=[(Role.NATIONAL_ADMIN, None)], mfa=True)
        editor = make_user(email="editor@example.org", memberships=[(Role.COUNCIL_EDITOR, leeds)])
        approver = make_user(
            email="dass@example.org", memberships=[(Role.COUNCIL_APPROVER, leeds)], mfa=True
        )
        return {"admin": admin.id, "editor": editor.id, "approver": approver.id, "leeds": leeds.id}


def _open(label: str, admin_id: int) -> Period:
    period = create_period(label, date(2030, 1, 31), actor=get_user(admin_id))
    open_period(period, actor=get_user(admin_id))
    return period


def _leeds_return(period: Period, leeds_id: int) -> Return:
    return db.session.scalar(
        select(Return).where(Return.period_id == period.id, Return.council_id == leeds_id)
    )


def _assess_everything(return_: Return, editor_id: int) -> None:
    for assessment in return_.assessments:
        save_assessment(
            assessment,
            IMPLEMENTING_GREEN,
            actor=get_user(editor_id),
            expected_version=assessment.version_id,
        )


def test_opening_a_period_gives_every_council_a_draft_of_every_action(app, people):
    with app.app_context():
        period = _open("2025-26 Q3", people["admin"])
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Return)) == COUNCILS
        per_return = db.session.execute(
            select(Assessment.return_id, func.count()).group_by(Assessment.return_id)
        ).all()
        assert {count for _id, count in per_return} == {TRACKABLE}
        assert period.status == "open"
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "period.open")
            )
            == 1
        )


def test_a_period_cannot_be_created_twice_or_opened_twice(app, people):
    with app.app_context():
        period = _open("2025-26 Q3", people["admin"])
        with pytest.raises(PeriodError, match="already exists"):
            create_period("2025-26 Q3", date(2026, 1, 31), actor=get_user(people["admin"]))
        with pytest.raises(PeriodError, match="already open"):
            open_period(period, actor=get_user(people["admin"]))


def test_the_next_period_carries_forward_values_and_evidence(app, people):
    with app.app_context():
        first = _open("2025-26 Q3", people["admin"])
        leeds_q3 = _leeds_return(first, people["leeds"])
        target = next(a for a in leeds_q3.assessments if a.action.code == "A01.S01")
        evidence = Evidence(
            council_id=people["leeds"],
            title="Strategy",
            evidence_type="strategy",
            url="https://example.org/strategy",
        )
        target.evidence.append(evidence)
        save_assessment(
            target,
            {**IMPLEMENTING_GREEN, "barriers": ["workforce"], "lead_officer": "A. Lead"},
            actor=get_user(people["editor"]),
            expected_version=target.version_id,
        )
        close_period(first, actor=get_user(people["admin"]), confirm_early=True)
        second = _open("2025-26 Q4", people["admin"])
        db.session.commit()

        leeds_q4 = _leeds_return(second, people["leeds"])
        assert leeds_q4.carried_from_id == leeds_q3.id
        carried = next(a for a in leeds_q4.assessments if a.action.code == "A01.S01")
        assert carried.stage == "implementing"
        assert carried.rag == "green"
        assert carried.barriers == ["workforce"]
        assert carried.lead_officer == "A. Lead"
        assert carried.is_carried_forward
        assert [e.title for e in carried.evidence] == ["Strategy"]
        untouched = next(a for a in leeds_q4.assessments if a.action.code == "A01.S02")
        assert untouched.stage is None
        # Last quarter's assessment is its own row: editing this quarter cannot change it.
        assert carried.id != target.id


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"stage": "planning"}, "rag", "Select a RAG rating"),
        ({"stage": "not_applicable"}, "not_applicable_reason", "Enter why"),
        ({"stage": "finished"}, "stage", "Select how far"),
        ({}, "stage", "Select how far"),
        ({"stage": "embedded", "narrative": "x" * 5001}, "narrative", "5,000 characters or fewer"),
        ({"stage": "embedded", "barriers": ["weather"]}, "barriers", "Select barriers"),
        ({"stage": "embedded", "target_period": "next year"}, "target_period", "like 2026-27 Q2"),
        ({"stage": "embedded", "spend_types": "TX"}, "spend_types", "types of spend"),
        ({"stage": "embedded", "amount_pounds": -5}, "amount_pounds", "whole number"),
        ({"stage": "embedded", "funding_source": "lottery"}, "funding_source", "source of funding"),
    ],
)
def test_assessment_rules(values, field, message):
    with pytest.raises(AssessmentInvalid) as raised:
        validate_assessment(values)
    assert message in raised.value.errors[field]


def test_rag_is_cleared_outside_planning_and_implementing():
    clean = validate_assessment({"stage": "embedded", "rag": "red", "spend_types": "AT"})
    assert clean["rag"] is None
    assert clean["spend_types"] == "TA"


def test_a_stale_version_conflicts_and_saves_nothing(app, people):
    with app.app_context():
        period = _open("2025-26 Q3", people["admin"])
        assessment = _leeds_return(period, people["leeds"]).assessments[0]
        version = assessment.version_id
        save_assessment(
            assessment,
            IMPLEMENTING_GREEN,
            actor=get_user(people["editor"]),
            expected_version=version,
        )
        with pytest.raises(AssessmentConflict) as raised:
            save_assessment(
                assessment,
                {"stage": "embedded"},
                actor=get_user(people["editor"]),
                expected_version=version,
            )
        assert raised.value.current.stage == "implementing"
        assert raised.value.attempted["stage"] == "embedded"


def test_the_workflow_from_draft_to_signed_off_and_back(app, people):
    with app.app_context():
        period = _open("2025-26 Q3", people["admin"])
        return_ = _leeds_return(period, people["leeds"])
        editor, approver = get_user(people["editor"]), get_user(people["approver"])

        with pytest.raises(ReturnError, match="140 actions are not yet reviewed"):
            submit_return(return_, actor=editor)
        _assess_everything(return_, people["editor"])
        assert return_progress(return_).is_complete
        submit_return(return_, actor=editor)
        assert return_.status == "submitted"
        with pytest.raises(ReturnError, match="only a draft can be changed"):
            save_assessment(
                return_.assessments[0],
                {"stage": "embedded"},
                actor=editor,
                expected_version=return_.assessments[0].version_id,
            )

        with pytest.raises(ReturnError, match="Enter what the editors need to change"):
            send_back_return(return_, "  ", actor=approver)
        send_back_return(return_, "Check A01 narratives", actor=approver)
        assert return_.status == "draft"
        assert return_.returned_comment == "Check A01 narratives"

        submit_return(return_, actor=editor)
        sign_off_return(return_, actor=approver)
        assert return_.status == "signed_off"
        frozen = db.session.scalar(
            select(ReturnSnapshot).where(ReturnSnapshot.return_id == return_.id)
        )
        assert frozen.data["period"] == "2025-26 Q3"
        assert frozen.data["assessments"]["A01.S01"]["stage"] == "implementing"
        assert len(frozen.data["assessments"]) == TRACKABLE

        with pytest.raises(ReturnError, match="Enter why"):
            reopen_return(return_, "", actor=approver)
        reopen_return(return_, "Board asked for changes to A05", actor=approver)
        assert return_.status == "draft"
        # The snapshot of what was signed off stays as it was.
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(ReturnSnapshot)
                .where(ReturnSnapshot.return_id == return_.id)
            )
            == 1
        )
        actions = list(
            db.session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.object_type == "return")
                .order_by(AuditEvent.id)
            )
        )
        assert actions == [
            "return.submit",
            "return.send_back",
            "return.submit",
            "return.sign_off",
            "return.reopen",
        ]


def test_the_person_who_submitted_a_return_cannot_sign_it_off(app, people):
    """Separation of duties: someone who is both editor and approver of a council submits, and
    another approver must sign off."""
    with app.app_context():
        period = _open("2025-26 Q3", people["admin"])
        return_ = _leeds_return(period, people["leeds"])
        leeds = db.session.get(Council, people["leeds"])
        both = make_user(
            email="both@example.org",
            memberships=[(Role.COUNCIL_EDITOR, leeds), (Role.COUNCIL_APPROVER, leeds)],
            mfa=True,
        )
        _assess_everything(return_, people["editor"])
        submit_return(return_, actor=get_user(both.id))

        with pytest.raises(
            ReturnError, match="You submitted this return, so another approver must sign it off"
        ):
            sign_off_return(return_, actor=get_user(both.id))
        assert return_.status == "submitted"
        assert return_.signed_off_by_id is None
        assert db.session.scalar(select(func.count()).select_from(ReturnSnapshot)) == 0

        sign_off_return(return_, actor=get_user(people["approver"]))
        assert (return_.status, return_.signed_off_by_id) == ("signed_off", people["approver"])


def test_a_closed_period_is_read_only(app, people):
    with app.app_context():
        period = _open("2025-26 Q3", people["admin"])
        return_ = _leeds_return(period, people["leeds"])
        close_period(period, actor=get_user(people["admin"]), confirm_early=True)
        with pytest.raises(ReturnError, match="is closed"):
            save_assessment(
                return_.assessments[0],
                IMPLEMENTING_GREEN,
                actor=get_user(people["editor"]),
                expected_version=return_.assessments[0].version_id,
            )


def test_archived_actions_are_not_given_assessments(app, people):
    with app.app_context():
        action = db.session.scalar(select(Action).where(Action.code == "A10.L03"))
        action.archived_at = date(2026, 1, 1)
        period = _open("2025-26 Q3", people["admin"])
        return_ = _leeds_return(period, people["leeds"])
        assert len(return_.assessments) == TRACKABLE - 1


def test_a_submitted_return_cannot_be_sent_back_once_the_period_closes(app, people):
    with app.app_context():
        period = _open("2025-26 Q3", people["admin"])
        return_ = _leeds_return(period, people["leeds"])
        _assess_everything(return_, people["editor"])
        submit_return(return_, actor=get_user(people["editor"]))
        close_period(period, actor=get_user(people["admin"]), confirm_early=True)
        with pytest.raises(ReturnError, match="cannot be sent back"):
            send_back_return(return_, "Too late", actor=get_user(people["approver"]))
        assert return_.status == "submitted"
