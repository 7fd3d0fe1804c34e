"""Personal access tokens: how a program (Excel, Power BI) reads the API as one person.

A token is ``rt_`` and 43 URL-safe characters (32 random bytes). It is shown to its owner once,
when it is made, and stored only as a SHA-256 hash. Each token has a **scope**, chosen from what
its owner holds when they make it, and reads with the owner's memberships narrowed to it:

- ``council:<GSS code>``: their roles in that council (editor, approver, viewer, panel member);
- ``region:<region slug>``: their regional membership of that region, or, for a national
  administrator, the region as its regional member would read it;
- ``national``: their national administrator role.

What the token reads is decided afresh on every request (:func:`principal_for`): a role the
owner has since lost is not read through the token either. This module is the one place the
scopes are decided. Changes are audited (never a secret or its hash); functions flush and the
caller commits.
"""

from __future__ import annotations

import enum
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from tracker import audit
from tracker.accounts import names
from tracker.accounts.services import token_hash
from tracker.clock import utcnow
from tracker.domain.principal import Principal, load_principal
from tracker.extensions import db
from tracker.models import ApiToken, Council, Membership, Region, Role, User
from tracker.models.accounts import COUNCIL_ROLES

TOKEN_PREFIX = "rt_"  # noqa: S105 (how every token starts, not a secret)
#: ``secrets.token_urlsafe(32)``: 32 random bytes are always 43 characters of base64url
TOKEN_PATTERN = re.compile(r"rt_[A-Za-z0-9_-]{43}")
#: how many characters of the secret the lists show (``rt_`` and 7 more)
PREFIX_LENGTH = 10
MAX_NAME_LENGTH = 80
#: the lifetimes a person may choose, in days; a token never lasts longer than a year
EXPIRY_DAYS = (30, 90, 180, 365)
DEFAULT_EXPIRY_DAYS = 90
#: live (neither revoked nor expired) tokens one person may hold at once
MAX_LIVE_TOKENS = 20
#: ``last_used_at`` is written at most this often: reading is then not a write per request
LAST_USED_EVERY = timedelta(minutes=1)

NATIONAL = "national"


class TokenRefused(ValueError):
    """A token that cannot be made; ``str(error)`` is the message to show.

    :param field: the form field the message belongs to, when there is one.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class TokenState(enum.StrEnum):
    """Where a token stands: only an active one is accepted by the API."""

    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"

    @property
    def label(self) -> str:
        return self.value.capitalize()


@dataclass(frozen=True)
class Scope:
    """One scope a person may give a token: its form value, its words, and what it points at."""

    value: str
    label: str
    kind: str
    council: Council | None = None
    region: Region | None = None


@dataclass(frozen=True)
class ListedToken:
    """A row of a person's list of tokens."""

    token: ApiToken
    state: TokenState
    #: what the token reads, in words: "Leeds", "Yorkshire and the Humber region"
    scope_label: str


def _lower_first(label: str) -> str:
    # "Council approver (DASS)" reads "council approver (DASS)" inside a sentence.
    return label[0].lower() + label[1:]


def _scopes(principal: Principal) -> dict[str, Scope]:
    """Every scope ``principal`` may give a token, by value: councils, regions, then England."""
    council_roles: dict[int, tuple[Council, list[Role]]] = {}
    regions: dict[int, Region] = {}
    for membership in principal.memberships:
        role = membership.role_enum
        if role in COUNCIL_ROLES and membership.council is not None:
            place = membership.council
            council_roles.setdefault(place.id, (place, []))[1].append(role)
        elif role is Role.REGIONAL_MEMBER and membership.region is not None:
            regions[membership.region.id] = membership.region
    if principal.is_national_admin:
        # A national administrator reads every region as well as the nation.
        regions.update({r.id: r for r in db.session.scalars(select(Region))})

    order = list(Role)
    scopes: list[Scope] = []
    for council, roles in sorted(council_roles.values(), key=lambda item: item[0].short_name):
        held = " and ".join(_lower_first(r.label) for r in sorted(set(roles), key=order.index))
        scopes.append(
            Scope(
                value=f"council:{council.gss_code}",
                label=f"{council.short_name} (as {held})",
                kind="council",
                council=council,
            )
        )
    for region in sorted(regions.values(), key=lambda r: r.name):
        scopes.append(
            Scope(
                value=f"region:{region.slug}",
                label=f"{region.name} region",
                kind="region",
                region=region,
            )
        )
    if principal.is_national_admin:
        scopes.append(
            Scope(value=NATIONAL, label="England (national administrator)", kind=NATIONAL)
        )
    return {scope.value: scope for scope in scopes}


