"""Personal access tokens for the read API: made on one's own account, shown once, stored only as
a hash, and reading with the owner's memberships narrowed to the token's scope."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, inspect, select

from tests.access_matrix import (
    council,
    csrf_token,
    make_member,
    make_person,
    post,
    signed_in_client,
)
from tests.factories import get_user, make_user
from tracker.accounts import services as accounts
from tracker.accounts import tokens
from tracker.accounts.tokens import TokenRefused, TokenState
from tracker.admin import services as admin
from tracker.clock import utcnow
from tracker.domain.principal import load_principal
from tracker.extensions import db
from tracker.models import ApiToken, AuditEvent, Membership, Region, Role

LEEDS, WAKEFIELD, CORNWALL = "E08000035", "E08000036", "E06000052"
YORKSHIRE = "yorkshire-and-the-humber"
START = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


def _text(element) -> str:
    return " ".join(element.get_text(" ", strip=True).split())


def _region(slug: str) -> Region:
    found = db.session.scalar(select(Region).where(Region.slug == slug))
    assert found is not None, slug
    return found


def _make(user_id: int, scope: str, name: str = "Power BI", days: int = 90) -> tuple[int, str]:
    """A token of the user's for ``scope``, committed: (its id, its secret)."""
    token, secret = tokens.create(
        load_principal(get_user(user_id)), name=name, scope=scope, expires_in_days=days
    )
    db.session.commit()
    return token.id, secret


def _token_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(ApiToken.id)))


def _audited(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))
        db.session.expunge_all()
        return events


@pytest.fixture
def editor(app):
    """An editor of Leeds, signed in."""
    person = make_member(app, Role.COUNCIL_EDITOR, display_name="Eddie Editor")
    return person, signed_in_client(app, person)


# -- the pages ------------------------------------------------------------------------------------


def test_a_new_token_is_shown_once_and_only_its_hash_is_stored(app, editor, page):
    person, client = editor
    form = page(client.get("/account/tokens/new"))
    assert _text(form.h1) == "Create an API token"
    offered = {
        radio["value"]: _text(form.find("label", attrs={"for": radio["id"]}))
        for radio in form.select("input[name=scope]")
    }
    assert offered == {f"council:{LEEDS}": "Leeds (as council editor)"}
    assert form.select_one("input[name=expires_in_days][checked]")["value"] == "90"

    response = post(
        client,
        "/account/tokens/new",
        {"name": "Board pack", "scope": f"council:{LEEDS}", "expires_in_days": "180"},
    )

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    shown = page(response)
    secret = _text(shown.select_one("#api-token"))
    assert tokens.TOKEN_PATTERN.fullmatch(secret), secret
    body = _text(shown.select_one("main"))
    assert "It will not be shown again" in body
    assert f'curl -H "Authorization: Bearer {secret}" http://127.0.0.1:5000/api/v1/councils' in (
        body
    )

    with app.app_context():
        row = db.session.scalar(select(ApiToken))
        assert row.user_id == person.id
        assert row.name == "Board pack"
        assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert row.prefix == secret[:10]
        assert row.prefix.startswith("rt_")
        assert (row.scope_kind, row.council_id, row.region_id) == (
            "council",
            council(LEEDS).id,
            None,
        )
        assert row.expires_at - row.created_at == timedelta(days=180)
        assert row.last_used_at is None and row.revoked_at is None
        # The secret is in no column of the row, nor anywhere in the audit trail.
        values = [str(getattr(row, c.key)) for c in inspect(ApiToken).columns]
        assert not [v for v in values if secret in v]
        trail = [
            json.dumps([e.action, e.object_id, e.before, e.after], default=str)
            for e in db.session.scalars(select(AuditEvent))
        ]
        assert trail and not [t for t in trail if secret in t or row.token_hash in t]
        created = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "api_token.create")
        )
        assert created.actor_id == person.id
        assert created.object_type == "api_token"
        assert created.object_id == str(row.id)
        assert created.council_id == council(LEEDS).id
        assert created.after == {
            "name": "Board pack",
            "scope": f"council:{LEEDS}",
            "expires_at": row.expires_at.isoformat(),
        }

    # The list shows the token by its name and first characters, never the secret again.
    listing = client.get("/account/tokens")
    assert listing.status_code == 200
    assert secret not in listing.get_data(as_text=True)
    cells = [_text(c) for c in page(listing).select("tbody tr")[0].select("th, td")]
    assert cells[0] == "Board pack"
    assert cells[1] == "Leeds"
    assert cells[2] == secret[:10]
    assert cells[5] == "Never"
    assert cells[6] == "Active"
    assert cells[7] == "Revoke Board pack"


