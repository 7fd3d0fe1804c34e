"""A council's return read against the CQC's assessment framework for local authorities: per
quality statement, the roadmap actions the crosswalk links to it with their assessments, the
evidence behind them by CQC evidence category, the panel's view and "you said, we did", and the
gaps a council would want to close before an assessment.

The page, the PDF and the Word pack all print one :class:`CqcView`; its figures are read in a
fixed number of queries, whatever the number of statements, actions or evidence.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select

from tracker.clock import uk_today
from tracker.domain.periods import months
from tracker.domain.vocabulary import (
    CQC_EVIDENCE_CATEGORY_NAMES,
    RAG_NAMES,
    RETURN_STATUS_NAMES,
    STAGE_NAMES,
    ReviewState,
    action_name,
)
from tracker.extensions import db
from tracker.models import (
    Action,
    ActionStatementLink,
    Assessment,
    Council,
    Evidence,
    FrameworkTheme,
    Period,
    QualityStatement,
    Rag,
    Return,
    ReturnStatus,
    assessment_evidence,
)
from tracker.panels.services import (
    ActionPanelView,
    YouSaidWeDid,
    list_you_said_we_did,
    panel_view_summary,
)
from tracker.returns.evidence import EVIDENCE_TYPES
from tracker.returns.queries import DIRECTION_NAMES, action_rows, previous_return

#: evidence older than this (by its date, and by when it was added) does not count as recent
RECENT_DAYS = 365
#: the group of evidence with no CQC category: listed after the four categories
UNCATEGORISED = "uncategorised"
UNCATEGORISED_NAME = "Not categorised"
NO_RECENT_EVIDENCE = "No evidence dated or added in the last 12 months"
NO_LINKED_ACTIONS = "No roadmap action is linked to this quality statement"


@dataclass(frozen=True)
class LinkedAction:
    """One roadmap action linked to a quality statement, as the council assessed it."""

    code: str
    text: str
    #: why the crosswalk links it to the statement
    rationale: str
    stage: str | None
    rag: str | None
    review_state: str
    direction: str
    previous_stage: str | None
    previous_rag: str | None
    narrative: str
    next_steps: str

    @property
    def stage_name(self) -> str:
        return STAGE_NAMES.get(self.stage or "", "Not assessed")

    @property
    def rag_name(self) -> str:
        return RAG_NAMES.get(self.rag or "", "No RAG rating")

    @property
    def review_name(self) -> str:
        return ReviewState(self.review_state).label

    @property
    def direction_name(self) -> str:
        return DIRECTION_NAMES.get(self.direction, "")

    @property
    def is_red(self) -> bool:
        return self.rag == Rag.RED


@dataclass(frozen=True)
class EvidenceItem:
    """An item of evidence behind one or more of a statement's actions."""

    id: int
    title: str
    evidence_type: str
    dated_on: date | None
    created_at: datetime
    url: str | None
    is_file: bool
    cqc_category: str | None
    #: the statement's actions it supports, in code order
    action_codes: tuple[str, ...]

    @property
    def type_name(self) -> str:
        return EVIDENCE_TYPES.get(self.evidence_type, self.evidence_type)

    def is_recent(self, since: date) -> bool:
        """Dated on or after ``since``; an item with no date, added on or after it (an old
        document added today is still old evidence)."""
        if self.dated_on is not None:
            return self.dated_on >= since
        return self.created_at.date() >= since


@dataclass(frozen=True)
class EvidenceGroup:
    """The statement's evidence in one CQC evidence category (or none)."""

    key: str
    name: str
    items: list[EvidenceItem]


@dataclass
class StatementView:
    """One quality statement: its actions, evidence, the panel's word, and its gaps."""

    code: str
    title: str
    theme: str
    actions: list[LinkedAction]
    evidence: list[EvidenceGroup]
    #: the panel's view of the linked actions it may be shown for (at least 3 answers)
    panel_views: list[ActionPanelView]
    you_said_we_did: list[YouSaidWeDid]
    gaps: list[str] = field(default_factory=list)

    @property
    def evidence_count(self) -> int:
        return sum(len(group.items) for group in self.evidence)

    @property
    def missing_categories(self) -> list[str]:
        """The CQC categories with no evidence behind this statement, in the CQC's order."""
        present = {group.key for group in self.evidence}
        return [name for key, name in CQC_EVIDENCE_CATEGORY_NAMES.items() if key not in present]

    @property
    def red(self) -> list[LinkedAction]:
        return [a for a in self.actions if a.is_red]

    @property
    def has_gap(self) -> bool:
        return bool(self.gaps)