def scope_choices(principal: Principal) -> list[tuple[str, str]]:
    """The scopes ``principal`` may give a token, as ``(value, label)``: a council for each
    council where they hold a council role, a region for each region they are a regional member
    of, and, for a national administrator, every region and ``national``. Empty for someone who
    holds no role."""
    return [(scope.value, scope.label) for scope in _scopes(principal).values()]


def scope_value(token: ApiToken) -> str:
    """The token's scope as :func:`scope_choices` writes it, e.g. ``council:E08000035``."""
    if token.scope_kind == "council" and token.council is not None:
        return f"council:{token.council.gss_code}"
    if token.scope_kind == "region" and token.region is not None:
        return f"region:{token.region.slug}"
    return NATIONAL


def describe_scope(token: ApiToken) -> str:
    """What the token reads, in words: "Leeds", "Yorkshire and the Humber region" or
    "England (national)"."""
    if token.scope_kind == "council" and token.council is not None:
        return token.council.short_name
    if token.scope_kind == "region" and token.region is not None:
        return f"{token.region.name} region"
    return "England (national)"


def state_of(token: ApiToken, now: datetime | None = None) -> TokenState:
    """Revoked, expired or active (revoked wins: it was someone's decision)."""
    if token.revoked_at is not None:
        return TokenState.REVOKED
    if token.expires_at <= (now or utcnow()):
        return TokenState.EXPIRED
    return TokenState.ACTIVE


def _live_count(user: User, now: datetime) -> int:
    return (
        db.session.scalar(
            select(func.count(ApiToken.id)).where(
                ApiToken.user_id == user.id,
                ApiToken.revoked_at.is_(None),
                ApiToken.expires_at > now,
            )
        )
        or 0
    )


def limit_reached(user: User) -> bool:
    """True when ``user`` holds :data:`MAX_LIVE_TOKENS` live tokens and may make no more."""
    return _live_count(user, utcnow()) >= MAX_LIVE_TOKENS


def _snapshot(token: ApiToken) -> dict[str, str | None]:
    # What the trail shows of a token: never its secret, its hash or its prefix.
    return {
        "name": token.name,
        "scope": scope_value(token),
        "expires_at": token.expires_at.isoformat(),
    }


def create(
    principal: Principal, *, name: str, scope: str, expires_in_days: int = DEFAULT_EXPIRY_DAYS
) -> tuple[ApiToken, str]:
    """Make a token for ``principal``'s person and return it with its secret.

    The secret exists only in what this returns: show it once, never store or log it. Audited as
    ``api_token.create`` (name, scope and expiry).

    :param scope: one of the values of :func:`scope_choices` for ``principal``.
    :param expires_in_days: one of :data:`EXPIRY_DAYS`.
    :raises TokenRefused: for an empty, over-long or unprintable name, a scope not offered to
        this person, a lifetime not offered, or a person already holding
        :data:`MAX_LIVE_TOKENS` live tokens.
    """
    user = principal.user
    name = (name or "").strip()
    if not name:
        raise TokenRefused("Enter a name for the token", field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise TokenRefused(f"Name must be {MAX_NAME_LENGTH} characters or fewer", field="name")
    if names.has_control_characters(name):
        raise TokenRefused(names.CONTROL_CHARACTERS, field="name")
    chosen = _scopes(principal).get(scope)
    if chosen is None:
        raise TokenRefused("Select what the token can read", field="scope")
    if expires_in_days not in EXPIRY_DAYS:
        raise TokenRefused("Select when the token expires", field="expires_in_days")
    now = utcnow()
    if _live_count(user, now) >= MAX_LIVE_TOKENS:
        raise TokenRefused(
            f"You already have {MAX_LIVE_TOKENS} active tokens, the most you can have. "
            "Revoke one you no longer use first"
        )

    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=token_hash(secret),
        prefix=secret[:PREFIX_LENGTH],
        scope_kind=chosen.kind,
        council=chosen.council,
        region=chosen.region,
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days),
    )
    db.session.add(token)
    db.session.flush()
    audit.record(
        actor=user,
        action="api_token.create",
        object_type="api_token",
        object_id=token.id,
        council_id=token.council_id,
        after=_snapshot(token),
    )
    return token, secret


