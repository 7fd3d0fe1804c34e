"""Sign-in, second factor, sign-out, password reset, invitations and the person's own account."""

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")

from tracker.auth import views  # noqa: E402, F401
