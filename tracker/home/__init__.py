"""Your work: the page each person lands on after signing in, with what is theirs."""

from flask import Blueprint

bp = Blueprint("home", __name__)

from tracker.home import views  # noqa: E402, F401
