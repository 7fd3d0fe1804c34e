"""Jinja filters: readable names for roadmap tags, timeframes, leads, stages and RAG; money.

The words themselves live in :mod:`tracker.domain.vocabulary`; this module only registers them.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from flask import Flask, url_for
from markupsafe import Markup, escape

from tracker.clock import to_uk
from tracker.domain.periods import months, period_slug, quarter_name
from tracker.domain.vocabulary import (
    COUNCIL_TYPE_NAMES,
    FUNDING_NAMES,
    FUNDING_SYMBOLS,
    GLOSSARY_ABBREVIATIONS,
    GLOSSARY_IDS,
    LEAD_HINTS,
    LEAD_NAMES,
    LEGISLATIVE_NAMES,
    LEGISLATIVE_SYMBOLS,
    PANEL_VIEW_HEADINGS,
    PANEL_VIEW_NAMES,
    PREVENTION_TIER_NAMES,
    RAG_NAMES,
    RETURN_STATUS_NAMES,
    SPEND_NAMES,
    STAGE_NAMES,
    TIMEFRAME_NAMES,
    TIMEFRAME_SPANS,
    action_name,
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


def uk_date(at: datetime | date) -> str:
    """The day of a stored (UTC) time as people in the UK read it, "31 January 2027": at 00:30
    in a British summer, UTC is still on the day before. A date is shown as it is."""
    day = to_uk(at).date() if isinstance(at, datetime) else at
    return day.strftime("%-d %B %Y")


def term(term_id: str, text: str) -> Markup:
    """``{{ term("rag", "RAG rating") }}``: the words, linked to their meaning on the glossary
    page (``/glossary#rag``). An id the glossary does not have is an error, not a broken link."""
    if term_id not in GLOSSARY_IDS:
        raise KeyError(f"no glossary term {term_id!r}")
    href = url_for("pages.glossary") + "#" + term_id
    return Markup('<a class="govuk-link tracker-term" href="{}">{}</a>').format(href, text)


_ABBREVIATION = re.compile(
    r"\b("
    + "|".join(sorted(map(re.escape, GLOSSARY_ABBREVIATIONS), key=len, reverse=True))
    + r")\b"
)


def glossary_links(text: str | None) -> Markup:
    """Plain text (escaped) with the first use of each short form the glossary explains
    ("VCFSE", "ICB", "DASS" …) linked to its meaning."""
    text = text or ""
    parts: list[Markup] = []
    seen: set[str] = set()
    end = 0
    for found in _ABBREVIATION.finditer(text):
        term_id = GLOSSARY_ABBREVIATIONS[found[1]]
        if term_id in seen:
            continue
        seen.add(term_id)
        parts += [escape(text[end : found.start()]), term(term_id, found[1])]
        end = found.end()
    parts.append(escape(text[end:]))
    return Markup("").join(parts)


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
    app.add_template_filter(uk_date, "uk_date")
    app.add_template_filter(glossary_links, "glossary_links")
    app.add_template_global(action_name, "action_name")
    app.add_template_global(quarter_name, "quarter_name")
    app.add_template_global(term, "term")
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
        PREVENTION_TIER_NAMES=PREVENTION_TIER_NAMES,
    )
