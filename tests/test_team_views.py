"""A council approver manages their own council's editors, viewers and panel members."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.access_matrix import (
    council,
    https_client,
    make_member,
    make_person,
    post,
    signed_in_client,
)
from tests.helpers import sent_mail
from tracker.admin.services import remove_membership
from tracker.extensions import db
from tracker.models import Invitation, Membership, Role, User

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


def test_approver_invites_a_new_person_to_their_council(app, approver):
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
    assert ("new.person@example.org", "council_viewer") in _people_in(app, LEEDS)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "new.person@example.org"))
        assert user.display_name == "New Person"
        assert user.password_hash is None
        assert db.session.scalar(select(func.count()).where(Invitation.user_id == user.id)) == 1
    assert len(sent_mail(app, "new.person@example.org")) == 1


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


def test_approver_adds_someone_who_has_an_account_without_renaming_or_inviting_them(app, approver):
    _, client = approver
    with app.app_context():
        make_person(
            "known@example.org", Role.COUNCIL_EDITOR, council=council(WAKEFIELD), name="Kim"
        )
        db.session.commit()

    response = post(
        client,
        f"/councils/{LEEDS}/team/add",
        {"email": "known@example.org", "display_name": "Someone Else", "role": "panel_member"},
    )

    assert response.status_code == 302
    assert ("known@example.org", "panel_member") in _people_in(app, LEEDS)
    with app.app_context():
        assert (
            db.session.scalar(select(User.display_name).where(User.email == "known@example.org"))
            == "Kim"
        )
    assert sent_mail(app, "known@example.org") == []


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
            select(Membership.role, Membership.council_id, Membership.region_id)
            .join(User, Membership.user_id == User.id)
            .where(User.email == "sneaky@example.org")
        ).all()
        assert rows == [("council_editor", council(LEEDS).id, None)]


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
    assert ("cornish@example.org", "council_editor") in _people_in(app, "E06000052")


def test_someone_signed_out_is_sent_to_sign_in(app):
    response = https_client(app).get(f"/councils/{LEEDS}/team/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/sign-in")
