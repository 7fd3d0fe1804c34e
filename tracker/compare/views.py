"""Routes of the dashboards: a council's picture, its region side by side, the nation.

Who sees what (``tests/access_matrix.py``, "dashboards and comparison"):

- a council's dashboard: its editors, approvers and viewers, with its own draft for the open
  quarter (labelled as a draft); regional members of its region and national administrators
  only when the council shares named returns, and then only submitted and signed-off returns.
  Anyone else gets 404, as does a council that does not share, to everyone outside it.
- the regional comparison: regional members of the region and national administrators; named
  rows only for councils that share named returns.
- the national view: national administrators.
- the choice to share named returns: the council's approver (the DASS).

The quarter is chosen with ``?period=2025-26-Q3``; one that is not offered gets a clear message
(and status 400), never a 500.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from tracker.compare import bp, charts, services
from tracker.compare.forms import SORT_BY_ALL, SORT_BY_NAME, PeriodForm, RegionForm, SharingForm
from tracker.domain import visibility
from tracker.extensions import db
from tracker.models import Council, Region, Role
from tracker.permissions import (
    council_access,
    current_principal,
    national_admin,
    region_access,
)

#: the council's own staff (who also see its draft on its dashboard), its region and the nation
DASHBOARD_READERS = (*visibility.COUNCIL_READERS, *visibility.REGION_READERS)


def _period_or_error(form: PeriodForm, periods):
    """The chosen period (or the default), or None with the form's error set."""
    if "period" in request.args and not form.validate():
        return None
    return services.find_period(periods, form.period.data)


@bp.get("/councils/<gss_code>/dashboard")
@council_access(*DASHBOARD_READERS)
def council_dashboard(council: Council) -> tuple[str, int] | str:
    principal = current_principal()
    own = visibility.reads_drafts(principal, council)
    if not visibility.may_name(principal, council):
        abort(404)
    periods = services.list_periods(council=council, include_drafts=own)
    form = PeriodForm(request.args, periods)
    period = _period_or_error(form, periods)
    dashboard = services.council_dashboard(council, period, include_draft=own) if period else None
    page = render_template(
        "compare/council_dashboard.html",
        council=council,
        form=form,
        periods=periods,
        dashboard=dashboard,
        charts=charts.council_charts(dashboard) if dashboard and dashboard.has_return else [],
        is_own=own,
        can_change_sharing=visibility.holds(principal, council, (Role.COUNCIL_APPROVER,)),
        region_url=(
            url_for("compare.region", region_slug=council.region.slug)
            if principal.may_access_region(council.region, visibility.REGION_READERS)
            else None
        ),
    )
    return (page, 400) if form.errors else page


@bp.get("/regions/<region_slug>/compare")
@region_access(*visibility.REGION_READERS)
def region(region: Region) -> tuple[str, int] | str:
    periods = services.list_periods(region=region)
    areas = services.list_areas()
    principal = current_principal()
    named = [c for c in region.councils if c.is_active and visibility.may_name(principal, c)]
    form = RegionForm(request.args, periods, named, [(a.key, a.short_label) for a in areas])
    has_errors = bool(request.args) and not form.validate()
    period = None if has_errors else services.find_period(periods, form.period.data)
    comparison = services.region_comparison(region, period, viewer=principal) if period else None
    rows = []
    if comparison:
        rows = _sorted_rows(comparison, form.sort.data or SORT_BY_NAME)
    chosen = form.council.data or None
    page = render_template(
        "compare/region.html",
        region=region,
        form=form,
        periods=periods,
        comparison=comparison,
        rows=rows,
        heatmap=charts.region_heatmap(comparison) if comparison else None,
        distribution=charts.action_distribution(comparison) if comparison else None,
        prevention=charts.region_prevention_tiers(comparison) if comparison else None,
        position=charts.council_position(comparison, chosen) if comparison else None,
    )
    return (page, 400) if form.errors else page


def _sorted_rows(comparison: services.RegionComparison, sort: str):
    """The named rows in the chosen order: by name, or by a share, highest first (no ranks)."""
    rows = list(comparison.rows)
    if sort == SORT_BY_NAME:
        return rows

    def share(row: services.CouncilRow) -> services.Share:
        return row.overall if sort == SORT_BY_ALL else row.cell(sort).share

    # Highest share first; councils with nothing to compare (no return, no actions) last.
    return sorted(
        rows,
        key=lambda r: (share(r).ratio is None, -(share(r).ratio or 0), r.council.short_name),
    )


@bp.get("/national")
@national_admin
def national() -> tuple[str, int] | str:
    periods = services.list_periods()
    form = PeriodForm(request.args, periods)
    period = _period_or_error(form, periods)
    view = services.national_view(period, viewer=current_principal()) if period else None
    page = render_template(
        "compare/national.html",
        form=form,
        periods=periods,
        view=view,
        heatmap=charts.national_heatmap(view) if view else None,
        barriers=charts.national_barriers(view) if view else None,
        prevention=charts.national_prevention_tiers(view) if view else None,
    )
    return (page, 400) if form.errors else page


@bp.route("/councils/<gss_code>/sharing", methods=["GET", "POST"])
@council_access(Role.COUNCIL_APPROVER)
def sharing(council: Council) -> tuple[str, int] | str | Response:
    form = SharingForm(data={"shares": "yes" if council.shares_named_returns else "no"})
    if request.method == "POST":
        form = SharingForm()
        if form.validate():
            principal = current_principal()
            changed = services.set_sharing(
                council, form.shares.data == "yes", actor=principal.user if principal else None
            )
            db.session.commit()
            if changed:
                flash(
                    f"{council.short_name}'s returns are now "
                    + (
                        "shared by name with its region"
                        if council.shares_named_returns
                        else "counted only inside regional and national figures"
                    ),
                    "success",
                )
            return redirect(url_for("compare.council_dashboard", gss_code=council.gss_code))
        return render_template("compare/sharing.html", council=council, form=form), 422
    return render_template("compare/sharing.html", council=council, form=form)
