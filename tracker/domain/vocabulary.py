"""The product's words: the scales and tags, their labels and order, and what is shared.

PRODUCT.md defines the words; the enums in :mod:`tracker.models.returns` carry the stage, RAG
and return-status labels, and every table here is derived from them or is the one copy of a
roadmap tag's name. Pages (through :mod:`tracker.filters`), forms, exports, reports and the API
all read them from here.
"""

from __future__ import annotations

import enum
from datetime import datetime

from tracker.models.returns import Rag, ReturnStatus, Stage

#: the value that stands for "no stage yet" in counts and filters (never stored)
NOT_ASSESSED = "none"
#: the value that stands for "no RAG rating" in counts and filters (never stored)
NO_RAG = "none"

#: how far implementation has got (PRODUCT.md, "Scales"), in the order of the scale
STAGE_NAMES = {s.value: s.label for s in Stage}
STAGE_HINTS = {s.value: s.hint for s in Stage}
#: every stage, then "Not assessed" for an action with no stage yet
STAGE_LABELS = {**STAGE_NAMES, NOT_ASSESSED: "Not assessed"}
#: stage keys in the order of the scale, then outside it, then not yet assessed
STAGE_KEYS = (*STAGE_NAMES, NOT_ASSESSED)
#: the stages on the scale with their place on it; Not applicable locally is not comparable
STAGE_ORDER = {s: s.rank for s in Stage.scale()}
#: the stages that count as "well under way"
ADVANCED_STAGES = (Stage.IMPLEMENTING, Stage.EMBEDDED)

#: delivery confidence against the council's own target (PRODUCT.md, "Scales")
RAG_NAMES = {r.value: r.label for r in Rag}
RAG_HINTS = {r.value: r.hint for r in Rag}
RAG_LABELS = {**RAG_NAMES, NO_RAG: "No RAG rating"}
#: worst first
RAG_ORDER = {r: r.rank for r in Rag}
#: the three ratings, worst first
RAG_SCALE = tuple(sorted(RAG_NAMES, key=lambda value: Rag(value).rank))
#: RAG keys, worst first, then "none": no rating (outside Planning and Implementing, or missing)
RAG_KEYS = (*RAG_SCALE, NO_RAG)


class ReviewState(enum.StrEnum):
    """Whether anyone has looked at an assessment this quarter (PRODUCT.md, "Scales"): only
    reviewed actions (confirmed unchanged or updated) count as assessed."""

    NOT_REVIEWED = "not_reviewed"  #: carried forward (or new) and untouched this quarter
    CONFIRMED = "confirmed"  #: someone looked and confirmed last quarter's answer unchanged
    UPDATED = "updated"  #: saved this quarter

    @property
    def label(self) -> str:
        return _REVIEW_WORDS[self]

    @property
    def is_reviewed(self) -> bool:
        return self is not ReviewState.NOT_REVIEWED

    @classmethod
    def of(
        cls, *, is_carried_forward: bool, confirmed_at: datetime | None, updated_at: datetime | None
    ) -> ReviewState:
        """The state of an assessment from its columns (``queries`` has the same rule in SQL).

        Saving clears ``is_carried_forward``; a new action's row is not carried forward but has
        never been saved, so it is not yet reviewed either.
        """
        if not is_carried_forward and updated_at is not None:
            return cls.UPDATED
        if confirmed_at is not None:
            return cls.CONFIRMED
        return cls.NOT_REVIEWED


_REVIEW_WORDS = {
    ReviewState.NOT_REVIEWED: "Not yet reviewed",
    ReviewState.CONFIRMED: "Confirmed unchanged",
    ReviewState.UPDATED: "Updated",
}
#: review states in the order pages list them: what needs work first
REVIEW_STATE_NAMES = {s.value: s.label for s in ReviewState}
REVIEW_STATE_KEYS = tuple(REVIEW_STATE_NAMES)


def action_kinds(roadmap: int, enablers: int) -> str:
    """``"114 roadmap actions and 26 actions on barriers and enablers"``: the two kinds of
    action by their names (PRODUCT.md: never a bare "140 actions")."""
    parts = []
    if roadmap:
        parts.append(f"{roadmap} roadmap action{'s' if roadmap != 1 else ''}")
    if enablers:
        parts.append(f"{enablers} action{'s' if enablers != 1 else ''} on barriers and enablers")
    return " and ".join(parts) or "no actions"


