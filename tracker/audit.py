"""Writing to the append-only audit trail."""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context, request

from tracker.extensions import db
from tracker.models import AuditEvent, User

#: fields never written to the trail, whatever object they belong to
SECRET_FIELDS = frozenset({"password_hash", "totp_secret", "token_hash", "totp_last_step"})


def snapshot(obj: Any, fields: list[str]) -> dict[str, Any]:
    """The named fields of ``obj`` as JSON-ready values, secrets left out."""
    values: dict[str, Any] = {}
    for name in fields:
        if name in SECRET_FIELDS:
            continue
        value = getattr(obj, name)
        values[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return values


def record(
    *,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: Any,
    council_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one event to the trail in the caller's transaction (flushed, not committed).

    :param action: what happened, ``<object>.<verb>``, e.g. ``membership.create``.
    """
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        council_id=council_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before={k: v for k, v in (before or {}).items() if k not in SECRET_FIELDS} or None,
        after={k: v for k, v in (after or {}).items() if k not in SECRET_FIELDS} or None,
        ip_address=request.remote_addr if has_request_context() else None,
        request_id=g.get("request_id") if has_request_context() else None,
    )
    db.session.add(event)
    db.session.flush()
    return event
