"""Routes for signing in and out: password, second factor, reset and invitation links."""

from __future__ import annotations

import hashlib
import io

import segno
from flask import (
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from tracker import throttle
from tracker.accounts import services
from tracker.accounts.passwords import PasswordRejected
from tracker.auth import bp
from tracker.auth.forms import (
    ConfirmForm,
    ConfirmIdentityForm,
    ForgotPasswordForm,
    InvitationForm,
    NewPasswordForm,
    SignInForm,
    TwoFactorForm,
)
from tracker.auth.sessions import (
    confirm_identity_now,
    end_session,
    needs_second_factor,
    safe_next,
    second_factor_url,
    start_session,
    touch,
)
from tracker.extensions import db
from tracker.http import too_many_requests
from tracker.models import User
from tracker.permissions import public, signed_in
from tracker.security_log import log_event
from tracker.team import services as team

WRONG_CREDENTIALS = "Enter a correct email address and password"
WRONG_CODE = "Enter a correct security code"
#: status of a page re-shown because what was sent was not accepted
UNPROCESSABLE = 422


def _next() -> str | None:
    return safe_next(request.args.get("next"))


def _landing() -> str:
    # Each person lands on what is theirs ("Your work"), unless they were on their way somewhere.
    return _next() or url_for("home.your_work")


def _account_hash(email: str) -> str:
    # Ties log lines about one account together without writing the address.
    return hashlib.sha256(email.strip().lower().encode("utf-8", "replace")).hexdigest()[:16]


def _finish_sign_in(user: User, *, method: str) -> Response:
    services.record_sign_in(user)
    throttle.sign_in_succeeded(user.email)
    db.session.commit()
    log_event("sign_in.success", user_id=user.id, method=method)
    return redirect(_landing())


# -- sign in -----------------------------------------------------------------------------------


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():
    if g.get("principal") is not None:
        return redirect(_landing())
    if g.get("pending_user") is not None:
        return redirect(second_factor_url(g.pending_user, _next()))
    form = SignInForm()
    status = 200
    if form.is_submitted():
        status = UNPROCESSABLE
    if form.validate_on_submit():
        email, ip = form.email.data, request.remote_addr
        wait = throttle.sign_in_retry_after(email, ip)
        if wait is not None:
            return too_many_requests(wait, event="sign_in.throttled", account=_account_hash(email))
        user = services.authenticate(email, form.password.data)
        if user is None:
            throttle.sign_in_failed(email, ip)
            db.session.commit()
            log_event("sign_in.failure", account=_account_hash(email))
            form.email.errors.append(WRONG_CREDENTIALS)
        elif needs_second_factor(user):
            if not user.has_mfa:
                services.set_up_totp(user)
            db.session.commit()
            start_session(user, second_factor_done=False)
            log_event("sign_in.password_ok", user_id=user.id)
            return redirect(second_factor_url(user, _next()))
        else:
            start_session(user, second_factor_done=False)
            return _finish_sign_in(user, method="password")
    return render_template("auth/sign_in.html", form=form, next=_next()), status


@bp.route("/two-factor", methods=["GET", "POST"])
@public
def two_factor():
    user = g.get("pending_user")
    if user is None:
        return redirect(_landing() if g.get("principal") else url_for("auth.sign_in"))
    if not user.has_mfa:
        return redirect(second_factor_url(user, _next()))
    form = TwoFactorForm()
    status = 200
    if form.validate_on_submit():
        wait = throttle.sign_in_retry_after(user.email, request.remote_addr)
        if wait is not None:
            return too_many_requests(wait, event="mfa.throttled", user_id=user.id)
        if services.verify_totp(user, form.code.data):
            start_session(user, second_factor_done=True, since=session.get("since"))
            return _finish_sign_in(user, method="password+totp")
        throttle.sign_in_failed(user.email, request.remote_addr)
        db.session.commit()
        log_event("mfa.failure", user_id=user.id)
        form.code.errors.append(WRONG_CODE)
    if form.is_submitted():
        status = UNPROCESSABLE
    return render_template("auth/two_factor.html", form=form, next=_next()), status


@bp.route("/two-factor/set-up", methods=["GET", "POST"])
@public
def two_factor_set_up():
    user = g.get("pending_user")
    if user is None:
        return redirect(_landing() if g.get("principal") else url_for("auth.sign_in"))
    if user.has_mfa:
        return redirect(second_factor_url(user, _next()))
    form = TwoFactorForm()
    status = 200
    if user.totp_secret is None:
        # A role needing a second factor was granted during the session: make the secret on a
        # POST (a GET changes nothing), then show it.
        start = ConfirmForm()
        if start.validate_on_submit():
            services.set_up_totp(user)
            db.session.commit()
            return redirect(url_for("auth.two_factor_set_up", next=_next()))
        return render_template("auth/two_factor_start.html", form=start, next=_next())
    if form.validate_on_submit():
        wait = throttle.sign_in_retry_after(user.email, request.remote_addr)
        if wait is not None:
            return too_many_requests(wait, event="mfa.throttled", user_id=user.id)
        if services.confirm_totp(user, form.code.data):
            start_session(user, second_factor_done=True, since=session.get("since"))
            log_event("mfa.set_up", user_id=user.id)
            flash("You have set up your authenticator app", "success")
            return _finish_sign_in(user, method="password+totp")
        throttle.sign_in_failed(user.email, request.remote_addr)
        db.session.commit()
        log_event("mfa.failure", user_id=user.id, during="set_up")
        form.code.errors.append(WRONG_CODE)
    if form.is_submitted():
        status = UNPROCESSABLE
    secret = user.totp_secret
    groups = [secret[i : i + 4] for i in range(0, len(secret), 4)]
    return (
        render_template(
            "auth/two_factor_set_up.html", form=form, secret_groups=groups, next=_next()
        ),
        status,
    )


@bp.get("/two-factor/qr.svg")
@public
def two_factor_qr() -> Response:
    # Only for the person part-way through setting up, and only the secret not yet confirmed.
    user = g.get("pending_user")
    if user is None or user.has_mfa or not user.totp_secret:
        abort(404)
    qr = segno.make(services.totp_uri(user), error="m")
    svg = io.BytesIO()
    # A standalone image needs the SVG namespace (svg_inline() leaves it out).
    qr.save(svg, kind="svg", scale=5, border=4, dark="#0b0c0c", light="#ffffff", xmldecl=False)
    response = Response(svg.getvalue(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "no-store"
    return response


# -- sign out and staying signed in --------------------------------------------------------------


@bp.post("/sign-out")
@public
def sign_out() -> Response:
    user = g.get("user")
    if user is not None:
        services.sign_out(user)
        db.session.commit()
        log_event("sign_out", user_id=user.id)
    end_session()
    g.no_store = True
    response = redirect(url_for("auth.signed_out"), code=303)
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response


@bp.get("/signed-out")
@public
def signed_out() -> str:
    return render_template("auth/signed_out.html")


@bp.post("/keep-alive")
@signed_in
def keep_alive() -> tuple[str, int]:
    touch()
    return "", 204


@bp.route("/confirm-identity", methods=["GET", "POST"])
@signed_in
def confirm_identity():
    """Password (and code) again, before a change to roles, apps or accounts."""
    user = g.principal.user
    form = ConfirmIdentityForm()
    status = 200
    if form.validate_on_submit():
        wait = throttle.sign_in_retry_after(user.email, request.remote_addr)
        if wait is not None:
            return too_many_requests(wait, event="reauth.throttled", user_id=user.id)
        password_ok = services.authenticate(user.email, form.password.data) is not None
        code_ok = not user.has_mfa or (
            bool(form.code.data) and services.verify_totp(user, form.code.data)
        )
        if password_ok and code_ok:
            throttle.sign_in_succeeded(user.email)
            db.session.commit()
            confirm_identity_now()
            log_event("reauth.success", user_id=user.id)
            return redirect(_next() or url_for("account.index"))
        throttle.sign_in_failed(user.email, request.remote_addr)
        db.session.commit()
        log_event("reauth.failure", user_id=user.id)
        if not password_ok:
            form.password.errors.append("Enter your correct password")
        if not code_ok:
            form.code.errors.append(WRONG_CODE if form.code.data else "Enter the security code")
    if form.is_submitted():
        status = UNPROCESSABLE
    return render_template(
        "auth/confirm_identity.html", form=form, next=_next(), needs_code=user.has_mfa
    ), status


# -- forgotten passwords and invitations -------------------------------------------------------


@bp.route("/forgot-password", methods=["GET", "POST"])
@public
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        limit = throttle.reset_ip_limit(request.remote_addr)
        wait = throttle.retry_after(limit)
        if wait is not None:
            return too_many_requests(wait, event="password_reset.throttled")
        throttle.hit(limit.key, limit.window)
        services.request_password_reset(form.email.data)
        db.session.commit()
        log_event("password_reset.requested", account=_account_hash(form.email.data))
        return redirect(url_for("auth.check_email"), code=303)
    status = UNPROCESSABLE if form.is_submitted() else 200
    return render_template("auth/forgot_password.html", form=form), status


@bp.get("/forgot-password/check-your-email")
@public
def check_email() -> str:
    return render_template("auth/check_email.html")


def _validate_with_policy(form, field, user: User, *, name: str | None = None) -> bool:
    """Validate ``form``, and check the new password in ``field`` against the policy even when
    another field is wrong, so that every problem is listed at once."""
    valid = form.validate()
    if not field.errors:
        try:
            services.check_new_password(user, field.data or "", display_name=name or None)
        except PasswordRejected as error:
            field.errors.append(str(error))
            valid = False
    return valid


def _link_expired(kind: str) -> tuple[str, int]:
    return render_template("auth/link_expired.html", kind=kind), 404


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str):
    try:
        reset = services.find_password_reset(token)
    except services.LinkNotValid:
        return _link_expired("reset")
    form = NewPasswordForm()
    if form.is_submitted() and _validate_with_policy(form, form.password, reset.user):
        try:
            user = services.reset_password(token, form.password.data)
        except services.LinkNotValid:
            return _link_expired("reset")
        except PasswordRejected as error:
            form.password.errors.append(str(error))
        else:
            db.session.commit()
            log_event("password_reset.used", user_id=user.id)
            end_session()
            flash("Your password has been changed. Sign in with your new password.", "success")
            return redirect(url_for("auth.sign_in"), code=303)
    status = UNPROCESSABLE if form.is_submitted() else 200
    return render_template("auth/reset_password.html", form=form, user=reset.user), status


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@public
def invitation(token: str):
    try:
        found = services.find_invitation(token)
    except services.LinkNotValid:
        return _link_expired("invitation")
    invited = found.user
    form = InvitationForm(data={"display_name": invited.display_name})
    if form.is_submitted() and _validate_with_policy(
        form, form.password, invited, name=form.display_name.data
    ):
        try:
            user = services.accept_invitation(token, form.password.data, form.display_name.data)
        except services.LinkNotValid:
            return _link_expired("invitation")
        except PasswordRejected as error:
            form.password.errors.append(str(error))
        except services.AccountError as error:
            form.display_name.errors.append(str(error))
        else:
            log_event("invitation.accepted", user_id=user.id)
            if needs_second_factor(user):
                services.set_up_totp(user)
                db.session.commit()
                start_session(user, second_factor_done=False)
                return redirect(second_factor_url(user), code=303)
            db.session.commit()
            start_session(user, second_factor_done=False)
            flash("You have created your account", "success")
            return _finish_sign_in(user, method="invitation")
    status = UNPROCESSABLE if form.is_submitted() else 200
    return render_template("auth/invitation.html", form=form, user=invited), status


# -- invitations to a council's team -----------------------------------------------------------


@bp.route("/team-invitation/<token>", methods=["GET", "POST"])
@public
def team_invitation(token: str):
    """The link in an invitation to a council's team.

    Someone whose address has an account answers signed in as that account (anyone else
    signed in gets 404). Someone without one, or with one never used, chooses a password here,
    which accepts the invitation.
    """
    try:
        invitation = team.find_invitation(token)
    except services.LinkNotValid:
        return _link_expired("team_invitation")
    account = team.account_for(invitation)
    principal = g.get("principal")
    answer = url_for("account.invitation", invitation_id=invitation.id)
    if account is not None and account.password_hash is not None:
        if principal is None:
            return redirect(url_for("auth.sign_in", next=answer))
        if principal.user.id != account.id:
            abort(404)
        return redirect(answer)
    if principal is not None:
        abort(404)
    name = account.display_name if account is not None else invitation.display_name
    form = InvitationForm(data={"display_name": name})
    if form.is_submitted():
        valid = form.validate()
        if not form.password.errors:
            try:
                team.check_new_password(
                    invitation, form.password.data or "", form.display_name.data or ""
                )
            except PasswordRejected as error:
                form.password.errors.append(str(error))
                valid = False
        if valid:
            try:
                user = team.join_with_new_account(token, form.password.data, form.display_name.data)
            except services.LinkNotValid:
                db.session.rollback()
                return _link_expired("team_invitation")
            except PasswordRejected as error:
                db.session.rollback()
                form.password.errors.append(str(error))
            except services.AccountError as error:
                db.session.rollback()
                form.display_name.errors.append(str(error))
            else:
                log_event("team_invitation.accepted", user_id=user.id)
                joined = f"{invitation.role_enum.label.lower()} in {invitation.council.short_name}"
                if needs_second_factor(user):
                    services.set_up_totp(user)
                    db.session.commit()
                    start_session(user, second_factor_done=False)
                    flash(f"You have created your account. You are now a {joined}", "success")
                    return redirect(second_factor_url(user), code=303)
                db.session.commit()
                start_session(user, second_factor_done=False)
                flash(f"You have created your account. You are now a {joined}", "success")
                return _finish_sign_in(user, method="team_invitation")
    status = UNPROCESSABLE if form.is_submitted() else 200
    return render_template(
        "auth/team_invitation.html", form=form, invitation=invitation, account=account
    ), status