#: the panel's own view of an action (triangulation): "From what you see, is this happening?",
#: the member's choices in the order offered
PANEL_VIEW_NAMES = {
    "yes": "Yes",
    "partly": "Partly",
    "not_yet": "Not yet",
    "dont_know": "I don't know",
}
#: the same answers as column headings where the council reads the counts
PANEL_VIEW_HEADINGS = {
    "yes": "Yes",
    "partly": "Partly",
    "not_yet": "Not yet",
    "dont_know": "Don't know",
}
PANEL_VIEW_KEYS = tuple(PANEL_VIEW_NAMES)
#: the question the panel answers
PANEL_VIEW_QUESTION = "From what you see, is this happening?"


RETURN_STATUS_NAMES = {s.value: s.label for s in ReturnStatus}
#: returns that have left the council: the only ones any comparison or outside reader sees
SHARED_STATUSES = tuple(s for s in ReturnStatus if s.is_shared)

TIMEFRAME_NAMES = {"short": "Short term", "medium": "Medium term", "long": "Long term"}
TIMEFRAME_SPANS = {
    "short": "next financial year",
    "medium": "c. 2–5 years",
    "long": "c. 6–10 years",
}
#: the roadmap's timeframes in its own order (short, medium, long)
TIMEFRAMES = tuple(TIMEFRAME_NAMES)
#: timeframe keys in order, then "none" for the barriers-and-enablers actions, which have none
NO_TIMEFRAME = "none"
TIMEFRAME_KEYS = (*TIMEFRAME_NAMES, NO_TIMEFRAME)
TIMEFRAME_LABELS = {**TIMEFRAME_NAMES, NO_TIMEFRAME: "No timeframe"}
#: filter value for the barriers-and-enablers actions (no action area of the ten)
ENABLERS = "enablers"
#: filter value for actions with no funding or legislative tag
UNTAGGED = "none"
LEAD_NAMES = {"local": "Local", "system": "System", "national": "National"}
LEAD_HINTS = {
    "local": "within a council's current powers",
    "system": "needs ICS, NHS or housing partners",
    "national": "government, Parliament or regulators",
}
SPEND_NAMES = {
    "T": "Transformation",
    "S": "Stabilisation",
    "C": "Community capacity",
    "A": "Access and affordability",
}
SPEND_KEYS = tuple(SPEND_NAMES)
FUNDING_NAMES = {1: "Modest funding", 2: "Substantial funding", 3: "Significant funding"}
FUNDING_SYMBOLS = {1: "£", 2: "££", 3: "£££"}
LEGISLATIVE_NAMES = {
    1: "Simple legislative change",
    2: "Moderate legislative change",
    3: "Major legislative reform",
}
LEGISLATIVE_SYMBOLS = {1: "+", 2: "++", 3: "+++"}
COUNCIL_TYPE_NAMES = {
    "county": "County council",
    "unitary": "Unitary authority",
    "metropolitan_district": "Metropolitan district",
    "london_borough": "London borough",
    "other": "Other",
}


def tag_labels(action) -> list[str]:
    """Readable labels for an action's tags, e.g. ["Transformation, £"].

    Works for anything with ``spend_types``, ``funding_level`` and ``legislative_level``.
    """
    labels: list[str] = []
    spend = ", ".join(SPEND_NAMES[letter] for letter in (action.spend_types or ""))
    funding = FUNDING_SYMBOLS.get(action.funding_level or 0, "")
    if spend and funding:
        labels.append(f"{spend}, {funding}")
    elif spend:
        labels.append(spend)
    elif funding:
        labels.append(f"{FUNDING_NAMES[action.funding_level]} ({funding})")
    if action.legislative_level:
        labels.append(legislative_label(action.legislative_level))
    return labels


def legislative_label(level: int | None) -> str:
    """``"Primary legislation changes (++)"``: the roadmap's legislative tag; empty for none."""
    if not level:
        return ""
    return f"{LEGISLATIVE_NAMES[level]} ({LEGISLATIVE_SYMBOLS[level]})"


def money(amount: int | None) -> str:
    """``1200`` → ``"£1,200"``; empty for None."""
    return "" if amount is None else f"£{amount:,}"
