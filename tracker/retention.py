"""Retention of personal data: accounts left unused are disabled, then anonymised.

SECURITY.md J (UK GDPR Art 5(1)(e)): an account nobody has signed in to for twelve months is
disabled; twelve months after it was disabled, its name, email address and credentials are
replaced, so that nothing identifies the person while the audit trail and the returns they wrote
keep their shape; a panel member's comments stay, by a "former panel member", as when they leave.
``flask retention run`` is meant for a daily cron; it is idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from tracker.accounts.services import disable_user
from tracker.audit import record
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import ApiToken, User
from tracker.panels.services import anonymise_member

#: how long an account may go unused before it is disabled
IDLE_LIMIT = timedelta(days=365)
#: how long a disabled account keeps its personal data
DISABLED_LIMIT = timedelta(days=365)
#: the domain of anonymised accounts' addresses; it can never receive mail (RFC 2606)
ANONYMISED_DOMAIN = "anonymised.invalid"
ANONYMISED_NAME = "Former user"
ANONYMISED_TOKEN_NAME = "Token of a former user"  # noqa: S105 (a name, not a secret)


@dataclass
class RetentionReport:
    """What one run changed: the ids of the accounts disabled and anonymised."""

    disabled: list[int] = field(default_factory=list)
    anonymised: list[int] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"accounts disabled after {IDLE_LIMIT.days} days unused: {len(self.disabled)}",
            f"accounts anonymised {DISABLED_LIMIT.days} days after being disabled: "
            f"{len(self.anonymised)}",
        ]


def is_anonymised(user: User) -> bool:
    """True once the account's personal data has been replaced."""
    return user.email.endswith("@" + ANONYMISED_DOMAIN)


def anonymise_user(user: User, *, actor: User | None) -> None:
    """Replace the account's name, address and credentials, remove its memberships and end its
    sessions. The audit event records that it happened, not what was removed."""
    if is_anonymised(user):
        return
    if user.is_active:
        disable_user(user, actor=actor)
    user.email = f"user-{user.id}@{ANONYMISED_DOMAIN}"
    user.display_name = ANONYMISED_NAME
    user.password_hash = None
    user.totp_secret = None
    user.totp_confirmed_at = None
    anonymise_member(user)
    # Tokens are revoked once the account is disabled; their names are the person's words.
    db.session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id).values(name=ANONYMISED_TOKEN_NAME)
    )
    for membership in list(user.memberships):
        db.session.delete(membership)
    db.session.flush()
    record(actor=actor, action="user.anonymise", object_type="user", object_id=user.id)


def run_retention(now: datetime | None = None) -> RetentionReport:
    """Disable accounts unused for :data:`IDLE_LIMIT` and anonymise those disabled for longer
    than :data:`DISABLED_LIMIT`. The caller commits.

    :returns: the ids of the accounts changed.
    """
    now = now or utcnow()
    report = RetentionReport()
    last_seen = func.coalesce(User.last_sign_in_at, User.created_at)
    idle = db.session.scalars(
        select(User).where(User.is_active.is_(True), last_seen < now - IDLE_LIMIT).order_by(User.id)
    )
    for user in idle:
        disable_user(user, actor=None)
        report.disabled.append(user.id)
    expired = db.session.scalars(
        select(User)
        .where(
            User.is_active.is_(False),
            User.disabled_at < now - DISABLED_LIMIT,
            ~User.email.like(f"%@{ANONYMISED_DOMAIN}"),
        )
        .order_by(User.id)
    )
    for user in expired:
        anonymise_user(user, actor=None)
        report.anonymised.append(user.id)
    return report
