"""Periods: UK financial-year quarters that national administrators open and close.

Opening a period gives every active council a draft return, carried forward from its latest
earlier return so that nobody re-types unchanged assessments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import JSON, func, insert, literal, select, true
from sqlalchemy.orm import aliased

from tracker.audit import record
from tracker.clock import uk_today, utcnow
from tracker.domain.periods import (
    PeriodError,
    days_from,
    long_date,
    parse_period_label,
    period_for,
    period_label,
    quarter_dates,
)
from tracker.extensions import db
from tracker.models import (
    ASSESSMENT_FIELDS,
    PRACTICE_FIELDS,
    Action,
    Assessment,
    AuditEvent,
    Council,
    Period,
    PeriodStatus,
    Return,
    ReturnStatus,
    User,
    assessment_evidence,
)

#: the fields an assessment carries into the next quarter's draft: its answers, and the practice
#: it shares (a council keeps sharing until it says otherwise)
CARRIED_FIELDS = (*ASSESSMENT_FIELDS, *PRACTICE_FIELDS)


def create_period(label: str, closes_on: date, *, actor: User | None) -> Period:
    """Add a period, not yet open.

    :raises PeriodError: if the label is malformed, the period exists or the deadline is
        before the quarter starts.
    """
    year, quarter = parse_period_label(label)
    label = period_label(year, quarter)
    if db.session.scalar(select(Period).where(Period.label == label)):
        raise PeriodError(f"{label} already exists")
    starts_on, ends_on = quarter_dates(year, quarter)
    if closes_on < starts_on:
        raise PeriodError("The deadline must be on or after the first day of the quarter")
    period = Period(
        year=year,
        quarter=quarter,
        label=label,
        starts_on=starts_on,
        ends_on=ends_on,
        closes_on=closes_on,
        status=PeriodStatus.UPCOMING,
    )
    db.session.add(period)
    db.session.flush()
    record(
        actor=actor,
        action="period.create",
        object_type="period",
        object_id=period.id,
        after={"label": label, "closes_on": closes_on.isoformat()},
    )
    return period


@dataclass
class OpenReport:
    returns_created: int = 0
    carried_forward: int = 0
    assessments_created: int = 0


def _latest_earlier_returns(period: Period) -> dict[int, int]:
    """council id → id of its latest return from a period before ``period``."""
    rows = db.session.execute(
        select(Return.council_id, Return.id, Period.year, Period.quarter)
        .join(Period, Return.period_id == Period.id)
        .where((Period.year * 4 + Period.quarter) < period.year * 4 + period.quarter)
    ).all()
    latest: dict[int, tuple[int, int]] = {}
    for council_id, return_id, year, quarter in rows:
        key = year * 4 + quarter
        if council_id not in latest or key > latest[council_id][0]:
            latest[council_id] = (key, return_id)
    return {council_id: return_id for council_id, (_key, return_id) in latest.items()}


#: text columns of an assessment that are never NULL: an action new since the last return starts
#: with them empty
_EMPTY_TEXT = (
    "not_applicable_reason",
    "narrative",
    "next_steps",
    "barrier_detail",
    "lead_officer",
    "co_production_how",
    "partners",
    "spend_types",
)


def _trackable_actions():
    """SQL: the actions every return assesses (not sub-items, not archived)."""
    return select(Action.id).where(Action.parent_id.is_(None), Action.archived_at.is_(None))


def open_period(period: Period, *, actor: User | None) -> OpenReport:
    """Open ``period`` and give every active council a draft return.

    Each draft is carried forward from the council's latest earlier return: its assessments
    are copied and marked carried forward until someone touches them, with the links to their
    evidence. Actions new since then start unassessed. Councils that already have a return for
    the period keep it.

    The assessments and evidence links are copied by three ``INSERT … SELECT`` statements,
    whatever the number of councils: 153 councils × 140 actions row by row through the ORM
    took seconds (docs/performance.md, "Opening a period").

    :raises PeriodError: if the period is already open or closed.
    """
    if period.status != PeriodStatus.UPCOMING:
        raise PeriodError(f"{period.label} is already {period.status}")
    now = utcnow()
    period.status = PeriodStatus.OPEN
    period.opened_at = now
    report = OpenReport()
    existing = set(
        db.session.scalars(select(Return.council_id).where(Return.period_id == period.id))
    )
    earlier = _latest_earlier_returns(period)
    council_ids = [
        council_id
        for council_id in db.session.scalars(
            select(Council.id).where(Council.is_active).order_by(Council.id)
        )
        if council_id not in existing
    ]
    if council_ids:
        db.session.execute(
            insert(Return),
            [
                {
                    "council_id": council_id,
                    "period_id": period.id,
                    "status": ReturnStatus.DRAFT,
                    "carried_from_id": earlier.get(council_id),
                    "created_at": now,
                }
                for council_id in council_ids
            ],
        )
        report.returns_created = len(council_ids)
        new_returns = select(Return.id, Return.carried_from_id).where(
            Return.period_id == period.id, Return.council_id.in_(council_ids)
        )
        report.carried_forward = _carry_assessments(new_returns.subquery())
        report.assessments_created = report.carried_forward + _start_assessments(
            new_returns.subquery()
        )
        _carry_evidence(new_returns.subquery())
    db.session.flush()
    record(
        actor=actor,
        action="period.open",
        object_type="period",
        object_id=period.id,
        before={"status": PeriodStatus.UPCOMING},
        after={"status": PeriodStatus.OPEN, "returns_created": report.returns_created},
    )
    return report


def _carry_assessments(new_returns) -> int:
    """Copy each trackable action's assessment from the return each new draft is carried from;
    return how many were copied."""
    previous = aliased(Assessment)
    columns = ["return_id", "action_id", "is_carried_forward", "version_id", *CARRIED_FIELDS]
    rows = (
        select(
            new_returns.c.id,
            previous.action_id,
            literal(True),
            literal(1),
            *(getattr(previous, name) for name in CARRIED_FIELDS),
        )
        .join(previous, previous.return_id == new_returns.c.carried_from_id)
        .where(previous.action_id.in_(_trackable_actions()))
    )
    # preserve_rowcount: psycopg's cursor has forgotten the count once SQLAlchemy closes it.
    result = db.session.execute(
        insert(Assessment.__table__)
        .from_select(columns, rows)
        .execution_options(preserve_rowcount=True)
    )
    return max(result.rowcount, 0)


def _start_assessments(new_returns) -> int:
    """An unassessed assessment of each trackable action the new draft has not carried
    forward; return how many were made."""
    previous = aliased(Assessment)
    carried = (
        select(previous.id)
        .where(
            previous.return_id == new_returns.c.carried_from_id,
            previous.action_id == Action.id,
        )
        .exists()
    )
    blank = {name: literal("") for name in _EMPTY_TEXT} | {"barriers": literal([], JSON)}
    columns = ["return_id", "action_id", "is_carried_forward", "version_id", *blank]
    rows = (
        select(new_returns.c.id, Action.id, literal(False), literal(1), *blank.values())
        .select_from(new_returns)
        .join(Action, true())
        .where(Action.parent_id.is_(None), Action.archived_at.is_(None), ~carried)
    )
    result = db.session.execute(
        insert(Assessment.__table__)
        .from_select(columns, rows)
        .execution_options(preserve_rowcount=True)
    )
    return max(result.rowcount, 0)


def _carry_evidence(new_returns) -> None:
    """Link each carried-forward assessment to the evidence its predecessor had."""
    previous, current = aliased(Assessment), aliased(Assessment)
    rows = (
        select(current.id, assessment_evidence.c.evidence_id)
        .select_from(new_returns)
        .join(current, current.return_id == new_returns.c.id)
        .join(
            previous,
            (previous.return_id == new_returns.c.carried_from_id)
            & (previous.action_id == current.action_id),
        )
        .join(assessment_evidence, assessment_evidence.c.assessment_id == previous.id)
    )
    db.session.execute(
        insert(assessment_evidence).from_select(["assessment_id", "evidence_id"], rows)
    )


@dataclass
class ClosingCheck:
    """Where a period's returns stand when someone asks to close it."""

    summary: PeriodSummary
    #: the UK date the check was made on
    today: date

    @property
    def period(self) -> Period:
        return self.summary.period

    @property
    def is_early(self) -> bool:
        """True until the end of the due date: councils may still submit on the day itself."""
        return self.today <= self.period.closes_on

    @property
    def waiting_for_sign_off(self) -> int:
        return self.summary.submitted - self.summary.signed_off

    @property
    def when_due(self) -> str:
        """ "25 days from now", "today", "3 days ago"."""
        return days_from(self.period.closes_on, self.today)

    @property
    def due(self) -> str:
        """ "2026-27 Q3 is due on 31 January 2027, 25 days from now" (or "was due …")."""
        verb = "is" if self.is_early else "was"
        return (
            f"{self.period.label} {verb} due on {long_date(self.period.closes_on)}, {self.when_due}"
        )

    @property
    def where_returns_stand(self) -> str:
        """ "135 of 153 returns are still drafts and 9 are waiting for sign-off"."""
        drafts, waiting, returns = (
            self.summary.drafts,
            self.waiting_for_sign_off,
            self.summary.returns,
        )
        return (
            f"{drafts:,} of {returns:,} {'return' if returns == 1 else 'returns'} "
            f"{'is still a draft' if drafts == 1 else 'are still drafts'} and {waiting:,} "
            f"{'is' if waiting == 1 else 'are'} waiting for sign-off"
        )


