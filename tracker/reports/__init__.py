"""Board-ready reports: the council quarterly board report and the regional pack."""

from flask import Blueprint

bp = Blueprint("reports", __name__)

from tracker.reports import views  # noqa: E402, F401
