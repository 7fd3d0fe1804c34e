"""A report's figures: the council board report and the regional pack, counted in SQL.

Everything a report prints comes from here, so the PDF, its HTML preview, the spreadsheet export
and the tests all read the same numbers. Drafts never leave the council: the regional pack reads
submitted and signed-off returns only, and a council report of a draft is built only for the
council's own people (the views check who asks).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from tracker.compare import charts as compare_charts
from tracker.compare import services as compare_services
from tracker.compare.charts import Chart
from tracker.compare.services import RegionComparison
from tracker.domain.periods import months, parse_period_slug, target_passed
from tracker.domain.principal import Principal
from tracker.domain.vocabulary import (
    LEAD_NAMES,
    NOT_ASSESSED,
    RAG_NAMES,
    RETURN_STATUS_NAMES,
    STAGE_LABELS,
    STAGE_NAMES,
    STAGE_ORDER,
    TIMEFRAME_NAMES,
    tag_labels,
)
from tracker.extensions import db
from tracker.models import (
    Action,
    ActionArea,
    Assessment,
    Council,
    Evidence,
    Period,
    Region,
    Return,
    ReturnStatus,
    Stage,
    User,
    assessment_evidence,
)
from tracker.panels.services import PanelViewSummary, panel_view_summary
from tracker.reports import paper
from tracker.returns.queries import (
    DIRECTION_NAMES,
    IMPROVED,
    UNCHANGED,
    WORSENED,
    action_rows,
    display_names,
    kinds_of,
    previous_return,
)
from tracker.returns.services import BARRIERS

DIRECTIONS = (IMPROVED, UNCHANGED, WORSENED)
ARROWS = {IMPROVED: "↑", UNCHANGED: "→", WORSENED: "↓"}


# -- the council board report ---------------------------------------------------------------------


@dataclass
class ActionDetail:
    """One action of the return, as the area-by-area detail and the exception report print it."""

    code: str
    text: str
    area_label: str
    timeframe: str
    lead: str
    tags: list[str]
    stage: str
    rag: str
    direction: str
    previous: str
    narrative: str
    next_steps: str
    barriers: list[str]
    barrier_detail: str
    lead_officer: str
    target: str
    not_applicable_reason: str
    co_produced: str
    evidence: list[str]
    is_red: bool
    is_worsened: bool
    #: the target period has passed and the target stage is not reached
    is_past_target: bool = False
    #: the stored values behind the words, for the paper's sums and groupings
    stage_code: str | None = None
    previous_stage_code: str | None = None
    spend_types: str = ""
    funding_level: int | None = None
    legislative_level: int | None = None
    amount_pounds: int | None = None
    funding_source: str = ""
    barrier_codes: list[str] = field(default_factory=list)

    @property
    def exception_reasons(self) -> list[str]:
        """Why the action is in the exception report: "Red", "Worse than last quarter (was
        …)", "Target date passed"."""
        reasons = []
        if self.is_red:
            reasons.append("Red")
        if self.is_worsened:
            reasons.append(f"Worse than last quarter (was {self.previous})")
        if self.is_past_target:
            reasons.append(f"Target date passed ({self.target})")
        return reasons

    @property
    def arrow(self) -> str:
        return ARROWS.get(self.direction_code, "")

    @property
    def stage_and_rag(self) -> str:
        """The stage and RAG rating, e.g. "Implementing, Red"; the stage alone without one."""
        return f"{self.stage}, {self.rag}" if self.rag else self.stage

    direction_code: str = ""


@dataclass
class AreaSummary:
    """One line of the summary table: an area's stage mix, RAG and direction of travel."""

    label: str
    total: int
    stages: dict[str, int]
    rags: dict[str, int]
    directions: dict[str, int]

    @property
    def net_direction(self) -> str:
        """improved, worsened or unchanged: which way the area moved on balance."""
        balance = self.directions.get(IMPROVED, 0) - self.directions.get(WORSENED, 0)
        return IMPROVED if balance > 0 else WORSENED if balance < 0 else UNCHANGED


