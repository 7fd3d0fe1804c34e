"""The board paper's own sections, written from the return's figures: progress in sentences with
denominators, the areas by name, financial implications, risks and barriers, and the trend.

A council committee report leads with what the board is asked to decide and why, then the
evidence; every action in full goes to the appendix. ``tracker.reports.data.build_council_report``
assembles the paper from these pieces and the Director's own words; the PDF
(``templates/reports/_council_body.html``) and the Word document (``tracker.reports.word``) both
print that one model.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from tracker.domain.periods import months
from tracker.domain.vocabulary import (
    FUNDING_SYMBOLS,
    PANEL_VIEW_HEADINGS,
    RAG_NAMES,
    SHARED_STATUSES,
    SPEND_NAMES,
    STAGE_NAMES,
    legislative_label,
    money,
)
from tracker.extensions import db
from tracker.models import Action, Assessment, Period, Return
from tracker.returns.services import BARRIERS, FUNDING_SOURCES

if TYPE_CHECKING:
    from tracker.panels.services import PanelViewSummary
    from tracker.reports.data import ActionDetail

#: the two kinds of action, as the paper names them
ROADMAP, ENABLERS = "roadmap", "enablers"
#: how a sentence says an action is at each stage
STAGE_PHRASES = {
    "embedded": "are embedded",
    "implementing": "are being implemented",
    "planning": "are in planning",
    "not_started": "have not started",
    "not_applicable": "are not applicable locally",
}
#: stages a board reads first, most advanced first
HEADLINE_STAGES = ("embedded", "implementing", "planning", "not_started")
#: stages counted as "in progress" for the financial implications
IN_PROGRESS = ("planning", "implementing")
#: the barrier that only government or Parliament can lift
NATIONAL_BARRIER = "legislation"
#: quarters the trend shows at most
TREND_QUARTERS = 8
#: actions listed by name under one barrier before "and N more"
LISTED = 8


def plural(count: int, one: str, many: str | None = None) -> str:
    """``"1 comment"``, ``"3 comments"``: the count with the right form of the noun."""
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "0%"


# -- stage counts by kind -------------------------------------------------------------------------


def stage_counts_by_kind(return_ids: Iterable[int]) -> dict[int, dict[str, Counter[str]]]:
    """return id → kind (roadmap, enablers) → stage → actions: one GROUP BY query."""
    ids = list(return_ids)
    counts: dict[int, dict[str, Counter[str]]] = {
        i: {ROADMAP: Counter(), ENABLERS: Counter()} for i in ids
    }
    if not ids:
        return counts
    is_enabler = Action.area_id.is_(None)
    rows = db.session.execute(
        select(Assessment.return_id, is_enabler, Assessment.stage, func.count())
        .join(Action, Action.id == Assessment.action_id)
        .where(Assessment.return_id.in_(ids))
        .group_by(Assessment.return_id, is_enabler, Assessment.stage)
    )
    for return_id, enabler, stage, count in rows:
        counts[return_id][ENABLERS if enabler else ROADMAP][stage or "none"] += count
    return counts


def same_quarter_last_year(return_: Return) -> Return | None:
    """The council's submitted or signed-off return for the same quarter a year earlier."""
    period = return_.period
    return db.session.scalar(
        select(Return)
        .join(Period, Period.id == Return.period_id)
        .options(contains_eager(Return.period))
        .where(
            Return.council_id == return_.council_id,
            Period.year == period.year - 1,
            Period.quarter == period.quarter,
            Return.status.in_(list(SHARED_STATUSES)),
        )
    )


def trend_returns(return_: Return) -> list[Return]:
    """This return and the council's submitted or signed-off returns before it, oldest first,
    at most :data:`TREND_QUARTERS` in all."""
    period = return_.period
    earlier = list(
        db.session.scalars(
            select(Return)
            .join(Period, Period.id == Return.period_id)
            .options(contains_eager(Return.period))
            .where(
                Return.council_id == return_.council_id,
                (Period.year * 4 + Period.quarter) < period.year * 4 + period.quarter,
                Return.status.in_(list(SHARED_STATUSES)),
            )
            .order_by(Period.year.desc(), Period.quarter.desc())
            .limit(TREND_QUARTERS - 1)
        )
    )
    return [*reversed(earlier), return_]


# -- progress -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """The same kind of counts for an earlier quarter, and how the paper names that quarter."""

    name: str
    counts: Counter[str]


def _compared(
    now: int, stage: str, last_quarter: Comparison | None, last_year: Comparison | None
) -> str:
    """ ", up from 17 last quarter (12 a year ago)" — what the count was before, if known."""
    parts = ""
    if last_quarter is not None:
        then = last_quarter.counts.get(stage, 0)
        if now > then:
            parts = f", up from {then:,} {last_quarter.name}"
        elif now < then:
            parts = f", down from {then:,} {last_quarter.name}"
        else:
            parts = f", the same as {last_quarter.name}"
    if last_year is not None:
        then = last_year.counts.get(stage, 0)
        parts += f" ({then:,} {last_year.name})"
    return parts


