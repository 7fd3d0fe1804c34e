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

from tracker.extensions import db
from tracker.filters import (
    LEAD_NAMES,
    RAG_NAMES,
    RETURN_STATUS_NAMES,
    STAGE_NAMES,
    TIMEFRAME_NAMES,
    tag_labels,
)
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
    User,
    assessment_evidence,
)
from tracker.reports.charts import Chart
from tracker.returns import queries
from tracker.returns.queries import (
    DIRECTION_NAMES,
    IMPROVED,
    UNCHANGED,
    WORSENED,
    action_rows,
    display_names,
    previous_return,
)
from tracker.returns.services import BARRIERS

#: the stages in the order of the scale, then Not applicable locally, then not yet assessed
STAGES = ("not_started", "planning", "implementing", "embedded", "not_applicable")
NOT_ASSESSED = "none"
STAGE_LABELS = {**STAGE_NAMES, NOT_ASSESSED: "Not assessed"}
RAGS = ("red", "amber", "green")
DIRECTIONS = (IMPROVED, UNCHANGED, WORSENED)
ARROWS = {IMPROVED: "↑", UNCHANGED: "→", WORSENED: "↓"}
#: what a shared return is: drafts are the council's own
SHARED_STATUSES = (ReturnStatus.SUBMITTED, ReturnStatus.SIGNED_OFF)


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

    @property
    def arrow(self) -> str:
        return ARROWS.get(self.direction_code, "")

    @property
    def stage_and_rag(self) -> str:
        """The stage and RAG ("Implementing, Red"), or the stage alone when it has no RAG."""
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
    #: (action code, what the panel said, what the council did), display names only
    you_said_we_did: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class CouncilReport:
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
    exceptions: list[ActionDetail]
    actions: list[ActionDetail]
    coproduction: CoProduction
    summary: list[str]
    charts: list[Chart] = field(default_factory=list)
    generated_at: datetime | None = None

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
    """The panel's comments, from the panels feature (issue 6): totals, and the latest "you
    said, we did" with display names only (a real name only where the member opted in).

    A board report is the council's paper for its board, shared with its region and the nation
    and cached for all of them: it is drawn for no one in particular, so it asks the rule about
    nobody (``may_see_panel_member_names(None, …)``), whoever downloads it."""
    try:
        from tracker.panels.services import comment_totals, list_you_said_we_did
        from tracker.returns.access import may_see_panel_member_names
    except ImportError:  # the panels feature is not in this build
        return CoProduction(available=False)
    totals = comment_totals(council, period)
    return CoProduction(
        available=True,
        received=totals.received,
        answered=totals.answered,
        open=totals.open,
        hidden=totals.hidden,
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
                shows_real_names=may_see_panel_member_names(None, council),
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


def _sentence_counts(counts: dict[str, int], names: dict[str, str], order: tuple[str, ...]) -> str:
    parts = [f"{counts[key]} {names[key]}" for key in order if counts.get(key)]
    if not parts:
        return "none"
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]


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
    exceptions = [d for d in details if d.is_red or d.is_worsened]
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
        summary=[],
    )
    report.summary = executive_summary(report)
    report.charts = council_charts(return_)
    return report


def _area_sort(label: str) -> tuple[int, str]:
    number = label.split(".", 1)[0]
    return (int(number), label) if number.isdigit() else (10_000, label)


