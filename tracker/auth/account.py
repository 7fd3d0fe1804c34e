"""The signed-in person's own account: what they hold, the invitations waiting for their answer,
changing their password, and their API tokens."""

from __future__ import annotations

import hashlib
import json

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker import throttle
from tracker.accounts import passwords, services
from tracker.accounts import tokens as api_tokens
from tracker.accounts.passwords import PasswordRejected
from tracker.admin.services import AccountChangeRefused
from tracker.auth.forms import AnswerInvitationForm, ChangePasswordForm, NewTokenForm
from tracker.auth.sessions import recent_sign_in, start_session
from tracker.extensions import db
from tracker.forms import ConfirmForm
from tracker.http import too_many_requests
from tracker.models import Membership
from tracker.permissions import signed_in
from tracker.security_log import log_event
from tracker.team import services as team

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.get("")
@signed_in
def index() -> str:
    user = g.principal.user
    memberships = list(
        db.session.scalars(
            select(Membership)
            .where(Membership.user_id == user.id)
            .options(selectinload(Membership.council), selectinload(Membership.region))
            .order_by(Membership.role, Membership.id)
        )
    )
    return render_template(
        "account/index.html",
        user=user,
        memberships=memberships,
        invitations=team.list_invitations_for(user),
    )


@bp.route("/invitations/<int:invitation_id>", methods=["GET", "POST"])
@signed_in
@recent_sign_in
def invitation(invitation_id: int):
    """Accept or decline an invitation to a council's team sent to one's own address; anyone
    else's is a 404."""
    user = g.principal.user
    found = team.get_invitation_for(user, invitation_id) or abort(404)
    form = AnswerInvitationForm()
    if form.validate_on_submit() and (form.accept.data or form.decline.data):
        where = found.council.short_name
        what = f"{found.role_enum.label.lower()} in {where}"
        try:
            if form.accept.data:
                team.accept_invitation(found, user=user)
                message = f"You are now a {what}"
            else:
                team.decline_invitation(found, user=user)
                message = f"You have declined the invitation to be a {what}"
        except LookupError:
            db.session.rollback()
            abort(404)
        except (services.LinkNotValid, AccountChangeRefused) as error:
            db.session.rollback()
            flash(str(error))
        else:
            db.session.commit()
            flash(message, "success")
        return redirect(url_for("account.index"), code=303)
    return render_template("account/invitation.html", invitation=found, form=form)


@bp.route("/password", methods=["GET", "POST"])
@signed_in
def change_password():
    user = g.principal.user
    form = ChangePasswordForm()
    if form.is_submitted():
        wait = throttle.sign_in_retry_after(user.email, request.remote_addr)
        if wait is not None:
            return too_many_requests(wait, event="password_change.throttled", user_id=user.id)
        valid = form.validate()
        # Every problem at once: the current password and the new one are checked separately.
        if not form.current_password.errors and not passwords.verify_password(
            user.password_hash, form.current_password.data or ""
        ):
            form.current_password.errors.append("Your current password is not correct")
            throttle.sign_in_failed(user.email, request.remote_addr)
            db.session.commit()
            log_event("password_change.failure", user_id=user.id)
            valid = False
        if not form.new_password.errors:
            try:
                services.check_new_password(user, form.new_password.data or "")
            except PasswordRejected as error:
                form.new_password.errors.append(str(error))
                valid = False
        if valid:
            services.change_password(user, form.current_password.data, form.new_password.data)
            db.session.commit()
            # Every other session has ended; this one goes on under the new session version.
            start_session(user, second_factor_done=bool(session.get("mfa")), since=session["since"])
            log_event("password_change", user_id=user.id)
            flash("Your password has been changed. Other devices have been signed out.", "success")
            return redirect(url_for("account.index"), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("account/change_password.html", form=form), status


@bp.get("/tokens")
@signed_in
def tokens() -> str:
    """The person's API tokens, live, expired and revoked (never a secret: none is kept)."""
    return render_template("account/tokens.html", tokens=api_tokens.list_for(g.principal.user))


#: the session key of a hash of the form that made the person's last token
_LAST_TOKEN_POST = "last_token_form"  # noqa: S105 (a session key, not a secret)


def _post_fingerprint(form: NewTokenForm) -> str:
    """A hash of what was posted, its CSRF token included: the token's string carries the time
    its form was drawn, so the same form sent again matches, and a form drawn afresh does not."""
    posted = [form.csrf_token.data, form.name.data, form.scope.data, form.expires_in_days.data]
    return hashlib.sha256(json.dumps(posted, default=str).encode()).hexdigest()


def _posted_before(form: NewTokenForm) -> bool:
    return session.get(_LAST_TOKEN_POST) == _post_fingerprint(form)


@bp.route("/tokens/new", methods=["GET", "POST"])
@signed_in
@recent_sign_in
def new_token():
    """Make a token; its secret is on the page that answers the POST, and nowhere else, ever."""
    principal = g.principal
    scopes = api_tokens.scope_choices(principal)
    full = api_tokens.limit_reached(principal.user)
    form = NewTokenForm(scopes=scopes)
    if form.is_submitted() and _posted_before(form):
        # The browser sent the form again (a refresh of the page that showed the secret): that
        # token is made, and its secret was shown once; a second token would be a surprise.
        flash(
            f"Your token “{form.name.data}” was made when you first sent the form, and its "
            "secret shown then. If you did not copy it, revoke it and create another."
        )
        return redirect(url_for("account.tokens"), code=303)
    if scopes and not full and form.validate_on_submit():
        try:
            token, secret = api_tokens.create(
                principal,
                name=form.name.data,
                scope=form.scope.data,
                expires_in_days=int(form.expires_in_days.data),
            )
        except api_tokens.TokenRefused as error:
            db.session.rollback()
            field = getattr(form, error.field or "name")
            field.errors = [*field.errors, str(error)]
        else:
            db.session.commit()
            session[_LAST_TOKEN_POST] = _post_fingerprint(form)
            # A page, not a redirect: the secret must not travel in a URL or a session. Like
            # every signed-in page it is sent with Cache-Control: no-store.
            return render_template(
                "account/token_created.html",
                token=token,
                secret=secret,
                scope_label=api_tokens.describe_scope(token),
                api_url=current_app.config["BASE_URL"].rstrip("/") + "/api/v1/councils",
            )
    status = 422 if form.is_submitted() else 200
    return render_template(
        "account/new_token.html",
        form=form,
        has_scopes=bool(scopes),
        limit_reached=full,
        max_tokens=api_tokens.MAX_LIVE_TOKENS,
    ), status


@bp.route("/tokens/<int:token_id>/revoke", methods=["GET", "POST"])
@signed_in
def revoke_token(token_id: int):
    """Confirm, then revoke one of one's own tokens; anyone else's is a 404."""
    user = g.principal.user
    token = api_tokens.get_for(user, token_id) or abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        api_tokens.revoke(token, user)
        db.session.commit()
        flash(
            f"“{token.name}” is revoked. Nothing can read the tracker with it any more", "success"
        )
        return redirect(url_for("account.tokens"), code=303)
    return render_template(
        "account/revoke_token.html",
        token=token,
        scope_label=api_tokens.describe_scope(token),
        form=form,
    )
