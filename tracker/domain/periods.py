"""Periods as people and URLs name them: "2025-26 Q3", "2025-26-Q3", "October to December 2025".

A period is a UK financial-year quarter (Q1 is April to June). This module is the one home of
its names: parsing and printing labels, the URL form, the months it covers, and the ``period``
URL converter every blueprint's routes use (``/returns/<gss_code>/<period:period_label>``).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from werkzeug.routing import BaseConverter, ValidationError

#: a period's label: "2025-26 Q3"
PERIOD_LABEL = re.compile(r"^(\d{4})-(\d{2}) Q([1-4])$")
#: a period as it appears in URLs: "2025-26-Q3" for "2025-26 Q3"
URL_PERIOD_LABEL = re.compile(r"^(\d{4})-(\d{2})-Q([1-4])$")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class PeriodError(ValueError):
    """A period cannot be named, created, opened or closed as asked; the message says why."""


def period_label(year: int, quarter: int) -> str:
    """``(2025, 3)`` → ``"2025-26 Q3"``."""
    return f"{year}-{(year + 1) % 100:02d} Q{quarter}"


def parse_period_label(label: str) -> tuple[int, int]:
    """``"2025-26 Q3"`` → ``(2025, 3)``.

    :raises PeriodError: if the label is not a financial-year quarter written that way.
    """
    match = PERIOD_LABEL.match((label or "").strip())
    if not match:
        raise PeriodError("Enter a period like 2025-26 Q3")
    year, next_year, quarter = int(match[1]), int(match[2]), int(match[3])
    if (year + 1) % 100 != next_year:
        raise PeriodError(f"{year}-{next_year:02d} is not a financial year")
    return year, quarter


def target_passed(target_period: str | None, year: int, quarter: int) -> bool:
    """True when an action's target period ended before the quarter (year, quarter) began:
    the "Target date passed" flag of the form, the lists and the check page."""
    try:
        target_year, target_quarter = parse_period_label(target_period or "")
    except PeriodError:
        return False
    return target_year * 4 + target_quarter < year * 4 + quarter


def quarter_dates(year: int, quarter: int) -> tuple[date, date]:
    """First and last day of a financial-year quarter (Q1 is April to June)."""
    if quarter == 4:
        return date(year + 1, 1, 1), date(year + 1, 3, 31)
    start_month = 3 * quarter + 1
    end_month = start_month + 2
    last_day = 30 if end_month in (6, 9) else 31
    return date(year, start_month, 1), date(year, end_month, last_day)


def period_for(day: date) -> tuple[int, int]:
    """The financial-year quarter ``day`` falls in."""
    if day.month <= 3:
        return day.year - 1, 4
    return day.year, (day.month - 4) // 3 + 1


def months(label: str) -> str:
    """``"2026-27 Q3"`` → ``"October to December 2026"``: the quarter as everyone says it."""
    year, quarter = parse_period_label(label)
    first, last = quarter_dates(year, quarter)
    return f"{MONTHS[first.month - 1]} to {MONTHS[last.month - 1]} {last.year}"


def quarter_name(label: str, plain: bool) -> str:
    """The quarter as its reader says it: months for the panel and the public (``plain``), the
    council's own code ("2026-27 Q3") for its staff, who file returns by it."""
    return months(label) if plain else label


def long_date(day: date) -> str:
    """``date(2027, 1, 31)`` → ``"31 January 2027"``."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def days_from(day: date, today: date) -> str:
    """How far ``day`` is from ``today`` in words: "25 days from now", "tomorrow", "today",
    "yesterday", "3 days ago"."""
    days = (day - today).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days == -1:
        return "yesterday"
    return f"{days:,} days from now" if days > 0 else f"{-days:,} days ago"


def days_left(day: date, today: date) -> str:
    """How long until a due ``day`` in words: "55 days left", "1 day left", "due today",
    "1 day late", "3 days late"."""
    days = (day - today).days
    if days == 0:
        return "due today"
    if days > 0:
        return f"{days:,} day{'s' if days != 1 else ''} left"
    return f"{-days:,} day{'s' if days != -1 else ''} late"


def days_waited(since: date, today: date) -> str:
    """How long something has waited since ``since``: "since today", "1 day", "12 days"."""
    days = max((today - since).days, 0)
    if days == 0:
        return "since today"
    return f"{days:,} day{'s' if days != 1 else ''}"


def label_to_url(label: str) -> str:
    """``"2025-26 Q3"`` → ``"2025-26-Q3"``: the period as it appears in URLs."""
    return label.replace(" ", "-")


def label_from_url(value: str) -> str | None:
    """``"2025-26-Q3"`` → ``"2025-26 Q3"``; None when ``value`` is not a period's URL form."""
    match = URL_PERIOD_LABEL.match(value or "")
    if not match:
        return None
    label = f"{match[1]}-{match[2]} Q{match[3]}"
    try:
        parse_period_label(label)
    except PeriodError:
        return None
    return label


def period_slug(period: Any) -> str:
    """The period as it appears in a URL: ``2025-26-Q3`` for a Period or "2025-26 Q3"."""
    return label_to_url(period if isinstance(period, str) else period.label)


def parse_period_slug(slug: str) -> tuple[int, int] | None:
    """``"2025-26-Q3"`` → ``(2025, 3)``; None for anything that is not a financial-year quarter."""
    label = label_from_url(slug)
    return parse_period_label(label) if label else None


class PeriodConverter(BaseConverter):
    """``<period:period_label>``: matches only a financial-year quarter's URL form, so a
    malformed period is a 404 before any view runs; ``url_for`` takes a Period, a label or
    the URL form itself."""

    regex = r"\d{4}-\d{2}-Q[1-4]"

    def to_python(self, value: str) -> str:
        if label_from_url(value) is None:
            raise ValidationError()
        return value

    def to_url(self, value: Any) -> str:
        return period_slug(value)


def working_days_between(start: date, end: date) -> int:
    """How many working days (Monday to Friday) pass after ``start`` up to and including
    ``end``: 0 on the same day, 1 from a Friday to the next Monday. Bank holidays count as
    working days (the tracker keeps no calendar of them). Never negative."""
    if end <= start:
        return 0
    days = (end - start).days
    weeks, extra = divmod(days, 7)
    count = weeks * 5
    weekday = start.weekday()
    for offset in range(1, extra + 1):
        if (weekday + offset) % 7 < 5:
            count += 1
    return count


def working_days(count: int) -> str:
    """``20`` → ``"20 working days"``; ``1`` → ``"1 working day"``."""
    return f"{count:,} working day{'s' if count != 1 else ''}"
