"""Closing early, reopening, the reminder sent by hand and who has not submitted: the services."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from tests.factories import make_user
from tests.test_evidence_services import (
    CORNWALL,
    LEEDS,
    WAKEFIELD,
    council_by_code,
    open_small_period,
)
from tracker import reminders
from tracker.domain.periods import PeriodError
from tracker.domain.principal import load_principal
from tracker.domain.workflow import Step, refusal
from tracker.extensions import db
from tracker.models import (
    Assessment,
    AuditEvent,
    Period,
    PeriodStatus,
    Return,
    ReturnStatus,
    Role,
    User,
)
from tracker.returns import periods
from tracker.returns.periods import (
    MAX_REOPEN_REASON,
    EarlyCloseRefused,
    check_closing,
    close_period,
    period_history,
    reopen_period,
)

DUE = date(2026, 1, 31)


def the_period() -> Period:
    return db.session.scalar(select(Period).where(Period.label == "2025-26 Q3"))


def return_of(code: str) -> Return:
    return db.session.scalar(select(Return).where(Return.council_id == council_by_code(code).id))


def set_status(code: str, status: ReturnStatus) -> None:
    return_of(code).status = status


def statuses() -> dict[int, str]:
    return dict(db.session.execute(select(Return.id, Return.status)).all())


def events(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


@pytest.fixture
def leeds_signed_off_wakefield_submitted(app):
    """2025-26 Q3 open for Leeds (signed off), Wakefield (submitted) and Cornwall (draft)."""
    with app.app_context():
        open_small_period()
        set_status(LEEDS, ReturnStatus.SIGNED_OFF)
        set_status(WAKEFIELD, ReturnStatus.SUBMITTED)
        db.session.commit()


# -- closing before the due date ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "early", "due"),
    [
        (date(2026, 1, 6), True, "2025-26 Q3 is due on 31 January 2026, 25 days from now"),
        (date(2026, 1, 30), True, "2025-26 Q3 is due on 31 January 2026, tomorrow"),
        # Councils may still submit on the day itself.
        (date(2026, 1, 31), True, "2025-26 Q3 is due on 31 January 2026, today"),
        (date(2026, 2, 1), False, "2025-26 Q3 was due on 31 January 2026, yesterday"),
        (date(2026, 3, 3), False, "2025-26 Q3 was due on 31 January 2026, 31 days ago"),
    ],
)
def test_what_closing_would_cut_short(app, leeds_signed_off_wakefield_submitted, today, early, due):
    with app.app_context():
        check = check_closing(the_period(), today=today)
    assert check.is_early is early
    assert check.due == due
    assert check.where_returns_stand == (
        "1 of 3 returns is still a draft and 1 is waiting for sign-off"
    )


def test_closing_early_without_confirming_is_refused_and_changes_nothing(
    app, leeds_signed_off_wakefield_submitted
):
    with app.app_context():
        before = statuses()
        with pytest.raises(EarlyCloseRefused) as refused:
            close_period(the_period(), actor=None, today=date(2026, 1, 6))
        db.session.rollback()
        assert str(refused.value) == (
            "2025-26 Q3 is due on 31 January 2026, 25 days from now. 1 of 3 returns is still a "
            "draft and 1 is waiting for sign-off. Confirm that you want to close it before it "
            "is due"
        )
        assert isinstance(refused.value, PeriodError)
        period = the_period()
        assert (period.status, period.closed_at) == (PeriodStatus.OPEN, None)
        assert statuses() == before
        assert events("period.close") == []


def test_closing_early_when_confirmed_records_what_was_cut_short(
    app, leeds_signed_off_wakefield_submitted
):
    with app.app_context():
        before = statuses()
        check = close_period(the_period(), actor=None, confirm_early=True, today=date(2026, 1, 6))
        db.session.commit()
        assert check.is_early
        assert the_period().status == PeriodStatus.CLOSED
        assert statuses() == before
        [event] = events("period.close")
        assert event.after == {
            "status": "closed",
            "closed_early": True,
            "closes_on": "2026-01-31",
            "drafts": 1,
            "waiting_for_sign_off": 1,
        }


def test_closing_after_the_due_date_needs_no_confirmation(
    app, leeds_signed_off_wakefield_submitted
):
    with app.app_context():
        close_period(the_period(), actor=None, today=date(2026, 2, 1))
        db.session.commit()
        assert the_period().status == PeriodStatus.CLOSED
        assert events("period.close")[0].after == {"status": "closed"}


def test_the_check_uses_the_uk_date(app, leeds_signed_off_wakefield_submitted):
    # 23:30 UTC on 31 May is 00:30 on 1 June in the UK (BST): a period due 31 May is past due.
    with app.app_context():
        the_period().closes_on = date(2026, 5, 31)
        with time_machine.travel(datetime(2026, 5, 31, 23, 30, tzinfo=UTC), tick=False):
            assert check_closing(the_period()).is_early is False
        with time_machine.travel(datetime(2026, 5, 31, 22, 30, tzinfo=UTC), tick=False):
            assert check_closing(the_period()).is_early is True


# -- reopening ---------------------------------------------------------------------------------


def assessments_as_they_are() -> list[tuple]:
    return [
        tuple(row)
        for row in db.session.execute(select(Assessment.__table__).order_by(Assessment.id)).all()
    ]


def test_reopening_keeps_every_return_exactly_as_it_was(app, leeds_signed_off_wakefield_submitted):
    with app.app_context():
        admin = make_user(email="admin@example.org", memberships=[(Role.NATIONAL_ADMIN, None)])
        close_period(the_period(), actor=None, confirm_early=True, today=date(2026, 1, 6))
        db.session.commit()
        before, rows_before = statuses(), assessments_as_they_are()
        versions = dict(db.session.execute(select(Return.id, Return.version_id)).all())

        actor = db.session.get(User, admin.id)
        reopen_period(the_period(), "  Cornwall's return was lost in a power cut.  ", actor=actor)
        db.session.commit()

        period = the_period()
        assert (period.status, period.closed_at) == (PeriodStatus.OPEN, None)
        assert statuses() == before
        assert statuses()[return_of(CORNWALL).id] == ReturnStatus.DRAFT
        assert dict(db.session.execute(select(Return.id, Return.version_id)).all()) == versions
        assert assessments_as_they_are() == rows_before
        [event] = events("period.reopen")
        assert (event.actor_id, event.object_type, event.object_id) == (
            admin.id,
            "period",
            str(period.id),
        )
        assert event.before["status"] == "closed" and event.before["closed_at"]
        assert event.after == {
            "status": "open",
            "reason": "Cornwall's return was lost in a power cut.",
        }
        # Cornwall's editors can change their draft again; Leeds's stays signed off.
        editor = make_user(memberships=[(Role.COUNCIL_EDITOR, council_by_code(CORNWALL))])
        principal = load_principal(db.session.get(User, editor.id))
        assert refusal(principal, return_of(CORNWALL), Step.EDIT) is None
        leeds_editor = make_user(memberships=[(Role.COUNCIL_EDITOR, council_by_code(LEEDS))])
        principal = load_principal(db.session.get(User, leeds_editor.id))
        assert refusal(principal, return_of(LEEDS), Step.EDIT) is not None

        history = period_history(the_period())
        assert [e.words for e in history] == ["Created", "Opened", "Closed", "Reopened"]
        assert history[-1].details == "Cornwall's return was lost in a power cut."
        assert history[-1].actor == "Test Person"
        assert history[2].details == (
            "Before the due date, with 1 draft and 1 waiting for sign-off"
        )


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "Enter why you are reopening 2025-26 Q3"),
        ("   \n ", "Enter why you are reopening 2025-26 Q3"),
        ("x" * (MAX_REOPEN_REASON + 1), "The reason must be 1,000 characters or fewer"),
    ],
)
def test_reopening_needs_a_reason_of_up_to_1000_characters(
    app, leeds_signed_off_wakefield_submitted, reason, message
):
    with app.app_context():
        close_period(the_period(), actor=None, today=date(2026, 2, 1))
        db.session.commit()
        with pytest.raises(PeriodError, match=message):
            reopen_period(the_period(), reason, actor=None)
        db.session.rollback()
        assert the_period().status == PeriodStatus.CLOSED
        assert events("period.reopen") == []
        reopen_period(the_period(), "x" * MAX_REOPEN_REASON, actor=None)
        assert the_period().status == PeriodStatus.OPEN


def test_only_a_closed_period_can_be_reopened(app, leeds_signed_off_wakefield_submitted):
    with app.app_context():
        with pytest.raises(PeriodError, match="2025-26 Q3 is not closed"):
            reopen_period(the_period(), "A reason", actor=None)
        upcoming = periods.create_period("2025-26 Q4", date(2026, 4, 30), actor=None)
        with pytest.raises(PeriodError, match="2025-26 Q4 is not closed"):
            reopen_period(upcoming, "A reason", actor=None)


# -- who has not submitted, and the reminder sent by hand ------------------------------------------


@pytest.fixture
def editors(app, leeds_signed_off_wakefield_submitted):
    """Cornwall's draft has two joined editors, a disabled one, an invited one and a viewer;
    Wakefield (submitted) and Leeds (signed off) have an editor each. Leeds's return is made a
    draft again, so two councils have not submitted."""
    from tests.access_matrix import make_person

    with app.app_context():
        cornwall = council_by_code(CORNWALL)
        make_user(email="ed@cornwall.example", memberships=[(Role.COUNCIL_EDITOR, cornwall)])
        make_user(email="ed2@cornwall.example", memberships=[(Role.COUNCIL_EDITOR, cornwall)])
        make_user(
            email="gone@cornwall.example",
            memberships=[(Role.COUNCIL_EDITOR, cornwall)],
            active=False,
        )
        make_user(email="viewer@cornwall.example", memberships=[(Role.COUNCIL_VIEWER, cornwall)])
        make_person("invited@cornwall.example", Role.COUNCIL_EDITOR, council=cornwall)
        make_user(
            email="ed@wakefield.example",
            memberships=[(Role.COUNCIL_EDITOR, council_by_code(WAKEFIELD))],
        )
        set_status(LEEDS, ReturnStatus.DRAFT)
        db.session.commit()


def test_the_councils_that_have_not_submitted_by_region(app, editors):
    with app.app_context():
        # Two of Cornwall's actions reviewed and complete; one reviewed but incomplete; the
        # carried-forward ones (complete or not) do not count.
        rows = db.session.scalars(
            select(Assessment)
            .where(Assessment.return_id == return_of(CORNWALL).id)
            .order_by(Assessment.id)
        ).all()
        rows[0].stage, rows[0].is_carried_forward = "embedded", False
        rows[1].stage, rows[1].rag, rows[1].is_carried_forward = "planning", "red", False
        rows[2].stage, rows[2].is_carried_forward = "planning", False  # no RAG: incomplete
        rows[3].stage, rows[3].is_carried_forward = "embedded", True  # not yet reviewed
        db.session.commit()
        total = len(rows)
        waiting = reminders.list_waiting_councils(the_period())
    assert [(region.name, [c.name for c in region.councils]) for region in waiting] == [
        ("South West", ["Cornwall Council"]),
        ("Yorkshire and the Humber", ["Leeds City Council"]),
    ]
    cornwall, leeds = waiting[0].councils[0], waiting[1].councils[0]
    assert (cornwall.assessed, cornwall.actions, cornwall.editors) == (2, total, 2)
    assert (leeds.assessed, leeds.actions, leeds.editors) == (0, total, 0)


def test_a_reminder_by_hand_goes_once_an_hour(app, editors):
    start = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock, app.app_context():
        claim = reminders.claim_reminder_now(the_period(), actor=None)
        db.session.commit()
        assert (claim.councils, claim.people, claim.councils_without_editors) == (1, 2, 1)
        mail = reminders.send_closing_reminder(the_period())
        assert (mail.sent, mail.councils) == (2, {council_by_code(CORNWALL).id})
        assert reminders.next_reminder_at(the_period()) == datetime(2026, 1, 10, 10, 0)

        clock.move_to(start + timedelta(minutes=59))
        with pytest.raises(reminders.ReminderRefused) as refused:
            reminders.claim_reminder_now(the_period(), actor=None)
        db.session.rollback()
        assert str(refused.value) == (
            "A reminder for 2025-26 Q3 was sent less than an hour ago. You can send another "
            "in 1 minute, at 10:00"
        )

        clock.move_to(start + timedelta(minutes=60, seconds=1))
        assert reminders.next_reminder_at(the_period()) is None
        reminders.claim_reminder_now(the_period(), actor=None)
        db.session.commit()
        assert [e.after for e in events("period.remind")] == [
            {"drafts": 2, "councils": 1, "people": 2},
            {"drafts": 2, "councils": 1, "people": 2},
        ]


def test_the_limit_is_per_period(app, editors):
    with app.app_context():
        reminders.claim_reminder_now(the_period(), actor=None)
        other = periods.create_period("2025-26 Q4", date(2026, 4, 30), actor=None)
        periods.open_period(other, actor=None)
        reminders.claim_reminder_now(other, actor=None)
        db.session.commit()
        assert len(events("period.remind")) == 2


def test_no_reminder_for_a_period_that_is_not_open_or_has_no_drafts(app, editors):
    with app.app_context():
        upcoming = periods.create_period("2025-26 Q4", date(2026, 4, 30), actor=None)
        with pytest.raises(reminders.ReminderRefused, match="2025-26 Q4 is not open"):
            reminders.claim_reminder_now(upcoming, actor=None)
        for code in (LEEDS, CORNWALL):
            set_status(code, ReturnStatus.SUBMITTED)
        with pytest.raises(
            reminders.ReminderRefused, match="Every council has submitted its 2025-26 Q3 return"
        ):
            reminders.claim_reminder_now(the_period(), actor=None)
        db.session.rollback()
        assert events("period.remind") == []
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) > 0
