"""Dashboards and comparison: a council's picture, its region side by side, the nation."""

from flask import Blueprint

bp = Blueprint("compare", __name__)

from tracker.compare import views  # noqa: E402, F401
