"""Read the current edition of the roadmap for the public roadmap pages."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import and_, case, false, func, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from tracker import search
from tracker.domain.vocabulary import (
    ENABLERS,
    NO_PREVENTION_TIER,
    NO_TIMEFRAME,
    TIMEFRAMES,
    UNTAGGED,
)
from tracker.extensions import db
from tracker.models import (
    Action,
    ActionArea,
    ActionStatementLink,
    AgendaGroup,
    AgendaItem,
    Enabler,
    Framework,
    FrameworkTheme,
    Outcome,
    QualityStatement,
    RoadmapEdition,
)

#: the shape of an action code ("A07.M01", "E02.03", "A07.M01.1") and of an area slug. Anything
#: else is not one, and is never sent to the database (PostgreSQL refuses text with NUL bytes).
ACTION_CODE = re.compile(r"[A-Z0-9]{1,8}(?:\.[A-Z0-9]{1,8}){0,3}")
AREA_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

#: sorts actions short, medium, long, then those with no timeframe
_TIMEFRAME_ORDER = case(
    {code: index for index, code in enumerate(TIMEFRAMES)},
    value=Action.timeframe,
    else_=len(TIMEFRAMES),
)
#: roadmap order, for a query joined to the action's area and enabler: the ten areas by number,
#: then the barriers and enablers; within each, short, medium then long term
_ROADMAP_ORDER = (
    Action.enabler_id.is_not(None),
    ActionArea.position,
    Enabler.position,
    _TIMEFRAME_ORDER,
    Action.position,
)


def _is_trackable():
    """Top-level, current actions: the ones councils assess (listed phases travel with them)."""
    return and_(Action.parent_id.is_(None), Action.archived_at.is_(None))


def _current_sub_items():
    return selectinload(Action.sub_items.and_(Action.archived_at.is_(None)))


def get_current_edition() -> RoadmapEdition | None:
    """The edition marked current, or None before any roadmap is loaded."""
    return db.session.scalar(select(RoadmapEdition).where(RoadmapEdition.is_current))


# --- the roadmap overview ------------------------------------------------------------------------


@dataclass(frozen=True)
class AreaCounts:
    """How many top-level actions an area has in each timeframe."""

    area: ActionArea
    short: int
    medium: int
    long: int

    @property
    def total(self) -> int:
        return self.short + self.medium + self.long


@dataclass(frozen=True)
class RoadmapOverview:
    edition: RoadmapEdition
    areas: list[AreaCounts]

    @property
    def totals(self) -> dict[str, int]:
        return {
            "short": sum(row.short for row in self.areas),
            "medium": sum(row.medium for row in self.areas),
            "long": sum(row.long for row in self.areas),
            "total": sum(row.total for row in self.areas),
        }


def get_roadmap_overview() -> RoadmapOverview | None:
    """The current edition and, for each of its areas in order, its actions per timeframe.

    The counts come from one grouped query; only top-level actions that are not archived count.

    :returns: None if no edition is current.
    """
    edition = get_current_edition()
    if edition is None:
        return None
    counts = [
        func.count(case((Action.timeframe == timeframe, Action.id))).label(timeframe)
        for timeframe in TIMEFRAMES
    ]
    rows = db.session.execute(
        select(ActionArea, *counts)
        .outerjoin(Action, and_(Action.area_id == ActionArea.id, _is_trackable()))
        .where(ActionArea.edition_id == edition.id, ActionArea.archived_at.is_(None))
        .group_by(ActionArea.id)
        .order_by(ActionArea.position)
    ).all()
    return RoadmapOverview(
        edition=edition,
        areas=[
            AreaCounts(area=row[0], short=row.short, medium=row.medium, long=row.long)
            for row in rows
        ],
    )


# --- one area ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeframeActions:
    """The actions of one area in one timeframe, with the roadmap's definition of it."""

    code: str
    title: str
    definition: str
    actions: list[Action]


@dataclass(frozen=True)
class AreaPage:
    area: ActionArea
    timeframes: list[TimeframeActions]


def _timeframe_definitions(edition: RoadmapEdition) -> dict[str, dict[str, str]]:
    return {item["code"]: item for item in (edition.timeframes or [])}


