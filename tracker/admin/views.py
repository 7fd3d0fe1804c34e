"""Routes for national administrators: people, their memberships and the audit trail."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from tracker.admin import bp, services
from tracker.admin.forms import (
    AuditFilterForm,
    MembershipForm,
    NewUserForm,
    UserFilterForm,
)
from tracker.admin.services import (
    ROLE_VALUES,
    AccountChangeRefused,
    AuditFilters,
    Page,
    UserFilters,
)
from tracker.auth.sessions import recent_sign_in
from tracker.domain import visibility
from tracker.extensions import db
from tracker.forms import ConfirmForm
from tracker.models import Role, User
from tracker.permissions import current_principal, national_admin


def _actor() -> User:
    principal = current_principal()
    assert principal is not None  # the decorator has checked
    return principal.user


def _user_or_404(user_id: int) -> User:
    return services.get_user(user_id) or abort(404)


def _show_refusal(form: Any, error: AccountChangeRefused) -> None:
    """Put a refused change's message on its field, or in a banner when it has none."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, str(error)]
    else:
        flash(str(error), "error")


def pagination(page: Page[Any], endpoint: str, **values: Any) -> dict[str, Any] | None:
    """``govukPagination`` parameters for ``page``, keeping the current query string."""
    if page.pages <= 1:
        return None
    args = request.args.to_dict(flat=False)

    def link(number: int) -> str:
        return url_for(endpoint, **values, **{**args, "page": number})

    numbers = sorted(
        {1, page.pages, *range(max(1, page.page - 2), min(page.pages, page.page + 2) + 1)}
    )
    items: list[dict[str, Any]] = []
    previous = 0
    for number in numbers:
        if number - previous > 1:
            items.append({"ellipsis": True})
        items.append({"number": number, "href": link(number), "current": number == page.page})
        previous = number
    params: dict[str, Any] = {"items": items}
    if page.page > 1:
        params["previous"] = {"href": link(page.page - 1)}
    if page.page < page.pages:
        params["next"] = {"href": link(page.page + 1)}
    return params


@bp.get("/")
@national_admin
def index() -> str:
    return render_template("admin/index.html")


@bp.get("/users")
@national_admin
def users() -> str:
    councils, regions = services.list_councils(), services.list_regions()
    filter_form = UserFilterForm(request.args)
    filter_form.set_choices(councils, regions)
    council = {c.gss_code: c for c in councils}.get(filter_form.council.data or "")
    region = {r.slug: r for r in regions}.get(filter_form.region.data or "")
    role = Role(filter_form.role.data) if filter_form.role.data in ROLE_VALUES else None
    results = services.list_users(
        UserFilters(
            search=(filter_form.q.data or "")[:254],
            role=role,
            council_id=council.id if council else None,
            region_id=region.id if region else None,
            page=request.args.get("page", 1, type=int),
        )
    )
    return render_template(
        "admin/users.html",
        filter_form=filter_form,
        results=results,
        pagination=pagination(results, "admin.users"),
        roles_held=services.roles_held,
        is_filtered=bool(filter_form.q.data or role or council or region),
    )


@bp.route("/users/new", methods=["GET", "POST"])
@national_admin
@recent_sign_in
def new_user() -> str | Response:
    form = NewUserForm()
    form.set_scope_choices(services.list_councils(), services.list_regions())
    if form.validate_on_submit():
        try:
            result = services.create_person(
                form.email.data,
                form.display_name.data,
                form.role_enum,
                council=services.get_council_by_code(form.council.data),
                region=services.get_region_by_slug(form.region.data),
                actor=_actor(),
            )
        except AccountChangeRefused as error:
            db.session.rollback()
            _show_refusal(form, error)
        else:
            db.session.commit()
            flash(f"Invitation sent to {result.user.email}", "success")
            return redirect(url_for("admin.user", user_id=result.user.id))
    return render_template("admin/new_user.html", form=form)


def _render_user(user: User, membership_form: MembershipForm | None = None) -> str:
    if membership_form is None:
        membership_form = MembershipForm(formdata=None)
        membership_form.set_scope_choices(services.list_councils(), services.list_regions())
    actor = _actor()
    return render_template(
        "admin/user.html",
        person=user,
        memberships=sorted(user.memberships, key=services.describe_membership),
        describe=services.describe_membership,
        form=membership_form,
        confirm_form=ConfirmForm(),
        is_self=user.id == actor.id,
        invitation_pending=services.is_invitation_pending(user),
    )


@bp.get("/users/<int:user_id>")
@national_admin
def user(user_id: int) -> str:
    return _render_user(_user_or_404(user_id))


