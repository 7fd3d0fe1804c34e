"""Who may use each route: deny by default, with scoped loaders that answer 404.

Every view function carries an :class:`AccessRule`, set by exactly one of the decorators here:

- ``@public``: anyone, signed in or not (the published roadmap, the councils list, sign-in).
- ``@signed_in``: any signed-in person (their own account pages).
- ``@national_admin``: national administrators only.
- ``@council_access(*roles)``: the view takes ``gss_code``; the person must hold one of
  ``roles`` in that council (a regional member counts for every council of their region when
  ``Role.REGIONAL_MEMBER`` is listed; a national administrator for every council when
  ``Role.NATIONAL_ADMIN`` is listed). The view receives the loaded ``council``.
- ``@region_access(*roles)``: the view takes ``region_slug``; likewise for one ADASS region.

A person who is not signed in is sent to sign in; a signed-in person without the right gets
404, so nobody learns what exists in a council that is not theirs. Roles are read from the
database on every request, so a revoked membership stops working at once.
``tests/test_permissions.py`` walks ``app.url_map`` and fails on any view without a rule.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, abort, g, redirect, request, url_for
from sqlalchemy import select

from tracker.domain.principal import Principal
from tracker.extensions import db
from tracker.http import API_PREFIX
from tracker.models import Council, Region, Return, Role

RULE_ATTRIBUTE = "access_rule"


@dataclass(frozen=True)
class AccessRule:
    """What a view declares about who may use it."""

    #: "public", "signed_in", "national_admin", "council" or "region"
    kind: str
    roles: frozenset[Role] = frozenset()


def current_principal() -> Principal | None:
    """The signed-in person for this request, or None (set by the session layer)."""
    return g.get("principal")


def _set_rule(view: Callable, rule: AccessRule) -> None:
    if hasattr(view, RULE_ATTRIBUTE):
        raise TypeError(f"{view.__name__} already declares who may use it")
    setattr(view, RULE_ATTRIBUTE, rule)


def _sign_in_redirect():
    # A program calling the API cannot follow a sign-in page: it is told to authenticate.
    if request.path.startswith(API_PREFIX):
        abort(401)
    return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))


def public(view: Callable) -> Callable:
    """Anyone may use this view."""
    _set_rule(view, AccessRule("public"))
    return view


def signed_in(view: Callable) -> Callable:
    """Any signed-in person may use this view."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        if current_principal() is None:
            return _sign_in_redirect()
        return view(*args, **kwargs)

    _set_rule(wrapper, AccessRule("signed_in"))
    return wrapper


def national_admin(view: Callable) -> Callable:
    """National administrators only; anyone else signed in gets 404."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        principal = current_principal()
        if principal is None:
            return _sign_in_redirect()
        if not principal.is_national_admin:
            abort(404)
        return view(*args, **kwargs)

    _set_rule(wrapper, AccessRule("national_admin", frozenset({Role.NATIONAL_ADMIN})))
    return wrapper


def council_access(*roles: Role) -> Callable[[Callable], Callable]:
    """The view takes ``gss_code``; it gets ``council`` if one of ``roles`` reaches it."""
    if not roles:
        raise TypeError("council_access needs at least one role")

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, gss_code: str, **kwargs: Any):
            principal = current_principal()
            if principal is None:
                return _sign_in_redirect()
            council = db.session.scalar(select(Council).where(Council.gss_code == gss_code))
            if council is None or not principal.may_access_council(council, roles):
                abort(404)
            return view(*args, council=council, **kwargs)

        _set_rule(wrapper, AccessRule("council", frozenset(roles)))
        return wrapper

    return decorator


def region_access(*roles: Role) -> Callable[[Callable], Callable]:
    """The view takes ``region_slug``; it gets ``region`` if one of ``roles`` reaches it."""
    if not roles:
        raise TypeError("region_access needs at least one role")

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, region_slug: str, **kwargs: Any):
            principal = current_principal()
            if principal is None:
                return _sign_in_redirect()
            region = db.session.scalar(select(Region).where(Region.slug == region_slug))
            if region is None or not principal.may_access_region(region, roles):
                abort(404)
            return view(*args, region=region, **kwargs)

        _set_rule(wrapper, AccessRule("region", frozenset(roles)))
        return wrapper

    return decorator


def return_or_404(
    council: Council,
    period_slug: str,
    may_read: Callable[[Principal | None, Council, Return], bool] | None = None,
) -> Return:
    """The council's return for the period in the URL, if ``may_read`` (by default the rule for
    reading a return, ``visibility.may_read_return``) lets this person read it; else a 404, as
    for a return that does not exist, so nobody learns which do."""
    from tracker.domain import visibility
    from tracker.returns.queries import get_return_by_slug

    rule = may_read or visibility.may_read_return
    return_ = get_return_by_slug(council, period_slug)
    if return_ is None or not rule(current_principal(), council, return_):
        abort(404)
    return return_


def rule_for(view: Callable) -> AccessRule | None:
    """The rule a view declares, or None when it declares none (a defect)."""
    return getattr(view, RULE_ATTRIBUTE, None)


def _refuse_undeclared_views() -> None:
    # Deny by default: a view that forgot its decorator is not reachable at all.
    if request.endpoint is None or request.endpoint == "static":
        return
    from flask import current_app

    view = current_app.view_functions.get(request.endpoint)
    if view is None or rule_for(view) is None:
        abort(404)


def init_app(app: Flask) -> None:
    """Refuse, at run time, any view that declares no rule (the tests refuse it earlier)."""
    app.before_request(_refuse_undeclared_views)
