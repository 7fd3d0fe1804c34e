"""The one clock the app reads: naive UTC datetimes, as stored in every timestamp column."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now in UTC without a time zone, whatever the server's or database's own zone."""
    return datetime.now(UTC).replace(tzinfo=None)
