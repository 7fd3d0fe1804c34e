"""What the return pages read: lists, the overview, one assessment, history, and comparisons.

Every function here only reads. Figures and comparisons come from a bounded number of queries,
whatever the number of actions: the overview of a return is one query for its assessments with
last quarter's answers joined beside them, not one per action.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased, contains_eager, selectinload

from tracker import search
from tracker.domain.periods import parse_period_slug, period_slug, target_passed
from tracker.domain.vocabulary import (
    ENABLERS,
    NO_RAG,
    NO_TIMEFRAME,
    NOT_ASSESSED,
    RAG_NAMES,
    RAG_ORDER,
    SPEND_NAMES,
    STAGE_NAMES,
    STAGE_ORDER,
    TIMEFRAMES,
    ReviewState,
    action_kinds,
    money,
)
from tracker.extensions import db
from tracker.models import (
    PRACTICE_FIELDS,
    Action,
    ActionArea,
    Assessment,
    AuditEvent,
    Council,
    Enabler,
    Period,
    Rag,
    Return,
    ReturnStatus,
    Stage,
    User,
    assessment_evidence,
)
from tracker.returns.services import (
    BARRIERS,
    EDITABLE_FIELDS,
    FUNDING_SOURCES,
    STAGES_NEEDING_RAG,
    BulkRefused,
    submission_refusal,
)

#: the shape of an action code ("A07.M01", "E02.03"); anything else is never sent to the database
ACTION_CODE = re.compile(r"^[A-Z0-9]{1,8}(?:\.[A-Z0-9]{1,8}){0,3}$")

_TIMEFRAME_ORDER = case(
    {code: index for index, code in enumerate(TIMEFRAMES)},
    value=Action.timeframe,
    else_=len(TIMEFRAMES),
)


# -- periods in URLs ------------------------------------------------------------------------------


def get_return_by_slug(council: Council, slug: str) -> Return | None:
    """The council's return for the period named in a URL, with its period loaded, or None."""
    parsed = parse_period_slug(slug)
    if parsed is None:
        return None
    year, quarter = parsed
    return db.session.scalar(
        select(Return)
        .join(Period, Return.period_id == Period.id)
        .options(contains_eager(Return.period))
        .where(Return.council_id == council.id, Period.year == year, Period.quarter == quarter)
    )


def complete_condition():
    """SQL: the assessment has what submission needs (as ``services.is_complete``)."""
    return and_(
        Assessment.stage.is_not(None),
        (Assessment.stage.not_in(list(STAGES_NEEDING_RAG))) | Assessment.rag.is_not(None),
        (Assessment.stage != Stage.NOT_APPLICABLE) | (Assessment.not_applicable_reason != ""),
    )


def _review_state():
    """SQL: the assessment's review state (as ``ReviewState.of``)."""
    return case(
        (
            Assessment.is_carried_forward.is_(False) & Assessment.updated_at.is_not(None),
            ReviewState.UPDATED.value,
        ),
        (Assessment.confirmed_at.is_not(None), ReviewState.CONFIRMED.value),
        else_=ReviewState.NOT_REVIEWED.value,
    )


