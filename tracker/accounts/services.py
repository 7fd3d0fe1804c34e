"""Services for people and their accounts, shared by sign-in, administration and the CLI.

Plain functions: the acting person is passed in, every change is written to the audit trail
(never a password, token, TOTP secret or code), and the caller commits. Messages on the errors
raised are written to be shown to the person as they are.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pyotp
from flask import current_app
from sqlalchemy import select, update

from tracker import mail, throttle
from tracker.accounts import names, passwords
from tracker.audit import record, snapshot
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import Invitation, Membership, PasswordReset, User

#: the user fields the audit trail shows before and after a change (no secrets among them)
USER_AUDIT_FIELDS = ["email", "display_name", "is_active", "disabled_at"]
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 120
#: a builder of the link for a token, e.g. ``lambda token: f"https://…/invitation/{token}"``
LinkBuilder = Callable[[str], str]


class AccountError(ValueError):
    """A request about an account that cannot be done; ``str(error)`` is the message to show."""


class EmailInUse(AccountError):
    """Another user already has this email address."""


class LinkNotValid(AccountError):
    """An invitation or reset link that is unknown, used already or expired."""


class WrongPassword(AccountError):
    """The current password given to change it was wrong."""


def normalise_email(email: str) -> str:
    """The address as stored: stripped and lower-cased."""
    return (email or "").strip().lower()


def token_hash(token: str) -> str:
    """The SHA-256 hex digest stored in place of a link's token."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def link_to(endpoint: str, **values: str) -> str:
    """An absolute link to ``endpoint`` for an email, built on ``BASE_URL``.

    Never built from the request's Host header, which whoever sends the request chooses.
    """
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["BASE_URL"].rstrip("/") + path


def council_names(user: User) -> list[str]:
    """The names of the councils where ``user`` holds a membership (for the password policy)."""
    memberships = db.session.scalars(select(Membership).where(Membership.user_id == user.id))
    names: list[str] = []
    for membership in memberships:
        if membership.council is not None:
            names += [membership.council.name, membership.council.short_name]
    return names


def check_new_password(user: User, password: str, *, display_name: str | None = None) -> None:
    """Raise ``PasswordRejected`` if ``password`` breaks the policy for this person."""
    passwords.check_password(
        password,
        email=user.email,
        name=display_name or user.display_name,
        extra_words=council_names(user),
    )


def _check_name(name: str) -> None:
    """Raise ``AccountError`` for a name that is too long or breaks the rule in ``names``."""
    if len(name) > MAX_NAME_LENGTH:
        raise AccountError(f"Name must be {MAX_NAME_LENGTH} characters or fewer")
    try:
        names.check_name(name)
    except names.NameRejected as error:
        raise AccountError(str(error)) from error


def _bump_session_version(user: User) -> None:
    user.session_version = (user.session_version or 1) + 1


# -- people ------------------------------------------------------------------------------------


def get_user_by_email(email: str) -> User | None:
    """The user with this address (any case, surrounding spaces ignored), or None."""
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def check_email(email: str) -> str:
    """The address as stored (stripped, lower-cased).

    :raises AccountError: it is missing, too long or malformed.
    """
    email = normalise_email(email)
    if not email:
        raise AccountError("Enter an email address")
    if len(email) > MAX_EMAIL_LENGTH:
        raise AccountError(f"Email address must be {MAX_EMAIL_LENGTH} characters or fewer")
    if not EMAIL_PATTERN.match(email):
        raise AccountError("Enter an email address in the correct format, like name@example.com")
    return email


def check_name(display_name: str) -> str:
    """The name stripped of surrounding spaces.

    :raises AccountError: it is missing, too long, or has a line break or control character
        (``tracker.accounts.names``).
    """
    display_name = (display_name or "").strip()
    if not display_name:
        raise AccountError("Enter a name")
    _check_name(display_name)
    return display_name


def create_user(email: str, display_name: str, *, actor: User | None) -> User:
    """Add a person with no password yet (they set one by accepting an invitation).

    :returns: the new, flushed user.
    :raises EmailInUse: another user has this address.
    :raises AccountError: the address or name is missing or malformed (a name with a line
        break or control character, see ``tracker.accounts.names``).
    """
    email = check_email(email)
    display_name = check_name(display_name)
    if get_user_by_email(email) is not None:
        raise EmailInUse("A user with this email address already exists")
    user = User(email=email, display_name=display_name, password_hash=None, is_active=True)
    db.session.add(user)
    db.session.flush()
    record(
        actor=actor,
        action="user.create",
        object_type="user",
        object_id=user.id,
        after=snapshot(user, USER_AUDIT_FIELDS),
    )
    return user


