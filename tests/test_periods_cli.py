"""``flask periods …``: create, open, close, list and the daily reminder."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from tests.factories import make_user
from tests.helpers import sent_mail
from tests.test_evidence_services import LEEDS, council_by_code, open_small_period
from tracker.extensions import db
from tracker.models import AuditEvent, Period, Return, Role


def period_mail(app) -> list:
    return [m for m in sent_mail(app) if "invited" not in m["Subject"]]


def test_create_open_list_and_close(app, runner):
    with app.app_context():
        make_user(
            email="ed@leeds.example", memberships=[(Role.COUNCIL_EDITOR, council_by_code(LEEDS))]
        )

    result = runner.invoke(args=["periods", "create", "2026-27 Q1", "--due", "2026-07-31"])
    assert result.exit_code == 0, result.output
    assert result.output == "Created 2026-27 Q1, due 2026-07-31. It is not open yet.\n"

    result = runner.invoke(args=["periods", "open", "2026-27 Q1"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Opened 2026-27 Q1: 153 draft returns, 0 assessments carried forward.",
        "Emails to editors: 1 sent, 0 failed.",
    ]
    assert [m["To"] for m in period_mail(app)] == ["ed@leeds.example"]

    result = runner.invoke(args=["periods", "list"])
    assert result.output.splitlines() == [
        "2026-27 Q1  due 2026-07-31  open      returns 153, submitted 0, signed off 0"
    ]

    result = runner.invoke(args=["periods", "close", "2026-27 Q1"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(Period.status)) == "closed"
        actions = list(
            db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "period"))
        )
        assert actions == ["period.create", "period.open", "period.close"]


def test_open_without_email(app, runner):
    with app.app_context():
        make_user(
            email="ed@leeds.example", memberships=[(Role.COUNCIL_EDITOR, council_by_code(LEEDS))]
        )
    runner.invoke(args=["periods", "create", "2026-27 Q1", "--due", "2026-07-31"])
    result = runner.invoke(args=["periods", "open", "2026-27 Q1", "--no-email"])
    assert result.exit_code == 0, result.output
    assert period_mail(app) == []


def test_refusals_change_nothing_and_exit_1(app, runner):
    result = runner.invoke(args=["periods", "create", "2026/27 Q1", "--due", "2026-07-31"])
    assert result.exit_code == 1
    assert "Enter a period like 2025-26 Q3. Nothing was changed." in result.output
    result = runner.invoke(args=["periods", "create", "2026-27 Q1", "--due", "31/07/2026"])
    assert result.exit_code == 2
    assert "use YYYY-MM-DD" in result.output
    result = runner.invoke(args=["periods", "open", "2026-27 Q1"])
    assert result.exit_code == 1
    assert "There is no period 2026-27 Q1" in result.output
    runner.invoke(args=["periods", "create", "2026-27 Q1", "--due", "2026-07-31"])
    result = runner.invoke(args=["periods", "close", "2026-27 Q1"])
    assert result.exit_code == 1
    assert "2026-27 Q1 is not open. Nothing was changed." in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Return)) == 0


def test_remind_sends_once(app, runner):
    with app.app_context():
        make_user(
            email="ed@leeds.example", memberships=[(Role.COUNCIL_EDITOR, council_by_code(LEEDS))]
        )
        open_small_period(codes=[LEEDS], closes_on=date(2026, 1, 31))

    result = runner.invoke(args=["periods", "remind", "--today", "2026-01-23"])
    assert (result.exit_code, result.output) == (0, "No reminders due.\n")

    result = runner.invoke(args=["periods", "remind", "--today", "2026-01-24"])
    assert result.exit_code == 0, result.output
    assert result.output == "2025-26 Q3 reminders: 1 sent, 0 failed.\n"

    result = runner.invoke(args=["periods", "remind", "--today", "2026-01-25"])
    assert (result.exit_code, result.output) == (0, "No reminders due.\n")
    assert [m["To"] for m in period_mail(app)] == ["ed@leeds.example"]
    with app.app_context():
        assert db.session.scalar(select(Period.reminder_sent_at)) is not None


def test_remind_exits_1_when_a_message_fails(app, runner, monkeypatch):
    from tracker import reminders

    def refuse(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(reminders, "send_mail", refuse)
    with app.app_context():
        make_user(
            email="ed@leeds.example", memberships=[(Role.COUNCIL_EDITOR, council_by_code(LEEDS))]
        )
        open_small_period(codes=[LEEDS], closes_on=date(2026, 1, 31))
    result = runner.invoke(args=["periods", "remind", "--today", "2026-01-30"])
    assert result.exit_code == 1
    assert "2025-26 Q3 reminders: 0 sent, 1 failed." in result.output
    # It is not sent again: the reminder was claimed before sending.
    result = runner.invoke(args=["periods", "remind", "--today", "2026-01-30"])
    assert result.output == "No reminders due.\n"


def test_close_before_the_due_date_needs_early(app, runner, monkeypatch):
    from tracker.returns import periods

    with app.app_context():
        open_small_period(codes=[LEEDS], closes_on=date(2026, 1, 31))
    monkeypatch.setattr(periods, "uk_today", lambda: date(2026, 1, 6))
    result = runner.invoke(args=["periods", "close", "2025-26 Q3"])
    assert result.exit_code == 1
    assert (
        "2025-26 Q3 is due on 31 January 2026, 25 days from now. 1 of 1 return is still a draft "
        "and 0 are waiting for sign-off. Add --early to close it now. Nothing was changed."
    ) in result.output
    with app.app_context():
        assert db.session.scalar(select(Period.status)) == "open"

    result = runner.invoke(args=["periods", "close", "2025-26 Q3", "--early"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Closed 2025-26 Q3 early: 2025-26 Q3 is due on 31 January")
    with app.app_context():
        assert db.session.scalar(select(Period.status)) == "closed"
        assert db.session.scalar(
            select(AuditEvent.after).where(AuditEvent.action == "period.close")
        )["closed_early"]


def test_reopen_with_a_reason(app, runner, monkeypatch):
    from tracker.returns import periods

    with app.app_context():
        open_small_period(codes=[LEEDS], closes_on=date(2026, 1, 31))
    monkeypatch.setattr(periods, "uk_today", lambda: date(2026, 2, 2))
    result = runner.invoke(args=["periods", "reopen", "2025-26 Q3", "--reason", "Too soon"])
    assert result.exit_code == 1
    assert "2025-26 Q3 is not closed. Nothing was changed." in result.output
    assert runner.invoke(args=["periods", "close", "2025-26 Q3"]).exit_code == 0

    result = runner.invoke(args=["periods", "reopen", "2025-26 Q3"])
    assert result.exit_code == 2
    assert "Missing option '--reason'" in result.output
    result = runner.invoke(args=["periods", "reopen", "2025-26 Q3", "--reason", " "])
    assert result.exit_code == 1
    assert "Enter why you are reopening 2025-26 Q3. Nothing was changed." in result.output

    result = runner.invoke(
        args=["periods", "reopen", "2025-26 Q3", "--reason", "Leeds asked for a week more"]
    )
    assert result.exit_code == 0, result.output
    assert result.output == "Reopened 2025-26 Q3.\n"
    with app.app_context():
        assert db.session.scalar(select(Period.status)) == "open"
        assert db.session.scalar(select(Return.status)) == "draft"
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "period.reopen"))
        assert (event.actor_id, event.after["reason"]) == (None, "Leeds asked for a week more")
