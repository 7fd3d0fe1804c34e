"""The audit trail: every change an admin or team page makes is written once, and never changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DatabaseError

from tests.access_matrix import council, make_member, make_person, post, signed_in_client
from tracker.audit import record
from tracker.extensions import db
from tracker.models import AuditEvent, Membership, Period, Role, TeamInvitation, User
from tracker.models.audit import AuditTrailIsAppendOnly

LEEDS = "E08000035"


@dataclass(frozen=True)
class Expected:
    """One audit row a route must write."""

    action: str
    #: "subject": the person acted on; "new": the person the request created
    object_type: str
    council: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class Case:
    #: (actor role, setup(app) -> (url, form data, subject id))
    actor: Role
    setup: Callable[[Any], tuple[str, dict[str, str], int | None]]
    rows: list[Expected]


def _subject(app, role: Role | None = Role.COUNCIL_EDITOR, **kwargs) -> tuple[int, int | None]:
    with app.app_context():
        user = make_person(
            "subject@example.org", role, council=council(LEEDS), name="Sub", **kwargs
        )
        db.session.commit()
        membership = user.memberships[0].id if user.memberships else None
        return user.id, membership


def _disabled_subject(app) -> tuple[str, dict[str, str], int]:
    user_id, _ = _subject(app)
    with app.app_context():
        user = db.session.get(User, user_id)
        user.is_active = False
        db.session.commit()
    return f"/admin/users/{user_id}/enable", {}, user_id


def _mfa_subject(app) -> tuple[str, dict[str, str], int]:
    person = make_member(app, Role.COUNCIL_APPROVER, email="subject@example.org")
    return f"/admin/users/{person.id}/reset-authenticator", {}, person.id


def _membership_snapshot(role: str, user: str = "subject", council_name: str = "Leeds") -> dict:
    return {"user_id": user, "role": role, "council": council_name}


NEW_PERSON = {"email": "new@example.org", "display_name": "New Person"}


def _period(app, *, opened: bool) -> str:
    """The id of 2026-27 Q1, made through the services: upcoming, or open (for Leeds only)."""
    from datetime import date

    from tests.test_evidence_services import open_small_period
    from tracker.returns.periods import create_period

    with app.app_context():
        if opened:
            period = open_small_period("2026-27 Q1", codes=[LEEDS], closes_on=date(2026, 7, 31))
        else:
            period = create_period("2026-27 Q1", date(2026, 7, 31), actor=None)
            db.session.commit()
        return str(period.id)


def _closed_period(app) -> str:
    """The id of 2026-27 Q1, opened for Leeds and closed (after its due date)."""
    from datetime import date

    from tracker.returns.periods import close_period

    period_id = _period(app, opened=True)
    with app.app_context():
        period = db.session.get(Period, int(period_id))
        close_period(period, actor=None, today=date(2026, 8, 1))
        db.session.commit()
    return period_id


CASES: dict[str, Case] = {
    "admin.new_user": Case(
        Role.NATIONAL_ADMIN,
        lambda app: (
            "/admin/users/new",
            {**NEW_PERSON, "role": "council_editor", "council": LEEDS},
            None,
        ),
        [
            Expected("user.create", "user", None, None, {"email": "new@example.org"}),
            Expected(
                "membership.create", "membership", LEEDS, None,
                _membership_snapshot("council_editor", "new"),
            ),
            Expected("user.invite", "user", None, None, {}),
        ],
    ),
    "admin.add_membership": Case(
        Role.NATIONAL_ADMIN,
        lambda app: (
            f"/admin/users/{_subject(app, None)[0]}/memberships",
            {"role": "council_viewer", "council": LEEDS},
            None,
        ),
        [
            Expected(
                "membership.create", "membership", LEEDS, None,
                _membership_snapshot("council_viewer"),
            )
        ],
    ),
    "admin.remove_membership": Case(
        Role.NATIONAL_ADMIN,
        lambda app: (
            "/admin/users/{}/memberships/{}/remove".format(*_subject(app)),
            {},
            None,
        ),
        [
            Expected(
                "membership.delete", "membership", LEEDS,
                _membership_snapshot("council_editor"), None,
            )
        ],
    ),
    "admin.disable_user": Case(
        Role.NATIONAL_ADMIN,
        lambda app: (f"/admin/users/{_subject(app)[0]}/disable", {}, None),
        [Expected("user.disable", "user", None, {"is_active": True}, {"is_active": False})],
    ),
    "admin.enable_user": Case(
        Role.NATIONAL_ADMIN,
        _disabled_subject,
        [Expected("user.enable", "user", None, {"is_active": False}, {"is_active": True})],
    ),
    "admin.end_sessions": Case(
        Role.NATIONAL_ADMIN,
        lambda app: (f"/admin/users/{_subject(app)[0]}/end-sessions", {}, None),
        [Expected("user.end_sessions", "user", None, None, None)],
    ),
    "admin.resend_invitation": Case(
        Role.NATIONAL_ADMIN,
        lambda app: (f"/admin/users/{_subject(app)[0]}/resend-invitation", {}, None),
        [Expected("user.invite", "user", None, None, {})],
    ),
    "admin.reset_authenticator": Case(
        Role.NATIONAL_ADMIN,
        _mfa_subject,
        [Expected("user.reset_totp", "user", None, None, None)],
    ),
    "admin.new_period": Case(
        Role.NATIONAL_ADMIN,
        lambda app: (
            "/admin/periods/new",
            {"label": "2026-27 Q1", "closes_on": ["31", "7", "2026"]},
            None,
        ),
        [
            Expected(
                "period.create", "period", None, None,
                {"label": "2026-27 Q1", "closes_on": "2026-07-31"},
            )
        ],
    ),
    "admin.open_period": Case(
        Role.NATIONAL_ADMIN,
        lambda app: (f"/admin/periods/{_period(app, opened=False)}/open", {}, None),
        [
            Expected(
                "period.open", "period", None,
                {"status": "upcoming"}, {"status": "open", "returns_created": 153},
            )
        ],
    ),
    "admin.close_period": Case(
        Role.NATIONAL_ADMIN,
        lambda app: (f"/admin/periods/{_period(app, opened=True)}/close", {}, None),
        [Expected("period.close", "period", None, {"status": "open"}, {"status": "closed"})],
    ),
    "admin.reopen_period": Case(
        Role.NATIONAL_ADMIN,
        lambda app: (
            f"/admin/periods/{_closed_period(app)}/reopen",
            {"reason": "Leeds asked for a week more"},
            None,
        ),
        [
            Expected(
                "period.reopen", "period", None,
                {"status": "closed"}, {"status": "open", "reason": "Leeds asked for a week more"},
            )
        ],
    ),
    "admin.send_reminder": Case(
        Role.NATIONAL_ADMIN,
        lambda app: (f"/admin/periods/{_period(app, opened=True)}/remind", {}, None),
        [
            Expected(
                "period.remind", "period", None, None,
                {"drafts": 1, "councils": 0, "people": 0},
            )
        ],
    ),
    "team.add_member": Case(
        Role.COUNCIL_APPROVER,
        lambda app: (f"/councils/{LEEDS}/team/add", {**NEW_PERSON, "role": "panel_member"}, None),
        # An invitation only: nothing is granted, and no account made, until the person accepts
        # (tests/test_team_invitations.py audits accepting and declining).
        [
            Expected(
                "team_invitation.create", "team_invitation", LEEDS, None,
                {**NEW_PERSON, "role": "panel_member", "council": "Leeds"},
            ),
        ],
    ),
    "team.remove_member": Case(
        Role.COUNCIL_APPROVER,
        lambda app: (
            f"/councils/{LEEDS}/team/memberships/{_subject(app)[1]}/remove",
            {},
            None,
        ),
        [
            Expected(
                "membership.delete", "membership", LEEDS,
                _membership_snapshot("council_editor"), None,
            )
        ],
    ),
    "team.withdraw_invitation": Case(
        Role.COUNCIL_APPROVER,
        lambda app: _invitation_to_withdraw(app),
        [
            Expected(
                "team_invitation.withdraw", "team_invitation", LEEDS, None,
                {**NEW_PERSON, "role": "council_viewer", "council": "Leeds"},
            )
        ],
    ),
}  # fmt: skip


def _invitation_to_withdraw(app) -> tuple[str, dict[str, str], int]:
    """An invitation to Leeds's team, sent from its team page by another of its approvers."""
    inviter = make_member(app, Role.COUNCIL_APPROVER, email="inviter@example.org")
    sent = post(
        signed_in_client(app, inviter),
        f"/councils/{LEEDS}/team/add",
        {**NEW_PERSON, "role": "council_viewer"},
    )
    assert sent.status_code == 302
    with app.app_context():
        invitation_id = db.session.scalar(
            select(TeamInvitation.id).where(TeamInvitation.email == NEW_PERSON["email"])
        )
    return f"/councils/{LEEDS}/team/invitations/{invitation_id}/withdraw", {}, invitation_id


