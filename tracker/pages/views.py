"""Routes for the home page, the accessibility statement and the health check."""

from __future__ import annotations

from flask import Response, render_template

from tracker.pages import bp


@bp.get("/")
def index() -> str:
    return render_template("pages/index.html")


@bp.get("/accessibility")
def accessibility() -> str:
    return render_template("pages/accessibility.html")


@bp.get("/healthz")
def healthz() -> Response:
    # Readiness for `make run` and load balancers: the app is up and answering requests.
    return Response("ok", mimetype="text/plain")
