"""Loading the signed-in person for each request (to be written: issue 3)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the per-request session checks."""
