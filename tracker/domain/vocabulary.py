"""The product's words: the scales and tags, their labels and order, and what is shared.

PRODUCT.md defines the words; the enums in :mod:`tracker.models.returns` carry the stage, RAG
and return-status labels, and every table here is derived from them or is the one copy of a
roadmap tag's name. Pages (through :mod:`tracker.filters`), forms, exports, reports and the API
all read them from here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from tracker.models.frameworks import CqcEvidenceCategory
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


#: the CQC's four categories of evidence for local authority assessment, in its order: how an
#: item of evidence is grouped in a council's CQC view and pack (uncategorised items go last)
CQC_EVIDENCE_CATEGORY_NAMES = {
    CqcEvidenceCategory.PEOPLES_EXPERIENCE.value: "People's experience",
    CqcEvidenceCategory.STAFF_AND_LEADERS.value: "Feedback from staff and leaders",
    CqcEvidenceCategory.PARTNERS.value: "Feedback from partners",
    CqcEvidenceCategory.PROCESSES.value: "Processes",
}


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


def action_name(code: str, text: str, limit: int = 90) -> str:
    """How an action is named in a link, a subject line or a list: its words first, shortened
    at a word to ``limit`` characters, with its code beside them, never instead of them:
    ``"Develop a long-term, fully funded national workforce… (E03.01)"``."""
    text = " ".join((text or "").split())
    if len(text) > limit:
        cut = text[: limit - 1]
        text = (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip(",;:.-–") + "…"
    return f"{text} ({code})" if text else code


def upper_sentence(text: str) -> str:
    """``"needs ICS, NHS or housing partners"`` → ``"Needs ICS, NHS or housing partners."``"""
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."


@dataclass(frozen=True)
class GlossaryTerm:
    """One entry of the glossary page (``/glossary#<id>``): a word and what it means."""

    id: str
    term: str
    definition: str
    #: the word's short forms found in the roadmap's text (e.g. "VCFSE"), linked to the entry
    abbreviations: tuple[str, ...] = ()
    #: the words under it, e.g. each stage and its meaning
    items: tuple[tuple[str, str], ...] = ()


def _stage_items() -> tuple[tuple[str, str], ...]:
    return tuple((s.label, s.hint) for s in Stage)


def _rag_items() -> tuple[tuple[str, str], ...]:
    return tuple((r.label, r.hint) for r in sorted(Rag, key=lambda r: -r.rank))


#: the timeframes' spans (TIMEFRAME_SPANS) in words for everyone
_PLAIN_SPANS = {
    "short": "The next financial year.",
    "medium": "About 2 to 5 years.",
    "long": "About 6 to 10 years.",
}

#: every term the pages explain, in alphabetical order, from one place: the stage, RAG, lead
#: and tag words come from the tables above, so the glossary never disagrees with the pages
GLOSSARY: tuple[GlossaryTerm, ...] = tuple(
    sorted(
        (
            GlossaryTerm(
                "action",
                "Action",
                "One thing the roadmap asks for. Each action has a code, such as A03.M02, and a "
                "title that says what it is.",
            ),
            GlossaryTerm(
                "adass",
                "ADASS",
                "The Association of Directors of Adult Social Services. It wrote the roadmap "
                "“Time to act”.",
                abbreviations=("ADASS",),
            ),
            GlossaryTerm(
                "barriers-and-enablers",
                "Barriers and enablers",
                "Things that hold change back, or help it happen. The roadmap has 26 actions on "
                "them, as well as its 114 roadmap actions.",
            ),
            GlossaryTerm(
                "co-production",
                "Co-production",
                "People who draw on care and support, and carers, work with the council as equal "
                "partners to plan and check its work.",
            ),
            GlossaryTerm(
                "co-production-panel",
                "Co-production panel",
                "A group of people who draw on care and support, and carers. They read the "
                "council’s reports, comment on them, and get an answer to each comment.",
            ),
            GlossaryTerm(
                "dass",
                "DASS",
                "Director of Adult Social Services. The person in charge of adult social care in "
                "a council. They sign off the council’s return.",
                abbreviations=("DASS", "DASSs"),
            ),
            GlossaryTerm(
                "funding",
                "Funding tags (£, ££, £££)",
                "How much extra money the roadmap says an action needs each year.",
                items=tuple(
                    (f"{FUNDING_NAMES[level]} ({FUNDING_SYMBOLS[level]})", "")
                    for level in FUNDING_NAMES
                ),
            ),
            GlossaryTerm(
                "icb",
                "ICB",
                "Integrated care board. The NHS body that plans and pays for health care in an "
                "area.",
                abbreviations=("ICB", "ICBs"),
            ),
            GlossaryTerm(
                "ics",
                "ICS",
                "Integrated care system. The NHS, councils and others in an area working "
                "together on health and care.",
                abbreviations=("ICS", "ICSs"),
            ),
            GlossaryTerm(
                "lead",
                "Lead",
                "Who can make an action happen.",
                items=tuple(
                    (LEAD_NAMES[key], upper_sentence(LEAD_HINTS[key])) for key in LEAD_NAMES
                ),
            ),
            GlossaryTerm(
                "legislative",
                "Law change tags (+, ++, +++)",
                "How much the law would need to change for an action to happen.",
                items=tuple((legislative_label(level), "") for level in LEGISLATIVE_NAMES),
            ),
            GlossaryTerm(
                "nhs",
                "NHS",
                "The National Health Service.",
                abbreviations=("NHS",),
            ),
            GlossaryTerm(
                "rag",
                "RAG rating",
                "Red, amber or green. How sure the council is that it will reach its own target "
                "for an action on time. It is given while the stage is Planning or "
                "Implementing.",
                abbreviations=("RAG",),
                items=_rag_items(),
            ),
            GlossaryTerm(
                "return",
                "Return",
                "The council’s report on every action, made every 3 months.",
            ),
            GlossaryTerm(
                "roadmap",
                "The roadmap",
                "“Time to act: a roadmap for reforming care and support in England”, written by "
                "ADASS in April 2023. It sets out what needs to change, and when.",
            ),
            GlossaryTerm(
                "signed-off",
                "Signed off",
                "The Director of Adult Social Services has checked the return and agreed it.",
            ),
            GlossaryTerm(
                "spend",
                "Type of spend tags (T, S, C, A)",
                "What the extra money for an action would be spent on.",
                items=tuple((f"{name} ({key})", "") for key, name in SPEND_NAMES.items()),
            ),
            GlossaryTerm(
                "stage",
                "Stage",
                "How far the council has got with an action.",
                items=_stage_items(),
            ),
            GlossaryTerm(
                "timeframe",
                "Timeframe",
                "When the roadmap says an action should happen.",
                items=tuple((TIMEFRAME_NAMES[key], _PLAIN_SPANS[key]) for key in TIMEFRAME_NAMES),
            ),
            GlossaryTerm(
                "vcfse",
                "VCFSE",
                "Voluntary, community, faith and social enterprise groups. Charities and local "
                "groups that are not run by the council or the NHS.",
                abbreviations=("VCFSE",),
            ),
            GlossaryTerm(
                "you-said-we-did",
                "You said, we did",
                "A comment from the panel and the change the council made because of it.",
            ),
        ),
        key=lambda t: t.term.lower(),
    )
)
GLOSSARY_IDS = frozenset(t.id for t in GLOSSARY)
#: short form → glossary id, for linking the words where they appear in the roadmap's text
GLOSSARY_ABBREVIATIONS = {a: t.id for t in GLOSSARY for a in t.abbreviations}
