"""Emails about returns: a period opens, its deadline is a week away, a return is submitted.

- :func:`notify_period_opened`: to every editor of every council given a return in the period.
- :func:`claim_due_reminders` then :func:`send_closing_reminder`: a week before a period closes,
  to the editors of councils whose return is still a draft. :func:`send_due_reminders` does both,
  for the scheduler's daily job (``tracker.background.schedule``) and for ``flask periods
  remind``; ``Period.reminder_sent_at`` makes it happen once per period.
- :func:`claim_reminder_now` then :func:`send_closing_reminder`: the same reminder, sent by a
  national administrator from the period's page ("Send a reminder now"), at most once an hour
  per period (:mod:`tracker.throttle`). :func:`list_waiting_councils` is who it goes to.
- :func:`notify_return_submitted`: to the council's approvers when an editor submits, through
  the task ``mail.return_submitted`` (:func:`send_return_submitted`).

Emails go to people who have joined (accepted their invitation) and are not disabled. Links are
built on ``BASE_URL``, never on the request's host. Send after the change is committed: a failed
commit must not leave an email behind it. A message that cannot be sent is logged and counted,
and the others still go.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, select, update

from tracker import throttle
from tracker.accounts.services import link_to
from tracker.audit import record
from tracker.background import submit_after_commit, task
from tracker.clock import to_uk, uk_today, utcnow
from tracker.domain.periods import label_to_url
from tracker.extensions import db
from tracker.mail import render_mail, send_mail
from tracker.models import (
    Assessment,
    Council,
    Membership,
    Period,
    PeriodStatus,
    Region,
    Return,
    ReturnStatus,
    Role,
    User,
)
from tracker.returns.queries import complete_condition

log = logging.getLogger(__name__)

#: how long before a period's deadline the reminder goes
REMINDER_LEAD = timedelta(days=7)
#: the page a link in these emails opens: the council's return for the period
RETURN_ENDPOINT = "returns.overview"
#: a national administrator may send a period's reminder by hand once in this time
REMINDER_NOW_INTERVAL = timedelta(hours=1)


@dataclass
class MailReport:
    """What one round of emails did."""

    sent: int = 0
    #: the addresses a message could not be sent to (each is logged)
    failed: list[str] = field(default_factory=list)
    #: the councils at least one message went to
    councils: set[int] = field(default_factory=set)


def _reachable():
    """SQL: the membership's person has joined (accepted their invitation) and is not
    disabled: the people these emails go to."""
    return and_(User.is_active.is_(True), User.password_hash.is_not(None))


def _recipients(role: Role, council_ids: Iterable[int]) -> list[tuple[User, Council]]:
    """(person, council) for each joined, active holder of ``role`` in the councils."""
    ids = list(council_ids)
    if not ids:
        return []
    rows = db.session.execute(
        select(User, Council)
        .join(Membership, Membership.user_id == User.id)
        .join(Council, Council.id == Membership.council_id)
        .where(Membership.role == role, Membership.council_id.in_(ids), _reachable())
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
        council = context.get("council")
        if isinstance(council, Council):
            report.councils.add(council.id)


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


def send_due_reminders(today: date) -> list[tuple[Period, MailReport]]:
    """Claim the periods due their reminder on ``today`` and send each one's reminder.

    The claim is committed before anything is sent, so that a second run, even at the same
    time on another node, finds nothing to send. The caller need not commit.

    :returns: each period reminded, with what sending its reminder did.
    """
    periods = claim_due_reminders(today)
    db.session.commit()
    return [(period, send_closing_reminder(period, today=today)) for period in periods]


def _draft_council_ids(period: Period) -> list[int]:
    return list(
        db.session.scalars(
            select(Return.council_id).where(
                Return.period_id == period.id, Return.status == ReturnStatus.DRAFT
            )
        )
    )


def send_closing_reminder(period: Period, *, today: date | None = None) -> MailReport:
    """Remind the editors of councils whose return for ``period`` is still a draft.

    :param today: the UK date the reminder is sent on (by default, today).
    """
    today = today or uk_today()
    council_ids = _draft_council_ids(period)
    days_left = (period.closes_on - today).days
    report = MailReport()
    for user, council in _recipients(Role.COUNCIL_EDITOR, council_ids):
        _send(
            report,
            user.email,
            f"{period.label} return for {council.short_name} "
            f"{'was' if days_left < 0 else 'is'} due {period.closes_on.strftime('%-d %B %Y')}",
            "period_closing.txt",
            user=user,
            council=council,
            period=period,
            days_left=days_left,
            link=return_link(council, period),
        )
    return report


#: what became of a round of emails asked for from a page: sent at once (no ``REDIS_URL``), so
#: its :class:`MailReport`; queued for a worker, so its RQ job id; or None when it could not be
#: queued (logged)
MailOutcome = MailReport | str | None


def _by_mail_queue(name: str, object_id: int) -> MailOutcome:
    outcome = submit_after_commit(name, object_id, queue="mail")
    return outcome.result() if isinstance(outcome, Future) else outcome


def queue_period_opened(period: Period) -> MailOutcome:
    """:func:`notify_period_opened` on the "mail" queue: an administrator opening a quarter does
    not wait while hundreds of editors are emailed. Call after the opening is committed."""
    return _by_mail_queue("mail.period_opened", period.id)


def queue_closing_reminder(period: Period) -> MailOutcome:
    """:func:`send_closing_reminder` on the "mail" queue, for "Send a reminder now". Call after
    the claim is committed."""
    return _by_mail_queue("mail.closing_reminder", period.id)


@task("mail.period_opened")
def _send_period_opened(period_id: int) -> MailReport:
    period = db.session.get(Period, period_id)
    return notify_period_opened(period) if period is not None else MailReport()


@task("mail.closing_reminder")
def _send_closing_reminder(period_id: int) -> MailReport:
    period = db.session.get(Period, period_id)
    return send_closing_reminder(period) if period is not None else MailReport()


def notify_return_submitted(return_: Return) -> Future | str | None:
    """Tell the council's approvers that ``return_`` has been submitted for sign-off: on the
    "mail" queue with ``REDIS_URL``; without it, at once, in the request, as the only server
    always did (``tracker.background.INLINE_WITHOUT_REDIS``).

    Call it after the submission is committed: the task reads the return afresh.

    :returns: the RQ job id, or the done future whose result is the :class:`MailReport`; None
        when it could not be queued (logged: the submission stands).
    """
    return submit_after_commit("mail.return_submitted", return_.id, queue="mail")


@task("mail.return_submitted")
def send_return_submitted(return_id: int) -> MailReport:
    """The email :func:`notify_return_submitted` queues, to each approver of the return's
    council. Nothing is sent if, by the time a worker reaches it, the return has gone or is a
    draft again (sent back): the approver would be asked to sign off what is not there."""
    report = MailReport()
    return_ = db.session.get(Return, return_id)
    if return_ is None or return_.status == ReturnStatus.DRAFT:
        return report
    council, period = return_.council, return_.period
    submitter = db.session.get(User, return_.submitted_by_id) if return_.submitted_by_id else None
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


# -- the reminder a national administrator sends by hand ----------------------------------------


@dataclass(frozen=True)
class WaitingCouncil:
    """A council whose return for the period is still a draft."""

    name: str
    gss_code: str
    #: actions reviewed this quarter and complete (carried-forward answers not yet checked do
    #: not count: PRODUCT.md, "Review state")
    assessed: int
    #: actions in the return
    actions: int
    #: joined, active editors: the people a reminder goes to
    editors: int


@dataclass(frozen=True)
class WaitingRegion:
    """The councils of one ADASS region whose return is still a draft."""

    name: str
    councils: list[WaitingCouncil]


def list_waiting_councils(period: Period) -> list[WaitingRegion]:
    """Councils whose return for ``period`` is a draft, by region (regions and councils in
    alphabetical order): one query, whatever the number of councils."""
    editors = (
        select(func.count(Membership.id))
        .join(User, Membership.user_id == User.id)
        .where(
            Membership.council_id == Council.id,
            Membership.role == Role.COUNCIL_EDITOR,
            _reachable(),
        )
        .scalar_subquery()
    )
    reviewed = and_(Assessment.is_carried_forward.is_(False), complete_condition())
    rows = db.session.execute(
        select(
            Region.name,
            Council.name,
            Council.gss_code,
            func.coalesce(func.sum(case((reviewed, 1), else_=0)), 0),
            func.count(Assessment.id),
            editors,
        )
        .select_from(Return)
        .join(Council, Return.council_id == Council.id)
        .join(Region, Council.region_id == Region.id)
        .outerjoin(Assessment, Assessment.return_id == Return.id)
        .where(Return.period_id == period.id, Return.status == ReturnStatus.DRAFT)
        .group_by(Region.name, Council.id, Council.name, Council.gss_code)
        .order_by(Region.name, Council.name)
    )
    regions: dict[str, list[WaitingCouncil]] = {}
    for region, name, gss_code, assessed, actions, editor_count in rows:
        regions.setdefault(region, []).append(
            WaitingCouncil(name, gss_code, int(assessed), int(actions), int(editor_count))
        )
    return [WaitingRegion(name, councils) for name, councils in regions.items()]


class ReminderRefused(Exception):
    """A reminder cannot be sent now; the message says why (and when it can)."""


def reminder_now_limit(period: Period) -> throttle.Limit:
    """One reminder by hand per period in :data:`REMINDER_NOW_INTERVAL`."""
    return throttle.Limit(f"period-reminder:{period.id}", 1, REMINDER_NOW_INTERVAL)


def next_reminder_at(period: Period) -> datetime | None:
    """When the period's reminder may next be sent by hand (UTC), or None when it may now."""
    wait = throttle.retry_after(reminder_now_limit(period))
    return None if wait is None else utcnow() + timedelta(seconds=wait)


