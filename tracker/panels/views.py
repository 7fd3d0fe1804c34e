"""Routes of a council's co-production panel: its page, each action's comments, the council's
answers and moderation, the comments awaiting an answer, and a member's settings, data and exit.

Who may do what (``council_access`` answers 404 to anyone else):

- the panel page and an action's comments: the council's editors, approvers, viewers and panel
  members. Panel members reach submitted and signed-off returns only: a draft is a 404 to them.
  Regional members and national administrators never see comments here (members' personal data
  stays within the council).
- comment, reply, change or withdraw one's own comment, settings, download, leave: panel members.
- "You said, we did" and the Easy Read summary: the same people as the panel page.
- the panel's settings (how quickly the council aims to answer): the council's approver.
- answer, hide and show again: the council's editors. Comments awaiting an answer: the
  council's editors, approvers and viewers.
- the panel's own view of an action (is it happening?): panel members, on a signed-off return
  only; the council's approver records views gathered at a panel meeting
  (``visibility.may_give_panel_view``, ``visibility.may_record_meeting_views``; anyone else 404).
- real names: the council's approver only (``may_see_panel_member_names``); the member's own
  download has theirs.

A comment is named by a hidden ``comment_id`` field, looked up within the page's thread only.
The thread page shows one form at a time, chosen with ``?reply=``, ``?edit=``, ``?withdraw=``,
``?answer=`` or ``?hide=`` (links, so everything works without JavaScript).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.routing import BuildError

from tracker import throttle
from tracker.domain import visibility
from tracker.domain.periods import period_slug
from tracker.extensions import db
from tracker.models import Action, Comment, Council, Return, ReturnStatus, Role, User
from tracker.panels import bp, services
from tracker.panels.forms import (
    AnswerDaysForm,
    AnswerForm,
    CommentForm,
    EditCommentForm,
    HideForm,
    LeaveForm,
    MeetingViewForm,
    PanelViewForm,
    SettingsForm,
    UnhideForm,
    WithdrawForm,
)
from tracker.panels.services import PanelError
from tracker.permissions import council_access, current_principal
from tracker.returns import queries

#: the council's own staff and its panel: a panel's threads are theirs alone
STAFF = visibility.COUNCIL_READERS
PANEL_READERS = visibility.COUNCIL_MEMBERS
EDITORS = (Role.COUNCIL_EDITOR,)
APPROVERS = (Role.COUNCIL_APPROVER,)
MEMBERS = (Role.PANEL_MEMBER,)
#: what a person is told when someone else changed the same row at the same moment
RACE = "Someone else changed this at the same moment. Check the page and try again."
#: the forms the thread page can show, by the query parameter that opens them
FORM_PARAMETERS = ("reply", "edit", "withdraw", "answer", "hide")

THREAD = "/councils/<gss_code>/panel/<period:period_label>/actions/<action_code>"


def _actor() -> User:
    principal = current_principal()
    assert principal is not None  # the decorator has checked
    return principal.user


def _member_of(council: Council, roles: tuple[Role, ...]) -> bool:
    """True when the signed-in person holds one of ``roles`` as a member of ``council`` itself.

    Not ``tracker.domain.visibility.holds``: that also counts a regional or national role reaching
    the council, and a panel's threads are for the council's own people and panel.
    """
    principal = current_principal()
    return principal is not None and council.id in principal.council_ids(roles)


def _shows_real_names(council: Council) -> bool:
    """True when the signed-in person may see the panel members' real names (the approver)."""
    return visibility.may_see_panel_member_names(current_principal(), council)


def _return_or_404(council: Council, period_label: str) -> Return:
    return_ = queries.get_return_by_slug(council, period_label) or abort(404)
    if return_.status == ReturnStatus.DRAFT and not _member_of(council, STAFF):
        abort(404)
    return return_


def _action_or_404(return_: Return, action_code: str) -> Action:
    if not queries.ACTION_CODE.match(action_code):
        abort(404)
    assessment = queries.get_assessment(return_, action_code) or abort(404)
    return assessment.action


def _thread_url(council: Council, return_: Return, action: Action, **args: Any) -> str:
    return url_for(
        "panels.thread",
        gss_code=council.gss_code,
        period_label=period_slug(return_.period),
        action_code=action.code,
        **args,
    )


