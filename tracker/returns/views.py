"""Routes of a council's returns: the list, a return's overview and a search of its answers, each
action's assessment, bulk edit, one action's history, and the workflow (submit, sign off, send
back, reopen).

Who may do what (``council_access`` answers 404 to anyone else):

- read the list, a return (and search its answers), an action and its history: the council's
  editors, approvers, viewers and panel members, regional members of its region and national
  administrators. Panel members read submitted and signed-off returns only: a draft is a 404
  to them, as if it did not exist.
- change assessments (one at a time or in bulk) and submit: the council's editors.
- sign off, send back with comments, reopen with a reason: the council's approver (the DASS).
  Whoever submitted a return (someone both editor and approver) cannot sign it off: the
  page says so instead of offering the button, and the service refuses it.

A period appears in URLs as ``2025-26-Q3`` ("2025-26 Q3"); see ``period_slug``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from tracker import reminders
from tracker.domain import visibility, workflow
from tracker.domain.periods import period_slug
from tracker.domain.workflow import APPROVERS, EDITORS, Step
from tracker.extensions import db
from tracker.forms import SearchForm
from tracker.models import Council, Return, User
from tracker.permissions import council_access, current_principal, return_or_404
from tracker.returns import bp, queries, services
from tracker.returns.forms import (
    AssessmentForm,
    BulkEditForm,
    ConfirmForm,
    ConfirmUnchangedForm,
    OverviewFilterForm,
    ReopenForm,
    SendBackForm,
    SignOffForm,
)
from tracker.returns.services import (
    AssessmentConflict,
    AssessmentInvalid,
    BulkRefused,
    ReturnError,
)
from tracker.search import query_terms as search_terms

bp.add_app_template_global(queries.DIRECTION_NAMES, "DIRECTION_NAMES")
bp.add_app_template_global(queries.answers, "assessment_answers")


def _actor() -> User:
    principal = current_principal()
    assert principal is not None  # the decorator has checked
    return principal.user


def prepare_board_report(return_: Return) -> None:
    """Lay out the board report of a return just submitted or signed off in the background, so
    that its first download is quick (nothing for a draft; see tracker/reports/jobs.py)."""
    from tracker.reports.jobs import enqueue_council_report

    enqueue_council_report(return_)


def _return_or_404(council: Council, period_label: str) -> Return:
    """The council's return for the period in the URL, if this person may read it."""
    return return_or_404(council, period_label)


@dataclass(frozen=True)
class Abilities:
    """What the person may do with the return now: the buttons the pages offer."""

    edit: bool
    sign_off: bool
    send_back: bool
    reopen: bool
    is_editor: bool
    #: the send-back note and reopening reason may be shown on the return
    read_notes: bool = False
    #: the return's workflow history (with its notes) may be shown
    read_history: bool = False
    #: why an approver is not offered the sign-off of a submitted return, when they are not
    sign_off_refused: str | None = None
    #: a panel member, not the council's staff: the page in plain words (quarters as months),
    #: without the council's own workflow (review state, who saved, staff instructions)
    for_panel: bool = False
    #: practice the council shares reaches no other council: they may not name it
    practice_private: bool = False


def _abilities(council: Council, return_: Return) -> Abilities:
    """The steps the person may take now, as ``tracker.domain.workflow`` decides them: the
    pages offer exactly these, and the services refuse anything else."""
    principal = current_principal()
    steps = workflow.allowed_steps(principal, return_)
    refused = workflow.refusal(principal, return_, Step.SIGN_OFF)
    return Abilities(
        edit=Step.EDIT in steps,
        sign_off=Step.SIGN_OFF in steps,
        send_back=Step.SEND_BACK in steps,
        reopen=Step.REOPEN in steps,
        is_editor=visibility.holds(principal, council, workflow.EDITORS),
        read_notes=visibility.may_read_workflow_notes(principal, council, return_),
        read_history=visibility.may_read_return_history(principal, council),
        for_panel=visibility.reads_as_panel(principal, council),
        practice_private=not visibility.may_name(None, council),
        # Said instead of the button only to an approver whom the rule itself stops.
        sign_off_refused=refused if refused == workflow.SUBMITTER_CANNOT_SIGN_OFF else None,
    )


def _edit_refusal(return_: Return) -> str | None:
    """Why this person may not change the return's assessments now, or None."""
    return workflow.refusal(current_principal(), return_, Step.EDIT)


