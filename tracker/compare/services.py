"""The figures behind the dashboards: one council's picture, a region side by side, the nation.

Stable interface (the board report and the regional pack call it too):

- :func:`council_dashboard` → :class:`CouncilDashboard`
- :func:`region_comparison` → :class:`RegionComparison`
- :func:`national_view` → :class:`NationalView`
- :func:`list_periods` and :func:`default_period`: which periods can be chosen, and the default.

Rules every function here keeps:

- Only submitted or signed-off returns feed a comparison, a median or a regional or national
  figure. A council's own dashboard may show its own draft (``include_draft=True``), labelled.
- A council that does not share named returns (``Council.shares_named_returns`` False) is never
  named outside itself; it is counted inside aggregates only.
- No aggregate shown to someone outside a council covers fewer than three councils: an aggregate
  needs at least ``MIN_COUNCILS`` councils, and the councils in it that the viewer cannot see
  by name must be none or at least ``MIN_COUNCILS`` (otherwise subtracting the named ones
  would reveal one or two councils' answers). When this fails the figure is None with a reason.
- Every figure comes from a fixed number of grouped queries, whatever the number of councils:
  ``tests/test_compare_queries_bounded.py`` counts them.

The "share at Implementing or Embedded" of a set of actions is the number at Implementing or
Embedded over the number of actions in the set that are not "Not applicable locally" (actions not
yet assessed count in the denominator).
"""

from __future__ import annotations

import statistics
import threading
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, and_, case, cast, func, select
from sqlalchemy.sql.elements import ColumnElement

from tracker.domain import visibility
from tracker.domain.periods import label_from_url, parse_period_label
from tracker.domain.principal import Principal
from tracker.domain.visibility import aggregate_refusal
from tracker.domain.vocabulary import (
    ADVANCED_STAGES,
    NO_PREVENTION_TIER,
    NOT_ASSESSED,
    PREVENTION_TIER_LABELS,
    SHARED_STATUSES,
    SPEND_KEYS,
    STAGE_ORDER,
    TIMEFRAME_KEYS,
    ReviewState,
    action_kinds,
)
from tracker.extensions import db
from tracker.models import (
    Action,
    ActionArea,
    Assessment,
    CacheGeneration,
    Council,
    Period,
    Region,
    Return,
    ReturnStatus,
    Stage,
    assessment_evidence,
)
from tracker.models.shared import FIGURES
from tracker.panels.services import (
    AnswerTimes,
    CommentTotals,
    PanelViewSummary,
    answer_times,
    comment_totals,
    panel_view_summary,
)
from tracker.returns.queries import (
    IMPROVED,
    NO_EARLIER,
    NOT_COMPARABLE,
    UNCHANGED,
    WORSENED,
    direction_of_travel,
)
from tracker.returns.services import BARRIERS

#: the barrier that only government or Parliament can lift (PRODUCT.md, "Scales")
NATIONAL_BARRIER = "legislation"
#: the key and label of the group of actions under "Barriers and enablers"
ENABLERS_KEY = "enablers"
ENABLERS_LABEL = "Barriers and enablers"
#: quarters in the trend
TREND_QUARTERS = 8


# -- small shared pieces ----------------------------------------------------------------------


#: the most characters of an area's title a chart axis shows
SHORT_LABEL_LENGTH = 30


@dataclass(frozen=True)
class AreaRef:
    """An area for action (or the group of barrier-and-enabler actions), as the charts name it."""

    key: str
    position: int
    title: str

    @property
    def label(self) -> str:
        return ENABLERS_LABEL if self.key == ENABLERS_KEY else f"{self.position}. {self.title}"

    @property
    def short_label(self) -> str:
        """The label on a chart's axis: the number and the title's first words, never a bare
        "Area 1" (the data table under the chart gives the full title)."""
        if self.key == ENABLERS_KEY:
            return "Barriers and enablers"
        words, kept = self.title.split(), []
        for word in words:
            if len(" ".join([*kept, word])) > SHORT_LABEL_LENGTH:
                break
            kept.append(word)
        text = " ".join(kept or words[:1])
        ellipsis = "…" if len(kept) < len(words) else ""
        return f"{self.position}. {text.rstrip(',;:')}{ellipsis}"


@dataclass(frozen=True)
class Share:
    """``part`` of ``whole``; ``percent`` is None when the whole is 0."""

    part: int
    whole: int

    @property
    def ratio(self) -> float | None:
        return self.part / self.whole if self.whole else None

    @property
    def percent(self) -> int | None:
        ratio = self.ratio
        return None if ratio is None else round(ratio * 100)

    def __str__(self) -> str:
        if not self.whole:
            return "no actions"
        return f"{self.percent}% ({self.part} of {self.whole})"


@dataclass(frozen=True)
class Median:
    """A median of councils' shares, or None with the reason it is not shown."""

    value: float | None
    councils: int
    reason: str | None = None

    @property
    def percent(self) -> int | None:
        return None if self.value is None else round(self.value * 100)

    def __str__(self) -> str:
        if self.value is None:
            return self.reason or "Not available"
        return f"{self.percent}% (median of {self.councils} councils)"


def median_of(shares: Sequence[float], *, unnamed: int) -> Median:
    """The median of ``shares`` (one per council), if it may be shown."""
    reason = aggregate_refusal(len(shares), unnamed)
    if reason:
        return Median(None, len(shares), reason)
    return Median(statistics.median(shares), len(shares))


def _area_key(area_code: str | None) -> str:
    return area_code or ENABLERS_KEY


def list_areas() -> list[AreaRef]:
    """The areas of the current roadmap in order, then the barrier-and-enabler group (one query)."""
    rows = db.session.execute(
        select(ActionArea.code, ActionArea.position, ActionArea.title)
        .where(
            ActionArea.archived_at.is_(None),
            ActionArea.id.in_(select(Action.area_id).where(_trackable())),
        )
        .order_by(ActionArea.position)
    )
    areas = [AreaRef(code, position, title) for code, position, title in rows]
    return [*areas, AreaRef(ENABLERS_KEY, len(areas) + 1, ENABLERS_LABEL)]


