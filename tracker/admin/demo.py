"""Demonstration accounts for ``flask demo seed``: never created unless that command is run.

Every demo account has ``is_demo`` set, the published password :data:`DEMO_PASSWORD`, and,
for the roles that need a second factor, the published TOTP secret :data:`DEMO_TOTP_SECRET`.
Because those are published (in the README), the seed refuses to run on a database that holds
any account that is not a demo account: a real deployment never gets them by accident.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyotp
from sqlalchemy import func, select

from tracker.accounts import passwords
from tracker.accounts import services as accounts
from tracker.admin.services import add_membership, find_user_by_email
from tracker.extensions import db
from tracker.models import Council, Membership, Region, Role, User
from tracker.models.accounts import MFA_ROLES

#: the password of every demo account (published: demo only)
DEMO_PASSWORD = "time-to-act-care-and-support"  # noqa: S105
#: base32; add it to an authenticator app as a "key" to sign in as a demo approver or admin
DEMO_TOTP_SECRET = "ROADMAPTRACKERDEMOSECRETKEY23456"  # noqa: S105
DEMO_EMAIL_DOMAIN = "demo.invalid"

#: (GSS code, short name) of the demo councils: two regions apart, one shared with the
#: regional member
DEMO_COUNCILS = (
    ("E08000035", "leeds"),
    ("E09000007", "camden"),
    ("E06000052", "cornwall"),
)
DEMO_REGION_SLUG = "yorkshire-and-the-humber"
COUNCIL_DEMO_ROLES = (
    (Role.COUNCIL_APPROVER, "approver"),
    (Role.COUNCIL_EDITOR, "editor"),
    (Role.COUNCIL_VIEWER, "viewer"),
    (Role.PANEL_MEMBER, "panel"),
)


class DemoRefused(RuntimeError):
    """The seed will not run here; ``str(error)`` says why."""


@dataclass(frozen=True)
class DemoAccount:
    """One demo account as planned and as printed."""

    email: str
    display_name: str
    role: Role
    gss_code: str | None = None
    region_slug: str | None = None

    @property
    def has_totp(self) -> bool:
        return self.role in MFA_ROLES


@dataclass(frozen=True)
class SeedReport:
    """What the seed did and the sign-in details of every demo account."""

    created: list[DemoAccount]
    present: list[DemoAccount]
    memberships_added: int

    @property
    def accounts(self) -> list[DemoAccount]:
        return sorted([*self.created, *self.present], key=lambda a: DEMO_ACCOUNTS.index(a))


def _plan() -> list[DemoAccount]:
    planned = [
        DemoAccount(
            email=f"admin@{DEMO_EMAIL_DOMAIN}",
            display_name="National administrator (demo)",
            role=Role.NATIONAL_ADMIN,
        ),
        DemoAccount(
            email=f"regional.yorkshire@{DEMO_EMAIL_DOMAIN}",
            display_name="Yorkshire regional member (demo)",
            role=Role.REGIONAL_MEMBER,
            region_slug=DEMO_REGION_SLUG,
        ),
    ]
    for gss_code, place in DEMO_COUNCILS:
        for role, word in COUNCIL_DEMO_ROLES:
            planned.append(
                DemoAccount(
                    email=f"{word}.{place}@{DEMO_EMAIL_DOMAIN}",
                    display_name=f"{place.capitalize()} {role.label.split(' (')[0].lower()} (demo)",
                    role=role,
                    gss_code=gss_code,
                )
            )
    return planned


DEMO_ACCOUNTS: list[DemoAccount] = _plan()


def current_totp_code(user: User) -> str:
    """The code a demo account's authenticator app shows now.

    :raises DemoRefused: for an account that is not a demo account or has no second factor.
    """
    if not user.is_demo:
        raise DemoRefused(f"{user.email} is not a demo account; codes are shown for demo only")
    if not user.totp_secret:
        raise DemoRefused(f"{user.email} has no authenticator app set up")
    return pyotp.TOTP(user.totp_secret).now()


def seed_demo() -> SeedReport:
    """Create the demo accounts and memberships that are missing (flushed, not committed).

    Accounts already present are left as they are, apart from missing memberships.

    :raises DemoRefused: when the database holds an account that is not a demo account, or the
        councils and regions have not been loaded.
    """
    real_accounts = db.session.scalar(select(func.count(User.id)).where(User.is_demo.is_(False)))
    if real_accounts:
        raise DemoRefused(
            "Not seeding the demo: this database has accounts that are not demo accounts, and "
            "the demo's sign-in details are published."
        )
    councils = {
        c.gss_code: c
        for c in db.session.scalars(
            select(Council).where(Council.gss_code.in_([code for code, _ in DEMO_COUNCILS]))
        )
    }
    region = db.session.scalar(select(Region).where(Region.slug == DEMO_REGION_SLUG))
    if len(councils) != len(DEMO_COUNCILS) or region is None:
        raise DemoRefused("Load the councils first: flask councils load")

    password_hash = passwords.hash_password(DEMO_PASSWORD)
    created: list[DemoAccount] = []
    present: list[DemoAccount] = []
    added = 0
    for account in DEMO_ACCOUNTS:
        user = find_user_by_email(account.email)
        if user is None:
            user = accounts.create_user(account.email, account.display_name, actor=None)
            user.is_demo = True
            user.password_hash = password_hash
            user.password_changed_at = accounts.utcnow()
            if account.has_totp:
                user.totp_secret = DEMO_TOTP_SECRET
                user.totp_confirmed_at = accounts.utcnow()
            db.session.flush()
            created.append(account)
        else:
            present.append(account)
        council = councils.get(account.gss_code) if account.gss_code else None
        scope_region = region if account.region_slug else None
        has_membership = db.session.scalar(
            select(Membership.id).where(
                Membership.user_id == user.id,
                Membership.role == account.role.value,
                Membership.council_id == council.id if council else Membership.council_id.is_(None),
                Membership.region_id == scope_region.id
                if scope_region
                else Membership.region_id.is_(None),
            )
        )
        if has_membership is None:
            add_membership(user, account.role, council=council, region=scope_region, actor=None)
            added += 1
    return SeedReport(created=created, present=present, memberships_added=added)