def get_area_page(slug: str) -> AreaPage | None:
    """An area of the current edition with its top-level actions grouped by timeframe.

    Each action carries its listed phases (``sub_items``), already loaded.

    :returns: None if no current, unarchived area has this slug.
    """
    if len(slug) > 100 or not AREA_SLUG.fullmatch(slug):
        return None
    area = db.session.scalar(
        select(ActionArea)
        .join(ActionArea.edition)
        .options(contains_eager(ActionArea.edition))
        .where(
            ActionArea.slug == slug,
            ActionArea.archived_at.is_(None),
            RoadmapEdition.is_current,
        )
    )
    if area is None:
        return None
    actions = db.session.scalars(
        select(Action)
        .where(Action.area_id == area.id, _is_trackable())
        .options(_current_sub_items())
        .order_by(_TIMEFRAME_ORDER, Action.position)
    ).all()
    definitions = _timeframe_definitions(area.edition)
    return AreaPage(
        area=area,
        timeframes=[
            TimeframeActions(
                code=code,
                title=definitions.get(code, {}).get("title", code.capitalize() + " term"),
                definition=definitions.get(code, {}).get("definition", ""),
                actions=[action for action in actions if action.timeframe == code],
            )
            for code in TIMEFRAMES
        ],
    )


# --- one action ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionPage:
    action: Action
    #: the roadmap's definition of the action's timeframe; empty for enabler actions
    timeframe_definition: str
    #: agenda-for-action items that restate this action, with their groups loaded
    agenda_items: list[AgendaItem]
    #: the crosswalk's links to the CQC's quality statements, in the framework's order, each
    #: with its statement and theme loaded
    statement_links: list[ActionStatementLink] = field(default_factory=list)


def get_action_page(code: str) -> ActionPage | None:
    """An action by its stable code, with its area or enabler, parent, phases and agenda items.

    Archived actions are still found (returns point to them); the page says they are archived.

    :returns: None if no action has this code.
    """
    if not ACTION_CODE.fullmatch(code):
        return None
    action = db.session.scalar(
        select(Action)
        .where(Action.code == code)
        .options(
            selectinload(Action.area).selectinload(ActionArea.edition),
            selectinload(Action.enabler),
            selectinload(Action.parent),
            _current_sub_items(),
        )
    )
    if action is None:
        return None
    agenda_items = db.session.scalars(
        select(AgendaItem)
        .join(AgendaItem.group)
        .options(contains_eager(AgendaItem.group))
        .where(AgendaItem.action_id == action.id)
        .order_by(AgendaGroup.position, AgendaItem.position)
    ).all()
    definition = ""
    if action.area is not None and action.timeframe:
        definitions = _timeframe_definitions(action.area.edition)
        definition = definitions.get(action.timeframe, {}).get("definition", "")
    statement_links = db.session.scalars(
        select(ActionStatementLink)
        .join(ActionStatementLink.statement)
        .join(QualityStatement.theme)
        .options(
            contains_eager(ActionStatementLink.statement).contains_eager(QualityStatement.theme)
        )
        .where(ActionStatementLink.action_id == action.id)
        .order_by(QualityStatement.position)
    ).all()
    return ActionPage(
        action=action,
        timeframe_definition=definition,
        agenda_items=list(agenda_items),
        statement_links=list(statement_links),
    )


# --- all actions, filtered -----------------------------------------------------------------------


@dataclass(frozen=True)
class ActionFilters:
    """What the list of actions is filtered by; an empty set means "any".

    Within one kind of filter an action matches any chosen value; across kinds it must match all.
    Values are already checked (see ``ActionFilterForm``); unknown values simply match nothing.
    """

    timeframes: frozenset[str] = field(default_factory=frozenset)
    spend_types: frozenset[str] = field(default_factory=frozenset)
    funding_levels: frozenset[str] = field(default_factory=frozenset)
    legislative_levels: frozenset[str] = field(default_factory=frozenset)
    leads: frozenset[str] = field(default_factory=frozenset)
    areas: frozenset[str] = field(default_factory=frozenset)
    #: codes of the CQC's quality statements ("QS4"): actions the crosswalk links to any of them
    statements: frozenset[str] = field(default_factory=frozenset)
    #: prevention tiers, and NO_PREVENTION_TIER for actions with none
    prevention_tiers: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_empty(self) -> bool:
        return not any(
            (
                self.timeframes,
                self.spend_types,
                self.funding_levels,
                self.legislative_levels,
                self.leads,
                self.areas,
                self.statements,
                self.prevention_tiers,
            )
        )


def _levels(column, chosen: Iterable[str]):
    numbers = [int(value) for value in chosen if value.isdigit()]
    conditions = [column.in_(numbers)] if numbers else []
    if UNTAGGED in chosen:
        conditions.append(column.is_(None))
    return or_(false(), *conditions)


