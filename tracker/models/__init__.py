"""All models, re-exported so that ``from tracker.models import Action`` works."""

from tracker.models.accounts import (
    Invitation,
    Membership,
    PasswordReset,
    Role,
    ThrottleCounter,
    User,
)
from tracker.models.audit import AuditEvent
from tracker.models.councils import Council, Region
from tracker.models.roadmap import (
    Action,
    ActionArea,
    AgendaGroup,
    AgendaItem,
    Enabler,
    Lead,
    Outcome,
    RoadmapEdition,
    Timeframe,
)

__all__ = [
    "Action",
    "ActionArea",
    "AgendaGroup",
    "AgendaItem",
    "AuditEvent",
    "Council",
    "Enabler",
    "Invitation",
    "Lead",
    "Membership",
    "Outcome",
    "PasswordReset",
    "Region",
    "RoadmapEdition",
    "Role",
    "ThrottleCounter",
    "Timeframe",
    "User",
]