@dataclass
class CoProduction:
    """Comments from the council's co-production panel on this return, and the answers."""

    available: bool
    received: int = 0
    answered: int = 0
    open: int = 0
    #: hidden by the council (personal details, abuse) and not answered
    hidden: int = 0
    #: the median working days to answer, None with no answers; comments waiting longer than
    #: the council's aim (``aim_days``, working days)
    median_days: float | None = None
    overdue: int = 0
    aim_days: int | None = None
    #: (action code, what the panel said, what the council did), display names only
    you_said_we_did: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class CouncilReport:
    """The council's quarterly board paper: one model that the PDF and the Word document both
    print, in the order of a council committee report (``docs/reports.md``)."""

    council: Council
    period: Period
    return_: Return
    status_name: str
    submitted_by: str | None
    signed_off_by: str | None
    previous_period: Period | None
    total: int
    stages: dict[str, int]
    rags: dict[str, int]
    directions: dict[str, int]
    areas: list[AreaSummary]
    #: Red, worse than last quarter, or past the target date
    exceptions: list[ActionDetail]
    actions: list[ActionDetail]
    coproduction: CoProduction
    #: the headline figures in sentences, with denominators and change
    summary: list[str]
    charts: list[Chart] = field(default_factory=list)
    generated_at: datetime | None = None
    #: the quarter as its months: "October to December 2026"
    quarter: str = ""
    #: the Director's own words and recommendations, written at sign-off (never invented)
    director_summary: str = ""
    recommendations: list[str] = field(default_factory=list)
    #: the actions by kind: "114 roadmap actions and 26 actions on barriers and enablers"
    kinds: str = ""
    area_progress: list[paper.AreaProgress] = field(default_factory=list)
    financial: paper.Financial | None = None
    risks: paper.Risks | None = None
    trend: list[paper.TrendRow] = field(default_factory=list)
    #: what the paper compares with: "last quarter" and "a year ago" (None when there is none)
    last_year_period: Period | None = None
    #: the panel's own view of each action beside the council's RAG (a signed-off return's;
    #: counts only, from at least ``MIN_PANEL_ANSWERS`` answers, never names or comments)
    panel_views: PanelViewSummary = field(default_factory=PanelViewSummary)

    def chart(self, chart_id: str) -> Chart | None:
        """The paper's chart with this id, or None when it has nothing to show."""
        return next((c for c in self.charts if c.id == chart_id), None)

    @property
    def author(self) -> str:
        """Who the paper is from: the Director who signed it off."""
        return self.signed_off_by or ""

    @property
    def dated(self) -> datetime | None:
        """The paper's date: its sign-off, or when it was produced."""
        return self.return_.signed_off_at if self.is_signed_off else self.generated_at

    @property
    def is_signed_off(self) -> bool:
        return self.return_.status == ReturnStatus.SIGNED_OFF

    @property
    def groups(self) -> list[tuple[str, list[ActionDetail]]]:
        """The actions by area, in roadmap order."""
        groups: list[tuple[str, list[ActionDetail]]] = []
        for action in self.actions:
            if not groups or groups[-1][0] != action.area_label:
                groups.append((action.area_label, []))
            groups[-1][1].append(action)
        return groups


def _details(return_: Return) -> tuple[dict[str, Assessment], dict[int, list[str]]]:
    """code → assessment (action loaded), and assessment id → evidence titles: two queries."""
    rows = db.session.execute(
        select(Action, Assessment)
        .join(Assessment, Assessment.action_id == Action.id)
        .where(Assessment.return_id == return_.id)
    )
    by_code = {}
    for action, assessment in rows:
        by_code[action.code] = (action, assessment)
    evidence: dict[int, list[str]] = defaultdict(list)
    for assessment_id, title in db.session.execute(
        select(assessment_evidence.c.assessment_id, Evidence.title)
        .join(Evidence, Evidence.id == assessment_evidence.c.evidence_id)
        .join(Assessment, Assessment.id == assessment_evidence.c.assessment_id)
        .where(Assessment.return_id == return_.id)
        .order_by(Evidence.title)
    ):
        evidence[assessment_id].append(title)
    return by_code, evidence


