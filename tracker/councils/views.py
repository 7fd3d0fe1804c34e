"""Routes of the council pages."""

from __future__ import annotations

from flask import render_template

from tracker.councils import bp, queries


@bp.get("/")
def index() -> str:
    regions = queries.list_regions_with_councils()
    return render_template(
        "councils/index.html",
        regions=regions,
        council_count=sum(len(group.councils) for group in regions),
    )
