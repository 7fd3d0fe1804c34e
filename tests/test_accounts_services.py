"""Account services: people, invitations, resets, password changes, TOTP, and their audit."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import time_machine
from sqlalchemy import func, select

from tests.factories import DEFAULT_PASSWORD, make_user
from tests.helpers import latest_mail, link_in, mail_body, path_of, sent_mail
from tracker.accounts import services
from tracker.accounts.passwords import PasswordRejected
from tracker.extensions import db
from tracker.models import AuditEvent, Council, Invitation, PasswordReset, Role, User

NEW_PASSWORD = "lantern orchard pebble 42"


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _token_from_latest_mail(app, to: str) -> str:
    return path_of(link_in(latest_mail(app, to))).rsplit("/", 1)[-1]


# -- create and invite -----------------------------------------------------------------------------


def test_create_user_normalises_the_email_and_audits(app):
    with app.app_context():
        user = services.create_user("  Jo.Bloggs@Example.ORG ", " Jo Bloggs ", actor=None)
        db.session.commit()
        assert user.email == "jo.bloggs@example.org"
        assert user.display_name == "Jo Bloggs"
        assert user.password_hash is None
        (event,) = _audit("user.create")
        assert event.object_id == str(user.id)
        assert event.after["email"] == "jo.bloggs@example.org"


def test_create_user_refuses_a_duplicate_email_in_any_case(app):
    with app.app_context():
        services.create_user("jo@example.org", "Jo", actor=None)
        with pytest.raises(services.EmailInUse, match="already exists"):
            services.create_user("JO@example.org", "Jo again", actor=None)


@pytest.mark.parametrize(
    ("email", "name", "message"),
    [
        ("", "Jo", "Enter an email address"),
        ("not-an-email", "Jo", "Enter an email address in the correct format"),
        ("a@" + "b" * 260 + ".org", "Jo", "254 characters or fewer"),
        ("jo@example.org", "  ", "Enter a name"),
        ("jo@example.org", "x" * 121, "120 characters or fewer"),
    ],
)
def test_create_user_refuses_bad_input(app, email, name, message):
    with app.app_context(), pytest.raises(services.AccountError, match=message):
        services.create_user(email, name, actor=None)


#: names that would start a new line in a plain-text email, or hide or reorder what it says
NAMES_WITH_CONTROLS = [
    "Jo\nBcc: everyone@example.org",
    "Jo\r\nSubject: Urgent",
    "Jo\rBloggs",
    "Jo\u2028Bloggs",
    "Jo\u2029Bloggs",
    "Jo\x85Bloggs",
    "Jo\x0bBloggs",
    "Jo\tBloggs",
    "Jo\x00Bloggs",
    "Jo\x1b[31mBloggs",
    "Jo\u202eBloggs",
    "Jo\u2066Bloggs\u2069",
    "Jo\u200bBloggs",
    "Jo\ufeffBloggs",
]
#: ordinary names, spaces and letters beyond ASCII, and the joiners some scripts need
GOOD_NAMES = [
    "Zoë Ó Briain",
    "Nguyễn Thị Minh Khai",
    "Jean-Luc O'Neil",
    "\u0645\u0647\u200c\u0633\u0627",
]
CONTROLS_MESSAGE = "Name must not contain line breaks or control characters"


@pytest.mark.parametrize("name", NAMES_WITH_CONTROLS)
def test_create_user_refuses_a_name_with_line_breaks_or_control_characters(app, name):
    with app.app_context():
        with pytest.raises(services.AccountError, match=CONTROLS_MESSAGE):
            services.create_user("jo@example.org", name, actor=None)
        assert _user("jo@example.org") is None


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_create_user_keeps_names_in_any_language(app, name):
    with app.app_context():
        user = services.create_user("jo@example.org", f" {name} ", actor=None)
        assert user.display_name == name


def test_invite_user_mails_a_link_whose_token_is_stored_only_as_a_hash(app):
    with app.app_context():
        user = services.create_user("jo@example.org", "Jo", actor=None)
        token = services.invite_user(user, actor=None)
        db.session.commit()
        invitation = db.session.scalar(select(Invitation))
        assert invitation.token_hash == services.token_hash(token) != token
        assert len(token) >= 43  # 32 random bytes
        assert invitation.expires_at - invitation.created_at >= timedelta(days=6, hours=23)
        message = latest_mail(app, "jo@example.org")
        assert message["Subject"] == "You have been invited to Roadmap Tracker"
        assert link_in(message) == f"http://127.0.0.1:5000/auth/invitation/{token}"
        (event,) = _audit("user.invite")
        assert token not in json.dumps(event.after)


def test_link_builder_and_base_url_choose_the_links_address(app):
    app.config["BASE_URL"] = "https://tracker.example.org/"
    with app.app_context():
        user = services.create_user("jo@example.org", "Jo", actor=None)
        token = services.invite_user(user, actor=None)
        assert link_in(latest_mail(app)) == f"https://tracker.example.org/auth/invitation/{token}"
        other = services.create_user("al@example.org", "Al", actor=None)
        services.invite_user(other, actor=None, link_for=lambda t: f"https://x.test/{t}")
        assert link_in(latest_mail(app)).startswith("https://x.test/")


def test_a_new_invitation_replaces_the_earlier_ones(app):
    with app.app_context():
        user = services.create_user("jo@example.org", "Jo", actor=None)
        first = services.invite_user(user, actor=None)
        second = services.invite_user(user, actor=None)
        with pytest.raises(services.LinkNotValid):
            services.find_invitation(first)
        assert services.find_invitation(second).user_id == user.id


def test_nobody_is_invited_twice_once_they_have_joined(app):
    made = make_user(app)
    with app.app_context(), pytest.raises(services.AccountError, match="already joined"):
        services.invite_user(db.session.get(User, made.id), actor=None)


# -- accept an invitation --------------------------------------------------------------------------


def test_accepting_an_invitation_sets_the_password_and_uses_the_link_up(app):
    with app.app_context():
        user = services.create_user("jo@example.org", "Jo", actor=None)
        token = services.invite_user(user, actor=None)
        db.session.commit()
        services.accept_invitation(token, NEW_PASSWORD, "Jo Bloggs")
        db.session.commit()
        assert user.display_name == "Jo Bloggs"
        assert services.authenticate("jo@example.org", NEW_PASSWORD) == user
        assert db.session.scalar(select(Invitation)).used_at is not None
        with pytest.raises(services.LinkNotValid, match="already been used"):
            services.accept_invitation(token, NEW_PASSWORD, "Jo")
        (event,) = _audit("user.accept_invitation")
        assert event.actor_id == user.id
        assert "password_hash" not in (event.after or {})


@pytest.mark.parametrize("name", NAMES_WITH_CONTROLS)
def test_accepting_an_invitation_refuses_a_name_with_control_characters(app, name):
    with app.app_context():
        user = services.create_user("jo@example.org", "Jo", actor=None)
        token = services.invite_user(user, actor=None)
        db.session.commit()
        with pytest.raises(services.AccountError, match=CONTROLS_MESSAGE):
            services.accept_invitation(token, NEW_PASSWORD, name)
        db.session.rollback()
        assert user.display_name == "Jo"
        assert user.password_hash is None
        assert services.find_invitation(token).used_at is None


def test_an_expired_invitation_is_refused(app):
    with app.app_context():
        user = services.create_user("jo@example.org", "Jo", actor=None)
        token = services.invite_user(user, actor=None)
        db.session.commit()
    later = datetime.now(UTC) + timedelta(days=7, minutes=1)
    with (
        time_machine.travel(later, tick=False),
        app.app_context(),
        pytest.raises(services.LinkNotValid, match="expired"),
    ):
        services.accept_invitation(token, NEW_PASSWORD, "Jo")


def test_an_unknown_token_is_refused(app):
    with app.app_context(), pytest.raises(services.LinkNotValid):
        services.accept_invitation("made-up", NEW_PASSWORD, "Jo")


def test_accepting_checks_the_password_against_the_persons_context(app):
    with app.app_context():
        council = db.session.scalar(select(Council).where(Council.short_name == "Hartlepool"))
        user = services.create_user("jo@example.org", "Jo Bloggs", actor=None)
        from tracker.admin.services import add_membership

        add_membership(user, Role.COUNCIL_EDITOR, council=council, actor=None)
        token = services.invite_user(user, actor=None)
        for password in ("hartlepool social care", "bloggs family 2025", "password1"):
            with pytest.raises(PasswordRejected, match="harder to guess"):
                services.accept_invitation(token, password, "Jo Bloggs")
        assert services.find_invitation(token).used_at is None


def test_a_disabled_persons_invitation_no_longer_works(app):
    with app.app_context():
        user = services.create_user("jo@example.org", "Jo", actor=None)
        token = services.invite_user(user, actor=None)
        services.disable_user(user, actor=None)
        with pytest.raises(services.LinkNotValid):
            services.accept_invitation(token, NEW_PASSWORD, "Jo")


# -- sign-in checks --------------------------------------------------------------------------------


def test_authenticate_is_none_for_every_kind_of_failure(app):
    made = make_user(app)
    disabled = make_user(app, active=False)
    with app.app_context():
        assert services.authenticate(made.email, made.password).id == made.id
        assert services.authenticate(made.email.upper(), made.password).id == made.id
        assert services.authenticate(made.email, "wrong password here") is None
        assert services.authenticate("nobody@example.org", made.password) is None
        assert services.authenticate(disabled.email, disabled.password) is None
        assert services.authenticate("x" * 10_000, "y" * 10_000) is None


def test_a_hash_with_old_parameters_is_replaced_at_sign_in(app):
    made = make_user(app)
    with app.app_context():
        user = db.session.get(User, made.id)
        from argon2 import PasswordHasher

        user.password_hash = PasswordHasher(time_cost=1, memory_cost=16, parallelism=1).hash(
            made.password
        )
        db.session.commit()
        old = user.password_hash
        assert services.authenticate(made.email, made.password) == user
        assert user.password_hash != old
        assert services.authenticate(made.email, made.password) == user


# -- password reset --------------------------------------------------------------------------------


def test_reset_for_an_unknown_address_sends_nothing_and_raises_nothing(app):
    with app.app_context():
        services.request_password_reset("nobody@example.org")
        db.session.commit()
        assert db.session.scalar(select(func.count(PasswordReset.id))) == 0
    assert sent_mail(app, "nobody@example.org") == []


def test_reset_for_a_disabled_account_sends_nothing(app):
    made = make_user(app, active=False)
    with app.app_context():
        services.request_password_reset(made.email)
    assert [m["Subject"] for m in sent_mail(app, made.email)] == [
        "You have been invited to Roadmap Tracker"
    ]


def test_reset_link_changes_the_password_once_and_ends_sessions(app):
    made = make_user(app)
    with app.app_context():
        services.request_password_reset(f"  {made.email.upper()} ")
        db.session.commit()
        message = latest_mail(app, made.email)
        assert message["Subject"] == "Reset your Roadmap Tracker password"
        assert "60 minutes" in mail_body(message)
        token = _token_from_latest_mail(app, made.email)
        reset = db.session.scalar(select(PasswordReset))
        assert reset.token_hash == services.token_hash(token)
        assert reset.expires_at - reset.created_at <= timedelta(minutes=60, seconds=5)
        before = db.session.get(User, made.id).session_version

        user = services.reset_password(token, NEW_PASSWORD)
        db.session.commit()
        assert user.session_version == before + 1
        assert services.authenticate(made.email, NEW_PASSWORD) == user
        assert services.authenticate(made.email, made.password) is None
        with pytest.raises(services.LinkNotValid):
            services.reset_password(token, "another fine password 9")
        assert len(_audit("user.reset_password")) == 1


def test_an_expired_reset_link_is_refused(app):
    made = make_user(app)
    with app.app_context():
        services.request_password_reset(made.email)
        db.session.commit()
    token = _token_from_latest_mail(app, made.email)
    later = datetime.now(UTC) + timedelta(minutes=61)
    with (
        time_machine.travel(later, tick=False),
        app.app_context(),
        pytest.raises(services.LinkNotValid),
    ):
        services.reset_password(token, NEW_PASSWORD)


def test_a_reset_refuses_a_weak_password_and_keeps_the_link(app):
    made = make_user(app)
    with app.app_context():
        services.request_password_reset(made.email)
        token = _token_from_latest_mail(app, made.email)
        with pytest.raises(PasswordRejected):
            services.reset_password(token, "short")
        assert services.find_password_reset(token).used_at is None


def test_reset_links_sent_to_one_address_are_limited(app):
    made = make_user(app)
    with app.app_context():
        for _ in range(6):
            services.request_password_reset(made.email)
        db.session.commit()
        assert db.session.scalar(select(func.count(PasswordReset.id))) == 3
    resets = [m for m in sent_mail(app, made.email) if "Reset" in m["Subject"]]
    assert len(resets) == 3


def test_a_new_password_makes_earlier_reset_links_useless(app):
    made = make_user(app)
    with app.app_context():
        services.request_password_reset(made.email)
        first = _token_from_latest_mail(app, made.email)
        services.request_password_reset(made.email)
        second = _token_from_latest_mail(app, made.email)
        services.reset_password(second, NEW_PASSWORD)
        with pytest.raises(services.LinkNotValid):
            services.reset_password(first, "yet another password 3")


# -- change password -------------------------------------------------------------------------------


def test_change_password_needs_the_current_one_and_bumps_the_session_version(app):
    made = make_user(app)
    with app.app_context():
        user = db.session.get(User, made.id)
        version = user.session_version
        with pytest.raises(services.WrongPassword):
            services.change_password(user, "not my password", NEW_PASSWORD)
        with pytest.raises(PasswordRejected, match="harder to guess"):
            services.change_password(user, made.password, "password123")
        assert user.session_version == version
        services.change_password(user, made.password, NEW_PASSWORD)
        db.session.commit()
        assert user.session_version == version + 1
        assert services.authenticate(made.email, NEW_PASSWORD) == user
        assert len(_audit("user.change_password")) == 1


# -- TOTP ------------------------------------------------------------------------------------------


def test_totp_set_up_keeps_one_secret_until_confirmed(app):
    made = make_user(app)
    with app.app_context():
        user = db.session.get(User, made.id)
        secret = services.set_up_totp(user)
        assert len(secret) == 32
        assert services.set_up_totp(user) == secret
        assert "secret=" + secret in services.totp_uri(user)
        assert not services.confirm_totp(
            user, "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
        )
        assert services.confirm_totp(user, pyotp.TOTP(secret).now())
        assert user.has_mfa
        with pytest.raises(services.AccountError):
            services.set_up_totp(user)
        (event,) = _audit("user.confirm_totp")
        assert secret not in json.dumps(event.after)


def test_a_totp_code_works_once(app):
    made = make_user(app, mfa=True)
    with app.app_context():
        user = db.session.get(User, made.id)
        code = made.totp_code()
        assert services.verify_totp(user, code)
        assert not services.verify_totp(user, code)


def test_codes_one_step_either_side_are_accepted_and_two_steps_are_not(app):
    made = make_user(app, mfa=True)
    with app.app_context():
        user = db.session.get(User, made.id)
        assert not services.verify_totp(user, made.totp_code(offset_steps=-2))
        assert not services.verify_totp(user, made.totp_code(offset_steps=2))
        assert services.verify_totp(user, made.totp_code(offset_steps=-1))
        # An older step than one already used is refused too.
        assert services.verify_totp(user, made.totp_code(offset_steps=1))
        assert not services.verify_totp(user, made.totp_code())


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦", "x" * 5000])
def test_malformed_codes_are_refused(app, code):
    made = make_user(app, mfa=True)
    with app.app_context():
        assert not services.verify_totp(db.session.get(User, made.id), code)


def test_spaces_and_hyphens_in_a_code_are_forgiven(app):
    made = make_user(app, mfa=True)
    with app.app_context():
        code = made.totp_code()
        assert services.verify_totp(db.session.get(User, made.id), f" {code[:3]} {code[3:]} ")


def test_reset_totp_removes_the_app_and_ends_sessions(app):
    made = make_user(app, mfa=True)
    with app.app_context():
        user = db.session.get(User, made.id)
        version = user.session_version
        services.reset_totp(user, actor=None)
        assert not user.has_mfa and user.totp_secret is None
        assert user.session_version == version + 1


# -- disable, enable, end sessions -----------------------------------------------------------------


def test_disable_and_enable_are_audited_with_before_and_after(app):
    admin = make_user(app, memberships=[(Role.NATIONAL_ADMIN, None)])
    made = make_user(app)
    with app.app_context():
        actor = db.session.get(User, admin.id)
        user = db.session.get(User, made.id)
        version = user.session_version
        services.disable_user(user, actor=actor)
        assert not user.is_active and user.disabled_at is not None
        assert user.session_version == version + 1
        services.disable_user(user, actor=actor)  # already disabled: nothing more happens
        services.enable_user(user, actor=actor)
        assert user.is_active and user.disabled_at is None
        db.session.commit()
        (disable,) = _audit("user.disable")
        assert disable.actor_id == admin.id
        assert disable.before["is_active"] is True and disable.after["is_active"] is False
        (enable,) = _audit("user.enable")
        assert enable.after["is_active"] is True


def test_nobody_disables_themselves(app):
    made = make_user(app, memberships=[(Role.NATIONAL_ADMIN, None)])
    with app.app_context():
        user = db.session.get(User, made.id)
        with pytest.raises(services.AccountError, match="your own account"):
            services.disable_user(user, actor=user)


def test_end_sessions_bumps_the_version_and_audits(app):
    made = make_user(app)
    with app.app_context():
        user = db.session.get(User, made.id)
        version = user.session_version
        services.end_sessions(user, actor=None)
        assert user.session_version == version + 1
        assert len(_audit("user.end_sessions")) == 1


def test_no_secret_reaches_the_audit_trail(app):
    made = make_user(app, mfa=True)
    with app.app_context():
        user = db.session.get(User, made.id)
        services.request_password_reset(made.email)
        token = _token_from_latest_mail(app, made.email)
        services.reset_password(token, NEW_PASSWORD)
        services.change_password(user, NEW_PASSWORD, "another fine password 9")
        db.session.commit()
        trail = json.dumps(
            [[e.action, e.before, e.after] for e in db.session.scalars(select(AuditEvent))]
        )
        for secret in (token, made.totp_secret, NEW_PASSWORD, DEFAULT_PASSWORD, "$argon2"):
            assert secret not in trail
