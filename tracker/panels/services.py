"""Co-production panels: comments on a return's actions, the council's answers, and members' data.

Rules:

- Panel members comment on the actions of their council's submitted or signed-off returns,
  never on a draft. A reply belongs to a top-level comment of the same thread (a reply to a
  reply joins its parent's thread). Comments are plain text, up to 5,000 characters.
- Each comment, reply or not, is open until a council editor answers it. Authors may edit an
  open comment of theirs, or withdraw any of theirs.
- Council editors hide a comment with a reason (the author is told) and may show it again.
- Members appear under a display name (a pseudonym by default). Their real name is shown to
  their council's approver and to themselves only
  (``tracker.domain.visibility.may_see_panel_member_names``); the board report names a member
  only when they opted in.
- Leaving anonymises the member's profile: their comments stay, by a "former panel member".

Counting (:func:`comment_totals`): a comment is *received* unless its author withdrew it;
*answered* when it has an answer; *hidden* when hidden and not answered; *open* otherwise.
So ``received == answered + hidden + open``. Top-level comments and replies count alike.

Every change is audited; every function flushes and the caller commits once. Emails go after the
commit (``notify_*``).
"""

from __future__ import annotations

import csv
import io
import logging
import re
import secrets
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import render_template
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased, selectinload

from tracker import audit
from tracker.accounts.services import end_sessions, link_to
from tracker.clock import to_uk, uk_today, utcnow
from tracker.domain.periods import label_to_url, months, working_days_between
from tracker.domain.visibility import PANEL_VIEW_WITHHELD, panel_view_refusal
from tracker.domain.vocabulary import PANEL_VIEW_KEYS, action_name
from tracker.extensions import db
from tracker.mail import send_mail
from tracker.models import (
    FORMER_MEMBER,
    Action,
    ActionArea,
    Assessment,
    Comment,
    CommentAnswer,
    Council,
    Evidence,
    Membership,
    PanelProfile,
    PanelView,
    Period,
    Rag,
    Return,
    ReturnStatus,
    Role,
    Stage,
    User,
    assessment_evidence,
)
from tracker.returns.spreadsheet import neutralise

log = logging.getLogger(__name__)

#: the longest comment, reply or answer
MAX_BODY = 5000
MAX_REASON = 1000
MAX_DISPLAY_NAME = 60
#: the longest comment with a panel member's view of an action
MAX_VIEW_COMMENT = 1000
NAME_TAKEN = "Someone on the panel already uses that name: choose another"
#: control characters other than tab and line feed: never stored (PostgreSQL refuses NUL)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class PanelError(ValueError):
    """A change that is refused; the message says why, in words for the person."""


# -- text ---------------------------------------------------------------------------------------


def clean_text(text: str | None) -> str:
    """Line endings as ``\\n``, control characters removed, outer blank space trimmed."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text).strip()


def _checked_body(text: str | None, thing: str = "your comment") -> str:
    body = clean_text(text)
    if not body:
        raise PanelError(f"Enter {thing}")
    if len(body) > MAX_BODY:
        raise PanelError(f"{thing[0].upper()}{thing[1:]} must be 5,000 characters or fewer")
    return body


# -- figures for the dashboard and the board report ---------------------------------------------


@dataclass(frozen=True)
class CommentTotals:
    """How many comments (top-level and replies alike) one council's return received.

    ``received`` excludes withdrawn comments; ``received == answered + hidden + open``.
    """

    received: int = 0
    answered: int = 0
    open: int = 0
    #: hidden by the council and not answered
    hidden: int = 0
    #: answers marked "you said, we did"
    you_said_we_did: int = 0


def comment_totals(council: Council, period: Period) -> CommentTotals:
    """The comment figures of ``council``'s return for ``period``, in one SQL query.

    :returns: zeros when the council has no return, or no comments, for the period.
    """
    answered = CommentAnswer.id.is_not(None)
    hidden = and_(CommentAnswer.id.is_(None), Comment.hidden_at.is_not(None))
    open_ = and_(CommentAnswer.id.is_(None), Comment.hidden_at.is_(None))
    ysd = and_(answered, CommentAnswer.is_you_said_we_did.is_(True))

    def total(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    row = db.session.execute(
        select(
            func.count(Comment.id),
            total(answered),
            total(open_),
            total(hidden),
            total(ysd),
        )
        .select_from(Comment)
        .join(Return, Return.id == Comment.return_id)
        .outerjoin(CommentAnswer, CommentAnswer.comment_id == Comment.id)
        .where(
            Comment.council_id == council.id,
            Return.council_id == council.id,
            Return.period_id == period.id,
            Comment.withdrawn_at.is_(None),
        )
    ).one()
    received, answered_n, open_n, hidden_n, ysd_n = (int(value or 0) for value in row)
    return CommentTotals(
        received=received,
        answered=answered_n,
        open=open_n,
        hidden=hidden_n,
        you_said_we_did=ysd_n,
    )


#: how many working days a council aims to take to answer a comment, unless it sets its own
DEFAULT_ANSWER_DAYS = 20
#: the longest aim a council may set
MAX_ANSWER_DAYS = 120


def working_age(since: datetime, now: datetime | None = None) -> int:
    """How many working days (Monday to Friday, UK dates) have passed since ``since`` (UTC).
    Bank holidays count as working days."""
    return working_days_between(to_uk(since).date(), to_uk(now or utcnow()).date())


def is_overdue(age: int, aim_days: int) -> bool:
    """A comment waiting ``age`` working days is overdue once it is past the council's aim."""
    return age > aim_days


def set_answer_days(council: Council, days: int, *, actor: User) -> None:
    """The council's approver sets how many working days the council aims to take to answer a
    comment (audited).

    :raises PanelError: outside 1 to :data:`MAX_ANSWER_DAYS`.
    """
    if not 1 <= days <= MAX_ANSWER_DAYS:
        raise PanelError(f"Enter a number of working days from 1 to {MAX_ANSWER_DAYS}")
    before = {"panel_answer_days": council.panel_answer_days}
    council.panel_answer_days = days
    db.session.flush()
    audit.record(
        actor=actor,
        action="panel.answer_days",
        object_type="council",
        object_id=council.id,
        council_id=council.id,
        before=before,
        after={"panel_answer_days": days},
    )


