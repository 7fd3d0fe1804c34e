"""Sign-in, second factor, sign-out, forgotten passwords and invitations, through the pages."""

from __future__ import annotations

import json
import logging

import pyotp
import pytest
from sqlalchemy import select

from tests.factories import make_user
from tests.helpers import (
    HTTPS,
    csrf_token,
    latest_mail,
    link_in,
    path_of,
    post_form,
    sent_mail,
    sign_in,
    sign_out,
)
from tracker.extensions import db
from tracker.models import Council, Role, User

NEW_PASSWORD = "lantern orchard pebble 42"


def _errors(soup) -> list[str]:
    summary = soup.find(class_="govuk-error-summary")
    return [a.get_text(strip=True) for a in summary.find_all("a")] if summary else []


def _main_text(soup) -> str:
    return " ".join(soup.find("main").get_text(" ", strip=True).split())


# -- the sign-in page ---------------------------------------------------------------------------- -


def test_sign_in_page_explains_the_timeouts_and_offers_a_reset(client, page):
    soup = page(client.get("/auth/sign-in"))
    assert soup.title.get_text(strip=True) == "Sign in – Roadmap Tracker"
    assert soup.find("h1").get_text(strip=True) == "Sign in"
    assert "do nothing for 30 minutes" in _main_text(soup)
    assert soup.find("a", string="I have forgotten my password")["href"] == "/auth/forgot-password"
    email = soup.find("input", attrs={"name": "email"})
    assert email["autocomplete"] == "email" and email["type"] == "email"
    password = soup.find("input", attrs={"name": "password"})
    assert password["autocomplete"] == "current-password"
    # Paste is allowed: nothing on the page blocks it.
    assert "onpaste" not in str(soup)


def test_sign_in_with_a_password_goes_to_the_next_page(app, client):
    made = make_user(app)
    response = sign_in(client, made.email, made.password, next_path="/account")
    assert response.headers["Location"] == "/account"
    assert client.get("/account").status_code == 200
    with app.app_context():
        assert db.session.get(User, made.id).last_sign_in_at is not None


def test_sign_in_works_over_https_with_a_same_site_referer(app, client):
    made = make_user(app)
    sign_in(client, made.email, made.password, base_url=HTTPS)
    response = client.get("/account", base_url=HTTPS)
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_wrong_email_and_wrong_password_get_the_same_answer(app, client, page):
    made = make_user(app)
    answers = []
    for email, password in [(made.email, "not the password"), ("nobody@example.org", "x" * 12)]:
        response = post_form(client, "/auth/sign-in", {"email": email, "password": password})
        soup = page(response)
        answers.append((response.status_code, _errors(soup), soup.title.get_text(strip=True)))
    assert (
        answers[0]
        == answers[1]
        == (
            422,
            ["Enter a correct email address and password"],
            "Error: Sign in – Roadmap Tracker",
        )
    )


def test_a_disabled_account_gets_the_same_answer_as_a_wrong_password(app, client, page):
    made = make_user(app, active=False)
    response = post_form(client, "/auth/sign-in", {"email": made.email, "password": made.password})
    assert _errors(page(response)) == ["Enter a correct email address and password"]


def test_an_empty_form_asks_for_each_field(client, page):
    response = post_form(client, "/auth/sign-in", {"email": " ", "password": ""})
    assert response.status_code == 422
    assert _errors(page(response)) == ["Enter your email address", "Enter your password"]


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"email": "x" * 100_000, "password": "y" * 100_000},
        {"email": "zoë@exämple.org", "password": "pässwörd ünïcode"},
        {"email": "🙂@🙃.org", "password": "🙂" * 300},
        {"email": ["a@b.org", "c@d.org"], "password": ["one", "two"]},
        {"email": "a@b.org\r\nBcc: x@y.org", "password": "x\r\ny"},
    ],
)
def test_odd_input_is_answered_without_an_error_page(app, client, data):
    response = post_form(client, "/auth/sign-in", data)
    assert response.status_code == 422


def test_a_missing_or_wrong_csrf_token_is_400(client):
    assert (
        client.post("/auth/sign-in", data={"email": "a@b.org", "password": "x"}).status_code == 400
    )
    client.get("/auth/sign-in")
    response = client.post(
        "/auth/sign-in", data={"csrf_token": "forged", "email": "a@b.org", "password": "x"}
    )
    assert response.status_code == 400


