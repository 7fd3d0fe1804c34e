"""A council's quarterly returns: the overview, assessments, workflow, evidence and exports."""

from flask import Blueprint

bp = Blueprint("returns", __name__, url_prefix="/councils/<gss_code>/returns")

from tracker.returns import evidence_views, spreadsheet_views, views  # noqa: E402, F401