def progress_sentences(
    now: dict[str, Counter[str]],
    last_quarter: dict[str, Counter[str]] | None,
    last_year: dict[str, Counter[str]] | None,
) -> list[str]:
    """The headline figures in sentences, each with its denominator and change:
    "21 of 114 roadmap actions (18%) are embedded, up from 17 last quarter (12 a year ago)."
    """
    sentences = []
    roadmap = now[ROADMAP]
    total = sum(roadmap.values())
    quarter = Comparison("last quarter", last_quarter[ROADMAP]) if last_quarter else None
    year = Comparison("a year ago", last_year[ROADMAP]) if last_year else None
    for index, stage in enumerate(HEADLINE_STAGES):
        count = roadmap.get(stage, 0)
        noun = plural(total, "roadmap action") if index == 0 else f"{total:,}"
        sentences.append(
            f"{count:,} of {noun} ({percent(count, total)}) {STAGE_PHRASES[stage]}"
            f"{_compared(count, stage, quarter, year)}."
        )
    closing = []
    if roadmap.get("not_applicable"):
        closing.append(f"{roadmap['not_applicable']:,} {STAGE_PHRASES['not_applicable']}")
    if roadmap.get("none"):
        closing.append(
            f"{roadmap['none']:,} {'is' if roadmap['none'] == 1 else 'are'} not assessed"
        )
    if closing:
        sentences.append(" and ".join(closing).capitalize() + ".")
    enablers = now[ENABLERS]
    whole = sum(enablers.values())
    if whole:
        embedded, implementing = enablers.get("embedded", 0), enablers.get("implementing", 0)
        sentences.append(
            f"Of the {plural(whole, 'action')} on barriers and enablers, {embedded:,} "
            f"({percent(embedded, whole)}) {STAGE_PHRASES['embedded']} and {implementing:,} "
            f"({percent(implementing, whole)}) {STAGE_PHRASES['implementing']}."
        )
    return sentences


@dataclass(frozen=True)
class AreaProgress:
    """One area of the roadmap by name: its actions, how many are implementing or embedded now
    and last quarter."""

    label: str
    total: int
    embedded: int
    implementing: int
    advanced_before: int | None

    @property
    def advanced(self) -> int:
        return self.embedded + self.implementing

    @property
    def change(self) -> str:
        if self.advanced_before is None:
            return "No earlier quarter"
        delta = self.advanced - self.advanced_before
        if delta > 0:
            return f"Up {delta} from {self.advanced_before}"
        if delta < 0:
            return f"Down {-delta} from {self.advanced_before}"
        return "No change"


def area_progress(details: Sequence[ActionDetail], has_previous: bool) -> list[AreaProgress]:
    """Each area (and the barriers and enablers), in roadmap order, from the action details."""
    order: list[str] = []
    rows: dict[str, list[ActionDetail]] = {}
    for detail in details:
        if detail.area_label not in rows:
            order.append(detail.area_label)
            rows[detail.area_label] = []
        rows[detail.area_label].append(detail)
    result = []
    for label in order:
        group = rows[label]
        result.append(
            AreaProgress(
                label=label,
                total=len(group),
                embedded=sum(1 for d in group if d.stage_code == "embedded"),
                implementing=sum(1 for d in group if d.stage_code == "implementing"),
                advanced_before=(
                    sum(1 for d in group if d.previous_stage_code in ("embedded", "implementing"))
                    if has_previous
                    else None
                ),
            )
        )
    return result


# -- financial implications -----------------------------------------------------------------------


@dataclass(frozen=True)
class SpendLine:
    """One type of spend the roadmap tags: how many actions in progress carry it, by level."""

    name: str
    actions: int
    by_level: dict[str, int]

    @property
    def levels(self) -> str:
        return ", ".join(f"{count} at {symbol}" for symbol, count in self.by_level.items() if count)


@dataclass(frozen=True)
class SourceLine:
    """Funding the council recorded from one source."""

    name: str
    actions: int
    pounds: int

    @property
    def amount(self) -> str:
        return money(self.pounds)


@dataclass
class Financial:
    """What the actions in progress may cost (the roadmap's tags) and what the council recorded."""

    in_progress: int
    spend: list[SpendLine]
    sources: list[SourceLine]
    recorded_total: int
    #: actions in progress that the roadmap says need funding, with no funding recorded
    unfunded: list[ActionDetail] = field(default_factory=list)

    @property
    def total(self) -> str:
        return money(self.recorded_total)


