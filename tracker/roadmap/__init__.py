"""The published roadmap: areas, actions, key, outcomes, agenda, barriers and enablers."""

from flask import Blueprint

bp = Blueprint("roadmap", __name__, url_prefix="/roadmap")

from tracker.roadmap import views  # noqa: E402, F401  (registers the routes on bp)