def invite_user(user: User, *, actor: User | None, link_for: LinkBuilder | None = None) -> str:
    """Email ``user`` a single-use link to set their password; earlier unused links stop working.

    :param link_for: builds the link from the token; by default ``BASE_URL`` + the invitation
        page's path.
    :returns: the token in the link (for the CLI and tests; it is stored only as a hash).
    :raises AccountError: the user is disabled or has already set a password.
    """
    if not user.is_active:
        raise AccountError("This user is disabled. Enable them before you invite them")
    if user.password_hash is not None:
        raise AccountError("This user has already joined. They can reset their password")
    now = utcnow()
    db.session.execute(
        update(Invitation)
        .where(Invitation.user_id == user.id, Invitation.used_at.is_(None))
        .where(Invitation.expires_at > now)
        .values(expires_at=now)
    )
    token = secrets.token_urlsafe(32)
    ttl: timedelta = current_app.config["INVITATION_TTL"]
    invitation = Invitation(
        token_hash=token_hash(token),
        user_id=user.id,
        invited_by_id=actor.id if actor else None,
        expires_at=now + ttl,
    )
    db.session.add(invitation)
    db.session.flush()
    record(
        actor=actor,
        action="user.invite",
        object_type="user",
        object_id=user.id,
        after={"invitation_id": invitation.id, "expires_at": invitation.expires_at.isoformat()},
    )
    link = link_for(token) if link_for else link_to("auth.invitation", token=token)
    mail.send_mail(
        user.email,
        f"You have been invited to {current_app.config['SERVICE_NAME']}",
        mail.render_mail(
            "invitation.txt",
            user=user,
            inviter=actor,
            link=link,
            expires_at=invitation.expires_at,
            days=ttl.days,
        ),
    )
    return token


def find_invitation(token: str) -> Invitation:
    """The unused, unexpired invitation for ``token``, for an active user.

    :raises LinkNotValid: otherwise.
    """
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == token_hash(token))
    )
    if (
        invitation is None
        or invitation.used_at is not None
        or invitation.expires_at <= utcnow()
        or not invitation.user.is_active
    ):
        raise LinkNotValid("This invitation link has expired or has already been used")
    return invitation


def accept_invitation(token: str, password: str, display_name: str | None = None) -> User:
    """Set the invited person's password (and name, if given) and use up the invitation.

    :returns: the user, who may now sign in.
    :raises LinkNotValid: the link is unknown, used or expired.
    :raises PasswordRejected: the password breaks the policy.
    :raises AccountError: the name is too long or has a line break or control character.
    """
    invitation = find_invitation(token)
    user = invitation.user
    name = (display_name or "").strip() or user.display_name
    _check_name(name)
    check_new_password(user, password, display_name=name)
    now = utcnow()
    # Single use even when two requests race: only one UPDATE finds the row unused.
    claimed = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise LinkNotValid("This invitation link has expired or has already been used")
    db.session.refresh(invitation)
    before = snapshot(user, USER_AUDIT_FIELDS)
    user.display_name = name
    user.password_hash = passwords.hash_password(password)
    user.password_changed_at = now
    db.session.execute(
        update(Invitation)
        .where(Invitation.user_id == user.id, Invitation.used_at.is_(None))
        .values(expires_at=now)
    )
    db.session.flush()
    record(
        actor=user,
        action="user.accept_invitation",
        object_type="user",
        object_id=user.id,
        before=before,
        after={**snapshot(user, USER_AUDIT_FIELDS), "invitation_id": invitation.id},
    )
    return user


def activate_account(
    user: User, password: str, display_name: str | None = None, *, extra: dict | None = None
) -> User:
    """Give an account that has no password yet its first one (and its name, if given), as
    following an emailed link to join a council's team does. Every unused invitation link of
    theirs stops working. Audited as ``user.activate``.

    :param extra: more values for the audit event (e.g. the team invitation's id).
    :raises AccountError: the account already has a password or is disabled, or the name is
        too long.
    :raises PasswordRejected: the password breaks the policy.
    """
    if user.password_hash is not None:
        raise AccountError("This user has already joined. They can reset their password")
    if not user.is_active:
        raise AccountError("This user is disabled")
    name = (display_name or "").strip() or user.display_name
    if len(name) > MAX_NAME_LENGTH:
        raise AccountError(f"Name must be {MAX_NAME_LENGTH} characters or fewer")
    check_new_password(user, password, display_name=name)
    now = utcnow()
    before = snapshot(user, USER_AUDIT_FIELDS)
    user.display_name = name
    user.password_hash = passwords.hash_password(password)
    user.password_changed_at = now
    db.session.execute(
        update(Invitation)
        .where(Invitation.user_id == user.id, Invitation.used_at.is_(None))
        .where(Invitation.expires_at > now)
        .values(expires_at=now)
    )
    db.session.flush()
    record(
        actor=user,
        action="user.activate",
        object_type="user",
        object_id=user.id,
        before=before,
        after={**snapshot(user, USER_AUDIT_FIELDS), **(extra or {})},
    )
    return user


