"""Emails about returns: a period opens, a week to go (once), a return is submitted."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from tests.factories import make_user
from tests.helpers import link_in, mail_body, path_of, sent_mail
from tests.test_evidence_services import (
    CORNWALL,
    LEEDS,
    WAKEFIELD,
    council_by_code,
    open_small_period,
)
from tracker import reminders
from tracker.extensions import db
from tracker.models import Period, Return, ReturnStatus, Role, User

DEADLINE = date(2026, 1, 31)


def mail_to(app, to: str | None = None, subject_part: str = "") -> list:
    """Messages other than the invitations the factories send."""
    return [
        m
        for m in sent_mail(app, to)
        if "invited" not in m["Subject"] and subject_part in m["Subject"]
    ]


@pytest.fixture
def people(app):
    """Editors, an approver and a viewer of Leeds; an editor each of Wakefield and Cornwall; an
    invited editor who has not joined and a disabled one."""
    with app.app_context():
        leeds = council_by_code(LEEDS)
        make_user(
            email="ed@leeds.example",
            display_name="Eddie",
            memberships=[(Role.COUNCIL_EDITOR, leeds)],
        )
        make_user(
            email="dass@leeds.example",
            display_name="Dana",
            memberships=[(Role.COUNCIL_APPROVER, leeds)],
            mfa=True,
        )
        make_user(email="viewer@leeds.example", memberships=[(Role.COUNCIL_VIEWER, leeds)])
        make_user(
            email="gone@leeds.example", memberships=[(Role.COUNCIL_EDITOR, leeds)], active=False
        )
        make_user(
            email="ed@wakefield.example",
            memberships=[(Role.COUNCIL_EDITOR, council_by_code(WAKEFIELD))],
        )
        make_user(
            email="ed@cornwall.example",
            memberships=[(Role.COUNCIL_EDITOR, council_by_code(CORNWALL))],
        )
        from tests.access_matrix import make_person

        make_person("invited@leeds.example", Role.COUNCIL_EDITOR, council=leeds)
        db.session.commit()


def the_period() -> Period:
    return db.session.scalar(select(Period).where(Period.label == "2025-26 Q3"))


def set_status(code: str, status: ReturnStatus) -> None:
    db.session.scalar(
        select(Return).where(Return.council_id == council_by_code(code).id)
    ).status = status


def test_opening_emails_the_editors_of_councils_given_a_return(app, people):
    with app.app_context():
        period = open_small_period(codes=[LEEDS, WAKEFIELD])
        report = reminders.notify_period_opened(period)
    assert (report.sent, report.failed) == (2, [])
    assert sorted(m["To"] for m in mail_to(app)) == ["ed@leeds.example", "ed@wakefield.example"]
    message = mail_to(app, "ed@leeds.example")[0]
    assert message["Subject"] == "2025-26 Q3 return open for Leeds"
    body = mail_body(message)
    assert body.startswith("Dear Eddie,")
    assert "submit the return by 31 January 2026" in body
    assert path_of(link_in(message)) == f"/councils/{LEEDS}/returns/2025-26-Q3"
    assert link_in(message).startswith(app.config["BASE_URL"])


def test_links_are_built_on_base_url_not_the_request(app, people):
    app.config["BASE_URL"] = "https://tracker.example.org/"
    with app.test_request_context(base_url="https://evil.example"):
        period = open_small_period(codes=[LEEDS])
        reminders.notify_period_opened(period)
    assert link_in(mail_to(app, "ed@leeds.example")[0]) == (
        f"https://tracker.example.org/councils/{LEEDS}/returns/2025-26-Q3"
    )


@pytest.mark.parametrize(
    ("today", "due"),
    [
        (date(2026, 1, 23), False),  # eight days before
        (date(2026, 1, 24), True),  # a week before
        (date(2026, 1, 30), True),  # a day before (the cron missed a few days)
        (date(2026, 1, 31), True),  # the day itself
        (date(2026, 2, 1), False),  # too late to remind
    ],
)
def test_the_reminder_is_due_in_the_week_before_the_deadline(app, today, due):
    with app.app_context():
        open_small_period(codes=[LEEDS], closes_on=DEADLINE)
        assert bool(reminders.due_reminders(today)) is due


def test_the_reminder_goes_once_to_editors_of_draft_returns(app, people):
    today = date(2026, 1, 24)
    with app.app_context():
        open_small_period(closes_on=DEADLINE)
        set_status(WAKEFIELD, ReturnStatus.SUBMITTED)
        db.session.commit()
        claimed = reminders.claim_due_reminders(today)
        db.session.commit()
        assert [p.label for p in claimed] == ["2025-26 Q3"]
        report = reminders.send_closing_reminder(claimed[0], today=today)
        assert report.sent == 2
        assert the_period().reminder_sent_at is not None
        # Run again (the next day's cron, or a second cron at once): nothing is claimed.
        assert reminders.claim_due_reminders(today) == []
        assert reminders.claim_due_reminders(date(2026, 1, 25)) == []
    reminded = mail_to(app, subject_part="is due")
    assert sorted(m["To"] for m in reminded) == ["ed@cornwall.example", "ed@leeds.example"]
    leeds = mail_to(app, "ed@leeds.example", "is due")[0]
    assert leeds["Subject"] == "2025-26 Q3 return for Leeds is due 31 January 2026"
    assert "due in 7 days, on 31 January 2026. It is still a draft." in mail_body(leeds)


def test_a_claim_made_elsewhere_is_not_claimed_again(app):
    with app.app_context():
        open_small_period(codes=[LEEDS], closes_on=DEADLINE)
        stale = reminders.due_reminders(date(2026, 1, 25))
        assert stale
        # Another run claims it between this run's query and its update.
        the_period().reminder_sent_at = datetime(2026, 1, 25, 6, 0)
        db.session.commit()
        assert reminders.claim_due_reminders(date(2026, 1, 25)) == []


def test_days_left_read_naturally(app, people):
    with app.app_context():
        period = open_small_period(codes=[LEEDS], closes_on=DEADLINE)
        reminders.send_closing_reminder(period, today=date(2026, 1, 30))
        reminders.send_closing_reminder(period, today=date(2026, 1, 31))
    bodies = [mail_body(m) for m in mail_to(app, "ed@leeds.example", "is due")]
    assert "is due tomorrow, on 31 January 2026" in bodies[0]
    assert "is due today, on 31 January 2026" in bodies[1]


def test_a_failed_message_is_counted_and_the_others_still_go(app, people, monkeypatch):
    real_send = reminders.send_mail

    def flaky(to: str, subject: str, body: str) -> None:
        if to == "ed@leeds.example":
            raise OSError("connection refused")
        real_send(to, subject, body)

    monkeypatch.setattr(reminders, "send_mail", flaky)
    with app.app_context():
        period = open_small_period(codes=[LEEDS, WAKEFIELD])
        report = reminders.notify_period_opened(period)
    assert (report.sent, report.failed) == (1, ["ed@leeds.example"])
    assert [m["To"] for m in mail_to(app)] == ["ed@wakefield.example"]


def test_a_submitted_return_is_announced_to_the_councils_approvers(app, people):
    with app.app_context():
        open_small_period(codes=[LEEDS])
        return_ = db.session.scalar(select(Return))
        editor = db.session.scalar(select(User).where(User.email == "ed@leeds.example"))
        return_.status = ReturnStatus.SUBMITTED
        return_.submitted_at = datetime(2026, 1, 20, 14, 5)
        return_.submitted_by_id = editor.id
        db.session.commit()
        report = reminders.notify_return_submitted(return_).result()
    assert (report.sent, report.failed) == (1, [])
    [message] = mail_to(app)
    assert message["To"] == "dass@leeds.example"
    assert message["Subject"] == "Leeds's 2025-26 Q3 return is ready for sign-off"
    body = mail_body(message)
    assert body.startswith("Dear Dana,")
    assert (
        "Eddie has submitted the 2025-26 Q3 return for Leeds City Council on 20 January 2026 "
        "at 14:05." in body
    )
    assert path_of(link_in(message)) == f"/councils/{LEEDS}/returns/2025-26-Q3"


def test_a_return_sent_back_before_its_email_goes_is_not_announced(app, people):
    """With Redis the email goes from a worker, a moment later: by then the return may be a
    draft again."""
    with app.app_context():
        open_small_period(codes=[LEEDS])
        return_ = db.session.scalar(select(Return))
        assert return_.status == ReturnStatus.DRAFT
        report = reminders.send_return_submitted(return_.id)
    assert (report.sent, report.failed) == (0, [])
    assert mail_to(app, "dass@leeds.example") == []


def test_the_return_link_opens_the_return_overview(app, people):
    with app.app_context():
        period = open_small_period(codes=[LEEDS])
        link = reminders.return_link(council_by_code(LEEDS), period)
    assert app.url_map.bind("localhost").match(path_of(link))[0] == reminders.RETURN_ENDPOINT