def _count_where(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


@dataclass(frozen=True)
class ReviewCounts:
    """How many actions of a return are in each review state."""

    not_reviewed: int = 0
    confirmed: int = 0
    updated: int = 0

    @property
    def reviewed(self) -> int:
        return self.confirmed + self.updated

    @property
    def total(self) -> int:
        return self.not_reviewed + self.confirmed + self.updated

    def items(self) -> list[tuple[str, str, int]]:
        """(state, label, count) in the order of the scale."""
        return [(s.value, s.label, getattr(self, s.value)) for s in ReviewState]

    @classmethod
    def of(cls, states: Iterable[str]) -> ReviewCounts:
        counted = Counter(states)
        return cls(**{s.value: counted[s.value] for s in ReviewState})


def why_incomplete(stage: str | None, rag: str | None, reason: str | None) -> str | None:
    """What an assessment still needs before submission, or None when it is complete."""
    if stage is None:
        return "Select a stage"
    if stage in STAGES_NEEDING_RAG and not rag:
        return "Select a RAG rating"
    if stage == Stage.NOT_APPLICABLE and not reason:
        return "Give the reason it is not applicable"
    return None


# -- the council's returns ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReturnSummary:
    """One line of the list of a council's returns."""

    period: Period
    status: str
    #: reviewed this quarter and complete
    assessed: int
    total: int
    submitted_at: datetime | None
    signed_off_at: datetime | None
    reviews: ReviewCounts = ReviewCounts()

    @property
    def slug(self) -> str:
        return period_slug(self.period)


def list_council_returns(council: Council, *, include_drafts: bool) -> list[ReturnSummary]:
    """The council's returns, newest period first, with how many actions each has assessed.

    :param include_drafts: False for someone who may read only submitted and signed-off returns.
    """
    state = _review_state()
    reviewed = state != ReviewState.NOT_REVIEWED.value
    query = (
        select(
            Return,
            Period,
            _count_where(and_(complete_condition(), reviewed)).label("assessed"),
            func.count(Assessment.id),
            *(_count_where(state == s.value) for s in ReviewState),
        )
        .join(Period, Return.period_id == Period.id)
        .outerjoin(Assessment, Assessment.return_id == Return.id)
        .where(Return.council_id == council.id)
        .group_by(Return.id, Period.id)
        .order_by(Period.year.desc(), Period.quarter.desc())
    )
    if not include_drafts:
        query = query.where(Return.status != ReturnStatus.DRAFT)
    return [
        ReturnSummary(
            period=period,
            status=return_.status,
            assessed=int(assessed),
            total=int(total),
            submitted_at=return_.submitted_at,
            signed_off_at=return_.signed_off_at,
            reviews=ReviewCounts(*(int(n) for n in counts)),
        )
        for return_, period, assessed, total, *counts in db.session.execute(query)
    ]


@dataclass(frozen=True)
class ReturnCounts:
    """One return's actions by review state, and how many are incomplete."""

    reviews: ReviewCounts
    #: assessments that still need a stage, a RAG rating or a reason (``why_incomplete``)
    incomplete: int

    @property
    def refusal(self) -> str | None:
        """Why the return cannot be submitted yet, or None (``submission_refusal``)."""
        return submission_refusal(self.reviews.not_reviewed, self.incomplete)


def count_by_return(return_ids: Iterable[int]) -> dict[int, ReturnCounts]:
    """Return id → its actions by review state and how many are incomplete: the overview's
    figures for many returns in one grouped query (a return without assessments is absent)."""
    ids = sorted(set(return_ids))
    if not ids:
        return {}
    state = _review_state()
    rows = db.session.execute(
        select(
            Assessment.return_id,
            *(_count_where(state == s.value) for s in ReviewState),
            func.sum(case((complete_condition(), 0), else_=1)),
        )
        .where(Assessment.return_id.in_(ids))
        .group_by(Assessment.return_id)
    )
    return {
        return_id: ReturnCounts(ReviewCounts(*(int(n) for n in counts)), int(incomplete or 0))
        for return_id, *counts, incomplete in rows
    }


def latest_return_slug(council: Council, *, include_drafts: bool) -> str | None:
    """The URL form of the council's newest period with a return this person may read."""
    query = (
        select(Period.label)
        .join(Return, Return.period_id == Period.id)
        .where(Return.council_id == council.id)
        .order_by(Period.year.desc(), Period.quarter.desc())
        .limit(1)
    )
    if not include_drafts:
        query = query.where(Return.status != ReturnStatus.DRAFT)
    label = db.session.scalar(query)
    return period_slug(label) if label else None


def previous_return(return_: Return, *, include_drafts: bool) -> Return | None:
    """The council's return for the latest period before this one (with its period), or None."""
    period = return_.period
    query = (
        select(Return)
        .join(Period, Return.period_id == Period.id)
        .options(contains_eager(Return.period))
        .where(
            Return.council_id == return_.council_id,
            (Period.year * 4 + Period.quarter) < period.year * 4 + period.quarter,
        )
        .order_by(Period.year.desc(), Period.quarter.desc())
        .limit(1)
    )
    if not include_drafts:
        query = query.where(Return.status != ReturnStatus.DRAFT)
    return db.session.scalar(query)


# -- direction of travel --------------------------------------------------------------------------

IMPROVED, UNCHANGED, WORSENED = "improved", "unchanged", "worsened"
#: no comparison: unassessed then or now, or not applicable locally then or now
NOT_COMPARABLE = "not_comparable"
#: nothing to compare with: no earlier quarter, or the action is new since then
NO_EARLIER = "no_earlier"
DIRECTION_NAMES = {
    IMPROVED: "Improved",
    UNCHANGED: "Unchanged",
    WORSENED: "Worsened",
    NOT_COMPARABLE: "Not comparable",
    NO_EARLIER: "No earlier quarter",
}


def direction_of_travel(
    before: tuple[str | None, str | None] | None, now: tuple[str | None, str | None]
) -> str:
    """Compare (stage, RAG) now with (stage, RAG) ``before``.

    A later stage is an improvement and an earlier one a worsening (Not started < Planning <
    Implementing < Embedded). At the same stage, a better RAG (Red < Amber < Green) is an
    improvement. Not applicable locally, or no stage, is not comparable.
    """
    if before is None:
        return NO_EARLIER
    (stage_before, rag_before), (stage_now, rag_now) = before, now
    if stage_before not in STAGE_ORDER or stage_now not in STAGE_ORDER:
        return NOT_COMPARABLE
    step = STAGE_ORDER[Stage(stage_now)] - STAGE_ORDER[Stage(stage_before)]
    if step == 0 and rag_before in RAG_ORDER and rag_now in RAG_ORDER:
        step = RAG_ORDER[Rag(rag_now)] - RAG_ORDER[Rag(rag_before)]
    return IMPROVED if step > 0 else WORSENED if step < 0 else UNCHANGED


# -- the overview ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverviewFilters:
    """What the actions of the overview (and of bulk edit) are filtered by; empty means any."""

    areas: frozenset[str] = frozenset()
    timeframes: frozenset[str] = frozenset()
    stages: frozenset[str] = frozenset()
    rags: frozenset[str] = frozenset()
    leads: frozenset[str] = frozenset()
    changes: frozenset[str] = frozenset()
    reviews: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ActionRow:
    """One action of a return, as the overview and bulk edit list it."""

    code: str
    text: str
    area_code: str | None
    area_label: str
    timeframe: str | None
    lead: str
    stage: str | None
    rag: str | None
    is_carried_forward: bool
    version: int
    #: what it still needs before the return can be submitted, or None
    missing: str | None
    previous_stage: str | None
    previous_rag: str | None
    direction: str
    #: a ReviewState value: not yet reviewed, confirmed unchanged or updated this quarter
    review_state: str = ReviewState.NOT_REVIEWED.value
    #: the target period ended before this quarter
    target_passed: bool = False
    is_enabler: bool = False

    @property
    def review_label(self) -> str:
        return ReviewState(self.review_state).label

    @property
    def is_reviewed(self) -> bool:
        return ReviewState(self.review_state).is_reviewed

    @property
    def blocks(self) -> str | None:
        """Why this action stops the return being submitted, or None."""
        if not self.is_reviewed:
            return ReviewState.NOT_REVIEWED.label
        return self.missing

    def matches(self, filters: OverviewFilters) -> bool:
        checks = (
            (filters.areas, self.area_code or ENABLERS),
            (filters.timeframes, self.timeframe or NO_TIMEFRAME),
            (filters.stages, self.stage or NOT_ASSESSED),
            (filters.rags, self.rag or NO_RAG),
            (filters.leads, self.lead),
            (filters.changes, self.direction),
            (filters.reviews, self.review_state),
        )
        return all(not chosen or value in chosen for chosen, value in checks)


@dataclass
class WorkflowNote:
    """The approver's last word on a draft: sent back with comments, or reopened with a reason."""

    action: str
    text: str
    by: str
    at: datetime


@dataclass
class Overview:
    return_: Return
    rows: list[ActionRow]
    #: every action of the return, whatever the filters
    total: int
    #: reviewed and complete
    assessed: int
    missing: list[ActionRow]
    previous_period: Period | None
    #: how many actions improved, stayed the same or worsened since the previous quarter
    changes: Counter[str]
    submitted_by: str | None = None
    signed_off_by: str | None = None
    note: WorkflowNote | None = None
    reviews: ReviewCounts = ReviewCounts()
    #: "114 roadmap actions and 26 actions on barriers and enablers"
    kinds: str = ""

    @property
    def is_complete(self) -> bool:
        return not self.missing and not self.reviews.not_reviewed

    @property
    def unreviewed(self) -> list[ActionRow]:
        return [row for row in self.all_rows if not row.is_reviewed]

    all_rows: list[ActionRow] = field(default_factory=list)

    @property
    def groups(self) -> list[tuple[str, list[ActionRow]]]:
        """The listed rows by area (or barrier and enabler), in roadmap order."""
        return group_rows(self.rows)


def group_rows(rows: list[ActionRow]) -> list[tuple[str, list[ActionRow]]]:
    """Consecutive rows of the same area together: (area label, its rows), in order."""
    groups: list[tuple[str, list[ActionRow]]] = []
    for row in rows:
        if not groups or groups[-1][0] != row.area_label:
            groups.append((row.area_label, []))
        groups[-1][1].append(row)
    return groups


def action_rows(return_: Return, previous: Return | None) -> list[ActionRow]:
    """Every action of the return in roadmap order, each with last quarter's stage and RAG.

    One query, whatever the number of actions.
    """
    period = return_.period
    before = aliased(Assessment)
    columns = [
        Assessment.stage,
        Assessment.rag,
        Assessment.not_applicable_reason,
        Assessment.is_carried_forward,
        Assessment.version_id,
        Assessment.target_period,
        _review_state().label("review_state"),
        Action.code,
        Action.text,
        Action.timeframe,
        Action.lead,
        ActionArea.code.label("area_code"),
        ActionArea.position.label("area_position"),
        ActionArea.title.label("area_title"),
        Enabler.title.label("enabler_title"),
    ]
    query = (
        select(*columns)
        .join(Action, Assessment.action_id == Action.id)
        .outerjoin(ActionArea, Action.area_id == ActionArea.id)
        .outerjoin(Enabler, Action.enabler_id == Enabler.id)
        .where(Assessment.return_id == return_.id)
        .order_by(
            Action.enabler_id.is_not(None),
            ActionArea.position,
            Enabler.position,
            _TIMEFRAME_ORDER,
            Action.position,
        )
    )
    if previous is not None:
        query = query.add_columns(
            before.id.label("before_id"),
            before.stage.label("before_stage"),
            before.rag.label("before_rag"),
        ).outerjoin(
            before,
            and_(before.action_id == Assessment.action_id, before.return_id == previous.id),
        )
    rows = []
    for row in db.session.execute(query):
        had_before = previous is not None and row.before_id is not None
        before_values = (row.before_stage, row.before_rag) if had_before else None
        rows.append(
            ActionRow(
                code=row.code,
                text=row.text,
                area_code=row.area_code,
                area_label=(
                    f"{row.area_position}. {row.area_title}"
                    if row.area_code
                    else f"Barriers and enablers: {row.enabler_title}"
                ),
                timeframe=row.timeframe,
                lead=row.lead,
                stage=row.stage,
                rag=row.rag,
                is_carried_forward=row.is_carried_forward,
                version=row.version_id,
                missing=why_incomplete(row.stage, row.rag, row.not_applicable_reason),
                previous_stage=before_values[0] if before_values else None,
                previous_rag=before_values[1] if before_values else None,
                direction=direction_of_travel(before_values, (row.stage, row.rag)),
                review_state=row.review_state,
                target_passed=target_passed(row.target_period, period.year, period.quarter),
                is_enabler=row.area_code is None,
            )
        )
    return rows


def display_names(user_ids: Iterable[int | None]) -> dict[int, str]:
    """user id → display name, for the ids given (one query)."""
    ids = {i for i in user_ids if i}
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {user_id: name for user_id, name in rows}


def _workflow_events(return_: Return, actions: Iterable[str]):
    """SQL: the return's audit events of the kinds ``actions`` (id, action, at, after, and the
    actor's display name), for the caller to order and limit."""
    return (
        select(AuditEvent.id, AuditEvent.action, AuditEvent.at, AuditEvent.after, User.display_name)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(
            AuditEvent.council_id == return_.council_id,
            AuditEvent.object_type == "return",
            AuditEvent.object_id == str(return_.id),
            AuditEvent.action.in_(list(actions)),
        )
    )


def _workflow_note(return_: Return) -> WorkflowNote | None:
    """Why a draft is a draft again: the latest send-back or reopening, if it is a draft."""
    if return_.status != ReturnStatus.DRAFT or not (
        return_.returned_comment or return_.reopen_reason
    ):
        return None
    row = db.session.execute(
        _workflow_events(return_, ["return.send_back", "return.reopen", "return.submit"])
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()
    if row is None or row.action == "return.submit":
        return None
    if row.action == "return.send_back":
        return WorkflowNote("sent back", return_.returned_comment, row.display_name or "", row.at)
    return WorkflowNote("reopened", return_.reopen_reason, row.display_name or "", row.at)


#: the return's workflow steps as its history names them, with the note each one carries
HISTORY_STEPS = {
    "return.submit": ("Submitted for sign-off", None),
    "return.send_back": ("Sent back to the editors", "returned_comment"),
    "return.sign_off": ("Signed off", None),
    "return.reopen": ("Reopened", "reopen_reason"),
}


@dataclass(frozen=True)
class HistoryEntry:
    """One step in a return's workflow: what happened, when, who did it and their note."""

    at: datetime
    what: str
    by: str
    note: str


def return_history(return_: Return) -> list[HistoryEntry]:
    """The return's submissions, send-backs, sign-offs and reopenings, oldest first, from the
    audit trail (one query). The send-back notes are kept here after sign-off."""
    entries = []
    for _id, action, at, after, name in db.session.execute(
        _workflow_events(return_, HISTORY_STEPS).order_by(AuditEvent.id)
    ):
        what, note_key = HISTORY_STEPS[action]
        note = str((after or {}).get(note_key) or "") if note_key else ""
        entries.append(HistoryEntry(at=at, what=what, by=name or "", note=note))
    return entries


def get_workflow_note(return_: Return) -> WorkflowNote | None:
    """Why a draft is a draft again: sent back or reopened (None for anything else)."""
    return _workflow_note(return_)


def list_action_rows(return_: Return, filters: OverviewFilters) -> list[ActionRow]:
    """The return's actions that match ``filters``, in roadmap order (for bulk edit)."""
    return [row for row in action_rows(return_, None) if row.matches(filters)]


def missing_actions(return_: Return) -> list[ActionRow]:
    """The return's actions that still need something before it can be submitted: not yet
    reviewed this quarter, or incomplete."""
    return [row for row in action_rows(return_, None) if row.blocks]


def kinds_of(rows: Iterable[ActionRow]) -> str:
    """The rows counted by kind: "114 roadmap actions and 26 actions on barriers and enablers"."""
    rows = list(rows)
    enablers = sum(1 for row in rows if row.is_enabler)
    return action_kinds(len(rows) - enablers, enablers)


def bulk_refusal_summary(refused: BulkRefused) -> str:
    """One sentence for the error summary when a bulk change was refused."""
    parts = []
    if refused.errors:
        count = len(refused.errors)
        parts.append(f"{count} of the selected actions cannot be given these answers")
    if refused.conflicts:
        count = len(refused.conflicts)
        parts.append(
            f"{count} of the selected actions {'were' if count != 1 else 'was'} changed by "
            "someone else since you loaded this page"
        )
    return "Nothing was saved: " + " and ".join(parts)


@dataclass
class WorkflowSummary:
    """What the approver sees before signing off, sending back or reopening."""

    assessed: int
    total: int
    stages: Counter[str]
    rags: Counter[str]
    submitted_by: str | None
    signed_off_by: str | None
    reviews: ReviewCounts = ReviewCounts()
    kinds: str = ""


def get_workflow_summary(return_: Return) -> WorkflowSummary:
    """Counts of the return's stages and RAG ratings, and who submitted and signed it off."""
    rows = action_rows(return_, None)
    names = display_names([return_.submitted_by_id, return_.signed_off_by_id])
    return WorkflowSummary(
        assessed=sum(1 for row in rows if not row.blocks),
        total=len(rows),
        reviews=ReviewCounts.of(row.review_state for row in rows),
        kinds=kinds_of(rows),
        stages=Counter(row.stage or NOT_ASSESSED for row in rows),
        rags=Counter(row.rag for row in rows if row.rag),
        submitted_by=names.get(return_.submitted_by_id or 0),
        signed_off_by=names.get(return_.signed_off_by_id or 0),
    )


def area_choices() -> list[tuple[str, str]]:
    """(code, "number. title") for each area of the current roadmap, for filters."""
    from tracker.roadmap.services import list_area_choices

    return list_area_choices()


def get_overview(
    return_: Return, filters: OverviewFilters, *, include_draft_history: bool
) -> Overview:
    """The return's progress, what is missing, and its actions that match ``filters``.

    :param include_draft_history: compare with last quarter's return even while it is a draft
        (False for panel members, who see submitted returns only).
    """
    previous = previous_return(return_, include_drafts=include_draft_history)
    rows = action_rows(return_, previous)
    missing = [row for row in rows if row.missing]
    names = display_names([return_.submitted_by_id, return_.signed_off_by_id])
    return Overview(
        return_=return_,
        rows=[row for row in rows if row.matches(filters)],
        all_rows=rows,
        reviews=ReviewCounts.of(row.review_state for row in rows),
        kinds=kinds_of(rows),
        total=len(rows),
        assessed=sum(1 for row in rows if not row.blocks),
        missing=missing,
        previous_period=previous.period if previous else None,
        changes=Counter(row.direction for row in rows),
        submitted_by=names.get(return_.submitted_by_id or 0),
        signed_off_by=names.get(return_.signed_off_by_id or 0),
        note=_workflow_note(return_),
    )


@dataclass
class CheckAnswers:
    """What an editor checks before submitting: review states, changes and exceptions."""

    overview: Overview
    #: actions whose stage changed since last quarter
    stage_changes: list[ActionRow]
    red: list[ActionRow]
    worsened: list[ActionRow]
    target_passed: list[ActionRow]
    no_evidence: list[ActionRow]
    #: why the return cannot be submitted yet, or None
    refusal: str | None


def get_check_answers(return_: Return) -> CheckAnswers:
    """Everything the "check your answers" page shows before a return is submitted."""
    overview = get_overview(return_, OverviewFilters(), include_draft_history=True)
    rows = overview.all_rows
    with_evidence = set(
        db.session.scalars(
            select(Action.code)
            .join(Assessment, Assessment.action_id == Action.id)
            .join(assessment_evidence, assessment_evidence.c.assessment_id == Assessment.id)
            .where(Assessment.return_id == return_.id)
            .distinct()
        )
    )
    return CheckAnswers(
        overview=overview,
        stage_changes=[
            row
            for row in rows
            if row.previous_stage is not None
            and row.direction != NO_EARLIER
            and row.previous_stage != row.stage
        ],
        red=[row for row in rows if row.rag == Rag.RED],
        worsened=[row for row in rows if row.direction == WORSENED],
        target_passed=[row for row in rows if row.target_passed],
        no_evidence=[row for row in rows if row.stage and row.code not in with_evidence],
        refusal=submission_refusal(
            overview.reviews.not_reviewed, sum(1 for row in rows if row.missing)
        ),
    )


@dataclass(frozen=True)
class ChangedSinceSentBack:
    """One action the editors changed after the approver sent the return back."""

    row: ActionRow
    #: labels of the answers changed, in the order of the form
    fields: list[str]
    #: the stage and RAG rating when the return was sent back
    stage_then: str | None
    rag_then: str | None


@dataclass
class SentBack:
    """The approver's last send-back of a return, and what the editors changed after it."""

    at: datetime
    by: str
    note: str
    changes: list[ChangedSinceSentBack]


def last_sent_back(return_: Return, rows: Iterable[ActionRow] | None = None) -> SentBack | None:
    """When the return was last sent back, by whom and with what note, and every action the
    editors changed since (from the audit trail: two queries), or None if it never was.

    :param rows: the return's action rows, when the caller already has them.
    """
    sent = db.session.execute(
        _workflow_events(return_, ["return.send_back"]).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    if sent is None:
        return None
    ids = {
        str(assessment_id): code
        for assessment_id, code in db.session.execute(
            select(Assessment.id, Action.code)
            .join(Action, Action.id == Assessment.action_id)
            .where(Assessment.return_id == return_.id)
        )
    }
    edits = db.session.execute(
        select(AuditEvent.object_id, AuditEvent.before, AuditEvent.after)
        .where(
            AuditEvent.council_id == return_.council_id,
            AuditEvent.object_type == "assessment",
            AuditEvent.action == "assessment.update",
            AuditEvent.id > sent.id,
            AuditEvent.object_id.in_(list(ids)),
        )
        .order_by(AuditEvent.id)
    )
    changed: dict[str, set[str]] = {}
    then: dict[str, dict[str, Any]] = {}
    for object_id, before, after in edits:
        code = ids[object_id]
        changed.setdefault(code, set()).update(after or {})
        first = then.setdefault(code, {})
        for name, value in (before or {}).items():
            first.setdefault(name, value)
    by_code = {row.code: row for row in (rows if rows is not None else action_rows(return_, None))}
    changes = []
    for code, row in by_code.items():
        fields = [
            FIELD_LABELS[name]
            for name in (*EDITABLE_FIELDS, *PRACTICE_FIELDS)
            if name in changed.get(code, ())
        ]
        if not fields:
            continue
        earlier = then[code]
        changes.append(
            ChangedSinceSentBack(
                row=row,
                fields=fields,
                stage_then=earlier.get("stage", row.stage),
                rag_then=earlier.get("rag", row.rag),
            )
        )
    note = (sent.after or {}).get("returned_comment") or return_.returned_comment
    return SentBack(at=sent.at, by=sent.display_name or "", note=note, changes=changes)


@dataclass
class SignOffSummary:
    """What the approver reads before signing off: the editors' check, plus what changed since
    the return was last sent back."""

    check: CheckAnswers
    workflow: WorkflowSummary
    sent_back: SentBack | None


def get_sign_off_summary(return_: Return) -> SignOffSummary:
    check = get_check_answers(return_)
    return SignOffSummary(
        check=check,
        workflow=get_workflow_summary(return_),
        sent_back=last_sent_back(return_, check.overview.all_rows),
    )


# -- one assessment -------------------------------------------------------------------------------


@dataclass
class AssessmentPage:
    assessment: Assessment
    action: Action
    previous: Assessment | None
    previous_period: Period | None
    #: display names of who last saved this assessment and last quarter's
    names: dict[int, str]
    #: codes of the actions before and after this one in the return, for "previous" and "next"
    before_code: str | None
    after_code: str | None
    #: and their texts, so those links name the actions rather than only code them
    before_text: str = ""
    after_text: str = ""
    #: the assessment's target period ended before this quarter
    target_passed: bool = False
    review_state: str = ReviewState.NOT_REVIEWED.value

    @property
    def review_label(self) -> str:
        return ReviewState(self.review_state).label


def get_assessment(return_: Return, action_code: str) -> Assessment | None:
    """The return's assessment of the action with this code (action and area loaded), or None."""
    if not ACTION_CODE.match(action_code or ""):
        return None
    return db.session.scalar(
        select(Assessment)
        .join(Action, Assessment.action_id == Action.id)
        .options(
            contains_eager(Assessment.action).selectinload(Action.area),
            contains_eager(Assessment.action).selectinload(Action.enabler),
            contains_eager(Assessment.action).selectinload(Action.sub_items),
        )
        .where(Assessment.return_id == return_.id, Action.code == action_code)
    )


def get_assessment_page(
    return_: Return, action_code: str, *, include_draft_history: bool
) -> AssessmentPage | None:
    """The assessment of one action, last quarter's answer beside it, and its neighbours."""
    assessment = get_assessment(return_, action_code)
    if assessment is None:
        return None
    previous_return_ = previous_return(return_, include_drafts=include_draft_history)
    previous = None
    if previous_return_ is not None:
        previous = db.session.scalar(
            select(Assessment).where(
                Assessment.return_id == previous_return_.id,
                Assessment.action_id == assessment.action_id,
            )
        )
    neighbours = list(
        db.session.execute(
            select(Action.code, Action.text)
            .join(Assessment, Assessment.action_id == Action.id)
            .outerjoin(ActionArea, Action.area_id == ActionArea.id)
            .outerjoin(Enabler, Action.enabler_id == Enabler.id)
            .where(Assessment.return_id == return_.id)
            .order_by(
                Action.enabler_id.is_not(None),
                ActionArea.position,
                Enabler.position,
                _TIMEFRAME_ORDER,
                Action.position,
            )
        )
    )
    codes = [code for code, _ in neighbours]
    index = codes.index(assessment.action.code)
    before = neighbours[index - 1] if index > 0 else (None, "")
    after = neighbours[index + 1] if index + 1 < len(codes) else (None, "")
    return AssessmentPage(
        assessment=assessment,
        action=assessment.action,
        previous=previous,
        previous_period=previous_return_.period if previous else None,
        names=display_names(
            [assessment.updated_by_id, previous.updated_by_id if previous else None]
        ),
        before_code=before[0],
        after_code=after[0],
        before_text=before[1],
        after_text=after[1],
        target_passed=target_passed(
            assessment.target_period, return_.period.year, return_.period.quarter
        ),
        review_state=ReviewState.of(
            is_carried_forward=assessment.is_carried_forward,
            confirmed_at=assessment.confirmed_at,
            updated_at=assessment.updated_at,
        ).value,
    )


# -- answers as people read them ------------------------------------------------------------------

#: the question each field answers, as the form and the comparison pages name it
FIELD_LABELS = {
    "stage": "Stage",
    "rag": "RAG rating",
    "not_applicable_reason": "Why it is not applicable",
    "narrative": "Progress",
    "next_steps": "Next steps",
    "barriers": "Barriers",
    "barrier_detail": "About the barriers",
    "lead_officer": "Lead officer",
    "target_stage": "Target stage",
    "target_period": "Target period",
    "is_co_produced": "Co-produced",
    "co_production_how": "How it was co-produced",
    "partners": "Partners involved",
    "spend_types": "Types of spend",
    "amount_pounds": "Amount",
    "funding_source": "Source of funding",
    "practice_shared": "Shared with other councils",
    "practice_note": "How we did it",
    "practice_contact": "Contact for other councils",
}


def answer_text(name: str, value: Any) -> str:
    """One answer as a person reads it; empty when there is none."""
    if value is None or value == "" or value == []:
        return ""
    if name in ("stage", "target_stage"):
        return STAGE_NAMES.get(value, str(value))
    if name == "rag":
        return RAG_NAMES.get(value, str(value))
    if name == "barriers":
        return ", ".join(BARRIERS.get(code, code) for code in value)
    if name == "spend_types":
        return ", ".join(SPEND_NAMES.get(letter, letter) for letter in value)
    if name == "amount_pounds":
        return money(value)
    if name == "funding_source":
        return FUNDING_SOURCES.get(value, str(value))
    if name in ("is_co_produced", "practice_shared"):
        return "Yes" if value else "No"
    return str(value)


def answers(values: Mapping[str, Any] | Assessment) -> list[tuple[str, str, str]]:
    """(field, label, text) for every answer, in the order of the form."""
    get = values.get if isinstance(values, Mapping) else lambda n: getattr(values, n)
    return [
        (name, FIELD_LABELS[name], answer_text(name, get(name)))
        for name in (*EDITABLE_FIELDS, *PRACTICE_FIELDS)
    ]


@dataclass(frozen=True)
class ComparedAnswer:
    label: str
    mine: str
    saved: str

    @property
    def differs(self) -> bool:
        return self.mine != self.saved


def compare_answers(mine: Mapping[str, Any], saved: Assessment) -> list[ComparedAnswer]:
    """Each answer as the person tried to save it beside the one saved meanwhile."""
    saved_answers = {name: text for name, _label, text in answers(saved)}
    return [ComparedAnswer(label, text, saved_answers[name]) for name, label, text in answers(mine)]


# -- history of one action ------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryRow:
    period: Period
    status: str
    stage: str | None
    rag: str | None
    direction: str
    narrative: str
    updated_by: str | None
    updated_at: datetime | None
    is_carried_forward: bool

    @property
    def slug(self) -> str:
        return period_slug(self.period)


@dataclass
class History:
    action: Action
    #: newest first
    rows: list[HistoryRow]


def get_action_history(
    council: Council, action_code: str, *, include_drafts: bool
) -> History | None:
    """The council's assessments of one action, quarter by quarter, newest first, each with its
    direction of travel against the quarter before; None if there is no such action."""
    if not ACTION_CODE.match(action_code or ""):
        return None
    action = db.session.scalar(
        select(Action)
        .options(selectinload(Action.area), selectinload(Action.enabler))
        .where(Action.code == action_code)
    )
    if action is None:
        return None
    query = (
        select(Assessment, Period, Return.status, User.display_name)
        .join(Return, Assessment.return_id == Return.id)
        .join(Period, Return.period_id == Period.id)
        .outerjoin(User, User.id == Assessment.updated_by_id)
        .where(Return.council_id == council.id, Assessment.action_id == action.id)
        .order_by(Period.year, Period.quarter)
    )
    if not include_drafts:
        query = query.where(Return.status != ReturnStatus.DRAFT)
    rows: list[HistoryRow] = []
    before: tuple[str | None, str | None] | None = None
    for assessment, period, status, name in db.session.execute(query):
        now = (assessment.stage, assessment.rag)
        rows.append(
            HistoryRow(
                period=period,
                status=status,
                stage=assessment.stage,
                rag=assessment.rag,
                direction=direction_of_travel(before, now),
                narrative=assessment.narrative,
                updated_by=name,
                updated_at=assessment.updated_at,
                is_carried_forward=assessment.is_carried_forward,
            )
        )
        before = now
    return History(action=action, rows=list(reversed(rows)))


# -- bulk edit ------------------------------------------------------------------------------------


def get_assessments_by_code(return_: Return, codes: Iterable[str]) -> dict[str, Assessment]:
    """code → the return's assessment of that action, for the codes that belong to it."""
    wanted = [code for code in codes if ACTION_CODE.match(code or "")]
    if not wanted:
        return {}
    rows = db.session.execute(
        select(Action.code, Assessment)
        .join(Action, Assessment.action_id == Action.id)
        .where(Assessment.return_id == return_.id, Action.code.in_(wanted))
    )
    return {code: assessment for code, assessment in rows}


# -- searching one return's answers ---------------------------------------------------------------

#: the written answers a search of a return reads, in the order of the form
SEARCHED_ANSWERS = ("not_applicable_reason", "narrative", "next_steps", "barrier_detail")


@dataclass(frozen=True)
class AnswerHit:
    """One answer of an assessment that holds a searched term."""

    field: str
    label: str
    #: the passage around the match (the whole answer when it is short)
    text: str


@dataclass(frozen=True)
class ReturnSearchHit:
    """An action of the return that matches a search, with the answers where the terms are."""

    code: str
    #: the action's own words, the name a result is given (beside its code)
    title: str
    where: str
    #: the action's code or words hold a term
    in_action: bool
    answers: list[AnswerHit]


def search_return(return_: Return, query: str) -> list[ReturnSearchHit]:
    """The return's actions whose code, words or written answers hold every term of the query
    (each term in any of them, in any case), in roadmap order.

    One query, whatever the number of actions: each term is a LIKE over the lower-cased
    columns, its own ``%`` and ``_`` escaped, so SQLite and PostgreSQL find the same rows.
    """
    terms = search.query_terms(query)
    if not terms:
        return []
    answer_columns = [getattr(Assessment, name) for name in SEARCHED_ANSWERS]
    searched = [Action.code, Action.text, *answer_columns]
    conditions = [
        or_(
            *(
                func.lower(column).like(search.like_pattern(term), escape="\\")
                for column in searched
            )
        )
        for term in terms
    ]
    rows = db.session.execute(
        select(
            *answer_columns,
            Action.code,
            Action.text,
            ActionArea.position.label("area_position"),
            ActionArea.title.label("area_title"),
            Enabler.title.label("enabler_title"),
        )
        .join(Action, Assessment.action_id == Action.id)
        .outerjoin(ActionArea, Action.area_id == ActionArea.id)
        .outerjoin(Enabler, Action.enabler_id == Enabler.id)
        .where(Assessment.return_id == return_.id, *conditions)
        .order_by(
            Action.enabler_id.is_not(None),
            ActionArea.position,
            Enabler.position,
            _TIMEFRAME_ORDER,
            Action.position,
        )
    )
    hits = []
    for row in rows:
        where = (
            f"Action {row.code} in area {row.area_position}: {row.area_title}"
            if row.area_position is not None
            else f"Action {row.code} in barriers and enablers: {row.enabler_title}"
        )
        hits.append(
            ReturnSearchHit(
                code=row.code,
                title=row.text,
                where=where,
                in_action=search.matches_any(f"{row.code} {row.text}", terms),
                answers=[
                    AnswerHit(name, FIELD_LABELS[name], search.snippet(value, terms))
                    for name in SEARCHED_ANSWERS
                    if (value := getattr(row, name)) and search.matches_any(value, terms)
                ],
            )
        )
    return hits
