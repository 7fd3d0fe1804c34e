"""Learning from peers: councils' shared practice on an action, and the roadmap in practice.

Who reads it and which practice is shown is one rule, in :mod:`tracker.domain.visibility`
(:func:`~tracker.domain.visibility.may_read_shared_practice`,
:func:`~tracker.domain.visibility.shared_practice_shown`); the figures follow the British Red
Cross's *Prevention in action* (2017): plain counts of councils with their denominator and the
change on a year before, councils named only as examples of practice they chose to share, never
ranked. Every function here makes a fixed number of statements, whatever the number of councils.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, select

from tracker.domain import visibility
from tracker.domain.periods import label_from_url, months
from tracker.domain.principal import Principal
from tracker.domain.visibility import aggregate_refusal
from tracker.extensions import db
from tracker.models import (
    Action,
    ActionArea,
    Assessment,
    Council,
    Enabler,
    Period,
    PeriodStatus,
    Return,
    ReturnStatus,
    Stage,
)

#: the statuses of a return that has left its council (submitted or signed off)
_SHARED = [s.value for s in ReturnStatus if s.is_shared]
#: "at Implementing or Embedded": the stages a council counts as having started for real
_UNDER_WAY = [Stage.IMPLEMENTING.value, Stage.EMBEDDED.value]
ENABLERS_TITLE = "Barriers and enablers"


# -- one action's shared practice -------------------------------------------------------------


@dataclass(frozen=True)
class SharedPractice:
    """One council's shared practice on one action, and how long it has been Embedded."""

    council_name: str
    gss_code: str
    note: str
    contact: str
    #: the label of the first quarter of the council's current run at Embedded
    since_label: str
    #: how many consecutive quarters (submitted or signed-off returns) it has been Embedded
    quarters: int

    @property
    def embedded_for(self) -> str:
        """``"Embedded since July to September 2026 — 3 quarters"``."""
        plural = "quarter" if self.quarters == 1 else "quarters"
        return f"Embedded since {months(self.since_label)} — {self.quarters} {plural}"


def _shown_practice(viewer: Principal | None):
    """The shared practice ``viewer`` is shown: a select over Assessment, Return and Council."""
    return (
        select(Assessment, Council)
        .join(Return, Return.id == Assessment.return_id)
        .join(Council, Council.id == Return.council_id)
        .where(visibility.shared_practice_shown(viewer), Council.is_active)
    )


def list_shared_practice(action: Action, viewer: Principal | None) -> list[SharedPractice]:
    """The councils that share how they embedded ``action``, by name, for ``viewer``.

    :returns: one entry per council the rule shows (none for someone who may not read shared
        practice), each with how many consecutive quarters it has been Embedded. Two queries.
    """
    if not visibility.may_read_shared_practice(viewer):
        return []
    rows = db.session.execute(
        _shown_practice(viewer)
        .where(Assessment.action_id == action.id)
        .order_by(Council.short_name)
    ).all()
    if not rows:
        return []
    runs = _embedded_runs(action.id, [council.id for _a, council in rows])
    return [
        SharedPractice(
            council_name=council.name,
            gss_code=council.gss_code,
            note=assessment.practice_note,
            contact=assessment.practice_contact,
            since_label=runs[council.id][0],
            quarters=runs[council.id][1],
        )
        for assessment, council in rows
    ]


def _embedded_runs(action_id: int, council_ids: Sequence[int]) -> dict[int, tuple[str, int]]:
    """Each council's current run at Embedded on the action: the label of its first quarter and
    its length. The run counts back from the council's latest submitted or signed-off return and
    stops at the first quarter with no such return or with another stage. One query."""
    history = db.session.execute(
        select(Return.council_id, Period.year, Period.quarter, Period.label, Assessment.stage)
        .join(Return, Return.id == Assessment.return_id)
        .join(Period, Period.id == Return.period_id)
        .where(
            Assessment.action_id == action_id,
            Return.council_id.in_(list(council_ids)),
            Return.status.in_(_SHARED),
        )
        .order_by(Return.council_id, Period.year.desc(), Period.quarter.desc())
    )
    runs: dict[int, tuple[str, int]] = {}
    expected: dict[int, int | None] = {}
    for council_id, year, quarter, label, stage in history:
        key = year * 4 + quarter
        wanted = expected.get(council_id, key)
        if wanted is None or key != wanted or stage != Stage.EMBEDDED:
            expected[council_id] = None
            continue
        _since, count = runs.get(council_id, (label, 0))
        runs[council_id] = (label, count + 1)
        expected[council_id] = key - 1
    return runs


# -- the roadmap in practice: a national summary ----------------------------------------------


@dataclass(frozen=True)
class Figure:
    """``part`` of ``whole`` councils (or answers); ``percent`` None when the whole is 0."""

    part: int
    whole: int

    @property
    def ratio(self) -> float | None:
        return self.part / self.whole if self.whole else None

    @property
    def percent(self) -> int | None:
        return None if self.ratio is None else round(self.ratio * 100)

    @property
    def of_councils(self) -> str:
        """``"12 of 40 councils (30%)"``."""
        return f"{self.part} of {self.whole} councils ({self.percent}%)"

    @property
    def of_answers(self) -> str:
        """``"30% of answers (120 of 400)"``: councils' answers on several actions, pooled."""
        return f"{self.percent}% of answers ({self.part:,} of {self.whole:,})"