def test_the_account_page_links_to_the_tokens(editor, page):
    _person, client = editor
    links = [a["href"] for a in page(client.get("/account")).select("main a")]
    assert "/account/tokens" in links


def test_a_scope_not_offered_is_refused_and_nothing_is_saved(app, editor, page):
    _person, client = editor
    response = post(
        client,
        "/account/tokens/new",
        {"name": "Sneaky", "scope": f"council:{CORNWALL}", "expires_in_days": "90"},
    )
    assert response.status_code == 422
    summary = page(response).select_one(".govuk-error-summary")
    assert "Select what the token can read" in _text(summary)
    assert _token_count(app) == 0
    assert _audited(app, "api_token.create") == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "expires_in_days": "90"}, "Enter a name for the token"),
        ({"name": "x" * 81, "expires_in_days": "90"}, "Name must be 80 characters or fewer"),
        ({"name": "Line\nbreak", "expires_in_days": "90"}, "Name must not contain line breaks"),
        ({"name": "Forever", "expires_in_days": "3650"}, "Select when the token expires"),
        ({"name": "Forever", "expires_in_days": ""}, "Select when the token expires"),
    ],
)
def test_bad_input_gets_422_with_its_error_and_saves_nothing(app, editor, page, data, message):
    _person, client = editor
    response = post(client, "/account/tokens/new", {"scope": f"council:{LEEDS}", **data})
    assert response.status_code == 422
    assert message in _text(page(response).select_one(".govuk-error-summary"))
    assert _token_count(app) == 0


def test_someone_with_no_role_is_told_so_and_offered_no_form(app, page):
    person = make_user(app, email="nobody@example.org")
    client = signed_in_client(app, person)
    shown = page(client.get("/account/tokens/new"))
    assert "You do not hold a role that a token could read with" in _text(shown.select_one("main"))
    assert shown.select("input[name=scope]") == []
    response = post(client, "/account/tokens/new", {"name": "x", "expires_in_days": "90"})
    assert response.status_code == 422
    assert _token_count(app) == 0


def test_making_a_token_needs_a_recent_sign_in(app, client):
    from tests.helpers import sign_in

    person = make_member(app, Role.COUNCIL_EDITOR)
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client, person.email, person.password)
        assert client.get("/account/tokens/new").status_code == 200
        clock.shift(timedelta(minutes=16))
        response = client.get("/account/tokens/new")
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/auth/confirm-identity?next=")
        # Listing them does not.
        assert client.get("/account/tokens").status_code == 200


def test_revoking_asks_first_then_stops_the_token(app, editor, page):
    person, client = editor
    with app.app_context():
        token_id, secret = _make(person.id, f"council:{LEEDS}", name="Old laptop")
    confirm = client.get(f"/account/tokens/{token_id}/revoke")
    assert confirm.status_code == 200
    assert _text(page(confirm).h1) == "Revoke “Old laptop”?"
    with app.app_context():
        assert tokens.authenticate(secret) is not None  # asking changed nothing
        db.session.commit()

    response = post(client, f"/account/tokens/{token_id}/revoke")

    assert response.status_code == 303
    assert response.headers["Location"] == "/account/tokens"
    listing = page(client.get("/account/tokens"))
    assert "“Old laptop” is revoked" in _text(listing.select_one(".govuk-notification-banner"))
    cells = [_text(c) for c in listing.select("tbody tr")[0].select("th, td")]
    assert cells[6] == "Revoked"
    assert cells[7] == ""  # nothing left to revoke
    with app.app_context():
        assert tokens.authenticate(secret) is None
    # Posting again changes nothing and writes nothing more.
    assert post(client, f"/account/tokens/{token_id}/revoke").status_code == 303
    (revoked,) = _audited(app, "api_token.revoke")
    assert revoked.actor_id == person.id
    assert revoked.object_id == str(token_id)
    assert revoked.before["revoked_at"] is None
    assert revoked.after["revoked_at"] is not None
    assert revoked.after["name"] == "Old laptop"