def test_every_changing_admin_and_team_route_has_an_audit_case(app):
    changing = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in {"admin", "team"} and "POST" in (rule.methods or ())
    }
    assert changing == set(CASES)


def _events(app, after_id: int) -> list[AuditEvent]:
    with app.app_context():
        events = list(
            db.session.scalars(
                select(AuditEvent).where(AuditEvent.id > after_id).order_by(AuditEvent.id)
            )
        )
        db.session.expunge_all()
        return events


def _last_event_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.max(AuditEvent.id))) or 0


def _resolve(values: dict[str, Any] | None, ids: dict[str, int]) -> dict[str, Any] | None:
    if values is None:
        return None
    return {k: ids.get(v, v) if k == "user_id" else v for k, v in values.items()}


@pytest.mark.parametrize("endpoint", sorted(CASES))
def test_each_change_writes_exactly_its_audit_rows(app, endpoint):
    case = CASES[endpoint]
    actor = make_member(app, case.actor)
    client = signed_in_client(app, actor)
    url, data, _ = case.setup(app)
    with app.app_context():
        leeds_id = council(LEEDS).id
    start = _last_event_id(app)

    response = post(client, url, data)

    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    events = _events(app, start)
    with app.app_context():
        ids = {
            name: db.session.scalar(select(User.id).where(User.email == f"{name}@example.org"))
            for name in ("subject", "new")
        }
    assert [e.action for e in events] == [row.action for row in case.rows]
    for event, row in zip(events, case.rows, strict=True):
        assert event.actor_id == actor.id, event.action
        assert event.object_type == row.object_type
        assert event.council_id == (leeds_id if row.council else None), event.action
        assert event.request_id and event.ip_address
        if row.object_type == "user":
            subject = ids["new"] if ids["new"] else ids["subject"]
            assert event.object_id == str(subject), event.action
        for side, expected in (("before", row.before), ("after", row.after)):
            actual = getattr(event, side)
            expected = _resolve(expected, ids)
            if expected is None:
                assert actual is None, (event.action, side, actual)
            else:
                assert actual is not None, (event.action, side)
                # the snapshot holds at least these values (it may hold more)
                assert {k: actual.get(k) for k in expected} == expected, (event.action, side)


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/admin/users/new", {"email": "bad", "display_name": "X", "role": "national_admin"}),
        ("/councils/E08000035/team/add", {"email": "x@example.org", "role": "national_admin"}),
    ],
)
def test_a_refused_change_writes_nothing(app, path, data):
    actor = make_member(app, Role.NATIONAL_ADMIN)
    client = signed_in_client(app, actor)
    start = _last_event_id(app)
    assert post(client, path, data).status_code == 200
    assert _events(app, start) == []


