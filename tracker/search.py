"""Keyword search shared by the roadmap and the returns: terms, LIKE patterns, highlighting.

A query is split into terms at spaces; a text matches when it holds every term, anywhere and in
any case ("carer" finds "Carers"). The same rule runs in SQL (``like_pattern`` with
``lower()``, for answers saved in returns) and in Python (``matches``, for the roadmap's own
text), so that both searches behave alike on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from markupsafe import Markup, escape

#: the longest query accepted: longer is refused with a message, never searched
MAX_QUERY_LENGTH = 200
#: terms beyond this many are ignored (each one is a condition on every searched column)
MAX_TERMS = 8
#: how much text a result shows around its first match
SNIPPET_LENGTH = 240


def query_terms(query: str) -> list[str]:
    """The distinct, lower-cased terms of a query, in order, at most ``MAX_TERMS``."""
    terms: list[str] = []
    for word in query.lower().split():
        if word not in terms:
            terms.append(word)
    return terms[:MAX_TERMS]


def like_pattern(term: str) -> str:
    """A LIKE pattern that finds ``term`` anywhere, its own ``%``, ``_`` and ``\\`` escaped
    (use with ``escape="\\\\"``)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def matches(text: str, terms: Sequence[str]) -> bool:
    """True when the text holds every term, in any case."""
    lowered = text.lower()
    return bool(terms) and all(term in lowered for term in terms)


def matches_any(text: str, terms: Sequence[str]) -> bool:
    """True when the text holds at least one of the terms, in any case."""
    lowered = text.lower()
    return any(term in lowered for term in terms)


def _pattern(terms: Sequence[str]) -> re.Pattern[str]:
    # Longest first, so that "carers" is marked whole rather than as "carer" and a lone "s".
    alternatives = sorted({re.escape(term) for term in terms if term}, key=len, reverse=True)
    return re.compile("|".join(alternatives), re.IGNORECASE)


def snippet(text: str, terms: Sequence[str], length: int = SNIPPET_LENGTH) -> str:
    """The text, or a passage of about ``length`` characters around its first match, with an
    ellipsis where it was cut. Cuts fall at spaces."""
    text = " ".join(text.split())
    if len(text) <= length or not terms:
        return text if len(text) <= length else text[:length].rsplit(" ", 1)[0] + "…"
    found = _pattern(terms).search(text)
    start = max(0, (found.start() if found else 0) - length // 3)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 20 else start
    end = start + length
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


def highlight(text: str, terms: Sequence[str]) -> Markup:
    """The text, escaped, with every occurrence of a term wrapped in ``<mark>``."""
    if not terms:
        return escape(text)
    parts: list[str] = []
    position = 0
    for found in _pattern(terms).finditer(text):
        parts.append(escape(text[position : found.start()]))
        parts.append(Markup("<mark>%s</mark>") % found.group(0))
        position = found.end()
    parts.append(escape(text[position:]))
    return Markup("").join(parts)
