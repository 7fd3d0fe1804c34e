"""Councils with adult social services responsibilities, by ADASS region."""

from flask import Blueprint

bp = Blueprint("councils", __name__, url_prefix="/councils")

from tracker.councils import views  # noqa: E402, F401  (registers the routes on bp)