@dataclass
class ThemeView:
    title: str
    statements: list[StatementView]


@dataclass
class CqcView:
    """A council's return read against the CQC's quality statements."""

    council: Council
    return_: Return
    previous_period: Period | None
    themes: list[ThemeView]
    #: evidence dated or added on or after this day counts as recent
    recent_since: date
    #: the panel's view is asked on a signed-off return only
    panel_views_asked: bool
    generated_at: datetime | None = None

    @property
    def period(self) -> Period:
        return self.return_.period

    @property
    def quarter(self) -> str:
        return months(self.period.label)

    @property
    def status_name(self) -> str:
        return RETURN_STATUS_NAMES.get(self.return_.status, self.return_.status)

    @property
    def is_draft(self) -> bool:
        return self.return_.status == ReturnStatus.DRAFT

    @property
    def is_signed_off(self) -> bool:
        return self.return_.status == ReturnStatus.SIGNED_OFF

    @property
    def statements(self) -> list[StatementView]:
        return [s for theme in self.themes for s in theme.statements]

    @property
    def with_gaps(self) -> list[StatementView]:
        return [s for s in self.statements if s.has_gap]

    @property
    def has_framework(self) -> bool:
        return bool(self.themes)

    @property
    def summary(self) -> str:
        """ "4 of 9 quality statements have gaps." """
        total = len(self.statements)
        gaps = len(self.with_gaps)
        verb = "has a gap" if gaps == 1 else "have gaps"
        return f"{gaps} of {total} quality statements {verb}."


def _statements() -> list[tuple[QualityStatement, str]]:
    """Every quality statement with its theme's title, in the framework's order (one query)."""
    rows = db.session.execute(
        select(QualityStatement, FrameworkTheme.title)
        .join(FrameworkTheme, FrameworkTheme.id == QualityStatement.theme_id)
        .order_by(FrameworkTheme.framework_id, FrameworkTheme.position, QualityStatement.position)
    )
    return [(statement, theme) for statement, theme in rows]


def _links() -> dict[int, list[tuple[str, str]]]:
    """statement id → [(action code, rationale)] in action code order (one query)."""
    links: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for statement_id, code, rationale in db.session.execute(
        select(ActionStatementLink.statement_id, Action.code, ActionStatementLink.rationale)
        .join(Action, Action.id == ActionStatementLink.action_id)
        .order_by(Action.code)
    ):
        links[statement_id].append((code, rationale))
    return links


def _narratives(return_: Return, codes: set[str]) -> dict[str, tuple[str, str]]:
    """action code → (narrative, next steps) of the return's assessments (one query)."""
    if not codes:
        return {}
    rows = db.session.execute(
        select(Action.code, Assessment.narrative, Assessment.next_steps)
        .join(Action, Action.id == Assessment.action_id)
        .where(Assessment.return_id == return_.id, Action.code.in_(codes))
    )
    return {code: (narrative or "", next_steps or "") for code, narrative, next_steps in rows}


def _evidence(return_: Return, codes: set[str]) -> dict[str, list[Evidence]]:
    """action code → the evidence linked to its assessment in the return (one query)."""
    found: dict[str, list[Evidence]] = defaultdict(list)
    if not codes:
        return found
    rows = db.session.execute(
        select(Action.code, Evidence)
        .select_from(assessment_evidence)
        .join(Assessment, Assessment.id == assessment_evidence.c.assessment_id)
        .join(Action, Action.id == Assessment.action_id)
        .join(Evidence, Evidence.id == assessment_evidence.c.evidence_id)
        .where(
            Assessment.return_id == return_.id,
            Action.code.in_(codes),
            # the backstop: only this council's evidence, whatever the link table says
            Evidence.council_id == return_.council_id,
        )
    )
    for code, item in rows:
        found[code].append(item)
    return found


def _group(items: list[EvidenceItem]) -> list[EvidenceGroup]:
    """The items by CQC category in the CQC's order, uncategorised last; empty groups left out."""
    by_key: dict[str, list[EvidenceItem]] = defaultdict(list)
    for item in items:
        key = item.cqc_category if item.cqc_category in CQC_EVIDENCE_CATEGORY_NAMES else None
        by_key[key or UNCATEGORISED].append(item)
    names = {**CQC_EVIDENCE_CATEGORY_NAMES, UNCATEGORISED: UNCATEGORISED_NAME}
    return [
        EvidenceGroup(
            key=key,
            name=name,
            items=sorted(by_key[key], key=lambda i: (i.dated_on or date.min, i.id), reverse=True),
        )
        for key, name in names.items()
        if by_key.get(key)
    ]