def test_someone_elses_token_is_not_found(app, editor):
    _person, client = editor
    other = make_member(app, Role.COUNCIL_EDITOR, email="other@example.org")
    with app.app_context():
        token_id, secret = _make(other.id, f"council:{LEEDS}", name="Other's feed")
    assert client.get(f"/account/tokens/{token_id}/revoke").status_code == 404
    assert post(client, f"/account/tokens/{token_id}/revoke").status_code == 404
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert "You have no API tokens" in listing
    assert "feed" not in listing
    with app.app_context():
        assert tokens.authenticate(secret) is not None
    assert _audited(app, "api_token.revoke") == []


def test_the_list_says_when_a_token_has_expired_and_when_it_was_used(app, editor, page):
    person, client = editor
    with time_machine.travel(START, tick=False) as clock:
        with app.app_context():
            _make(person.id, f"council:{LEEDS}", name="Short", days=30)
            _id, secret = _make(person.id, f"council:{LEEDS}", name="Long", days=365)
            clock.shift(timedelta(days=31))
            assert tokens.authenticate(secret) is not None
            db.session.commit()
        client = signed_in_client(app, person)
        rows = page(client.get("/account/tokens")).select("tbody tr")
    by_name = {_text(r.th): [_text(c) for c in r.select("td")] for r in rows}
    # Reads, starts with, created, expires, last used, state, action (UK time: GMT in winter)
    assert by_name["Short"][3:] == ["10 February 2027 at 09:00", "Never", "Expired", ""]
    assert by_name["Long"][4:6] == ["11 February 2027 at 09:00", "Active"]
    assert [_text(r.th) for r in rows] == ["Long", "Short"]  # newest first


# -- the services -------------------------------------------------------------------------------


def test_authenticate_accepts_the_secret_and_refuses_anything_else(app):
    person = make_member(app, Role.COUNCIL_EDITOR)
    with app.app_context():
        token_id, secret = _make(person.id, f"council:{LEEDS}")
        found = tokens.authenticate(secret)
        assert found is not None and found.id == token_id
        other = "rt_" + ("A" if secret[3] != "A" else "B") + secret[4:]
        for wrong in [
            other,
            secret + "x",
            secret[:-1],
            "Bearer " + secret,
            secret[3:],
            "",
            "rt_",
            "rt_" + "!" * 43,
            None,
        ]:
            assert tokens.authenticate(wrong) is None, wrong


def test_a_revoked_token_is_refused(app):
    person = make_member(app, Role.COUNCIL_EDITOR)
    with app.app_context():
        token_id, secret = _make(person.id, f"council:{LEEDS}")
        tokens.revoke(db.session.get(ApiToken, token_id), get_user(person.id))
        db.session.commit()
        assert tokens.authenticate(secret) is None


def test_a_token_works_until_it_expires(app):
    person = make_member(app, Role.COUNCIL_EDITOR)
    with time_machine.travel(START, tick=False) as clock, app.app_context():
        _id, secret = _make(person.id, f"council:{LEEDS}", days=30)
        clock.shift(timedelta(days=30) - timedelta(seconds=1))
        assert tokens.authenticate(secret) is not None
        clock.shift(timedelta(seconds=1))
        assert tokens.authenticate(secret) is None


def test_a_disabled_owner_or_one_without_a_password_is_refused(app):
    disabled = make_member(app, Role.COUNCIL_EDITOR, email="disabled@example.org")
    anonymised = make_member(app, Role.COUNCIL_EDITOR, email="gone@example.org")
    with app.app_context():
        _id, disabled_secret = _make(disabled.id, f"council:{LEEDS}")
        _id, gone_secret = _make(anonymised.id, f"council:{LEEDS}")
        # authenticate's own defence, whatever else revokes: an inactive owner, no password.
        get_user(disabled.id).is_active = False
        get_user(anonymised.id).password_hash = None
        db.session.commit()
        assert tokens.authenticate(disabled_secret) is None
        assert tokens.authenticate(gone_secret) is None
        assert db.session.scalar(select(func.count()).where(ApiToken.revoked_at.is_(None))) == 2


