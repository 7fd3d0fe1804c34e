"""Loading the signed-in person for each request, from Flask's signed session cookie.

The cookie (``__Host-session``: Secure, HttpOnly, SameSite=Lax) holds only:

- ``uid``: the user's id; ``sv``: their ``session_version`` when the session began, so that
  sign-out, a password change, disabling and "end sessions" (which bump it) end every copy of
  the cookie at once, including a saved one replayed later;
- ``since``: when they signed in (absolute timeout) and ``seen``: their last request (idle
  timeout), as Unix seconds;
- ``mfa``: True once they have given a code from their authenticator app;
- ``auth_at``: when they last proved who they are (signing in, or confirming their password
  and code again), so that role, authenticator and account changes can ask for a fresh proof.

``g.principal`` is set only for a person who is fully signed in: password, and a second factor
when their roles need one (``Principal.needs_mfa``) or they have set one up. Someone who has
given only their password is ``g.pending_user``: every route that is not public sends them to
the second-factor step, so they reach no council data.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    current_app,
    flash,
    g,
    redirect,
    request,
    session,
    url_for,
)

from tracker.domain.principal import load_principal
from tracker.extensions import db
from tracker.http import API_PREFIX
from tracker.models import User
from tracker.permissions import rule_for

#: how often, at most, a request moves ``seen`` on (each move rewrites the cookie)
SEEN_RESOLUTION = 60
IDLE_MESSAGE = "You were signed out because you were inactive for {minutes} minutes"
ABSOLUTE_MESSAGE = "You were signed out because you had been signed in for {hours} hours"
#: the routes someone who has given only their password may use (besides public ones)
SECOND_FACTOR_ENDPOINTS = frozenset(
    {"auth.two_factor", "auth.two_factor_set_up", "auth.two_factor_qr", "auth.sign_out"}
)


def _now() -> int:
    return int(time.time())


def _seconds(setting: str) -> int:
    value = current_app.config[setting]
    return int(value.total_seconds() if isinstance(value, timedelta) else value)


def needs_second_factor(user: User, principal=None) -> bool:
    """True when ``user`` must give a TOTP code: an MFA role, or an app already set up."""
    principal = principal or load_principal(user)
    return principal.needs_mfa or user.has_mfa


def start_session(user: User, *, second_factor_done: bool, since: int | None = None) -> None:
    """Begin a new session for ``user``: whatever the old cookie held is dropped.

    :param since: keep the sign-in time of the password step when the second factor follows.
    """
    session.clear()
    now = _now()
    session["uid"] = user.id
    session["sv"] = user.session_version
    session["since"] = since if since is not None else now
    session["seen"] = now
    session["mfa"] = second_factor_done
    session["auth_at"] = now
    # A browser-session cookie: it goes when the browser closes; the server enforces the rest.
    session.permanent = False


def confirm_identity_now() -> None:
    """Record that the person has just given their password (and code) again."""
    session["auth_at"] = _now()


def recently_authenticated() -> bool:
    """True when the person proved who they are within ``RECENT_AUTH_WINDOW``."""
    return _now() - session.get("auth_at", 0) <= _seconds("RECENT_AUTH_WINDOW")


def recent_sign_in(view: Callable) -> Callable:
    """Ask for the password (and code) again before changes to roles, accounts and apps.

    Goes under the view's access rule. A stale POST is not carried out: the person confirms
    who they are and comes back to the page they were on to make the change again.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        if g.get("principal") is None or recently_authenticated():
            return view(*args, **kwargs)
        back = request.full_path if request.method == "GET" else _referrer_path()
        flash("For your security, confirm your password before making this change.")
        return redirect(url_for("auth.confirm_identity", next=safe_next(back)))

    return wrapper


def _referrer_path() -> str | None:
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc and parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def end_session(message: str | None = None) -> None:
    """Forget the session; ``message`` (a timeout) is shown on the next page."""
    session.clear()
    if message:
        flash(message)


def touch() -> None:
    """Count this request as activity now (the "Stay signed in" button)."""
    session["seen"] = _now()


def seconds_until_idle_timeout() -> int:
    """How long the current session has before the idle timeout ends it."""
    return max(0, session.get("seen", 0) + _seconds("SESSION_IDLE_TIMEOUT") - _now())


def _load() -> Response | None:
    g.principal = None
    g.pending_user = None
    g.user = None
    if request.endpoint == "static" or "uid" not in session:
        return None
    user = db.session.get(User, session.get("uid")) if isinstance(session.get("uid"), int) else None
    now = _now()
    if user is None or not user.is_active or session.get("sv") != user.session_version:
        end_session()
        return None
    since, seen = session.get("since", 0), session.get("seen", 0)
    if now - since > _seconds("SESSION_ABSOLUTE_TIMEOUT"):
        end_session(ABSOLUTE_MESSAGE.format(hours=_seconds("SESSION_ABSOLUTE_TIMEOUT") // 3600))
        return None
    if now - seen > _seconds("SESSION_IDLE_TIMEOUT"):
        end_session(IDLE_MESSAGE.format(minutes=_seconds("SESSION_IDLE_TIMEOUT") // 60))
        return None
    if now - seen >= SEEN_RESOLUTION:
        session["seen"] = now
    g.user = user
    principal = load_principal(user)
    if session.get("mfa") or not needs_second_factor(user, principal):
        g.principal = principal
        return None
    # Password given, second factor not (yet): also when a role needing one was granted to
    # someone already signed in without it.
    g.pending_user = user
    if request.path.startswith(API_PREFIX):
        return None  # not signed in as far as the API goes: it answers 401, not a redirect
    if request.endpoint in SECOND_FACTOR_ENDPOINTS:
        return None
    view = current_app.view_functions.get(request.endpoint or "")
    rule = rule_for(view) if view else None
    if rule is not None and rule.kind == "public":
        return None
    return redirect(second_factor_url(user, next_path=safe_next(request.full_path)))


def second_factor_url(user: User, next_path: str | None = None) -> str:
    """Where someone who has given their password goes next: set up an app, or give a code."""
    endpoint = "auth.two_factor" if user.has_mfa else "auth.two_factor_set_up"
    return url_for(endpoint, next=next_path) if next_path else url_for(endpoint)


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirects).

    Accepted: ``/councils/E06000001?x=1``. Refused: absolute URLs, ``//evil``, ``/\\evil``,
    ``\\evil``, ``javascript:…``, control characters, anything not starting with one ``/``.
    """
    if not target or len(target) > 2000:
        return None
    target = target.rstrip("?")
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _no_store(response: Response) -> Response:
    # Pages of a signed-in person must not be kept by the browser or a shared cache (the API
    # sets its own: private answers may be revalidated with their ETag, never shared).
    if request.path.startswith(API_PREFIX):
        return response
    if g.get("user") is not None or g.get("no_store"):
        response.headers["Cache-Control"] = "no-store"
        response.headers.pop("Expires", None)
    return response


def init_app(app: Flask) -> None:
    """Register the per-request session checks."""
    from tracker.security_log import init_logger

    init_logger()
    app.before_request(_load)
    app.after_request(_no_store)

    @app.context_processor
    def _session_context() -> dict:
        return {"session_seconds_left": seconds_until_idle_timeout}