def _area_counts(return_: Return) -> dict[str, dict[str, Counter[str]]]:
    """area label → {"stages": Counter, "rags": Counter}: one GROUP BY query."""
    label = func.coalesce(ActionArea.title, "Barriers and enablers")
    rows = db.session.execute(
        select(
            ActionArea.position,
            label,
            func.coalesce(Assessment.stage, NOT_ASSESSED),
            Assessment.rag,
            func.count(Assessment.id),
        )
        .join(Action, Assessment.action_id == Action.id)
        .outerjoin(ActionArea, Action.area_id == ActionArea.id)
        .where(Assessment.return_id == return_.id)
        .group_by(ActionArea.position, label, Assessment.stage, Assessment.rag)
    )
    counts: dict[str, dict[str, Counter[str]]] = {}
    for position, title, stage, rag, count in rows:
        key = f"{position}. {title}" if position is not None else "Barriers and enablers"
        entry = counts.setdefault(key, {"stages": Counter(), "rags": Counter()})
        entry["stages"][stage] += count
        if rag:
            entry["rags"][rag] += count
    return counts


def _coproduction(council: Council, period: Period) -> CoProduction:
    """The panel's comments, from the panels feature: totals, and the latest "you
    said, we did" with display names only (a real name only where the member opted in).

    A board report is the council's paper for its board, shared with its region and the nation
    and cached for all of them: it is drawn for no one in particular, so it asks the rule about
    nobody (``visibility.may_see_panel_member_names(None, …)``), whoever downloads it."""
    try:
        from tracker.domain import visibility
        from tracker.panels.services import answer_times, comment_totals, list_you_said_we_did
    except ImportError:  # the panels feature is not in this build
        return CoProduction(available=False)
    totals = comment_totals(council, period)
    times = answer_times(council, period)
    return CoProduction(
        available=True,
        received=totals.received,
        answered=totals.answered,
        open=totals.open,
        hidden=totals.hidden,
        median_days=times.median_days,
        overdue=times.overdue,
        aim_days=times.aim_days,
        you_said_we_did=[
            {
                "action_code": item.action_code,
                "said": item.comment,
                "did": item.answer,
                "change": item.change_made,
                "by": item.display_name,
            }
            for item in list_you_said_we_did(
                council,
                period,
                limit=5,
                shows_real_names=visibility.may_see_panel_member_names(None, council),
            )
        ],
    )


def _target(assessment: Assessment) -> str:
    parts = []
    if assessment.target_stage:
        parts.append(STAGE_NAMES.get(assessment.target_stage, assessment.target_stage))
    if assessment.target_period:
        parts.append(f"by {assessment.target_period}")
    return " ".join(parts)