def test_disabling_an_account_on_any_path_revokes_its_tokens(app):
    """As the retention job does it (no actor): enabling the account later brings none back."""
    person = make_member(app, Role.COUNCIL_EDITOR, email="idle@example.org")
    with app.app_context():
        _id, secret = _make(person.id, f"council:{LEEDS}")
        accounts.disable_user(get_user(person.id), actor=None)
        db.session.commit()
        assert db.session.scalar(select(func.count()).where(ApiToken.revoked_at.is_(None))) == 0
        get_user(person.id).is_active = True
        db.session.commit()
        assert tokens.authenticate(secret) is None


def test_last_used_is_written_at_most_once_a_minute(app):
    person = make_member(app, Role.COUNCIL_EDITOR)
    with time_machine.travel(START, tick=False) as clock, app.app_context():
        token_id, secret = _make(person.id, f"council:{LEEDS}")

        def last_used() -> datetime | None:
            db.session.commit()
            db.session.expire_all()
            return db.session.get(ApiToken, token_id).last_used_at

        first = START.replace(tzinfo=None) + timedelta(seconds=5)
        clock.shift(timedelta(seconds=5))
        tokens.authenticate(secret)
        assert last_used() == first
        clock.shift(timedelta(seconds=59))
        tokens.authenticate(secret)
        assert last_used() == first
        clock.shift(timedelta(seconds=1))
        tokens.authenticate(secret)
        assert last_used() == first + timedelta(minutes=1)


def test_scope_choices_are_the_roles_one_holds(app):
    both = make_user(app)
    with app.app_context():
        user = get_user(both.id)
        admin.add_membership(user, Role.COUNCIL_EDITOR, council=council(LEEDS), actor=None)
        admin.add_membership(user, Role.COUNCIL_VIEWER, council=council(LEEDS), actor=None)
        admin.add_membership(user, Role.PANEL_MEMBER, council=council(WAKEFIELD), actor=None)
        admin.add_membership(user, Role.REGIONAL_MEMBER, region=_region(YORKSHIRE), actor=None)
        db.session.commit()
        assert tokens.scope_choices(load_principal(user)) == [
            (f"council:{LEEDS}", "Leeds (as council editor and council viewer)"),
            (f"council:{WAKEFIELD}", "Wakefield (as co-production panel member)"),
            (f"region:{YORKSHIRE}", "Yorkshire and the Humber region"),
        ]
        nobody = make_person("nobody@example.org")
        assert tokens.scope_choices(load_principal(nobody)) == []


def test_a_national_administrator_may_choose_england_or_any_region(app):
    person = make_member(app, Role.NATIONAL_ADMIN)
    with app.app_context():
        choices = tokens.scope_choices(load_principal(get_user(person.id)))
        regions = db.session.scalars(select(Region).order_by(Region.name)).all()
        assert len(regions) == 9
        assert choices == [
            *[(f"region:{r.slug}", f"{r.name} region") for r in regions],
            ("national", "England (national administrator)"),
        ]


def test_a_token_reads_only_the_council_it_was_made_for(app):
    person = make_user(app)
    with app.app_context():
        user = get_user(person.id)
        admin.add_membership(user, Role.COUNCIL_EDITOR, council=council(LEEDS), actor=None)
        admin.add_membership(user, Role.COUNCIL_VIEWER, council=council(WAKEFIELD), actor=None)
        db.session.commit()
        token_id, _secret = _make(person.id, f"council:{LEEDS}")

        narrowed = tokens.principal_for(db.session.get(ApiToken, token_id))

        assert narrowed.user.id == person.id
        assert [(m.role_enum, m.council_id) for m in narrowed.memberships] == [
            (Role.COUNCIL_EDITOR, council(LEEDS).id)
        ]
        assert narrowed.may_access_council(council(LEEDS), [Role.COUNCIL_EDITOR])
        everyone = list(Role)
        assert not narrowed.may_access_council(council(WAKEFIELD), everyone)
        # The owner, signed in, still holds both.
        assert len(load_principal(user).memberships) == 2