@dataclass(frozen=True)
class AnswerTimes:
    """How quickly a council answers its panel: the median time to answer (working days) and
    how many comments wait longer than the council's aim."""

    #: the council's aim (``Council.panel_answer_days``)
    aim_days: int = DEFAULT_ANSWER_DAYS
    #: comments answered (withdrawn ones left out)
    answered: int = 0
    #: the median working days from comment to answer; None with no answers
    median_days: float | None = None
    #: comments still waiting (not hidden or withdrawn) for longer than the aim
    overdue: int = 0

    @property
    def median_words(self) -> str:
        """``"4 working days"``, ``"2.5 working days"``; empty with no answers."""
        if self.median_days is None:
            return ""
        days = self.median_days
        number = f"{days:g}"
        return f"{number} working day{'' if days == 1 else 's'}"


def answer_times(
    council: Council, period: Period | None = None, *, now: datetime | None = None
) -> AnswerTimes:
    """The median answer time and the number overdue of ``council``'s comments (on its return
    for ``period``, or on every return), in one SQL query; working days are counted in Python
    (Monday to Friday of the UK dates), since no database here has a working-day calendar."""
    query = (
        select(Comment.created_at, CommentAnswer.answered_at, Comment.hidden_at)
        .join(Return, Return.id == Comment.return_id)
        .outerjoin(CommentAnswer, CommentAnswer.comment_id == Comment.id)
        .where(
            Comment.council_id == council.id,
            Return.council_id == council.id,
            Comment.withdrawn_at.is_(None),
        )
    )
    if period is not None:
        query = query.where(Return.period_id == period.id)
    now = now or utcnow()
    aim = council.panel_answer_days or DEFAULT_ANSWER_DAYS
    taken: list[int] = []
    overdue = 0
    for created_at, answered_at, hidden_at in db.session.execute(query):
        if answered_at is not None:
            taken.append(working_age(created_at, answered_at))
        elif hidden_at is None and is_overdue(working_age(created_at, now), aim):
            overdue += 1
    return AnswerTimes(
        aim_days=aim,
        answered=len(taken),
        median_days=statistics.median(taken) if taken else None,
        overdue=overdue,
    )


@dataclass(frozen=True)
class YouSaidWeDid:
    """One "you said, we did": a comment, the council's answer and the change it made."""

    action_code: str
    comment: str
    answer: str
    change_made: str
    #: the member's display name, their real name only if they opted in (or the reader may see
    #: it), or "former panel member"
    name: str
    answered_at: datetime

    @property
    def display_name(self) -> str:
        """The same as ``name`` (the name readers outside the council may see)."""
        return self.name


def public_name(profile: PanelProfile, real_name: str | None, *, shows_real_names: bool) -> str:
    """The name of a comment's author: their real name when the reader may see it
    (``shows_real_names``, from ``may_see_panel_member_names``) or the member chose to show it
    ("Show my real name in regional pages and reports"); otherwise their display name, or
    "former panel member" once they have left."""
    if profile.left_at or not profile.display_name:
        return FORMER_MEMBER
    if (shows_real_names or profile.is_real_name_shown) and real_name:
        return real_name
    return profile.display_name


def list_you_said_we_did(
    council: Council, period: Period, limit: int | None = 5, *, shows_real_names: bool = False
) -> list[YouSaidWeDid]:
    """The newest answers marked "you said, we did" on ``council``'s return for ``period``
    (at most ``limit``; every one when None).

    Hidden and withdrawn comments are left out. Names are display names, never real names
    unless the member opted in (or ``shows_real_names``: reports pass
    ``may_see_panel_member_names(None, council)``, which is False).
    """
    rows = db.session.execute(
        select(Comment, CommentAnswer, Action.code, PanelProfile, User.display_name)
        .join(CommentAnswer, CommentAnswer.comment_id == Comment.id)
        .join(Return, Return.id == Comment.return_id)
        .join(Action, Action.id == Comment.action_id)
        .join(PanelProfile, PanelProfile.id == Comment.profile_id)
        .outerjoin(User, User.id == PanelProfile.user_id)
        .where(
            Comment.council_id == council.id,
            Return.council_id == council.id,
            Return.period_id == period.id,
            Comment.withdrawn_at.is_(None),
            Comment.hidden_at.is_(None),
            CommentAnswer.is_you_said_we_did.is_(True),
        )
        .order_by(CommentAnswer.answered_at.desc(), CommentAnswer.id.desc())
        .limit(limit)
    ).all()
    return [
        YouSaidWeDid(
            action_code=code,
            comment=comment.body,
            answer=answer.body,
            change_made=answer.change_made,
            name=public_name(profile, real_name, shows_real_names=shows_real_names),
            answered_at=answer.answered_at,
        )
        for comment, answer, code, profile, real_name in rows
    ]


# -- profiles -----------------------------------------------------------------------------------


def get_profile(user: User, council: Council) -> PanelProfile | None:
    """The member's profile for ``council``, or None before they first comment or save it."""
    return db.session.scalar(
        select(PanelProfile).where(
            PanelProfile.user_id == user.id, PanelProfile.council_id == council.id
        )
    )


def _name_taken(council: Council, name: str, *, except_id: int | None = None) -> bool:
    query = select(PanelProfile.id).where(
        PanelProfile.council_id == council.id,
        func.lower(PanelProfile.display_name) == name.lower(),
    )
    if except_id is not None:
        query = query.where(PanelProfile.id != except_id)
    return db.session.scalar(query.limit(1)) is not None


def suggest_display_name(council: Council) -> str:
    """A pseudonym not yet used in the council, e.g. "Panel member 4821"."""
    for _ in range(50):
        name = f"Panel member {secrets.randbelow(9000) + 1000}"
        if not _name_taken(council, name):
            return name
    return f"Panel member {secrets.token_hex(4)}"


def ensure_profile(user: User, council: Council) -> PanelProfile:
    """The member's profile for ``council``, made with a pseudonym if they have none yet."""
    profile = get_profile(user, council)
    if profile is None:
        profile = PanelProfile(
            user_id=user.id, council_id=council.id, display_name=suggest_display_name(council)
        )
        db.session.add(profile)
        db.session.flush()
    return profile


def update_profile(
    user: User,
    council: Council,
    *,
    display_name: str,
    is_real_name_shown: bool,
    is_notified_by_email: bool,
) -> PanelProfile:
    """Save the member's display name and choices.

    :raises PanelError: when the name is empty, too long, or another member of the panel uses it.
    """
    name = " ".join(clean_text(display_name).split())
    if not name:
        raise PanelError("Enter the name to show beside your comments")
    if len(name) > MAX_DISPLAY_NAME:
        raise PanelError("Your name on comments must be 60 characters or fewer")
    if name.lower() == FORMER_MEMBER:
        raise PanelError("Choose a different name")
    profile = ensure_profile(user, council)
    if _name_taken(council, name, except_id=profile.id):
        raise PanelError(NAME_TAKEN)
    fields = ["display_name", "is_real_name_shown", "is_notified_by_email"]
    before = audit.snapshot(profile, fields)
    profile.display_name = name
    profile.is_real_name_shown = is_real_name_shown
    profile.is_notified_by_email = is_notified_by_email
    db.session.flush()
    audit.record(
        actor=user,
        action="panel_profile.update",
        object_type="panel_profile",
        object_id=profile.id,
        council_id=council.id,
        before=before,
        after=audit.snapshot(profile, fields),
    )
    return profile


