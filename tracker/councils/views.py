"""Routes of the council pages."""

from __future__ import annotations

from flask import render_template

from tracker.councils import bp, queries
from tracker.permissions import public


@bp.get("/")
@public
def index() -> str:
    regions = queries.list_regions_with_councils()
    return render_template(
        "councils/index.html",
        regions=regions,
        council_count=sum(len(group.councils) for group in regions),
    )
