"""The signed-in person and the memberships they hold: what every rule in the domain asks about."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Council, Membership, Region, Role, User
from tracker.models.accounts import MFA_ROLES


@dataclass
class Principal:
    """The signed-in person and the memberships they hold at this moment."""

    user: User
    memberships: list[Membership] = field(default_factory=list)

    @property
    def roles(self) -> set[Role]:
        return {m.role_enum for m in self.memberships}

    @property
    def is_national_admin(self) -> bool:
        return Role.NATIONAL_ADMIN in self.roles

    @property
    def needs_mfa(self) -> bool:
        return bool(self.roles & MFA_ROLES)

    def council_ids(self, roles: Iterable[Role]) -> set[int]:
        wanted = set(roles)
        return {m.council_id for m in self.memberships if m.role_enum in wanted and m.council_id}

    def region_ids(self) -> set[int]:
        return {
            m.region_id
            for m in self.memberships
            if m.role_enum is Role.REGIONAL_MEMBER and m.region_id
        }

    def may_access_council(self, council: Council, roles: Iterable[Role]) -> bool:
        """True when one of ``roles`` reaches ``council`` for this person."""
        wanted = set(roles)
        if Role.NATIONAL_ADMIN in wanted and self.is_national_admin:
            return True
        if Role.REGIONAL_MEMBER in wanted and council.region_id in self.region_ids():
            return True
        return council.id in self.council_ids(wanted - {Role.REGIONAL_MEMBER})

    def may_access_region(self, region: Region, roles: Iterable[Role]) -> bool:
        wanted = set(roles)
        if Role.NATIONAL_ADMIN in wanted and self.is_national_admin:
            return True
        return Role.REGIONAL_MEMBER in wanted and region.id in self.region_ids()


def load_principal(user: User) -> Principal:
    """The person with their memberships, read fresh from the database."""
    memberships = list(db.session.scalars(select(Membership).where(Membership.user_id == user.id)))
    return Principal(user=user, memberships=memberships)