def test_a_foreign_referer_over_https_is_400(client):
    page = client.get("/auth/sign-in", base_url=HTTPS)
    response = client.post(
        "/auth/sign-in",
        base_url=HTTPS,
        data={"csrf_token": csrf_token(page), "email": "a@b.org", "password": "x"},
        headers={"Referer": "https://evil.example/auth/sign-in"},
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("next_path", "landing"),
    [
        ("/account", "/account"),
        ("/roadmap/actions?timeframe=short", "/roadmap/actions?timeframe=short"),
        ("//evil.example/x", "/your-work"),
        ("/\\evil.example", "/your-work"),
        ("\\\\evil.example", "/your-work"),
        ("https://evil.example/", "/your-work"),
        ("javascript:alert(1)", "/your-work"),
        ("/%0d%0aSet-Cookie:x=y", "/%0d%0aSet-Cookie:x=y"),
        ("account", "/your-work"),
        ("", "/your-work"),
    ],
)
def test_next_only_leads_to_paths_on_this_site(app, client, next_path, landing):
    made = make_user(app)
    page = client.get("/auth/sign-in", query_string={"next": next_path})
    response = client.post(
        "/auth/sign-in",
        query_string={"next": next_path},
        data={"csrf_token": csrf_token(page), "email": made.email, "password": made.password},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == landing


def test_a_signed_in_person_visiting_sign_in_goes_on(app, client):
    made = make_user(app)
    sign_in(client, made.email, made.password)
    response = client.get("/auth/sign-in?next=/account")
    assert response.headers["Location"] == "/account"


def test_protected_pages_send_a_visitor_to_sign_in_and_back(app, client):
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/sign-in?next=/account"


# -- second factor ---------------------------------------------------------------------------------


def test_an_administrator_without_an_app_sets_one_up_before_anything_else(app, client, page):
    made = make_user(app, memberships=[(Role.NATIONAL_ADMIN, None)])
    response = post_form(
        client, "/auth/sign-in?next=/account", {"email": made.email, "password": made.password}
    )
    assert response.headers["Location"] == "/auth/two-factor/set-up?next=/account"
    # Nothing that needs a signed-in person until the app is set up.
    assert client.get("/account").headers["Location"].startswith("/auth/two-factor/set-up")

    soup = page(client.get("/auth/two-factor/set-up?next=/account"))
    assert soup.find("h1").get_text(strip=True) == "Set up an authenticator app"
    key = soup.find(id="secret-key").get_text(strip=True)
    groups = key.split()
    assert all(len(g) == 4 for g in groups) and len("".join(groups)) == 32
    qr = client.get(soup.find("img", class_="tracker-qr-code")["src"])
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    assert qr.headers["Cache-Control"] == "no-store"
    assert b"<svg" in qr.data

    wrong = post_form(client, "/auth/two-factor/set-up?next=/account", {"code": "000000"})
    if wrong.status_code == 302:  # the one time in a million 000000 is right
        return
    assert wrong.status_code == 422
    assert _errors(page(wrong)) == ["Enter a correct security code"]
    code = pyotp.TOTP("".join(groups)).now()
    done = post_form(client, "/auth/two-factor/set-up?next=/account", {"code": code})
    assert done.headers["Location"] == "/account"
    assert client.get("/account").status_code == 200
    with app.app_context():
        assert db.session.get(User, made.id).has_mfa


def test_an_approver_with_an_app_gives_a_code_at_every_sign_in(app, client, page):
    with app.app_context():
        council = db.session.scalar(select(Council).where(Council.gss_code == "E06000001"))
    made = make_user(app, memberships=[(Role.COUNCIL_APPROVER, council)], mfa=True)
    response = post_form(client, "/auth/sign-in", {"email": made.email, "password": made.password})
    assert response.headers["Location"] == "/auth/two-factor"
    assert client.get("/account").status_code == 302
    assert client.get("/auth/two-factor/qr.svg").status_code == 404
    bad = post_form(client, "/auth/two-factor", {"code": "12345x"})
    assert _errors(page(bad)) == ["Enter a correct security code"]
    assert bad.status_code == 422
    good = post_form(client, "/auth/two-factor", {"code": made.totp_code()})
    assert good.headers["Location"] == "/your-work"
    assert client.get("/account").status_code == 200


def test_a_used_code_cannot_sign_in_again(app, client):
    made = make_user(app, memberships=[(Role.NATIONAL_ADMIN, None)], mfa=True)
    code = made.totp_code()
    post_form(client, "/auth/sign-in", {"email": made.email, "password": made.password})
    assert post_form(client, "/auth/two-factor", {"code": code}).status_code == 302
    other = app.test_client()
    post_form(other, "/auth/sign-in", {"email": made.email, "password": made.password})
    assert post_form(other, "/auth/two-factor", {"code": code}).status_code == 422


def test_someone_with_an_app_but_no_mfa_role_still_gives_a_code(app, client):
    made = make_user(app, mfa=True)
    response = post_form(client, "/auth/sign-in", {"email": made.email, "password": made.password})
    assert response.headers["Location"] == "/auth/two-factor"


def test_second_factor_pages_send_others_to_sign_in(client):
    for path in ("/auth/two-factor", "/auth/two-factor/set-up"):
        assert client.get(path).headers["Location"] == "/auth/sign-in"
    assert client.get("/auth/two-factor/qr.svg").status_code == 404


def test_the_qr_code_is_not_served_once_the_app_is_set_up(app, client):
    made = make_user(app, memberships=[(Role.NATIONAL_ADMIN, None)], mfa=True)
    sign_in(client, made.email, made.password, made.totp_secret)
    assert client.get("/auth/two-factor/qr.svg").status_code == 404


# -- sign out --------------------------------------------------------------------------------------


def test_sign_out_is_a_post_that_clears_the_site_data(app, client, page):
    made = make_user(app)
    sign_in(client, made.email, made.password)
    assert client.get("/auth/sign-out").status_code == 405
    response = sign_out(client)
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/signed-out"
    assert response.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert "__Host-session=;" in response.headers["Set-Cookie"]
    soup = page(client.get("/auth/signed-out"))
    assert soup.find("h1").get_text(strip=True) == "You have signed out"
    assert client.get("/account").status_code == 302


def test_the_header_shows_sign_in_or_the_persons_name_and_sign_out(app, client, page):
    made = make_user(app, display_name="Amara Okafor")
    nav = page(client.get("/roadmap/")).find(class_="govuk-service-navigation")
    assert "Sign in" in nav.get_text()
    sign_in(client, made.email, made.password)
    nav = page(client.get("/roadmap/")).find(class_="govuk-service-navigation")
    assert nav.find("a", href="/account").get_text(" ", strip=True) == "Your account: Amara Okafor"
    form = nav.find("form")
    assert form["action"] == "/auth/sign-out" and form["method"] == "post"
    assert form.find("button").get_text(strip=True) == "Sign out"


# -- forgotten password ----------------------------------------------------------------------------


def test_forgot_password_answers_the_same_for_known_and_unknown_addresses(app, client, page):
    made = make_user(app)
    answers = []
    for email in (made.email, "nobody@example.org"):
        response = post_form(client, "/auth/forgot-password", {"email": email})
        answers.append((response.status_code, response.headers["Location"]))
        follow = client.get(response.headers["Location"])
        answers.append(_main_text(page(follow)))
    assert answers[0:2] == answers[2:4]
    assert answers[0] == (303, "/auth/forgot-password/check-your-email")
    assert len([m for m in sent_mail(app) if "Reset" in m["Subject"]]) == 1


def test_a_reset_link_from_the_mail_sets_a_new_password_and_signs_out_everywhere(app, client, page):
    made = make_user(app)
    other_device = app.test_client()
    sign_in(other_device, made.email, made.password)
    post_form(client, "/auth/forgot-password", {"email": made.email})
    path = path_of(link_in(latest_mail(app, made.email)))
    soup = page(client.get(path))
    assert soup.find("h1").get_text(strip=True) == "Choose a new password"

    weak = post_form(client, path, {"password": "password1"})
    assert weak.status_code == 422
    assert _errors(page(weak)) == ["Choose a password that is harder to guess"]
    done = post_form(client, path, {"password": NEW_PASSWORD})
    assert done.headers["Location"] == "/auth/sign-in"
    assert other_device.get("/account").status_code == 302
    assert page(client.get(path)).find("h1").get_text(strip=True) == (
        "This link has expired or has already been used"
    )
    sign_in(client, made.email, NEW_PASSWORD)


def test_an_unknown_reset_or_invitation_link_says_it_has_expired(client, page):
    for path in ("/auth/reset-password/nonsense", "/auth/invitation/" + "x" * 3000):
        response = client.get(path)
        assert response.status_code == 404
        assert "expired or has already been used" in page(response).find("h1").get_text()


# -- invitations -----------------------------------------------------------------------------------


def _invite(app, email="new.person@example.org", memberships=()):
    from tracker.accounts import services
    from tracker.admin.services import add_membership

    with app.app_context():
        user = services.create_user(email, "New Person", actor=None)
        for role, council in memberships:
            add_membership(user, role, council=council, actor=None)
        services.invite_user(user, actor=None)
        db.session.commit()
    return path_of(link_in(latest_mail(app, email)))


def test_accepting_an_invitation_signs_the_person_in(app, client, page):
    path = _invite(app)
    soup = page(client.get(path))
    assert soup.find("h1").get_text(strip=True) == "Create your account"
    assert soup.find("input", attrs={"name": "display_name"})["value"] == "New Person"
    assert "new.person@example.org" in _main_text(soup)

    short = post_form(client, path, {"display_name": "", "password": "abc"})
    assert _errors(page(short)) == ["Enter your name", "Password must be 8 characters or more"]
    context = post_form(client, path, {"display_name": "Nia Person", "password": "nia person 2025"})
    assert _errors(page(context)) == ["Choose a password that is harder to guess"]

    done = post_form(client, path, {"display_name": "Nia Person", "password": NEW_PASSWORD})
    assert done.status_code == 302
    account = page(client.get("/account"))
    assert "Nia Person" in _main_text(account)
    assert client.get(path).status_code == 404


def test_an_invitation_refuses_a_name_with_a_line_break(app, client, page):
    path = _invite(app)

    response = post_form(
        client,
        path,
        {"display_name": "Nia\r\nBcc: everyone@example.org", "password": NEW_PASSWORD},
    )

    assert response.status_code == 422
    soup = page(response)
    assert soup.title.string.strip().startswith("Error: ")
    assert _errors(soup) == ["Name must not contain line breaks or control characters"]
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "new.person@example.org"))
        assert user.display_name == "New Person"
        assert user.password_hash is None
    assert client.get(path).status_code == 200  # the link still works


