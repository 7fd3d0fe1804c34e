"""Routes of the open data: the page that explains it, and each closed quarter's download.

Both are public. A download is built afresh from the database each time (about a second for
153 councils; ``bench/opendata.py``), so it always reflects the councils' current choice to
share named returns, and one IP address may make ``OPEN_DATA_RATE_LIMIT`` of them per window.
"""

from __future__ import annotations

import io

from flask import abort, current_app, render_template, request
from werkzeug.wrappers import Response

from tracker import throttle
from tracker.domain.visibility import MIN_COUNCILS
from tracker.extensions import db
from tracker.http import too_many_requests
from tracker.opendata import bp, package
from tracker.opendata.schema import TABLES
from tracker.permissions import public


@bp.get("")
@public
def index() -> str:
    return render_template(
        "opendata/index.html",
        published=package.list_published_periods(),
        tables=TABLES.values(),
        licence=package.LICENCE,
        min_councils=MIN_COUNCILS,
    )


@bp.get("/<period:period_label>.zip")
@public
def download(period_label: str) -> Response | tuple:
    period = package.get_closed_period(period_label) or abort(404)
    config = current_app.config
    limit = throttle.Limit(
        throttle.ip_key("open-data", request.remote_addr),
        config["OPEN_DATA_RATE_LIMIT"],
        config["OPEN_DATA_RATE_WINDOW"],
    )
    if throttle.hit(limit.key, limit.window) > limit.limit:
        db.session.commit()
        return too_many_requests(
            throttle.retry_after(limit) or 1, event="opendata.rate_limited", period=period.label
        )
    db.session.commit()
    buffer = io.BytesIO()
    summary = package.build_package(period, buffer)
    response = Response(buffer.getvalue(), mimetype=package.ZIP_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{summary.filename}"'
    return response