# -- comments -----------------------------------------------------------------------------------


def get_action(code: str) -> Action | None:
    """The action with this code, or None."""
    return db.session.scalar(select(Action).where(Action.code == code))


def get_comment(council: Council, return_: Return, action: Action, comment_id: object) -> Comment:
    """The comment ``comment_id`` of this thread (return and action of ``council``).

    :raises LookupError: when there is no such comment in this thread.
    """
    try:
        number = int(str(comment_id))
    except (TypeError, ValueError):
        raise LookupError(comment_id) from None
    if not 0 < number < 2**31:
        raise LookupError(comment_id)
    comment = db.session.scalar(
        select(Comment).where(
            Comment.id == number,
            Comment.council_id == council.id,
            Comment.return_id == return_.id,
            Comment.action_id == action.id,
        )
    )
    if comment is None:
        raise LookupError(comment_id)
    return comment


def is_author(comment: Comment, user: User) -> bool:
    """True when ``user`` wrote ``comment`` (and has not left the panel since)."""
    return comment.profile.user_id == user.id and comment.profile.left_at is None


def add_comment(
    return_: Return,
    action: Action,
    body: str,
    *,
    actor: User,
    parent: Comment | None = None,
) -> Comment:
    """A panel member's comment (or reply to ``parent``) on ``action`` of ``return_``.

    :raises PanelError: for a draft return, an empty or too long comment, or a reply to a
        comment that is withdrawn or hidden.
    """
    if return_.status == ReturnStatus.DRAFT:
        raise PanelError("You can comment once the council has submitted this return")
    text = _checked_body(body)
    if parent is not None:
        if parent.return_id != return_.id or parent.action_id != action.id:
            raise PanelError("You can only reply to a comment on this action")
        if parent.parent_id is not None:
            parent = db.session.get(Comment, parent.parent_id)
        if parent is None or parent.withdrawn_at or parent.hidden_at:
            raise PanelError("That comment can no longer be replied to")
    council = db.session.get(Council, return_.council_id)
    assert council is not None
    profile = ensure_profile(actor, council)
    comment = Comment(
        council_id=return_.council_id,
        return_id=return_.id,
        action_id=action.id,
        profile_id=profile.id,
        parent_id=parent.id if parent else None,
        body=text,
        created_at=utcnow(),
        hidden_reason="",
    )
    db.session.add(comment)
    db.session.flush()
    # The body is personal data: the trail records that a comment was made, not what it said.
    audit.record(
        actor=actor,
        action="comment.create",
        object_type="comment",
        object_id=comment.id,
        council_id=council.id,
        after={"action": action.code, "return_id": return_.id, "parent_id": comment.parent_id},
    )
    return comment


def edit_comment(comment: Comment, body: str, *, actor: User, expected_version: int | None) -> None:
    """The author changes their open comment.

    :raises PanelError: when it is not theirs, is answered, hidden or withdrawn, is empty or too
        long, or changed since they opened it (``expected_version``).
    """
    if not is_author(comment, actor):
        raise PanelError("You can only change your own comments")
    if comment.withdrawn_at or comment.hidden_at:
        raise PanelError("This comment can no longer be changed")
    if comment.answer is not None:
        raise PanelError("The council has answered this comment, so it can no longer be changed")
    if expected_version is not None and expected_version != comment.version_id:
        raise PanelError("This comment changed since you opened it: check it and try again")
    text = _checked_body(body)
    comment.body = text
    comment.edited_at = utcnow()
    db.session.flush()
    audit.record(
        actor=actor,
        action="comment.edit",
        object_type="comment",
        object_id=comment.id,
        council_id=comment.council_id,
    )


def withdraw_comment(comment: Comment, *, actor: User) -> None:
    """The author takes their comment back: it is no longer shown or counted.

    :raises PanelError: when it is not theirs or is already withdrawn.
    """
    if not is_author(comment, actor):
        raise PanelError("You can only withdraw your own comments")
    if comment.withdrawn_at:
        raise PanelError("This comment is already withdrawn")
    comment.withdrawn_at = utcnow()
    db.session.flush()
    audit.record(
        actor=actor,
        action="comment.withdraw",
        object_type="comment",
        object_id=comment.id,
        council_id=comment.council_id,
    )


def answer_comment(
    comment: Comment,
    body: str,
    *,
    actor: User,
    is_you_said_we_did: bool = False,
    change_made: str = "",
) -> CommentAnswer:
    """A council editor's answer to ``comment`` (or a change to the answer already given).

    :raises PanelError: when the comment is withdrawn, the answer is empty or too long, or a
        "you said, we did" answer does not say what changed.
    """
    if comment.withdrawn_at:
        raise PanelError("This comment was withdrawn by its author")
    text = _checked_body(body, "your answer")
    change = clean_text(change_made) if is_you_said_we_did else ""
    if is_you_said_we_did and not change:
        raise PanelError("Enter the change the council made")
    if len(change) > MAX_BODY:
        raise PanelError("The change made must be 5,000 characters or fewer")
    answer = comment.answer
    fields = ["body", "is_you_said_we_did", "change_made"]
    if answer is None:
        answer = CommentAnswer(
            comment_id=comment.id,
            author_id=actor.id,
            body=text,
            is_you_said_we_did=is_you_said_we_did,
            change_made=change,
            answered_at=utcnow(),
        )
        db.session.add(answer)
        comment.answer = answer
        verb, before = "answer", None
    else:
        verb, before = "answer_edit", {"is_you_said_we_did": answer.is_you_said_we_did}
        answer.body, answer.change_made = text, change
        answer.is_you_said_we_did = is_you_said_we_did
        answer.author_id = actor.id
        answer.edited_at = utcnow()
    db.session.flush()
    audit.record(
        actor=actor,
        action=f"comment.{verb}",
        object_type="comment",
        object_id=comment.id,
        council_id=comment.council_id,
        before=before,
        after={k: v for k, v in audit.snapshot(answer, fields).items() if k == fields[1]},
    )
    return answer


