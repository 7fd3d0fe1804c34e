"""Quarterly returns: periods, each council's return, its assessments and their evidence."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models.councils import Council
from tracker.models.roadmap import Action


class PeriodStatus(enum.StrEnum):
    UPCOMING = "upcoming"  #: created, not yet open for returns
    OPEN = "open"  #: councils are filling in their returns
    CLOSED = "closed"  #: read-only


class ReturnStatus(enum.StrEnum):
    DRAFT = "draft"  #: editors are working on it
    SUBMITTED = "submitted"  #: an editor has sent it to the approver; read-only to editors
    SIGNED_OFF = "signed_off"  #: the approver (DASS) has signed it off; locked

    @property
    def label(self) -> str:
        return {"draft": "Draft", "submitted": "Submitted", "signed_off": "Signed off"}[self]

    @property
    def is_shared(self) -> bool:
        """True once the return has left the council (submitted or signed off): drafts are the
        council's own, and no comparison, aggregate or outside reader ever sees them."""
        return self is not ReturnStatus.DRAFT


class Stage(enum.StrEnum):
    """How far implementation has got (PRODUCT.md, "Scales")."""

    NOT_STARTED = "not_started"
    PLANNING = "planning"
    IMPLEMENTING = "implementing"
    EMBEDDED = "embedded"  #: business as usual
    NOT_APPLICABLE = "not_applicable"  #: not applicable locally; a reason is required

    @property
    def label(self) -> str:
        return _STAGE_WORDS[self][0]

    @property
    def hint(self) -> str:
        return _STAGE_WORDS[self][1]

    @property
    def rank(self) -> int | None:
        """The stage's place on the scale (0 = Not started … 3 = Embedded); None for Not
        applicable locally, which is outside the scale and never compared."""
        return None if self is Stage.NOT_APPLICABLE else list(Stage).index(self)

    @classmethod
    def scale(cls) -> tuple[Stage, ...]:
        """The four stages of the scale, in order (Not applicable locally is not one)."""
        return tuple(s for s in cls if s.rank is not None)


class Rag(enum.StrEnum):
    """Delivery confidence against the council's own target (PRODUCT.md, "Scales").

    Required while the stage is Planning or Implementing.
    """

    GREEN = "green"  #: on course to reach the target stage by the target date
    AMBER = "amber"  #: at risk, mitigation in place
    RED = "red"  #: will miss the target, or blocked without intervention

    @property
    def label(self) -> str:
        return _RAG_WORDS[self][0]

    @property
    def hint(self) -> str:
        return _RAG_WORDS[self][1]

    @property
    def rank(self) -> int:
        """Worst first: Red 0, Amber 1, Green 2 (a higher rank is better)."""
        return {Rag.RED: 0, Rag.AMBER: 1, Rag.GREEN: 2}[self]


#: each stage's label and hint (PRODUCT.md, "Scales"); every surface reads them through the enum
_STAGE_WORDS = {
    Stage.NOT_STARTED: ("Not started", "No work on it has begun"),
    Stage.PLANNING: ("Planning", "Work is being scoped, agreed or resourced"),
    Stage.IMPLEMENTING: ("Implementing", "Changes are being made"),
    Stage.EMBEDDED: ("Embedded", "Business as usual"),
    Stage.NOT_APPLICABLE: (
        "Not applicable locally",
        "The action does not apply to this council; give the reason",
    ),
}
_RAG_WORDS = {
    Rag.GREEN: ("Green", "On course to reach the target stage by the target date"),
    Rag.AMBER: ("Amber", "At risk, with mitigation in place"),
    Rag.RED: ("Red", "Will miss the target, or is blocked without intervention"),
}


#: the most recommendations a Director may put to the board with a signed-off return
MAX_RECOMMENDATIONS = 5

#: every field of an assessment that a person edits, in the order of the form and exports; the
#: same fields are carried forward into the next quarter's draft
ASSESSMENT_FIELDS = (
    "stage",
    "rag",
    "not_applicable_reason",
    "narrative",
    "next_steps",
    "barriers",
    "barrier_detail",
    "lead_officer",
    "target_stage",
    "target_period",
    "is_co_produced",
    "co_production_how",
    "partners",
    "spend_types",
    "amount_pounds",
    "funding_source",
)

#: the shared practice of an assessment ("Learning from peers"), saved from the assessment form
#: only: not in the spreadsheet template or bulk edit, whose columns are ASSESSMENT_FIELDS. They
#: are carried forward with it, so a council keeps sharing until it says otherwise.
PRACTICE_FIELDS = ("practice_shared", "practice_note", "practice_contact")


