"""The one clock the app reads: naive UTC datetimes, as stored in every timestamp column, and
the UK date and time people see."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

#: the time people read (PRODUCT.md: "Times in UK time")
UK = ZoneInfo("Europe/London")


def utcnow() -> datetime:
    """Now in UTC without a time zone, whatever the server's or database's own zone."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_uk(at: datetime) -> datetime:
    """A stored (naive UTC) time as UK time, without a time zone."""
    return at.replace(tzinfo=UTC).astimezone(UK).replace(tzinfo=None)


def uk_today() -> date:
    """Today's date in the UK: what a period's due date is compared with."""
    return to_uk(utcnow()).date()
