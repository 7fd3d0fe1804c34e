"""Jinja filters: readable names for roadmap tags, timeframes, leads, stages and RAG; money.

The words themselves live in :mod:`tracker.domain.vocabulary`; this module only registers them.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from tracker.clock import to_uk
from tracker.domain.periods import months, period_slug
from tracker.domain.vocabulary import (
    COUNCIL_TYPE_NAMES,
    FUNDING_NAMES,
    FUNDING_SYMBOLS,
    LEAD_HINTS,
    LEAD_NAMES,
    LEGISLATIVE_NAMES,
    LEGISLATIVE_SYMBOLS,
    PANEL_VIEW_HEADINGS,
    PANEL_VIEW_NAMES,
    RAG_NAMES,
    RETURN_STATUS_NAMES,
    SPEND_NAMES,
    STAGE_NAMES,
    TIMEFRAME_NAMES,
    TIMEFRAME_SPANS,
    money,
    tag_labels,
)
from tracker.search import highlight


def upper_first(text: str) -> str:
    """The text with its first letter upper-cased and the rest untouched (unlike ``capitalize``,
    which would turn "ICS, NHS" into "ics, nhs")."""
    return text[:1].upper() + text[1:]


def uk_time(at: datetime) -> str:
    """A stored (UTC) time as people in the UK read it: "31 January 2027 at 17:05"."""
    return to_uk(at).strftime("%-d %B %Y at %H:%M")


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
    app.add_template_filter(lambda v: PANEL_VIEW_NAMES.get(v, v), "panel_view_name")
    app.add_template_filter(money, "money")
    app.add_template_filter(period_slug, "period_slug")
    app.add_template_filter(months, "period_months")
    app.add_template_filter(uk_time, "uk_time")
    # search results: the matched terms in <mark>, the rest escaped
    app.add_template_filter(highlight, "highlight")
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
        PANEL_VIEW_HEADINGS=PANEL_VIEW_HEADINGS,
    )