def _urls(council: Council, return_: Return) -> dict[str, str | None]:
    values = {"gss_code": council.gss_code, "period_label": period_slug(return_.period)}
    urls: dict[str, str | None] = {
        name: url_for(f"returns.{name}", **values)
        for name in (
            "overview",
            "submit",
            "check",
            "sign_off",
            "send_back",
            "reopen",
            "bulk_edit",
            "confirm_unchanged",
        )
    }
    for name in ("export_xlsx", "export_csv", "import_upload"):
        urls[name] = url_for(f"returns.{name}", **values)
    # Evidence is for those who read drafts (tests/access_matrix.py: not panel members).
    urls["evidence_library"] = (
        url_for("returns.evidence_library", gss_code=council.gss_code)
        if visibility.reads_drafts(current_principal(), council)
        else None
    )
    return urls


def _evidence_url(council: Council, return_: Return, code: str) -> str | None:
    """The action's evidence page, for those who may read the evidence behind a return."""
    if not visibility.holds(current_principal(), council, visibility.EVIDENCE_READERS):
        return None
    return url_for(
        "returns.evidence",
        gss_code=council.gss_code,
        period_label=period_slug(return_.period),
        action_code=code,
    )


def _action_url(council: Council, return_: Return, code: str) -> str:
    return url_for(
        "returns.action",
        gss_code=council.gss_code,
        period_label=period_slug(return_.period),
        action_code=code,
    )


# -- reading ----------------------------------------------------------------------------------


@bp.get("/")
@council_access(*visibility.READERS)
def index(council: Council) -> str:
    if not visibility.may_name(current_principal(), council):
        abort(404)
    shows_drafts = visibility.reads_drafts(current_principal(), council)
    returns = queries.list_council_returns(council, include_drafts=shows_drafts)
    return render_template(
        "returns/index.html",
        council=council,
        returns=returns,
        shows_drafts=shows_drafts,
        plain=visibility.reads_as_panel(current_principal(), council),
    )


@bp.get("/current")
@council_access(*visibility.READERS)
def current(council: Council) -> Response:
    """The council's newest return this person may read (the "Returns" item of the menu)."""
    if not visibility.may_name(current_principal(), council):
        abort(404)
    slug = queries.latest_return_slug(
        council, include_drafts=visibility.reads_drafts(current_principal(), council)
    )
    if slug is None:
        return redirect(url_for("returns.index", gss_code=council.gss_code))
    return redirect(url_for("returns.overview", gss_code=council.gss_code, period_label=slug))


@bp.get("/<period:period_label>")
@council_access(*visibility.READERS)
def overview(council: Council, period_label: str) -> str:
    return_ = _return_or_404(council, period_label)
    filter_form = OverviewFilterForm(request.args, area_choices=queries.area_choices())
    overview = queries.get_overview(
        return_,
        filter_form.to_filters(),
        include_draft_history=visibility.reads_drafts(current_principal(), council),
    )
    can = _abilities(council, return_)
    return render_template(
        "returns/overview.html",
        council=council,
        return_=return_,
        overview=overview,
        filter_form=filter_form,
        can=can,
        history=queries.return_history(return_) if can.read_history else [],
        urls=_urls(council, return_),
        confirm_form=ConfirmForm(),
    )


@bp.get("/<period:period_label>/search")
@council_access(*visibility.READERS)
def search(council: Council, period_label: str) -> str | tuple[str, int]:
    """Search the return's own answers: whoever may read its overview, and nobody else."""
    return_ = _return_or_404(council, period_label)
    form = SearchForm(request.args)
    values = {
        "council": council,
        "return_": return_,
        "search_form": form,
        "hits": None,
        "plain": visibility.reads_as_panel(current_principal(), council),
    }
    if not form.query:
        return render_template("returns/search.html", **values)
    if not form.validate():
        return render_template("returns/search.html", form=form, **values), 400
    values["hits"] = queries.search_return(return_, form.query)
    values["terms"] = search_terms(form.query)
    return render_template("returns/search.html", **values)