def _trackable() -> ColumnElement[bool]:
    return and_(Action.parent_id.is_(None), Action.archived_at.is_(None))


def _advanced() -> ColumnElement[int]:
    return func.coalesce(
        func.sum(case((Assessment.stage.in_([s.value for s in ADVANCED_STAGES]), 1), else_=0)), 0
    )


def _applicable() -> ColumnElement[int]:
    return func.coalesce(
        func.sum(case((Assessment.stage == Stage.NOT_APPLICABLE.value, 0), else_=1)), 0
    )


def _rag_sum(value: str) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((Assessment.rag == value, 1), else_=0)), 0)


def _shared() -> ColumnElement[bool]:
    return Return.status.in_([s.value for s in SHARED_STATUSES])


def _period_key(period: Period) -> int:
    return period.year * 4 + period.quarter


def _sort_key_sql() -> ColumnElement[int]:
    return Period.year * 4 + Period.quarter


# -- periods ----------------------------------------------------------------------------------


def list_periods(
    *,
    council: Council | None = None,
    region: Region | None = None,
    include_drafts: bool = False,
) -> list[Period]:
    """Periods that have something to show, newest first: a submitted or signed-off return (of
    the council, or of a council of the region, or anywhere), or, with ``include_drafts``, the
    council's own draft. One query."""
    status_ok = _shared() if not include_drafts else Return.id.is_not(None)
    query = (
        select(Period)
        .join(Return, Return.period_id == Period.id)
        .where(status_ok)
        .group_by(Period.id)
        .order_by(Period.year.desc(), Period.quarter.desc())
    )
    if council is not None:
        query = query.where(Return.council_id == council.id)
    if region is not None:
        query = query.join(Council, Council.id == Return.council_id).where(
            Council.region_id == region.id
        )
    return list(db.session.scalars(query))


def default_period(periods: Sequence[Period]) -> Period | None:
    """The period a dashboard shows when none is asked for: the newest of ``periods``."""
    return periods[0] if periods else None


def region_default_period(region: Region) -> Period | None:
    """The quarter a region's pack opens on when none is asked for: the newest in which at least
    ``visibility.MIN_COUNCILS`` councils of the region have a submitted or signed-off return (so
    that its regional figures may be shown), else the newest with any. One query."""
    councils = func.count(func.distinct(Return.council_id))
    rows = db.session.execute(
        select(Period, councils)
        .join(Return, Return.period_id == Period.id)
        .join(Council, Council.id == Return.council_id)
        .where(_shared(), Council.region_id == region.id, Council.is_active)
        .group_by(Period.id)
        .order_by(Period.year.desc(), Period.quarter.desc())
    ).all()
    enough = next((p for p, n in rows if n >= visibility.MIN_COUNCILS), None)
    return enough or (rows[0][0] if rows else None)


def find_period(periods: Sequence[Period], slug: str | None) -> Period | None:
    """The period among ``periods`` whose URL form (``2025-26-Q3``) is ``slug``, or None."""
    if not slug:
        return default_period(periods)
    label = label_from_url(slug)
    if label is None:
        return None
    return next((p for p in periods if p.label == label), None)


# -- the council dashboard --------------------------------------------------------------------


@dataclass
class AreaCounts:
    """One area's actions by stage and by RAG rating."""

    area: AreaRef
    stages: Counter[str] = field(default_factory=Counter)
    rags: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.stages.values())

    @property
    def advanced(self) -> Share:
        applicable = self.total - self.stages["not_applicable"]
        return Share(self.stages["implementing"] + self.stages["embedded"], applicable)


@dataclass(frozen=True)
class ActionLine:
    """One action as the exception lists show it."""

    code: str
    text: str
    area: str
    timeframe: str | None
    stage: str | None
    rag: str | None
    narrative: str
    #: barrier names, e.g. ["Funding", "Workforce"]
    barriers: list[str]
    next_steps: str
    #: direction of travel since the previous quarter (tracker.returns.queries names)
    direction: str
    previous_stage: str | None = None
    previous_rag: str | None = None
    target_stage: str | None = None
    target_period: str | None = None


@dataclass
class Direction:
    """How many actions improved, stayed the same or worsened against an earlier quarter."""

    #: the quarter compared with, or None when the council has no return for it
    compared_with: Period | None
    counts: Counter[str] = field(default_factory=Counter)
    improved: list[ActionLine] = field(default_factory=list)
    worsened: list[ActionLine] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def comparable(self) -> int:
        return self.counts[IMPROVED] + self.counts[UNCHANGED] + self.counts[WORSENED]


@dataclass(frozen=True)
class TrendPoint:
    """One quarter of the trend: the share of actions at Implementing or Embedded."""

    period: Period
    status: str
    stages: Counter[str]

    @property
    def advanced(self) -> Share:
        total = sum(self.stages.values())
        applicable = total - self.stages["not_applicable"]
        return Share(self.stages["implementing"] + self.stages["embedded"], applicable)


@dataclass(frozen=True)
class Funding:
    """Actions whose funding used includes one type of spend, and the pounds recorded on them.

    An amount recorded against several types of spend counts under each of them."""

    spend_type: str
    actions: int
    pounds: int


@dataclass(frozen=True)
class AreaPosition:
    """Where the council sits in one area against the medians of its region and the nation."""

    area: AreaRef
    council: Share
    region: Median
    nation: Median


