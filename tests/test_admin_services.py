"""People and memberships: the rules of the services behind the admin and team pages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event, select

from tests.access_matrix import council, make_person
from tracker.admin import services
from tracker.admin.services import AccountChangeRefused, AuditFilters, UserFilters
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import AuditEvent, Membership, Region, Role, User


def _region(slug: str) -> Region:
    return db.session.scalar(select(Region).where(Region.slug == slug))


@pytest.mark.parametrize(
    ("role", "where", "message"),
    [
        (Role.COUNCIL_EDITOR, {}, "Select a council"),
        (Role.PANEL_MEMBER, {"region": "yorkshire-and-the-humber"}, "Select a council"),
        (Role.REGIONAL_MEMBER, {}, "Select a region"),
        (Role.REGIONAL_MEMBER, {"council": "E08000035"}, "Select a region"),
    ],
)
def test_a_role_needs_its_own_kind_of_scope(app, role, where, message):
    with app.app_context():
        user = make_person("p@example.org")
        kwargs = {}
        if "council" in where:
            kwargs["council"] = council(where["council"])
        if "region" in where:
            kwargs["region"] = _region(where["region"])
        with pytest.raises(AccountChangeRefused, match=message):
            services.add_membership(user, role, actor=None, **kwargs)


def test_a_scope_the_role_does_not_use_is_dropped(app):
    with app.app_context():
        user = make_person("p@example.org")
        leeds = council("E08000035")
        admin = services.add_membership(
            user, Role.NATIONAL_ADMIN, council=leeds, region=leeds.region, actor=None
        )
        regional = services.add_membership(
            user, Role.REGIONAL_MEMBER, council=leeds, region=leeds.region, actor=None
        )
        db.session.commit()
        assert (admin.council_id, admin.region_id) == (None, None)
        assert (regional.council_id, regional.region_id) == (None, leeds.region_id)


@pytest.mark.parametrize(
    ("role", "scope", "message"),
    [
        (Role.COUNCIL_EDITOR, "council", "This person is already a council editor in Leeds"),
        (Role.REGIONAL_MEMBER, "region", "already a regional member in Yorkshire and the Humber"),
        # no council or region: NULLs, which the unique constraint alone would let through
        (Role.NATIONAL_ADMIN, None, "This person is already a national administrator"),
    ],
)
def test_the_same_role_twice_is_refused(app, role, scope, message):
    with app.app_context():
        user = make_person("p@example.org")
        leeds = council("E08000035")
        kwargs = {"council": leeds} if scope == "council" else {}
        if scope == "region":
            kwargs = {"region": leeds.region}
        services.add_membership(user, role, actor=None, **kwargs)
        with pytest.raises(AccountChangeRefused, match=message):
            services.add_membership(user, role, actor=None, **kwargs)
        count = db.session.scalar(select(db.func.count()).where(Membership.user_id == user.id))
        assert count == 1


def test_the_same_role_in_another_council_is_fine(app):
    with app.app_context():
        user = make_person("p@example.org", Role.COUNCIL_EDITOR, council=council("E08000035"))
        services.add_membership(user, Role.COUNCIL_EDITOR, council=council("E08000036"), actor=None)


def test_nobody_removes_their_own_national_administrator_role(app):
    with app.app_context():
        admin = make_person("admin@example.org", Role.NATIONAL_ADMIN)
        other = make_person("other@example.org", Role.NATIONAL_ADMIN)
        own = admin.memberships[0]
        with pytest.raises(AccountChangeRefused, match="cannot remove your own national"):
            services.remove_membership(own, actor=admin)
        # another administrator may
        services.remove_membership(own, actor=other)
        db.session.commit()
        assert db.session.get(Membership, own.id) is None


def test_nobody_disables_themselves(app):
    with app.app_context():
        admin = make_person("admin@example.org", Role.NATIONAL_ADMIN)
        with pytest.raises(AccountChangeRefused, match="cannot disable your own account"):
            services.disable_account(admin, actor=admin)
        assert admin.is_active


def test_create_person_refuses_an_address_in_use_whatever_its_case(app):
    with app.app_context():
        make_person("taken@example.org")
        with pytest.raises(AccountChangeRefused, match="already an account") as refused:
            services.create_person("  TAKEN@example.org", "X", Role.NATIONAL_ADMIN, actor=None)
        assert refused.value.field == "email"


# -- the list of people --------------------------------------------------------------------------


@pytest.fixture
def people(app):
    with app.app_context():
        leeds, wakefield, cornwall = (
            council(code) for code in ("E08000035", "E08000036", "E06000052")
        )
        make_person("ann@example.org", Role.COUNCIL_EDITOR, council=leeds, name="Ann Leeds")
        make_person("bob@example.org", Role.COUNCIL_VIEWER, council=wakefield, name="Bob Wake")
        make_person("cat@example.org", Role.COUNCIL_EDITOR, council=cornwall, name="Cat Corn")
        make_person("dan@example.org", Role.REGIONAL_MEMBER, council=leeds, name="Dan 100%_Region")
        make_person("eve@example.org", Role.NATIONAL_ADMIN, name="Eve Admin")
        db.session.commit()


def _names(page) -> list[str]:
    return [user.display_name for user in page.items]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["Ann Leeds", "Bob Wake", "Cat Corn", "Dan 100%_Region", "Eve Admin"]),
        ({"search": "LEEDS"}, ["Ann Leeds"]),
        ({"search": "bob@"}, ["Bob Wake"]),
        # % and _ are searched for as themselves, not as wildcards
        ({"search": "100%_"}, ["Dan 100%_Region"]),
        ({"search": "%"}, ["Dan 100%_Region"]),
        ({"role": Role.COUNCIL_EDITOR}, ["Ann Leeds", "Cat Corn"]),
        ({"council": "E08000035"}, ["Ann Leeds"]),
        # a region: its regional members and the people of its councils
        ({"region": "yorkshire-and-the-humber"}, ["Ann Leeds", "Bob Wake", "Dan 100%_Region"]),
        # one membership must match every filter
        ({"role": Role.COUNCIL_VIEWER, "council": "E08000035"}, []),
    ],
)
def test_list_users_filters(app, people, filters, expected):
    with app.app_context():
        council_id = council(filters.pop("council")).id if "council" in filters else None
        region_id = _region(filters.pop("region")).id if "region" in filters else None
        page = services.list_users(
            UserFilters(council_id=council_id, region_id=region_id, **filters)
        )
        assert _names(page) == expected
        assert page.total == len(expected)


def test_list_users_pages_with_two_queries_whatever_the_page_size(app, people):
    with app.app_context():
        statements: list[str] = []
        engine = db.engine

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            first = services.list_users(UserFilters(per_page=2))
            names = [m.role for u in first.items for m in u.memberships]  # already loaded
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert len(statements) == 2, statements
        assert names
        assert (first.total, first.pages, _names(first)) == (5, 3, ["Ann Leeds", "Bob Wake"])
        last = services.list_users(UserFilters(per_page=2, page=3))
        assert _names(last) == ["Eve Admin"]
        # a page past the end shows the last one
        assert services.list_users(UserFilters(per_page=2, page=99)).page == 3


# -- the audit trail -----------------------------------------------------------------------------


def test_audit_events_newest_first_with_filters(app):
    with app.app_context():
        admin = make_person("admin@example.org", Role.NATIONAL_ADMIN, name="Ada Admin")
        person = make_person("p@example.org")
        services.add_membership(
            person, Role.COUNCIL_EDITOR, council=council("E08000035"), actor=admin
        )
        services.add_membership(
            person, Role.COUNCIL_VIEWER, council=council("E06000052"), actor=admin
        )
        db.session.commit()

        newest = services.list_audit_events(AuditFilters())
        assert [e.event.action for e in newest.items][:2] == [
            "membership.create",
            "membership.create",
        ]
        assert newest.items[0].council_name == "Cornwall"
        assert newest.items[0].actor_name == "Ada Admin"

        by_council = services.list_audit_events(AuditFilters(council_id=council("E08000035").id))
        assert [e.council_name for e in by_council.items] == ["Leeds"]
        by_actor = services.list_audit_events(AuditFilters(actor="ada"))
        assert by_actor.total == 2
        by_action = services.list_audit_events(AuditFilters(action="user.create"))
        assert {e.event.object_id for e in by_action.items} == {str(admin.id), str(person.id)}
        today = utcnow().date()
        assert services.list_audit_events(AuditFilters(date_from=today, date_to=today)).total == (
            newest.total
        )
        tomorrow = today + timedelta(days=1)
        assert services.list_audit_events(AuditFilters(date_from=tomorrow)).total == 0
        assert services.list_audit_events(AuditFilters(date_to=date(2000, 1, 1))).total == 0


def test_audit_entries_read_as_words(app):
    with app.app_context():
        person = make_person("p@example.org")
        membership = services.add_membership(
            person, Role.COUNCIL_APPROVER, council=council("E08000035"), actor=None
        )
        services.remove_membership(membership, actor=None)
        db.session.commit()
        entries = services.list_audit_events(AuditFilters(action="membership.delete")).items
        assert len(entries) == 1
        changes = {c.label: c.before for c in entries[0].changes}
        assert changes == {
            "Person (id)": str(person.id),
            "Role": "Council approver (DASS)",
            "Council": "Leeds",
        }
        assert all(c.after is None for c in entries[0].changes)
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.id == entries[0].event.id))
        assert db.session.get(User, person.id).memberships == []