def authenticate(raw: str) -> ApiToken | None:
    """The active token whose secret is ``raw``, or None.

    None for anything malformed, unknown, revoked or expired, and for a token whose owner is
    disabled or has no password (never joined, or anonymised). Records when it was last used,
    at most once per :data:`LAST_USED_EVERY` (flushed; the caller commits).
    """
    if not isinstance(raw, str) or not TOKEN_PATTERN.fullmatch(raw):
        return None
    now = utcnow()
    # Found by the SHA-256 of what was sent, so no comparison with the secret ever happens:
    # how long the index lookup takes can tell an attacker about the hash of their own guess,
    # never about a stored secret, which cannot be worked back from its hash.
    token = db.session.scalar(
        select(ApiToken)
        .where(ApiToken.token_hash == token_hash(raw))
        .options(joinedload(ApiToken.user))
    )
    if token is None or state_of(token, now) is not TokenState.ACTIVE:
        return None
    if not token.user.is_active or token.user.password_hash is None:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        token.last_used_at = now
        db.session.flush()
    return token


def principal_for(token: ApiToken) -> Principal:
    """The token's owner as the API sees them: their memberships, read now, narrowed to the
    token's scope.

    A council token keeps the owner's roles in that council; a region token their regional
    membership of it, or, for a national administrator, a regional membership made up for this
    request (never added to the session); a national token their national administrator role.
    An owner who no longer holds what the scope needs keeps no membership, and reads only what
    is public.
    """
    owner = load_principal(token.user)
    if token.scope_kind == "council":
        kept = [
            m
            for m in owner.memberships
            if m.role_enum in COUNCIL_ROLES and m.council_id == token.council_id
        ]
    elif token.scope_kind == "region":
        kept = [
            m
            for m in owner.memberships
            if m.role_enum is Role.REGIONAL_MEMBER and m.region_id == token.region_id
        ]
        if not kept and owner.is_national_admin:
            # Transient: built with ids (and the region, whose relationship has no backref),
            # never ``user=``, whose backref would put it in the owner's memberships and so
            # into the session at the next flush.
            kept = [
                Membership(
                    role=Role.REGIONAL_MEMBER.value,
                    region_id=token.region_id,
                    region=token.region,
                    user_id=token.user_id,
                )
            ]
    else:
        kept = [m for m in owner.memberships if m.role_enum is Role.NATIONAL_ADMIN]
    return Principal(user=owner.user, memberships=kept)


def list_for(user: User) -> list[ListedToken]:
    """Every token of ``user``, newest first, live, expired and revoked, each with its state."""
    now = utcnow()
    tokens = db.session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == user.id)
        .options(selectinload(ApiToken.council), selectinload(ApiToken.region))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return [
        ListedToken(token=token, state=state_of(token, now), scope_label=describe_scope(token))
        for token in tokens
    ]


def get_for(user: User, token_id: int) -> ApiToken | None:
    """Token ``token_id`` if it is ``user``'s; None otherwise, so that the caller answers 404."""
    return db.session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    )


def revoke(token: ApiToken, actor: User) -> None:
    """Stop ``token`` working at once; audited as ``api_token.revoke``. Revoking a revoked token
    changes nothing and writes nothing."""
    if token.revoked_at is not None:
        return
    before = {**_snapshot(token), "revoked_at": None}
    token.revoked_at = utcnow()
    db.session.flush()
    audit.record(
        actor=actor,
        action="api_token.revoke",
        object_type="api_token",
        object_id=token.id,
        council_id=token.council_id,
        before=before,
        after={**_snapshot(token), "revoked_at": token.revoked_at.isoformat()},
    )


def revoke_all_for(user: User, actor: User | None) -> int:
    """Revoke every token of ``user`` not yet revoked (their account is disabled, or signed out
    everywhere by an administrator). Audited once, as ``api_token.revoke_all`` on the user, when
    there was any.

    :returns: how many tokens were revoked.
    """
    tokens = list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.id)
        )
    )
    if not tokens:
        return 0
    now = utcnow()
    for token in tokens:
        token.revoked_at = now
    db.session.flush()
    audit.record(
        actor=actor,
        action="api_token.revoke_all",
        object_type="user",
        object_id=user.id,
        after={"tokens_revoked": [token.id for token in tokens]},
    )
    return len(tokens)
