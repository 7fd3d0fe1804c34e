"""Invitations to a council's team: a role is granted only when the invited person accepts.

A council's approver (or a national administrator) invites an email address to be an editor,
viewer or panel member of the council. Nothing the inviter sees depends on whether the address
already has an account: the same record, the same email, the same page and message either way,
and no existing account's name. Whoever opens the link learns it (they own the mailbox):

- with an account, they sign in and accept or decline (their account page lists the invitations
  waiting for them too);
- without one (or with one never used), they choose a password from the link, which accepts it.

Links are single-use, stored only as a SHA-256 hash, and expire after ``INVITATION_TTL``. An
invitation stops working once its sender may no longer manage the council's team, or once
any of its managers withdraws it. Inviting, accepting, declining and withdrawing are audited;
functions flush and the caller commits.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, and_, exists, or_, select, update
from sqlalchemy.orm import aliased, selectinload

from tracker import audit, mail
from tracker.accounts import passwords
from tracker.accounts import services as accounts
from tracker.admin.services import AccountChangeRefused, add_membership
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import Council, Membership, Role, TeamInvitation, User
from tracker.models.accounts import APPROVER_MANAGED_ROLES

#: what the inviter is told when they type their own address (separation of duties)
CANNOT_INVITE_YOURSELF = "You cannot invite yourself"
LINK_NOT_VALID = "This invitation link has expired or has already been used"


@dataclass(frozen=True)
class SentInvitation:
    """An invitation just sent, and the token in its link (stored only hashed)."""

    invitation: TeamInvitation
    token: str


def _snapshot(invitation: TeamInvitation) -> dict[str, Any]:
    return {
        "email": invitation.email,
        "display_name": invitation.display_name,
        "role": invitation.role,
        "council": invitation.council.short_name,
        "expires_at": invitation.expires_at.isoformat(),
    }


def _already_holds(council: Council, email: str, role: Role) -> bool:
    """True when the person with ``email`` already holds ``role`` in ``council`` (one of the
    council's own people, whom its team page lists anyway)."""
    return (
        db.session.scalar(
            select(Membership.id)
            .join(User, Membership.user_id == User.id)
            .where(
                User.email == email,
                Membership.council_id == council.id,
                Membership.role == role.value,
            )
        )
        is not None
    )


def invite_to_team(
    council: Council,
    email: str,
    display_name: str,
    role: Role,
    *,
    actor: User,
) -> SentInvitation:
    """Invite ``email`` to hold ``role`` in ``council`` and email them the link.

    Whether the address has an account is not looked at: both cases do the same work and send
    the same email. An earlier invitation to the same address for the same role and council,
    not yet answered, stops working. Audited as ``team_invitation.create``.

    :raises AccountChangeRefused: for a role an approver does not manage, a malformed address or
        name, the inviter's own address, or someone who already holds the role in the council.
    """
    if role not in APPROVER_MANAGED_ROLES:
        raise AccountChangeRefused("Select a role", field="role")
    try:
        email = accounts.check_email(email)
    except accounts.AccountError as error:
        raise AccountChangeRefused(str(error), field="email") from error
    try:
        display_name = accounts.check_name(display_name)
    except accounts.AccountError as error:
        raise AccountChangeRefused(str(error), field="display_name") from error
    if email == accounts.normalise_email(actor.email):
        raise AccountChangeRefused(CANNOT_INVITE_YOURSELF, field="email")
    if _already_holds(council, email, role):
        label = role.label[0].lower() + role.label[1:]
        raise AccountChangeRefused(
            f"This person is already a {label} in {council.short_name}", field="role"
        )

    now = utcnow()
    db.session.execute(
        update(TeamInvitation)
        .where(
            TeamInvitation.council_id == council.id,
            TeamInvitation.email == email,
            TeamInvitation.role == role.value,
            # Whoever sent it: one whose sender has since left the team could come back.
            *_open(now),
        )
        .values(withdrawn_at=now, withdrawn_by_id=actor.id)
    )
    token = secrets.token_urlsafe(32)
    ttl: timedelta = current_app.config["INVITATION_TTL"]
    invitation = TeamInvitation(
        token_hash=accounts.token_hash(token),
        council=council,
        role=role.value,
        email=email,
        display_name=display_name,
        invited_by_id=actor.id,
        expires_at=now + ttl,
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record(
        actor=actor,
        action="team_invitation.create",
        object_type="team_invitation",
        object_id=invitation.id,
        council_id=council.id,
        after=_snapshot(invitation),
    )
    mail.send_mail(
        email,
        f"Join {council.short_name} in {current_app.config['SERVICE_NAME']}",
        mail.render_mail(
            "team_invitation.txt",
            council=council,
            role=role,
            inviter=actor,
            link=accounts.link_to("auth.team_invitation", token=token),
            expires_at=invitation.expires_at,
            days=ttl.days,
        ),
    )
    return SentInvitation(invitation=invitation, token=token)


# -- which invitations still stand --------------------------------------------------------------


def _open(now: datetime) -> list[ColumnElement[bool]]:
    """SQL conditions of an invitation nobody has answered or withdrawn and that has not
    expired, whoever sent it."""
    return [
        TeamInvitation.accepted_at.is_(None),
        TeamInvitation.declined_at.is_(None),
        TeamInvitation.withdrawn_at.is_(None),
        TeamInvitation.expires_at > now,
    ]


def _standing(now: datetime) -> list[ColumnElement[bool]]:
    """SQL conditions of an invitation that can still be accepted: not answered, withdrawn or
    expired, and its sender still active and still managing the council's team."""
    inviter = aliased(User)
    manages = exists().where(
        Membership.user_id == TeamInvitation.invited_by_id,
        or_(
            and_(
                Membership.role == Role.COUNCIL_APPROVER.value,
                Membership.council_id == TeamInvitation.council_id,
            ),
            Membership.role == Role.NATIONAL_ADMIN.value,
        ),
    )
    inviter_active = exists().where(
        inviter.id == TeamInvitation.invited_by_id, inviter.is_active.is_(True)
    )
    return [*_open(now), manages, inviter_active]


def list_council_invitations(council: Council) -> list[TeamInvitation]:
    """The invitations to ``council``'s team still waiting for an answer, by address."""
    return list(
        db.session.scalars(
            select(TeamInvitation)
            .where(TeamInvitation.council_id == council.id, *_standing(utcnow()))
            .order_by(TeamInvitation.email, TeamInvitation.role, TeamInvitation.id)
        )
    )


def list_invitations_for(user: User) -> list[TeamInvitation]:
    """The invitations waiting for ``user``'s answer (sent to their address), oldest first."""
    return list(
        db.session.scalars(
            select(TeamInvitation)
            .where(
                TeamInvitation.email == accounts.normalise_email(user.email),
                *_standing(utcnow()),
            )
            .options(selectinload(TeamInvitation.council), selectinload(TeamInvitation.invited_by))
            .order_by(TeamInvitation.created_at, TeamInvitation.id)
        )
    )


def get_invitation_for(user: User, invitation_id: int) -> TeamInvitation | None:
    """Invitation ``invitation_id`` if it was sent to ``user``'s address and still stands;
    None otherwise (someone else's, answered or expired), so that the caller answers 404."""
    return db.session.scalar(
        select(TeamInvitation).where(
            TeamInvitation.id == invitation_id,
            TeamInvitation.email == accounts.normalise_email(user.email),
            *_standing(utcnow()),
        )
    )


def find_invitation(token: str) -> TeamInvitation:
    """The invitation of the link's ``token``, if it still stands and the account with its
    address (if there is one) is not disabled.

    :raises accounts.LinkNotValid: otherwise.
    """
    invitation = db.session.scalar(
        select(TeamInvitation).where(
            TeamInvitation.token_hash == accounts.token_hash(token), *_standing(utcnow())
        )
    )
    if invitation is None:
        raise accounts.LinkNotValid(LINK_NOT_VALID)
    account = account_for(invitation)
    if account is not None and not account.is_active:
        raise accounts.LinkNotValid(LINK_NOT_VALID)
    return invitation


def account_for(invitation: TeamInvitation) -> User | None:
    """The account with the invited address, if there is one (for the invited person only)."""
    return accounts.get_user_by_email(invitation.email)


def is_for(invitation: TeamInvitation, user: User) -> bool:
    """True when ``invitation`` was sent to ``user``'s address."""
    return invitation.email == accounts.normalise_email(user.email)


def get_council_invitation(council: Council, invitation_id: int) -> TeamInvitation | None:
    """Invitation ``invitation_id`` to ``council``'s team if it still waits for an answer; None
    otherwise (another council's, answered, expired or withdrawn), so that the caller answers
    404."""
    return db.session.scalar(
        select(TeamInvitation).where(
            TeamInvitation.id == invitation_id,
            TeamInvitation.council_id == council.id,
            *_standing(utcnow()),
        )
    )


def withdraw_invitation(invitation: TeamInvitation, *, actor: User) -> None:
    """Withdraw an invitation still waiting for an answer (sent to the wrong address, or to
    someone who should not join after all): its link stops working at once, on every node
    whatever its clock says, and nothing is granted. Any of the council's team managers may
    withdraw it. Audited as ``team_invitation.withdraw``.

    :raises accounts.LinkNotValid: it was answered, expired or withdrawn meanwhile.
    """
    now = utcnow()
    withdrawn = db.session.execute(
        update(TeamInvitation)
        .where(TeamInvitation.id == invitation.id, *_standing(now))
        .values(withdrawn_at=now, withdrawn_by_id=actor.id)
        .execution_options(synchronize_session=False)
    )
    if withdrawn.rowcount != 1:
        raise accounts.LinkNotValid(LINK_NOT_VALID)
    db.session.refresh(invitation)
    audit.record(
        actor=actor,
        action="team_invitation.withdraw",
        object_type="team_invitation",
        object_id=invitation.id,
        council_id=invitation.council_id,
        after={**_snapshot(invitation), "withdrawn_at": now.isoformat()},
    )


# -- answering ----------------------------------------------------------------------------------


def _claim(invitation: TeamInvitation, user: User, column: str) -> None:
    """Mark ``invitation`` answered by ``user``; only one request can (single use)."""
    if not is_for(invitation, user):
        raise LookupError(invitation.id)
    if invitation.invited_by_id == user.id:
        # Nobody grants themselves a role (separation of duties): not even through an
        # invitation they sent before their address changed.
        raise AccountChangeRefused("You cannot accept an invitation you sent")
    now = utcnow()
    claimed = db.session.execute(
        update(TeamInvitation)
        .where(TeamInvitation.id == invitation.id, *_standing(now))
        .values({column: now, "answered_by_id": user.id})
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise accounts.LinkNotValid(LINK_NOT_VALID)
    db.session.refresh(invitation)


def accept_invitation(invitation: TeamInvitation, *, user: User) -> Membership:
    """``user`` accepts: they now hold the invited role in the council. Audited as
    ``team_invitation.accept`` (and ``membership.create``, unless they already held it).

    :raises LookupError: the invitation was sent to another address (the caller answers 404).
    :raises accounts.LinkNotValid: it was answered, expired or withdrawn meanwhile.
    :raises AccountChangeRefused: ``user`` sent it.
    """
    _claim(invitation, user, "accepted_at")
    council, role = invitation.council, invitation.role_enum
    membership = db.session.scalar(
        select(Membership).where(
            Membership.user_id == user.id,
            Membership.council_id == council.id,
            Membership.role == role.value,
        )
    )
    if membership is None:
        membership = add_membership(user, role, council=council, actor=user)
        # Who granted it: the person who invited them, with their consent.
        membership.created_by_id = invitation.invited_by_id
        db.session.flush()
    audit.record(
        actor=user,
        action="team_invitation.accept",
        object_type="team_invitation",
        object_id=invitation.id,
        council_id=council.id,
        after={
            "membership_id": membership.id,
            "role": invitation.role,
            "invited_by_id": invitation.invited_by_id,
        },
    )
    return membership


def decline_invitation(invitation: TeamInvitation, *, user: User) -> None:
    """``user`` declines: nothing is granted and the link stops working. Audited as
    ``team_invitation.decline``.

    :raises LookupError: the invitation was sent to another address (the caller answers 404).
    :raises accounts.LinkNotValid: it was answered, expired or withdrawn meanwhile.
    :raises AccountChangeRefused: ``user`` sent it.
    """
    _claim(invitation, user, "declined_at")
    audit.record(
        actor=user,
        action="team_invitation.decline",
        object_type="team_invitation",
        object_id=invitation.id,
        council_id=invitation.council_id,
        after={"role": invitation.role},
    )


def check_new_password(invitation: TeamInvitation, password: str, display_name: str) -> None:
    """Check the password someone joining from ``invitation`` chose against the policy, with
    the council they are joining among the words it must not be built on.

    :raises PasswordRejected: with the message to show.
    """
    account = account_for(invitation)
    council = invitation.council
    passwords.check_password(
        password,
        email=invitation.email,
        name=display_name or invitation.display_name,
        extra_words=[
            council.name,
            council.short_name,
            *(accounts.council_names(account) if account else []),
        ],
    )


def join_with_new_account(token: str, password: str, display_name: str) -> User:
    """Someone with no account (or one never used) chooses a password from the link: the
    account is made or completed and the invitation accepted.

    :returns: the account, which may now sign in.
    :raises accounts.LinkNotValid: the link is unknown, used, expired or withdrawn, or the
        address's account already has a password (its holder signs in to answer).
    :raises PasswordRejected: the password breaks the policy.
    :raises accounts.AccountError: the name is missing or too long.
    """
    invitation = find_invitation(token)
    user = account_for(invitation)
    if user is not None and user.password_hash is not None:
        raise accounts.LinkNotValid(LINK_NOT_VALID)
    name = accounts.check_name(display_name)
    check_new_password(invitation, password, name)
    if user is None:
        user = accounts.create_user(invitation.email, name, actor=None)
    accounts.activate_account(user, password, name, extra={"team_invitation_id": invitation.id})
    accept_invitation(invitation, user=user)
    return user