def test_a_regional_members_token_reads_their_region(app):
    person = make_member(app, Role.REGIONAL_MEMBER)
    with app.app_context():
        token_id, _secret = _make(person.id, f"region:{YORKSHIRE}")
        narrowed = tokens.principal_for(db.session.get(ApiToken, token_id))
        assert [(m.role_enum, m.region_id) for m in narrowed.memberships] == [
            (Role.REGIONAL_MEMBER, _region(YORKSHIRE).id)
        ]
        assert narrowed.may_access_council(council(WAKEFIELD), [Role.REGIONAL_MEMBER])
        assert not narrowed.may_access_council(council(CORNWALL), list(Role))


def test_a_national_administrators_region_token_reads_as_that_regions_member(app):
    person = make_member(app, Role.NATIONAL_ADMIN)
    with app.app_context():
        token_id, _secret = _make(person.id, f"region:{YORKSHIRE}")

        narrowed = tokens.principal_for(db.session.get(ApiToken, token_id))

        (made_up,) = narrowed.memberships
        assert made_up.role_enum is Role.REGIONAL_MEMBER
        assert made_up.region_id == _region(YORKSHIRE).id
        assert made_up.user_id == person.id
        assert not narrowed.is_national_admin
        assert narrowed.region_ids() == {_region(YORKSHIRE).id}
        assert not narrowed.may_access_council(council(CORNWALL), list(Role))
        assert inspect(made_up).transient
        assert made_up not in db.session
        db.session.commit()
        held = db.session.scalars(select(Membership.role).where(Membership.user_id == person.id))
        assert list(held) == ["national_admin"]


def test_a_national_token_reads_as_national_administrator_only(app):
    person = make_member(app, Role.NATIONAL_ADMIN)
    with app.app_context():
        user = get_user(person.id)
        admin.add_membership(user, Role.COUNCIL_EDITOR, council=council(LEEDS), actor=None)
        db.session.commit()
        token_id, _secret = _make(person.id, "national")
        narrowed = tokens.principal_for(db.session.get(ApiToken, token_id))
        assert narrowed.roles == {Role.NATIONAL_ADMIN}


def test_a_role_lost_since_leaves_the_token_reading_nothing_private(app):
    person = make_member(app, Role.COUNCIL_EDITOR)
    with app.app_context():
        token_id, secret = _make(person.id, f"council:{LEEDS}")
        (membership,) = get_user(person.id).memberships
        admin.remove_membership(membership, actor=None)
        db.session.commit()
        token = tokens.authenticate(secret)
        assert token is not None and token.id == token_id
        assert tokens.principal_for(token).memberships == []


def test_create_refuses_what_it_does_not_offer(app):
    person = make_member(app, Role.COUNCIL_EDITOR)
    with app.app_context():
        principal = load_principal(get_user(person.id))
        cases = [
            ({"scope": f"council:{WAKEFIELD}"}, "scope", "Select what the token can read"),
            ({"scope": "national"}, "scope", "Select what the token can read"),
            ({"scope": f"region:{YORKSHIRE}"}, "scope", "Select what the token can read"),
            ({"expires_in_days": 366}, "expires_in_days", "Select when the token expires"),
            ({"name": "   "}, "name", "Enter a name for the token"),
            ({"name": "x" * 81}, "name", "Name must be 80 characters or fewer"),
        ]
        for change, field, message in cases:
            arguments = {"name": "Tok", "scope": f"council:{LEEDS}", "expires_in_days": 90}
            with pytest.raises(TokenRefused, match=message) as refused:
                tokens.create(principal, **{**arguments, **change})
            assert refused.value.field == field
        assert db.session.scalar(select(func.count(ApiToken.id))) == 0
        # The name is stored trimmed, and 80 characters are allowed.
        token, _secret = tokens.create(
            principal, name=" " + "x" * 80 + " ", scope=f"council:{LEEDS}"
        )
        assert token.name == "x" * 80
        assert token.expires_at - token.created_at == timedelta(days=90)


