"""Periods: UK financial-year quarters that national administrators open and close.

Opening a period gives every active council a draft return, carried forward from its latest
earlier return so that nobody re-types unchanged assessments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import JSON, func, insert, literal, select, true
from sqlalchemy.orm import aliased

from tracker.audit import record
from tracker.clock import utcnow
from tracker.domain.periods import (
    PeriodError,
    parse_period_label,
    period_for,
    period_label,
    quarter_dates,
)
from tracker.extensions import db
from tracker.models import (
    ASSESSMENT_FIELDS,
    Action,
    Assessment,
    Council,
    Period,
    PeriodStatus,
    Return,
    ReturnStatus,
    User,
    assessment_evidence,
)

#: the fields an assessment carries into the next quarter's draft
CARRIED_FIELDS = ASSESSMENT_FIELDS


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


def close_period(period: Period, *, actor: User | None) -> None:
    """Close ``period``: its returns become read-only.

    :raises PeriodError: if the period is not open.
    """
    if period.status != PeriodStatus.OPEN:
        raise PeriodError(f"{period.label} is not open")
    period.status = PeriodStatus.CLOSED
    period.closed_at = utcnow()
    db.session.flush()
    record(
        actor=actor,
        action="period.close",
        object_type="period",
        object_id=period.id,
        before={"status": PeriodStatus.OPEN},
        after={"status": PeriodStatus.CLOSED},
    )


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
        return period_label(*period_for(utcnow().date()))
    year, quarter = latest
    return period_label(year + quarter // 4, quarter % 4 + 1)
