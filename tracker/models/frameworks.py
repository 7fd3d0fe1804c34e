"""A second framework beside the roadmap: the CQC's assessment framework for local authority
assurance (4 themes, 9 quality statements), and the reviewed crosswalk that links each roadmap
action to the quality statements it serves. Loaded from ``frameworks/`` like the roadmap."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db

if TYPE_CHECKING:
    from tracker.models.roadmap import Action


class PreventionTier(enum.StrEnum):
    """The Care Act's "prevent, reduce or delay" (prevention-in-action-2017.txt): which tier of
    prevention an action mainly serves. Judged from the action's wording, like its lead."""

    PRIMARY = "primary"  #: prevent: stop needs arising, for people with no current needs
    SECONDARY = "secondary"  #: reduce: early help for people at risk, to slow needs growing
    TERTIARY = "tertiary"  #: delay: for people with established needs, to delay deterioration


class CqcEvidenceCategory(enum.StrEnum):
    """The four categories of evidence the CQC uses for local authority assessments."""

    PEOPLES_EXPERIENCE = "people"
    STAFF_AND_LEADERS = "staff_leaders"
    PARTNERS = "partners"
    PROCESSES = "processes"


class Framework(db.Model):
    """An assessment framework a council is held to besides the roadmap (the CQC's)."""

    __tablename__ = "frameworks"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: stable code, e.g. "cqc-la-2023"
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    publisher: Mapped[str] = mapped_column(String(200), default="")
    published: Mapped[str] = mapped_column(String(40), default="")
    source_url: Mapped[str] = mapped_column(String(300), default="")
    licence: Mapped[str] = mapped_column(String(300), default="")
    loaded_at: Mapped[datetime | None]

    themes: Mapped[list[FrameworkTheme]] = relationship(
        back_populates="framework", order_by="FrameworkTheme.position"
    )


class FrameworkTheme(db.Model):
    """One of the framework's themes, e.g. "Working with people"."""

    __tablename__ = "framework_themes"

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id"), index=True)
    #: stable code, e.g. "cqc-la-2023:T1"
    code: Mapped[str] = mapped_column(String(80), unique=True)
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))

    framework: Mapped[Framework] = relationship(back_populates="themes")
    statements: Mapped[list[QualityStatement]] = relationship(
        back_populates="theme", order_by="QualityStatement.position"
    )


class QualityStatement(db.Model):
    """One of the framework's quality statements, e.g. "Assessing needs"."""

    __tablename__ = "quality_statements"

    id: Mapped[int] = mapped_column(primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("framework_themes.id"), index=True)
    #: stable code, e.g. "QS1"; links and URLs use it
    code: Mapped[str] = mapped_column(String(16), unique=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    #: 1 to 9, in the framework's order
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    #: the published "we statement", verbatim; empty where no published text was found
    we_statement: Mapped[str] = mapped_column(Text, default="")

    theme: Mapped[FrameworkTheme] = relationship(back_populates="statements")
    links: Mapped[list[ActionStatementLink]] = relationship(back_populates="statement")


class ActionStatementLink(db.Model):
    """The crosswalk: a roadmap action serves a quality statement, with a one-line reason."""

    __tablename__ = "action_statement_links"
    __table_args__ = (UniqueConstraint("action_id", "statement_id", name="action_statement"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"), index=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("quality_statements.id"), index=True)
    rationale: Mapped[str] = mapped_column(String(300))

    statement: Mapped[QualityStatement] = relationship(back_populates="links")
    action: Mapped[Action] = relationship(back_populates="statement_links")
