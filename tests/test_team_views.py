"""A council approver manages their own council's editors, viewers and panel members."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from tests.access_matrix import (
    council,
    csrf_token,
    https_client,
    make_member,
    make_person,
    post,
    signed_in_client,
)
from tests.conftest import dispose, make_app
from tests.helpers import link_in, mail_body, sent_mail
from tests.test_roadmap_views import count_queries
from tracker.admin.services import remove_membership
from tracker.extensions import db
from tracker.models import AuditEvent, Membership, Role, TeamInvitation, User

LEEDS, WAKEFIELD = "E08000035", "E08000036"


def _text(element) -> str:
    return " ".join(element.get_text(" ", strip=True).split())


@pytest.fixture
def approver(app):
    """The approver of Leeds (council A), signed in."""
    person = make_member(app, Role.COUNCIL_APPROVER, display_name="Dee Approver")
    return person, signed_in_client(app, person)


def _membership_id(app, email: str, code: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(Membership.id)
            .join(User, Membership.user_id == User.id)
            .join(Membership.council)
            .where(User.email == email, Membership.council.has(gss_code=code))
        )


def _people_in(app, code: str) -> list[tuple[str, str]]:
    with app.app_context():
        return sorted(
            db.session.execute(
                select(User.email, Membership.role)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.council_id == council(code).id)
            ).all()
        )


def test_team_page_lists_the_councils_people_and_hides_panel_members_emails(app, approver, page):
    _, client = approver
    with app.app_context():
        leeds = council(LEEDS)
        make_person("ed@example.org", Role.COUNCIL_EDITOR, council=leeds, name="Ed Itor")
        make_person("panel@example.org", Role.PANEL_MEMBER, council=leeds, name="Sam P")
        make_person("other@example.org", Role.COUNCIL_EDITOR, council=council(WAKEFIELD))
        db.session.commit()

    response = client.get(f"/councils/{LEEDS}/team/")
    soup = page(response)

    assert response.status_code == 200
    assert _text(soup.h1) == "Team"
    assert soup.title.string.strip() == "Team – Leeds – Roadmap Tracker"
    rows = {
        _text(row.th): [_text(cell) for cell in row.find_all("td")]
        for row in soup.select("main table tbody tr")
    }
    assert set(rows) == {"Dee Approver", "Ed Itor", "Sam P"}
    assert rows["Ed Itor"][:2] == ["ed@example.org", "Council editor"]
    assert rows["Sam P"][:2] == ["Not shown", "Co-production panel member"]
    assert "panel@example.org" not in response.get_data(as_text=True)
    assert "other@example.org" not in response.get_data(as_text=True)
    # Approvers are managed by national administrators: no "Remove" beside them.
    assert rows["Dee Approver"][-1] == ""
    assert rows["Ed Itor"][-1].startswith("Remove")


def _invitations_in(app, code: str) -> list[tuple[str, str, str]]:
    """(email, name typed, role) of every invitation to the council's team."""
    with app.app_context():
        return sorted(
            db.session.execute(
                select(
                    TeamInvitation.email, TeamInvitation.display_name, TeamInvitation.role
                ).where(TeamInvitation.council_id == council(code).id)
            ).all()
        )


def test_approver_invites_a_new_person_who_joins_only_once_they_accept(app, approver, page):
    _, client = approver
    response = post(
        client,
        f"/councils/{LEEDS}/team/add",
        {
            "email": " New.Person@Example.org ",
            "display_name": "New Person",
            "role": "council_viewer",
        },
    )

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/councils/{LEEDS}/team/")
    soup = page(client.get(response.headers["Location"]))
    assert _text(soup.select_one(".govuk-notification-banner")).endswith(
        "Invitation sent to new.person@example.org. They will be a council viewer in Leeds once "
        "they accept"
    )
    waiting = soup.select("main table")[-1]
    assert _text(waiting.caption) == "1 invitation waiting for an answer"
    row = waiting.select_one("tbody tr")
    assert [_text(row.th), *[_text(td) for td in row.find_all("td")][:2]] == [
        "New Person",
        "new.person@example.org",
        "Council viewer",
    ]
    # Nobody is given anything, and no account is made, until they accept.
    assert ("new.person@example.org", "council_viewer") not in _people_in(app, LEEDS)
    assert _invitations_in(app, LEEDS) == [
        ("new.person@example.org", "New Person", "council_viewer")
    ]
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "new.person@example.org")) is None
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "team_invitation.create")
        ).all()
        assert [(e.council_id, e.after["email"], e.after["role"]) for e in events] == [
            (council(LEEDS).id, "new.person@example.org", "council_viewer")
        ]
    (message,) = sent_mail(app, "new.person@example.org")
    assert message["Subject"] == "Join Leeds in Roadmap Tracker"
    assert "/auth/team-invitation/" in link_in(message)


