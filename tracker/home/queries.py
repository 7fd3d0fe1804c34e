"""What the "Your work" page reads: one part per membership, in a bounded number of queries.

Every figure is computed in SQL with GROUP BY over all of the person's councils or regions at
once, never a query per council: a national administrator's page counts 153 councils' returns
in one statement. Who may see or name what is asked of :mod:`tracker.domain.visibility`, and
what may happen next to a return of :mod:`tracker.domain.workflow`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import contains_eager

from tracker.clock import to_uk
from tracker.domain import visibility, workflow
from tracker.domain.periods import days_left, days_waited, long_date, months
from tracker.domain.principal import Principal
from tracker.domain.workflow import Step
from tracker.extensions import db
from tracker.models import Council, Period, PeriodStatus, Region, Return, ReturnStatus, Role
from tracker.panels import services as panels
from tracker.returns import queries as returns

#: where a council's return for the open period stands, as the counts and lists group it
SIGNED_OFF, SUBMITTED, NOT_SUBMITTED = "signed-off", "submitted", "not-submitted"
STATE_NAMES = {
    SUBMITTED: "Submitted, waiting for sign-off",
    SIGNED_OFF: "Signed off",
    NOT_SUBMITTED: "Not yet submitted",
}
STATES = tuple(STATE_NAMES)


def state_of(status: str | None) -> str:
    """The list a council belongs in, from its return's status (None: it has no return)."""
    if status == ReturnStatus.SIGNED_OFF:
        return SIGNED_OFF
    if status == ReturnStatus.SUBMITTED:
        return SUBMITTED
    return NOT_SUBMITTED


# -- periods ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodNote:
    """A period as the page says it: "October to December 2026", due "31 January 2027"."""

    period: Period
    months: str
    due: str
    #: "55 days left", "due today", "3 days late"
    days_left: str
    is_late: bool


def _note(period: Period, today: date) -> PeriodNote:
    return PeriodNote(
        period=period,
        months=months(period.label),
        due=long_date(period.closes_on),
        days_left=days_left(period.closes_on, today),
        is_late=period.closes_on < today,
    )


def get_open_period() -> Period | None:
    """The latest open period, or None when no period is open."""
    return db.session.scalar(
        select(Period)
        .where(Period.status == PeriodStatus.OPEN)
        .order_by(Period.year.desc(), Period.quarter.desc())
        .limit(1)
    )


def _next_period() -> Period | None:
    return db.session.scalar(
        select(Period)
        .where(Period.status == PeriodStatus.UPCOMING)
        .order_by(Period.year, Period.quarter)
        .limit(1)
    )


# -- the parts of the page ---------------------------------------------------------------------


@dataclass(frozen=True)
class EditorPart:
    """A council the person edits, and its return for the open period."""

    council: Council
    #: None when there is no open period, or the council has no return for it
    return_: Return | None = None
    counts: returns.ReturnCounts | None = None
    #: the steps the person may take now (``workflow.allowed_steps``)
    steps: frozenset[Step] = frozenset()
    #: sent back or reopened: the approver's words
    note: returns.WorkflowNote | None = None
    #: panel comments awaiting an answer (editors answer them)
    awaiting: panels.AwaitingCount | None = None
    awaiting_waited: str = ""

    @property
    def refusal(self) -> str | None:
        """What stops the return being submitted, or None."""
        return self.counts.refusal if self.counts else None


@dataclass(frozen=True)
class SignOffPart:
    """A submitted return waiting for an approver's sign-off."""

    council: Council
    return_: Return
    months: str
    #: "12 days", "since today"
    waited: str
    #: why this person may not sign it off now (``workflow.refusal``), or None
    refusal: str | None


@dataclass(frozen=True)
class ApproverPart:
    """A council the person signs off for, and its returns waiting for them."""

    council: Council
    waiting: list[SignOffPart] = field(default_factory=list)
    #: the open period's return, when nothing waits (to say where it stands)
    current: Return | None = None


@dataclass(frozen=True)
class PanelPart:
    """A council whose co-production panel the person sits on."""

    council: Council
    written: int = 0
    answered: int = 0


