"""Invitations to a council's team: nobody holds a role there until they accept it themselves."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from tests.access_matrix import (
    council,
    https_client,
    make_member,
    make_person,
    post,
    signed_in_client,
)
from tests.factories import DEFAULT_PASSWORD
from tests.helpers import latest_mail, link_in, path_of
from tracker.admin.services import remove_membership
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import AuditEvent, Membership, Role, TeamInvitation, User

LEEDS, WAKEFIELD = "E08000035", "E08000036"
TEAM = f"/councils/{LEEDS}/team"


def _text(element) -> str:
    return " ".join(element.get_text(" ", strip=True).split())


@pytest.fixture
def approver(app):
    """The approver of Leeds, signed in."""
    person = make_member(app, Role.COUNCIL_APPROVER, display_name="Dee Approver")
    return person, signed_in_client(app, person)


@pytest.fixture
def kim(app):
    """An editor of Wakefield with an account she uses, signed in."""
    person = make_member(
        app, Role.COUNCIL_EDITOR, "same_region", email="kim@example.org", display_name="Kim Secret"
    )
    return person, signed_in_client(app, person)


def _invite(app, client, email: str, role: str = "council_viewer", name: str = "Pat") -> str:
    """Invite ``email`` through the team page; the path of the link they were sent."""
    response = post(client, f"{TEAM}/add", {"email": email, "display_name": name, "role": role})
    assert response.status_code == 302, response.get_data(as_text=True)
    return path_of(link_in(latest_mail(app, email)))


def _invitation_id(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(TeamInvitation.id)
            .where(TeamInvitation.email == email)
            .order_by(TeamInvitation.id.desc())
        )


def _roles_in(app, email: str, code: str = LEEDS) -> list[str]:
    with app.app_context():
        return sorted(
            db.session.scalars(
                select(Membership.role)
                .join(User, Membership.user_id == User.id)
                .where(User.email == email, Membership.council_id == council(code).id)
            )
        )


def _audited(app, *actions: str) -> list[tuple[str, int | None]]:
    with app.app_context():
        return [
            tuple(row)
            for row in db.session.execute(
                select(AuditEvent.action, AuditEvent.actor_id)
                .where(AuditEvent.action.in_(actions))
                .order_by(AuditEvent.id)
            )
        ]


def test_someone_with_an_account_holds_the_role_only_once_they_accept_it(app, approver, kim, page):
    dee, dee_client = approver
    kim_person, kim_client = kim
    link = _invite(app, dee_client, "kim@example.org")
    answer = f"/account/invitations/{_invitation_id(app, 'kim@example.org')}"

    # Signed out, the link asks her to sign in first; signed in, it takes her to the question.
    signed_out = https_client(app).get(link)
    assert signed_out.status_code == 302
    assert signed_out.headers["Location"].startswith("/auth/sign-in?next=/account/invitations/")
    assert kim_client.get(link).headers["Location"] == answer
    account = page(kim_client.get("/account"))
    assert "Accept or decline" in _text(account.select_one("main"))
    question = page(kim_client.get(answer))
    assert _text(question.h1) == "Do you want to join Leeds?"
    assert _roles_in(app, "kim@example.org") == []

    response = post(kim_client, answer, {"accept": "Accept and join"})

    assert response.status_code == 303
    assert response.headers["Location"] == "/account"
    banner = page(kim_client.get("/account")).select_one(".govuk-notification-banner")
    assert "You are now a council viewer in Leeds" in _text(banner)
    assert _roles_in(app, "kim@example.org") == ["council_viewer"]
    assert _roles_in(app, "kim@example.org", WAKEFIELD) == ["council_editor"]
    with app.app_context():
        membership = db.session.scalar(
            select(Membership).where(
                Membership.user_id == kim_person.id, Membership.role == "council_viewer"
            )
        )
        assert membership.created_by_id == dee.id
    assert _audited(app, "team_invitation.create", "membership.create", "team_invitation.accept")[
        -3:
    ] == [
        ("team_invitation.create", dee.id),
        ("membership.create", kim_person.id),
        ("team_invitation.accept", kim_person.id),
    ]
    # Used once: the link and the question are gone, and the team lists her as a member now.
    assert kim_client.get(link).status_code == 404
    assert kim_client.get(answer).status_code == 404
    assert post(kim_client, answer, {"accept": "Accept and join"}).status_code == 404
    team = page(dee_client.get(f"{TEAM}/"))
    assert "Kim Secret" in _text(team.select("main table")[0])
    assert "waiting for an answer" not in _text(team.select_one("main"))


def test_nobody_else_can_answer_an_invitation(app, approver, kim):
    _, dee_client = approver
    link = _invite(app, dee_client, "kim@example.org")
    answer = f"/account/invitations/{_invitation_id(app, 'kim@example.org')}"
    other = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR, email="ed@example.org"))

    for client in (other, dee_client):
        assert client.get(link).status_code == 404
        assert client.get(answer).status_code == 404
        assert post(client, answer, {"accept": "Accept and join"}).status_code == 404
    assert _roles_in(app, "ed@example.org") == ["council_editor"]
    assert _roles_in(app, "kim@example.org") == []
    assert _audited(app, "team_invitation.accept", "team_invitation.decline") == []


def test_declining_grants_nothing_and_uses_the_link_up(app, approver, kim, page):
    _, dee_client = approver
    kim_person, kim_client = kim
    link = _invite(app, dee_client, "kim@example.org", role="panel_member")
    answer = f"/account/invitations/{_invitation_id(app, 'kim@example.org')}"

    response = post(kim_client, answer, {"decline": "Decline"})

    assert response.status_code == 303
    banner = page(kim_client.get("/account")).select_one(".govuk-notification-banner")
    assert "You have declined the invitation to be a co-production panel member in Leeds" in _text(
        banner
    )
    assert _roles_in(app, "kim@example.org") == []
    assert _audited(app, "team_invitation.decline") == [("team_invitation.decline", kim_person.id)]
    assert kim_client.get(link).status_code == 404
    assert "Accept or decline" not in kim_client.get("/account").get_data(as_text=True)
    assert "waiting for an answer" not in dee_client.get(f"{TEAM}/").get_data(as_text=True)


def test_someone_new_creates_their_account_from_the_link_and_so_joins(app, approver, page):
    dee, dee_client = approver
    link = _invite(app, dee_client, "new@example.org", role="council_editor", name="Nell")
    visitor = https_client(app)

    form = page(visitor.get(link))
    assert _text(form.h1) == "Create your account to join Leeds"
    assert form.select_one("input[name=display_name]")["value"] == "Nell"
    assert _roles_in(app, "new@example.org") == []

    response = post(visitor, link, {"display_name": "Nell Newton", "password": DEFAULT_PASSWORD})

    assert response.status_code in (302, 303)
    home = page(visitor.get(response.headers["Location"]))
    assert "You are now a council editor in Leeds" in _text(
        home.select_one(".govuk-notification-banner")
    )
    assert visitor.get("/account").status_code == 200  # signed in
    assert _roles_in(app, "new@example.org") == ["council_editor"]
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "new@example.org"))
        assert user.display_name == "Nell Newton" and user.password_hash
        actions = _audited(app, "user.create", "user.activate", "team_invitation.accept")
        assert actions[-3:] == [
            ("user.create", None),
            ("user.activate", user.id),
            ("team_invitation.accept", user.id),
        ]
    assert https_client(app).get(link).status_code == 404
    assert dee.id != user.id


def test_an_account_never_used_is_completed_from_the_link(app, approver):
    _, dee_client = approver
    with app.app_context():
        make_person("pending@example.org", Role.COUNCIL_EDITOR, council=council(WAKEFIELD))
        db.session.commit()
    link = _invite(app, dee_client, "pending@example.org")

    visitor = https_client(app)
    response = post(visitor, link, {"display_name": "Penny", "password": DEFAULT_PASSWORD})

    assert response.status_code in (302, 303)
    assert _roles_in(app, "pending@example.org") == ["council_viewer"]
    assert _roles_in(app, "pending@example.org", WAKEFIELD) == ["council_editor"]


@pytest.mark.parametrize("kind", ["expired", "used", "unknown", "inviter removed", "withdrawn"])
def test_a_link_that_no_longer_stands_fails_cleanly(app, approver, kim, page, kind):
    dee, dee_client = approver
    kim_person, kim_client = kim
    link = _invite(app, dee_client, "kim@example.org")
    answer = f"/account/invitations/{_invitation_id(app, 'kim@example.org')}"
    later = utcnow()
    if kind == "expired":
        later += app.config["INVITATION_TTL"] + timedelta(minutes=1)
    elif kind == "used":
        assert post(kim_client, answer, {"decline": "Decline"}).status_code == 303
    elif kind == "unknown":
        link = link[:-4] + "AAAA"
    elif kind == "withdrawn":
        withdraw = f"{TEAM}/invitations/{_invitation_id(app, 'kim@example.org')}/withdraw"
        assert post(dee_client, withdraw, {}).status_code == 302
    else:
        with app.app_context():
            membership = db.session.scalar(select(Membership).where(Membership.user_id == dee.id))
            remove_membership(membership, actor=None)
            db.session.commit()

    with time_machine.travel(later, tick=False):
        # Signed in afresh: a week on, her earlier session has timed out.
        kim_client = signed_in_client(app, kim_person)
        for client in (https_client(app), kim_client):
            response = client.get(link)
            assert response.status_code == 404
            assert _text(page(response).h1) == "This link has expired or has already been used"
            assert post(client, link, {"password": DEFAULT_PASSWORD}).status_code == 404
        if kind != "unknown":
            assert kim_client.get(answer).status_code == 404
            assert post(kim_client, answer, {"accept": "Accept and join"}).status_code == 404
            assert "Accept or decline" not in kim_client.get("/account").get_data(as_text=True)
    assert _roles_in(app, "kim@example.org") == []


@pytest.mark.usefixtures("kim")
def test_inviting_again_replaces_the_earlier_link(app, approver):
    _, dee_client = approver
    first = _invite(app, dee_client, "kim@example.org")
    second = _invite(app, dee_client, "kim@example.org")

    assert https_client(app).get(first).status_code == 404
    assert https_client(app).get(second).status_code == 302
    with app.app_context():
        standing = db.session.scalars(
            select(TeamInvitation).where(
                TeamInvitation.expires_at > utcnow(), TeamInvitation.withdrawn_at.is_(None)
            )
        ).all()
        assert len(standing) == 1


def test_a_manager_withdraws_an_invitation_sent_to_the_wrong_address(app, approver, page):
    """Another approver of the council withdraws what Dee sent: the link stops working, nobody
    joins, the team page no longer lists it, and the trail says who withdrew it."""
    _, dee_client = approver
    link = _invite(app, dee_client, "wrong@example.org", role="council_editor", name="Wren")
    invitation_id = _invitation_id(app, "wrong@example.org")
    withdraw = f"{TEAM}/invitations/{invitation_id}/withdraw"
    colleague = make_member(app, Role.COUNCIL_APPROVER, email="cal@example.org")
    cal_client = signed_in_client(app, colleague)

    team = page(cal_client.get(f"{TEAM}/"))
    links = [a["href"] for a in team.select("a") if "Withdraw" in a.get_text()]
    assert links == [withdraw]
    confirm = page(cal_client.get(withdraw))
    assert _text(confirm.h1) == "Withdraw the invitation to wrong@example.org?"
    assert "Role Council editor" in _text(confirm.select_one(".govuk-summary-list"))

    response = post(cal_client, withdraw, {})

    assert response.status_code == 302 and response.headers["Location"].endswith(f"{TEAM}/")
    banner = page(cal_client.get(f"{TEAM}/")).select_one(".govuk-notification-banner")
    assert "Invitation to wrong@example.org withdrawn" in _text(banner)
    assert "waiting for an answer" not in cal_client.get(f"{TEAM}/").get_data(as_text=True)
    assert https_client(app).get(link).status_code == 404
    assert _roles_in(app, "wrong@example.org") == []
    assert _audited(app, "team_invitation.withdraw") == [("team_invitation.withdraw", colleague.id)]
    # Withdrawn already: the confirmation is gone, and a second go changes nothing.
    assert cal_client.get(withdraw).status_code == 404
    assert post(dee_client, withdraw, {}).status_code == 404
    assert len(_audited(app, "team_invitation.withdraw")) == 1


def test_only_this_councils_managers_withdraw_its_invitations(app, approver):
    _, dee_client = approver
    _invite(app, dee_client, "kim@example.org")
    withdraw_id = _invitation_id(app, "kim@example.org")
    # Wakefield's approver, through Wakefield's team page or Leeds's: 404 either way.
    other = signed_in_client(app, make_member(app, Role.COUNCIL_APPROVER, "same_region"))
    editor = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR, email="ed@example.org"))
    for client, code in ((other, WAKEFIELD), (other, LEEDS), (editor, LEEDS)):
        path = f"/councils/{code}/team/invitations/{withdraw_id}/withdraw"
        assert client.get(path).status_code == 404
        assert post(client, path, {}).status_code == 404
    assert _audited(app, "team_invitation.withdraw") == []
    with app.app_context():
        assert db.session.get(TeamInvitation, withdraw_id).withdrawn_at is None