def test_approver_cannot_give_a_new_person_a_name_with_a_line_break(app, approver, page):
    _, client = approver
    response = post(
        client,
        f"/councils/{LEEDS}/team/add",
        {
            "email": "new.person@example.org",
            "display_name": "New\nBcc: everyone@example.org",
            "role": "council_viewer",
        },
    )

    soup = page(response)
    assert response.status_code == 200
    assert soup.title.string.strip().startswith("Error: ")
    summary = soup.select_one(".govuk-error-summary")
    assert "Name must not contain line breaks or control characters" in _text(summary)
    assert summary.select_one('a[href="#display_name"]')
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "new.person@example.org")) is None
    assert sent_mail(app, "new.person@example.org") == []


def test_someone_with_an_account_elsewhere_is_invited_not_added_and_their_name_is_not_shown(
    app, approver, page
):
    _, client = approver
    with app.app_context():
        make_person(
            "known@example.org", Role.COUNCIL_EDITOR, council=council(WAKEFIELD), name="Kim Secret"
        )
        db.session.commit()

    response = post(
        client,
        f"/councils/{LEEDS}/team/add",
        {"email": "known@example.org", "display_name": "Someone Else", "role": "panel_member"},
    )

    assert response.status_code == 302
    team = client.get(response.headers["Location"])
    assert "Kim Secret" not in team.get_data(as_text=True)
    assert "Someone Else" in _text(page(team).select("main table")[-1])
    # No membership until they accept, and their own name is left alone.
    assert ("known@example.org", "panel_member") not in _people_in(app, LEEDS)
    with app.app_context():
        assert (
            db.session.scalar(select(User.display_name).where(User.email == "known@example.org"))
            == "Kim Secret"
        )
    assert len(sent_mail(app, "known@example.org")) == 1


def _normalised(html: str) -> str:
    """A page with what differs on every response taken out: CSRF tokens and script nonces."""
    html = re.sub(r'(name="csrf_token"[^>]*value=")[^"]+"', r'\1…"', html)
    html = re.sub(r'(<meta name="csrf-token" content=")[^"]+"', r'\1…"', html)
    return re.sub(r'nonce="[^"]+"', 'nonce="…"', html)


def _invite_in_a_world_of_its_own(databases, loaded_template, directory, *, account: str):
    """In a new database: an account ``account`` in Wakefield, named "Kim Secret"; Leeds's
    approver invites target@example.org. What the approver sees, what is sent, and how many
    statements the invitation ran."""
    directory.mkdir()
    with databases.database(loaded_template, directory) as url:
        world = make_app(url, MAIL_FILE_DIR=str(directory / "mail"))
        try:
            with world.app_context():
                make_person(
                    account, Role.COUNCIL_EDITOR, council=council(WAKEFIELD), name="Kim Secret"
                )
                db.session.commit()
            person = make_member(
                world, Role.COUNCIL_APPROVER, display_name="Dee Approver", email="dee@example.org"
            )
            client = signed_in_client(world, person)
            form = client.get(f"/councils/{LEEDS}/team/add")
            data = {"email": "target@example.org", "display_name": "Pat", "role": "council_viewer"}
            token = csrf_token(client, f"/councils/{LEEDS}/team/add")
            with count_queries(world) as statements:
                response = client.post(
                    f"/councils/{LEEDS}/team/add", data={"csrf_token": token, **data}
                )
            team = client.get(response.headers["Location"])
            again = client.get(f"/councils/{LEEDS}/team/")
            (message,) = sent_mail(world, "target@example.org")
            with world.app_context():
                members = db.session.scalar(
                    select(func.count(Membership.id)).where(
                        Membership.council_id == council(LEEDS).id
                    )
                )
            return {
                "form": (form.status_code, _normalised(form.get_data(as_text=True))),
                "response": (
                    response.status_code,
                    response.headers["Location"],
                    response.get_data(as_text=True),
                ),
                "team": (team.status_code, _normalised(team.get_data(as_text=True))),
                "again": (again.status_code, _normalised(again.get_data(as_text=True))),
                "mail": (
                    message["To"],
                    message["Subject"],
                    re.sub(r"team-invitation/[\w-]+", "team-invitation/…", mail_body(message)),
                ),
                "statements": len(statements),
                "members": members,
            }
        finally:
            dispose(world)