def financial(details: Sequence[ActionDetail]) -> Financial:
    in_progress = [d for d in details if d.stage_code in IN_PROGRESS]
    spend = []
    for letter, name in SPEND_NAMES.items():
        tagged = [d for d in in_progress if letter in (d.spend_types or "")]
        if tagged:
            levels = Counter(FUNDING_SYMBOLS.get(d.funding_level or 0, "") for d in tagged)
            spend.append(
                SpendLine(
                    name=name,
                    actions=len(tagged),
                    by_level={
                        symbol: levels[symbol] for symbol in FUNDING_SYMBOLS.values() if symbol
                    },
                )
            )
    by_source: dict[str, list[int]] = {}
    for detail in details:
        if detail.amount_pounds:
            entry = by_source.setdefault(detail.funding_source or "", [0, 0])
            entry[0] += 1
            entry[1] += detail.amount_pounds
    sources = [
        SourceLine(name=FUNDING_SOURCES.get(code, "Source not recorded"), actions=n, pounds=pounds)
        for code, (n, pounds) in sorted(by_source.items(), key=lambda kv: -kv[1][1])
    ]
    return Financial(
        in_progress=len(in_progress),
        spend=spend,
        sources=sources,
        recorded_total=sum(line.pounds for line in sources),
        unfunded=[d for d in in_progress if d.funding_level and not d.amount_pounds],
    )


# -- risks and barriers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BarrierGroup:
    """The actions held back by one kind of barrier."""

    name: str
    actions: list[ActionDetail]

    @property
    def listed(self) -> list[ActionDetail]:
        return self.actions[:LISTED]

    @property
    def more(self) -> int:
        return max(0, len(self.actions) - LISTED)


@dataclass
class Risks:
    groups: list[BarrierGroup]
    #: actions blocked by national policy or legislation, with the roadmap's legislative tag
    national: list[tuple[ActionDetail, str]]

    @property
    def count(self) -> int:
        """Actions with any barrier recorded, national ones included."""
        held = {d.code for g in self.groups for d in g.actions}
        return len(held | {d.code for d, _tag in self.national})


def risks(details: Sequence[ActionDetail]) -> Risks:
    groups = []
    for code, name in BARRIERS.items():
        if code == NATIONAL_BARRIER:  # its own list below, with the legislative tags
            continue
        held = [d for d in details if code in d.barrier_codes]
        if held:
            groups.append(BarrierGroup(name=name, actions=held))
    groups.sort(key=lambda g: -len(g.actions))
    national = [
        (d, legislative_label(d.legislative_level) or "No legislative tag")
        for d in details
        if NATIONAL_BARRIER in d.barrier_codes
    ]
    return Risks(groups=groups, national=national)


# -- trend ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendRow:
    """One quarter of the trend: the roadmap actions at each stage."""

    quarter: str
    total: int
    stages: dict[str, int]


def trend(return_: Return) -> list[TrendRow]:
    """The last quarters (at most eight, this one last): roadmap actions by stage."""
    returns = trend_returns(return_)
    counts = stage_counts_by_kind(r.id for r in returns)
    rows = []
    for r in returns:
        roadmap = counts[r.id][ROADMAP]
        rows.append(
            TrendRow(
                quarter=months(r.period.label), total=sum(roadmap.values()), stages=dict(roadmap)
            )
        )
    return rows


def quarter_name(period: Period) -> str:
    """ "October to December 2026": a quarter as its months."""
    return months(period.label)


# -- the paper's headings and the sentences both renderers print -----------------------------------

#: the paper's sections in order, as (anchor, heading): the PDF's contents and bookmarks and the
#: Word document's headings all come from here
SECTIONS = (
    ("director", "Summary from the Director"),
    ("recommendations", "What the board is asked to do"),
    ("progress", "Progress this quarter"),
    ("exceptions", "Exceptions"),
    ("financial", "Financial implications"),
    ("risks", "Risks and barriers"),
    ("coproduction", "Co-production: you said, we did"),
    ("trend", "Trend"),
    ("appendix", "Appendix: every action"),
    ("key", "Key to the tags and scales"),
)
HEADINGS = dict(SECTIONS)
#: the trend table's stages, most advanced first
TREND_STAGES = ("embedded", "implementing", "planning", "not_started", "not_applicable")
#: the key to the direction-of-travel arrows
DIRECTION_KEY = (
    ("↑ Improved", "A later stage than last quarter, or a better RAG rating at the same stage"),
    ("→ Unchanged", "The same stage and RAG rating"),
    ("↓ Worsened", "An earlier stage, or a worse RAG rating at the same stage"),
)
#: on the cover of a paper whose return is not signed off
DRAFT_WARNING = (
    "Draft: this return has not been signed off by the Director of Adult Social Services. "
    "Its figures may change."
)