def _filter_conditions(filters: ActionFilters) -> list:
    conditions = []
    if filters.timeframes:
        named = [value for value in filters.timeframes if value != NO_TIMEFRAME]
        options = [Action.timeframe.in_(named)] if named else []
        if NO_TIMEFRAME in filters.timeframes:
            options.append(Action.timeframe.is_(None))
        conditions.append(or_(false(), *options))
    if filters.spend_types:
        # spend_types holds the letters as printed, e.g. "TC": an action matches any chosen letter.
        conditions.append(
            or_(false(), *(Action.spend_types.contains(letter) for letter in filters.spend_types))
        )
    if filters.funding_levels:
        conditions.append(_levels(Action.funding_level, filters.funding_levels))
    if filters.legislative_levels:
        conditions.append(_levels(Action.legislative_level, filters.legislative_levels))
    if filters.leads:
        conditions.append(Action.lead.in_(filters.leads))
    if filters.areas:
        codes = [value for value in filters.areas if value != ENABLERS]
        options = [ActionArea.code.in_(codes)] if codes else []
        if ENABLERS in filters.areas:
            options.append(Action.enabler_id.is_not(None))
        conditions.append(or_(false(), *options))
    if filters.statements:
        linked = (
            select(ActionStatementLink.action_id)
            .join(ActionStatementLink.statement)
            .where(QualityStatement.code.in_(filters.statements))
        )
        conditions.append(Action.id.in_(linked))
    if filters.prevention_tiers:
        tiers = [value for value in filters.prevention_tiers if value != NO_PREVENTION_TIER]
        options = [Action.prevention_tier.in_(tiers)] if tiers else []
        if NO_PREVENTION_TIER in filters.prevention_tiers:
            options.append(Action.prevention_tier.is_(None))
        conditions.append(or_(false(), *options))
    return conditions


def list_actions(filters: ActionFilters) -> list[Action]:
    """Top-level actions of the current edition (areas, then barriers and enablers) that match.

    Each action has its area or enabler and its listed phases loaded.
    """
    return list(
        db.session.scalars(
            select(Action)
            .outerjoin(ActionArea, Action.area_id == ActionArea.id)
            .outerjoin(Enabler, Action.enabler_id == Enabler.id)
            .outerjoin(
                RoadmapEdition,
                or_(
                    RoadmapEdition.id == ActionArea.edition_id,
                    RoadmapEdition.id == Enabler.edition_id,
                ),
            )
            .options(
                contains_eager(Action.area),
                contains_eager(Action.enabler),
                _current_sub_items(),
            )
            .where(RoadmapEdition.is_current, _is_trackable(), *_filter_conditions(filters))
            .order_by(*_ROADMAP_ORDER)
        ).unique()
    )


def list_area_choices() -> list[tuple[str, str]]:
    """(code, "number. title") for each area of the current edition, in order, for filters."""
    rows = db.session.execute(
        select(ActionArea.code, ActionArea.position, ActionArea.title)
        .join(RoadmapEdition, RoadmapEdition.id == ActionArea.edition_id)
        .where(RoadmapEdition.is_current, ActionArea.archived_at.is_(None))
        .order_by(ActionArea.position)
    ).all()
    return [(row.code, f"{row.position}. {row.title}") for row in rows]


def list_statement_choices() -> list[tuple[str, str]]:
    """(code, "theme: statement") for each of the CQC's quality statements, in order, for
    filters; empty before the framework is loaded."""
    rows = db.session.execute(
        select(QualityStatement.code, QualityStatement.title, FrameworkTheme.title.label("theme"))
        .join(QualityStatement.theme)
        .order_by(QualityStatement.position)
    ).all()
    return [(row.code, f"{row.theme}: {row.title}") for row in rows]


# --- the CQC's framework and the crosswalk -------------------------------------------------------


@dataclass(frozen=True)
class StatementActions:
    statement: QualityStatement
    #: the current actions the crosswalk links to it, in roadmap order, with the link's reason
    links: list[ActionStatementLink]


@dataclass(frozen=True)
class ThemeStatements:
    theme: FrameworkTheme
    statements: list[StatementActions]


@dataclass(frozen=True)
class CqcPage:
    framework: Framework
    themes: list[ThemeStatements]
    #: how many current actions the crosswalk links to no quality statement
    unlinked: int
    #: how many current actions there are (the denominator of ``unlinked``)
    total: int


