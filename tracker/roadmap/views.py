"""Routes of the public roadmap pages."""

from __future__ import annotations

from flask import abort, render_template, request

from tracker.domain import visibility
from tracker.domain.periods import period_slug
from tracker.forms import SearchForm
from tracker.permissions import current_principal, public, signed_in
from tracker.roadmap import bp, practice, services
from tracker.roadmap.forms import ActionFilterForm, PracticePeriodForm


def _current_edition():
    return services.get_current_edition() or abort(404)


@bp.get("/")
@public
def index() -> str:
    overview = services.get_roadmap_overview() or abort(404)
    return render_template(
        "roadmap/index.html",
        overview=overview,
        edition=overview.edition,
        may_read_practice=visibility.may_read_shared_practice(current_principal()),
    )


@bp.get("/areas/<slug>")
@public
def area(slug: str) -> str:
    page = services.get_area_page(slug) or abort(404)
    return render_template("roadmap/area.html", page=page, area=page.area)


@bp.get("/actions")
@public
def actions() -> str:
    form = ActionFilterForm(
        request.args,
        area_choices=services.list_area_choices(),
        statement_choices=services.list_statement_choices(),
    )
    results = services.list_actions(form.to_filters())
    return render_template("roadmap/actions.html", filter_form=form, actions=results)


@bp.get("/actions/<code>")
@public
def action(code: str) -> str:
    page = services.get_action_page(code) or abort(404)
    viewer = current_principal()
    return render_template(
        "roadmap/action.html",
        page=page,
        action=page.action,
        may_read_practice=visibility.may_read_shared_practice(viewer),
        shared_practice=practice.list_shared_practice(page.action, viewer),
    )


@bp.get("/in-practice")
@signed_in
def in_practice() -> str | tuple[str, int]:
    # Shared practice is for officers, regions and the nation (visibility.PRACTICE_READERS);
    # for anyone else signed in (a panel member) the page does not exist.
    viewer = current_principal()
    if not visibility.may_read_shared_practice(viewer):
        abort(404)
    periods = practice.list_summary_periods()
    form = PracticePeriodForm(request.args, periods)
    summary = None
    if "period" not in request.args or form.validate():
        period = practice.find_summary_period(periods, form.period.data)
        summary = practice.roadmap_in_practice(period, periods, viewer) if period else None
        form.period.data = period_slug(period) if period else form.period.data
    page = render_template("roadmap/in_practice.html", form=form, summary=summary)
    return (page, 400) if form.errors else page


@bp.get("/cqc")
@public
def cqc() -> str:
    page = services.get_cqc_page() or abort(404)
    return render_template("roadmap/cqc.html", page=page, framework=page.framework)


@bp.get("/key")
@public
def key() -> str:
    return render_template("roadmap/key.html", edition=_current_edition())


@bp.get("/outcomes")
@public
def outcomes() -> str:
    edition = _current_edition()
    return render_template(
        "roadmap/outcomes.html", edition=edition, outcomes=services.list_outcomes(edition)
    )


@bp.get("/agenda-for-action")
@public
def agenda() -> str:
    edition = _current_edition()
    return render_template(
        "roadmap/agenda.html", edition=edition, groups=services.list_agenda_groups(edition)
    )


@bp.get("/barriers-and-enablers")
@public
def enablers() -> str:
    edition = _current_edition()
    return render_template(
        "roadmap/enablers.html", edition=edition, enablers=services.list_enablers(edition)
    )


@bp.get("/search")
@public
def search() -> str | tuple[str, int]:
    form = SearchForm(request.args)
    if not form.query:
        return render_template("roadmap/search.html", search_form=form, results=None)
    if not form.validate():
        page = render_template("roadmap/search.html", form=form, search_form=form, results=None)
        return page, 400
    results = services.search_roadmap(form.query) or abort(404)
    return render_template("roadmap/search.html", search_form=form, results=results)
