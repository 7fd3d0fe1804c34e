"""Public pages that belong to no feature: home, accessibility statement, health check."""

from flask import Blueprint

bp = Blueprint("pages", __name__)

from tracker.pages import views  # noqa: E402, F401  (registers the routes on bp)
