"""National administrators manage people, their roles and accounts, and read the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.access_matrix import (
    council,
    https_client,
    make_member,
    make_person,
    post,
    signed_in_client,
)
from tests.helpers import link_in, path_of, sent_mail
from tracker.extensions import db
from tracker.models import Membership, Role, User


def _text(element) -> str:
    return " ".join(element.get_text(" ", strip=True).split())


@pytest.fixture
def admin(app):
    person = make_member(app, Role.NATIONAL_ADMIN, display_name="Ada Admin")
    return person, signed_in_client(app, person)


def _user(app, email: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None:
            db.session.expunge(user)
        return user


def _roles(app, email: str) -> list[tuple[str, str | None]]:
    with app.app_context():
        rows = db.session.execute(
            select(Membership.role, Membership.council_id)
            .join(User, Membership.user_id == User.id)
            .where(User.email == email)
        ).all()
        return sorted((role, council_id) for role, council_id in rows)


def _person(app, email: str, role: Role | None = None, code: str = "E08000035", **kw) -> int:
    with app.app_context():
        user = make_person(email, role, council=council(code), **kw)
        db.session.commit()
        return user.id


def test_dashboard_links_to_people_and_the_audit_trail(admin, page):
    _, client = admin
    soup = page(client.get("/admin/"))
    assert _text(soup.h1) == "Administration"
    assert soup.title.string.strip() == "Administration – Roadmap Tracker"
    links = {a["href"] for a in soup.select("main a")}
    assert {"/admin/users", "/admin/users/new", "/admin/audit"} <= links


def test_people_list_searches_and_shows_roles(app, admin, page):
    _, client = admin
    _person(app, "ann@example.org", Role.COUNCIL_EDITOR, name="Ann Other")
    _person(app, "bob@example.org", Role.COUNCIL_VIEWER, "E06000052", name="Bob Person")

    soup = page(client.get("/admin/users?q=ann&role=&council=&region="))
    rows = soup.select("main table tbody tr")
    assert [_text(row.th) for row in rows] == ["Ann Other ann@example.org"]
    assert _text(rows[0].find_all("td")[0]) == "Council editor, Leeds"
    assert _text(rows[0].find_all("td")[1]) == "Invited"

    soup = page(client.get("/admin/users?council=E06000052"))
    assert [_text(row.th.a) for row in soup.select("main table tbody tr")] == ["Bob Person"]
    # an unknown filter value filters by nothing rather than failing
    assert client.get("/admin/users?role=emperor&council=nope&page=x").status_code == 200


def test_people_list_pages_through_results(app, admin, page):
    _, client = admin
    with app.app_context():
        for n in range(30):
            make_person(f"p{n:02}@example.org", name=f"Person {n:02}")
        db.session.commit()

    first = page(client.get("/admin/users"))
    assert "Showing 1 to 25 of 31 people" in _text(first.caption)
    next_link = first.select_one(".govuk-pagination__next a")["href"]
    second = page(client.get(next_link))
    assert "Showing 26 to 31 of 31 people" in _text(second.caption)


def test_admin_creates_a_person_with_their_first_role_and_an_invitation(app, admin):
    _, client = admin
    response = post(
        client,
        "/admin/users/new",
        {
            "email": "New@Example.org",
            "display_name": "New Person",
            "role": "council_approver",
            "council": "E06000052",
            "region": "london",  # ignored: an approver belongs to a council
        },
    )

    user = _user(app, "new@example.org")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/users/{user.id}"
    with app.app_context():
        cornwall_id = council("E06000052").id
    assert _roles(app, "new@example.org") == [("council_approver", cornwall_id)]
    # the invitation they receive works
    link = path_of(link_in(sent_mail(app, "new@example.org")[-1]))
    assert https_client(app).get(link).status_code == 200


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"role": "council_editor"}, "council", "Select a council"),
        ({"role": "regional_member"}, "region", "Select a region"),
        ({"role": "council_editor", "council": "E99999999"}, "council", "Select a council"),
        ({"role": "emperor"}, "role", "Select a role"),
        (
            {"role": "national_admin", "email": "not-an-address"},
            "email",
            "Enter an email address in",
        ),
        ({"role": "national_admin", "display_name": ""}, "display_name", "Enter a name"),
        (
            {"role": "national_admin", "display_name": "Fresh\r\nBcc: all@example.org"},
            "display_name",
            "Name must not contain line breaks or control characters",
        ),
        (
            {"role": "national_admin", "display_name": "Fresh\u2028Person"},
            "display_name",
            "Name must not contain line breaks or control characters",
        ),
        ({"role": "national_admin", "email": "taken@example.org"}, "email", "already an account"),
    ],
)
def test_new_person_form_errors(app, admin, page, data, field, message):
    _, client = admin
    _person(app, "taken@example.org")
    response = post(
        client,
        "/admin/users/new",
        {"email": "fresh@example.org", "display_name": "Fresh", **data},
    )
    soup = page(response)
    assert response.status_code == 200
    assert soup.title.string.strip() == "Error: Add a person – Roadmap Tracker"
    summary = soup.select_one(".govuk-error-summary")
    assert message in _text(summary)
    assert summary.select_one(f'a[href="#{field}"]')
    assert _user(app, "fresh@example.org") is None


def test_user_page_shows_details_and_roles(app, admin, page):
    _, client = admin
    user_id = _person(app, "ann@example.org", Role.COUNCIL_EDITOR, name="Ann Other")
    soup = page(client.get(f"/admin/users/{user_id}"))
    assert _text(soup.h1) == "Ann Other"
    summary = {
        _text(row.select_one(".govuk-summary-list__key")): _text(
            row.select_one(".govuk-summary-list__value")
        )
        for row in soup.select(".govuk-summary-list__row")
    }
    assert summary["Email address"] == "ann@example.org"
    assert summary["Account"].startswith("Invited")
    roles = [
        [_text(c) for c in row.find_all(["th", "td"])] for row in soup.select("main table tbody tr")
    ]
    assert roles[0][:2] == ["Council editor", "Leeds City Council"]
    assert client.get("/admin/users/999999").status_code == 404


def test_admin_adds_and_removes_a_role(app, admin, page):
    _, client = admin
    user_id = _person(app, "ann@example.org", Role.COUNCIL_EDITOR)
    response = post(
        client,
        f"/admin/users/{user_id}/memberships",
        {"role": "regional_member", "region": "london"},
    )
    assert response.status_code == 302
    with app.app_context():
        membership = db.session.scalar(
            select(Membership).where(
                Membership.user_id == user_id, Membership.role == "regional_member"
            )
        )
        assert membership.region.name == "London"
        membership_id = membership.id

    duplicate = post(
        client,
        f"/admin/users/{user_id}/memberships",
        {"role": "regional_member", "region": "london"},
    )
    assert duplicate.status_code == 200
    assert "already a regional member in London" in _text(
        page(duplicate).select_one(".govuk-error-summary")
    )

    url = f"/admin/users/{user_id}/memberships/{membership_id}/remove"
    assert "Remove the role Regional member, London?" in _text(page(client.get(url)).h1)
    assert post(client, url).status_code == 302
    assert [role for role, _ in _roles(app, "ann@example.org")] == ["council_editor"]


def test_a_membership_id_of_another_person_is_not_found(app, admin):
    _, client = admin
    ann = _person(app, "ann@example.org", Role.COUNCIL_EDITOR)
    _person(app, "bob@example.org", Role.COUNCIL_EDITOR)
    with app.app_context():
        bobs = db.session.scalar(
            select(Membership.id)
            .join(User, Membership.user_id == User.id)
            .where(User.email == "bob@example.org")
        )
    url = f"/admin/users/{ann}/memberships/{bobs}/remove"
    assert client.get(url).status_code == 404
    assert post(client, url).status_code == 404
    assert _roles(app, "bob@example.org") != []


def test_admin_cannot_remove_their_own_administrator_role(app, admin, page):
    person, client = admin
    with app.app_context():
        own = db.session.scalar(select(Membership.id).where(Membership.user_id == person.id))
    response = post(
        client, f"/admin/users/{person.id}/memberships/{own}/remove", follow_redirects=True
    )
    assert "You cannot remove your own national administrator role" in _text(page(response))
    assert client.get("/admin/").status_code == 200


def test_disabling_signs_the_person_out_and_enabling_lets_them_back(app, admin, page):
    _, client = admin
    editor = make_member(app, Role.COUNCIL_EDITOR)
    editor_client = signed_in_client(app, editor)
    assert editor_client.get("/account").status_code == 200

    confirm = page(client.get(f"/admin/users/{editor.id}/disable"))
    assert confirm.select_one(".govuk-warning-text")
    assert post(client, f"/admin/users/{editor.id}/disable").status_code == 302
    assert _user(app, editor.email).is_active is False
    assert editor_client.get("/account").status_code == 302  # signed out at once

    assert post(client, f"/admin/users/{editor.id}/enable").status_code == 302
    assert _user(app, editor.email).is_active is True
    assert signed_in_client(app, editor).get("/account").status_code == 200


def test_admin_cannot_disable_themselves(app, admin, page):
    person, client = admin
    soup = page(client.get(f"/admin/users/{person.id}/disable"))
    assert "You cannot disable your own account" in _text(soup)
    response = post(client, f"/admin/users/{person.id}/disable", follow_redirects=True)
    assert "You cannot disable your own account" in _text(page(response))
    assert _user(app, person.email).is_active is True


def test_ending_sessions_signs_the_person_out_everywhere(app, admin):
    _, client = admin
    editor = make_member(app, Role.COUNCIL_EDITOR)
    editor_client = signed_in_client(app, editor)
    assert post(client, f"/admin/users/{editor.id}/end-sessions").status_code == 302
    assert editor_client.get("/account").status_code == 302
    assert _user(app, editor.email).is_active is True


def test_resending_an_invitation_sends_a_new_link_and_the_old_one_stops_working(app, admin, page):
    _, client = admin
    post(
        client,
        "/admin/users/new",
        {"email": "inv@example.org", "display_name": "Inv", "role": "national_admin"},
    )
    user_id = _user(app, "inv@example.org").id
    first = path_of(link_in(sent_mail(app, "inv@example.org")[-1]))

    assert post(client, f"/admin/users/{user_id}/resend-invitation").status_code == 302
    second = path_of(link_in(sent_mail(app, "inv@example.org")[-1]))
    assert first != second
    visitor = https_client(app)
    assert visitor.get(first).status_code == 404
    assert visitor.get(second).status_code == 200

    # someone who has joined gets no invitation
    editor = make_member(app, Role.COUNCIL_EDITOR)
    response = post(client, f"/admin/users/{editor.id}/resend-invitation", follow_redirects=True)
    assert "has already joined" in _text(page(response))


def test_resetting_an_authenticator_app(app, admin, page):
    _, client = admin
    approver = make_member(app, Role.COUNCIL_APPROVER)
    assert post(client, f"/admin/users/{approver.id}/reset-authenticator").status_code == 302
    with app.app_context():
        user = db.session.get(User, approver.id)
        assert (user.totp_secret, user.totp_confirmed_at) == (None, None)


def test_audit_page_shows_changes_newest_first_and_filters(app, admin, page):
    _, client = admin
    user_id = _person(app, "ann@example.org")
    post(
        client,
        f"/admin/users/{user_id}/memberships",
        {"role": "council_viewer", "council": "E06000052"},
    )
    post(client, f"/admin/users/{user_id}/disable")

    soup = page(client.get("/admin/audit"))
    rows = soup.select("main table tbody tr")
    actions = [_text(row.th).split(" ")[0] for row in rows]
    assert actions[:2] == ["user.disable", "membership.create"]
    disable = _text(rows[0])
    assert "Ada Admin" in disable
    assert "Active: was yes → , now no" in disable
    assert "Disabled at: was none → , now " in disable
    created = _text(rows[1])
    assert "Cornwall" in created and "Role: Council viewer" in created

    filtered = page(client.get("/admin/audit?action=membership.create&council=E06000052"))
    assert [_text(r.th).split(" ")[0] for r in filtered.select("main table tbody tr")] == [
        "membership.create"
    ]
    assert client.get("/admin/audit?date_from=31&date_from=2&date_from=2026").status_code == 200
    assert client.get("/admin/audit?date_from=1").status_code == 200
