"""The open data: each closed quarter's signed-off returns as a Frictionless Data Package."""

from flask import Blueprint

bp = Blueprint("opendata", __name__, url_prefix="/open-data")

from tracker.opendata import views  # noqa: E402, F401  (registers the routes on bp)
