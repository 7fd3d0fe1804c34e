"""Counting failures per account and per IP address, in a store every worker shares.

Redis when ``REDIS_URL`` is set (``INCR`` on a key that expires with its window), otherwise the
``throttle_counters`` table, incremented with one ``INSERT … ON CONFLICT DO UPDATE`` so that two
workers counting at once never lose a failure. Windows are fixed and expire by themselves: a
person is slowed down, never locked out for good (ASVS 5 6.3.1). Database counts are written in
the caller's transaction, which the caller commits.

While a configured Redis does not answer, counts go to the table instead (and a warning to the
log, once a minute): people can still sign in, download and export, and limits still hold,
counted afresh, rather than every request that counts ending in an error page.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import ThrottleCounter

log = logging.getLogger(__name__)
#: when the last "Redis does not answer" warning was logged (time.monotonic())
_last_warning = [-math.inf]
WARN_EVERY_SECONDS = 60


@dataclass(frozen=True)
class Limit:
    """At most ``limit`` hits on one key within ``window``."""

    key: str
    limit: int
    window: timedelta


def account_key(kind: str, email: str) -> str:
    """``<kind>:account:<sha256 of the normalised email>``: no address is stored in the clear."""
    digest = hashlib.sha256(email.strip().lower().encode("utf-8", "replace")).hexdigest()
    return f"{kind}:account:{digest}"


def ip_key(kind: str, ip: str | None) -> str:
    """``<kind>:ip:<address>``."""
    return f"{kind}:ip:{(ip or 'unknown')[:45]}"


# -- the store ---------------------------------------------------------------------------------


def _redis():
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    client = current_app.extensions.get("tracker_redis")
    if client is None:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        current_app.extensions["tracker_redis"] = client
    return client


def _redis_failed(error: Exception) -> None:
    """Note that Redis did not answer; the caller counts in the table instead."""
    now = time.monotonic()
    if now - _last_warning[0] >= WARN_EVERY_SECONDS:
        _last_warning[0] = now
        log.warning("Redis does not answer (%s): counting in the database", type(error).__name__)


def _redis_errors() -> type[Exception]:
    from redis.exceptions import RedisError

    return RedisError


def redis_answers() -> bool:
    """True when no Redis is configured, or the configured one answers a PING (in 2 s)."""
    client = _redis()
    if client is None:
        return True
    try:
        return bool(client.ping())
    except _redis_errors():  # ConnectionError, TimeoutError, …: not answering is the answer
        return False


def _redis_key(key: str) -> str:
    return current_app.config.get("THROTTLE_KEY_PREFIX", "tracker:throttle:") + key


def hit(key: str, window: timedelta) -> int:
    """Count one more hit on ``key`` and return the count in the current window."""
    client = _redis()
    if client is not None:
        name = _redis_key(key)
        pipe = client.pipeline(transaction=True)
        # SET NX starts a window with its expiry; INCR keeps the expiry it finds.
        pipe.set(name, 0, px=max(1, int(window.total_seconds() * 1000)), nx=True)
        pipe.incr(name)
        try:
            return int(pipe.execute()[1])
        except _redis_errors() as error:
            _redis_failed(error)
    now = utcnow()
    cutoff = now - window
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = ThrottleCounter.__table__
    expired = table.c.window_start <= cutoff
    statement = (
        insert(table)
        .values(key=key, window_start=now, count=1)
        .on_conflict_do_update(
            index_elements=[table.c.key],
            # Every SET expression reads the row as it was, so both see the old window_start.
            set_={
                "count": case((expired, 1), else_=table.c.count + 1),
                "window_start": case((expired, now), else_=table.c.window_start),
            },
        )
        .returning(table.c.count)
    )
    return int(db.session.execute(statement).scalar_one())


def retry_after(limit: Limit) -> int | None:
    """Seconds until ``limit.key`` may be tried again, or None when it is under its limit."""
    client = _redis()
    if client is not None:
        name = _redis_key(limit.key)
        pipe = client.pipeline(transaction=True)
        pipe.get(name)
        pipe.pttl(name)
        try:
            raw, ttl_ms = pipe.execute()
        except _redis_errors() as error:
            _redis_failed(error)
        else:
            if raw is None or int(raw) < limit.limit:
                return None
            return max(1, math.ceil(ttl_ms / 1000)) if ttl_ms and ttl_ms > 0 else 1
    row = db.session.execute(
        select(ThrottleCounter.count, ThrottleCounter.window_start).where(
            ThrottleCounter.key == limit.key
        )
    ).first()
    if row is None or row.count < limit.limit:
        return None
    remaining = (row.window_start + limit.window - utcnow()).total_seconds()
    if remaining <= 0:
        return None
    return max(1, math.ceil(remaining))


def clear(key: str) -> None:
    """Forget every hit on ``key``."""
    client = _redis()
    if client is not None:
        try:
            client.delete(_redis_key(key))
        except _redis_errors() as error:
            _redis_failed(error)
        else:
            return
    db.session.execute(delete(ThrottleCounter).where(ThrottleCounter.key == key))


def first_retry_after(*limits: Limit) -> int | None:
    """The longest wait among the limits that are reached, or None when none is."""
    waits = [wait for limit in limits if (wait := retry_after(limit)) is not None]
    return max(waits) if waits else None


# -- the limits the app uses ---------------------------------------------------------------------


def _window() -> timedelta:
    return current_app.config["THROTTLE_WINDOW"]


def sign_in_limits(email: str, ip: str | None) -> tuple[Limit, Limit]:
    """Failed sign-ins (password or second factor) per account and per IP address."""
    config = current_app.config
    return (
        Limit(account_key("sign-in", email), config["THROTTLE_ACCOUNT_LIMIT"], _window()),
        Limit(ip_key("sign-in", ip), config["THROTTLE_IP_LIMIT"], _window()),
    )


def sign_in_retry_after(email: str, ip: str | None) -> int | None:
    """Seconds to wait before another sign-in attempt for ``email`` from ``ip``, or None."""
    return first_retry_after(*sign_in_limits(email, ip))


def sign_in_failed(email: str, ip: str | None) -> None:
    """Count a failed sign-in against the account and the address."""
    for limit in sign_in_limits(email, ip):
        hit(limit.key, limit.window)


def sign_in_succeeded(email: str) -> None:
    """A success clears the account's failures (the address keeps its count)."""
    clear(account_key("sign-in", email))


def reset_ip_limit(ip: str | None) -> Limit:
    """Password reset requests from one address."""
    return Limit(ip_key("reset", ip), current_app.config["RESET_IP_LIMIT"], _window())


def reset_account_limit(email: str) -> Limit:
    """Password reset links sent to one account."""
    return Limit(account_key("reset", email), current_app.config["RESET_ACCOUNT_LIMIT"], _window())