def get_cqc_page() -> CqcPage | None:
    """The CQC's framework: its themes and quality statements, each with the current actions
    the crosswalk links to it (three queries, whatever the size of the crosswalk).

    :returns: None if no framework is loaded.
    """
    framework = db.session.scalar(
        select(Framework)
        .order_by(Framework.id)
        .options(selectinload(Framework.themes).selectinload(FrameworkTheme.statements))
    )
    if framework is None:
        return None
    links = db.session.scalars(
        select(ActionStatementLink)
        .join(ActionStatementLink.action)
        .outerjoin(ActionArea, Action.area_id == ActionArea.id)
        .outerjoin(Enabler, Action.enabler_id == Enabler.id)
        .options(contains_eager(ActionStatementLink.action))
        .where(_is_trackable())
        .order_by(*_ROADMAP_ORDER)
    ).all()
    by_statement: dict[int, list[ActionStatementLink]] = {}
    for link in links:
        by_statement.setdefault(link.statement_id, []).append(link)
    themes = [
        ThemeStatements(
            theme=theme,
            statements=[
                StatementActions(statement, by_statement.get(statement.id, []))
                for statement in theme.statements
            ],
        )
        for theme in framework.themes
    ]
    total = db.session.scalar(select(func.count()).select_from(Action).where(_is_trackable()))
    linked = len({link.action_id for link in links})
    return CqcPage(framework=framework, themes=themes, unlinked=total - linked, total=total)


# --- key, outcomes, agenda, enablers -------------------------------------------------------------


def list_outcomes(edition: RoadmapEdition) -> list[Outcome]:
    """The edition's outcomes ("features of a better system") by number."""
    return list(
        db.session.scalars(
            select(Outcome).where(Outcome.edition_id == edition.id).order_by(Outcome.number)
        )
    )


def list_agenda_groups(edition: RoadmapEdition) -> list[AgendaGroup]:
    """The agenda for action's groups in order, each with its items and their actions loaded."""
    return list(
        db.session.scalars(
            select(AgendaGroup)
            .where(AgendaGroup.edition_id == edition.id)
            .options(selectinload(AgendaGroup.items).selectinload(AgendaItem.action))
            .order_by(AgendaGroup.position)
        )
    )


def list_enablers(edition: RoadmapEdition) -> list[Enabler]:
    """Barriers and enablers in order, each with its current top-level actions loaded."""
    return list(
        db.session.scalars(
            select(Enabler)
            .where(Enabler.edition_id == edition.id, Enabler.archived_at.is_(None))
            .options(
                selectinload(Enabler.actions.and_(_is_trackable())).selectinload(
                    Action.sub_items.and_(Action.archived_at.is_(None))
                )
            )
            .order_by(Enabler.position)
        )
    )


# --- search --------------------------------------------------------------------------------------

#: the groups of search results, in the order the page lists them
SEARCH_GROUPS = (
    ("actions", "Actions"),
    ("areas", "Areas for action"),
    ("outcomes", "Outcomes"),
    ("agenda", "Agenda for action"),
    ("enablers", "Barriers and enablers"),
)
#: results listed per group; the page says how many more there are
SEARCH_GROUP_LIMIT = 20


@dataclass(frozen=True)
class SearchHit:
    """One place in the roadmap that matches a search.

    ``where`` says where it is ("Action A02.S04 in area 2: Assessment and planning"); ``title``
    is what the link reads (an action's own text, never its code alone); ``text`` is the matched
    passage to show under it, or empty when the title is all there is.
    """

    group: str
    where: str
    title: str
    url_endpoint: str
    url_values: dict[str, str]
    text: str = ""
    #: the query is this action's code exactly: listed first
    is_exact_code: bool = False


@dataclass(frozen=True)
class SearchGroup:
    key: str
    label: str
    hits: list[SearchHit]

    @property
    def shown(self) -> list[SearchHit]:
        return self.hits[:SEARCH_GROUP_LIMIT]

    @property
    def hidden(self) -> int:
        return max(0, len(self.hits) - SEARCH_GROUP_LIMIT)


@dataclass(frozen=True)
class SearchResults:
    query: str
    terms: list[str]
    groups: list[SearchGroup]
    #: the action whose code the query is, if it is one
    exact: SearchHit | None = None

    @property
    def total(self) -> int:
        return sum(len(group.hits) for group in self.groups)


def _first_match(texts: Iterable[str], terms: list[str]) -> str:
    """The first of the texts that holds any term (the passage a result shows), else ''."""
    for text in texts:
        if text and search.matches_any(text, terms):
            return search.snippet(text, terms)
    return ""


