"""Security events as JSON lines on the ``tracker.security`` logger (ASVS 5 16.3).

Each line has the UTC time, the event, the request id, the user id, the client's address and
the endpoint.
Never pass passwords, tokens, codes or cookies: only ids and short facts. ``json.dumps`` escapes
CR and LF, so nothing a person types can forge a line.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from flask import g, has_request_context, request

logger = logging.getLogger("tracker.security")


def log_event(event: str, *, user_id: int | None = None, **fields: Any) -> None:
    """Write one security event, e.g. ``log_event("sign_in.failure", reason="password")``."""
    line: dict[str, Any] = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "event": event,
        "user_id": user_id,
    }
    if has_request_context():
        line["request_id"] = g.get("request_id")
        line["ip"] = request.remote_addr
        # The endpoint, not the path: a path can hold a reset or invitation token.
        line["endpoint"] = request.endpoint
        principal = g.get("principal")
        if user_id is None and principal is not None:
            line["user_id"] = principal.user.id
    line.update(fields)
    logger.info(json.dumps(line, default=str, ensure_ascii=True))


class _StandardError(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (pytest swaps it for each test)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def init_logger() -> None:
    """Send the security log to standard error (gunicorn's error log) once per process."""
    logger.setLevel(logging.INFO)
    if not any(getattr(h, "_tracker_security", False) for h in logger.handlers):
        handler = _StandardError()
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler._tracker_security = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
