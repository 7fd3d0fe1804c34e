"""The sentences of a council's CQC view: the page, the PDF pack and the Word pack
(``tracker.cqc.documents``) all print them from here, so the three say the same things."""

from __future__ import annotations

from datetime import datetime

from tracker.clock import to_uk
from tracker.cqc.services import CqcView, EvidenceItem, LinkedAction, StatementView
from tracker.domain.periods import long_date
from tracker.domain.vocabulary import PANEL_VIEW_HEADINGS, PANEL_VIEW_KEYS, STAGE_NAMES
from tracker.panels.services import PANEL_VIEWS_INTRO, YouSaidWeDid

INTRO = (
    "The council's progress on the ADASS roadmap Time to act, read against the quality "
    "statements of the CQC's assessment framework for local authority assurance: for each "
    "statement, the roadmap actions that serve it, the evidence behind them by the CQC's "
    "categories of evidence, and what the co-production panel said."
)
GAP_RULE = (
    "A statement has a gap when none of the evidence behind its actions was dated or added in "
    "the last 12 months, or when any of its actions is rated Red."
)
NO_FRAMEWORK = (
    "The CQC's assessment framework is not loaded in this service yet, so there is nothing to show."
)
NO_GAPS = "No gap: recent evidence supports it and none of its actions is rated Red."
NO_ACTIONS = "No roadmap action is linked to this quality statement."
NO_EVIDENCE = "No evidence is linked to these actions in this return."
PANEL_HEADING = "The panel's view"
PANEL_CAPTION = "How many panel members gave each answer"
YSWD_HEADING = "You said, we did"
NO_YSWD = 'No answer on these actions is marked "you said, we did".'
SUMMARY_HEADING = "Summary: quality statements with gaps"


def heading(view: CqcView) -> str:
    return f"CQC self-assessment: {view.quarter}"


def title(view: CqcView) -> str:
    """The pack's title, as its PDF and Word properties and running headers give it."""
    return f"{heading(view)} – {view.council.name}"


def _when(at: datetime | None) -> str:
    return long_date(to_uk(at).date()) if at else ""


def cover_facts(view: CqcView) -> list[tuple[str, str]]:
    facts = [
        ("Council", view.council.name),
        ("Quarter", f"{view.quarter} ({view.period.label})"),
        ("Return", view.status_name),
        ("Recent evidence", f"Dated or added since {long_date(view.recent_since)}"),
    ]
    if view.generated_at:
        facts.append(("Produced", _when(view.generated_at)))
    return facts


def status_warning(view: CqcView) -> str:
    if view.is_draft:
        return (
            "Draft: this return has not been submitted. Only the council's own staff can see "
            "this view, and its figures may change."
        )
    if not view.is_signed_off:
        return (
            "This return has not been signed off by the Director of Adult Social Services. "
            "Its figures may change."
        )
    return ""


def actions_heading(statement: StatementView) -> str:
    n = len(statement.actions)
    return f"Roadmap actions ({n})"


def action_facts(action: LinkedAction) -> list[tuple[str, str]]:
    since = action.direction_name
    if action.previous_stage:
        since += f" (was {STAGE_NAMES.get(action.previous_stage, action.previous_stage)})"
    return [
        ("Stage", action.stage_name),
        ("RAG", action.rag_name),
        ("Review", action.review_name),
        ("Since last quarter", since),
    ]


def evidence_heading(statement: StatementView) -> str:
    return f"Evidence by CQC category ({statement.evidence_count})"


def evidence_line(item: EvidenceItem) -> str:
    dated = long_date(item.dated_on) if item.dated_on else "no date"
    return f"{item.type_name}, {dated}; supports {', '.join(item.action_codes)}"


def missing_sentence(statement: StatementView) -> str:
    return "No evidence yet for: " + ", ".join(statement.missing_categories) + "."


def panel_head() -> list[str]:
    return ["Action", "Council's stage and RAG", *PANEL_VIEW_HEADINGS.values(), "Answered"]


def panel_rows(statement: StatementView) -> list[list[str]]:
    rows = []
    actions = {a.code: a for a in statement.actions}
    for line in statement.panel_views:
        action = actions[line.code]
        rows.append(
            [
                f"{line.text} ({line.code})",
                f"{action.stage_name}, {action.rag_name}",
                *(f"{line.counts[key]:,}" for key in PANEL_VIEW_KEYS),
                f"{line.answered:,}",
            ]
        )
    return rows


def panel_sentence(view: CqcView, statement: StatementView) -> str:
    if not view.panel_views_asked:
        return "The panel gives its view once the return is signed off."
    if not statement.panel_views:
        return "No panel view is shown for these actions: fewer than 3 panel members answered."
    return PANEL_VIEWS_INTRO


def you_said_we_did_pairs(item: YouSaidWeDid) -> list[tuple[str, str]]:
    return [
        ("Action", item.action_code),
        ("You said", f"{item.comment} ({item.display_name})"),
        ("We answered", item.answer),
        ("We did", item.change_made),
    ]
