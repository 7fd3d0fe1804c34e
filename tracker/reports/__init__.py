"""Board-ready reports: the council quarterly board report and the regional pack."""

from flask import Blueprint

bp = Blueprint("reports", __name__)

from tracker.reports import views, warm  # noqa: E402, F401

bp.before_app_request(warm.start_once)