def end_sessions(user: User, *, actor: User | None) -> None:
    """Sign ``user`` out everywhere: every session cookie they hold stops working."""
    _bump_session_version(user)
    db.session.flush()
    record(actor=actor, action="user.end_sessions", object_type="user", object_id=user.id)


def sign_out(user: User) -> None:
    """End every session of ``user`` as they sign out (logged in the security log, not audited)."""
    _bump_session_version(user)
    db.session.flush()


def disable_user(user: User, *, actor: User | None) -> None:
    """Stop ``user`` signing in and end their sessions; nothing else of theirs changes.

    :raises AccountError: the actor tried to disable themselves.
    """
    if actor is not None and actor.id == user.id:
        raise AccountError("You cannot disable your own account")
    if not user.is_active:
        return
    before = snapshot(user, USER_AUDIT_FIELDS)
    user.is_active = False
    user.disabled_at = utcnow()
    _bump_session_version(user)
    db.session.flush()
    record(
        actor=actor,
        action="user.disable",
        object_type="user",
        object_id=user.id,
        before=before,
        after=snapshot(user, USER_AUDIT_FIELDS),
    )
    # Every path that disables someone (an administrator, the retention job) revokes their API
    # tokens, so that enabling the account again brings none back.
    from tracker.accounts import tokens  # tokens imports this module

    tokens.revoke_all_for(user, actor)


def enable_user(user: User, *, actor: User | None) -> None:
    """Let a disabled user sign in again."""
    if user.is_active:
        return
    before = snapshot(user, USER_AUDIT_FIELDS)
    user.is_active = True
    user.disabled_at = None
    db.session.flush()
    record(
        actor=actor,
        action="user.enable",
        object_type="user",
        object_id=user.id,
        before=before,
        after=snapshot(user, USER_AUDIT_FIELDS),
    )


