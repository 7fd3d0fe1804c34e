"""Routes for the home page, the accessibility statement, the privacy notice, the glossary and
the health check."""

from __future__ import annotations

import logging

from flask import Response, render_template
from sqlalchemy import text

from tracker import throttle
from tracker.domain.vocabulary import GLOSSARY
from tracker.extensions import db
from tracker.pages import bp
from tracker.permissions import public

log = logging.getLogger(__name__)


@bp.get("/")
@public
def index() -> str:
    return render_template("pages/index.html")


@bp.get("/accessibility")
@public
def accessibility() -> str:
    return render_template("pages/accessibility.html")


@bp.get("/privacy")
@public
def privacy() -> str:
    return render_template("pages/privacy.html")


@bp.get("/glossary")
@public
def glossary() -> str:
    return render_template("pages/glossary.html", terms=GLOSSARY)


@bp.get("/api-reference")
@public
def api_reference() -> str:
    """The read API's reference, drawn from its OpenAPI document (no script, no other site)."""
    from tracker.api import spec

    groups, components = spec.reference()
    return render_template("pages/api_reference.html", groups=groups, components=components)


@bp.get("/healthz")
@public
def healthz() -> Response:
    # Liveness, for `make run` and the benchmarks: the app is up and answering requests.
    return Response("ok", mimetype="text/plain")


@bp.get("/readyz")
@public
def readyz() -> Response:
    """Readiness, for a load balancer's health check: 200 while this node reaches the database,
    so it can serve a request; 503 otherwise, and the balancer sends requests to the other
    nodes. A Redis that does not answer is named but does not make the node unready: the app
    counts its limits in the database meanwhile and logs the work it cannot queue, so taking
    every node out of the pool would turn that into an outage. Says which failed, never how."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        log.exception("readiness: the database does not answer")
        return Response("not ready: database", status=503, mimetype="text/plain")
    finally:
        db.session.rollback()
    if not throttle.redis_answers():
        return Response("ready, but redis does not answer", mimetype="text/plain")
    return Response("ready", mimetype="text/plain")