def test_one_person_holds_at_most_twenty_live_tokens(app, editor, page):
    person, client = editor
    with app.app_context():
        ids = [_make(person.id, f"council:{LEEDS}", name=f"T{n}")[0] for n in range(20)]
        principal = load_principal(get_user(person.id))
        with pytest.raises(TokenRefused, match="You already have 20 active tokens"):
            tokens.create(principal, name="One more", scope=f"council:{LEEDS}")
    shown = page(client.get("/account/tokens/new"))
    assert "You already have 20 active tokens" in _text(shown.select_one("main"))
    assert shown.select("input[name=name]") == []
    assert post(client, "/account/tokens/new", {"name": "x"}).status_code == 422
    with app.app_context():
        tokens.revoke(db.session.get(ApiToken, ids[0]), get_user(person.id))
        db.session.commit()
        _make(person.id, f"council:{LEEDS}", name="Room again")
        assert len(tokens.list_for(get_user(person.id))) == 21


@pytest.mark.parametrize("change", ["disable", "end_sessions"])
def test_an_administrator_disabling_or_signing_out_someone_revokes_their_tokens(app, change):
    person = make_member(app, Role.COUNCIL_EDITOR)
    boss = make_member(app, Role.NATIONAL_ADMIN)
    with app.app_context():
        _id, leeds_secret = _make(person.id, f"council:{LEEDS}", name="One")
        _id, other_secret = _make(person.id, f"council:{LEEDS}", name="Two")
        user, actor = get_user(person.id), get_user(boss.id)
        if change == "disable":
            admin.disable_account(user, actor=actor)
            admin.enable_account(user, actor=actor)  # back again: the tokens stay revoked
        else:
            admin.end_all_sessions(user, actor=actor)
        db.session.commit()
        assert tokens.authenticate(leeds_secret) is None
        assert tokens.authenticate(other_secret) is None
        assert [t.state for t in tokens.list_for(user)] == [TokenState.REVOKED] * 2
    (event,) = _audited(app, "api_token.revoke_all")
    assert (event.actor_id, event.object_type, event.object_id) == (boss.id, "user", str(person.id))
    assert len(event.after["tokens_revoked"]) == 2


def test_revoking_all_of_nobodys_tokens_writes_nothing(app):
    person = make_member(app, Role.COUNCIL_EDITOR)
    with app.app_context():
        assert tokens.revoke_all_for(get_user(person.id), None) == 0
        db.session.commit()
    assert _audited(app, "api_token.revoke_all") == []


def test_a_token_made_now_is_live(app):
    person = make_member(app, Role.COUNCIL_EDITOR)
    with app.app_context():
        token_id, _secret = _make(person.id, f"council:{LEEDS}")
        token = db.session.get(ApiToken, token_id)
        assert tokens.state_of(token) is TokenState.ACTIVE
        assert tokens.state_of(token, utcnow() + timedelta(days=91)) is TokenState.EXPIRED


def test_sending_the_form_again_makes_no_second_token(app, editor, page):
    """A refresh of the page that showed the secret sends the same form again: it is told that
    its token was made, and no second token appears. A form drawn afresh makes another."""
    _person, client = editor
    data = {"name": "Board pack", "scope": f"council:{LEEDS}", "expires_in_days": "90"}
    token = csrf_token(client, "/account/tokens/new")
    first = client.post("/account/tokens/new", data={"csrf_token": token, **data})
    assert first.status_code == 200
    again = client.post("/account/tokens/new", data={"csrf_token": token, **data})
    assert again.status_code == 303 and again.headers["Location"].endswith("/account/tokens")
    listed = page(client.get("/account/tokens"))
    assert "was made when you first sent the form" in _text(listed.select_one("main"))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 1
    time.sleep(1.1)  # a form drawn a second later carries another CSRF token
    fresh = post(client, "/account/tokens/new", {**data, "name": "Another"})
    assert fresh.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 2
