"""Routes for the home page, the accessibility statement, the privacy notice, the glossary and
the health check."""

from __future__ import annotations

from flask import Response, render_template

from tracker.domain.vocabulary import GLOSSARY
from tracker.pages import bp
from tracker.permissions import public


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
    # Readiness for `make run` and load balancers: the app is up and answering requests.
    return Response("ok", mimetype="text/plain")
