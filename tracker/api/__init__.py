"""The read API: the tracker's figures as JSON at ``/api/v1/``, for Excel, Power BI and the
tools councils and regions already use.

Every answer goes through the same rules as the pages: the views use the same access
decorators (:mod:`tracker.permissions`) and ask :mod:`tracker.domain.visibility` exactly what
the pages ask. A caller is the person signed in (a browser session) or the person behind a
personal access token, whose roles the token narrows to one council, one region or the nation
(:mod:`tracker.accounts.tokens`). Errors are RFC 9457 problem details; lists are paged with
``next`` links; every answer carries an ETag. The OpenAPI 3.1 document is generated from the
schemas that shape the answers (:mod:`tracker.api.spec`). ``docs/api.md`` has examples.
"""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

#: the path every API route starts with: errors under it are problem details, not pages
PREFIX = "/api/"

from tracker.api import views  # noqa: E402, F401  (registers the routes on bp)