def search_roadmap(query: str) -> SearchResults | None:
    """Everything in the current edition that holds every term of the query, grouped.

    Searched: actions (code, text, source note; listed phases too), areas (title, the shift,
    practical steps, examples), outcomes, the agenda for action and barriers and enablers: the
    text the roadmap pages show. An action whose code is the query (in any case) comes first.

    The roadmap is a few hundred short passages, loaded in five queries and matched in Python:
    its paragraphs are JSON lists, which LIKE cannot search alike on SQLite and PostgreSQL.

    :returns: None if no edition is current.
    """
    edition = get_current_edition()
    if edition is None:
        return None
    terms = search.query_terms(query)
    code = query.strip().upper()
    groups: dict[str, list[SearchHit]] = {key: [] for key, _label in SEARCH_GROUPS}

    actions = db.session.scalars(
        select(Action)
        .outerjoin(ActionArea, Action.area_id == ActionArea.id)
        .outerjoin(Enabler, Action.enabler_id == Enabler.id)
        .options(contains_eager(Action.area), contains_eager(Action.enabler))
        .where(
            Action.archived_at.is_(None),
            or_(ActionArea.edition_id == edition.id, Enabler.edition_id == edition.id),
        )
        .order_by(*_ROADMAP_ORDER)
    ).unique()
    exact = None
    for action in actions:
        if action.area is not None:
            where = f"Action {action.code} in area {action.area.position}: {action.area.title}"
        else:
            title = action.enabler.title if action.enabler else ""
            where = f"Action {action.code} in barriers and enablers: {title}"
        is_exact = action.code == code
        if not (is_exact or search.matches(f"{action.code} {action.text} {action.note}", terms)):
            continue
        note = "" if search.matches_any(action.text, terms) else action.note
        hit = SearchHit(
            group="actions",
            where=where,
            title=action.text,
            url_endpoint="roadmap.action",
            url_values={"code": action.code},
            text=search.snippet(note, terms) if note else "",
            is_exact_code=is_exact,
        )
        if is_exact:
            exact = hit
            groups["actions"].insert(0, hit)
        else:
            groups["actions"].append(hit)

    for area in db.session.scalars(
        select(ActionArea)
        .where(ActionArea.edition_id == edition.id, ActionArea.archived_at.is_(None))
        .order_by(ActionArea.position)
    ):
        passages = [
            *area.shift,
            area.practical_intro,
            *area.practical,
            area.examples_intro,
            *area.examples,
            area.note,
        ]
        everything = " ".join([area.code, area.title, area.sidebar_title, *map(str, passages)])
        if search.matches(everything, terms):
            groups["areas"].append(
                SearchHit(
                    group="areas",
                    where=f"Area for action {area.position}",
                    title=area.title,
                    url_endpoint="roadmap.area",
                    url_values={"slug": area.slug},
                    text=_first_match(map(str, passages), terms),
                )
            )

    for outcome in list_outcomes(edition):
        if search.matches(f"{outcome.title} {outcome.description}", terms):
            groups["outcomes"].append(
                SearchHit(
                    group="outcomes",
                    where=f"Outcome {outcome.number}",
                    title=outcome.title,
                    url_endpoint="roadmap.outcomes",
                    url_values={"_anchor": f"outcome-{outcome.number}"},
                    text=search.snippet(outcome.description, terms),
                )
            )

    for group in list_agenda_groups(edition):
        if search.matches(group.title, terms):
            groups["agenda"].append(
                SearchHit(
                    group="agenda",
                    where="Agenda for action",
                    title=group.title,
                    url_endpoint="roadmap.agenda",
                    url_values={"_anchor": group.code},
                )
            )
        for item in group.items:
            restates = f" (restates action {item.action.code})" if item.action else ""
            if search.matches(f"{item.text} {item.note}", terms):
                groups["agenda"].append(
                    SearchHit(
                        group="agenda",
                        where=f"Agenda for action: {group.title}{restates}",
                        title=item.text,
                        url_endpoint="roadmap.agenda",
                        url_values={"_anchor": item.code},
                    )
                )

    for enabler in db.session.scalars(
        select(Enabler)
        .where(Enabler.edition_id == edition.id, Enabler.archived_at.is_(None))
        .order_by(Enabler.position)
    ):
        paragraphs = [*map(str, enabler.body), enabler.note]
        if search.matches(" ".join([enabler.title, *paragraphs]), terms):
            groups["enablers"].append(
                SearchHit(
                    group="enablers",
                    where="Barriers and enablers",
                    title=enabler.title,
                    url_endpoint="roadmap.enablers",
                    url_values={"_anchor": enabler.slug},
                    text=_first_match(paragraphs, terms),
                )
            )

    return SearchResults(
        query=query,
        terms=terms,
        groups=[
            SearchGroup(key=key, label=label, hits=groups[key])
            for key, label in SEARCH_GROUPS
            if groups[key]
        ],
        exact=exact,
    )
