"""Read councils and regions for the council pages (loading lives in ``services``)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby

from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from tracker.extensions import db
from tracker.models import Council, Region


@dataclass(frozen=True)
class RegionCouncils:
    """One ADASS region and its active councils, by short name."""

    region: Region
    councils: list[Council]


def list_regions_with_councils() -> list[RegionCouncils]:
    """Every ADASS region that has active councils, by name, with those councils.

    One query; regions without active councils are left out.
    """
    councils = db.session.scalars(
        select(Council)
        .join(Council.region)
        .options(contains_eager(Council.region))
        .where(Council.is_active)
        .order_by(Region.name, Council.short_name)
    ).all()
    return [
        RegionCouncils(region=region, councils=list(members))
        for region, members in groupby(councils, key=lambda council: council.region)
    ]
