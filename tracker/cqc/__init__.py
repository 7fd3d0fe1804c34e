"""A council's return read against the CQC's assessment framework: the view, and the pack."""

from flask import Blueprint

bp = Blueprint("cqc", __name__)

from tracker.cqc import views  # noqa: E402, F401
