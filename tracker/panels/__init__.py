"""Co-production panels: comments on actions, and the council's answers."""

from flask import Blueprint

bp = Blueprint("panels", __name__)

from tracker.panels import views  # noqa: E402, F401
