"""Flask CLI commands for people: ``flask users …`` and ``flask demo …``."""

from __future__ import annotations

from flask.cli import AppGroup

users_cli = AppGroup("users", help="People and their accounts.")
demo_cli = AppGroup("demo", help="Demonstration data (never in production).")