def test_an_invited_approver_goes_on_to_set_up_an_app(app, client):
    with app.app_context():
        council = db.session.scalar(select(Council).where(Council.gss_code == "E06000001"))
    path = _invite(app, memberships=[(Role.COUNCIL_APPROVER, council)])
    done = post_form(client, path, {"display_name": "Nia", "password": NEW_PASSWORD})
    assert done.headers["Location"] == "/auth/two-factor/set-up"
    assert client.get("/account").status_code == 302


# -- the account pages -----------------------------------------------------------------------------


def test_the_account_page_lists_name_email_and_roles(app, client, page):
    with app.app_context():
        council = db.session.scalar(select(Council).where(Council.gss_code == "E06000001"))
        council_name = council.name
    made = make_user(
        app,
        display_name="Amara Okafor",
        memberships=[(Role.COUNCIL_EDITOR, council), (Role.COUNCIL_VIEWER, council)],
    )
    sign_in(client, made.email, made.password)
    response = client.get("/account")
    assert response.headers["Cache-Control"] == "no-store"
    soup = page(response)
    assert soup.title.get_text(strip=True) == "Your account – Roadmap Tracker"
    rows = [
        [td.get_text(strip=True) for td in tr.find_all("td")][:2]
        for tr in soup.find("table").find("tbody").find_all("tr")
    ]
    assert sorted(rows) == [["Council editor", council_name], ["Council viewer", council_name]]
    assert made.email in _main_text(soup)