class EarlyCloseRefused(PeriodError):
    """Closing before the due date was asked for without confirming it."""

    def __init__(self, check: ClosingCheck) -> None:
        self.check = check
        super().__init__(
            f"{check.due}. {check.where_returns_stand}. Confirm that you want to close it before "
            "it is due"
        )


def check_closing(period: Period, *, today: date | None = None) -> ClosingCheck:
    """Where the returns of ``period`` stand, and whether closing it now would be early."""
    return ClosingCheck(summarise_period(period), today or uk_today())


def close_period(
    period: Period,
    *,
    actor: User | None,
    confirm_early: bool = False,
    today: date | None = None,
) -> ClosingCheck:
    """Close ``period``: its returns become read-only.

    Until the end of its due date (UK time) councils may still be finishing their returns, so
    closing needs ``confirm_early``; the audit event then records what was cut short.

    :returns: where the returns stood when it closed.
    :raises EarlyCloseRefused: if it is not yet past the due date and ``confirm_early`` is
        False (nothing changes).
    :raises PeriodError: if the period is not open.
    """
    if period.status != PeriodStatus.OPEN:
        raise PeriodError(f"{period.label} is not open")
    check = check_closing(period, today=today)
    if check.is_early and not confirm_early:
        raise EarlyCloseRefused(check)
    period.status = PeriodStatus.CLOSED
    period.closed_at = utcnow()
    db.session.flush()
    after: dict[str, object] = {"status": PeriodStatus.CLOSED}
    if check.is_early:
        after |= {
            "closed_early": True,
            "closes_on": period.closes_on.isoformat(),
            "drafts": check.summary.drafts,
            "waiting_for_sign_off": check.waiting_for_sign_off,
        }
    record(
        actor=actor,
        action="period.close",
        object_type="period",
        object_id=period.id,
        before={"status": PeriodStatus.OPEN},
        after=after,
    )
    return check