def executive_summary(report: CouncilReport) -> list[str]:
    """The executive summary, written from the figures: a few plain sentences."""
    lines = [
        f"{report.council.name} assessed {report.total - report.stages.get(NOT_ASSESSED, 0)} of "
        f"{report.total} roadmap actions for {report.period.label}: "
        f"{_sentence_counts(report.stages, STAGE_LABELS, (*STAGES, NOT_ASSESSED))}.",
    ]
    rated = sum(report.rags.values())
    if rated:
        lines.append(
            f"Of the {rated} actions in planning or being implemented, "
            f"{_sentence_counts(report.rags, RAG_NAMES, RAGS)}."
        )
    if report.previous_period:
        d = report.directions
        lines.append(
            f"Since {report.previous_period.label}, {d.get(IMPROVED, 0)} actions improved, "
            f"{d.get(UNCHANGED, 0)} were unchanged and {d.get(WORSENED, 0)} worsened."
        )
    else:
        lines.append("There is no earlier quarter to compare with.")
    reds = [a for a in report.exceptions if a.is_red]
    worse = [a for a in report.exceptions if a.is_worsened]
    if reds or worse:
        headline = ", ".join(a.code for a in (reds + [w for w in worse if not w.is_red])[:5])
        lines.append(
            f"The exception report lists {len(reds)} Red and {len(worse)} worsened actions"
            f" (headline: {headline})."
        )
    else:
        lines.append("No action is Red and none worsened: there are no exceptions to report.")
    return lines


def from_compare(chart: Any) -> Chart:
    """A chart of the dashboards (issue 5, ``tracker.compare.charts.Chart``) as the reports
    print it: the same figure, title, summary (the alt text) and data table."""
    table = chart.table
    head = list(getattr(table, "head", None) or (table[0] if table else []))
    rows = [list(row) for row in (getattr(table, "rows", None) or (table[1] if table else []))]
    return Chart(
        id=chart.id,
        title=chart.title,
        summary=chart.summary,
        figure=chart.figure,
        table=(head, rows),
        numeric=getattr(table, "numeric", None),
    )


def council_charts(return_: Return) -> list[Chart]:
    """The council report's charts: the council dashboard's figures (issue 5), from the same
    data (the council's own draft included when the report is of a draft)."""
    from tracker.compare import charts as compare_charts
    from tracker.compare.services import council_dashboard

    dashboard = council_dashboard(
        return_.council, return_.period, include_draft=return_.status == ReturnStatus.DRAFT
    )
    return [from_compare(chart) for chart in compare_charts.council_charts(dashboard)]


# -- the regional pack ----------------------------------------------------------------------------


@dataclass
class CouncilLine:
    """One council of the named table."""

    name: str
    gss_code: str
    status: str
    total: int
    stages: dict[str, int]
    rags: dict[str, int]
    #: area label → % of its assessed actions at Implementing or Embedded
    by_area: dict[str, int | None]


@dataclass
class RegionPack:
    region: Region
    period: Period
    #: councils of the region (active)
    council_count: int
    #: councils whose return is submitted or signed off: only these are shown
    shared: list[CouncilLine]
    #: councils with no shared return yet (names only: drafts never leave the council)
    not_shared: list[str]
    area_labels: list[str]
    #: councils with a shared return that do not share it by name: in the distributions only
    unnamed: int
    #: councils without a shared return yet that do not share by name: counted, never named
    unnamed_waiting: int
    #: area label → stage → count, over the shared returns
    distributions: dict[str, dict[str, int]]
    charts: list[Chart] = field(default_factory=list)
    generated_at: datetime | None = None


def is_named_outside(council: Council) -> bool:
    """True when the council lets its region and the nation see its shared returns by name
    (issue 5's rule, ``Council.shares_named_returns``; every council does until it opts out)."""
    return bool(getattr(council, "shares_named_returns", True))


