"""Routes for managing a council's team: its editors, viewers and panel members."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from tracker.accounts.services import LinkNotValid
from tracker.admin import services
from tracker.admin.services import AccountChangeRefused
from tracker.auth.sessions import recent_sign_in
from tracker.domain import visibility
from tracker.extensions import db
from tracker.forms import ConfirmForm
from tracker.models import Council, Role, User
from tracker.permissions import council_access, current_principal
from tracker.team import bp
from tracker.team import services as invitations
from tracker.team.forms import TeamMemberForm

#: who manages a council's team: its approvers, and national administrators
MANAGERS = (Role.COUNCIL_APPROVER, Role.NATIONAL_ADMIN)


def _actor() -> User:
    principal = current_principal()
    assert principal is not None  # the decorator has checked
    return principal.user


def _shows_panel_names(council: Council) -> bool:
    # A national administrator managing the team sees panel members as the panel does.
    return visibility.may_see_panel_member_names(current_principal(), council)


@bp.get("/")
@council_access(*MANAGERS)
def index(council: Council) -> str:
    return render_template(
        "team/index.html",
        council=council,
        members=services.list_team(council, shows_panel_names=_shows_panel_names(council)),
        invitations=invitations.list_council_invitations(council),
    )


@bp.route("/add", methods=["GET", "POST"])
@council_access(*MANAGERS)
@recent_sign_in
def add_member(council: Council) -> str | Response:
    # Known and unknown addresses get the same page, message and email (an approver must not
    # learn who has an account elsewhere): the person joins only once they accept.
    form = TeamMemberForm()
    if form.validate_on_submit():
        try:
            sent = invitations.invite_to_team(
                council,
                form.email.data,
                form.display_name.data,
                form.role_enum,
                actor=_actor(),
            )
        except AccountChangeRefused as error:
            db.session.rollback()
            field = getattr(form, error.field or "email")
            field.errors = [*field.errors, str(error)]
        else:
            db.session.commit()
            what = f"{form.role_enum.label.lower()} in {council.short_name}"
            flash(
                f"Invitation sent to {sent.invitation.email}. They will be a {what} once they "
                "accept",
                "success",
            )
            return redirect(url_for("team.index", gss_code=council.gss_code))
    return render_template("team/add_member.html", council=council, form=form)


@bp.route("/memberships/<int:membership_id>/remove", methods=["GET", "POST"])
@council_access(*MANAGERS)
@recent_sign_in
def remove_member(council: Council, membership_id: int) -> str | Response:
    # Only this council's editors, viewers and panel members: any other id is a 404.
    membership = services.get_council_membership(council, membership_id) or abort(404)
    form = ConfirmForm()
    name = services.get_member_name(
        council, membership, shows_panel_names=_shows_panel_names(council)
    )
    label = membership.role_enum.label.lower()
    if form.validate_on_submit():
        services.remove_membership(membership, actor=_actor())
        db.session.commit()
        flash(f"{name} is no longer a {label} in {council.short_name}", "success")
        return redirect(url_for("team.index", gss_code=council.gss_code))
    return render_template(
        "team/remove_member.html",
        council=council,
        membership=membership,
        name=name,
        label=label,
        form=form,
    )


@bp.route("/invitations/<int:invitation_id>/withdraw", methods=["GET", "POST"])
@council_access(*MANAGERS)
@recent_sign_in
def withdraw_invitation(council: Council, invitation_id: int) -> str | Response:
    # Only an invitation to this council's team still waiting for an answer: else a 404.
    invitation = invitations.get_council_invitation(council, invitation_id) or abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            invitations.withdraw_invitation(invitation, actor=_actor())
        except LinkNotValid:
            # Answered or withdrawn by someone else since the page was shown.
            db.session.rollback()
            flash(f"The invitation to {invitation.email} had already been answered or withdrawn")
        else:
            db.session.commit()
            flash(
                f"Invitation to {invitation.email} withdrawn. Its link no longer works",
                "success",
            )
        return redirect(url_for("team.index", gss_code=council.gss_code))
    return render_template(
        "team/withdraw_invitation.html", council=council, invitation=invitation, form=form
    )
