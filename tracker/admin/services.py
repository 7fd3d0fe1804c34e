"""Managing people and their memberships, and reading the audit trail.

Used by the administration pages, a council approver's team pages, the CLI and the tests. A
council's approver never grants a membership directly: they send an invitation the person
accepts (``tracker/team/services.py``). Every
function takes the acting person explicitly, flushes and never commits: the caller commits once.
Every create and delete of a membership is written to the audit trail with the values before and
after.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import joinedload

from tracker import audit
from tracker.accounts import services as accounts
from tracker.accounts import tokens
from tracker.extensions import db
from tracker.models import AuditEvent, Council, Membership, PanelProfile, Region, Role, User
from tracker.models.accounts import APPROVER_MANAGED_ROLES

T = TypeVar("T")

#: every role as stored, for checking a value before ``Role(value)`` (which raises)
ROLE_VALUES = frozenset(role.value for role in Role)
#: rows on one page of the people list and of the audit trail
USERS_PER_PAGE = 25
AUDIT_EVENTS_PER_PAGE = 50


class AccountChangeRefused(ValueError):
    """A change the rules do not allow; ``str(error)`` is a message to show the person.

    :param field: the form field the message belongs to, when there is one.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of results and what is needed to link to the others."""

    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first_number(self) -> int:
        """The position of the first item on this page (1-based), 0 when there are none."""
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def last_number(self) -> int:
        return (self.page - 1) * self.per_page + len(self.items)


def _page_number(page: int, total: int, per_page: int) -> int:
    """``page`` kept between 1 and the last page, so an edited URL still shows something."""
    return min(max(page, 1), max(1, math.ceil(total / per_page)))


# -- memberships ---------------------------------------------------------------------------------


def membership_snapshot(membership: Membership) -> dict[str, Any]:
    """A membership's values as written to the audit trail: ids and readable names."""
    return {
        "user_id": membership.user_id,
        "role": membership.role,
        "council_id": membership.council_id,
        "council": membership.council.short_name if membership.council else None,
        "region_id": membership.region_id,
        "region": membership.region.name if membership.region else None,
    }


def describe_membership(membership: Membership) -> str:
    """E.g. "Council editor, Leeds" or "Regional member, London" or "National administrator"."""
    where = membership.council or membership.region
    label = membership.role_enum.label
    if isinstance(where, Council):
        return f"{label}, {where.short_name}"
    if isinstance(where, Region):
        return f"{label}, {where.name}"
    return label


