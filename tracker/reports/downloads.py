"""What every report download shares, whichever page offers it (board paper, regional pack, a
council's CQC pack): the per-person limit on files, the busy answer and the attachment."""

from __future__ import annotations

from flask import current_app
from werkzeug.wrappers import Response

from tracker import throttle
from tracker.extensions import db
from tracker.http import render_error, too_many_requests
from tracker.models import User

#: seconds a caller is asked to wait when every PDF render slot is busy
RETRY_AFTER = 30


def rate_limited(actor: User) -> tuple | Response | None:
    """The 429 answer once ``actor`` has downloaded ``REPORT_RATE_LIMIT`` report files within
    ``REPORT_RATE_WINDOW`` (one count for every kind of report); None while they may go on."""
    config = current_app.config
    limit = throttle.Limit(
        f"report:user:{actor.id}",
        config.get("REPORT_RATE_LIMIT", 30),
        config.get("REPORT_RATE_WINDOW", config["EXPORT_RATE_WINDOW"]),
    )
    if throttle.hit(limit.key, limit.window) > limit.limit:
        db.session.commit()
        return too_many_requests(
            throttle.retry_after(limit) or 1, event="report.rate_limited", user_id=actor.id
        )
    return None


def busy() -> tuple:
    """The 503 page, with ``Retry-After``, when every render slot stayed busy."""
    page, code = render_error(503)
    return page, code, {"Retry-After": str(RETRY_AFTER)}


def attachment(content: bytes, mimetype: str, filename: str) -> Response:
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
