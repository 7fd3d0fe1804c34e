"""Emails about returns: a period opens, its deadline is a week away, a return is submitted.

- :func:`notify_period_opened`: to every editor of every council given a return in the period.
- :func:`claim_due_reminders` then :func:`send_closing_reminder`: a week before a period closes,
  to the editors of councils whose return is still a draft. ``flask periods remind`` (run daily
  by cron) does both; ``Period.reminder_sent_at`` makes it happen once per period.
- :func:`notify_return_submitted`: to the council's approvers when an editor submits.

Emails go to people who have joined (accepted their invitation) and are not disabled. Links are
built on ``BASE_URL``, never on the request's host. Send after the change is committed: a failed
commit must not leave an email behind it. A message that cannot be sent is logged and counted,
and the others still go.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select, update

from tracker.accounts.services import link_to
from tracker.clock import utcnow
from tracker.domain.periods import label_to_url
from tracker.extensions import db
from tracker.mail import render_mail, send_mail
from tracker.models import (
    Council,
    Membership,
    Period,
    PeriodStatus,
    Return,
    ReturnStatus,
    Role,
    User,
)

log = logging.getLogger(__name__)

#: how long before a period's deadline the reminder goes
REMINDER_LEAD = timedelta(days=7)
#: the page a link in these emails opens: the council's return for the period
RETURN_ENDPOINT = "returns.overview"


@dataclass
class MailReport:
    """What one round of emails did."""

    sent: int = 0
    #: the addresses a message could not be sent to (each is logged)
    failed: list[str] = field(default_factory=list)


def _recipients(role: Role, council_ids: Iterable[int]) -> list[tuple[User, Council]]:
    """(person, council) for each joined, active holder of ``role`` in the councils."""
    ids = list(council_ids)
    if not ids:
        return []
    rows = db.session.execute(
        select(User, Council)
        .join(Membership, Membership.user_id == User.id)
        .join(Council, Council.id == Membership.council_id)
        .where(
            Membership.role == role,
            Membership.council_id.in_(ids),
            User.is_active.is_(True),
            User.password_hash.is_not(None),
        )
        .order_by(Council.short_name, User.email)
    ).all()
    return [(user, council) for user, council in rows]


def return_link(council: Council, period: Period) -> str:
    """An absolute link to the council's return for the period."""
    return link_to(
        RETURN_ENDPOINT, gss_code=council.gss_code, period_label=label_to_url(period.label)
    )


def _send(report: MailReport, to: str, subject: str, template: str, **context: object) -> None:
    try:
        send_mail(to, subject, render_mail(template, **context))
    except Exception:
        log.exception("could not send %s to %s", template, to)
        report.failed.append(to)
    else:
        report.sent += 1


def notify_period_opened(period: Period) -> MailReport:
    """Tell the editors of every council with a return in ``period`` that it is open."""
    council_ids = db.session.scalars(select(Return.council_id).where(Return.period_id == period.id))
    report = MailReport()
    for user, council in _recipients(Role.COUNCIL_EDITOR, council_ids):
        _send(
            report,
            user.email,
            f"{period.label} return open for {council.short_name}",
            "period_open.txt",
            user=user,
            council=council,
            period=period,
            link=return_link(council, period),
        )
    return report


def due_reminders(today: date) -> list[Period]:
    """Open periods whose deadline is within a week of ``today`` (and not past), not yet
    reminded."""
    return list(
        db.session.scalars(
            select(Period)
            .where(
                Period.status == PeriodStatus.OPEN,
                Period.reminder_sent_at.is_(None),
                Period.closes_on >= today,
                Period.closes_on <= today + REMINDER_LEAD,
            )
            .order_by(Period.closes_on, Period.id)
        )
    )


def claim_due_reminders(today: date) -> list[Period]:
    """Mark each period due a reminder as reminded, and return those this call marked.

    The mark is a conditional update, so two runs at once cannot both claim a period. The
    caller commits, then sends with :func:`send_closing_reminder`: the reminder goes at most
    once, even if sending then fails part-way (the failures are logged).
    """
    claimed = []
    now = utcnow()
    for period in due_reminders(today):
        result = db.session.execute(
            update(Period)
            .where(Period.id == period.id, Period.reminder_sent_at.is_(None))
            .values(reminder_sent_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            period.reminder_sent_at = now
            claimed.append(period)
    db.session.flush()
    return claimed


def send_closing_reminder(period: Period, *, today: date | None = None) -> MailReport:
    """Remind the editors of councils whose return for ``period`` is still a draft."""
    today = today or utcnow().date()
    council_ids = db.session.scalars(
        select(Return.council_id).where(
            Return.period_id == period.id, Return.status == ReturnStatus.DRAFT
        )
    )
    days_left = (period.closes_on - today).days
    report = MailReport()
    for user, council in _recipients(Role.COUNCIL_EDITOR, council_ids):
        _send(
            report,
            user.email,
            f"{period.label} return for {council.short_name} is due "
            f"{period.closes_on.strftime('%-d %B %Y')}",
            "period_closing.txt",
            user=user,
            council=council,
            period=period,
            days_left=days_left,
            link=return_link(council, period),
        )
    return report


def notify_return_submitted(return_: Return) -> MailReport:
    """Tell the council's approvers that ``return_`` has been submitted for sign-off.

    Call it after the submission is committed.
    """
    council, period = return_.council, return_.period
    submitter = db.session.get(User, return_.submitted_by_id) if return_.submitted_by_id else None
    report = MailReport()
    for user, _council in _recipients(Role.COUNCIL_APPROVER, [council.id]):
        _send(
            report,
            user.email,
            f"{council.short_name}'s {period.label} return is ready for sign-off",
            "return_submitted.txt",
            user=user,
            council=council,
            period=period,
            return_=return_,
            submitter=submitter,
            link=return_link(council, period),
        )
    return report