def test_known_and_unknown_addresses_look_exactly_the_same_to_the_approver(
    databases, loaded_template, tmp_path
):
    with time_machine.travel(datetime(2026, 12, 7, 10, 0, tzinfo=UTC), tick=False):
        known = _invite_in_a_world_of_its_own(
            databases, loaded_template, tmp_path / "known", account="target@example.org"
        )
        unknown = _invite_in_a_world_of_its_own(
            databases, loaded_template, tmp_path / "unknown", account="someone@example.org"
        )

    for what in ("form", "response", "team", "again", "mail", "statements", "members"):
        assert known[what] == unknown[what], what
    assert "Kim Secret" not in known["team"][1] + known["again"][1]
    assert "Invitation sent to target@example.org" in known["team"][1]
    assert known["members"] == 1  # the approver alone: nobody joins until they accept


def test_adding_the_same_role_twice_is_refused_with_a_clear_message(app, approver, page):
    _, client = approver
    with app.app_context():
        make_person("ed@example.org", Role.COUNCIL_EDITOR, council=council(LEEDS))
        db.session.commit()

    response = post(
        client,
        f"/councils/{LEEDS}/team/add",
        {"email": "ed@example.org", "display_name": "Ed", "role": "council_editor"},
    )

    soup = page(response)
    assert response.status_code == 200
    assert soup.title.string.strip().startswith("Error: ")
    summary = _text(soup.select_one(".govuk-error-summary"))
    assert "This person is already a council editor in Leeds" in summary
    assert _people_in(app, LEEDS).count(("ed@example.org", "council_editor")) == 1


@pytest.mark.parametrize("role", ["council_approver", "national_admin", "regional_member", "x"])
def test_approver_cannot_grant_a_role_they_do_not_manage(app, approver, page, role):
    _, client = approver
    response = post(
        client,
        f"/councils/{LEEDS}/team/add",
        {"email": "climber@example.org", "display_name": "Climber", "role": role},
    )

    assert response.status_code == 200
    assert "Select a role" in _text(page(response).select_one(".govuk-error-summary"))
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "climber@example.org")) is None
    assert _invitations_in(app, LEEDS) == []


@pytest.mark.parametrize("role", ["council_editor", "council_viewer", "panel_member"])
def test_approver_cannot_invite_themselves(app, approver, page, role):
    person, client = approver
    response = post(
        client,
        f"/councils/{LEEDS}/team/add",
        {"email": person.email.upper(), "display_name": "Me Again", "role": role},
    )

    assert response.status_code == 200
    soup = page(response)
    assert soup.title.string.strip().startswith("Error: ")
    assert _text(soup.select_one(".govuk-error-summary")).endswith("You cannot invite yourself")
    assert _people_in(app, LEEDS) == [(person.email, "council_approver")]
    assert _invitations_in(app, LEEDS) == []
    assert [m for m in sent_mail(app, person.email) if m["Subject"].startswith("Join")] == []


def test_posted_council_and_region_fields_are_ignored(app, approver):
    _, client = approver
    with app.app_context():
        other = council(WAKEFIELD)
        other_id, region_id = other.id, other.region_id

    response = post(
        client,
        f"/councils/{LEEDS}/team/add",
        {
            "email": "sneaky@example.org",
            "display_name": "Sneaky",
            "role": "council_editor",
            "council_id": other_id,
            "council": WAKEFIELD,
            "gss_code": WAKEFIELD,
            "region_id": region_id,
            "user_id": 1,
        },
    )

    assert response.status_code == 302
    with app.app_context():
        rows = db.session.execute(
            select(
                TeamInvitation.role, TeamInvitation.council_id, TeamInvitation.invited_by_id
            ).where(TeamInvitation.email == "sneaky@example.org")
        ).all()
        assert rows == [("council_editor", council(LEEDS).id, approver[0].id)]