@dataclass(frozen=True)
class StateCounts:
    """How many councils of a region (or of England) stand in each state for the open period."""

    region: Region | None
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def items(self) -> list[tuple[str, str, int]]:
        """(state, label, count) in the order the page lists them."""
        return [(state, STATE_NAMES[state], self.counts.get(state, 0)) for state in STATES]


@dataclass
class YourWork:
    """Everything the "Your work" page shows, one part per thing the person holds."""

    today: date
    open_period: PeriodNote | None
    next_period: PeriodNote | None
    editing: list[EditorPart] = field(default_factory=list)
    approving: list[ApproverPart] = field(default_factory=list)
    viewing: list[Council] = field(default_factory=list)
    panels: list[PanelPart] = field(default_factory=list)
    regions: list[StateCounts] = field(default_factory=list)
    #: national administrators: every region, then England
    national: list[StateCounts] = field(default_factory=list)
    england: StateCounts | None = None

    @property
    def holds_nothing(self) -> bool:
        return not (
            self.editing
            or self.approving
            or self.viewing
            or self.panels
            or self.regions
            or self.england
        )


def _councils(ids: Iterable[int]) -> dict[int, Council]:
    ids = sorted(set(ids))
    if not ids:
        return {}
    return {
        c.id: c
        for c in db.session.scalars(
            select(Council).where(Council.id.in_(ids)).order_by(Council.name)
        )
    }


def _open_returns(period: Period | None, council_ids: Iterable[int]) -> dict[int, Return]:
    """Council id → its return for ``period`` (one query)."""
    ids = sorted(set(council_ids))
    if period is None or not ids:
        return {}
    return {
        r.council_id: r
        for r in db.session.scalars(
            select(Return).where(Return.period_id == period.id, Return.council_id.in_(ids))
        )
    }


def _waited(at: datetime, today: date) -> str:
    return days_waited(to_uk(at).date(), today)


def state_counts(period: Period, region_ids: Iterable[int] | None) -> list[StateCounts]:
    """Per region (all regions when ``region_ids`` is None), its active councils by where
    their return for ``period`` stands. One grouped query; regions in alphabetical order."""
    query = select(Region).order_by(Region.name)
    if region_ids is not None:
        query = query.where(Region.id.in_(sorted(set(region_ids))))
    regions = list(db.session.scalars(query))
    counts: dict[int, dict[str, int]] = {r.id: {} for r in regions}
    if not regions:
        return []
    rows = db.session.execute(
        select(Council.region_id, Return.status, func.count(Council.id))
        .select_from(Council)
        .outerjoin(Return, and_(Return.council_id == Council.id, Return.period_id == period.id))
        .where(Council.is_active, Council.region_id.in_(list(counts)))
        .group_by(Council.region_id, Return.status)
    )
    for region_id, status, count in rows:
        state = state_of(status)
        counts[region_id][state] = counts[region_id].get(state, 0) + int(count)
    return [StateCounts(region, counts[region.id]) for region in regions]