def build_council_report(return_: Return, *, include_draft_history: bool) -> CouncilReport:
    """Every figure of a council's quarterly board report for one return.

    :param include_draft_history: compare with last quarter's return even if it is a draft (the
        council's own people); False compares with its last submitted or signed-off return.
    """
    council, period = return_.council, return_.period
    previous = previous_return(return_, include_drafts=include_draft_history)
    rows = action_rows(return_, previous)
    by_code, evidence = _details(return_)
    area_counts = _area_counts(return_)
    names = display_names([return_.submitted_by_id, return_.signed_off_by_id])

    stages: Counter[str] = Counter()
    rags: Counter[str] = Counter()
    for entry in area_counts.values():
        stages.update(entry["stages"])
        rags.update(entry["rags"])
    directions: Counter[str] = Counter(row.direction for row in rows)

    details: list[ActionDetail] = []
    area_directions: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        action, assessment = by_code[row.code]
        area_key = row.area_label if row.area_code else "Barriers and enablers"
        area_directions[area_key][row.direction] += 1
        previous_text = ""
        if row.previous_stage:
            previous_text = STAGE_NAMES.get(row.previous_stage, row.previous_stage)
            if row.previous_rag:
                previous_text += f", {RAG_NAMES[row.previous_rag]}"
        details.append(
            ActionDetail(
                code=row.code,
                text=row.text,
                area_label=row.area_label,
                timeframe=TIMEFRAME_NAMES.get(row.timeframe or "", ""),
                lead=LEAD_NAMES.get(row.lead, row.lead),
                tags=tag_labels(action),
                stage=STAGE_LABELS.get(row.stage or NOT_ASSESSED, ""),
                rag=RAG_NAMES.get(row.rag or "", ""),
                direction=DIRECTION_NAMES.get(row.direction, ""),
                direction_code=row.direction,
                previous=previous_text,
                narrative=assessment.narrative,
                next_steps=assessment.next_steps,
                barriers=[BARRIERS.get(code, code) for code in assessment.barriers or []],
                barrier_detail=assessment.barrier_detail,
                lead_officer=assessment.lead_officer,
                target=_target(assessment),
                not_applicable_reason=assessment.not_applicable_reason,
                co_produced=(
                    ""
                    if assessment.is_co_produced is None
                    else "Yes"
                    if assessment.is_co_produced
                    else "No"
                ),
                evidence=evidence.get(assessment.id, []),
                is_red=row.rag == "red",
                is_worsened=row.direction == WORSENED,
                is_past_target=_past_target(row.stage, assessment, period),
                stage_code=row.stage,
                previous_stage_code=row.previous_stage,
                spend_types=action.spend_types or "",
                funding_level=action.funding_level,
                legislative_level=action.legislative_level,
                amount_pounds=assessment.amount_pounds,
                funding_source=assessment.funding_source or "",
                barrier_codes=list(assessment.barriers or []),
            )
        )

    areas = [
        AreaSummary(
            label=label,
            total=sum(entry["stages"].values()),
            stages=dict(entry["stages"]),
            rags=dict(entry["rags"]),
            directions=dict(area_directions.get(label, Counter())),
        )
        for label, entry in sorted(area_counts.items(), key=lambda kv: _area_sort(kv[0]))
    ]
    exceptions = [d for d in details if d.is_red or d.is_worsened or d.is_past_target]
    last_year = paper.same_quarter_last_year(return_)
    by_kind = paper.stage_counts_by_kind(
        [r.id for r in (return_, previous, last_year) if r is not None]
    )
    report = CouncilReport(
        council=council,
        period=period,
        return_=return_,
        status_name=RETURN_STATUS_NAMES.get(return_.status, return_.status),
        submitted_by=names.get(return_.submitted_by_id or 0),
        signed_off_by=names.get(return_.signed_off_by_id or 0),
        previous_period=previous.period if previous else None,
        total=len(rows),
        stages=dict(stages),
        rags=dict(rags),
        directions=dict(directions),
        areas=areas,
        exceptions=exceptions,
        actions=details,
        coproduction=_coproduction(council, period),
        panel_views=panel_view_summary(return_),
        summary=paper.progress_sentences(
            by_kind[return_.id],
            by_kind[previous.id] if previous else None,
            by_kind[last_year.id] if last_year else None,
        ),
        quarter=months(period.label),
        director_summary=return_.director_summary or "",
        recommendations=list(return_.board_recommendations or []),
        kinds=kinds_of(rows),
        area_progress=paper.area_progress(details, has_previous=previous is not None),
        financial=paper.financial(details),
        risks=paper.risks(details),
        trend=paper.trend(return_),
        last_year_period=last_year.period if last_year else None,
    )
    titles = {d.code: d.text for d in details}
    for item in report.coproduction.you_said_we_did:
        item["action"] = titles.get(item["action_code"], "")
    report.charts = council_charts(return_)
    return report


