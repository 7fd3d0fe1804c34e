"""The API's routes. Each reads through the same access decorators and visibility rules as the
page it mirrors (its operation's ``mirrors``, which tests/test_api_access.py checks cell by
cell against the access matrix)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from flask import Response, abort, current_app, g, jsonify, request, url_for
from marshmallow import Schema
from sqlalchemy import func, select

from tracker import throttle
from tracker.api import bp, schemas
from tracker.api.spec import document, operation
from tracker.compare import services as compare
from tracker.domain import visibility
from tracker.domain.periods import months, period_slug
from tracker.domain.vocabulary import LEAD_NAMES, NO_RAG, NOT_ASSESSED, STAGE_NAMES, ReviewState
from tracker.extensions import db
from tracker.http import problem
from tracker.models import (
    Action,
    ActionStatementLink,
    Council,
    Evidence,
    Period,
    QualityStatement,
    Region,
    Return,
    RoadmapEdition,
)
from tracker.models.returns import assessment_evidence
from tracker.panels import services as panels
from tracker.permissions import (
    council_access,
    current_principal,
    national_admin,
    public,
    return_or_404,
)
from tracker.permissions import region_access as region_rule
from tracker.returns import queries
from tracker.returns.spreadsheet import list_assessments
from tracker.roadmap import services as roadmap

#: the most items one page may hold, and how many it holds when the caller does not say
MAX_PER_PAGE = 500
PER_PAGE = 100
#: requests one caller (a token, a session's person, or an address) may make in a minute
DEFAULT_RATE_LIMIT = 600


# -- who is calling, and how often ---------------------------------------------------------------


@bp.before_request
def _authenticate() -> Response | None:
    """A bearer token, when sent, decides who is calling (and a bad one is a 401, never a
    quiet fall back to anonymous); otherwise the browser session's person, or nobody."""
    header = request.headers.get("Authorization", "")
    if header:
        from tracker.accounts import tokens

        scheme, _, secret = header.partition(" ")
        token = tokens.authenticate(secret.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            return problem(401, "The token is not valid: it may be mistyped, expired or revoked.")
        g.principal = tokens.principal_for(token)
        g.api_token = token
    return _rate_limit()


def _caller_key() -> str:
    token = g.get("api_token")
    if token is not None:
        return f"api:token:{token.id}"
    principal = current_principal()
    if principal is not None:
        return f"api:user:{principal.user.id}"
    return throttle.ip_key("api", request.remote_addr)


def _rate_limit() -> Response | None:
    limit = throttle.Limit(
        _caller_key(),
        int(current_app.config.get("API_RATE_LIMIT", DEFAULT_RATE_LIMIT)),
        throttle.timedelta(minutes=1),
    )
    count = throttle.hit(limit.key, limit.window)
    db.session.commit()  # the count, when the database keeps it
    if count > limit.limit:
        retry = throttle.retry_after(limit) or 60
        return problem(429, headers={"Retry-After": str(retry)})
    return None


@bp.after_request
def _conditional(response: Response) -> Response:
    """An ETag on every answer, 304 when the caller already holds it; private answers may be
    revalidated by their caller but never kept by a shared cache."""
    if request.method == "GET" and response.status_code == 200:
        response.add_etag()
        response.make_conditional(request)
    signed_in = current_principal() is not None
    response.headers["Cache-Control"] = "private, no-cache" if signed_in else "no-cache"
    response.headers["Vary"] = "Authorization, Cookie"
    return response


# -- answers --------------------------------------------------------------------------------------


def _one(schema: type[Schema], data: Any) -> Response:
    return jsonify(schema().dump(data))


def _page_numbers() -> tuple[int, int]:
    """``page`` and ``per_page`` from the query, or a 400 that says what is wrong."""
    values = []
    for name, default, largest in (("page", 1, 10**6), ("per_page", PER_PAGE, MAX_PER_PAGE)):
        raw = request.args.get(name, str(default))
        if not raw.isdigit() or not 1 <= int(raw) <= largest:
            abort(
                problem(400, f"'{name}' must be a whole number from 1 to {largest:,}.")  # type: ignore[arg-type]
            )
        values.append(int(raw))
    return values[0], values[1]


def _page_url(page: int, per_page: int) -> str:
    # The path's own values win over a query parameter of the same name (``?gss_code=``), and
    # url_for's own arguments (``endpoint``, ``_external``, ``_scheme``…) are never taken from
    # the query.
    query = {
        k: v for k, v in request.args.to_dict().items() if not k.startswith("_") and k != "endpoint"
    }
    args = {**query, "page": page, "per_page": per_page, **(request.view_args or {})}
    return url_for(request.endpoint or "", **args)


def _paged(schema: type[Schema], items: Sequence[Any], **extra: Any) -> Response:
    """One page of ``items`` with links to the next and previous; a ``Link`` header too."""
    page, per_page = _page_numbers()
    start = (page - 1) * per_page
    last = max(1, -(-len(items) // per_page))
    links = {
        "self": _page_url(page, per_page),
        "next": _page_url(page + 1, per_page) if page < last else None,
        "prev": _page_url(page - 1, per_page) if 1 < page <= last else None,
    }
    body = {"items": list(items[start : start + per_page]), "total": len(items), "links": links}
    response = jsonify(schema().dump({**body, **extra}))
    header = ", ".join(
        f'<{url}>; rel="{rel}"' for rel, url in links.items() if url and rel != "self"
    )
    if header:
        response.headers["Link"] = header
    return response


def _bad_request(message: str) -> Response:
    return problem(400, message)


# -- plain dicts of the models --------------------------------------------------------------------


def _period(period: Period) -> dict[str, Any]:
    return {
        "label": period.label,
        "slug": period_slug(period),
        "months": months(period.label),
        "starts_on": period.starts_on,
        "ends_on": period.ends_on,
        "closes_on": period.closes_on,
        "status": period.status,
    }


def _council(council: Council) -> dict[str, Any]:
    return {
        "gss_code": council.gss_code,
        "name": council.name,
        "short_name": council.short_name,
        "council_type": council.council_type,
        "region": council.region.slug,
        # the rule's own answer for a reader outside the council: may they read it by name?
        "named_to_outsiders": visibility.may_name(None, council),
        "links": {"self": url_for("api.council", gss_code=council.gss_code)},
    }


def _statement_links(action_ids: Sequence[int]) -> dict[int, list[dict[str, str]]]:
    """The crosswalk's links of these actions, in the framework's order: one query."""
    found: dict[int, list[dict[str, str]]] = {i: [] for i in action_ids}
    rows = db.session.execute(
        select(ActionStatementLink.action_id, QualityStatement, ActionStatementLink.rationale)
        .join(QualityStatement, QualityStatement.id == ActionStatementLink.statement_id)
        .where(ActionStatementLink.action_id.in_(list(action_ids)))
        .order_by(QualityStatement.position)
    )
    for action_id, statement, rationale in rows:
        found[action_id].append(
            {"code": statement.code, "title": statement.title, "rationale": rationale}
        )
    return found


def _action(action: Action, links: dict[int, list[dict[str, str]]]) -> dict[str, Any]:
    return {
        "code": action.code,
        "text": action.text,
        "kind": "roadmap" if action.area_id else "barriers_and_enablers",
        "area": action.area.slug if action.area else None,
        "area_title": action.area.title if action.area else None,
        "enabler": action.enabler.title if action.enabler else None,
        "timeframe": action.timeframe,
        "lead": action.lead,
        "lead_name": LEAD_NAMES.get(action.lead, action.lead),
        "tags": {
            "funding_level": action.funding_level,
            "spend_types": list(action.spend_types),
            "legislative_level": action.legislative_level,
            "as_printed": action.tag_text,
        },
        "note": action.note,
        "prevention_tier": action.prevention_tier,
        "quality_statements": links.get(action.id, []),
        "phases": [
            {"code": p.code, "text": p.text} for p in action.sub_items if p.archived_at is None
        ],
        "links": {
            "self": url_for("api.action", action_code=action.code),
            "page": url_for("roadmap.action", code=action.code),
        },
    }


# -- the index and the document -------------------------------------------------------------------


@bp.get("/")
@public
@operation(schemas.Index, "The API's starting points", tag="About")
def index() -> Response:
    principal = current_principal()
    return _one(
        schemas.Index,
        {
            "title": "Roadmap Tracker API",
            "version": "1",
            "caller": principal.user.email if principal else None,
            "links": {
                "openapi": url_for("api.openapi"),
                "reference": url_for("pages.api_reference"),
                "editions": url_for("api.editions"),
                "areas": url_for("api.areas"),
                "enablers": url_for("api.enablers"),
                "actions": url_for("api.actions"),
                "regions": url_for("api.regions"),
                "councils": url_for("api.councils"),
                "periods": url_for("api.periods"),
            },
        },
    )


@bp.get("/openapi.json")
@public
def openapi() -> Response:
    """The OpenAPI 3.1 document of this API, generated from its routes and schemas."""
    return jsonify(document())


# -- the roadmap (public) -------------------------------------------------------------------------


@bp.get("/editions")
@public
@operation(schemas.Edition, "Editions of the roadmap", many=True, tag="Roadmap")
def editions() -> Response:
    rows = db.session.scalars(select(RoadmapEdition).order_by(RoadmapEdition.id))
    return jsonify(schemas.Edition(many=True).dump(rows))


@bp.get("/areas")
@public
@operation(schemas.Area, "The ten areas for action", many=True, tag="Roadmap")
def areas() -> Response:
    overview = roadmap.get_roadmap_overview()
    return jsonify(
        schemas.Area(many=True).dump(
            {
                "slug": row.area.slug,
                "number": row.area.position,
                "title": row.area.title,
                "actions": row.total,
            }
            for row in (overview.areas if overview else [])
        )
    )


@bp.get("/enablers")
@public
@operation(schemas.Enabler, "The barriers and enablers", many=True, tag="Roadmap")
def enablers() -> Response:
    edition = roadmap.get_current_edition()
    return jsonify(
        schemas.Enabler(many=True).dump(
            {"number": e.position, "title": e.title, "actions": len(e.actions)}
            for e in (roadmap.list_enablers(edition) if edition else [])
        )
    )


@bp.get("/actions")
@public
@operation(
    schemas.ActionPage,
    "Every trackable action: 114 roadmap actions, then 26 on barriers and enablers",
    tag="Roadmap",
    paged=True,
    parameters=[
        ("kind", "Only 'roadmap' or only 'barriers_and_enablers' actions."),
        ("area", "Only the actions of the area with this slug."),
        ("timeframe", "Only 'short', 'medium' or 'long' term actions."),
        ("lead", "Only actions with this lead."),
    ],
)
def actions() -> Response:
    items = roadmap.list_actions(roadmap.ActionFilters())
    for name, value_of in (
        ("kind", lambda a: "roadmap" if a.area_id else "barriers_and_enablers"),
        ("area", lambda a: a.area.slug if a.area else None),
        ("timeframe", lambda a: a.timeframe),
        ("lead", lambda a: a.lead),
    ):
        wanted = request.args.get(name)
        if wanted is not None:
            items = [a for a in items if value_of(a) == wanted]
    links = _statement_links([a.id for a in items])
    return _paged(schemas.ActionPage, [_action(a, links) for a in items])


@bp.get("/actions/<action_code>")
@public
@operation(schemas.Action, "One action by its code", tag="Roadmap")
def action(action_code: str) -> Response:
    page = roadmap.get_action_page(action_code) or abort(404)
    return _one(schemas.Action, _action(page.action, _statement_links([page.action.id])))


# -- councils, regions, periods (public) ----------------------------------------------------------


@bp.get("/regions")
@public
@operation(schemas.Region, "The nine ADASS regions", many=True, tag="Councils")
def regions() -> Response:
    rows = db.session.execute(
        select(Region, func.count(Council.id))
        .outerjoin(Council, (Council.region_id == Region.id) & Council.is_active)
        .group_by(Region.id)
        .order_by(Region.name)
    )
    return jsonify(
        schemas.Region(many=True).dump(
            {"slug": r.slug, "name": r.name, "councils": n} for r, n in rows
        )
    )


def _active_councils():
    return select(Council).where(Council.is_active).order_by(Council.name)


@bp.get("/councils")
@public
@operation(
    schemas.CouncilPage,
    "The 153 councils with adult social care duties",
    tag="Councils",
    paged=True,
    parameters=[("region", "Only the councils of the region with this slug.")],
)
def councils() -> Response:
    query = _active_councils()
    if "region" in request.args:
        query = query.join(Region).where(Region.slug == request.args["region"])
    return _paged(schemas.CouncilPage, [_council(c) for c in db.session.scalars(query)])


@bp.get("/councils/<gss_code>")
@public
@operation(schemas.Council, "One council by its GSS code", tag="Councils")
def council(gss_code: str) -> Response:
    found = db.session.scalar(_active_councils().where(Council.gss_code == gss_code))
    return _one(schemas.Council, _council(found or abort(404)))


@bp.get("/periods")
@public
@operation(schemas.Period, "The quarters returns are made for", many=True, tag="Councils")
def periods() -> Response:
    rows = db.session.scalars(select(Period).order_by(Period.year.desc(), Period.quarter.desc()))
    return jsonify(schemas.Period(many=True).dump(_period(p) for p in rows))


# -- a council's returns --------------------------------------------------------------------------


@bp.get("/councils/<gss_code>/returns")
@council_access(*visibility.READERS)
@operation(
    schemas.ReturnList, "A council's returns, newest first", tag="Returns", mirrors="returns.index"
)
def returns(council: Council) -> Response:
    principal = current_principal()
    if not visibility.may_name(principal, council):
        abort(404)
    listed = queries.list_council_returns(
        council, include_drafts=visibility.reads_drafts(principal, council)
    )
    items = [
        {
            "period": _period(item.period),
            "status": item.status,
            "submitted_at": item.submitted_at if item.status != "draft" else None,
            "signed_off_at": item.signed_off_at if item.status == "signed_off" else None,
            "actions": item.total,
            "links": {
                "self": url_for("api.return_", gss_code=council.gss_code, period_label=item.slug)
            },
        }
        for item in listed
    ]
    return _one(schemas.ReturnList, {"council": _council(council), "items": items})


def _readable_return(council: Council, period_label: str) -> Return:
    """The council's return for the period in the URL, if this caller may read it: exactly
    the pages' rule."""
    return return_or_404(council, period_label)


def _counts(values: Sequence[str | None], missing: str) -> dict[str, int]:
    return dict(Counter(value or missing for value in values))


@bp.get("/councils/<gss_code>/returns/<period:period_label>")
@council_access(*visibility.READERS)
@operation(
    schemas.Return,
    "One return: its status and its actions counted",
    tag="Returns",
    mirrors="returns.overview",
)
def return_(council: Council, period_label: str) -> Response:
    found = _readable_return(council, period_label)
    principal = current_principal()
    assessments = list_assessments(found)
    own = visibility.reads_drafts(principal, council)
    signed_off = found.status == "signed_off"
    body = {
        "council": _council(council),
        "period": _period(found.period),
        "status": found.status,
        "submitted_at": found.submitted_at if found.status != "draft" else None,
        "signed_off_at": found.signed_off_at if signed_off else None,
        "actions": len(assessments),
        "stages": _counts([a.stage for a in assessments], NOT_ASSESSED),
        "rags": _counts([a.rag for a in assessments], NO_RAG),
        "reviews": _counts([_review_state(a) for a in assessments], "") if own else None,
        "director_summary": found.director_summary or None if signed_off else None,
        "board_recommendations": list(found.board_recommendations or []) if signed_off else [],
        "links": {
            "self": url_for("api.return_", gss_code=council.gss_code, period_label=period_label),
            "assessments": url_for(
                "api.assessments", gss_code=council.gss_code, period_label=period_label
            ),
            "page": url_for(
                "returns.overview", gss_code=council.gss_code, period_label=period_label
            ),
        },
    }
    return _one(schemas.Return, body)


def _review_state(assessment) -> str:
    return ReviewState.of(
        is_carried_forward=assessment.is_carried_forward,
        confirmed_at=assessment.confirmed_at,
        updated_at=assessment.updated_at,
    ).value


def _evidence_of(council: Council, return_: Return, assessments) -> dict[int, list[dict]] | None:
    """Each assessment's evidence that this caller may read, or None when they may read none
    (the panel: its evidence lives on the pages it is published to)."""
    principal = current_principal()
    if not visibility.holds(principal, council, visibility.EVIDENCE_READERS):
        return None
    shared = return_.status != "draft"
    ids = [a.id for a in assessments]
    rows = db.session.execute(
        select(assessment_evidence.c.assessment_id, Evidence)
        .join(Evidence, Evidence.id == assessment_evidence.c.evidence_id)
        .where(assessment_evidence.c.assessment_id.in_(ids))
        .order_by(Evidence.title, Evidence.id)
    ).all()
    found: dict[int, list[dict]] = {i: [] for i in ids}
    for assessment_id, item in rows:
        if visibility.may_read_evidence(principal, council, item, supports_shared=shared):
            found[assessment_id].append(
                {
                    "title": item.title,
                    "evidence_type": item.evidence_type,
                    "dated_on": item.dated_on,
                    "kind": "link" if item.url else "file",
                    "cqc_category": item.cqc_category,
                    "url": item.url,
                    "size_bytes": item.size_bytes,
                }
            )
    return found


def _assessment(a, *, own: bool, evidence: dict[int, list[dict]] | None) -> dict[str, Any]:
    return {
        "action": a.action.code,
        "action_text": a.action.text,
        "area": a.action.area.slug if a.action.area else None,
        "timeframe": a.action.timeframe,
        "stage": a.stage,
        "stage_name": STAGE_NAMES.get(a.stage, "Not assessed"),
        "rag": a.rag,
        "review_state": _review_state(a) if own else None,
        "not_applicable_reason": a.not_applicable_reason or "",
        "narrative": a.narrative or "",
        "next_steps": a.next_steps or "",
        "barriers": list(a.barriers or []),
        "barrier_detail": a.barrier_detail or "",
        "target_stage": a.target_stage,
        "target_period": a.target_period,
        "is_co_produced": a.is_co_produced,
        "co_production_how": a.co_production_how or "",
        "partners": a.partners or "",
        "spend_types": list(a.spend_types or ""),
        "amount_pounds": a.amount_pounds,
        "funding_source": a.funding_source,
        "evidence": evidence.get(a.id, []) if evidence is not None else None,
    }


@bp.get("/councils/<gss_code>/returns/<period:period_label>/assessments")
@council_access(*visibility.READERS)
@operation(
    schemas.AssessmentPage,
    "A return's assessments, in roadmap order",
    tag="Returns",
    paged=True,
    mirrors="returns.overview",
)
def assessments(council: Council, period_label: str) -> Response:
    found = _readable_return(council, period_label)
    rows = list_assessments(found)
    own = visibility.reads_drafts(current_principal(), council)
    evidence = _evidence_of(council, found, rows)
    return _paged(
        schemas.AssessmentPage, [_assessment(a, own=own, evidence=evidence) for a in rows]
    )


@bp.get("/councils/<gss_code>/returns/<period:period_label>/assessments/<action_code>")
@council_access(*visibility.READERS)
@operation(
    schemas.Assessment,
    "One action's assessment in a return",
    tag="Returns",
    mirrors="returns.action",
)
def assessment(council: Council, period_label: str, action_code: str) -> Response:
    found = _readable_return(council, period_label)
    item = queries.get_assessment(found, action_code) or abort(404)
    own = visibility.reads_drafts(current_principal(), council)
    evidence = _evidence_of(council, found, [item])
    return _one(schemas.Assessment, _assessment(item, own=own, evidence=evidence))


# -- figures --------------------------------------------------------------------------------------


def _chosen_period(
    periods: Sequence[Period], default: Callable[[], Period | None]
) -> Period | None:
    """The quarter in ``?period=`` (a 404 if there is none such to read here), or by default
    the latest, or None when there is none yet (the figures then say so, as the pages do)."""
    slug = request.args.get("period")
    if slug is None:
        return default()
    return compare.find_period(periods, slug) or abort(
        problem(404, f"There is no quarter '{slug}' to read here.")  # type: ignore[arg-type]
    )


#: the figures of a council, region or nation before any quarter has a return to count
NO_FIGURES: dict[str, Any] = {
    "period": None,
    "status": None,
    "actions": 0,
    "advanced": {"part": 0, "whole": 0, "percent": None},
    "stages": {},
    "rags": {},
    "areas": [],
    "since_last_quarter": {},
    "since_last_year": {},
    "funding_total_pounds": 0,
    "co_produced": 0,
    "evidence_items": 0,
    "panel_views": [],
    "panel_views_withheld": 0,
    "councils_reporting": 0,
    "withheld": None,
    "medians": {},
    "councils": [],
    "regions": [],
}


def _share(share) -> dict[str, Any]:
    return {"part": share.part, "whole": share.whole, "percent": share.percent}


def _median(median) -> dict[str, Any]:
    return {"percent": median.percent, "councils": median.councils, "withheld": median.reason}


@bp.get("/councils/<gss_code>/dashboard")
@council_access(*visibility.COUNCIL_READERS, *visibility.REGION_READERS)
@operation(
    schemas.Dashboard,
    "A council's figures for a quarter, as its dashboard shows them",
    tag="Figures",
    mirrors="compare.council_dashboard",
    parameters=[("period", "The quarter, e.g. '2026-27-Q3'; the latest by default.")],
)
def dashboard(council: Council) -> Response:
    principal = current_principal()
    own = visibility.reads_drafts(principal, council)
    if not visibility.may_name(principal, council):
        abort(404)
    periods = compare.list_periods(council=council, include_drafts=own)
    period = _chosen_period(periods, lambda: compare.default_period(periods))
    if period is None:
        return _one(schemas.Dashboard, {"council": _council(council), **NO_FIGURES})
    data = compare.council_dashboard(council, period, include_draft=own)
    positions = {p.area.key: p for p in data.positions}
    panel = data.panel_views
    body = {
        "council": _council(council),
        "period": _period(period),
        "status": data.status,
        "actions": data.total,
        "advanced": _share(data.advanced),
        "stages": dict(data.stage_totals),
        "rags": dict(data.rag_totals),
        "areas": [
            {
                "area": area.area.key,
                "title": area.area.label,
                "stages": dict(area.stages),
                "rags": dict(area.rags),
                "advanced": _share(area.advanced),
                "region_median": _median(positions[area.area.key].region),
                "national_median": _median(positions[area.area.key].nation),
            }
            for area in data.areas
            if area.area.key in positions
        ],
        "since_last_quarter": dict(data.since_last_quarter.counts),
        "since_last_year": dict(data.since_last_year.counts),
        "funding_total_pounds": data.funding_total,
        "co_produced": data.co_produced,
        "evidence_items": data.evidence,
        "panel_views": _panel_lines(panel),
        "panel_views_withheld": panel.withheld if panel else 0,
    }
    return _one(schemas.Dashboard, body)


def _panel_lines(panel) -> list[dict[str, Any]]:
    if panel is None:
        return []
    return [
        {
            "action": line.code,
            "stage": line.stage,
            "rag": line.rag,
            "answers": line.answered,
            "at_meeting": line.at_meeting,
            "views": dict(line.counts),
        }
        for line in panel.shown
    ]


@bp.get("/regions/<region_slug>/comparison")
@region_rule(*visibility.REGION_READERS)
@operation(
    schemas.Comparison,
    "A region's councils side by side for a quarter",
    tag="Figures",
    mirrors="compare.region",
    parameters=[("period", "The quarter, e.g. '2026-27-Q3'; the latest by default.")],
)
def comparison(region: Region) -> Response:
    periods = compare.list_periods(region=region)
    period = _chosen_period(periods, lambda: compare.find_period(periods, None))
    named = {"slug": region.slug, "name": region.name}
    if period is None:
        councils = sum(1 for c in region.councils if c.is_active)
        return _one(
            schemas.Comparison,
            {
                "region": {**named, "councils": councils},
                "councils_in_region": councils,
                **NO_FIGURES,
            },
        )
    data = compare.region_comparison(region, period, viewer=current_principal())
    body = {
        "region": {**named, "councils": data.councils_in_region},
        "period": _period(period),
        "councils_reporting": data.councils_reporting,
        "councils_in_region": data.councils_in_region,
        "withheld": data.aggregate_reason,
        "medians": {key: _median(m) for key, m in data.medians.items()},
        "councils": [
            {
                "council": row.council.gss_code,
                "name": row.council.name,
                "status": row.status,
                "cells": [{"area": key, **vars(cell)} for key, cell in sorted(row.cells.items())],
            }
            for row in data.rows
        ],
    }
    return _one(schemas.Comparison, body)


@bp.get("/national")
@national_admin
@operation(
    schemas.National,
    "Every region by area for a quarter (national administrators)",
    tag="Figures",
    mirrors="compare.national",
    parameters=[("period", "The quarter, e.g. '2026-27-Q3'; the latest by default.")],
)
def national() -> Response:
    periods = compare.list_periods()
    period = _chosen_period(periods, lambda: compare.find_period(periods, None))
    if period is None:
        return _one(schemas.National, NO_FIGURES)
    data = compare.national_view(period, viewer=current_principal())
    body = {
        "period": _period(period),
        "councils_reporting": data.councils_reporting,
        "withheld": data.aggregate_reason,
        "medians": {key: _median(m) for key, m in data.medians.items()},
        "regions": [
            {
                "region": region.slug,
                "councils_reporting": data.reporting.get(region.id, 0),
                "areas": {key: _median(cell.median) for key, cell in data.cells[region.id].items()},
            }
            for region in data.regions
        ],
    }
    return _one(schemas.National, body)


# -- the co-production panel ----------------------------------------------------------------------


@bp.get("/councils/<gss_code>/panel/answered")
@council_access(*visibility.COUNCIL_MEMBERS)
@operation(
    schemas.YouSaidWeDidPage,
    "The panel's answered comments: 'you said, we did'",
    tag="Panel",
    paged=True,
    mirrors="panels.answered",
)
def answered(council: Council) -> Response:
    items = [
        {
            "action": a.action_code,
            "action_text": a.action_title,
            "period": a.period_label,
            "comment": a.body,
            "commented_at": a.created_at,
            "answer": a.answer,
            "answered_at": a.answered_at,
            "is_you_said_we_did": a.is_you_said_we_did,
            "change_made": a.change_made,
        }
        for a in panels.list_answered(council)
    ]
    return _paged(schemas.YouSaidWeDidPage, items)