@bp.get("/<period:period_label>/actions/<action_code>")
@council_access(*visibility.READERS)
def action(council: Council, period_label: str, action_code: str) -> str:
    return_ = _return_or_404(council, period_label)
    page = queries.get_assessment_page(
        return_,
        action_code,
        include_draft_history=visibility.reads_drafts(current_principal(), council),
    ) or abort(404)
    can = _abilities(council, return_)
    return render_template(
        "returns/action.html",
        council=council,
        return_=return_,
        page=page,
        form=AssessmentForm.for_assessment(page.assessment) if can.edit else None,
        can=can,
        urls=_urls(council, return_),
        refusal=_edit_refusal(return_) if can.is_editor else None,
        evidence_url=_evidence_url(council, return_, page.action.code),
    )


@bp.get("/history/<action_code>")
@council_access(*visibility.READERS)
def history(council: Council, action_code: str) -> str:
    if not visibility.may_name(current_principal(), council):
        abort(404)
    history = queries.get_action_history(
        council, action_code, include_drafts=visibility.reads_drafts(current_principal(), council)
    ) or abort(404)
    return render_template(
        "returns/history.html",
        council=council,
        history=history,
        plain=visibility.reads_as_panel(current_principal(), council),
    )


# -- changing assessments ---------------------------------------------------------------------


@bp.post("/<period:period_label>/actions/<action_code>")
@council_access(*EDITORS)
def save_action(council: Council, period_label: str, action_code: str) -> str | Response | tuple:
    return_ = _return_or_404(council, period_label)
    here = _action_url(council, return_, action_code)
    assessment = queries.get_assessment(return_, action_code) or abort(404)
    refusal = _edit_refusal(return_)
    if refusal:
        flash(refusal)
        return redirect(here)
    form = AssessmentForm()
    if form.validate_on_submit():
        try:
            services.save_assessment(
                assessment, form.values(), actor=_actor(), expected_version=form.expected_version
            )
            db.session.commit()
        except (AssessmentConflict, StaleDataError) as error:
            db.session.rollback()
            if isinstance(error, StaleDataError):
                # Saved by someone else between the version check and the UPDATE (whose
                # version condition then matched no row): the same conflict, found later.
                saved = queries.get_assessment(return_, action_code) or abort(404)
                error = AssessmentConflict(saved, services.validate_assessment(form.values()))
            return _conflict(council, return_, action_code, form, error)
        except AssessmentInvalid as invalid:
            db.session.rollback()
            form.show_errors(invalid.errors)
        except ReturnError as error:
            db.session.rollback()
            flash(str(error))
            return redirect(here)
        else:
            flash(f"Action {action_code} saved", "success")
            following = request.form.get("then") == "next" and request.form.get("next_code")
            if following and queries.ACTION_CODE.match(following):
                return redirect(_action_url(council, return_, following))
            return redirect(_urls(council, return_)["overview"] + f"#action-{action_code}")
    page = queries.get_assessment_page(return_, action_code, include_draft_history=True)
    return (
        render_template(
            "returns/action.html",
            council=council,
            return_=return_,
            page=page or abort(404),
            form=form,
            can=_abilities(council, return_),
            urls=_urls(council, return_),
            refusal=None,
            evidence_url=_evidence_url(council, return_, action_code),
        ),
        422,
    )


def _conflict(
    council: Council,
    return_: Return,
    action_code: str,
    form: AssessmentForm,
    conflict: AssessmentConflict,
) -> tuple[str, int]:
    """409: both versions side by side, and the form again, holding the person's own answers and
    the saved version's number, so that saving again knowingly replaces what was saved."""
    saved = conflict.current
    form.version.data = str(saved.version_id)
    page = queries.get_assessment_page(return_, action_code, include_draft_history=True) or abort(
        404
    )
    return (
        render_template(
            "returns/conflict.html",
            council=council,
            return_=return_,
            page=page,
            form=form,
            comparison=queries.compare_answers(conflict.attempted, saved),
            saved_by=page.names.get(saved.updated_by_id or 0),
            saved_at=saved.updated_at,
            urls=_urls(council, return_),
        ),
        409,
    )


