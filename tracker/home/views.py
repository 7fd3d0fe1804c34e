"""Routes of "Your work": the page each person lands on after signing in, and the list of a
region's councils behind its counts.

Who may use them:

- ``/your-work``: anyone signed in; it shows one part per membership they hold (and says what to
  do when they hold none).
- ``/your-work/regions/<region>``: the region's regional members and national administrators,
  as the regional comparison. Councils that keep their named returns to themselves are counted,
  never named (``tracker.domain.visibility.may_name``).
"""

from __future__ import annotations

from flask import render_template

from tracker.clock import uk_today
from tracker.domain import visibility
from tracker.home import bp, queries
from tracker.models import Region
from tracker.permissions import current_principal, region_access, signed_in


@bp.get("/your-work")
@signed_in
def your_work() -> str:
    principal = current_principal()
    assert principal is not None  # the decorator has checked
    return render_template(
        "home/your_work.html",
        work=queries.get_your_work(principal, today=uk_today()),
        states=queries.STATE_NAMES,
    )


@bp.get("/your-work/regions/<region_slug>")
@region_access(*visibility.REGION_READERS)
def region(region: Region) -> str:
    principal = current_principal()
    assert principal is not None  # the decorator has checked
    return render_template(
        "home/region.html",
        listing=queries.get_region_list(region, principal, today=uk_today()),
    )