def title(council_name: str, quarter: str) -> str:
    """The paper's title, as its PDF and Word properties and running headers give it."""
    return f"Quarterly board paper: {quarter} – {council_name}"


def missing_summary(is_signed_off: bool) -> str:
    """What the paper says where the Director's summary would be: a prompt, never invented."""
    if is_signed_off:
        return (
            "The Director did not write a summary when signing off this return. A summary can "
            "be added if the return is reopened and signed off again."
        )
    return "The Director writes this summary when signing off the return."


def missing_recommendations(is_signed_off: bool) -> str:
    if is_signed_off:
        return "The Director made no recommendations to the board with this return."
    return "The Director sets out what the board is asked to do when signing off the return."


def exceptions_intro(count: int, previous_quarter: str | None) -> str:
    if not count:
        since = f" since {previous_quarter}" if previous_quarter else ""
        return f"No action is rated Red, worse{since} or past its target date."
    since = f"worse than in {previous_quarter}" if previous_quarter else "worse than last quarter"
    return f"{plural(count, 'action')}: every action rated Red, {since}, or past its target date."


def answer_time_sentence(median_days: float | None, overdue: int, aim_days: int) -> str:
    """``"The median time to answer was 4 working days (the council aims for 20); 2 comments
    are overdue."``; empty when nothing is answered or waiting."""
    parts = []
    if median_days is not None:
        days = f"{median_days:g} working day{'' if median_days == 1 else 's'}"
        parts.append(f"The median time to answer was {days} (the council aims for {aim_days:,})")
    verb = "is" if overdue == 1 else "are"
    parts.append(f"{plural(overdue, 'comment')} {verb} overdue")
    sentence = "; ".join(parts)
    return sentence[:1].upper() + sentence[1:] + "."


def coproduction_sentence(
    received: int,
    answered: int,
    open_: int,
    hidden: int,
    median_days: float | None = None,
    overdue: int = 0,
    aim_days: int | None = None,
) -> str:
    """The panel's comments counted, with correct plurals; a clear sentence when there are none.
    With ``aim_days`` (the council's aim, in working days), how quickly the council answered:
    the median time and how many comments wait longer than the aim."""
    if not received:
        return "The co-production panel made no comments on this return."
    hidden_part = f", and the council hid {plural(hidden, 'comment')}" if hidden else ""
    counted = (
        f"The co-production panel made {plural(received, 'comment')} on this return: "
        f"{answered:,} answered and {open_:,} awaiting an answer{hidden_part}."
    )
    if aim_days is None:
        return counted
    return f"{counted} {answer_time_sentence(median_days, overdue, aim_days)}"


#: the table of the panel's own view, as the PDF, the Word document and the spreadsheet print it
PANEL_VIEWS_CAPTION = "The panel's view beside the council's RAG: how many gave each answer"
PANEL_VIEWS_HEAD = (
    "Action",
    "Council's stage and RAG",
    *PANEL_VIEW_HEADINGS.values(),
    "Answered",
    "Gathered at a panel meeting",
)


def panel_view_rows(views: PanelViewSummary, *, as_text: bool = True) -> list[list[Any]]:
    """One row per action shown (at least 3 answers): the action, the council's stage and RAG,
    the count of each answer, how many answered and how many of those were gathered at a panel
    meeting; the counts as text ("1,024") or, for a spreadsheet, numbers. Never a name or a
    comment."""
    rows: list[list[Any]] = []
    for line in views.shown:
        stage_rag = [STAGE_NAMES.get(line.stage or ""), RAG_NAMES.get(line.rag or "")]
        numbers = [*(line.counts[key] for key in PANEL_VIEW_HEADINGS), line.answered]
        numbers.append(line.at_meeting)
        rows.append(
            [
                f"{line.text} ({line.code})",
                ", ".join(part for part in stage_rag if part) or "Not assessed",
                *([f"{n:,}" for n in numbers] if as_text else numbers),
            ]
        )
    return rows


def financial_sentences(money_: Financial) -> list[str]:
    lines = [
        f"{plural(money_.in_progress, 'action is', 'actions are')} in planning or being "
        "implemented."
    ]
    if money_.sources:
        lines.append(
            f"The council recorded {money_.total} of funding against "
            f"{plural(sum(s.actions for s in money_.sources), 'action')}."
        )
    else:
        lines.append("The council recorded no funding against any action this quarter.")
    unfunded = len(money_.unfunded)
    if unfunded == 1:
        lines.append(
            "1 action in progress that the roadmap says needs funding has no funding recorded."
        )
    elif unfunded:
        lines.append(
            f"{unfunded:,} actions in progress that the roadmap says need funding have no "
            "funding recorded."
        )
    return lines