@dataclass
class CouncilDashboard:
    """Everything the council dashboard (and the board report) shows for one council and period."""

    council: Council
    period: Period
    #: the return's status; "draft" only on the council's own dashboard (label it!)
    status: str | None
    areas: list[AreaCounts]
    #: timeframe key ("short", "medium", "long", "none") → counts by stage
    timeframes: dict[str, Counter[str]]
    since_last_quarter: Direction
    since_last_year: Direction
    #: up to eight quarters, oldest first, ending with this one
    trend: list[TrendPoint]
    #: Red now, or worse than last quarter
    red_or_worsened: list[ActionLine]
    #: past their target period without having reached their target stage
    past_target: list[ActionLine]
    funding: list[Funding]
    #: pounds recorded on the return, each assessment counted once
    funding_total: int
    co_produced: int
    #: distinct items of evidence linked to the return's assessments
    evidence: int
    positions: list[AreaPosition]
    #: actions in the return
    total: int = 0
    #: ReviewState value → actions in that state (a draft may hold actions not yet reviewed)
    reviews: Counter[str] = field(default_factory=Counter)
    #: the actions in the return by kind: "114 roadmap actions and 26 actions on barriers …"
    kinds: str = ""
    #: the co-production panel's comments on this return (none on a draft: the panel never
    #: sees one)
    comments: CommentTotals | None = None
    #: the panel's own view of each action beside the council's RAG (signed-off returns only;
    #: actions with fewer than ``MIN_PANEL_ANSWERS`` answers withheld)
    panel_views: PanelViewSummary | None = None
    #: how quickly the council answers them: the median time and the number overdue
    answer_times: AnswerTimes | None = None
    #: prevention tier key ("primary", "secondary", "tertiary", "none") → counts by stage; read
    #: from the same query as the rest of this quarter's figures
    prevention_tiers: dict[str, Counter[str]] = field(
        default_factory=lambda: {key: Counter() for key in PREVENTION_TIER_LABELS}
    )

    @property
    def is_draft(self) -> bool:
        return self.status == ReturnStatus.DRAFT

    @property
    def has_return(self) -> bool:
        return self.status is not None

    @property
    def stage_totals(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for area in self.areas:
            total.update(area.stages)
        return total

    @property
    def rag_totals(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for area in self.areas:
            total.update(area.rags)
        return total

    @property
    def advanced(self) -> Share:
        stages = self.stage_totals
        applicable = sum(stages.values()) - stages["not_applicable"]
        return Share(stages["implementing"] + stages["embedded"], applicable)


def _return_for(council: Council, period: Period, *, include_draft: bool) -> Return | None:
    query = select(Return).where(Return.council_id == council.id, Return.period_id == period.id)
    if not include_draft:
        query = query.where(_shared())
    return db.session.scalar(query)


def _earlier_returns(
    council: Council, period: Period, *, include_draft: bool
) -> dict[int, tuple[Return, Period]]:
    """sort key → (return, period) of the council's returns in the eight quarters up to and
    including ``period``, and the same quarter a year before (one query)."""
    key = _period_key(period)
    query = (
        select(Return, Period)
        .join(Period, Return.period_id == Period.id)
        .where(
            Return.council_id == council.id,
            _sort_key_sql() <= key,
            _sort_key_sql() > key - TREND_QUARTERS,
        )
    )
    if not include_draft:
        query = query.where(_shared())
    else:
        # Only this quarter's return may be the council's own draft; earlier ones count once
        # they have left the council.
        query = query.where(_shared() | (Return.period_id == period.id))
    return {_period_key(p): (r, p) for r, p in db.session.execute(query)}


def _line(row, direction: str, before: tuple[str | None, str | None] | None) -> ActionLine:
    return ActionLine(
        code=row.code,
        text=row.text,
        area=row.area_label,
        timeframe=row.timeframe,
        stage=row.stage,
        rag=row.rag,
        narrative=row.narrative or "",
        barriers=[BARRIERS.get(code, code) for code in (row.barriers or [])],
        next_steps=row.next_steps or "",
        direction=direction,
        previous_stage=before[0] if before else None,
        previous_rag=before[1] if before else None,
        target_stage=row.target_stage,
        target_period=row.target_period,
    )


def _past_target(row, period: Period) -> bool:
    if not row.target_period or row.stage not in STAGE_ORDER:
        return False
    try:
        year, quarter = parse_period_label(row.target_period)
    except ValueError:
        return False
    if year * 4 + quarter >= _period_key(period):
        return False
    target = row.target_stage or Stage.EMBEDDED.value
    if target not in STAGE_ORDER:
        return False
    return STAGE_ORDER[Stage(row.stage)] < STAGE_ORDER[Stage(target)]


def council_dashboard(
    council: Council, period: Period, *, include_draft: bool = False
) -> CouncilDashboard:
    """The council's picture for ``period``.

    :param include_draft: read the council's own draft for ``period`` if that is what it has
        (only for the council's own people); earlier quarters and every median still read
        submitted and signed-off returns only.
    :returns: a :class:`CouncilDashboard`; with ``status`` None and empty figures when the
        council has no return it may show for ``period``. At most nine queries (two more for
        the panel's view of a signed-off return), whatever the numbers of councils, actions
        and quarters.
    """
    areas = list_areas()
    returns = _earlier_returns(council, period, include_draft=include_draft)
    now = returns.get(_period_key(period))
    return_ = now[0] if now else None
    last_quarter = returns.get(_period_key(period) - 1)
    last_year = returns.get(_period_key(period) - 4)
    empty = CouncilDashboard(
        council=council,
        period=period,
        status=None,
        areas=[AreaCounts(area) for area in areas],
        timeframes={key: Counter() for key in TIMEFRAME_KEYS},
        since_last_quarter=Direction(last_quarter[1] if last_quarter else None),
        since_last_year=Direction(last_year[1] if last_year else None),
        trend=[],
        red_or_worsened=[],
        past_target=[],
        funding=[Funding(letter, 0, 0) for letter in SPEND_KEYS],
        funding_total=0,
        co_produced=0,
        evidence=0,
        positions=[],
    )
    if return_ is None:
        empty.positions = _positions(council, period, areas, {})
        return empty

    # Three queries, whatever the number of quarters: this quarter's assessments in full; the
    # stage and RAG of last quarter's and last year's, for the direction of travel; and each
    # trend quarter's count of actions by stage.
    period_of = {r.id: p for r, p in returns.values()}
    current = db.session.execute(
        select(
            Assessment.return_id,
            Assessment.action_id,
            Assessment.stage,
            Assessment.rag,
            Assessment.narrative,
            Assessment.next_steps,
            Assessment.barriers,
            Assessment.target_stage,
            Assessment.target_period,
            Assessment.is_co_produced,
            Assessment.spend_types,
            Assessment.amount_pounds,
            Assessment.is_carried_forward,
            Assessment.confirmed_at,
            Assessment.updated_at,
            Action.code,
            Action.text,
            Action.timeframe,
            Action.prevention_tier,
            ActionArea.code.label("area_code"),
            ActionArea.position.label("area_position"),
            ActionArea.title.label("area_title"),
        )
        .join(Action, Assessment.action_id == Action.id)
        .outerjoin(ActionArea, Action.area_id == ActionArea.id)
        .where(Assessment.return_id == return_.id)
        .order_by(Action.enabler_id.is_not(None), ActionArea.position, Action.position)
    ).all()
    earlier_ids = [x[0].id for x in (last_quarter, last_year) if x is not None]
    state: dict[int, dict[int, tuple[str | None, str | None]]] = defaultdict(dict)
    if earlier_ids:
        for return_id, action_id, stage, rag in db.session.execute(
            select(
                Assessment.return_id, Assessment.action_id, Assessment.stage, Assessment.rag
            ).where(Assessment.return_id.in_(earlier_ids))
        ):
            state[return_id][action_id] = (stage, rag)
    stages_by_return: dict[int, Counter[str]] = defaultdict(Counter)
    for return_id, stage, count in db.session.execute(
        select(Assessment.return_id, Assessment.stage, func.count())
        .where(Assessment.return_id.in_(list(period_of)))
        .group_by(Assessment.return_id, Assessment.stage)
    ):
        stages_by_return[return_id][stage or "none"] += count

    by_area = {area.key: AreaCounts(area) for area in areas}
    area_refs = {area.key: area for area in areas}
    timeframes: dict[str, Counter[str]] = {key: Counter() for key in TIMEFRAME_KEYS}

    dashboard = empty
    dashboard.status = return_.status
    dashboard.total = len(current)
    enablers = sum(1 for row in current if row.area_code is None)
    dashboard.kinds = action_kinds(len(current) - enablers, enablers)
    dashboard.reviews = Counter(
        ReviewState.of(
            is_carried_forward=row.is_carried_forward,
            confirmed_at=row.confirmed_at,
            updated_at=row.updated_at,
        ).value
        for row in current
    )
    before_quarter = state.get(last_quarter[0].id) if last_quarter else None
    before_year = state.get(last_year[0].id) if last_year else None
    funding_actions: Counter[str] = Counter()
    funding_pounds: Counter[str] = Counter()
    for row in current:
        key = _area_key(row.area_code)
        if key not in by_area:  # an archived area still answered in an old return
            area_refs[key] = AreaRef(key, row.area_position or 0, row.area_title or key)
            by_area[key] = AreaCounts(area_refs[key])
        row_area = area_refs[key]
        row = _Row(row, row_area.label)
        by_area[key].stages[row.stage or "none"] += 1
        if row.stage in ("planning", "implementing"):
            by_area[key].rags[row.rag or "none"] += 1
        timeframes[row.timeframe or "none"][row.stage or "none"] += 1
        dashboard.prevention_tiers[row.prevention_tier or NO_PREVENTION_TIER][
            row.stage or "none"
        ] += 1
        now_state = (row.stage, row.rag)
        quarter_before = before_quarter.get(row.action_id) if before_quarter is not None else None
        change = (
            direction_of_travel(quarter_before, now_state)
            if before_quarter is not None
            else NO_EARLIER
        )
        line = _line(row, change, quarter_before)
        dashboard.since_last_quarter.counts[change] += 1
        if change == IMPROVED:
            dashboard.since_last_quarter.improved.append(line)
        elif change == WORSENED:
            dashboard.since_last_quarter.worsened.append(line)
        if before_year is not None:
            year_before = before_year.get(row.action_id)
            yearly = direction_of_travel(year_before, now_state)
            dashboard.since_last_year.counts[yearly] += 1
            if yearly == IMPROVED:
                dashboard.since_last_year.improved.append(_line(row, yearly, year_before))
            elif yearly == WORSENED:
                dashboard.since_last_year.worsened.append(_line(row, yearly, year_before))
        if row.rag == "red" or change == WORSENED:
            dashboard.red_or_worsened.append(line)
        if _past_target(row, period):
            dashboard.past_target.append(line)
        for letter in row.spend_types or "":
            funding_actions[letter] += 1
            funding_pounds[letter] += row.amount_pounds or 0
        dashboard.funding_total += row.amount_pounds or 0
        dashboard.co_produced += row.is_co_produced is True

    dashboard.areas = list(by_area.values())
    dashboard.timeframes = timeframes
    dashboard.funding = [
        Funding(letter, funding_actions[letter], funding_pounds[letter]) for letter in SPEND_KEYS
    ]
    dashboard.trend = [
        TrendPoint(period_of[r.id], r.status, stages_by_return[r.id])
        for key, (r, _p) in sorted(returns.items())
        if key > _period_key(period) - TREND_QUARTERS
    ]
    dashboard.evidence = db.session.scalar(
        select(func.count(func.distinct(assessment_evidence.c.evidence_id)))
        .join(Assessment, Assessment.id == assessment_evidence.c.assessment_id)
        .where(Assessment.return_id == return_.id)
    )
    dashboard.positions = _positions(
        council, period, areas, {key: counts.advanced for key, counts in by_area.items()}
    )
    if return_.status != ReturnStatus.DRAFT:
        dashboard.comments = comment_totals(council, period)
        dashboard.answer_times = answer_times(council, period)
    if return_.status == ReturnStatus.SIGNED_OFF:
        dashboard.panel_views = panel_view_summary(return_)
    return dashboard


class _Row:
    """A result row with the label of its area beside it."""

    def __init__(self, row, area_label: str) -> None:
        self._row = row
        self.area_label = area_label

    def __getattr__(self, name: str):
        return getattr(self._row, name)


#: per database and period: the fingerprint of the period's shared returns, and the figures
#: computed from them (see :func:`_cached`)
_CACHE: OrderedDict[tuple[str, int], tuple[int, dict[str, Any]]] = OrderedDict()
_CACHE_SIZE = 32
_cache_lock = threading.Lock()


def _fingerprint(period: Period) -> int:
    """A hash of what the period's national figures are read from: each submitted or signed-off
    return's id, status, version (which changes with every submission, sign-off, sending back
    and reopening) and data version (which a database trigger moves whenever one of its
    assessments changes, however it was changed), its council's region and sharing choice, and
    the "figures" generation (moved by triggers whenever the roadmap, a council or a region
    changes). So a change made on another app node, by a restore or by hand in SQL is seen by
    the next request on every node. One small query."""
    generation = (
        select(CacheGeneration.value).where(CacheGeneration.name == FIGURES).scalar_subquery()
    )
    rows = db.session.execute(
        select(
            Return.id,
            Return.status,
            Return.version_id,
            Return.data_version,
            Council.region_id,
            Council.shares_named_returns,
            generation,
        )
        .join(Council, Council.id == Return.council_id)
        .where(Return.period_id == period.id, _shared())
        .order_by(Return.id)
    ).all()
    return hash(tuple(tuple(row) for row in rows))


def _cached(period: Period, name: str, compute: Callable[[], Any]) -> Any:
    """``compute()`` for the period, kept in this process while the period's shared returns
    stay as they are, so that every council's dashboard does not repeat the same national
    GROUP BY. Each call costs the fingerprint query; a miss, the computation as well."""
    key = (str(db.engine.url), period.id)
    fingerprint = _fingerprint(period)
    with _cache_lock:
        found = _CACHE.get(key)
        if found is not None and found[0] == fingerprint and name in found[1]:
            _CACHE.move_to_end(key)
            return found[1][name]
    value = compute()
    with _cache_lock:
        found = _CACHE.get(key)
        values = found[1] if found is not None and found[0] == fingerprint else {}
        values[name] = value
        _CACHE[key] = (fingerprint, values)
        _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return value


def _council_area_shares(
    period: Period, *, region_id: int | None = None
) -> list[tuple[int, int, str, int, int, int, int, int, bool]]:
    """(council id, region id, area key, applicable, advanced, red, amber, green, shares named
    returns) for every council with a submitted or signed-off return for ``period`` (of one
    region if given). One grouped query over every council, cached for the period."""
    rows = _cached(period, "area_shares", lambda: _query_council_area_shares(period))
    if region_id is None:
        return rows
    return [row for row in rows if row[1] == region_id]


def _query_council_area_shares(
    period: Period,
) -> list[tuple[int, int, str, int, int, int, int, int, bool]]:
    query = (
        select(
            Return.council_id,
            Council.region_id,
            ActionArea.code,
            _applicable(),
            _advanced(),
            _rag_sum("red"),
            _rag_sum("amber"),
            _rag_sum("green"),
            Council.shares_named_returns,
        )
        .join(Return, Assessment.return_id == Return.id)
        .join(Council, Council.id == Return.council_id)
        .join(Action, Assessment.action_id == Action.id)
        .outerjoin(ActionArea, Action.area_id == ActionArea.id)
        .where(Return.period_id == period.id, _shared())
        .group_by(
            Return.council_id, Council.region_id, Council.shares_named_returns, ActionArea.code
        )
    )
    return [
        (c, r, _area_key(a), int(app), int(adv), int(red), int(amber), int(green), bool(shares))
        for c, r, a, app, adv, red, amber, green, shares in db.session.execute(query)
    ]


def _positions(
    council: Council, period: Period, areas: list[AreaRef], own: dict[str, Share]
) -> list[AreaPosition]:
    """The council's share per area beside its region's and the nation's medians, each median
    over the other councils' submitted and signed-off returns (one query)."""
    region_shares: dict[str, list[float]] = defaultdict(list)
    nation_shares: dict[str, list[float]] = defaultdict(list)
    others_in_region: set[int] = set()
    others: set[int] = set()
    for council_id, region_id, key, applicable, advanced, *_rags in _council_area_shares(period):
        if council_id == council.id or not applicable:
            continue
        nation_shares[key].append(advanced / applicable)
        others.add(council_id)
        if region_id == council.region_id:
            region_shares[key].append(advanced / applicable)
            others_in_region.add(council_id)
    # Medians over the other councils only: each of them is unnamed to this council.
    return [
        AreaPosition(
            area=area,
            council=own.get(area.key, Share(0, 0)),
            region=median_of(region_shares[area.key], unnamed=len(region_shares[area.key])),
            nation=median_of(nation_shares[area.key], unnamed=len(nation_shares[area.key])),
        )
        for area in areas
    ]


# -- the regional comparison ------------------------------------------------------------------


@dataclass
class CouncilCell:
    """One council's figures in one area."""

    applicable: int = 0
    advanced: int = 0
    red: int = 0
    amber: int = 0
    green: int = 0

    @property
    def share(self) -> Share:
        return Share(self.advanced, self.applicable)

    @property
    def rag_text(self) -> str:
        return f"Red {self.red}, Amber {self.amber}, Green {self.green}"


@dataclass
class CouncilRow:
    """A council named in the comparison, with its cells by area key."""

    council: Council
    #: None when it has no submitted or signed-off return for the period
    status: str | None
    cells: dict[str, CouncilCell] = field(default_factory=dict)

    @property
    def has_return(self) -> bool:
        return self.status is not None

    def cell(self, key: str) -> CouncilCell:
        return self.cells.get(key) or CouncilCell()

    @property
    def overall(self) -> Share:
        return Share(
            sum(c.advanced for c in self.cells.values()),
            sum(c.applicable for c in self.cells.values()),
        )


@dataclass(frozen=True)
class ActionDistribution:
    """How many councils of the region have one action at each stage (None if not shown)."""

    code: str
    text: str
    area: str
    stages: Counter[str]
    #: the action's prevention tier key, or :data:`NO_PREVENTION_TIER`
    prevention_tier: str = NO_PREVENTION_TIER

    @property
    def councils(self) -> int:
        return sum(self.stages.values())


def prevention_tier_counts(distribution: Iterable[ActionDistribution]) -> dict[str, Counter[str]]:
    """Prevention tier key → councils' actions by stage, added up over ``distribution``: the
    regional and national counterpart of :attr:`CouncilDashboard.prevention_tiers`."""
    tiers: dict[str, Counter[str]] = {key: Counter() for key in PREVENTION_TIER_LABELS}
    for item in distribution:
        tiers[item.prevention_tier].update(item.stages)
    return tiers


@dataclass
class RegionComparison:
    """A region's councils side by side for one period, as the viewer may see them."""

    region: Region
    period: Period
    areas: list[AreaRef]
    #: councils named to this viewer, by name
    rows: list[CouncilRow]
    #: councils of the region with a submitted or signed-off return for the period
    councils_reporting: int
    #: councils in the region (active)
    councils_in_region: int
    #: of those reporting, how many the viewer cannot see by name (counted in aggregates only)
    unnamed_reporting: int
    #: area key → the median share of the reporting councils
    medians: dict[str, Median]
    #: area key → RAG counts over the reporting councils (None when not shown)
    rag_totals: dict[str, Counter[str] | None]
    #: one per action, in roadmap order; empty when aggregates may not be shown
    distribution: list[ActionDistribution]
    #: why the aggregates are not shown, or None
    aggregate_reason: str | None

    def row_for(self, gss_code: str | None) -> CouncilRow | None:
        return next((r for r in self.rows if r.council.gss_code == gss_code), None)


@dataclass(frozen=True)
class StageCounts:
    """One council's shared return for a period: its actions by stage and by RAG rating."""

    stages: Counter[str]
    rags: Counter[str]

    @property
    def total(self) -> int:
        return sum(self.stages.values())


def council_stage_counts(period: Period, councils: Iterable[Council]) -> dict[int, StageCounts]:
    """Council id → its actions by stage (``NOT_ASSESSED`` for none yet) and by RAG rating, over
    the submitted or signed-off returns of ``councils`` for ``period``. One grouped query; a
    council without a shared return is absent."""
    ids = [c.id for c in councils]
    counts: dict[int, StageCounts] = {}
    if not ids:
        return counts
    rows = db.session.execute(
        select(
            Return.council_id,
            func.coalesce(Assessment.stage, NOT_ASSESSED),
            Assessment.rag,
            func.count(Assessment.id),
        )
        .join(Assessment, Assessment.return_id == Return.id)
        .where(Return.period_id == period.id, Return.council_id.in_(ids), _shared())
        .group_by(Return.council_id, Assessment.stage, Assessment.rag)
    )
    for council_id, stage, rag, count in rows:
        entry = counts.setdefault(council_id, StageCounts(Counter(), Counter()))
        entry.stages[stage] += count
        if rag:
            entry.rags[rag] += count
    return counts


def region_comparison(
    region: Region, period: Period, *, viewer: Principal | None
) -> RegionComparison:
    """The region's councils side by side for ``period``, from submitted and signed-off returns.

    Councils that share named returns (and the viewer's own council) are named; the others are
    counted inside the medians, RAG totals and distributions only. Aggregates follow
    :func:`aggregate_refusal`. Four queries, whatever the number of councils.
    """
    areas = list_areas()
    councils = list(
        db.session.scalars(
            select(Council)
            .where(Council.region_id == region.id, Council.is_active)
            .order_by(Council.short_name)
        )
    )
    statuses = dict(
        db.session.execute(
            select(Return.council_id, Return.status)
            .join(Council, Council.id == Return.council_id)
            .where(Return.period_id == period.id, Council.region_id == region.id, _shared())
        ).all()
    )
    named = {c.id for c in councils if visibility.may_name(viewer, c)}
    rows = {
        c.id: CouncilRow(council=c, status=statuses.get(c.id)) for c in councils if c.id in named
    }
    shares: dict[str, list[float]] = defaultdict(list)
    rag_totals: dict[str, Counter[str]] = defaultdict(Counter)
    area_rows = _council_area_shares(period, region_id=region.id)
    for council_id, _region, key, applicable, advanced, red, amber, green, _shares in area_rows:
        if applicable:
            shares[key].append(advanced / applicable)
        rag_totals[key].update({"red": red, "amber": amber, "green": green})
        if council_id in rows:
            rows[council_id].cells[key] = CouncilCell(applicable, advanced, red, amber, green)
    reporting = set(statuses)
    unnamed = len(reporting - named)
    reason = aggregate_refusal(len(reporting), unnamed)
    # Asked for even when it will not be shown, so the page makes the same queries whatever the
    # number of councils reporting (and takes no measurably shorter time when figures are withheld).
    distribution = _distribution(period, region_id=region.id)
    if reason is not None:
        distribution = []
    return RegionComparison(
        region=region,
        period=period,
        areas=areas,
        rows=list(rows.values()),
        councils_reporting=len(reporting),
        councils_in_region=len(councils),
        unnamed_reporting=unnamed,
        medians={
            area.key: (
                Median(None, len(shares[area.key]), reason)
                if reason
                else median_of(shares[area.key], unnamed=0)
            )
            for area in areas
        },
        rag_totals={area.key: None if reason else rag_totals[area.key] for area in areas},
        distribution=distribution,
        aggregate_reason=reason,
    )


def _distribution(period: Period, *, region_id: int | None) -> list[ActionDistribution]:
    """Per action, councils at each stage (one grouped query)."""
    query = (
        select(
            Action.code,
            Action.text,
            ActionArea.code.label("area_code"),
            ActionArea.position,
            ActionArea.title,
            Action.prevention_tier,
            Assessment.stage,
            func.count(),
        )
        .join(Return, Assessment.return_id == Return.id)
        .join(Council, Council.id == Return.council_id)
        .join(Action, Assessment.action_id == Action.id)
        .outerjoin(ActionArea, Action.area_id == ActionArea.id)
        .where(Return.period_id == period.id, _shared())
        .group_by(
            Action.id,
            Action.code,
            Action.text,
            Action.enabler_id,
            Action.position,
            ActionArea.code,
            ActionArea.position,
            ActionArea.title,
            Action.prevention_tier,
            Assessment.stage,
        )
        .order_by(Action.enabler_id.is_not(None), ActionArea.position, Action.position)
    )
    if region_id is not None:
        query = query.where(Council.region_id == region_id)
    found: dict[str, ActionDistribution] = {}
    rows = db.session.execute(query)
    for code, text, area_code, position, title, tier, stage, count in rows:
        if code not in found:
            area = AreaRef(_area_key(area_code), position or 0, title or ENABLERS_LABEL)
            found[code] = ActionDistribution(
                code, text, area.label, Counter(), tier or NO_PREVENTION_TIER
            )
        found[code].stages[stage or "none"] += count
    return list(found.values())


@dataclass(frozen=True)
class RegionTrendPoint:
    """One quarter of a region's trend, pooled over its reporting councils' actions; the
    shares are None when the quarter's aggregates may not be shown (``reason`` says why)."""

    period: Period
    councils_reporting: int
    councils_in_region: int
    #: actions at Implementing or Embedded, of the applicable actions (all but Not applicable)
    advanced: Share | None
    #: Red ratings, of all RAG ratings given
    red: Share | None
    reason: str | None


def pooled_stages(comparison: RegionComparison) -> Counter[str]:
    """Every reporting council's actions by stage, added up ("none": not assessed); empty when
    the comparison's aggregates may not be shown."""
    total: Counter[str] = Counter()
    for item in comparison.distribution:
        total.update(item.stages)
    return total


def _trend_point(comparison: RegionComparison) -> RegionTrendPoint:
    reason = comparison.aggregate_reason
    advanced = red = None
    if reason is None:
        stages = pooled_stages(comparison)
        advanced = Share(
            sum(stages[s.value] for s in ADVANCED_STAGES),
            sum(stages.values()) - stages[Stage.NOT_APPLICABLE.value],
        )
        rags: Counter[str] = Counter()
        for counts in comparison.rag_totals.values():
            rags.update(counts or {})
        red = Share(rags["red"], sum(rags.values()))
    return RegionTrendPoint(
        period=comparison.period,
        councils_reporting=comparison.councils_reporting,
        councils_in_region=comparison.councils_in_region,
        advanced=advanced,
        red=red,
        reason=reason,
    )


def region_trend(
    region: Region, period: Period, *, viewer: Principal | None, quarters: int = TREND_QUARTERS
) -> list[RegionTrendPoint]:
    """The region over its last ``quarters`` quarters up to ``period`` (oldest first), each from
    :func:`region_comparison` for ``viewer``: the same returns, suppression and three-council
    rule as the region page."""
    key = _period_key(period)
    earlier = [p for p in list_periods(region=region) if _period_key(p) <= key][:quarters]
    if period not in earlier:
        earlier = [period, *earlier][:quarters]
    return [_trend_point(region_comparison(region, p, viewer=viewer)) for p in reversed(earlier)]


# -- the national view ------------------------------------------------------------------------


@dataclass
class RegionArea:
    """One region's figures in one area: pooled over its reporting councils."""

    councils: int = 0
    applicable: int = 0
    advanced: int = 0
    shares: list[float] = field(default_factory=list)
    reason: str | None = None

    @property
    def share(self) -> Share:
        return Share(self.advanced, self.applicable)

    @property
    def median(self) -> Median:
        return (
            median_of(self.shares, unnamed=0) if not self.reason else Median(None, 0, self.reason)
        )


@dataclass(frozen=True)
class BlockedAction:
    """An action and how many councils recorded the national barrier against it."""

    code: str
    text: str
    area: str
    timeframe: str | None
    lead: str
    councils: int
    #: of those, how many rated it Red
    red: int
    #: councils that reported on the action
    reporting: int


@dataclass
class NationalView:
    """Regions × areas, and the actions most often blocked by national barriers."""

    period: Period
    areas: list[AreaRef]
    regions: list[Region]
    #: region id → area key → figures
    cells: dict[int, dict[str, RegionArea]]
    #: region id → councils reporting
    reporting: dict[int, int]
    councils_reporting: int
    #: area key → median share over all reporting councils
    medians: dict[str, Median]
    #: most often blocked first; actions no council recorded the barrier against are left out
    blocked: list[BlockedAction]
    #: timeframe key → councils × actions with the national barrier recorded
    blocked_by_timeframe: Counter[str]
    aggregate_reason: str | None
    #: prevention tier key → every reporting council's actions by stage (empty when withheld)
    prevention_tiers: dict[str, Counter[str]] = field(default_factory=dict)


def national_view(
    period: Period, *, limit: int = 20, viewer: Principal | None = None
) -> NationalView:
    """Every region's share at Implementing or Embedded by area, and the ``limit`` actions most
    often recorded as blocked by legislation or national policy. Submitted and signed-off
    returns only; no council is named. A region's figures follow :func:`aggregate_refusal`:
    fewer than three reporting councils, or one or two that do not share named returns (whose
    answers the region's figure minus the named councils on the regional page would reveal),
    and they are not shown. Five queries, whatever the number of councils (the barriers and
    the prevention tiers are kept between requests while the period's returns stay as they
    are)."""
    areas = list_areas()
    regions = list(db.session.scalars(select(Region).order_by(Region.name)))
    cells: dict[int, dict[str, RegionArea]] = {
        r.id: {a.key: RegionArea() for a in areas} for r in regions
    }
    councils_by_region: dict[int, set[int]] = defaultdict(set)
    unnamed_by_region: dict[int, set[int]] = defaultdict(set)
    all_shares: dict[str, list[float]] = defaultdict(list)
    own = {m.council_id for m in viewer.memberships if m.council_id} if viewer else set()
    for council_id, region_id, key, applicable, advanced, *_rags, shares in _council_area_shares(
        period
    ):
        councils_by_region[region_id].add(council_id)
        if not shares and council_id not in own:
            unnamed_by_region[region_id].add(council_id)
        cell = cells.setdefault(region_id, {}).setdefault(key, RegionArea())
        cell.applicable += applicable
        cell.advanced += advanced
        if applicable:
            cell.shares.append(advanced / applicable)
            all_shares[key].append(advanced / applicable)
    for region_id, by_area in cells.items():
        reason = aggregate_refusal(
            len(councils_by_region[region_id]), len(unnamed_by_region[region_id])
        )
        for cell in by_area.values():
            cell.councils = len(councils_by_region[region_id])
            if reason:
                cell.reason = reason
                cell.applicable = cell.advanced = 0
                cell.shares = []
    reporting_total = sum(len(c) for c in councils_by_region.values())
    reason = aggregate_refusal(reporting_total, 0)
    # Worked out even when withheld, as on the regional page: the same queries at any scale.
    (blocked, by_timeframe), tiers = _cached(
        period,
        f"blocked-{limit}-and-tiers",
        lambda: (
            _blocked(period, limit),
            prevention_tier_counts(_distribution(period, region_id=None)),
        ),
    )
    if reason:
        blocked, by_timeframe, tiers = [], Counter(), {}
    return NationalView(
        period=period,
        areas=areas,
        regions=regions,
        cells=cells,
        reporting={r.id: len(councils_by_region[r.id]) for r in regions},
        councils_reporting=reporting_total,
        medians={
            a.key: (Median(None, 0, reason) if reason else median_of(all_shares[a.key], unnamed=0))
            for a in areas
        },
        blocked=blocked,
        blocked_by_timeframe=by_timeframe,
        aggregate_reason=reason,
        prevention_tiers=tiers,
    )


def _blocked(period: Period, limit: int) -> tuple[list[BlockedAction], Counter[str]]:
    # The barriers are a JSON list; its text holds '"legislation"' on SQLite and PostgreSQL alike.
    has_barrier = cast(Assessment.barriers, String).like(f'%"{NATIONAL_BARRIER}"%')
    blocked = func.coalesce(func.sum(case((has_barrier, 1), else_=0)), 0)
    blocked_red = func.coalesce(
        func.sum(case((and_(has_barrier, Assessment.rag == "red"), 1), else_=0)), 0
    )
    rows = db.session.execute(
        select(
            Action.code,
            Action.text,
            Action.timeframe,
            Action.lead,
            ActionArea.code,
            ActionArea.position,
            ActionArea.title,
            blocked.label("blocked"),
            blocked_red,
            func.count(),
        )
        .join(Return, Assessment.return_id == Return.id)
        .join(Action, Assessment.action_id == Action.id)
        .outerjoin(ActionArea, Action.area_id == ActionArea.id)
        .where(Return.period_id == period.id, _shared())
        .group_by(
            Action.id,
            Action.code,
            Action.text,
            Action.timeframe,
            Action.lead,
            ActionArea.code,
            ActionArea.position,
            ActionArea.title,
        )
    ).all()
    by_timeframe: Counter[str] = Counter()
    found = []
    for code, text, timeframe, lead, area_code, position, title, count, red, reporting in rows:
        if not count:
            continue
        by_timeframe[timeframe or "none"] += int(count)
        area = AreaRef(_area_key(area_code), position or 0, title or ENABLERS_LABEL)
        found.append(
            BlockedAction(code, text, area.label, timeframe, lead, int(count), int(red), reporting)
        )
    found.sort(key=lambda b: (-b.councils, b.code))
    return found[:limit], by_timeframe


# -- the council's choice to share named returns ------------------------------------------------


def set_sharing(council: Council, shares: bool, *, actor) -> bool:
    """Record whether the council shares its named returns with its region; audited.

    :returns: True when the choice changed.
    """
    from tracker.audit import record

    if council.shares_named_returns == shares:
        return False
    before = council.shares_named_returns
    council.shares_named_returns = shares
    db.session.flush()
    record(
        actor=actor,
        action="council.sharing",
        object_type="council",
        object_id=council.id,
        council_id=council.id,
        before={"shares_named_returns": before},
        after={"shares_named_returns": shares},
    )
    return True


def barrier_names() -> dict[str, str]:
    """The barriers' codes and names."""
    return dict(BARRIERS)


def periods_labels(periods: Iterable[Period]) -> list[str]:
    return [p.label for p in periods]


__all__ = [
    "NOT_COMPARABLE",
    "ActionDistribution",
    "ActionLine",
    "AreaCounts",
    "AreaPosition",
    "AreaRef",
    "BlockedAction",
    "CouncilDashboard",
    "CouncilRow",
    "Direction",
    "Funding",
    "Median",
    "NationalView",
    "RegionComparison",
    "Share",
    "TrendPoint",
    "council_dashboard",
    "council_stage_counts",
    "default_period",
    "find_period",
    "list_periods",
    "national_view",
    "region_comparison",
    "set_sharing",
]