@dataclass(frozen=True)
class Change:
    """The change on the same quarter a year before, in percentage points, or why there is none."""

    points: int | None

    def __str__(self) -> str:
        if self.points is None:
            return "no figure a year ago"
        if self.points == 0:
            return "no change on a year ago"
        word = "up" if self.points > 0 else "down"
        unit = "percentage point" if abs(self.points) == 1 else "percentage points"
        return f"{word} {abs(self.points)} {unit} on a year ago"


def _change(now: Figure, then: Figure | None) -> Change:
    if then is None or now.ratio is None or then.ratio is None:
        return Change(None)
    return Change(round(now.ratio * 100 - then.ratio * 100))


@dataclass(frozen=True)
class Example:
    """A council named as an example: it shares how it embedded the action."""

    council_name: str
    gss_code: str


@dataclass
class ActionInPractice:
    """One action across the councils that sent a return for the period."""

    code: str
    text: str
    #: at Implementing or Embedded, and at Embedded, of the councils reporting
    under_way: Figure
    embedded: Figure
    under_way_change: Change
    embedded_change: Change
    examples: list[Example] = field(default_factory=list)
    #: why the figures are not shown (the three-council rule), or None
    reason: str | None = None


@dataclass
class AreaInPractice:
    """An area for action (or the barriers and enablers) and its actions."""

    key: str
    title: str
    #: councils' answers on the area's actions pooled: at Implementing or Embedded, at Embedded
    under_way: Figure = Figure(0, 0)
    embedded: Figure = Figure(0, 0)
    under_way_change: Change = Change(None)
    embedded_change: Change = Change(None)
    actions: list[ActionInPractice] = field(default_factory=list)
    reason: str | None = None


@dataclass
class RoadmapInPractice:
    """The national summary of one period (:func:`roadmap_in_practice`)."""

    period: Period
    #: the same quarter a year before, if there is one with submitted returns
    year_before: Period | None
    #: the denominator: councils with a submitted or signed-off return for the period
    councils: int
    councils_year_before: int
    areas: list[AreaInPractice]
    #: why nothing is shown (fewer than three councils reporting), or None
    reason: str | None = None


def list_summary_periods() -> list[Period]:
    """Periods with at least one submitted or signed-off return, newest first. One query."""
    return list(
        db.session.scalars(
            select(Period)
            .where(Period.id.in_(select(Return.period_id).where(Return.status.in_(_SHARED))))
            .order_by(Period.year.desc(), Period.quarter.desc())
        )
    )


def default_summary_period(periods: Sequence[Period]) -> Period | None:
    """The newest closed period of ``periods``, else the newest open one, else None."""
    for status in (PeriodStatus.CLOSED, PeriodStatus.OPEN):
        found = next((p for p in periods if p.status == status), None)
        if found is not None:
            return found
    return None


def find_summary_period(periods: Sequence[Period], slug: str | None) -> Period | None:
    """The period of ``periods`` whose URL form (``2025-26-Q3``) is ``slug``; without a slug,
    :func:`default_summary_period`; None when there is none."""
    if not slug:
        return default_summary_period(periods)
    label = label_from_url(slug)
    return next((p for p in periods if p.label == label), None) if label else None


