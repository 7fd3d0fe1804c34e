"""Co-production panels: members' profiles, their comments on actions, and the council's answers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models.roadmap import Action

#: what a comment's author is called once they have left the panel
FORMER_MEMBER = "former panel member"


class PanelProfile(db.Model):
    """How one panel member appears to one council, and what they want to be told.

    Made the first time the member comments or saves their settings. Leaving the panel
    anonymises the profile: ``user_id`` and ``display_name`` become NULL and ``left_at`` is set,
    so their comments stay, by a "former panel member".
    """

    __tablename__ = "panel_profiles"
    __table_args__ = (
        UniqueConstraint("user_id", "council_id", name="user_council"),
        UniqueConstraint("council_id", "display_name", name="council_display_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: NULL once the member has left (anonymised)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    #: the name shown beside their comments; a pseudonym by default; NULL once they have left
    display_name: Mapped[str | None] = mapped_column(String(60))
    #: the member has opted in to their real name appearing beyond their council's approver
    is_real_name_shown: Mapped[bool] = mapped_column(default=False)
    #: emails when a comment is answered or hidden
    is_notified_by_email: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    left_at: Mapped[datetime | None]

    @property
    def shown_name(self) -> str:
        """The name to show beside their comments."""
        return FORMER_MEMBER if self.left_at or not self.display_name else self.display_name


class Comment(db.Model):
    """A panel member's comment on one action of one council's submitted return.

    A reply (``parent_id`` set) answers a top-level comment of the same thread; replies are
    comments too, and the council answers each of them.
    """

    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_comments_return_action", "return_id", "action_id"),
        Index("ix_comments_council_created", "council_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"))
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id"))
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"))
    profile_id: Mapped[int] = mapped_column(ForeignKey("panel_profiles.id"), index=True)
    #: the top-level comment this one replies to, or NULL
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"), index=True)
    #: plain text, up to 5,000 characters; never rendered as HTML
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    edited_at: Mapped[datetime | None]
    #: the author took it back; it is no longer shown or counted
    withdrawn_at: Mapped[datetime | None]
    #: hidden by a council editor (moderation); reversible
    hidden_at: Mapped[datetime | None]
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hidden_reason: Mapped[str] = mapped_column(Text, default="")
    version_id: Mapped[int] = mapped_column(default=1)

    profile: Mapped[PanelProfile] = relationship()
    action: Mapped[Action] = relationship()
    answer: Mapped[CommentAnswer | None] = relationship(back_populates="comment", uselist=False)

    __mapper_args__ = {"version_id_col": version_id}

    @property
    def is_open(self) -> bool:
        """Waiting for the council's answer."""
        return self.answer is None and self.withdrawn_at is None and self.hidden_at is None


class CommentAnswer(db.Model):
    """The council's answer to one comment ("you said, we did" when it changed something)."""

    __tablename__ = "comment_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"), unique=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    #: the council changed something because of the comment ("you said, we did")
    is_you_said_we_did: Mapped[bool] = mapped_column(default=False)
    #: what changed, when ``is_you_said_we_did``
    change_made: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    edited_at: Mapped[datetime | None]

    comment: Mapped[Comment] = relationship(back_populates="answer")


class PanelView(db.Model):
    """The panel's own view of one action of a signed-off return: "From what you see, is this
    happening?" (``tracker.domain.vocabulary.PANEL_VIEW_NAMES``), with an optional comment.

    A member gives one view per action of a return (``profile_id`` set) and changes it rather
    than adding another. A council's approver may record views gathered at a panel meeting
    (``on_behalf``, ``meeting_on``; no profile): each counts as a separate answer. Nobody's view
    is ever shown on its own: the council sees counts only, and only from
    ``tracker.domain.visibility.MIN_PANEL_ANSWERS`` answers
    (``tracker.panels.services.panel_view_summary``).
    """

    __tablename__ = "panel_views"
    __table_args__ = (
        UniqueConstraint("return_id", "action_id", "profile_id", name="panel_view_once"),
        Index("ix_panel_views_return_action", "return_id", "action_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id"))
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"))
    #: the member whose view it is; NULL when recorded on behalf of the panel at a meeting
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("panel_profiles.id"), index=True)
    #: a key of ``PANEL_VIEW_NAMES``: yes, partly, not_yet or dont_know
    answer: Mapped[str] = mapped_column(String(16))
    #: plain text, up to 1,000 characters; never shown with a name or beside its answer
    comment: Mapped[str] = mapped_column(Text, default="")
    #: who saved it: the member, or the approver recording a meeting's views
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: gathered at a panel meeting and recorded on the panel's behalf
    on_behalf: Mapped[bool] = mapped_column(default=False)
    #: the day of that meeting
    meeting_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