def test_a_refused_removal_of_ones_own_admin_role_writes_nothing(app):
    actor = make_member(app, Role.NATIONAL_ADMIN)
    client = signed_in_client(app, actor)
    with app.app_context():
        own = db.session.scalar(select(Membership.id).where(Membership.user_id == actor.id))
    start = _last_event_id(app)
    post(client, f"/admin/users/{actor.id}/memberships/{own}/remove")
    assert _events(app, start) == []


# -- append-only -----------------------------------------------------------------------------------


def _an_event(app) -> int:
    with app.app_context():
        event = record(actor=None, action="test.thing", object_type="thing", object_id=1)
        db.session.commit()
        return event.id


def test_an_audit_event_cannot_be_changed_through_the_orm(app):
    event_id = _an_event(app)
    with app.app_context():
        event = db.session.get(AuditEvent, event_id)
        event.action = "test.rewritten"
        with pytest.raises(AuditTrailIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        assert db.session.get(AuditEvent, event_id).action == "test.thing"


def test_an_audit_event_cannot_be_deleted_through_the_orm(app):
    event_id = _an_event(app)
    with app.app_context():
        db.session.delete(db.session.get(AuditEvent, event_id))
        with pytest.raises(AuditTrailIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        assert db.session.get(AuditEvent, event_id) is not None


@pytest.mark.parametrize(
    "statement",
    [
        lambda: update(AuditEvent).values(action="test.rewritten"),
        lambda: delete(AuditEvent),
    ],
    ids=["update", "delete"],
)
def test_bulk_orm_statements_on_the_trail_are_refused_too(app, statement):
    event_id = _an_event(app)
    with app.app_context():
        with pytest.raises(AuditTrailIsAppendOnly):
            db.session.execute(statement())
        db.session.rollback()
        assert db.session.get(AuditEvent, event_id).action == "test.thing"


@pytest.mark.parametrize(
    "sql",
    ["UPDATE audit_events SET action = 'test.rewritten'", "DELETE FROM audit_events"],
    ids=["update", "delete"],
)
def test_the_database_refuses_changes_to_the_trail_from_plain_sql(app, sql):
    event_id = _an_event(app)
    with app.app_context():
        with pytest.raises(DatabaseError, match="append-only"):
            db.session.execute(text(sql))
        db.session.rollback()
        assert db.session.get(AuditEvent, event_id).action == "test.thing"