def test_changing_the_password_keeps_this_session_and_ends_the_others(app, client, page):
    made = make_user(app)
    other = app.test_client()
    sign_in(client, made.email, made.password)
    sign_in(other, made.email, made.password)

    wrong = post_form(
        client,
        "/account/password",
        {"current_password": "not it at all", "new_password": NEW_PASSWORD},
    )
    assert wrong.status_code == 422
    assert _errors(page(wrong)) == ["Your current password is not correct"]
    assert page(wrong).title.get_text(strip=True).startswith("Error: Change your password")

    both = post_form(
        client, "/account/password", {"current_password": "not it at all", "new_password": "abc"}
    )
    assert _errors(page(both)) == [
        "Your current password is not correct",
        "Password must be 8 characters or more",
    ]
    done = post_form(
        client,
        "/account/password",
        {"current_password": made.password, "new_password": NEW_PASSWORD},
    )
    assert done.headers["Location"] == "/account"
    assert client.get("/account").status_code == 200
    assert other.get("/account").status_code == 302


# -- the security log ------------------------------------------------------------------------------


def test_security_events_are_json_lines_without_secrets(app, client, caplog):
    made = make_user(app, memberships=[(Role.NATIONAL_ADMIN, None)], mfa=True)
    caplog.set_level(logging.INFO, logger="tracker.security")
    post_form(client, "/auth/sign-in", {"email": made.email, "password": "wrong password!"})
    post_form(client, "/auth/sign-in", {"email": made.email, "password": made.password})
    post_form(client, "/auth/two-factor", {"code": "99999x"})
    code = made.totp_code()
    post_form(client, "/auth/two-factor", {"code": code})
    post_form(client, "/auth/forgot-password", {"email": made.email})
    token_path = path_of(link_in(latest_mail(app, made.email)))
    post_form(client, token_path, {"password": NEW_PASSWORD})
    sign_out(client)

    lines = [r.getMessage() for r in caplog.records if r.name == "tracker.security"]
    events = [json.loads(line) for line in lines]
    assert [e["event"] for e in events] == [
        "sign_in.failure",
        "sign_in.password_ok",
        "mfa.failure",
        "sign_in.success",
        "password_reset.requested",
        "password_reset.used",
    ]
    for event in events:
        assert {"time", "event", "request_id", "user_id", "ip"} <= event.keys()
        assert event["time"].endswith("Z")
    assert events[1]["user_id"] == made.id
    text = "\n".join(lines)
    for secret in (made.password, NEW_PASSWORD, code, made.totp_secret, token_path, made.email):
        assert secret not in text
    cookie = client.get_cookie("__Host-session")
    assert cookie is None or cookie.value not in text