@bp.post("/users/<int:user_id>/memberships")
@national_admin
@recent_sign_in
def add_membership(user_id: int) -> str | Response:
    person = _user_or_404(user_id)
    form = MembershipForm()
    form.set_scope_choices(services.list_councils(), services.list_regions())
    if form.validate_on_submit():
        try:
            membership = services.add_membership(
                person,
                form.role_enum,
                council=services.get_council_by_code(form.council.data),
                region=services.get_region_by_slug(form.region.data),
                actor=_actor(),
            )
        except AccountChangeRefused as error:
            db.session.rollback()
            person = _user_or_404(user_id)
            _show_refusal(form, error)
        else:
            description = services.describe_membership(membership)
            db.session.commit()
            flash(f"{person.display_name} is now {description}", "success")
            return redirect(url_for("admin.user", user_id=person.id))
    return _render_user(person, form)


@bp.route("/users/<int:user_id>/memberships/<int:membership_id>/remove", methods=["GET", "POST"])
@national_admin
@recent_sign_in
def remove_membership(user_id: int, membership_id: int) -> str | Response:
    person = _user_or_404(user_id)
    membership = services.get_user_membership(person, membership_id) or abort(404)
    form = ConfirmForm()
    description = services.describe_membership(membership)
    if form.validate_on_submit():
        try:
            services.remove_membership(membership, actor=_actor())
        except AccountChangeRefused as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(f"{person.display_name} is no longer {description}", "success")
        return redirect(url_for("admin.user", user_id=person.id))
    return render_template(
        "admin/remove_membership.html", person=person, description=description, form=form
    )


@bp.route("/users/<int:user_id>/disable", methods=["GET", "POST"])
@national_admin
@recent_sign_in
def disable_user(user_id: int) -> str | Response:
    person = _user_or_404(user_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            services.disable_account(person, actor=_actor())
        except AccountChangeRefused as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(f"{person.display_name}'s account is disabled and signed out", "success")
        return redirect(url_for("admin.user", user_id=person.id))
    return render_template(
        "admin/disable_user.html", person=person, form=form, is_self=person.id == _actor().id
    )


def _confirmed_change(person: User, change: Callable[..., None], done: str) -> Response:
    """Make a one-button change to ``person`` if the form is genuine, and say how it went."""
    if ConfirmForm().validate_on_submit():
        try:
            change(person, actor=_actor())
        except AccountChangeRefused as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(done, "success")
    return redirect(url_for("admin.user", user_id=person.id))


@bp.post("/users/<int:user_id>/enable")
@national_admin
@recent_sign_in
def enable_user(user_id: int) -> Response:
    person = _user_or_404(user_id)
    return _confirmed_change(
        person, services.enable_account, f"{person.display_name}'s account is enabled"
    )


@bp.post("/users/<int:user_id>/end-sessions")
@national_admin
def end_sessions(user_id: int) -> Response:
    person = _user_or_404(user_id)
    return _confirmed_change(
        person, services.end_all_sessions, f"{person.display_name} is signed out everywhere"
    )


@bp.post("/users/<int:user_id>/resend-invitation")
@national_admin
def resend_invitation(user_id: int) -> Response:
    person = _user_or_404(user_id)
    return _confirmed_change(
        person, services.resend_invitation, f"A new invitation has been sent to {person.email}"
    )


@bp.post("/users/<int:user_id>/reset-authenticator")
@national_admin
@recent_sign_in
def reset_authenticator(user_id: int) -> Response:
    person = _user_or_404(user_id)
    return _confirmed_change(
        person,
        services.reset_authenticator,
        f"{person.display_name}'s authenticator app is removed. They will set up a new one "
        "when they next sign in",
    )


@bp.get("/audit")
@national_admin
def audit() -> str:
    councils = services.list_councils()
    filter_form = AuditFilterForm(request.args)
    filter_form.set_choices(services.list_audit_actions(), councils)
    filter_form.validate()
    council = {c.gss_code: c for c in councils}.get(filter_form.council.data or "")
    actions = {choice.value for choice in filter_form.action.choices}
    action = filter_form.action.data if filter_form.action.data in actions else ""
    results = services.list_audit_events(
        AuditFilters(
            action=action or "",
            actor=(filter_form.actor.data or "")[:254],
            council_id=council.id if council else None,
            date_from=None if filter_form.date_from.errors else filter_form.date_from.data,
            date_to=None if filter_form.date_to.errors else filter_form.date_to.data,
            page=request.args.get("page", 1, type=int),
            panel_names_in=frozenset(
                c.id
                for c in councils
                if visibility.may_see_panel_member_names(current_principal(), c)
            ),
        )
    )
    return render_template(
        "admin/audit.html",
        filter_form=filter_form,
        results=results,
        pagination=pagination(results, "admin.audit"),
    )
