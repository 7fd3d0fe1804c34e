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