def roadmap_in_practice(
    period: Period, periods: Sequence[Period], viewer: Principal | None
) -> RoadmapInPractice:
    """For each area and each trackable action: how many of the councils that submitted a return
    for ``period`` are at Implementing or Embedded, and at Embedded, with the change on the same
    quarter a year before (from ``periods``, which :func:`list_summary_periods` gives), and the
    councils that share how they embedded it (named examples, by the visibility rule).

    An action's figures follow :func:`aggregate_refusal`: the councils named as examples are
    named, the others not. Four queries, whatever the number of councils.
    """
    year_before = next(
        (p for p in periods if p.year == period.year - 1 and p.quarter == period.quarter), None
    )
    period_ids = [period.id] + ([year_before.id] if year_before else [])
    reporting: dict[int, set[int]] = defaultdict(set)
    for period_id, council_id in db.session.execute(
        select(Return.period_id, Return.council_id)
        .join(Council, Council.id == Return.council_id)
        .where(Return.period_id.in_(period_ids), Return.status.in_(_SHARED), Council.is_active)
    ):
        reporting[period_id].add(council_id)
    now = reporting[period.id]
    then = reporting[year_before.id] if year_before else set()
    counts = _action_counts(period_ids)
    examples = _examples(viewer)
    areas = _areas_and_actions()
    summary_reason = aggregate_refusal(len(now), 0)
    before_reason = aggregate_refusal(len(then), 0) if year_before else "none"
    result = []
    for key, title, actions in areas:
        area = AreaInPractice(key=key, title=title, reason=summary_reason)
        pooled = {"now": [0, 0, 0], "then": [0, 0, 0]}
        for action_id, code, text in actions:
            under, embedded = counts.get((period.id, action_id), (0, 0))
            under_then, embedded_then = (
                counts.get((year_before.id, action_id), (0, 0)) if year_before else (0, 0)
            )
            named = [e for e in examples.get(action_id, []) if e[0] in now]
            reason = summary_reason or aggregate_refusal(len(now), len(now) - len(named))
            row_now = (Figure(under, len(now)), Figure(embedded, len(now)))
            row_then = (
                (Figure(under_then, len(then)), Figure(embedded_then, len(then)))
                if before_reason is None
                else (None, None)
            )
            if reason:
                row_now, row_then = (Figure(0, 0), Figure(0, 0)), (None, None)
            area.actions.append(
                ActionInPractice(
                    code=code,
                    text=text,
                    under_way=row_now[0],
                    embedded=row_now[1],
                    under_way_change=_change(row_now[0], row_then[0]),
                    embedded_change=_change(row_now[1], row_then[1]),
                    examples=[example for _id, example in examples.get(action_id, [])],
                    reason=reason,
                )
            )
            for slot, values in (("now", (under, embedded)), ("then", (under_then, embedded_then))):
                pooled[slot][0] += values[0]
                pooled[slot][1] += values[1]
        area.under_way = Figure(pooled["now"][0], len(now) * len(actions))
        area.embedded = Figure(pooled["now"][1], len(now) * len(actions))
        if before_reason is None:
            whole_then = len(then) * len(actions)
            area.under_way_change = _change(area.under_way, Figure(pooled["then"][0], whole_then))
            area.embedded_change = _change(area.embedded, Figure(pooled["then"][1], whole_then))
        if summary_reason:
            area.under_way = area.embedded = Figure(0, 0)
            area.under_way_change = area.embedded_change = Change(None)
        result.append(area)
    return RoadmapInPractice(
        period=period,
        year_before=year_before if before_reason is None else None,
        councils=len(now),
        councils_year_before=len(then),
        areas=result,
        reason=summary_reason,
    )


def _action_counts(period_ids: Sequence[int]) -> dict[tuple[int, int], tuple[int, int]]:
    """(period id, action id) → councils at Implementing or Embedded, and at Embedded, from
    submitted and signed-off returns of active councils. One query."""
    under = func.coalesce(func.sum(case((Assessment.stage.in_(_UNDER_WAY), 1), else_=0)), 0)
    embedded = func.coalesce(
        func.sum(case((Assessment.stage == Stage.EMBEDDED.value, 1), else_=0)), 0
    )
    rows = db.session.execute(
        select(Return.period_id, Assessment.action_id, under, embedded)
        .join(Return, Return.id == Assessment.return_id)
        .join(Council, Council.id == Return.council_id)
        .where(
            Return.period_id.in_(list(period_ids)), Return.status.in_(_SHARED), Council.is_active
        )
        .group_by(Return.period_id, Assessment.action_id)
    )
    return {(p, a): (int(u), int(e)) for p, a, u, e in rows}


def _examples(viewer: Principal | None) -> dict[int, list[tuple[int, Example]]]:
    """Action id → (council id, example) of each council whose practice ``viewer`` is shown.
    One query (none for someone who may not read shared practice)."""
    if not visibility.may_read_shared_practice(viewer):
        return {}
    rows = db.session.execute(
        select(Assessment.action_id, Council.id, Council.name, Council.gss_code)
        .join(Return, Return.id == Assessment.return_id)
        .join(Council, Council.id == Return.council_id)
        .where(visibility.shared_practice_shown(viewer), Council.is_active)
        .order_by(Council.short_name)
    )
    found: dict[int, list[tuple[int, Example]]] = defaultdict(list)
    for action_id, council_id, name, gss_code in rows:
        found[action_id].append((council_id, Example(name, gss_code)))
    return found


def _areas_and_actions() -> list[tuple[str, str, list[tuple[int, str, str]]]]:
    """The current roadmap's areas in order, then the barriers and enablers, each with its
    trackable actions in roadmap order: (key, title, [(action id, code, text)]). One query."""
    rows = db.session.execute(
        select(
            Action.id,
            Action.code,
            Action.text,
            ActionArea.code,
            ActionArea.position,
            ActionArea.title,
        )
        .outerjoin(ActionArea, ActionArea.id == Action.area_id)
        .outerjoin(Enabler, Enabler.id == Action.enabler_id)
        .where(
            and_(Action.parent_id.is_(None), Action.archived_at.is_(None)),
            (Action.area_id.is_(None)) | ActionArea.archived_at.is_(None),
        )
        .order_by(
            Action.enabler_id.is_not(None),
            ActionArea.position,
            Enabler.position,
            Action.position,
        )
    )
    areas: dict[str, tuple[str, str, list[tuple[int, str, str]]]] = {}
    for action_id, code, text, area_code, position, area_title in rows:
        key = area_code or "enablers"
        title = f"{position}. {area_title}" if area_code else ENABLERS_TITLE
        areas.setdefault(key, (key, title, []))[2].append((action_id, code, text))
    return list(areas.values())
