"""National administration: users, memberships and the audit trail."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from tracker.admin import periods, views  # noqa: E402, F401