def _past_target(stage: str | None, assessment: Assessment, period: Period) -> bool:
    """The target period ended before this quarter and the target stage is not reached."""
    if not target_passed(assessment.target_period, period.year, period.quarter):
        return False
    if stage in (None, Stage.NOT_APPLICABLE):
        return stage is None
    target = assessment.target_stage
    return target is None or STAGE_ORDER.get(stage, 0) < STAGE_ORDER.get(target, 0)


def _area_sort(label: str) -> tuple[int, str]:
    number = label.split(".", 1)[0]
    return (int(number), label) if number.isdigit() else (10_000, label)


#: the dashboard's charts that the board paper prints, each in its own section
PAPER_CHARTS = (
    compare_charts.stage_mix_by_area,
    compare_charts.rag_by_area,
    compare_charts.trend,
    compare_charts.funding_by_spend_type,
)


def council_charts(return_: Return) -> list[Chart]:
    """The board paper's charts: the council dashboard's figures, from the same data (the
    council's own draft included when the paper is of a draft). Only the charts with something
    to show: the paper says in a sentence why any other is missing."""
    dashboard = compare_services.council_dashboard(
        return_.council, return_.period, include_draft=return_.status == ReturnStatus.DRAFT
    )
    return [chart for draw in PAPER_CHARTS if _has_data(chart := draw(dashboard))]


def _has_data(chart: Chart) -> bool:
    """True when some figure in the chart's table ("3", "£1,200", "45%") is not zero."""
    table = chart.table
    return any(
        any(ch in "123456789" for ch in str(row[index]))
        for row in table.rows
        for index in table.numeric
        if index < len(row)
    )


# -- the regional pack ----------------------------------------------------------------------------


@dataclass
class CouncilLine:
    """One council of the named table: its shared return's actions by stage and RAG rating."""

    name: str
    gss_code: str
    status: str
    total: int
    stages: dict[str, int]
    rags: dict[str, int]


@dataclass(frozen=True)
class ActionSpread:
    """One action over the region's reporting councils: how many are at each stage."""

    code: str
    text: str
    area: str
    #: the councils whose return has this action: the denominator of every figure here
    councils: int
    stages: dict[str, int]

    @property
    def advanced(self) -> int:
        return self.stages.get("implementing", 0) + self.stages.get("embedded", 0)

    @property
    def embedded(self) -> int:
        return self.stages.get("embedded", 0)

    @property
    def started(self) -> int:
        return self.advanced + self.stages.get("planning", 0)

    def of(self, count: int) -> str:
        """ "12 of 15 councils (80%)"."""
        return of_councils(count, self.councils)


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "–"


def of_councils(count: int, whole: int) -> str:
    """ "12 of 15 councils (80%)": a count always with its denominator."""
    return (
        f"{count} of {whole} {'council' if whole == 1 else 'councils'} ({_percent(count, whole)})"
    )


def _shortened(text: str, limit: int = 90) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"