def get_your_work(principal: Principal, *, today: date) -> YourWork:
    """What ``principal`` holds and where each of those things stands today.

    About a dozen queries whatever the number of councils, regions or actions; one more per
    council the person edits whose return was sent back or reopened (the approver's note).
    """
    period = get_open_period()
    next_period = None if period else _next_period()
    work = YourWork(
        today=today,
        open_period=_note(period, today) if period else None,
        next_period=_note(next_period, today) if next_period else None,
    )
    editor_ids = principal.council_ids((Role.COUNCIL_EDITOR,))
    approver_ids = principal.council_ids((Role.COUNCIL_APPROVER,))
    viewer_ids = principal.council_ids((Role.COUNCIL_VIEWER,))
    panel_ids = principal.council_ids((Role.PANEL_MEMBER,))
    councils = _councils(editor_ids | approver_ids | viewer_ids | panel_ids)
    in_order = list(councils)  # by name

    current = _open_returns(period, editor_ids | approver_ids)
    counts = returns.count_by_return(r.id for c, r in current.items() if c in editor_ids)
    awaiting = panels.count_awaiting_by_council(editor_ids)
    for council_id in (c for c in in_order if c in editor_ids):
        return_ = current.get(council_id)
        waiting = awaiting.get(council_id)
        work.editing.append(
            EditorPart(
                council=councils[council_id],
                return_=return_,
                counts=counts.get(return_.id) if return_ else None,
                steps=workflow.allowed_steps(principal, return_) if return_ else frozenset(),
                note=(
                    returns.get_workflow_note(return_)
                    if return_
                    and visibility.may_read_workflow_notes(principal, councils[council_id], return_)
                    and (return_.returned_comment or return_.reopen_reason)
                    else None
                ),
                awaiting=waiting,
                awaiting_waited=_waited(waiting.oldest_at, today) if waiting else "",
            )
        )

    if approver_ids:
        submitted = db.session.scalars(
            select(Return)
            .join(Period, Period.id == Return.period_id)
            .options(contains_eager(Return.period))
            .where(
                Return.council_id.in_(sorted(approver_ids)),
                Return.status == ReturnStatus.SUBMITTED,
            )
            .order_by(Return.submitted_at, Return.id)
        ).all()
        for council_id in (c for c in in_order if c in approver_ids):
            waiting_here = [
                SignOffPart(
                    council=councils[council_id],
                    return_=r,
                    months=months(r.period.label),
                    waited=_waited(r.submitted_at or r.created_at, today),
                    refusal=workflow.refusal(principal, r, Step.SIGN_OFF),
                )
                for r in submitted
                if r.council_id == council_id
            ]
            work.approving.append(
                ApproverPart(
                    council=councils[council_id],
                    waiting=waiting_here,
                    current=current.get(council_id),
                )
            )

    work.viewing = [councils[c] for c in in_order if c in viewer_ids]

    mine = panels.count_my_comments(principal.user, panel_ids)
    for council_id in (c for c in in_order if c in panel_ids):
        seat = mine.get(council_id)
        work.panels.append(
            PanelPart(
                council=councils[council_id],
                written=seat.written if seat else 0,
                answered=seat.answered if seat else 0,
            )
        )

    if period is not None:
        if principal.is_national_admin:
            work.national = state_counts(period, None)
            england: dict[str, int] = {}
            for part in work.national:
                for state, count in part.counts.items():
                    england[state] = england.get(state, 0) + count
            work.england = StateCounts(None, england)
            by_id = {part.region.id: part for part in work.national if part.region}
            work.regions = [by_id[r] for r in sorted(principal.region_ids()) if r in by_id]
        elif principal.region_ids():
            work.regions = state_counts(period, principal.region_ids())
    elif principal.is_national_admin:
        work.england = StateCounts(None, {})
    if period is None and principal.region_ids():
        work.regions = [
            StateCounts(region, {})
            for region in db.session.scalars(
                select(Region).where(Region.id.in_(sorted(principal.region_ids())))
            )
        ]
    return work


# -- a region's councils by where their return stands -------------------------------------------


@dataclass
class RegionList:
    """A region's active councils for the open period, by state, as the viewer may name them."""

    region: Region
    period: PeriodNote | None
    #: state → councils named to the viewer, by name
    named: dict[str, list[Council]] = field(default_factory=dict)
    #: state → how many councils there the viewer may not name (counted only)
    unnamed: dict[str, int] = field(default_factory=dict)

    def items(self) -> list[tuple[str, str, list[Council], int]]:
        """(state, label, named councils, unnamed count) in the page's order."""
        return [
            (state, STATE_NAMES[state], self.named.get(state, []), self.unnamed.get(state, 0))
            for state in STATES
        ]


def get_region_list(region: Region, principal: Principal, *, today: date) -> RegionList:
    """The region's councils by where their open-period return stands. Councils that keep
    their named returns to themselves are counted, never named (``visibility.may_name``).
    One query for the period, one for the councils and their returns."""
    period = get_open_period()
    listing = RegionList(region=region, period=_note(period, today) if period else None)
    if period is None:
        return listing
    rows = db.session.execute(
        select(Council, Return.status)
        .outerjoin(Return, and_(Return.council_id == Council.id, Return.period_id == period.id))
        .where(Council.region_id == region.id, Council.is_active)
        .order_by(Council.name)
    )
    for council, status in rows:
        state = state_of(status)
        if visibility.may_name(principal, council):
            listing.named.setdefault(state, []).append(council)
        else:
            listing.unnamed[state] = listing.unnamed.get(state, 0) + 1
    return listing