#: the longest reason for reopening a period
MAX_REOPEN_REASON = 1000


def reopen_period(period: Period, reason: str, *, actor: User | None) -> Period:
    """Open a closed period again, saying why.

    Its returns are not touched: drafts stay drafts and can be changed and submitted again;
    submitted and signed-off returns keep their status (an approver reopens one of those as
    usual). The reason is kept in the audit trail (``period.reopen``), where the period's page
    reads its history.

    :raises PeriodError: if the period is not closed, or the reason is empty or longer than
        :data:`MAX_REOPEN_REASON` characters.
    """
    if period.status != PeriodStatus.CLOSED:
        raise PeriodError(f"{period.label} is not closed")
    reason = (reason or "").strip()
    if not reason:
        raise PeriodError(f"Enter why you are reopening {period.label}")
    if len(reason) > MAX_REOPEN_REASON:
        raise PeriodError(f"The reason must be {MAX_REOPEN_REASON:,} characters or fewer")
    closed_at = period.closed_at
    period.status = PeriodStatus.OPEN
    period.closed_at = None
    db.session.flush()
    record(
        actor=actor,
        action="period.reopen",
        object_type="period",
        object_id=period.id,
        before={
            "status": PeriodStatus.CLOSED,
            "closed_at": closed_at.isoformat() if closed_at else None,
        },
        after={"status": PeriodStatus.OPEN, "reason": reason},
    )
    return period


# -- what the period administration pages show -------------------------------------------------


@dataclass
class PeriodSummary:
    """A period with counts of its returns."""

    period: Period
    returns: int = 0
    #: submitted or signed off: handed in by the council
    submitted: int = 0
    signed_off: int = 0

    @property
    def drafts(self) -> int:
        return self.returns - self.submitted