def build_region_pack(region: Region, period: Period, *, viewer: Any = None) -> RegionPack:
    """The regional comparison pack: heatmap, per-area distributions and the named table.

    Only submitted and signed-off returns are read; a council still at draft is named as "not
    yet submitted" and nothing of its draft appears. Three queries, whatever the region's size.
    """
    councils = list(
        db.session.scalars(
            select(Council)
            .where(Council.region_id == region.id, Council.is_active.is_(True))
            .order_by(Council.short_name)
        )
    )
    returns = {
        council_id: (return_id, status)
        for council_id, return_id, status in db.session.execute(
            select(Return.council_id, Return.id, Return.status).where(
                Return.period_id == period.id,
                Return.council_id.in_([c.id for c in councils]),
            )
        )
    }
    shared_ids = [rid for rid, status in returns.values() if status in SHARED_STATUSES]
    counts: dict[int, dict[str, Counter[str]]] = defaultdict(
        lambda: {"stages": Counter(), "rags": Counter()}
    )
    per_area: dict[tuple[int, str], Counter[str]] = defaultdict(Counter)
    positions: dict[str, int] = {}
    if shared_ids:
        rows = db.session.execute(
            select(
                Return.council_id,
                ActionArea.position,
                ActionArea.title,
                func.coalesce(Assessment.stage, NOT_ASSESSED),
                Assessment.rag,
                func.count(Assessment.id),
            )
            .join(Assessment, Assessment.return_id == Return.id)
            .join(Action, Assessment.action_id == Action.id)
            .outerjoin(ActionArea, Action.area_id == ActionArea.id)
            .where(Return.id.in_(shared_ids))
            .group_by(
                Return.council_id,
                ActionArea.position,
                ActionArea.title,
                Assessment.stage,
                Assessment.rag,
            )
        )
        for council_id, position, title, stage, rag, count in rows:
            area = f"{position}. {title}" if position is not None else "Barriers and enablers"
            positions[area] = position if position is not None else 10_000
            counts[council_id]["stages"][stage] += count
            if rag:
                counts[council_id]["rags"][rag] += count
            per_area[(council_id, area)][stage] += count
    area_labels = sorted(positions, key=lambda a: (positions[a], a))
    shared: list[CouncilLine] = []
    not_shared: list[str] = []
    unnamed = unnamed_waiting = 0
    distributions: dict[str, Counter[str]] = {area: Counter() for area in area_labels}
    for council in councils:
        found = returns.get(council.id)
        if found is None or found[1] not in SHARED_STATUSES:
            if is_named_outside(council) or _own_council(viewer, council):
                not_shared.append(council.short_name)
            else:
                unnamed_waiting += 1
            continue
        if not is_named_outside(council) and not _own_council(viewer, council):
            # Counted in the distributions, never named (issue 5's sharing rule).
            for area in area_labels:
                distributions[area].update(per_area.get((council.id, area), Counter()))
            unnamed += 1
            continue
        by_area: dict[str, int | None] = {}
        for area in area_labels:
            mix = per_area.get((council.id, area), Counter())
            distributions[area].update(mix)
            assessed = sum(v for k, v in mix.items() if k not in (NOT_ASSESSED, "not_applicable"))
            advanced = mix.get("implementing", 0) + mix.get("embedded", 0)
            by_area[area] = round(100 * advanced / assessed) if assessed else None
        entry = counts[council.id]
        shared.append(
            CouncilLine(
                name=council.short_name,
                gss_code=council.gss_code,
                status=RETURN_STATUS_NAMES.get(found[1], found[1]),
                total=sum(entry["stages"].values()),
                stages=dict(entry["stages"]),
                rags=dict(entry["rags"]),
                by_area=by_area,
            )
        )
    pack = RegionPack(
        region=region,
        period=period,
        council_count=len(councils),
        shared=shared,
        not_shared=not_shared,
        unnamed=unnamed,
        unnamed_waiting=unnamed_waiting,
        area_labels=area_labels,
        distributions={area: dict(mix) for area, mix in distributions.items()},
    )
    pack.charts = region_charts(pack, viewer)
    return pack


def _own_council(viewer: Any, council: Council) -> bool:
    return viewer is not None and council.id in viewer.council_ids(
        ("council_editor", "council_approver", "council_viewer")
    )


def region_charts(pack: RegionPack, viewer: Any = None) -> list[Chart]:
    """The pack's charts: the regional comparison's heatmap and distribution (issue 5), as the
    viewer may see them; none while no council has submitted."""
    if not pack.shared and not pack.unnamed:
        return []
    from tracker.compare import charts as compare_charts
    from tracker.compare.services import region_comparison

    comparison = region_comparison(pack.region, pack.period, viewer=viewer)
    return [
        from_compare(compare_charts.region_heatmap(comparison)),
        from_compare(compare_charts.action_distribution(comparison)),
    ]


def get_period_by_slug(slug: str) -> Period | None:
    """The period named in a URL ("2025-26-Q3"), or None."""
    parsed = queries.parse_period_slug(slug)
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
