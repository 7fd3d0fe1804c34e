"""Jinja filters: readable names for roadmap tags, timeframes, leads, stages and RAG; money."""

from __future__ import annotations

from flask import Flask

TIMEFRAME_NAMES = {"short": "Short term", "medium": "Medium term", "long": "Long term"}
TIMEFRAME_SPANS = {
    "short": "next financial year",
    "medium": "c. 2–5 years",
    "long": "c. 6–10 years",
}
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
FUNDING_NAMES = {1: "Modest funding", 2: "Substantial funding", 3: "Significant funding"}
FUNDING_SYMBOLS = {1: "£", 2: "££", 3: "£££"}
LEGISLATIVE_NAMES = {
    1: "Simple legislative change",
    2: "Moderate legislative change",
    3: "Major legislative reform",
}
LEGISLATIVE_SYMBOLS = {1: "+", 2: "++", 3: "+++"}
#: how far implementation has got (PRODUCT.md, "Scales"), in the order of the scale
STAGE_NAMES = {
    "not_started": "Not started",
    "planning": "Planning",
    "implementing": "Implementing",
    "embedded": "Embedded",
    "not_applicable": "Not applicable locally",
}
STAGE_HINTS = {
    "not_started": "No work on it has begun",
    "planning": "Work is being scoped, agreed or resourced",
    "implementing": "Changes are being made",
    "embedded": "Business as usual",
    "not_applicable": "The action does not apply to this council; give the reason",
}
#: delivery confidence against the council's own target (PRODUCT.md, "Scales")
RAG_NAMES = {"green": "Green", "amber": "Amber", "red": "Red"}
RAG_HINTS = {
    "green": "On course to reach the target stage by the target date",
    "amber": "At risk, with mitigation in place",
    "red": "Will miss the target, or is blocked without intervention",
}
RETURN_STATUS_NAMES = {"draft": "Draft", "submitted": "Submitted", "signed_off": "Signed off"}
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
        labels.append(
            f"{LEGISLATIVE_NAMES[action.legislative_level]} "
            f"({LEGISLATIVE_SYMBOLS[action.legislative_level]})"
        )
    return labels


def upper_first(text: str) -> str:
    """The text with its first letter upper-cased and the rest untouched (unlike ``capitalize``,
    which would turn "ICS, NHS" into "ics, nhs")."""
    return text[:1].upper() + text[1:]


def money(amount: int | None) -> str:
    """``1200`` → ``"£1,200"``; empty for None."""
    return "" if amount is None else f"£{amount:,}"


def init_app(app: Flask) -> None:
    """Register the filters and the lookup tables templates use for labels."""
    app.add_template_filter(lambda v: TIMEFRAME_NAMES.get(v, v), "timeframe_name")
    app.add_template_filter(lambda v: LEAD_NAMES.get(v, v), "lead_name")
    app.add_template_filter(tag_labels, "tag_labels")
    app.add_template_filter(upper_first, "upper_first")
    app.add_template_filter(lambda v: COUNCIL_TYPE_NAMES.get(v, v), "council_type_name")
    app.add_template_filter(lambda v: STAGE_NAMES.get(v, "Not assessed"), "stage_name")
    app.add_template_filter(lambda v: RAG_NAMES.get(v, "No RAG rating"), "rag_name")
    app.add_template_filter(lambda v: RETURN_STATUS_NAMES.get(v, v), "return_status_name")
    app.add_template_filter(money, "money")
    app.jinja_env.globals.update(
        TIMEFRAME_NAMES=TIMEFRAME_NAMES,
        TIMEFRAME_SPANS=TIMEFRAME_SPANS,
        LEAD_NAMES=LEAD_NAMES,
        LEAD_HINTS=LEAD_HINTS,
        SPEND_NAMES=SPEND_NAMES,
        FUNDING_NAMES=FUNDING_NAMES,
        FUNDING_SYMBOLS=FUNDING_SYMBOLS,
        LEGISLATIVE_NAMES=LEGISLATIVE_NAMES,
        LEGISLATIVE_SYMBOLS=LEGISLATIVE_SYMBOLS,
        STAGE_NAMES=STAGE_NAMES,
        RAG_NAMES=RAG_NAMES,
    )