@dataclass(frozen=True)
class ReminderClaim:
    """Who a claimed reminder is for."""

    councils: int
    people: int
    #: councils with a draft whose editors nobody can email (none has joined)
    councils_without_editors: int


def claim_reminder_now(period: Period, *, actor: User | None) -> ReminderClaim:
    """Claim the period's reminder by hand and audit it (``period.remind``).

    The claim counts against :func:`reminder_now_limit` in the caller's transaction (or in
    Redis): the caller commits, then sends with :func:`send_closing_reminder`, so that two
    presses of the button, even at the same moment, send one reminder.

    :raises ReminderRefused: if the period is not open, every council has submitted, or a
        reminder was sent by hand less than :data:`REMINDER_NOW_INTERVAL` ago.
    """
    if period.status != PeriodStatus.OPEN:
        raise ReminderRefused(f"{period.label} is not open: there is nobody to remind")
    council_ids = _draft_council_ids(period)
    if not council_ids:
        raise ReminderRefused(f"Every council has submitted its {period.label} return")
    limit = reminder_now_limit(period)
    # The count is read and raised in one statement, so two presses cannot both see none.
    if throttle.hit(limit.key, limit.window) > limit.limit:
        wait = throttle.retry_after(limit) or 1
        when = to_uk(utcnow() + timedelta(seconds=wait))
        minutes = -(-wait // 60)
        raise ReminderRefused(
            f"A reminder for {period.label} was sent less than an hour ago. You can send "
            f"another in {minutes} minute{'s' if minutes != 1 else ''}, at {when:%H:%M}"
        )
    recipients = _recipients(Role.COUNCIL_EDITOR, council_ids)
    reached = {council.id for _user, council in recipients}
    claim = ReminderClaim(
        councils=len(reached),
        people=len(recipients),
        councils_without_editors=len(set(council_ids) - reached),
    )
    record(
        actor=actor,
        action="period.remind",
        object_type="period",
        object_id=period.id,
        after={
            "drafts": len(council_ids),
            "councils": claim.councils,
            "people": claim.people,
        },
    )
    return claim
