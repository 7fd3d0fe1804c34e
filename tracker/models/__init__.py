"""All models, re-exported so that ``from tracker.models import Action`` works."""

from tracker.models.accounts import (
    Invitation,
    Membership,
    PasswordReset,
    Role,
    TeamInvitation,
    ThrottleCounter,
    User,
)
from tracker.models.audit import AuditEvent
from tracker.models.councils import Council, Region
from tracker.models.panels import FORMER_MEMBER, Comment, CommentAnswer, PanelProfile
from tracker.models.reports import ReportJob, ReportJobStatus
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
    "FORMER_MEMBER",
    "Action",
    "ActionArea",
    "AgendaGroup",
    "AgendaItem",
    "Assessment",
    "AuditEvent",
    "Comment",
    "CommentAnswer",
    "Council",
    "Enabler",
    "Evidence",
    "Invitation",
    "Lead",
    "Membership",
    "Outcome",
    "PanelProfile",
    "PasswordReset",
    "Period",
    "PeriodStatus",
    "Rag",
    "Region",
    "ReportJob",
    "ReportJobStatus",
    "Return",
    "ReturnSnapshot",
    "ReturnStatus",
    "RoadmapEdition",
    "Role",
    "Stage",
    "TeamInvitation",
    "ThrottleCounter",
    "Timeframe",
    "User",
    "assessment_evidence",
]
