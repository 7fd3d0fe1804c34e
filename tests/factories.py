"""Test data made through the real service functions.

Call factories inside ``with app.app_context():``; each one commits, so a request made afterwards
sees the data. For example::

    with app.app_context():
        council = db.session.scalar(select(Council).where(Council.gss_code == "E06000001"))
        editor = make_user(memberships=[(Role.COUNCIL_EDITOR, council)])
        admin = make_user(email="admin@example.org", memberships=[(Role.NATIONAL_ADMIN, None)],
                          mfa=True)
    sign_in(client, editor.email, editor.password)                          # tests/helpers.py
    sign_in(client, admin.email, admin.password, totp_secret=admin.totp_secret)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import pyotp
from flask import Flask

from tracker.accounts import services as accounts
from tracker.extensions import db
from tracker.models import Council, Region, Role, User

#: long, not common, and free of every context word, so the password policy accepts it
DEFAULT_PASSWORD = "correct horse battery staple 7"
_numbers = itertools.count(1)


@dataclass(frozen=True)
class MadeUser:
    """A user made by :func:`make_user`, with what a test needs to sign in as them."""

    id: int
    email: str
    password: str
    #: the base32 secret of their confirmed authenticator app, or None
    totp_secret: str | None

    def totp_code(self, *, offset_steps: int = 0) -> str:
        """The code their authenticator app shows now (or ``offset_steps`` steps later)."""
        assert self.totp_secret, "this user has no authenticator app"
        return pyotp.TOTP(self.totp_secret).at(datetime.now(UTC), counter_offset=offset_steps)


def make_user(
    app: Flask | None = None,
    *,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    display_name: str = "Test Person",
    memberships: Iterable[tuple[Role, Council | Region | None]] = (),
    mfa: bool = False,
    active: bool = True,
) -> MadeUser:
    """Create, invite and sign up a person the way the service does, then commit.

    :param app: when given, the factory pushes its own application context; otherwise call it
        inside ``with app.app_context():``.
    :param memberships: ``(role, council)`` for council roles, ``(Role.REGIONAL_MEMBER, region)``,
        ``(Role.NATIONAL_ADMIN, None)``.
    :param mfa: give them a confirmed authenticator app (its secret is returned).
    :param active: False disables them after they have joined.
    """
    if app is not None:
        with app.app_context():
            return make_user(
                email=email,
                password=password,
                display_name=display_name,
                memberships=memberships,
                mfa=mfa,
                active=active,
            )
    from tracker.admin.services import add_membership

    email = email or f"person{next(_numbers)}@example.org"
    user = accounts.create_user(email, display_name, actor=None)
    for role, scope in memberships:
        add_membership(
            user,
            role,
            council=scope if isinstance(scope, Council) else None,
            region=scope if isinstance(scope, Region) else None,
            actor=None,
        )
    token = accounts.invite_user(user, actor=None)
    accounts.accept_invitation(token, password, display_name)
    secret = None
    if mfa:
        secret = accounts.set_up_totp(user)
        code = pyotp.TOTP(secret).now()
        assert accounts.confirm_totp(user, code)
        # Forget the step just used, so that a test may sign in with the current code at once.
        user.totp_last_step = None
    if not active:
        accounts.disable_user(user, actor=None)
    db.session.commit()
    return MadeUser(id=user.id, email=user.email, password=password, totp_secret=secret)


def get_user(user_id: int) -> User:
    """The user with this id, in the current application context."""
    user = db.session.get(User, user_id)
    assert user is not None
    return user