@bp.route("/<period:period_label>/bulk", methods=["GET", "POST"])
@council_access(*EDITORS)
def bulk_edit(council: Council, period_label: str) -> str | Response | tuple:
    return_ = _return_or_404(council, period_label)
    urls = _urls(council, return_)
    filter_form = OverviewFilterForm(request.args, area_choices=queries.area_choices())
    rows = queries.list_action_rows(return_, filter_form.to_filters())
    # Prefixed: the page's filters have fields of the same names (stage, RAG).
    form = BulkEditForm(prefix="bulk")
    form.set_listed(rows)
    refusal = _edit_refusal(return_)
    if refusal and request.method == "POST":
        flash(refusal)
        return redirect(urls["overview"])
    refused: BulkRefused | None = None
    if refusal is None and form.validate_on_submit():
        versions = form.versions()
        targets = queries.get_assessments_by_code(return_, versions)
        try:
            count = services.bulk_save_assessments(
                return_,
                {code: (targets[code], versions[code]) for code in targets},
                form.changes(),
                actor=_actor(),
            )
        except BulkRefused as error:
            db.session.rollback()
            refused = error
            rows = queries.list_action_rows(return_, filter_form.to_filters())
            form.set_listed(rows)
            form.actions.errors = [queries.bulk_refusal_summary(error)]
        except ReturnError as error:
            db.session.rollback()
            flash(str(error))
            return redirect(urls["overview"])
        except StaleDataError:
            db.session.rollback()
            flash("Nothing was saved: someone else saved one of these actions at the same moment")
            return redirect(request.full_path.rstrip("?"))
        else:
            db.session.commit()
            flash(f"{count} action{'s' if count != 1 else ''} updated", "success")
            return redirect(urls["overview"])
    status = 422 if form.is_submitted() and (form.errors or refused) else 200
    return (
        render_template(
            "returns/bulk_edit.html",
            council=council,
            return_=return_,
            rows=rows,
            form=form if refusal is None else None,
            bulk_form=form,
            filter_form=filter_form,
            refusal=refusal,
            refused=refused,
            urls=urls,
        ),
        status,
    )


@bp.route("/<period:period_label>/confirm-unchanged", methods=["GET", "POST"])
@council_access(*EDITORS)
def confirm_unchanged(council: Council, period_label: str) -> str | Response | tuple:
    """The chosen actions, by title, before they are confirmed unchanged; then confirm them."""
    return_ = _return_or_404(council, period_label)
    urls = _urls(council, return_)
    refusal = _edit_refusal(return_)
    if refusal:
        flash(refusal)
        return redirect(urls["overview"])
    form = ConfirmUnchangedForm()
    source = request.form if request.method == "POST" else request.args
    chosen = form.chosen(source)
    rows = [row for row in queries.list_action_rows(return_, queries.OverviewFilters())]
    listed = [row for row in rows if row.code in chosen]
    if not listed:
        flash("Select the actions to confirm unchanged")
        return redirect(urls["overview"] + "#actions")
    refused: BulkRefused | None = None
    if form.validate_on_submit():
        targets = queries.get_assessments_by_code(return_, chosen)
        try:
            count = services.confirm_unchanged(
                return_, {code: (targets[code], chosen[code]) for code in targets}, actor=_actor()
            )
        except BulkRefused as error:
            db.session.rollback()
            refused = error
        except ReturnError as error:
            db.session.rollback()
            flash(str(error))
            return redirect(urls["overview"])
        except StaleDataError:
            db.session.rollback()
            flash("Nothing was saved: someone else saved one of these actions at the same moment")
            return redirect(urls["overview"])
        else:
            db.session.commit()
            flash(f"{services.plural_actions(count)} confirmed unchanged", "success")
            return redirect(urls["overview"] + "#actions")
    return (
        render_template(
            "returns/confirm_unchanged.html",
            council=council,
            return_=return_,
            rows=listed,
            versions={row.code: chosen[row.code] or row.version for row in listed},
            form=form,
            refused=refused,
            refused_summary=queries.bulk_refusal_summary(refused) if refused else None,
            urls=urls,
        ),
        422 if refused else 200,
    )


# -- the workflow -----------------------------------------------------------------------------


@bp.get("/<period:period_label>/check")
@council_access(*EDITORS)
def check(council: Council, period_label: str) -> str:
    """Check your answers, then submit: counts by review state, changes since last quarter,
    exceptions, and anything that stops the return being submitted."""
    return_ = _return_or_404(council, period_label)
    return render_template(
        "returns/check.html",
        council=council,
        return_=return_,
        check=queries.get_check_answers(return_),
        can=_abilities(council, return_),
        urls=_urls(council, return_),
        confirm_form=ConfirmForm(),
    )