def hide_comment(comment: Comment, reason: str, *, actor: User) -> None:
    """A council editor hides ``comment`` from the panel, with a reason the author is told.

    :raises PanelError: without a reason, or when it is already hidden or withdrawn.
    """
    text = clean_text(reason)
    if not text:
        raise PanelError("Enter the reason for hiding this comment")
    if len(text) > MAX_REASON:
        raise PanelError("The reason must be 1,000 characters or fewer")
    if comment.withdrawn_at:
        raise PanelError("This comment was withdrawn by its author")
    if comment.hidden_at:
        raise PanelError("This comment is already hidden")
    comment.hidden_at = utcnow()
    comment.hidden_by_id = actor.id
    comment.hidden_reason = text
    db.session.flush()
    audit.record(
        actor=actor,
        action="comment.hide",
        object_type="comment",
        object_id=comment.id,
        council_id=comment.council_id,
        after={"hidden_reason": text},
    )


def unhide_comment(comment: Comment, *, actor: User) -> None:
    """Show a hidden comment again.

    :raises PanelError: when it is not hidden.
    """
    if not comment.hidden_at:
        raise PanelError("This comment is not hidden")
    before = {"hidden_reason": comment.hidden_reason}
    comment.hidden_at = None
    comment.hidden_by_id = None
    comment.hidden_reason = ""
    db.session.flush()
    audit.record(
        actor=actor,
        action="comment.unhide",
        object_type="comment",
        object_id=comment.id,
        council_id=comment.council_id,
        before=before,
    )


# -- reading threads and lists -------------------------------------------------------------------


@dataclass
class ThreadComment:
    """A comment as a thread shows it, with its replies."""

    comment: Comment
    name: str
    #: the member's real name, for the council's approver only (``shows_real_names``); else None
    real_name: str | None
    is_mine: bool
    replies: list[ThreadComment] = field(default_factory=list)


@dataclass
class Thread:
    """The comments on one action of one return, oldest first, replies under their comment."""

    comments: list[ThreadComment]
    total: int
    open: int


def get_thread(return_: Return, action: Action, *, viewer: User, shows_real_names: bool) -> Thread:
    """The thread of ``action`` on ``return_`` as ``viewer`` may see it (three queries).

    :param shows_real_names: ``may_see_panel_member_names`` for the viewer and the council.

    Withdrawn comments are left out, unless they have replies. Hidden comments are kept (the
    template shows their text only to the council's staff and the author).
    """
    rows = db.session.execute(
        select(Comment, PanelProfile, User.display_name)
        .join(PanelProfile, PanelProfile.id == Comment.profile_id)
        .outerjoin(User, User.id == PanelProfile.user_id)
        .options(selectinload(Comment.answer))
        .where(Comment.return_id == return_.id, Comment.action_id == action.id)
        .order_by(Comment.created_at, Comment.id)
    ).all()
    items: dict[int, ThreadComment] = {}
    top: list[ThreadComment] = []
    for comment, profile, real_name in rows:
        item = ThreadComment(
            comment=comment,
            name=profile.shown_name,
            real_name=real_name if shows_real_names and not profile.left_at else None,
            is_mine=profile.user_id == viewer.id and profile.left_at is None,
        )
        items[comment.id] = item
        if comment.parent_id and comment.parent_id in items:
            items[comment.parent_id].replies.append(item)
        else:
            top.append(item)
    visible = [
        t
        for t in top
        if not t.comment.withdrawn_at or any(not r.comment.withdrawn_at for r in t.replies)
    ]
    for t in visible:
        t.replies = [r for r in t.replies if not r.comment.withdrawn_at]
    live = [c for c, _p, _n in rows if not c.withdrawn_at]
    return Thread(
        comments=visible,
        total=len(live),
        open=sum(1 for c in live if c.is_open),
    )


@dataclass(frozen=True)
class AwaitingComment:
    """A comment waiting for the council's answer."""

    comment_id: int
    body: str
    name: str
    created_at: datetime
    action_code: str
    period_label: str
    period_slug: str
    is_reply: bool
    #: the member's real name, for the council's approver only (``shows_real_names``); else None
    real_name: str | None = None
    #: the action's title (its text), shown beside its code
    action_title: str = ""
    #: working days since it was written
    age_days: int = 0
    #: waiting longer than the council's aim (``Council.panel_answer_days``)
    is_overdue: bool = False


def list_awaiting(
    council: Council, *, shows_real_names: bool = False, now: datetime | None = None
) -> list[AwaitingComment]:
    """Every comment of ``council`` waiting for an answer: the overdue ones first, then the
    rest, each oldest first (one query). Ages are working days (:func:`working_age`).

    :param shows_real_names: ``may_see_panel_member_names`` for the reader and the council.
    """
    rows = db.session.execute(
        select(Comment, PanelProfile, Action.code, Period.label, User.display_name, Action.text)
        .join(PanelProfile, PanelProfile.id == Comment.profile_id)
        .join(Action, Action.id == Comment.action_id)
        .join(Return, Return.id == Comment.return_id)
        .join(Period, Period.id == Return.period_id)
        .outerjoin(User, User.id == PanelProfile.user_id)
        .outerjoin(CommentAnswer, CommentAnswer.comment_id == Comment.id)
        .where(
            Comment.council_id == council.id,
            Return.council_id == council.id,
            CommentAnswer.id.is_(None),
            Comment.withdrawn_at.is_(None),
            Comment.hidden_at.is_(None),
        )
        .order_by(Comment.created_at, Comment.id)
    ).all()
    now = now or utcnow()
    aim = council.panel_answer_days or DEFAULT_ANSWER_DAYS
    ages = {comment.id: working_age(comment.created_at, now) for comment, *_rest in rows}
    items = [
        AwaitingComment(
            comment_id=comment.id,
            body=comment.body,
            name=profile.shown_name,
            created_at=comment.created_at,
            action_code=code,
            period_label=label,
            period_slug=label_to_url(label),
            is_reply=comment.parent_id is not None,
            real_name=real_name if shows_real_names and not profile.left_at else None,
            action_title=title,
            age_days=ages[comment.id],
            is_overdue=is_overdue(ages[comment.id], aim),
        )
        for comment, profile, code, label, real_name, title in rows
    ]
    return sorted(items, key=lambda item: not item.is_overdue)  # stable: oldest first within


def _awaiting():
    """SQL: the comment waits for an answer (needs the outer join to its answer)."""
    return and_(
        CommentAnswer.id.is_(None), Comment.withdrawn_at.is_(None), Comment.hidden_at.is_(None)
    )


def count_awaiting(council: Council) -> int:
    """How many of ``council``'s comments wait for an answer."""
    return (
        db.session.scalar(
            select(func.count(Comment.id))
            .outerjoin(CommentAnswer, CommentAnswer.comment_id == Comment.id)
            .where(Comment.council_id == council.id, _awaiting())
        )
        or 0
    )