def add_membership(
    user: User,
    role: Role,
    *,
    council: Council | None = None,
    region: Region | None = None,
    actor: User | None,
) -> Membership:
    """Give ``user`` the ``role`` in ``council`` (council roles), ``region`` (regional members) or
    nationally (national administrators), and audit it as ``membership.create``.

    :param actor: who grants it; None for the command line.
    :raises AccountChangeRefused: when the scope does not suit the role, or the person already
        holds that role there.
    """
    if role.scope == "council":
        if council is None:
            raise AccountChangeRefused("Select a council", field="council")
        region = None
    elif role.scope == "region":
        if region is None:
            raise AccountChangeRefused("Select a region", field="region")
        council = None
    else:
        council = region = None

    duplicate = db.session.scalar(
        select(Membership.id).where(
            Membership.user_id == user.id,
            Membership.role == role.value,
            Membership.council_id.is_(None)
            if council is None
            else Membership.council_id == council.id,
            Membership.region_id.is_(None) if region is None else Membership.region_id == region.id,
        )
    )
    if duplicate is not None:
        where = f" in {council.short_name}" if council else f" in {region.name}" if region else ""
        label = role.label[0].lower() + role.label[1:]
        raise AccountChangeRefused(f"This person is already a {label}{where}", field="role")

    membership = Membership(
        user=user,
        role=role.value,
        council=council,
        region=region,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(membership)
    db.session.flush()
    audit.record(
        actor=actor,
        action="membership.create",
        object_type="membership",
        object_id=membership.id,
        council_id=membership.council_id,
        after=membership_snapshot(membership),
    )
    return membership


def remove_membership(membership: Membership, *, actor: User | None) -> None:
    """Delete ``membership`` and audit it as ``membership.delete``.

    :raises AccountChangeRefused: when a national administrator would remove their own last
        national administrator membership (nobody may lock themselves out by accident).
    """
    if (
        actor is not None
        and membership.user_id == actor.id
        and membership.role_enum is Role.NATIONAL_ADMIN
    ):
        raise AccountChangeRefused(
            "You cannot remove your own national administrator role. "
            "Ask another national administrator to do it."
        )
    before = membership_snapshot(membership)
    membership_id, council_id = membership.id, membership.council_id
    user = membership.user
    db.session.delete(membership)
    db.session.flush()
    db.session.expire(user, ["memberships"])
    audit.record(
        actor=actor,
        action="membership.delete",
        object_type="membership",
        object_id=membership_id,
        council_id=council_id,
        before=before,
    )


def get_council_membership(council: Council, membership_id: int) -> Membership | None:
    """The membership ``membership_id`` if it belongs to ``council`` and is one an approver
    manages (editor, viewer, panel member); None otherwise, so that the caller answers 404."""
    return db.session.scalar(
        select(Membership).where(
            Membership.id == membership_id,
            Membership.council_id == council.id,
            Membership.role.in_([r.value for r in APPROVER_MANAGED_ROLES]),
        )
    )


def get_user_membership(user: User, membership_id: int) -> Membership | None:
    """The membership ``membership_id`` if it is ``user``'s; None otherwise (404)."""
    return db.session.scalar(
        select(Membership).where(Membership.id == membership_id, Membership.user_id == user.id)
    )


#: how a panel member appears to someone who may not see their real name, before they have
#: chosen a name for their comments
A_PANEL_MEMBER = "A panel member"


@dataclass(frozen=True)
class TeamMember:
    """One row of a council's team: a membership with its person, and the name to show."""

    membership: Membership
    user: User
    #: the person's name; for a panel member, their real name only when the reader may see it
    name: str

    @property
    def role(self) -> Role:
        return self.membership.role_enum

    @property
    def is_managed(self) -> bool:
        """True when an approver may remove it (editors, viewers and panel members)."""
        return self.role in APPROVER_MANAGED_ROLES


#: the order a council's team is listed in
TEAM_ROLE_ORDER = (
    Role.COUNCIL_APPROVER,
    Role.COUNCIL_EDITOR,
    Role.COUNCIL_VIEWER,
    Role.PANEL_MEMBER,
)


def member_name(membership: Membership, pseudonym: str | None, *, shows_panel_names: bool) -> str:
    """The name a council's team page shows for ``membership``'s person.

    A panel member appears by their real name only when ``shows_panel_names``
    (``tracker.domain.visibility.may_see_panel_member_names`` for the reader and the council);
    otherwise by the name they chose for their comments (``pseudonym``), or "A panel member".
    """
    if membership.role_enum is Role.PANEL_MEMBER and not shows_panel_names:
        return pseudonym or A_PANEL_MEMBER
    return membership.user.display_name


def _pseudonyms(council: Council, user_ids: Iterable[int]) -> dict[int, str]:
    rows = db.session.execute(
        select(PanelProfile.user_id, PanelProfile.display_name).where(
            PanelProfile.council_id == council.id,
            PanelProfile.user_id.in_(list(user_ids)),
            PanelProfile.left_at.is_(None),
        )
    )
    return {user_id: name for user_id, name in rows if user_id is not None and name}


def get_member_name(council: Council, membership: Membership, *, shows_panel_names: bool) -> str:
    """:func:`member_name` for one membership of ``council`` (the removal page)."""
    pseudonym = (
        _pseudonyms(council, [membership.user_id]).get(membership.user_id)
        if membership.role_enum is Role.PANEL_MEMBER and not shows_panel_names
        else None
    )
    return member_name(membership, pseudonym, shows_panel_names=shows_panel_names)


def list_team(council: Council, *, shows_panel_names: bool) -> list[TeamMember]:
    """Everyone holding a role in ``council``, approvers first, then by the name shown (two
    queries: the memberships, and the panel members' chosen names).

    :param shows_panel_names: whether the reader may see panel members' real names
        (``tracker.domain.visibility.may_see_panel_member_names``).
    """
    rows = db.session.execute(
        select(Membership, User)
        .join(User, Membership.user_id == User.id)
        .where(Membership.council_id == council.id)
        .order_by(User.id)
    ).all()
    panel = [u.id for m, u in rows if m.role_enum is Role.PANEL_MEMBER]
    pseudonyms = _pseudonyms(council, panel) if panel and not shows_panel_names else {}
    members = [
        TeamMember(
            membership=m,
            user=u,
            name=member_name(m, pseudonyms.get(u.id), shows_panel_names=shows_panel_names),
        )
        for m, u in rows
    ]
    members.sort(
        key=lambda member: (TEAM_ROLE_ORDER.index(member.role), member.name.lower(), member.user.id)
    )
    return members


def find_user_by_email(email: str) -> User | None:
    """The person with this email address (compared lower-cased), or None."""
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def get_user(user_id: int) -> User | None:
    """The person with this id, with their memberships, councils and regions loaded."""
    return db.session.scalar(
        select(User)
        .where(User.id == user_id)
        .options(
            joinedload(User.memberships).joinedload(Membership.council),
            joinedload(User.memberships).joinedload(Membership.region),
        )
    )


def is_invitation_pending(user: User) -> bool:
    """True while the person has not yet set a password from their invitation."""
    return user.password_hash is None


# -- the list of people --------------------------------------------------------------------------


@dataclass(frozen=True)
class UserFilters:
    """What the list of people is narrowed to. Empty values filter by nothing."""

    search: str = ""
    role: Role | None = None
    council_id: int | None = None
    region_id: int | None = None
    page: int = 1
    per_page: int = USERS_PER_PAGE


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _user_conditions(filters: UserFilters) -> list[Any]:
    conditions: list[Any] = []
    search = filters.search.strip().lower()
    if search:
        pattern = _like_pattern(search)
        conditions.append(
            or_(
                func.lower(User.display_name).like(pattern, escape="\\"),
                User.email.like(pattern, escape="\\"),
            )
        )
    if filters.role or filters.council_id or filters.region_id:
        # One membership must match every filter given: "editors in Leeds", not "an editor
        # somewhere who also has some role in Leeds".
        membership = [Membership.user_id == User.id]
        if filters.role:
            membership.append(Membership.role == filters.role.value)
        if filters.council_id:
            membership.append(Membership.council_id == filters.council_id)
        if filters.region_id:
            in_region = select(Council.id).where(Council.region_id == filters.region_id)
            membership.append(
                or_(
                    Membership.region_id == filters.region_id,
                    Membership.council_id.in_(in_region),
                )
            )
        conditions.append(exists().where(*membership))
    return conditions


def list_users(filters: UserFilters) -> Page[User]:
    """One page of people matching ``filters``, by name, with their memberships loaded.

    Two queries whatever the page size: the count, and the page with its memberships.
    """
    conditions = _user_conditions(filters)
    total = db.session.scalar(select(func.count(User.id)).where(*conditions)) or 0
    page = _page_number(filters.page, total, filters.per_page)
    users = list(
        db.session.scalars(
            select(User)
            .where(*conditions)
            .order_by(func.lower(User.display_name), User.id)
            .limit(filters.per_page)
            .offset((page - 1) * filters.per_page)
            .options(
                joinedload(User.memberships).joinedload(Membership.council),
                joinedload(User.memberships).joinedload(Membership.region),
            )
        ).unique()
    )
    return Page(items=users, total=total, page=page, per_page=filters.per_page)


def list_councils() -> list[Council]:
    """Active councils by name, for choosing one."""
    return list(db.session.scalars(select(Council).where(Council.is_active).order_by(Council.name)))


def list_regions() -> list[Region]:
    """ADASS regions by name, for choosing one."""
    return list(db.session.scalars(select(Region).order_by(Region.name)))


def get_council_by_code(gss_code: str | None) -> Council | None:
    """The active council with this GSS code, or None."""
    if not gss_code:
        return None
    return db.session.scalar(select(Council).where(Council.gss_code == gss_code, Council.is_active))


def get_region_by_slug(slug: str | None) -> Region | None:
    """The region with this slug, or None."""
    if not slug:
        return None
    return db.session.scalar(select(Region).where(Region.slug == slug))


# -- the audit trail -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    """What the audit trail is narrowed to. Empty values filter by nothing."""

    action: str = ""
    #: part of the actor's name or email address
    actor: str = ""
    council_id: int | None = None
    date_from: date | None = None
    #: inclusive: events on this day are shown
    date_to: date | None = None
    page: int = 1
    per_page: int = AUDIT_EVENTS_PER_PAGE
    #: ids of the councils whose panel members' real names the reader may see
    #: (``may_see_panel_member_names``); elsewhere what a member did as a member is shown as by
    #: "A panel member", and a search by name does not find it
    panel_names_in: frozenset[int] = frozenset()


#: what a panel member does as a member: the trail names them only to readers who may see
#: their council's panel members' real names
PANEL_MEMBER_ACTIONS = frozenset(
    {
        "comment.create",
        "comment.edit",
        "comment.withdraw",
        "panel_profile.update",
        "panel.leave",
        "panel_view.save",
    }
)


#: field names of audited objects as a person reads them
FIELD_LABELS = {
    "user_id": "Person (id)",
    "role": "Role",
    "council_id": "Council (id)",
    "council": "Council",
    "region_id": "Region (id)",
    "region": "Region",
    "email": "Email address",
    "display_name": "Name",
    "is_active": "Active",
    "is_demo": "Demo account",
    "session_version": "Session version",
}


def format_audit_value(name: str, value: Any) -> str:
    """A value from the trail as text: role labels, yes or no, "none" for nothing."""
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name == "role" and value in ROLE_VALUES:
        return Role(value).label
    if isinstance(value, str) and name.endswith("_at"):
        try:
            return datetime.fromisoformat(value).strftime("%-d %b %Y, %H:%M:%S")
        except ValueError:
            return value
    return str(value)


@dataclass(frozen=True)
class Change:
    """One field of an audited object, before and after, as text."""

    name: str
    before: str | None
    after: str | None

    @property
    def label(self) -> str:
        return FIELD_LABELS.get(self.name, self.name.replace("_", " ").capitalize())

    @property
    def is_changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class AuditEntry:
    """One event of the trail with the names a person reads."""

    event: AuditEvent
    actor_name: str | None
    actor_email: str | None
    council_name: str | None
    changes: list[Change] = field(default_factory=list)

    @property
    def has_before(self) -> bool:
        return self.event.before is not None

    @property
    def has_after(self) -> bool:
        return self.event.after is not None

    @property
    def when(self) -> str:
        """E.g. "23 Nov 2026, 07:34:05"."""
        return self.event.at.strftime("%-d %b %Y, %H:%M:%S")


#: ids shown by name beside them in the same snapshot, so left out of what a person reads
REDUNDANT_IDS = {"council_id": "council", "region_id": "region"}


def _changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[Change]:
    """The fields either side mentions, in the order first seen, as text.

    A side with no values at all (nothing before a create, nothing after a delete) is None, and
    then fields with no value are left out: "Region: none" says nothing about a council role.
    """
    names = [
        name
        for name in dict.fromkeys([*(before or {}), *(after or {})])
        if REDUNDANT_IDS.get(name) not in {*(before or {}), *(after or {})}
    ]
    changes = [
        Change(
            name,
            None if before is None else format_audit_value(name, before.get(name)),
            None if after is None else format_audit_value(name, after.get(name)),
        )
        for name in names
    ]
    if before is None or after is None:
        changes = [c for c in changes if (c.after if before is None else c.before) != "none"]
    return changes


def _audit_query(filters: AuditFilters) -> Select[Any]:
    query = (
        select(AuditEvent, User.display_name, User.email, Council.short_name)
        .outerjoin(User, AuditEvent.actor_id == User.id)
        .outerjoin(Council, AuditEvent.council_id == Council.id)
    )
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.actor.strip():
        pattern = _like_pattern(filters.actor.strip().lower())
        query = query.where(
            or_(
                func.lower(User.display_name).like(pattern, escape="\\"),
                User.email.like(pattern, escape="\\"),
            ),
            or_(
                AuditEvent.action.not_in(PANEL_MEMBER_ACTIONS),
                AuditEvent.council_id.in_(filters.panel_names_in),
            ),
        )
    if filters.council_id:
        query = query.where(AuditEvent.council_id == filters.council_id)
    if filters.date_from:
        query = query.where(AuditEvent.at >= datetime.combine(filters.date_from, time.min))
    if filters.date_to:
        next_day = datetime.combine(filters.date_to + timedelta(days=1), time.min)
        query = query.where(AuditEvent.at < next_day)
    return query


def list_audit_events(filters: AuditFilters) -> Page[AuditEntry]:
    """One page of the audit trail, newest first (two queries: the count and the page)."""
    query = _audit_query(filters)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = _page_number(filters.page, total, filters.per_page)
    rows = db.session.execute(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(filters.per_page)
        .offset((page - 1) * filters.per_page)
    ).all()
    entries = []
    for event, name, email, council in rows:
        if event.action in PANEL_MEMBER_ACTIONS and event.council_id not in filters.panel_names_in:
            name, email = A_PANEL_MEMBER, None
        entries.append(
            AuditEntry(
                event=event,
                actor_name=name,
                actor_email=email,
                council_name=council,
                changes=_changes(event.before, event.after),
            )
        )
    return Page(items=entries, total=total, page=page, per_page=filters.per_page)


def list_audit_actions() -> list[str]:
    """Every action the trail holds, for filtering by one."""
    return list(db.session.scalars(select(AuditEvent.action).distinct().order_by("action")))


def roles_held(memberships: Iterable[Membership]) -> list[str]:
    """Readable descriptions of ``memberships``, national first, then by role and place."""
    order = list(Role)
    ordered = sorted(
        memberships,
        key=lambda m: (
            m.role_enum is not Role.NATIONAL_ADMIN,
            order.index(m.role_enum),
            describe_membership(m),
        ),
    )
    return [describe_membership(m) for m in ordered]


# -- people: creating, inviting, disabling -------------------------------------------------------


@dataclass(frozen=True)
class NewMember:
    """What adding someone did: the membership, and whether a new account was invited."""

    user: User
    membership: Membership
    invited: bool
    #: the invitation link's token when one was sent (printed by the CLI; stored only hashed)
    invitation_token: str | None = None


def create_person(
    email: str,
    display_name: str,
    role: Role,
    *,
    council: Council | None = None,
    region: Region | None = None,
    actor: User | None,
) -> NewMember:
    """Create an account with its first membership and send an invitation by email.

    Audited as ``user.create``, ``membership.create`` and ``user.invite``.

    :raises AccountChangeRefused: when the address already has an account or is not valid, or
        the scope does not suit the role.
    """
    user = _create_user(email, display_name, actor=actor)
    membership = add_membership(user, role, council=council, region=region, actor=actor)
    token = _invite(user, actor=actor)
    return NewMember(user=user, membership=membership, invited=True, invitation_token=token)


def _create_user(email: str, display_name: str, *, actor: User | None) -> User:
    try:
        return accounts.create_user(email, display_name, actor=actor)
    except accounts.EmailInUse as error:
        raise AccountChangeRefused(
            "There is already an account with this email address", field="email"
        ) from error
    except accounts.AccountError as error:
        field = "email" if "email" in str(error).lower() else "display_name"
        raise AccountChangeRefused(str(error), field=field) from error


def _invite(user: User, *, actor: User | None) -> str:
    try:
        return accounts.invite_user(user, actor=actor)
    except accounts.AccountError as error:
        raise AccountChangeRefused(str(error)) from error


def disable_account(user: User, *, actor: User) -> None:
    """Disable ``user``'s account, end their sessions and revoke their API tokens (so that
    enabling it again does not bring old tokens back).

    :raises AccountChangeRefused: for one's own account, or one already disabled.
    """
    if user.id == actor.id:
        raise AccountChangeRefused("You cannot disable your own account")
    if not user.is_active:
        raise AccountChangeRefused(f"{user.display_name}'s account is already disabled")
    accounts.disable_user(user, actor=actor)


def enable_account(user: User, *, actor: User) -> None:
    """Enable ``user``'s account again.

    :raises AccountChangeRefused: when it is not disabled.
    """
    if user.is_active:
        raise AccountChangeRefused(f"{user.display_name}'s account is not disabled")
    accounts.enable_user(user, actor=actor)


def end_all_sessions(user: User, *, actor: User) -> None:
    """Sign ``user`` out everywhere, API tokens included: a lost laptop may hold either."""
    accounts.end_sessions(user, actor=actor)
    tokens.revoke_all_for(user, actor)


def resend_invitation(user: User, *, actor: User) -> None:
    """Send ``user`` a new invitation link; the earlier ones stop working.

    :raises AccountChangeRefused: when they have already accepted one, or are disabled.
    """
    _invite(user, actor=actor)


def reset_authenticator(user: User, *, actor: User) -> None:
    """Remove ``user``'s authenticator app (a lost phone) and sign them out everywhere; they
    set up a new one when they next sign in.

    :raises AccountChangeRefused: for one's own, or when they have none.
    """
    if user.id == actor.id:
        raise AccountChangeRefused(
            "You cannot reset your own authenticator app. Ask another national administrator"
        )
    if not user.totp_secret:
        raise AccountChangeRefused(f"{user.display_name} has not set up an authenticator app")
    accounts.reset_totp(user, actor=actor)