@bp.post("/<period:period_label>/submit")
@council_access(*EDITORS)
def submit(council: Council, period_label: str) -> str | Response | tuple:
    return_ = _return_or_404(council, period_label)
    urls = _urls(council, return_)
    if ConfirmForm().validate_on_submit():
        try:
            services.submit_return(return_, actor=_actor())
        except ReturnError as error:
            db.session.rollback()
            missing = queries.missing_actions(return_)
            if not missing:
                flash(str(error))
                return redirect(urls["overview"])
            return (
                render_template(
                    "returns/cannot_submit.html",
                    council=council,
                    return_=return_,
                    missing=[row for row in missing if row.missing],
                    unreviewed=sum(1 for row in missing if not row.is_reviewed),
                    unreviewed_sentence=services.unreviewed_sentence,
                    message=str(error),
                    urls=urls,
                ),
                422,
            )
        db.session.commit()
        # After the commit, so that a failed submission never tells the approver otherwise.
        reminders.notify_return_submitted(return_)
        prepare_board_report(return_)
        flash(f"The {return_.period.label} return is submitted for sign-off", "success")
    return redirect(urls["overview"])


def _approver_step(
    council: Council,
    period_label: str,
    form: FlaskForm,
    change: Callable[[Return], object],
    template: str,
    done: str,
) -> str | Response | tuple:
    """A confirmation page and its POST: sign off, send back or reopen one return."""
    return_ = _return_or_404(council, period_label)
    urls = _urls(council, return_)
    if form.validate_on_submit():
        try:
            change(return_)
        except ReturnError as error:
            db.session.rollback()
            flash(str(error))
        else:
            db.session.commit()
            prepare_board_report(return_)
            flash(done.format(label=return_.period.label), "success")
        return redirect(urls["overview"])
    return (
        render_template(
            template,
            council=council,
            return_=return_,
            form=form,
            can=_abilities(council, return_),
            summary=queries.get_workflow_summary(return_),
            urls=urls,
        ),
        422 if form.errors else 200,
    )


@bp.route("/<period:period_label>/sign-off", methods=["GET", "POST"])
@council_access(*APPROVERS)
def sign_off(council: Council, period_label: str) -> str | Response | tuple:
    """Review, then sign off: the editors' check, what changed since the return was sent back,
    and the Director's summary and recommendations for the board paper."""
    return_ = _return_or_404(council, period_label)
    urls = _urls(council, return_)
    form = SignOffForm()
    if not form.is_submitted():
        saved = list(return_.board_recommendations or [])
        form = SignOffForm(
            data={
                "summary": return_.director_summary,
                **{f"recommendation_{n}": text for n, text in enumerate(saved, start=1)},
            }
        )
    elif form.validate():
        try:
            services.sign_off_return(
                return_,
                actor=_actor(),
                summary=form.summary.data,
                recommendations=[entry.data for entry in form.recommendations],
            )
        except ReturnError as error:
            db.session.rollback()
            flash(str(error))
        else:
            db.session.commit()
            prepare_board_report(return_)
            flash(f"The {return_.period.label} return is signed off", "success")
        return redirect(urls["overview"])
    return (
        render_template(
            "returns/sign_off.html",
            council=council,
            return_=return_,
            form=form,
            can=_abilities(council, return_),
            review=queries.get_sign_off_summary(return_),
            urls=urls,
        ),
        422 if form.errors else 200,
    )


@bp.route("/<period:period_label>/send-back", methods=["GET", "POST"])
@council_access(*APPROVERS)
def send_back(council: Council, period_label: str) -> str | Response | tuple:
    form = SendBackForm()
    return _approver_step(
        council,
        period_label,
        form,
        lambda return_: services.send_back_return(return_, form.comment.data, actor=_actor()),
        "returns/send_back.html",
        "The {label} return is sent back to the editors",
    )


@bp.route("/<period:period_label>/reopen", methods=["GET", "POST"])
@council_access(*APPROVERS)
def reopen(council: Council, period_label: str) -> str | Response | tuple:
    form = ReopenForm()
    return _approver_step(
        council,
        period_label,
        form,
        lambda return_: services.reopen_return(return_, form.reason.data, actor=_actor()),
        "returns/reopen.html",
        "The {label} return is reopened",
    )
