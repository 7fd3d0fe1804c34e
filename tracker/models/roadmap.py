"""The ADASS roadmap as tables: editions, areas for action, actions, outcomes, agenda, enablers."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db

if TYPE_CHECKING:
    from tracker.models.frameworks import ActionStatementLink


class Timeframe(enum.StrEnum):
    """When the roadmap expects an action, as defined in its overview."""

    SHORT = "short"  #: the next financial year, no legislative change
    MEDIUM = "medium"  #: c. 2–5 years
    LONG = "long"  #: c. 6–10 years


class Lead(enum.StrEnum):
    """Who can make an action happen, judged from its wording."""

    LOCAL = "local"  #: within a council's current powers
    SYSTEM = "system"  #: needs ICS, NHS or housing partners
    NATIONAL = "national"  #: government, Parliament or regulators


class RoadmapEdition(db.Model):
    __tablename__ = "roadmap_editions"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: stable key of the edition's folder in roadmap/, e.g. "time-to-act-2023"
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    subtitle: Mapped[str] = mapped_column(String(300), default="")
    authors: Mapped[str] = mapped_column(String(200), default="")
    publisher: Mapped[str] = mapped_column(String(200), default="")
    published: Mapped[str] = mapped_column(String(40), default="")
    is_current: Mapped[bool] = mapped_column(default=False)
    #: the key, timeframes and source notes, kept as loaded (see roadmap/README.md)
    key: Mapped[dict] = mapped_column(JSON, default=dict)
    timeframes: Mapped[list] = mapped_column(JSON, default=list)
    outcomes_intro: Mapped[str] = mapped_column(Text, default="")
    #: paragraphs introducing the DASS agenda for action
    agenda_intro: Mapped[list] = mapped_column(JSON, default=list)
    enablers_intro: Mapped[str] = mapped_column(Text, default="")
    loaded_at: Mapped[datetime | None]

    areas: Mapped[list[ActionArea]] = relationship(
        back_populates="edition", order_by="ActionArea.position"
    )


class ActionArea(db.Model):
    __tablename__ = "action_areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: stable identifier, e.g. "A03"; never reused
    code: Mapped[str] = mapped_column(String(16), unique=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("roadmap_editions.id"))
    position: Mapped[int]
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    #: the name in the report's sidebar list of areas, where it differs from the heading
    sidebar_title: Mapped[str] = mapped_column(String(200), default="")
    shift: Mapped[list] = mapped_column(JSON, default=list)
    practical_intro: Mapped[str] = mapped_column(String(200), default="")
    practical: Mapped[list] = mapped_column(JSON, default=list)
    examples_intro: Mapped[str] = mapped_column(String(200), default="")
    examples: Mapped[list] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    archived_at: Mapped[datetime | None]

    edition: Mapped[RoadmapEdition] = relationship(back_populates="areas")
    actions: Mapped[list[Action]] = relationship(
        back_populates="area",
        order_by="Action.position",
        primaryjoin="and_(ActionArea.id == Action.area_id, Action.parent_id.is_(None))",
        viewonly=True,
    )

    @property
    def number(self) -> int:
        return self.position


class Action(db.Model):
    """One action of the roadmap: what a council assesses every quarter."""

    __tablename__ = "actions"
    __table_args__ = (
        CheckConstraint("funding_level BETWEEN 1 AND 3", name="funding_level_range"),
        CheckConstraint("legislative_level BETWEEN 1 AND 3", name="legislative_level_range"),
        CheckConstraint("(area_id IS NULL) <> (enabler_id IS NULL)", name="area_or_enabler"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: stable identifier, e.g. "A03.M02" or "E02.01"; assessments refer to it, never reused
    code: Mapped[str] = mapped_column(String(24), unique=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("action_areas.id"), index=True)
    enabler_id: Mapped[int | None] = mapped_column(ForeignKey("enablers.id"), index=True)
    #: set on the phases listed under an action; those are shown with it, not assessed alone
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id"), index=True)
    #: None for enabler actions, which the report does not place in a timeframe
    timeframe: Mapped[str | None] = mapped_column(String(8))
    position: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    #: the tags exactly as printed, e.g. "(+++) (A£)"; empty when untagged
    tag_text: Mapped[str] = mapped_column(String(40), default="")
    #: £ modest (1), ££ substantial (2), £££ significant year-on-year (3)
    funding_level: Mapped[int | None]
    #: letters from T, S, C, A (transformation, stabilisation, community capacity, access)
    spend_types: Mapped[str] = mapped_column(String(4), default="")
    #: + guidance (1), ++ primary legislation changes (2), +++ major reform (3)
    legislative_level: Mapped[int | None]
    lead: Mapped[str] = mapped_column(String(8))
    #: the Care Act's prevent (primary), reduce (secondary) or delay (tertiary); None for an
    #: action that is not itself about care and support (most barriers and enablers). Our
    #: judgement, like the lead (roadmap/README.md, "Prevention")
    prevention_tier: Mapped[str | None] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(Text, default="")
    archived_at: Mapped[datetime | None]

    area: Mapped[ActionArea | None] = relationship(foreign_keys=[area_id])
    enabler: Mapped[Enabler | None] = relationship(foreign_keys=[enabler_id])
    parent: Mapped[Action | None] = relationship(remote_side=[id], back_populates="sub_items")
    sub_items: Mapped[list[Action]] = relationship(
        back_populates="parent", order_by="Action.position"
    )
    #: the crosswalk's links to the CQC's quality statements (frameworks/cqc-la-2023)
    statement_links: Mapped[list[ActionStatementLink]] = relationship(back_populates="action")

    @property
    def is_trackable(self) -> bool:
        """Councils assess top-level actions; listed phases travel with their parent."""
        return self.parent_id is None and self.archived_at is None


class Outcome(db.Model):
    """One of the eight features of a better system: the roadmap's destination."""

    __tablename__ = "outcomes"
    __table_args__ = (UniqueConstraint("edition_id", "number", name="edition_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "<edition code>:O<number>", e.g. "time-to-act-2023:O3"
    code: Mapped[str] = mapped_column(String(80), unique=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("roadmap_editions.id"))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)


class AgendaGroup(db.Model):
    """A group of the DASS "agenda for action": short-term actions Directors lead."""

    __tablename__ = "agenda_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("roadmap_editions.id"))
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))

    items: Mapped[list[AgendaItem]] = relationship(
        back_populates="group", order_by="AgendaItem.position"
    )


class AgendaItem(db.Model):
    __tablename__ = "agenda_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("agenda_groups.id"))
    position: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    tag_text: Mapped[str] = mapped_column(String(40), default="")
    funding_level: Mapped[int | None]
    spend_types: Mapped[str] = mapped_column(String(4), default="")
    legislative_level: Mapped[int | None]
    #: the area action this item restates, where there is one
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id"))
    note: Mapped[str] = mapped_column(Text, default="")

    group: Mapped[AgendaGroup] = relationship(back_populates="items")
    action: Mapped[Action | None] = relationship()


class Enabler(db.Model):
    """A barrier to change and what enables it, from "Barriers and enablers"."""

    __tablename__ = "enablers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("roadmap_editions.id"))
    position: Mapped[int]
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[list] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    archived_at: Mapped[datetime | None]

    actions: Mapped[list[Action]] = relationship(
        order_by="Action.position", viewonly=True, foreign_keys="Action.enabler_id"
    )