@dataclass
class RegionPack:
    """The regional comparison pack: the region's comparison (``compare.region_comparison``,
    the same figures, suppression and naming as the region page) with each named council's
    counts, the actions over the councils, the quarters before, and the charts drawn from
    those same comparisons."""

    comparison: RegionComparison
    #: councils whose return is submitted or signed off and that the viewer may name
    shared: list[CouncilLine]
    #: named councils with no shared return yet (names only: drafts never leave the council)
    not_shared: list[str]
    #: councils without a shared return yet that the viewer may not name: counted, never named
    unnamed_waiting: int
    #: every action over the reporting councils, in roadmap order (empty when not shown)
    actions: list[ActionSpread] = field(default_factory=list)
    #: the region over the quarters up to this one, oldest first
    trend: list[compare_services.RegionTrendPoint] = field(default_factory=list)
    #: the charts there is something to draw for (heatmap, distribution, prevention, trend)
    charts: list[Chart] = field(default_factory=list)
    generated_at: datetime | None = None

    @property
    def region(self) -> Region:
        return self.comparison.region

    @property
    def period(self) -> Period:
        return self.comparison.period

    @property
    def council_count(self) -> int:
        return self.comparison.councils_in_region

    @property
    def unnamed(self) -> int:
        """Councils with a shared return that the viewer may not name: in the aggregates only."""
        return self.comparison.unnamed_reporting

    @property
    def reporting(self) -> int:
        return self.comparison.councils_reporting

    def chart(self, chart_id: str) -> Chart | None:
        return next((c for c in self.charts if c.id == chart_id), None)

    @property
    def furthest_on(self) -> list[ActionSpread]:
        """The ten actions the most councils have at Implementing or Embedded."""
        ranked = sorted(
            self.actions, key=lambda a: (-a.advanced / (a.councils or 1), -a.embedded, a.code)
        )
        return ranked[:10]

    @property
    def least_far_on(self) -> list[ActionSpread]:
        """The ten actions the fewest councils have started (Planning or further)."""
        ranked = sorted(
            self.actions, key=lambda a: (a.started / (a.councils or 1), a.advanced, a.code)
        )
        return ranked[:10]

    @property
    def actions_by_area(self) -> list[tuple[str, list[ActionSpread]]]:
        grouped: dict[str, list[ActionSpread]] = {}
        for action in self.actions:
            grouped.setdefault(action.area, []).append(action)
        return list(grouped.items())

    @property
    def summary(self) -> list[str]:
        return pack_summary(self)

    @property
    def trend_withheld(self) -> list[str]:
        """The quarters of the trend whose regional figures may not be shown."""
        return [p.period.label for p in self.trend if p.reason is not None]


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def pack_summary(pack: RegionPack) -> list[str]:
    """The pack's opening sentences, in the British Red Cross's manner: plain counts, each with
    its denominator and percentage, the change since the last quarter, and no league table."""
    c = pack.comparison
    n = c.councils_reporting
    lines = [
        f"{of_councils(n, c.councils_in_region)} in {pack.region.name} "
        f"{'has' if n == 1 else 'have'} submitted or signed off their return for "
        f"{pack.period.label}."
    ]
    if c.aggregate_reason is not None:
        why = c.aggregate_reason.removeprefix("Not shown: ")
        lines.append(f"Regional figures are not shown for this quarter: {why}.")
        return lines
    if pack.unnamed:
        lines.append(
            f"{_plural(pack.unnamed, 'of them is', 'of them are')} counted in the regional "
            "figures but not named, because "
            f"{'it keeps its' if pack.unnamed == 1 else 'they keep their'} returns to "
            f"{'itself' if pack.unnamed == 1 else 'themselves'}."
        )
    point = pack.trend[-1] if pack.trend else None
    if point is not None and point.advanced is not None:
        sentence = (
            f"Across those councils, {point.advanced.part:,} of {point.advanced.whole:,} "
            f"applicable actions ({_percent(point.advanced.part, point.advanced.whole)}) are at "
            "Implementing or Embedded"
        )
        before = pack.trend[-2] if len(pack.trend) > 1 else None
        if before is not None and before.advanced is not None:
            change = (point.advanced.percent or 0) - (before.advanced.percent or 0)
            movement = (
                "the same as"
                if change == 0
                else f"{'up' if change > 0 else 'down'} "
                f"{_plural(abs(change), 'percentage point', 'percentage points')} on"
            )
            sentence += f", {movement} {before.period.label} ({before.advanced.percent}%)"
        lines.append(sentence + ".")
    if pack.actions:
        top = max(pack.actions, key=lambda a: (a.embedded / (a.councils or 1), a.code))
        lines.append(
            f"{top.of(top.embedded)} {'has' if top.embedded == 1 else 'have'} embedded "
            f"{top.code}, “{_shortened(top.text)}”."
        )
        low = pack.least_far_on[0]
        lines.append(
            (
                f"None of the {low.councils} councils has started on"
                if low.started == 0
                else f"{low.of(low.started)} {'has' if low.started == 1 else 'have'} started on"
            )
            + f" {low.code}, “{_shortened(low.text)}”."
        )
    shown = [(a, c.medians[a.key]) for a in c.areas if c.medians[a.key].percent is not None]
    if len(shown) >= 2:
        ranked = sorted(shown, key=lambda item: item[1].value or 0)
        (low_area, low_m), (high_area, high_m) = ranked[0], ranked[-1]
        lines.append(
            f"The median council is furthest on in {high_area.label} ({high_m.percent}% of its "
            f"actions there at Implementing or Embedded) and least far on in {low_area.label} "
            f"({low_m.percent}%)."
        )
    if point is not None and point.red is not None and point.red.whole:
        lines.append(
            f"{point.red.part:,} of {point.red.whole:,} RAG ratings "
            f"({_percent(point.red.part, point.red.whole)}) are Red."
        )
    return lines