# -- passwords ---------------------------------------------------------------------------------


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None (the same for every failure).

    An unknown address costs as much time as a wrong password. A hash made with older argon2
    parameters is replaced by one with today's.
    """
    user = get_user_by_email(email) if len(email or "") <= MAX_EMAIL_LENGTH else None
    if user is None or user.password_hash is None:
        passwords.dummy_verify(password or "")
        return None
    if not passwords.verify_password(user.password_hash, password or ""):
        return None
    if not user.is_active:
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
        db.session.flush()
    return user


def record_sign_in(user: User) -> None:
    """Note when ``user`` last signed in fully (shown to administrators; security log has more)."""
    user.last_sign_in_at = utcnow()
    db.session.flush()


def change_password(user: User, current: str, new: str) -> None:
    """Replace the password of a signed-in person, ending their other sessions.

    The caller starts a new session for the person (their session version has changed).

    :raises WrongPassword: ``current`` is not their password.
    :raises PasswordRejected: ``new`` breaks the policy.
    """
    if not passwords.verify_password(user.password_hash, current or ""):
        raise WrongPassword("Your current password is not correct")
    check_new_password(user, new)
    user.password_hash = passwords.hash_password(new)
    user.password_changed_at = utcnow()
    _bump_session_version(user)
    db.session.flush()
    record(actor=user, action="user.change_password", object_type="user", object_id=user.id)


def request_password_reset(email: str, *, link_for: LinkBuilder | None = None) -> None:
    """Email a single-use reset link if an active user has this address; otherwise do nothing.

    The caller shows the same page either way, so nobody learns whether an account exists. At
    most ``RESET_ACCOUNT_LIMIT`` links are sent to one address per ``THROTTLE_WINDOW``; further
    requests send nothing.
    """
    email = normalise_email(email)
    if not email or len(email) > MAX_EMAIL_LENGTH:
        return
    limit = throttle.reset_account_limit(email)
    if throttle.hit(limit.key, limit.window) > limit.limit:
        return
    user = get_user_by_email(email)
    if user is None or not user.is_active:
        return
    now = utcnow()
    ttl: timedelta = current_app.config["PASSWORD_RESET_TTL"]
    token = secrets.token_urlsafe(32)
    reset = PasswordReset(token_hash=token_hash(token), user_id=user.id, expires_at=now + ttl)
    db.session.add(reset)
    db.session.flush()
    record(
        actor=None,
        action="user.request_password_reset",
        object_type="user",
        object_id=user.id,
        after={"password_reset_id": reset.id, "expires_at": reset.expires_at.isoformat()},
    )
    link = link_for(token) if link_for else link_to("auth.reset_password", token=token)
    mail.send_mail(
        user.email,
        f"Reset your {current_app.config['SERVICE_NAME']} password",
        mail.render_mail(
            "password_reset.txt",
            user=user,
            link=link,
            minutes=int(ttl.total_seconds() // 60),
        ),
    )


def find_password_reset(token: str) -> PasswordReset:
    """The unused, unexpired reset for ``token``, for an active user.

    :raises LinkNotValid: otherwise.
    """
    reset = db.session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == token_hash(token))
    )
    if (
        reset is None
        or reset.used_at is not None
        or reset.expires_at <= utcnow()
        or not reset.user.is_active
    ):
        raise LinkNotValid("This password reset link has expired or has already been used")
    return reset


def reset_password(token: str, new_password: str) -> User:
    """Set a new password from a reset link, use the link up and end every session.

    :raises LinkNotValid: the link is unknown, used or expired.
    :raises PasswordRejected: the password breaks the policy.
    """
    reset = find_password_reset(token)
    user = reset.user
    check_new_password(user, new_password)
    now = utcnow()
    claimed = db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise LinkNotValid("This password reset link has expired or has already been used")
    db.session.refresh(reset)
    # Any other link sent to this person stops working too.
    db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(expires_at=now)
    )
    user.password_hash = passwords.hash_password(new_password)
    user.password_changed_at = now
    _bump_session_version(user)
    db.session.flush()
    record(
        actor=None,
        action="user.reset_password",
        object_type="user",
        object_id=user.id,
        after={"password_reset_id": reset.id},
    )
    return user


# -- second factor (TOTP) ------------------------------------------------------------------------


def set_up_totp(user: User) -> str:
    """Give ``user`` a TOTP secret to confirm; the same one again until they confirm it.

    :returns: the base32 secret (160 random bits), to show as text and as a QR code.
    :raises AccountError: the person has a confirmed second factor already.
    """
    if user.has_mfa:
        raise AccountError("You have already set up an authenticator app")
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32()
        user.totp_last_step = None
        db.session.flush()
        record(actor=user, action="user.start_totp_set_up", object_type="user", object_id=user.id)
    return user.totp_secret


def totp_uri(user: User) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    if not user.totp_secret:
        raise AccountError("Set up an authenticator app first")
    return pyotp.TOTP(user.totp_secret).provisioning_uri(
        name=user.email, issuer_name=current_app.config["SERVICE_NAME"]
    )


def normalise_code(code: str | None) -> str:
    """The code as typed, without spaces or hyphens ("123 456" is "123456")."""
    return re.sub(r"[\s-]", "", code or "")


def _matching_step(user: User, code: str) -> int | None:
    code = normalise_code(code)
    if not user.totp_secret or not re.fullmatch(r"[0-9]{6}", code):
        return None
    totp = pyotp.TOTP(user.totp_secret)
    current = totp.timecode(datetime.now(UTC))
    # One step either side (valid_window=1) for clocks that are a little out.
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def verify_totp(user: User, code: str) -> bool:
    """True when ``code`` is a current code for ``user``, not used before.

    A code's time step is remembered, so the same code (or an older one) cannot be used twice.
    """
    step = _matching_step(user, code)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    db.session.flush()
    return True


def confirm_totp(user: User, code: str) -> bool:
    """Finish setting up the authenticator app with a first code; True when it was right."""
    if user.has_mfa or not user.totp_secret:
        return False
    if not verify_totp(user, code):
        return False
    user.totp_confirmed_at = utcnow()
    db.session.flush()
    record(
        actor=user,
        action="user.confirm_totp",
        object_type="user",
        object_id=user.id,
        after={"totp_confirmed_at": user.totp_confirmed_at.isoformat()},
    )
    return True


def reset_totp(user: User, *, actor: User | None) -> None:
    """Remove ``user``'s authenticator app (a lost phone) and end their sessions.

    They set up a new one the next time they sign in.
    """
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    _bump_session_version(user)
    db.session.flush()
    record(actor=actor, action="user.reset_totp", object_type="user", object_id=user.id)