def list_periods() -> list[PeriodSummary]:
    """Every period, latest first, with counts of its returns (one grouped query)."""
    periods = db.session.scalars(select(Period).order_by(Period.year.desc(), Period.quarter.desc()))
    summaries = {period.id: PeriodSummary(period) for period in periods}
    rows = db.session.execute(
        select(Return.period_id, Return.status, func.count()).group_by(
            Return.period_id, Return.status
        )
    )
    for period_id, status, count in rows:
        summary = summaries.get(period_id)
        if summary is None:
            continue
        summary.returns += count
        if status in (ReturnStatus.SUBMITTED, ReturnStatus.SIGNED_OFF):
            summary.submitted += count
        if status == ReturnStatus.SIGNED_OFF:
            summary.signed_off += count
    return list(summaries.values())


def summarise_period(period: Period) -> PeriodSummary:
    """One period with counts of its returns."""
    summary = PeriodSummary(period)
    for status, count in db.session.execute(
        select(Return.status, func.count())
        .where(Return.period_id == period.id)
        .group_by(Return.status)
    ):
        summary.returns += count
        if status in (ReturnStatus.SUBMITTED, ReturnStatus.SIGNED_OFF):
            summary.submitted += count
        if status == ReturnStatus.SIGNED_OFF:
            summary.signed_off += count
    return summary


@dataclass
class OpenPreview:
    """What :func:`open_period` would do now."""

    #: active councils that would get a draft return
    councils: int
    #: of those, how many have an earlier return to carry forward
    carried_forward: int
    #: actions each draft has
    actions: int


def preview_open(period: Period) -> OpenPreview:
    """What opening ``period`` would do, changing nothing."""
    existing = select(Return.council_id).where(Return.period_id == period.id)
    council_ids = set(
        db.session.scalars(select(Council.id).where(Council.is_active, Council.id.not_in(existing)))
    )
    earlier = _latest_earlier_returns(period)
    actions = db.session.scalar(
        select(func.count())
        .select_from(Action)
        .where(Action.parent_id.is_(None), Action.archived_at.is_(None))
    )
    return OpenPreview(
        councils=len(council_ids),
        carried_forward=len(council_ids & set(earlier)),
        actions=actions or 0,
    )


def next_period_label() -> str:
    """The quarter after the latest period, or the current quarter when there is none."""
    latest = db.session.execute(
        select(Period.year, Period.quarter).order_by(Period.year.desc(), Period.quarter.desc())
    ).first()
    if latest is None:
        return period_label(*period_for(uk_today()))
    year, quarter = latest
    return period_label(year + quarter // 4, quarter % 4 + 1)


#: what each audited change of a period is called on its page
HISTORY_WORDS = {
    "period.create": "Created",
    "period.open": "Opened",
    "period.close": "Closed",
    "period.reopen": "Reopened",
    "period.remind": "Reminder sent",
}


@dataclass(frozen=True)
class PeriodEvent:
    """One change of a period, from the audit trail."""

    #: UTC, as stored
    at: datetime
    action: str
    #: the person's name, or None for the command line
    actor: str | None
    before: dict | None
    after: dict | None

    @property
    def words(self) -> str:
        return HISTORY_WORDS.get(self.action, self.action)

    @property
    def reason(self) -> str:
        return str((self.after or {}).get("reason") or "")

    @property
    def details(self) -> str:
        """The reason for reopening, or what the change did, in words."""
        after = self.after or {}
        if self.action == "period.reopen":
            return self.reason
        if self.action == "period.open" and "returns_created" in after:
            count = int(after["returns_created"])
            return f"{count:,} draft {'return' if count == 1 else 'returns'}"
        if self.action == "period.close" and after.get("closed_early"):
            drafts, waiting = int(after["drafts"]), int(after["waiting_for_sign_off"])
            return (
                f"Before the due date, with {drafts:,} {'draft' if drafts == 1 else 'drafts'} "
                f"and {waiting:,} waiting for sign-off"
            )
        if self.action == "period.remind":
            people, councils = int(after.get("people", 0)), int(after.get("councils", 0))
            return (
                f"To {people:,} {'person' if people == 1 else 'people'} in {councils:,} "
                f"{'council' if councils == 1 else 'councils'}"
            )
        return ""


def period_history(period: Period) -> list[PeriodEvent]:
    """What has happened to ``period``, oldest first: created, opened, closed, reopened (with
    the reason) and reminders sent by hand, as the audit trail recorded them."""
    rows = db.session.execute(
        select(AuditEvent, User.display_name)
        .outerjoin(User, AuditEvent.actor_id == User.id)
        .where(
            AuditEvent.object_type == "period",
            AuditEvent.object_id == str(period.id),
            AuditEvent.action.in_(list(HISTORY_WORDS)),
        )
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    return [
        PeriodEvent(event.at, event.action, name, event.before, event.after) for event, name in rows
    ]
