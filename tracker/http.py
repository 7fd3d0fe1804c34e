"""Response headers and error pages shared by every route."""

from __future__ import annotations

import logging
import uuid

from flask import Flask, Response, abort, current_app, g, jsonify, render_template, request
from flask.globals import request_ctx
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.routing import IntegerConverter, Map

from tracker.domain.periods import PeriodConverter
from tracker.security_log import log_event

log = logging.getLogger(__name__)

ERROR_TEMPLATES = {400, 403, 404, 405, 413, 429, 500, 503}
#: the largest id a URL may hold: PostgreSQL's ``integer``, the type of every id column
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:…>`` for database ids: 1 to ``MAX_ID``; any other number does not match.

    Flask's own ``int`` accepts any number of digits, and an id beyond what the database holds
    then fails in the driver (``OverflowError`` on SQLite, "integer out of range" on
    PostgreSQL): a 500. Out of range, the URL is simply not found (404).
    """

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = 1,
        max: int | None = MAX_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def _security_headers(response: Response) -> Response:
    nonce = g.get("csp_nonce", "")
    script_src = f"script-src 'self' 'nonce-{nonce}'" if nonce else "script-src 'self'"
    # A view that sets a stricter policy of its own keeps it (a chart opened on its own allows
    # plotly's inline styles and nothing else).
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        f"form-action 'self'; {script_src}",
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    response.headers.pop("Server", None)
    return response


#: the API's paths: its errors are problem details (RFC 9457), never pages
API_PREFIX = "/api/"
PROBLEM_TYPE = "application/problem+json"
#: what each refusal means to a program calling the API, in words a person can act on
PROBLEM_DETAILS = {
    400: "The request was not understood: check its parameters.",
    401: "Sign in, or send a personal access token: 'Authorization: Bearer rt_…'.",
    403: "This token may not read this.",
    404: "Nothing here, or nothing you may read.",
    405: "The API only reads: use GET.",
    429: "Too many requests: wait for the time in Retry-After.",
    500: "Something went wrong on our side. Quote the incident number if you contact us.",
    503: "The service is unavailable for a moment. Try again shortly.",
}


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def problem(
    code: int,
    detail: str | None = None,
    *,
    incident_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """An RFC 9457 problem details answer: ``type``, ``title``, ``status``, ``detail``."""
    from werkzeug.http import HTTP_STATUS_CODES

    body: dict[str, object] = {
        "type": "about:blank",
        "title": HTTP_STATUS_CODES.get(code, "Error"),
        "status": code,
        "detail": detail or PROBLEM_DETAILS.get(code, HTTP_STATUS_CODES.get(code, "Error")),
    }
    if incident_id:
        body["incident"] = incident_id
    response = jsonify(body)
    response.status_code = code
    response.mimetype = PROBLEM_TYPE
    response.headers.update(headers or {})
    return response


def render_error(code: int, incident_id: str | None = None) -> tuple[str, int] | Response:
    """Our error page for ``code`` (a generic one for codes without their own), and the code;
    under ``/api/`` a problem details answer instead."""
    if is_api_request():
        return problem(code, incident_id=incident_id)
    template = f"errors/{code}.html" if code in ERROR_TEMPLATES else "errors/generic.html"
    return render_template(template, code=code, incident_id=incident_id), code


def too_many_requests(
    retry_after: int, *, event: str, **fields
) -> tuple[str, int, dict] | Response:
    """The 429 page with ``Retry-After``, logged as a security event."""
    log_event(event, retry_after=retry_after, **fields)
    if is_api_request():
        return problem(429, headers={"Retry-After": str(retry_after)})
    return (
        render_template("errors/429.html", code=429, retry_after=retry_after),
        429,
        {"Retry-After": str(retry_after)},
    )


def _refuse_nul_bytes() -> None:
    # PostgreSQL cannot store or compare NUL in text, so psycopg raises on it; SQLite accepts
    # it. Refusing it here keeps both databases alike and turns a would-be 500 into a 400.
    fields = list(request.args.items(multi=True))
    if request.method == "POST":
        fields += request.form.items(multi=True)
    if "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in fields):
        abort(400)


#: endpoints whose POST carries a file larger than MAX_CONTENT_LENGTH allows, with the setting
#: that holds their file size limit (see :func:`allow_upload`)
UPLOAD_LIMITS: dict[str, str] = {}
#: room for the multipart envelope and the form's other fields around the file itself
MULTIPART_ALLOWANCE = 64 * 1024


def allow_upload(endpoint: str, setting: str) -> None:
    """Let POSTs to ``endpoint`` carry a file of up to ``app.config[setting]`` bytes."""
    UPLOAD_LIMITS[endpoint] = setting


def _raise_upload_limit() -> None:
    # Runs ahead of CSRFProtect and the NUL-byte guard, which read the form (and so enforce
    # the body limit) before any view runs. Werkzeug answers a larger body with 413 unread.
    setting = UPLOAD_LIMITS.get(request.endpoint or "")
    if setting and request.method == "POST":
        request.max_content_length = int(current_app.config[setting]) + MULTIPART_ALLOWANCE


def refuse_untrusted_host() -> None:
    """Answer 400 to a request whose Host header is not in ``TRUSTED_HOSTS``."""
    # Flask refuses a Host header outside TRUSTED_HOSTS while it sets the request up, leaving
    # a SecurityError to raise once the hooks have run, and no URL adapter. Refused here,
    # before any other hook: one of them might otherwise redirect (to sign in) first. The 400
    # page's links are paths, built on a trusted name rather than the forged one.
    if isinstance(request.routing_exception, SecurityError):
        host = next(iter(current_app.config["TRUSTED_HOSTS"])).lstrip(".")
        request_ctx.url_adapter = current_app.url_map.bind(
            host, script_name=request.root_path, url_scheme=request.scheme
        )
        abort(400)


def _request_id() -> None:
    # Ties log lines and audit events of one request together.
    g.request_id = uuid.uuid4().hex


def init_app(app: Flask) -> None:
    """Register the URL converters, the header hook, the input guard and the error handlers.

    Runs before any blueprint is registered, so every route can use the converters.
    """
    # Before any blueprint adds its rules: every <int:…> in a URL is then a bounded id, and
    # every <period:…> a financial-year quarter.
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["period"] = PeriodConverter
    app.before_request_funcs.setdefault(None, []).insert(0, _raise_upload_limit)
    app.before_request(_request_id)
    app.before_request(_refuse_nul_bytes)
    app.after_request(_security_headers)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        return render_error(error.code or 500)

    @app.errorhandler(OperationalError)
    def _database_unavailable(error: OperationalError):
        incident_id = uuid.uuid4().hex[:12]
        log.error("database unavailable, incident %s: %s", incident_id, error.orig)
        return render_error(503, incident_id)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        incident_id = uuid.uuid4().hex[:12]
        log.exception("unhandled error, incident %s", incident_id)
        return render_error(500, incident_id)
