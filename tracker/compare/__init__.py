"""Dashboards and comparison: a council's picture, its region side by side, the nation."""

from flask import Blueprint

bp = Blueprint("compare", __name__)