@dataclass(frozen=True)
class AwaitingCount:
    """How many of a council's comments wait for an answer, and since when the oldest has."""

    count: int
    oldest_at: datetime


def count_awaiting_by_council(council_ids: Iterable[int]) -> dict[int, AwaitingCount]:
    """Council id → its comments awaiting an answer (as :func:`count_awaiting`) and when the
    oldest was written; councils with none are absent. One grouped query."""
    ids = sorted(set(council_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(Comment.council_id, func.count(Comment.id), func.min(Comment.created_at))
        .outerjoin(CommentAnswer, CommentAnswer.comment_id == Comment.id)
        .where(Comment.council_id.in_(ids), _awaiting())
        .group_by(Comment.council_id)
    )
    return {council_id: AwaitingCount(int(n), oldest) for council_id, n, oldest in rows}


@dataclass(frozen=True)
class MyCommentCounts:
    """A member's own comments in one council (not withdrawn), and how many have an answer."""

    written: int
    answered: int


def count_my_comments(user: User, council_ids: Iterable[int]) -> dict[int, MyCommentCounts]:
    """Council id → the member's comments there that they have not withdrawn, and how many of
    those the council has answered. One grouped query; councils with none are absent."""
    ids = sorted(set(council_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(
            Comment.council_id,
            func.count(Comment.id),
            func.count(CommentAnswer.id),
        )
        .join(PanelProfile, PanelProfile.id == Comment.profile_id)
        .outerjoin(CommentAnswer, CommentAnswer.comment_id == Comment.id)
        .where(
            PanelProfile.user_id == user.id,
            PanelProfile.council_id == Comment.council_id,
            Comment.council_id.in_(ids),
            Comment.withdrawn_at.is_(None),
        )
        .group_by(Comment.council_id)
    )
    return {council_id: MyCommentCounts(int(n), int(a)) for council_id, n, a in rows}


def count_thread(return_: Return, action: Action) -> int:
    """How many comments (not withdrawn) the action has on this return."""
    return (
        db.session.scalar(
            select(func.count(Comment.id)).where(
                Comment.return_id == return_.id,
                Comment.action_id == action.id,
                Comment.withdrawn_at.is_(None),
            )
        )
        or 0
    )


@dataclass(frozen=True)
class MyComment:
    """One of the member's own comments, for their panel page and their download."""

    comment: Comment
    action_code: str
    period_label: str
    period_slug: str
    #: the action's title (its text), shown beside its code
    action_title: str = ""


def list_my_comments(user: User, council: Council) -> list[MyComment]:
    """The member's comments in ``council``, newest first, with their answers loaded."""
    rows = db.session.execute(
        select(Comment, Action.code, Period.label, Action.text)
        .join(PanelProfile, PanelProfile.id == Comment.profile_id)
        .join(Action, Action.id == Comment.action_id)
        .join(Return, Return.id == Comment.return_id)
        .join(Period, Period.id == Return.period_id)
        .options(selectinload(Comment.answer))
        .where(
            PanelProfile.user_id == user.id,
            PanelProfile.council_id == council.id,
            Comment.council_id == council.id,
        )
        .order_by(Comment.created_at.desc(), Comment.id.desc())
    ).all()
    return [
        MyComment(
            comment=c,
            action_code=code,
            period_label=label,
            period_slug=label_to_url(label),
            action_title=title,
        )
        for c, code, label, title in rows
    ]


def list_panel_returns(council: Council) -> list[Return]:
    """The council's submitted and signed-off returns, newest first: what its panel reads."""
    return list(
        db.session.scalars(
            select(Return)
            .join(Period, Period.id == Return.period_id)
            .options(selectinload(Return.period))
            .where(Return.council_id == council.id, Return.status != ReturnStatus.DRAFT)
            .order_by(Period.year.desc(), Period.quarter.desc())
        )
    )


def list_published_evidence(return_: Return, action: Action) -> list[Evidence]:
    """The evidence for ``action`` on ``return_`` that the council shows its panel."""
    return list(
        db.session.scalars(
            select(Evidence)
            .join(assessment_evidence, assessment_evidence.c.evidence_id == Evidence.id)
            .join(Assessment, Assessment.id == assessment_evidence.c.assessment_id)
            .where(
                Assessment.return_id == return_.id,
                Assessment.action_id == action.id,
                Evidence.council_id == return_.council_id,
                Evidence.is_published_to_panel.is_(True),
            )
            .order_by(Evidence.title, Evidence.id)
        )
    )


# -- the member's own data, and leaving ---------------------------------------------------------


@dataclass(frozen=True)
class MemberPanel:
    """One panel a person belongs to (or belonged to), with everything they wrote there."""

    council_name: str
    profile: PanelProfile
    comments: list[MyComment]


def member_data(user: User) -> list[MemberPanel]:
    """Everything ``user`` has written on any panel, with the answers they got, panel by panel
    (their own data: the member's download, as a page and a CSV file)."""
    profiles = list(
        db.session.scalars(
            select(PanelProfile)
            .where(PanelProfile.user_id == user.id)
            .order_by(PanelProfile.created_at)
        )
    )
    panels = []
    for profile in profiles:
        council = db.session.get(Council, profile.council_id)
        if council is None:
            continue
        panels.append(
            MemberPanel(council.name, profile, list(reversed(list_my_comments(user, council))))
        )
    return panels


#: the member's CSV file: one row per comment or reply, oldest first
MEMBER_CSV_COLUMNS = (
    "Panel",
    "Action code",
    "Action title",
    "Quarter",
    "Comment or reply",
    "Written (UK time)",
    "Last changed (UK time)",
    "Withdrawn (UK time)",
    "Hidden by the council (UK time)",
    "Why it was hidden",
    "What you wrote",
    "The council's answer",
    "Answered (UK time)",
    "You said, we did",
    "What the council changed",
)


def _uk(at: datetime | None) -> str:
    return to_uk(at).strftime("%-d %B %Y %H:%M") if at else ""


def member_csv(user: User) -> str:
    """:func:`member_data` as CSV text: action titles beside their codes, quarters as months,
    times in UK time, and every cell neutralised against formula injection."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(MEMBER_CSV_COLUMNS)
    for panel in member_data(user):
        for mine in panel.comments:
            c, answer = mine.comment, mine.comment.answer
            row = [
                panel.council_name,
                mine.action_code,
                mine.action_title,
                months(mine.period_label),
                "Reply" if c.parent_id else "Comment",
                _uk(c.created_at),
                _uk(c.edited_at),
                _uk(c.withdrawn_at),
                _uk(c.hidden_at),
                c.hidden_reason if c.hidden_at else "",
                c.body,
                answer.body if answer else "",
                _uk(answer.answered_at) if answer else "",
                "Yes" if answer and answer.is_you_said_we_did else "",
                answer.change_made if answer and answer.is_you_said_we_did else "",
            ]
            writer.writerow([neutralise(value) for value in row])
    return out.getvalue()


@dataclass(frozen=True)
class AnsweredComment:
    """A comment the council answered, for the panel's "You said, we did" page."""

    comment_id: int
    body: str
    name: str
    created_at: datetime
    answer: str
    answered_at: datetime
    is_you_said_we_did: bool
    change_made: str
    action_code: str
    action_title: str
    period_label: str
    period_slug: str


def list_answered(council: Council) -> list[AnsweredComment]:
    """Every answered comment of ``council`` that its panel may read (not withdrawn, not
    hidden), newest answer first, with the council's answer and what it changed. One query;
    names are display names (the page is for the whole panel)."""
    rows = db.session.execute(
        select(Comment, CommentAnswer, PanelProfile, Action.code, Action.text, Period.label)
        .join(CommentAnswer, CommentAnswer.comment_id == Comment.id)
        .join(PanelProfile, PanelProfile.id == Comment.profile_id)
        .join(Action, Action.id == Comment.action_id)
        .join(Return, Return.id == Comment.return_id)
        .join(Period, Period.id == Return.period_id)
        .where(
            Comment.council_id == council.id,
            Return.council_id == council.id,
            Return.status != ReturnStatus.DRAFT,
            Comment.withdrawn_at.is_(None),
            Comment.hidden_at.is_(None),
        )
        .order_by(CommentAnswer.answered_at.desc(), CommentAnswer.id.desc())
    ).all()
    return [
        AnsweredComment(
            comment_id=comment.id,
            body=comment.body,
            name=profile.shown_name,
            created_at=comment.created_at,
            answer=answer.body,
            answered_at=answer.answered_at,
            is_you_said_we_did=answer.is_you_said_we_did,
            change_made=answer.change_made if answer.is_you_said_we_did else "",
            action_code=code,
            action_title=title,
            period_label=label,
            period_slug=label_to_url(label),
        )
        for comment, answer, profile, code, title, label in rows
    ]


def _anonymise_profile(profile: PanelProfile) -> None:
    # The comments stay, by a "former panel member": nothing links them to the person any more.
    profile.user_id = None
    profile.display_name = None
    profile.is_real_name_shown = False
    profile.is_notified_by_email = False
    profile.left_at = profile.left_at or utcnow()


def anonymise_member(user: User) -> int:
    """Detach every panel profile of ``user`` from them, as leaving does (for the retention job
    and erasure). The caller removes their memberships.

    :returns: how many profiles were anonymised.
    """
    profiles = list(db.session.scalars(select(PanelProfile).where(PanelProfile.user_id == user.id)))
    for profile in profiles:
        _anonymise_profile(profile)
    db.session.flush()
    return len(profiles)


def leave_panel(user: User, council: Council) -> None:
    """``user`` leaves ``council``'s panel: their profile is anonymised (their comments stay, by
    a "former panel member"), their panel membership removed and their sessions ended.

    :raises PanelError: when they are not on the panel.
    """
    membership = db.session.scalar(
        select(Membership).where(
            Membership.user_id == user.id,
            Membership.council_id == council.id,
            Membership.role == Role.PANEL_MEMBER,
        )
    )
    if membership is None:
        raise PanelError("You are not on this council's panel")
    profile = get_profile(user, council)
    if profile is not None:
        _anonymise_profile(profile)
    membership_id = membership.id
    db.session.delete(membership)
    db.session.flush()
    db.session.expire(user, ["memberships"])
    audit.record(
        actor=user,
        action="panel.leave",
        object_type="membership",
        object_id=membership_id,
        council_id=council.id,
        after={"profile_id": profile.id if profile else None},
    )
    end_sessions(user, actor=user)


# -- the panel's own view of each action (triangulation) -----------------------------------------

SELECT_ANSWER = "Select whether, from what you see, this is happening"
VIEW_COMMENT_TOO_LONG = "Your comment must be 1,000 characters or fewer"
VIEW_COMMENT_CONTROL = "Your comment must not contain control characters"


def _checked_view(answer: str | None, comment: str | None) -> tuple[str, str]:
    """The answer and comment as stored. Control characters are refused, not dropped, so that
    what is stored is what the person typed.

    :raises PanelError: an answer outside the four, a comment too long or with control
        characters.
    """
    if answer not in PANEL_VIEW_KEYS:
        raise PanelError(SELECT_ANSWER)
    text = (comment or "").replace("\r\n", "\n").replace("\r", "\n")
    if _CONTROL.search(text):
        raise PanelError(VIEW_COMMENT_CONTROL)
    text = text.strip()
    if len(text) > MAX_VIEW_COMMENT:
        raise PanelError(VIEW_COMMENT_TOO_LONG)
    return answer, text


def _signed_off(return_: Return) -> None:
    if return_.status != ReturnStatus.SIGNED_OFF:
        raise PanelError("The panel gives its view once the council has signed off this return")


def get_my_view(return_: Return, action: Action, user: User) -> PanelView | None:
    """The member's own view of ``action`` in ``return_``, or None before they give one."""
    return db.session.scalar(
        select(PanelView)
        .join(PanelProfile, PanelProfile.id == PanelView.profile_id)
        .where(
            PanelView.return_id == return_.id,
            PanelView.action_id == action.id,
            PanelProfile.user_id == user.id,
            PanelProfile.council_id == return_.council_id,
        )
    )


def save_panel_view(
    return_: Return, action: Action, answer: str | None, comment: str | None, *, actor: User
) -> PanelView:
    """A panel member says whether, from what they see, ``action`` is happening; saving again
    changes their answer (one view per member, action and return).

    The caller has checked ``visibility.may_give_panel_view``. The trail records that the
    member gave or changed a view, never which answer (no member's view is ever shown).

    :raises PanelError: the return is not signed off, or the answer or comment is refused.
    """
    _signed_off(return_)
    answer, text = _checked_view(answer, comment)
    council = db.session.get(Council, return_.council_id)
    assert council is not None
    profile = ensure_profile(actor, council)
    view = db.session.scalar(
        select(PanelView).where(
            PanelView.return_id == return_.id,
            PanelView.action_id == action.id,
            PanelView.profile_id == profile.id,
        )
    )
    is_new = view is None
    now = utcnow()
    if view is None:
        view = PanelView(
            return_id=return_.id,
            action_id=action.id,
            profile_id=profile.id,
            on_behalf=False,
            created_at=now,
        )
        db.session.add(view)
    view.answer, view.comment = answer, text
    view.recorded_by_id = actor.id
    view.updated_at = now
    db.session.flush()
    audit.record(
        actor=actor,
        action="panel_view.save",
        object_type="panel_view",
        object_id=view.id,
        council_id=council.id,
        after={"action": action.code, "return_id": return_.id, "is_new": is_new},
    )
    return view


def record_meeting_view(
    return_: Return,
    action: Action,
    answer: str | None,
    comment: str | None,
    *,
    meeting_on: date | None,
    actor: User,
) -> PanelView:
    """The council's approver records one view gathered at a panel meeting on ``meeting_on``,
    on the panel's behalf: it counts as a separate answer, marked as gathered at a meeting.

    The caller has checked ``visibility.may_record_meeting_views``. Audited, with the meeting's
    date but not the answer.

    :raises PanelError: the return is not signed off, no (or a future) meeting date, or the
        answer or comment is refused.
    """
    _signed_off(return_)
    if meeting_on is None:
        raise PanelError("Enter the date of the meeting")
    if meeting_on > uk_today():
        raise PanelError("The date of the meeting must be today or in the past")
    answer, text = _checked_view(answer, comment)
    now = utcnow()
    view = PanelView(
        return_id=return_.id,
        action_id=action.id,
        profile_id=None,
        answer=answer,
        comment=text,
        recorded_by_id=actor.id,
        on_behalf=True,
        meeting_on=meeting_on,
        created_at=now,
        updated_at=now,
    )
    db.session.add(view)
    db.session.flush()
    audit.record(
        actor=actor,
        action="panel_view.record_for_meeting",
        object_type="panel_view",
        object_id=view.id,
        council_id=return_.council_id,
        after={
            "action": action.code,
            "return_id": return_.id,
            "on_behalf": True,
            "meeting_on": meeting_on.isoformat(),
        },
    )
    return view


def count_meeting_views(return_: Return, action: Action) -> int:
    """How many views of ``action`` were recorded from panel meetings."""
    return db.session.scalar(
        select(func.count(PanelView.id)).where(
            PanelView.return_id == return_.id,
            PanelView.action_id == action.id,
            PanelView.on_behalf.is_(True),
        )
    )


@dataclass(frozen=True)
class ActionPanelView:
    """The panel's view of one action, shown only from ``MIN_PANEL_ANSWERS`` answers."""

    code: str
    text: str
    #: the council's own stage and RAG for the action (keys of the scales)
    stage: str | None
    rag: str | None
    #: answer key (``PANEL_VIEW_KEYS``) → how many gave it
    counts: dict[str, int]
    answered: int
    #: how many of ``answered`` were gathered at a panel meeting
    at_meeting: int
    #: the comments given with the answers, without names or answers, in alphabetical order
    comments: list[str] = field(default_factory=list)


#: what the council reads before any panel member has given a view
NO_PANEL_VIEWS = "No panel member has given their view of this return yet."
#: the question and the rule, said once where the counts are shown
PANEL_VIEWS_INTRO = (
    "Co-production panel members were asked of each action: “From what you see, is this "
    "happening?” An action is shown only when at least 3 people answered, so that nobody's "
    "answer can be worked out. Nobody is named."
)


@dataclass(frozen=True)
class PanelViewSummary:
    """The panel's view of a signed-off return: the actions it may be shown for, and how many
    actions were withheld (some answers, but fewer than ``MIN_PANEL_ANSWERS``)."""

    shown: list[ActionPanelView] = field(default_factory=list)
    withheld: int = 0
    reason: str = PANEL_VIEW_WITHHELD

    @property
    def is_empty(self) -> bool:
        return not self.shown and not self.withheld

    @property
    def intro(self) -> str:
        return PANEL_VIEWS_INTRO

    @property
    def none_yet(self) -> str:
        return NO_PANEL_VIEWS if self.is_empty else ""

    @property
    def withheld_sentence(self) -> str:
        """ "Fewer than 3 panel members answered on 2 actions, so they are not shown." (said
        once, never per action); empty when nothing is withheld."""
        n = self.withheld
        if not n:
            return ""
        return f"{self.reason} on {n} action{'s' if n != 1 else ''}, so " + (
            "they are not shown." if n != 1 else "it is not shown."
        )


def panel_view_summary(return_: Return | None) -> PanelViewSummary:
    """For the dashboard, the board report and its export: per action of a signed-off
    ``return_``, the counts of each answer and how many answered, in roadmap order (two queries).

    The rule (``visibility.panel_view_refusal``): an action with fewer than
    ``MIN_PANEL_ANSWERS`` answers is not listed, only counted in ``withheld``; nothing names a
    member, and comments come without their answers, in alphabetical order.
    """
    if return_ is None or return_.status != ReturnStatus.SIGNED_OFF:
        return PanelViewSummary()
    rows = db.session.execute(
        select(
            Action.id,
            Action.code,
            Action.text,
            Assessment.stage,
            Assessment.rag,
            PanelView.answer,
            func.count(PanelView.id),
            func.coalesce(func.sum(case((PanelView.on_behalf.is_(True), 1), else_=0)), 0),
        )
        .select_from(PanelView)
        .join(Action, Action.id == PanelView.action_id)
        .outerjoin(ActionArea, ActionArea.id == Action.area_id)
        .outerjoin(
            Assessment,
            and_(Assessment.return_id == PanelView.return_id, Assessment.action_id == Action.id),
        )
        .where(PanelView.return_id == return_.id)
        .group_by(
            Action.id,
            Action.code,
            Action.text,
            Action.enabler_id,
            Action.position,
            ActionArea.position,
            Assessment.stage,
            Assessment.rag,
            PanelView.answer,
        )
        .order_by(Action.enabler_id.is_not(None), ActionArea.position, Action.position)
    ).all()
    by_action: dict[int, dict] = {}
    for action_id, code, text, stage, rag, answer, count, at_meeting in rows:
        entry = by_action.setdefault(
            action_id,
            {"code": code, "text": text, "stage": stage, "rag": rag, "counts": {}, "meeting": 0},
        )
        entry["counts"][answer] = entry["counts"].get(answer, 0) + int(count)
        entry["meeting"] += int(at_meeting or 0)
    shown_ids = [
        action_id
        for action_id, entry in by_action.items()
        if panel_view_refusal(sum(entry["counts"].values())) is None
    ]
    comments: dict[int, list[str]] = defaultdict(list)
    if shown_ids:
        for action_id, text in db.session.execute(
            select(PanelView.action_id, PanelView.comment).where(
                PanelView.return_id == return_.id,
                PanelView.action_id.in_(shown_ids),
                PanelView.comment != "",
            )
        ):
            comments[action_id].append(text)
    shown = [
        ActionPanelView(
            code=entry["code"],
            text=entry["text"],
            stage=entry["stage"],
            rag=entry["rag"],
            counts={key: entry["counts"].get(key, 0) for key in PANEL_VIEW_KEYS},
            answered=sum(entry["counts"].values()),
            at_meeting=entry["meeting"],
            comments=sorted(comments[action_id], key=str.casefold),
        )
        for action_id, entry in by_action.items()
        if action_id in shown_ids
    ]
    return PanelViewSummary(shown=shown, withheld=len(by_action) - len(shown))


# -- emails (send after the commit) --------------------------------------------------------------


def _thread_link(comment: Comment) -> str:
    council = db.session.get(Council, comment.council_id)
    return_ = db.session.get(Return, comment.return_id)
    assert council is not None and return_ is not None
    return link_to(
        "panels.thread",
        gss_code=council.gss_code,
        period_label=label_to_url(return_.period.label),
        action_code=comment.action.code,
    )


def _author_to_tell(comment: Comment) -> User | None:
    profile = comment.profile
    if profile.left_at or not profile.is_notified_by_email or profile.user_id is None:
        return None
    user = db.session.get(User, profile.user_id)
    if user is None or not user.is_active or user.password_hash is None:
        return None
    return user


def _send(to: str, subject: str, template: str, **context: object) -> bool:
    try:
        send_mail(to, subject, render_template(f"panels/email/{template}", **context))
    except Exception:
        log.exception("could not send %s", template)
        return False
    return True


def _notify_author(comment: Comment, subject: str, template: str) -> int:
    user = _author_to_tell(comment)
    if user is None:
        return 0
    sent = _send(
        user.email,
        f"{subject}: {action_name(comment.action.code, comment.action.text, 60)}",
        template,
        comment=comment,
        link=_thread_link(comment),
    )
    return int(sent)


def notify_answered(comment: Comment) -> int:
    """Tell the author their comment was answered (unless they turned emails off)."""
    return _notify_author(comment, "The council answered your comment", "comment_answered.txt")


def notify_hidden(comment: Comment) -> int:
    """Tell the author their comment was hidden, and why (unless they turned emails off)."""
    return _notify_author(comment, "The council hid your comment", "comment_hidden.txt")


def notify_awaiting(comment: Comment) -> int:
    """Tell the council's editors that a new comment waits for an answer."""
    council = db.session.get(Council, comment.council_id)
    assert council is not None
    editor = aliased(User)
    editors = db.session.scalars(
        select(editor)
        .join(Membership, Membership.user_id == editor.id)
        .where(
            Membership.council_id == council.id,
            Membership.role == Role.COUNCIL_EDITOR,
            editor.is_active.is_(True),
            editor.password_hash.is_not(None),
        )
        .order_by(editor.email)
    ).all()
    link = link_to("panels.awaiting", gss_code=council.gss_code)
    waiting = count_awaiting(council)
    sent = 0
    for user in editors:
        sent += _send(
            user.email,
            "A panel comment is waiting for an answer: "
            + action_name(comment.action.code, comment.action.text, 60),
            "comment_awaiting.txt",
            council=council,
            comment=comment,
            waiting=waiting,
            link=link,
        )
    return sent


# -- the Easy Read summary -----------------------------------------------------------------------

#: the most actions the Easy Read page lists by title under each heading
EASY_READ_LIST = 5
#: the most characters of one "what the council will do next" line
EASY_READ_CHARS = 160


def latest_signed_off_return(council: Council) -> Return | None:
    """The council's newest signed-off return, or None."""
    return db.session.scalar(
        select(Return)
        .join(Period, Period.id == Return.period_id)
        .options(selectinload(Return.period))
        .where(Return.council_id == council.id, Return.status == ReturnStatus.SIGNED_OFF)
        .order_by(Period.year.desc(), Period.quarter.desc())
        .limit(1)
    )


def first_sentence(text: str, limit: int = EASY_READ_CHARS) -> str:
    """The first sentence (or line) of ``text``, cut at a word near ``limit`` characters."""
    text = " ".join(clean_text(text).split("\n")[0].split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    sentence = match[1] if match else text
    if len(sentence) <= limit:
        return sentence
    cut = sentence[:limit].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


@dataclass(frozen=True)
class EasyReadAction:
    code: str
    title: str
    #: the first sentence of the council's next steps, trimmed; empty when none
    next_step: str = ""


@dataclass(frozen=True)
class EasyRead:
    """The council's latest signed-off return in short sentences: what is working well (stage
    Embedded or rated Green), what is not going well (rated Red), and what the council will do
    next (the first sentence of the next steps of the actions not going well)."""

    return_: Return
    total: int
    going_well: int
    not_going_well: int
    well: list[EasyReadAction]
    not_well: list[EasyReadAction]
    #: the first sentence of the Director's summary, if they wrote one
    director_says: str = ""

    @property
    def next_steps(self) -> list[str]:
        """What the council will do next, each said once (several actions often share a step)."""
        return list(dict.fromkeys(a.next_step for a in self.not_well if a.next_step))


def easy_read(council: Council) -> EasyRead | None:
    """The Easy Read summary of ``council``'s latest signed-off return, or None without one.
    The counts cover the return's assessed roadmap actions and actions on barriers and
    enablers (one query for them)."""
    return_ = latest_signed_off_return(council)
    if return_ is None:
        return None
    rows = db.session.execute(
        select(Action.code, Action.text, Assessment.stage, Assessment.rag, Assessment.next_steps)
        .join(Assessment, Assessment.action_id == Action.id)
        .where(Assessment.return_id == return_.id, Action.parent_id.is_(None))
        .order_by(Action.code)
    ).all()
    well = [r for r in rows if r.stage == Stage.EMBEDDED or r.rag == Rag.GREEN]
    not_well = [r for r in rows if r.rag == Rag.RED]
    return EasyRead(
        return_=return_,
        total=len(rows),
        going_well=len(well),
        not_going_well=len(not_well),
        well=[EasyReadAction(r.code, r.text) for r in well[:EASY_READ_LIST]],
        not_well=[
            EasyReadAction(r.code, r.text, first_sentence(r.next_steps or ""))
            for r in not_well[:EASY_READ_LIST]
        ],
        director_says=first_sentence(return_.director_summary or ""),
    )
