"""Deny by default: every route declares who may use it, and the decorators mean what they say."""

from __future__ import annotations

import pytest
from flask import Flask

from tracker.models import Council, Membership, Region, Role, User
from tracker.permissions import (
    AccessRule,
    Principal,
    council_access,
    national_admin,
    public,
    region_access,
    rule_for,
    signed_in,
)

#: endpoints Flask adds itself; the static files are public by nature
EXEMPT_ENDPOINTS = frozenset({"static"})


def undeclared_endpoints(app: Flask) -> list[str]:
    """Endpoints of ``app.url_map`` whose view function declares no access rule."""
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in EXEMPT_ENDPOINTS:
            continue
        view = app.view_functions[rule.endpoint]
        if rule_for(view) is None:
            missing.append(f"{rule.endpoint} ({rule.rule})")
    return sorted(set(missing))


def test_every_endpoint_declares_who_may_use_it(app):
    missing = undeclared_endpoints(app)
    assert not missing, (
        "these endpoints declare no access rule; add @public, @signed_in, @national_admin, "
        "@council_access(...) or @region_access(...) from tracker.permissions:\n  "
        + "\n  ".join(missing)
    )


def test_the_walk_finds_a_route_without_a_rule(app):
    # Guards the check above: a route added without a decorator must be reported.
    @app.get("/test-only/undeclared")
    def undeclared() -> str:
        return "oops"

    assert undeclared_endpoints(app) == ["undeclared (/test-only/undeclared)"]


def test_admin_and_team_routes_are_not_public(app):
    kinds = {
        rule.endpoint: rule_for(app.view_functions[rule.endpoint]).kind
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in {"admin", "team"}
    }
    assert kinds, "no admin or team routes registered"
    assert {endpoint for endpoint, kind in kinds.items() if kind == "public"} == set()
    assert {kind for endpoint, kind in kinds.items() if endpoint.startswith("admin.")} == {
        "national_admin"
    }
    assert {kind for endpoint, kind in kinds.items() if endpoint.startswith("team.")} == {"council"}


def test_team_routes_admit_approvers_and_national_administrators_only(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("team."):
            assert rule_for(app.view_functions[rule.endpoint]).roles == {
                Role.COUNCIL_APPROVER,
                Role.NATIONAL_ADMIN,
            }, rule.endpoint


def test_a_view_cannot_declare_two_rules():
    def view() -> str:
        return ""

    public(view)
    with pytest.raises(TypeError, match="already declares"):
        public(view)


@pytest.mark.parametrize(
    ("decorate", "expected"),
    [
        (public, AccessRule("public")),
        (signed_in, AccessRule("signed_in")),
        (national_admin, AccessRule("national_admin", frozenset({Role.NATIONAL_ADMIN}))),
        (
            council_access(Role.COUNCIL_EDITOR),
            AccessRule("council", frozenset({Role.COUNCIL_EDITOR})),
        ),
        (
            region_access(Role.REGIONAL_MEMBER),
            AccessRule("region", frozenset({Role.REGIONAL_MEMBER})),
        ),
    ],
)
def test_each_decorator_records_its_rule(decorate, expected):
    def view() -> str:
        return ""

    assert rule_for(decorate(view)) == expected


@pytest.mark.parametrize("decorator", [council_access, region_access])
def test_scoped_decorators_need_a_role(decorator):
    with pytest.raises(TypeError, match="at least one role"):
        decorator()


# -- who a principal reaches (no database: plain objects) ---------------------------------------

NORTH = Region(id=1, name="North", slug="north")
SOUTH = Region(id=2, name="South", slug="south")
A = Council(id=10, gss_code="E00000010", region_id=NORTH.id)
B = Council(id=11, gss_code="E00000011", region_id=NORTH.id)
C = Council(id=20, gss_code="E00000020", region_id=SOUTH.id)


def _principal(*memberships: tuple[Role, int | None, int | None]) -> Principal:
    user = User(id=1, email="someone@example.org", display_name="Someone")
    return Principal(
        user=user,
        memberships=[
            Membership(user_id=1, role=role.value, council_id=council_id, region_id=region_id)
            for role, council_id, region_id in memberships
        ],
    )


def test_a_council_role_reaches_its_own_council_only():
    approver = _principal((Role.COUNCIL_APPROVER, A.id, None))
    roles = (Role.COUNCIL_APPROVER, Role.NATIONAL_ADMIN)
    assert approver.may_access_council(A, roles)
    assert not approver.may_access_council(B, roles)
    assert not approver.may_access_council(C, roles)
    # the right council but a role the view does not list
    assert not approver.may_access_council(A, (Role.COUNCIL_EDITOR,))


def test_a_regional_member_reaches_the_councils_of_their_region_when_listed():
    member = _principal((Role.REGIONAL_MEMBER, None, NORTH.id))
    assert member.may_access_council(A, (Role.REGIONAL_MEMBER,))
    assert member.may_access_council(B, (Role.REGIONAL_MEMBER,))
    assert not member.may_access_council(C, (Role.REGIONAL_MEMBER,))
    assert not member.may_access_council(A, (Role.COUNCIL_VIEWER,))
    assert member.may_access_region(NORTH, (Role.REGIONAL_MEMBER,))
    assert not member.may_access_region(SOUTH, (Role.REGIONAL_MEMBER,))


def test_a_national_administrator_reaches_everything_only_where_listed():
    admin = _principal((Role.NATIONAL_ADMIN, None, None))
    assert admin.is_national_admin
    assert admin.needs_mfa
    assert admin.may_access_council(C, (Role.NATIONAL_ADMIN,))
    assert not admin.may_access_council(C, (Role.COUNCIL_EDITOR,))
    assert admin.may_access_region(SOUTH, (Role.NATIONAL_ADMIN,))


def test_editors_viewers_panel_and_regional_members_need_no_second_factor():
    for role, council_id, region_id in [
        (Role.COUNCIL_EDITOR, A.id, None),
        (Role.COUNCIL_VIEWER, A.id, None),
        (Role.PANEL_MEMBER, A.id, None),
        (Role.REGIONAL_MEMBER, None, NORTH.id),
    ]:
        assert not _principal((role, council_id, region_id)).needs_mfa
    assert _principal((Role.COUNCIL_APPROVER, A.id, None)).needs_mfa