def _comment_or_404(council: Council, return_: Return, action: Action, raw: Any) -> Comment:
    try:
        return services.get_comment(council, return_, action, raw)
    except LookupError:
        abort(404)


def _selected() -> tuple[str | None, int | None]:
    """The form the page should open (``?answer=12``): its kind and comment id."""
    for kind in FORM_PARAMETERS:
        raw = request.args.get(kind, "")
        if raw.isdigit() and len(raw) < 10:
            return kind, int(raw)
    return None, None


def _render_thread(
    council: Council,
    return_: Return,
    action: Action,
    *,
    active: tuple[str | None, int | None] = (None, None),
    form: FlaskForm | None = None,
    view_form: PanelViewForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """The thread page, with the one form that is open (``active``), filled in or fresh, and
    the member's own view of the action (``view_form``)."""
    kind, comment_id = active
    is_member, is_editor = _member_of(council, MEMBERS), _member_of(council, EDITORS)
    thread = services.get_thread(
        return_,
        action,
        viewer=_actor(),
        shows_real_names=_shows_real_names(council),
    )
    can_comment = is_member and return_.status != ReturnStatus.DRAFT
    comments_by_id = {
        item.comment.id: item for top in thread.comments for item in (top, *top.replies)
    }
    selected = comments_by_id.get(comment_id) if comment_id else None
    allowed = {
        "reply": can_comment,
        "edit": is_member and selected is not None and selected.is_mine,
        "withdraw": is_member and selected is not None and selected.is_mine,
        "answer": is_editor,
        "hide": is_editor,
    }
    if kind and (selected is None or not allowed.get(kind)):
        kind, selected = None, None
    if form is None and kind:
        form = _fresh_form(kind, selected.comment)
    comment_form = form if kind in (None, "reply") and isinstance(form, CommentForm) else None
    if comment_form is None and can_comment:
        comment_form = CommentForm(prefix="comment", formdata=None)
        if kind == "reply" and selected is not None:
            comment_form.parent_id.data = str(selected.comment.id)
    return (
        render_template(
            "panels/thread.html",
            council=council,
            return_=return_,
            action=action,
            thread=thread,
            kind=kind,
            selected=selected,
            form=form,
            comment_form=comment_form,
            unhide_form=UnhideForm(prefix="unhide", formdata=None) if is_editor else None,
            is_member=is_member,
            is_editor=is_editor,
            is_staff=_member_of(council, STAFF),
            my_name=_my_name(council) if is_member else None,
            evidence=_published_evidence(council, return_, action),
            panel_view=_panel_view_context(council, return_, action, view_form),
            thread_url=_thread_url(council, return_, action),
            action_url=url_for(
                "returns.action",
                gss_code=council.gss_code,
                period_label=period_slug(return_.period),
                action_code=action.code,
            ),
        ),
        status,
    )


def _panel_view_context(
    council: Council, return_: Return, action: Action, view_form: PanelViewForm | None
) -> dict[str, Any]:
    """What the thread page shows of the panel's own view: the member's form (with their
    answer), or the approver's link to record views gathered at a meeting."""
    principal = current_principal()
    context: dict[str, Any] = {"form": None, "mine": None, "meeting_url": None}
    if visibility.may_give_panel_view(principal, council, return_):
        mine = services.get_my_view(return_, action, _actor())
        if view_form is None:
            view_form = PanelViewForm(prefix="view", formdata=None)
            if mine is not None:
                view_form.answer.data = mine.answer
                view_form.comment.data = mine.comment
        context["form"], context["mine"] = view_form, mine
        context["url"] = _thread_url(council, return_, action) + "/view"
    if visibility.may_record_meeting_views(principal, council, return_):
        context["meeting_url"] = _thread_url(council, return_, action) + "/meeting"
    return context


def _published_evidence(council: Council, return_: Return, action: Action) -> list[dict]:
    """What the council shows its panel for this action: (title, link) of each item. Files are
    downloaded through the returns area, which checks that they are published to the panel."""
    items = []
    for item in services.list_published_evidence(return_, action):
        if item.url:
            href = item.url
        else:
            try:
                href = url_for(
                    "returns.download_evidence", gss_code=council.gss_code, evidence_id=item.id
                )
            except BuildError:
                continue
        items.append({"title": item.title, "href": href, "is_link": bool(item.url)})
    return items


def _my_name(council: Council) -> str | None:
    profile = services.get_profile(_actor(), council)
    return profile.display_name if profile else None


def _fresh_form(kind: str, comment: Comment) -> FlaskForm:
    if kind == "edit":
        form = EditCommentForm(prefix="edit", formdata=None)
        form.body.data = comment.body
        form.version.data = str(comment.version_id)
    elif kind == "withdraw":
        form = WithdrawForm(prefix="withdraw", formdata=None)
    elif kind == "answer":
        form = AnswerForm(prefix="answer", formdata=None)
        if comment.answer is not None:
            form.body.data = comment.answer.body
            form.is_you_said_we_did.data = comment.answer.is_you_said_we_did
            form.change_made.data = comment.answer.change_made
    elif kind == "hide":
        form = HideForm(prefix="hide", formdata=None)
    else:
        form = CommentForm(prefix="comment", formdata=None)
        form.parent_id.data = str(comment.id)
    if hasattr(form, "comment_id"):
        form.comment_id.data = str(comment.id)
    return form


# -- the panel's page ---------------------------------------------------------------------------


@bp.get("/councils/<gss_code>/panel/")
@council_access(*PANEL_READERS)
def index(council: Council) -> str:
    actor = _actor()
    is_member = _member_of(council, MEMBERS)
    returns = services.list_panel_returns(council)
    return render_template(
        "panels/index.html",
        council=council,
        is_member=is_member,
        is_staff=_member_of(council, STAFF),
        returns=returns,
        totals={r.id: services.comment_totals(council, r.period) for r in returns[:4]},
        awaiting=services.count_awaiting(council),
        answer_days=council.panel_answer_days,
        is_approver=_member_of(council, APPROVERS),
        profile=services.get_profile(actor, council) if is_member else None,
        mine=services.list_my_comments(actor, council)[:20] if is_member else [],
    )


@bp.get("/councils/<gss_code>/panel/awaiting")
@council_access(*STAFF)
def awaiting(council: Council) -> str:
    return render_template(
        "panels/awaiting.html",
        council=council,
        comments=services.list_awaiting(council, shows_real_names=_shows_real_names(council)),
        is_editor=_member_of(council, EDITORS),
        answer_days=council.panel_answer_days,
    )


@bp.get("/councils/<gss_code>/panel/you-said-we-did")
@council_access(*PANEL_READERS)
def answered(council: Council) -> str:
    """Every answered comment the panel may read, with the council's answer and what changed."""
    return render_template(
        "panels/answered.html",
        council=council,
        answered=services.list_answered(council),
        is_member=_member_of(council, MEMBERS),
    )


@bp.get("/councils/<gss_code>/panel/easy-read")
@council_access(*PANEL_READERS)
def easy_read(council: Council) -> str:
    """The latest signed-off return in Easy Read: short sentences, one idea a line."""
    summary = services.easy_read(council)
    if summary is not None and not visibility.may_read_return(
        current_principal(), council, summary.return_
    ):
        summary = None
    return render_template("panels/easy_read.html", council=council, summary=summary)


# -- an action's comments -----------------------------------------------------------------------


@bp.get(THREAD)
@council_access(*PANEL_READERS)
def thread(council: Council, period_label: str, action_code: str) -> tuple[str, int]:
    return_ = _return_or_404(council, period_label)
    action = _action_or_404(return_, action_code)
    return _render_thread(council, return_, action, active=_selected())


def _comment_limit(user: User) -> throttle.Limit:
    config = current_app.config
    return throttle.Limit(
        f"panel-comment:user:{user.id}",
        int(config.get("PANEL_COMMENT_LIMIT", 10)),
        config.get("PANEL_COMMENT_WINDOW", timedelta(minutes=10)),
    )


def _too_many(council: Council, wait: int, thread_url: str) -> Response:
    response = make_response(
        render_template(
            "panels/too_many.html",
            council=council,
            minutes=max(1, -(-wait // 60)),
            thread_url=thread_url,
        ),
        429,
    )
    response.headers["Retry-After"] = str(wait)
    return response


@bp.post(THREAD)
@council_access(*MEMBERS)
def add_comment(
    council: Council, period_label: str, action_code: str
) -> Response | tuple[str, int]:
    return_ = _return_or_404(council, period_label)
    action = _action_or_404(return_, action_code)
    actor = _actor()
    here = _thread_url(council, return_, action)
    limit = _comment_limit(actor)
    wait = throttle.retry_after(limit)
    if wait is not None:
        return _too_many(council, wait, here)
    form = CommentForm(prefix="comment")
    parent = None
    if form.parent_id.data:
        parent = _comment_or_404(council, return_, action, form.parent_id.data)
    active = ("reply", parent.id) if parent else (None, None)
    if form.validate_on_submit():
        try:
            comment = services.add_comment(
                return_, action, form.body.data, actor=actor, parent=parent
            )
            throttle.hit(limit.key, limit.window)
            db.session.commit()
        except PanelError as error:
            db.session.rollback()
            form.body.errors = [str(error)]
        except IntegrityError:
            db.session.rollback()  # e.g. the same person's first comment, twice at once
            flash(RACE)
            return redirect(here)
        else:
            services.notify_awaiting(comment)
            flash("Your comment is posted. The council will answer it.", "success")
            return redirect(here + f"#comment-{comment.id}")
    return _render_thread(council, return_, action, active=active, form=form, status=422)


def _comment_change(
    council: Council,
    period_label: str,
    action_code: str,
    *,
    kind: str,
    form: FlaskForm,
    change: Any,
    done: str,
    error_field: str | None,
    notify: Any = None,
    authors_only: bool = False,
) -> Response | tuple[str, int]:
    """The POST of one of the thread's per-comment forms: find the comment in this thread,
    validate, call ``change(comment)``, commit, then send any email."""
    return_ = _return_or_404(council, period_label)
    action = _action_or_404(return_, action_code)
    comment = _comment_or_404(council, return_, action, form.comment_id.data)
    if authors_only and not services.is_author(comment, _actor()):
        abort(404)  # someone else's comment is not theirs to change: as if it did not exist
    if form.validate_on_submit():
        try:
            change(comment)
            db.session.commit()
        except (IntegrityError, StaleDataError):
            # Two answers (or changes) to one comment at once: the first one won.
            db.session.rollback()
            flash(RACE)
            return redirect(_thread_url(council, return_, action) + f"#comment-{comment.id}")
        except PanelError as error:
            db.session.rollback()
            if error_field is None:
                flash(str(error))
                return redirect(_thread_url(council, return_, action) + f"#comment-{comment.id}")
            message = str(error)
            changed = message.startswith(("Enter the change", "The change made"))
            getattr(form, "change_made" if changed else error_field).errors = [message]
        else:
            if notify is not None:
                notify(comment)
            flash(done, "success")
            return redirect(_thread_url(council, return_, action) + f"#comment-{comment.id}")
    return _render_thread(
        council, return_, action, active=(kind, comment.id), form=form, status=422
    )


@bp.post(THREAD + "/edit")
@council_access(*MEMBERS)
def edit_comment(council: Council, period_label: str, action_code: str):
    form = EditCommentForm(prefix="edit")
    return _comment_change(
        council,
        period_label,
        action_code,
        kind="edit",
        form=form,
        change=lambda c: services.edit_comment(
            c, form.body.data, actor=_actor(), expected_version=form.expected_version
        ),
        done="Your comment is changed",
        error_field="body",
        authors_only=True,
    )


@bp.post(THREAD + "/withdraw")
@council_access(*MEMBERS)
def withdraw_comment(council: Council, period_label: str, action_code: str):
    return _comment_change(
        council,
        period_label,
        action_code,
        kind="withdraw",
        form=WithdrawForm(prefix="withdraw"),
        change=lambda c: services.withdraw_comment(c, actor=_actor()),
        done="Your comment is withdrawn",
        error_field=None,
        authors_only=True,
    )


@bp.post(THREAD + "/answer")
@council_access(*EDITORS)
def answer_comment(council: Council, period_label: str, action_code: str):
    form = AnswerForm(prefix="answer")
    return _comment_change(
        council,
        period_label,
        action_code,
        kind="answer",
        form=form,
        change=lambda c: services.answer_comment(
            c,
            form.body.data,
            actor=_actor(),
            is_you_said_we_did=bool(form.is_you_said_we_did.data),
            change_made=form.change_made.data or "",
        ),
        done="Your answer is sent",
        error_field="body",
        notify=services.notify_answered,
    )


@bp.post(THREAD + "/hide")
@council_access(*EDITORS)
def hide_comment(council: Council, period_label: str, action_code: str):
    form = HideForm(prefix="hide")
    return _comment_change(
        council,
        period_label,
        action_code,
        kind="hide",
        form=form,
        change=lambda c: services.hide_comment(c, form.reason.data, actor=_actor()),
        done="The comment is hidden. Its author has been told why.",
        error_field="reason",
        notify=services.notify_hidden,
    )


@bp.post(THREAD + "/unhide")
@council_access(*EDITORS)
def unhide_comment(council: Council, period_label: str, action_code: str):
    return _comment_change(
        council,
        period_label,
        action_code,
        kind="unhide",
        form=UnhideForm(prefix="unhide"),
        change=lambda c: services.unhide_comment(c, actor=_actor()),
        done="The comment is shown again",
        error_field=None,
    )


# -- the panel's own view of an action ----------------------------------------------------------


@bp.post(THREAD + "/view")
@council_access(*MEMBERS)
def save_view(council: Council, period_label: str, action_code: str):
    return_ = _return_or_404(council, period_label)
    if not visibility.may_give_panel_view(current_principal(), council, return_):
        abort(404)  # only a signed-off return asks the panel's view
    action = _action_or_404(return_, action_code)
    form = PanelViewForm(prefix="view")
    if form.validate_on_submit():
        try:
            services.save_panel_view(
                return_, action, form.answer.data, form.comment.data, actor=_actor()
            )
            db.session.commit()
        except PanelError as error:
            db.session.rollback()
            message = str(error)
            field = form.comment if "comment" in message else form.answer
            field.errors = [message]
        except IntegrityError:
            db.session.rollback()  # the same member's first answer, twice at once
            flash(RACE)
            return redirect(_thread_url(council, return_, action) + "#panel-view")
        else:
            flash("Your answer is saved. You can change it at any time.", "success")
            return redirect(_thread_url(council, return_, action) + "#panel-view")
    return _render_thread(council, return_, action, form=form, view_form=form, status=422)


@bp.route(THREAD + "/meeting", methods=["GET", "POST"])
@council_access(Role.COUNCIL_APPROVER)
def meeting_view(council: Council, period_label: str, action_code: str):
    return_ = _return_or_404(council, period_label)
    if not visibility.may_record_meeting_views(current_principal(), council, return_):
        abort(404)
    action = _action_or_404(return_, action_code)
    here = _thread_url(council, return_, action) + "/meeting"
    form = MeetingViewForm()
    if form.validate_on_submit():
        try:
            services.record_meeting_view(
                return_,
                action,
                form.answer.data,
                form.comment.data,
                meeting_on=form.meeting_on.data,
                actor=_actor(),
            )
            db.session.commit()
        except PanelError as error:
            db.session.rollback()
            message = str(error)
            field = (
                form.meeting_on
                if "meeting" in message
                else form.comment
                if "comment" in message
                else form.answer
            )
            field.errors = [message]
        else:
            flash(
                "The view is recorded, marked as gathered at a panel meeting. "
                "Record the next person's view, or go back to the comments.",
                "success",
            )
            return redirect(here)
    return (
        render_template(
            "panels/meeting_view.html",
            council=council,
            return_=return_,
            action=action,
            form=form,
            recorded=services.count_meeting_views(return_, action),
            thread_url=_thread_url(council, return_, action),
        ),
        422 if form.errors else 200,
    )


# -- a member's settings, data and exit --------------------------------------------------------


@bp.route("/councils/<gss_code>/panel/settings", methods=["GET", "POST"])
@council_access(*MEMBERS, *APPROVERS)
def settings(council: Council) -> Response | tuple[str, int]:
    """A member's name and emails; for the council's approver, how quickly the council aims to
    answer its panel."""
    if not _member_of(council, MEMBERS):
        return _answer_days_settings(council)
    actor = _actor()
    profile = services.get_profile(actor, council)
    form = SettingsForm()
    if not form.is_submitted():
        form.display_name.data = (
            profile.display_name if profile else services.suggest_display_name(council)
        )
        form.is_real_name_shown.data = profile.is_real_name_shown if profile else False
        form.is_notified_by_email.data = profile.is_notified_by_email if profile else True
    elif form.validate():
        try:
            services.update_profile(
                actor,
                council,
                display_name=form.display_name.data,
                is_real_name_shown=bool(form.is_real_name_shown.data),
                is_notified_by_email=bool(form.is_notified_by_email.data),
            )
            db.session.commit()
        except PanelError as error:
            db.session.rollback()
            form.display_name.errors = [str(error)]
        except IntegrityError:
            db.session.rollback()  # another member took the name at the same moment
            form.display_name.errors = [services.NAME_TAKEN]
        else:
            flash("Your settings are saved", "success")
            return redirect(url_for("panels.index", gss_code=council.gss_code))
    return (
        render_template(
            "panels/settings.html", council=council, form=form, profile=profile, is_member=True
        ),
        422 if form.errors else 200,
    )


def _answer_days_settings(council: Council) -> Response | tuple[str, int]:
    form = AnswerDaysForm()
    if not form.is_submitted():
        form.answer_days.data = council.panel_answer_days
    elif form.validate():
        try:
            services.set_answer_days(council, form.answer_days.data, actor=_actor())
            db.session.commit()
        except PanelError as error:
            db.session.rollback()
            form.answer_days.errors = [str(error)]
        else:
            flash("The panel’s settings are saved", "success")
            return redirect(url_for("panels.index", gss_code=council.gss_code))
    return (
        render_template("panels/settings.html", council=council, form=form, is_member=False),
        422 if form.errors else 200,
    )


@bp.get("/councils/<gss_code>/panel/my-comments")
@council_access(*MEMBERS)
def my_comments(council: Council) -> str:
    """Everything the member has written on any panel, with the answers, as a page to read,
    print or save."""
    actor = _actor()
    # Their own data (UK GDPR Art 15): the rule lets a member see their own name.
    names = visibility.may_see_panel_member_names(current_principal(), council, member_id=actor.id)
    return render_template(
        "panels/my_comments.html",
        council=council,
        panels=services.member_data(actor),
        real_name=actor.display_name if names else None,
        email=actor.email,
    )


@bp.get("/councils/<gss_code>/panel/my-comments.csv")
@council_access(*MEMBERS)
def my_comments_csv(council: Council) -> Response:
    """The same as a CSV file: action titles and codes, quarters as months, UK times."""
    response = make_response(services.member_csv(_actor()))
    response.mimetype = "text/csv"
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="my-panel-comments.csv"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/councils/<gss_code>/panel/leave", methods=["GET", "POST"])
@council_access(*MEMBERS)
def leave(council: Council) -> Response | tuple[str, int]:
    form = LeaveForm()
    if form.validate_on_submit():
        try:
            services.leave_panel(_actor(), council)
        except PanelError as error:
            db.session.rollback()
            flash(str(error))
            return redirect(url_for("panels.index", gss_code=council.gss_code))
        db.session.commit()
        return redirect(url_for("auth.signed_out"))
    return (
        render_template("panels/leave.html", council=council, form=form),
        422 if form.errors else 200,
    )


# -- links from the return pages ----------------------------------------------------------------


def panel_links(council: Council, return_: Return | None = None, action_code: str = "") -> dict:
    """For the return pages: the links to the panel this person may follow (none if they may
    not), and how many comments the action has. Empty when nobody may follow them."""
    principal = current_principal()
    if principal is None or council.id not in principal.council_ids(PANEL_READERS):
        return {}
    links: dict[str, Any] = {"index": url_for("panels.index", gss_code=council.gss_code)}
    if council.id in principal.council_ids(STAFF):
        links["awaiting"] = url_for("panels.awaiting", gss_code=council.gss_code)
    if return_ is not None and action_code and return_.status != ReturnStatus.DRAFT:
        action = services.get_action(action_code)
        if action is not None:
            links["thread"] = _thread_url(council, return_, action)
            links["count"] = services.count_thread(return_, action)
    return links


bp.add_app_template_global(panel_links, "panel_links")
