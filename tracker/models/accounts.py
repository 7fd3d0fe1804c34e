"""People, what they may do (memberships), and the single-use links that bring them in."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models.councils import Council, Region


class Role(enum.StrEnum):
    """What a membership lets a person do, and over which councils."""

    COUNCIL_EDITOR = "council_editor"  #: updates one council's returns
    COUNCIL_APPROVER = "council_approver"  #: the DASS: signs off one council's returns
    COUNCIL_VIEWER = "council_viewer"  #: reads one council's returns and reports
    PANEL_MEMBER = "panel_member"  #: comments on one council's submitted returns
    REGIONAL_MEMBER = "regional_member"  #: reads the councils of one ADASS region
    NATIONAL_ADMIN = "national_admin"  #: manages periods, users, councils and editions

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def scope(self) -> str:
        """``council``, ``region`` or ``national``: what the membership is attached to."""
        if self is Role.REGIONAL_MEMBER:
            return "region"
        if self is Role.NATIONAL_ADMIN:
            return "national"
        return "council"


ROLE_LABELS = {
    Role.COUNCIL_EDITOR: "Council editor",
    Role.COUNCIL_APPROVER: "Council approver (DASS)",
    Role.COUNCIL_VIEWER: "Council viewer",
    Role.PANEL_MEMBER: "Co-production panel member",
    Role.REGIONAL_MEMBER: "Regional member",
    Role.NATIONAL_ADMIN: "National administrator",
}
#: roles whose holders must pass a second factor before they reach any council data
MFA_ROLES = frozenset({Role.COUNCIL_APPROVER, Role.NATIONAL_ADMIN})
COUNCIL_ROLES = frozenset(r for r in Role if r.scope == "council")
#: the roles a council approver may grant and remove within their own council
APPROVER_MANAGED_ROLES = frozenset({Role.COUNCIL_EDITOR, Role.COUNCIL_VIEWER, Role.PANEL_MEMBER})


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: stored lower-cased; unique
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    #: argon2id hash; None until the person accepts their invitation
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    #: demo accounts made by ``flask demo seed``; never created in production
    is_demo: Mapped[bool] = mapped_column(default=False)
    #: base32 TOTP secret once the person has set up an authenticator app
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_confirmed_at: Mapped[datetime | None]
    #: the last TOTP time step accepted, so a code cannot be used twice
    totp_last_step: Mapped[int | None]
    #: bumped to end every session of this person at once (sign-out, password change, disable)
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    last_sign_in_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user",
        cascade="all, delete-orphan",
        foreign_keys="Membership.user_id",
    )

    @property
    def has_mfa(self) -> bool:
        return self.totp_confirmed_at is not None

    def __repr__(self) -> str:
        return f"<User {self.id}>"


class Membership(db.Model):
    """One role held by one person, for one council, one region, or nationally."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("user_id", "role", "council_id", "region_id", name="user_role_scope"),
        CheckConstraint(
            "(role IN ('council_editor', 'council_approver', 'council_viewer', 'panel_member')"
            " AND council_id IS NOT NULL AND region_id IS NULL)"
            " OR (role = 'regional_member' AND region_id IS NOT NULL AND council_id IS NULL)"
            " OR (role = 'national_admin' AND council_id IS NULL AND region_id IS NULL)",
            name="scope_matches_role",
        ),
        Index("ix_memberships_council_role", "council_id", "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(24))
    council_id: Mapped[int | None] = mapped_column(ForeignKey("councils.id"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id])
    council: Mapped[Council | None] = relationship()
    region: Mapped[Region | None] = relationship()

    @property
    def role_enum(self) -> Role:
        return Role(self.role)


class Invitation(db.Model):
    """A single-use, expiring link that lets a person set a password and join."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the token in the link; the token itself is never stored
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class TeamInvitation(db.Model):
    """An invitation to hold a role in a council's team, granted only when the person accepts.

    Addressed to an email address, not to an account: whether the address has an account is
    learnt only by whoever opens the link (the owner of the mailbox), never by the inviter. The
    person accepts or declines once signed in; someone with no account yet chooses a password
    from the link, which accepts it.
    """

    __tablename__ = "team_invitations"
    __table_args__ = (
        CheckConstraint(
            "role IN ('council_editor', 'council_viewer', 'panel_member')", name="managed_role"
        ),
        Index("ix_team_invitations_council_email", "council_id", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the token in the link; the token itself is never stored
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"))
    #: one of the roles an approver manages (``APPROVER_MANAGED_ROLES``)
    role: Mapped[str] = mapped_column(String(24))
    #: stored lower-cased; whoever holds the account with this address may accept
    email: Mapped[str] = mapped_column(String(254))
    #: the name the inviter typed: shown on the team page until they accept, never an existing
    #: account's own name
    display_name: Mapped[str] = mapped_column(String(120))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    declined_at: Mapped[datetime | None]
    #: the account that accepted or declined it
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: when one of the council's team managers withdrew it, and who (also when a newer
    #: invitation for the same address and role replaced it: by its sender)
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    council: Mapped[Council] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def is_answered(self) -> bool:
        return self.accepted_at is not None or self.declined_at is not None


class PasswordReset(db.Model):
    """A single-use, expiring password reset link."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the token in the link; the token itself is never stored
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class ThrottleCounter(db.Model):
    """Failures counted per key and window, shared by every worker when Redis is not set."""

    __tablename__ = "throttle_counters"

    #: e.g. "sign-in:account:<sha256 of email>" or "sign-in:ip:203.0.113.7"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime]
    count: Mapped[int] = mapped_column(default=0)


class ApiToken(db.Model):
    """A personal access token: lets a program read the API as its owner, within one scope.

    The secret is shown once when it is made and never stored; ``token_hash`` finds the row.
    """

    __tablename__ = "api_tokens"
    __table_args__ = (
        CheckConstraint(
            "(scope_kind = 'council' AND council_id IS NOT NULL AND region_id IS NULL)"
            " OR (scope_kind = 'region' AND region_id IS NOT NULL AND council_id IS NULL)"
            " OR (scope_kind = 'national' AND council_id IS NULL AND region_id IS NULL)",
            name="scope_matches_kind",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: the owner's name for it, e.g. "Power BI on my laptop"
    name: Mapped[str] = mapped_column(String(80))
    #: SHA-256 hex of the whole secret. The secret is 32 random bytes, so it cannot be guessed
    #: or found from a dictionary: a fast hash is enough, and argon2 (for passwords people
    #: choose) would only slow every API request down.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: the secret's first 10 characters ("rt_" and 7 more), shown in lists so that the owner
    #: can tell their tokens apart; too short to be of use to anyone who sees it
    prefix: Mapped[str] = mapped_column(String(10))
    #: ``council``, ``region`` or ``national``: what the token may read as its owner (the
    #: owner's memberships narrowed to ``council_id``, ``region_id`` or the national role)
    scope_kind: Mapped[str] = mapped_column(String(10))
    council_id: Mapped[int | None] = mapped_column(ForeignKey("councils.id"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    expires_at: Mapped[datetime]
    #: updated at most once a minute, so that reading the API is not a write per request
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
    council: Mapped[Council | None] = relationship()
    region: Mapped[Region | None] = relationship()

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.prefix}>"
