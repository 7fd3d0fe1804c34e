"""A council approver's management of their own council's editors, viewers and panel members."""

from flask import Blueprint

bp = Blueprint("team", __name__, url_prefix="/councils/<gss_code>/team")

from tracker.team import views  # noqa: E402, F401
