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
from tracker.models.returns import (
    ASSESSMENT_FIELDS,
    Assessment,
    Evidence,
    Period,
    PeriodStatus,
    Rag,
    Return,
    ReturnSnapshot,
    ReturnStatus,
    Stage,
    assessment_evidence,
)
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
    "ASSESSMENT_FIELDS",
    "Action",
    "ActionArea",
    "AgendaGroup",
    "AgendaItem",
    "Assessment",
    "AuditEvent",
    "Council",
    "Enabler",
    "Evidence",
    "Invitation",
    "Lead",
    "Membership",
    "Outcome",
    "PasswordReset",
    "Period",
    "PeriodStatus",
    "Rag",
    "Region",
    "Return",
    "ReturnSnapshot",
    "ReturnStatus",
    "RoadmapEdition",
    "Role",
    "Stage",
    "ThrottleCounter",
    "Timeframe",
    "User",
    "assessment_evidence",
]