class Period(db.Model):
    """A UK financial-year quarter, e.g. "2025-26 Q3" (October to December 2025)."""

    __tablename__ = "periods"
    __table_args__ = (
        UniqueConstraint("year", "quarter", name="year_quarter"),
        CheckConstraint("quarter BETWEEN 1 AND 4", name="quarter_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the calendar year the financial year starts in: 2025 for 2025-26
    year: Mapped[int]
    quarter: Mapped[int]
    label: Mapped[str] = mapped_column(String(12), unique=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    #: the date returns are due; reminders go a week before
    closes_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(10), default=PeriodStatus.UPCOMING)
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    #: set when the "a week to go" reminder has been sent, so it goes once
    reminder_sent_at: Mapped[datetime | None]

    @property
    def sort_key(self) -> int:
        return self.year * 4 + self.quarter


class Return(db.Model):
    """One council's return for one period."""

    __tablename__ = "returns"
    __table_args__ = (UniqueConstraint("council_id", "period_id", name="council_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=ReturnStatus.DRAFT)
    #: the return this one was carried forward from, if any
    carried_from_id: Mapped[int | None] = mapped_column(ForeignKey("returns.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    submitted_at: Mapped[datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signed_off_at: Mapped[datetime | None]
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: the approver's comments when they last sent the return back to the editors
    returned_comment: Mapped[str] = mapped_column(Text, default="")
    reopen_reason: Mapped[str] = mapped_column(Text, default="")
    #: the Director's summary for the board, written on the sign-off page (the board paper's
    #: "Summary from the Director")
    director_summary: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: what the board is asked to do: up to :data:`MAX_RECOMMENDATIONS` sentences, in order
    board_recommendations: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    version_id: Mapped[int] = mapped_column(default=1)
    #: moved by a database trigger whenever an assessment of the return changes while it is
    #: submitted or signed off, however it was changed (tracker/models/shared.py); never set
    #: by the app
    data_version: Mapped[int] = mapped_column(default=0, server_default="0")

    council: Mapped[Council] = relationship()
    period: Mapped[Period] = relationship()
    assessments: Mapped[list[Assessment]] = relationship(
        back_populates="return_", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version_id}


assessment_evidence = Table(
    "assessment_evidence",
    db.metadata,
    Column("assessment_id", ForeignKey("assessments.id", ondelete="CASCADE"), primary_key=True),
    Column("evidence_id", ForeignKey("evidence.id", ondelete="CASCADE"), primary_key=True),
)


class Assessment(db.Model):
    """A council's assessment of one action in one return."""

    __tablename__ = "assessments"
    __table_args__ = (
        UniqueConstraint("return_id", "action_id", name="return_action"),
        Index("ix_assessments_action_stage", "action_id", "stage"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"))
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"))
    #: None until someone assesses the action; see Stage
    stage: Mapped[str | None] = mapped_column(String(16))
    #: see Rag; None outside Planning and Implementing
    rag: Mapped[str | None] = mapped_column(String(8))
    not_applicable_reason: Mapped[str] = mapped_column(Text, default="")
    narrative: Mapped[str] = mapped_column(Text, default="")
    next_steps: Mapped[str] = mapped_column(Text, default="")
    #: codes from BARRIERS, several allowed
    barriers: Mapped[list] = mapped_column(JSON, default=list)
    barrier_detail: Mapped[str] = mapped_column(Text, default="")
    lead_officer: Mapped[str] = mapped_column(String(120), default="")
    target_stage: Mapped[str | None] = mapped_column(String(16))
    #: a period label such as "2026-27 Q2"; the period need not exist yet
    target_period: Mapped[str | None] = mapped_column(String(12))
    is_co_produced: Mapped[bool | None]
    co_production_how: Mapped[str] = mapped_column(Text, default="")
    partners: Mapped[str] = mapped_column(Text, default="")
    #: letters from T, S, C, A: the types of spend used
    spend_types: Mapped[str] = mapped_column(String(4), default="")
    amount_pounds: Mapped[int | None]
    funding_source: Mapped[str | None] = mapped_column(String(24))
    #: the council shares how it did this with other councils ("Councils that have embedded
    #: this"): a short practice note and a contact role (not a personal address unless it
    #: chooses one)
    practice_shared: Mapped[bool] = mapped_column(default=False, server_default=false())
    practice_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    practice_contact: Mapped[str] = mapped_column(String(200), default="", server_default="")
    #: copied from last quarter and not yet touched by anyone this quarter
    is_carried_forward: Mapped[bool] = mapped_column(default=False)
    #: when someone looked at a carried-forward answer this quarter and confirmed it unchanged
    #: (its review state is then "confirmed unchanged"; see tracker.domain.vocabulary.ReviewState)
    confirmed_at: Mapped[datetime | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime | None]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version_id: Mapped[int] = mapped_column(default=1)

    return_: Mapped[Return] = relationship(back_populates="assessments")
    action: Mapped[Action] = relationship()
    evidence: Mapped[list[Evidence]] = relationship(
        secondary=assessment_evidence, back_populates="assessments"
    )

    __mapper_args__ = {"version_id_col": version_id}


class Evidence(db.Model):
    """A document, link or file that supports one or more assessments of one council."""

    __tablename__ = "evidence"
    __table_args__ = (
        CheckConstraint("(url IS NULL) <> (stored_name IS NULL)", name="link_or_file"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    #: strategy, board_paper, data, case_study, co_production, other
    evidence_type: Mapped[str] = mapped_column(String(20))
    dated_on: Mapped[date | None]
    #: an https link, or None for an uploaded file
    url: Mapped[str | None] = mapped_column(String(2000))
    #: the generated name the file is stored under, outside static/
    stored_name: Mapped[str | None] = mapped_column(String(64), unique=True)
    original_name: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int | None]
    sha256: Mapped[str | None] = mapped_column(String(64))
    #: the CQC evidence category (tracker.models.frameworks.CqcEvidenceCategory), optional
    cqc_category: Mapped[str | None] = mapped_column(String(20))
    #: shown to the council's co-production panel
    is_published_to_panel: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    assessments: Mapped[list[Assessment]] = relationship(
        secondary=assessment_evidence, back_populates="evidence"
    )


class ReturnSnapshot(db.Model):
    """A return frozen as it was when signed off, so later edits never change a past quarter."""

    __tablename__ = "return_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id"), index=True)
    taken_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    data: Mapped[dict] = mapped_column(JSON)