def gaps_of(actions: list[LinkedAction], items: list[EvidenceItem], since: date) -> list[str]:
    """Why a statement needs attention: no linked action, no recent evidence, any action Red."""
    gaps = []
    if not actions:
        gaps.append(NO_LINKED_ACTIONS)
    if not any(item.is_recent(since) for item in items):
        gaps.append(NO_RECENT_EVIDENCE)
    red = [action_name(a.code, a.text, 60) for a in actions if a.is_red]
    if red:
        noun = "action is" if len(red) == 1 else "actions are"
        gaps.append(f"{len(red)} linked {noun} rated Red: {'; '.join(red)}")
    return gaps


def build_cqc_view(return_: Return, *, today: date | None = None) -> CqcView:
    """The council's return ``return_`` read against the CQC's quality statements.

    Direction of travel compares with the council's previous return that has left the council
    (submitted or signed off), as the board paper does. Evidence counts as recent when dated
    (or, with no date, added) in the :data:`RECENT_DAYS` before ``today`` (the UK date now, by
    default). The
    panel's view is the one the board paper shows (``panel_view_summary``: a signed-off return
    only, never from fewer than 3 answers); "you said, we did" names members as reports do.

    :returns: the view; with no framework loaded, a view with no themes.
    """
    council = return_.council
    since = (today or uk_today()) - timedelta(days=RECENT_DAYS)
    statements = _statements()
    previous = previous_return(return_, include_drafts=False)
    if not statements:
        return CqcView(council, return_, previous.period if previous else None, [], since, False)
    links = _links()
    linked_codes = {code for pairs in links.values() for code, _ in pairs}
    rows = {row.code: row for row in action_rows(return_, previous) if row.code in linked_codes}
    narratives = _narratives(return_, linked_codes)
    evidence = _evidence(return_, linked_codes)
    panel = panel_view_summary(return_)
    shown = {view.code: view for view in panel.shown}
    answers: dict[str, list[YouSaidWeDid]] = defaultdict(list)
    for answer in list_you_said_we_did(return_.council, return_.period, limit=None):
        answers[answer.action_code].append(answer)

    themes: list[ThemeView] = []
    for statement, theme_title in statements:
        actions = []
        by_item: dict[int, tuple[Evidence, list[str]]] = {}
        for code, rationale in links.get(statement.id, []):
            row = rows.get(code)
            if row is None:  # an action this return does not hold (another edition)
                continue
            narrative, next_steps = narratives.get(code, ("", ""))
            actions.append(
                LinkedAction(
                    code=code,
                    text=row.text,
                    rationale=rationale,
                    stage=row.stage,
                    rag=row.rag,
                    review_state=row.review_state,
                    direction=row.direction,
                    previous_stage=row.previous_stage,
                    previous_rag=row.previous_rag,
                    narrative=narrative,
                    next_steps=next_steps,
                )
            )
            for item in evidence.get(code, []):
                by_item.setdefault(item.id, (item, []))[1].append(code)
        items = [
            EvidenceItem(
                id=item.id,
                title=item.title,
                evidence_type=item.evidence_type,
                dated_on=item.dated_on,
                created_at=item.created_at,
                url=item.url,
                is_file=item.stored_name is not None,
                cqc_category=item.cqc_category,
                action_codes=tuple(sorted(codes)),
            )
            for item, codes in by_item.values()
        ]
        codes = [a.code for a in actions]
        view = StatementView(
            code=statement.code,
            title=statement.title,
            theme=theme_title,
            actions=actions,
            evidence=_group(items),
            panel_views=[shown[c] for c in codes if c in shown],
            you_said_we_did=[a for c in codes for a in answers.get(c, [])],
            gaps=gaps_of(actions, items, since),
        )
        if not themes or themes[-1].title != theme_title:
            themes.append(ThemeView(theme_title, []))
        themes[-1].statements.append(view)
    return CqcView(
        council=council,
        return_=return_,
        previous_period=previous.period if previous else None,
        themes=themes,
        recent_since=since,
        panel_views_asked=return_.status == ReturnStatus.SIGNED_OFF,
    )