def test_approver_removes_an_editor_after_confirming(app, approver, page):
    _, client = approver
    with app.app_context():
        make_person("ed@example.org", Role.COUNCIL_EDITOR, council=council(LEEDS), name="Ed")
        db.session.commit()
    membership_id = _membership_id(app, "ed@example.org", LEEDS)
    url = f"/councils/{LEEDS}/team/memberships/{membership_id}/remove"

    confirm = page(client.get(url))
    assert _text(confirm.h1) == "Remove Ed as council editor?"
    assert confirm.select_one(".govuk-warning-text")

    response = post(client, url)
    assert response.status_code == 302
    assert ("ed@example.org", "council_editor") not in _people_in(app, LEEDS)
    with app.app_context():
        # The account stays; only the role goes.
        assert db.session.scalar(select(User).where(User.email == "ed@example.org")) is not None


def test_a_membership_of_another_council_is_not_found_through_your_own_councils_url(app, approver):
    _, client = approver
    with app.app_context():
        make_person("b@example.org", Role.COUNCIL_EDITOR, council=council(WAKEFIELD))
        db.session.commit()
    foreign = _membership_id(app, "b@example.org", WAKEFIELD)

    url = f"/councils/{LEEDS}/team/memberships/{foreign}/remove"
    assert client.get(url).status_code == 404
    assert post(client, url).status_code == 404
    # and through the other council's own URL, which is not theirs either
    assert post(client, f"/councils/{WAKEFIELD}/team/memberships/{foreign}/remove").status_code == (
        404
    )
    assert ("b@example.org", "council_editor") in _people_in(app, WAKEFIELD)


def test_approver_cannot_add_people_to_another_council(app, approver):
    _, client = approver
    response = post(
        client,
        f"/councils/{WAKEFIELD}/team/add",
        {"email": "x@example.org", "display_name": "X", "role": "council_editor"},
    )
    assert response.status_code == 404
    assert _people_in(app, WAKEFIELD) == []
    assert _invitations_in(app, WAKEFIELD) == []


def test_approver_cannot_remove_another_approver_or_themselves_as_approver(app, approver):
    person, client = approver
    with app.app_context():
        make_person("second@example.org", Role.COUNCIL_APPROVER, council=council(LEEDS))
        db.session.commit()
    for email in ("second@example.org", person.email):
        membership_id = _membership_id(app, email, LEEDS)
        url = f"/councils/{LEEDS}/team/memberships/{membership_id}/remove"
        assert client.get(url).status_code == 404
        assert post(client, url).status_code == 404
        assert (email, "council_approver") in _people_in(app, LEEDS)


def test_removing_an_approvers_role_stops_their_team_access_at_once(app, approver):
    person, client = approver
    assert client.get(f"/councils/{LEEDS}/team/").status_code == 200

    with app.app_context():
        membership = db.session.get(Membership, _membership_id(app, person.email, LEEDS))
        remove_membership(membership, actor=None)
        db.session.commit()

    assert client.get(f"/councils/{LEEDS}/team/").status_code == 404
    assert client.get(f"/councils/{LEEDS}/team/add").status_code == 404


def test_a_national_administrator_manages_any_councils_team(app, page):
    admin = make_member(app, Role.NATIONAL_ADMIN)
    client = signed_in_client(app, admin)
    response = post(
        client,
        "/councils/E06000052/team/add",
        {"email": "cornish@example.org", "display_name": "Kernow", "role": "council_editor"},
    )
    assert response.status_code == 302
    assert _invitations_in(app, "E06000052") == [
        ("cornish@example.org", "Kernow", "council_editor")
    ]


def test_someone_signed_out_is_sent_to_sign_in(app):
    response = https_client(app).get(f"/councils/{LEEDS}/team/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/sign-in")