# -- fuzzing ------------------------------------------------------------------------------------

FORM_FIELDS = {
    "/auth/sign-in": ["email", "password"],
    "/auth/forgot-password": ["email"],
    "/auth/two-factor": ["code"],
    "/auth/two-factor/set-up": ["code"],
}


def test_random_input_to_every_form_never_gets_a_server_error(app):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=300)
    made = make_user(app, memberships=[(Role.NATIONAL_ADMIN, None)], mfa=True)
    new_admin = make_user(app, memberships=[(Role.NATIONAL_ADMIN, None)])
    plain = make_user(app)
    app.config.update(
        THROTTLE_ACCOUNT_LIMIT=10_000, THROTTLE_IP_LIMIT=10_000, RESET_IP_LIMIT=10_000
    )
    with app.app_context():
        from tracker.accounts import services

        user = services.create_user("fuzz@example.org", "Fuzz", actor=None)
        token = services.invite_user(user, actor=None)
        db.session.commit()

    @settings(
        max_examples=40,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        path=st.sampled_from([*FORM_FIELDS, "/auth/invitation", "/account/password"]),
        values=st.lists(text, min_size=3, max_size=3),
    )
    def check(path, values):
        client = app.test_client()
        if path.startswith("/auth/two-factor"):
            who = new_admin if path.endswith("set-up") else made
            post_form(client, "/auth/sign-in", {"email": who.email, "password": who.password})
        if path == "/account/password":
            sign_in(client, plain.email, plain.password)
        if path == "/auth/invitation":
            path = f"/auth/invitation/{token}"
            fields = ["display_name", "password"]
            if client.get(path).status_code == 404:
                return  # an earlier example chose an acceptable password and used the link
        elif path == "/account/password":
            fields = ["current_password", "new_password"]
        else:
            fields = FORM_FIELDS[path]
        response = post_form(client, path, dict(zip(fields, values, strict=False)))
        assert response.status_code < 500, (path, values)

    check()


def test_the_account_page_links_an_approver_to_their_team(app, client, page):
    with app.app_context():
        leeds = db.session.scalar(select(Council).where(Council.gss_code == "E08000035"))
        db.session.expunge(leeds)
    made = make_user(app, memberships=[(Role.COUNCIL_APPROVER, leeds)], mfa=True)
    sign_in(client, made.email, made.password, made.totp_secret)
    soup = page(client.get("/account"))
    links = [a for a in soup.find_all("a") if "Manage the team" in a.get_text()]
    assert len(links) == 1
    link = links[0]
    assert link.get_text(" ", strip=True) == "Manage the team of Leeds City Council"
    assert link["href"] == "/councils/E08000035/team/"
