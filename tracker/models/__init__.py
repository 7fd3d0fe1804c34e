"""All models, re-exported so that ``from tracker.models import Action`` works."""

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
    "Council",
    "Enabler",
    "Lead",
    "Outcome",
    "Region",
    "RoadmapEdition",
    "Timeframe",
]