def build_region_pack(region: Region, period: Period, *, viewer: Principal | None) -> RegionPack:
    """The regional comparison pack for ``viewer``: heatmap, distribution by area, the actions
    furthest on and least far on, the trend, and the named table.

    Built from ``region_comparison`` (only submitted and signed-off returns; a council still
    at draft is named as "not yet submitted" when the viewer may name it, and nothing of its
    draft appears) for this quarter and the ones before it, plus one query for the named
    councils' stage and RAG counts.
    """
    comparison = compare_services.region_comparison(region, period, viewer=viewer)
    reporting = [row for row in comparison.rows if row.has_return]
    counts = compare_services.council_stage_counts(period, [row.council for row in reporting])
    shared = []
    for row in reporting:
        entry = counts.get(row.council.id)
        shared.append(
            CouncilLine(
                name=row.council.short_name,
                gss_code=row.council.gss_code,
                status=ReturnStatus(row.status).label,
                total=entry.total if entry else 0,
                stages=dict(entry.stages) if entry else {},
                rags=dict(entry.rags) if entry else {},
            )
        )
    not_shared = [row.council.short_name for row in comparison.rows if not row.has_return]
    waiting = comparison.councils_in_region - comparison.councils_reporting - len(not_shared)
    # comparison.distribution is empty whenever the three-council rule withholds aggregates.
    actions = [
        ActionSpread(d.code, d.text, d.area, d.councils, dict(d.stages))
        for d in comparison.distribution
    ]
    trend = compare_services.region_trend(region, period, viewer=viewer)
    charts = []
    if reporting:
        charts.append(compare_charts.region_heatmap(comparison, width=1100))
    if actions:
        charts.append(compare_charts.action_distribution(comparison, width=900))
        charts.append(compare_charts.region_prevention_tiers(comparison))
    if any(p.advanced is not None for p in trend):
        charts.append(compare_charts.region_trend(trend, region.name))
    return RegionPack(
        comparison=comparison,
        shared=shared,
        not_shared=not_shared,
        unnamed_waiting=waiting,
        actions=actions,
        trend=trend,
        charts=charts,
    )


def get_period_by_slug(slug: str) -> Period | None:
    """The period named in a URL ("2025-26-Q3"), or None."""
    parsed = parse_period_slug(slug)
    if parsed is None:
        return None
    year, quarter = parsed
    return db.session.scalar(select(Period).where(Period.year == year, Period.quarter == quarter))


def get_period_by_label(label: str) -> Period | None:
    """The period with this label ("2025-26 Q3"), or None."""
    return get_period_by_slug(label.strip().replace(" ", "-"))


def user_name(user_id: int | None) -> str | None:
    return (
        db.session.scalar(select(User.display_name).where(User.id == user_id)) if user_id else None
    )
