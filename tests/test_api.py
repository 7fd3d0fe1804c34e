"""The read API: the roadmap out of it with its codes and tags, returns and figures as the
pages show them, problem details, pages with next links, ETags, and its OpenAPI document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.access_matrix import API_MIRRORS, API_PUBLIC, make_member, signed_in_client
from tests.returns_data import (
    LEEDS,
    PREVIOUS_LABEL,
    PREVIOUS_SLUG,
    SLUG,
    assess,
    complete_quarter,
    get_return,
    open_period,
)
from tracker.api import spec
from tracker.extensions import db
from tracker.models import (
    Action,
    ActionStatementLink,
    Assessment,
    Council,
    QualityStatement,
    Role,
)

PROBLEM = "application/problem+json"
PLANNING = {"stage": "planning", "rag": "amber"}
README = Path(__file__).resolve().parent.parent / "README.md"


def _all_items(client, path: str) -> list[dict]:
    """Every item of a paged list, following ``links.next`` to the end."""
    items, url, pages = [], path, 0
    while url:
        body = client.get(url).get_json()
        items += body["items"]
        url = body["links"]["next"]
        pages += 1
        assert pages < 100
    return items


# -- the roadmap ---------------------------------------------------------------------------


def test_the_114_roadmap_actions_and_26_barrier_actions_come_out_with_codes_and_tags(app, client):
    actions = _all_items(client, "/api/v1/actions?per_page=30")
    with app.app_context():
        stored = {
            code: (tag_text, funding, spend, legislative)
            for code, tag_text, funding, spend, legislative in db.session.execute(
                select(
                    Action.code,
                    Action.tag_text,
                    Action.funding_level,
                    Action.spend_types,
                    Action.legislative_level,
                ).where(Action.parent_id.is_(None), Action.archived_at.is_(None))
            )
        }
    kinds = {
        kind: [a for a in actions if a["kind"] == kind]
        for kind in ("roadmap", "barriers_and_enablers")
    }
    assert len(kinds["roadmap"]) == 114 and len(kinds["barriers_and_enablers"]) == 26
    assert {a["code"] for a in actions} == set(stored)
    for item in actions:
        tag_text, funding, spend, legislative = stored[item["code"]]
        assert item["tags"] == {
            "as_printed": tag_text,
            "funding_level": funding,
            "spend_types": list(spend),
            "legislative_level": legislative,
        }
    assert client.get("/api/v1/actions?kind=barriers_and_enablers").get_json()["total"] == 26
    assert sum(area["actions"] for area in client.get("/api/v1/areas").get_json()) == 114
    assert sum(item["actions"] for item in client.get("/api/v1/enablers").get_json()) == 26
    tagged = next(a for a in actions if a["tags"]["legislative_level"] == 3)
    assert tagged["tags"]["as_printed"].startswith("(+++)")


def test_one_action_by_its_code_and_an_unknown_code_is_a_problem(client):
    action = client.get("/api/v1/actions/A01.S01").get_json()
    assert action["code"] == "A01.S01" and action["area"] == "reimagine-care-and-support"
    assert action["text"].startswith("Bring local partners together")
    missing = client.get("/api/v1/actions/Z99.Z99")
    assert missing.status_code == 404 and missing.mimetype == PROBLEM
    assert missing.get_json()["status"] == 404 and missing.get_json()["title"] == "Not Found"


def test_councils_and_regions_carry_their_gss_codes_and_slugs(app, client):
    councils = _all_items(client, "/api/v1/councils?per_page=50")
    with app.app_context():
        count = db.session.scalar(select(func.count()).where(Council.is_active))
    assert len(councils) == count == 153
    leeds = client.get(f"/api/v1/councils/{LEEDS}").get_json()
    assert leeds["name"] == "Leeds City Council" and leeds["region"] == "yorkshire-and-the-humber"
    regions = client.get("/api/v1/regions").get_json()
    assert len(regions) == 9 and sum(r["councils"] for r in regions) == 153
    yorkshire = _all_items(client, "/api/v1/councils?region=yorkshire-and-the-humber")
    assert {c["region"] for c in yorkshire} == {"yorkshire-and-the-humber"}
    assert (
        len(yorkshire)
        == next(r for r in regions if r["slug"] == "yorkshire-and-the-humber")["councils"]
    )


# -- paging, ETags, problems ----------------------------------------------------------------------


def test_pages_link_to_the_next_and_the_last_page_to_none(client):
    first = client.get("/api/v1/councils?per_page=100")
    body = first.get_json()
    assert len(body["items"]) == 100 and body["total"] == 153
    assert body["links"]["next"] == "/api/v1/councils?per_page=100&page=2"
    assert '</api/v1/councils?per_page=100&page=2>; rel="next"' in first.headers["Link"]
    last = client.get(body["links"]["next"]).get_json()
    assert len(last["items"]) == 53 and last["links"]["next"] is None
    assert last["links"]["prev"] == "/api/v1/councils?per_page=100&page=1"
    codes = [c["gss_code"] for c in body["items"] + last["items"]]
    assert len(set(codes)) == 153


@pytest.mark.parametrize(
    "query", ["page=0", "page=x", "per_page=501", "per_page=-1", "page=99999999"]
)
def test_a_bad_page_is_a_400_problem_that_says_what_is_wrong(client, query):
    response = client.get(f"/api/v1/councils?{query}")
    assert response.status_code == 400 and response.mimetype == PROBLEM
    assert "must be a whole number" in response.get_json()["detail"]


def test_an_unchanged_answer_is_a_304_with_its_etag(client):
    first = client.get("/api/v1/regions")
    etag = first.headers["ETag"]
    assert etag
    again = client.get("/api/v1/regions", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    other = client.get("/api/v1/regions", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200


def test_a_private_answer_needs_a_caller_and_says_so_as_a_problem(client):
    response = client.get(f"/api/v1/councils/{LEEDS}/returns")
    assert response.status_code == 401 and response.mimetype == PROBLEM
    assert "token" in response.get_json()["detail"]
    assert "Location" not in response.headers
    bad = client.get("/api/v1/regions", headers={"Authorization": "Bearer rt_not-a-token"})
    assert bad.status_code == 401 and bad.mimetype == PROBLEM
    assert client.get("/api/v1/nothing-here").mimetype == PROBLEM


def test_too_many_requests_is_a_429_problem_with_retry_after(app, client):
    app.config["API_RATE_LIMIT"] = 3
    statuses = [client.get("/api/v1/regions").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get("/api/v1/regions")
    assert refused.mimetype == PROBLEM and int(refused.headers["Retry-After"]) > 0


# -- returns as the pages show them ------------------------------------------------------------


@pytest.fixture
def two_quarters(app):
    complete_quarter(app, LEEDS, PREVIOUS_LABEL, {**PLANNING, "narrative": "Scoping"})
    open_period(app)
    assess(app, LEEDS, ["A01.S01"], {"stage": "implementing", "rag": "green", "narrative": "Live"})


def test_a_returns_figures_match_the_database(app, two_quarters):
    editor = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    body = editor.get(f"/api/v1/councils/{LEEDS}/returns/{SLUG}").get_json()
    with app.app_context():
        return_ = get_return(LEEDS)
        stages = dict(
            db.session.execute(
                select(func.coalesce(Assessment.stage, "none"), func.count())
                .where(Assessment.return_id == return_.id)
                .group_by(Assessment.stage)
            ).all()
        )
    assert body["stages"] == stages and body["actions"] == sum(stages.values()) == 140
    assert body["status"] == "draft" and body["reviews"]["updated"] >= 1
    items = _all_items(editor, body["links"]["assessments"] + "?per_page=50")
    assert len(items) == 140
    live = next(i for i in items if i["action"] == "A01.S01")
    assert (live["stage"], live["rag"], live["narrative"]) == ("implementing", "green", "Live")
    assert live["review_state"] == "updated" and live["evidence"] == []


def test_a_panel_member_reads_a_submitted_return_without_the_councils_workflow(app, two_quarters):
    panel = signed_in_client(app, make_member(app, Role.PANEL_MEMBER))
    assert panel.get(f"/api/v1/councils/{LEEDS}/returns/{SLUG}").status_code == 404  # a draft
    body = panel.get(f"/api/v1/councils/{LEEDS}/returns/{PREVIOUS_SLUG}").get_json()
    assert body["status"] == "signed_off" and body["reviews"] is None
    item = panel.get(
        f"/api/v1/councils/{LEEDS}/returns/{PREVIOUS_SLUG}/assessments/A01.S01"
    ).get_json()
    assert item["stage"] == "planning" and item["review_state"] is None
    assert item["evidence"] is None
    listed = panel.get(f"/api/v1/councils/{LEEDS}/returns").get_json()["items"]
    assert [r["period"]["label"] for r in listed] == [PREVIOUS_LABEL]


# -- the document and the record of what mirrors what -----------------------------------------


def test_the_api_records_the_page_each_route_mirrors_as_the_access_matrix_does(app):
    with app.test_request_context():
        recorded = {endpoint: op.mirrors for endpoint, op in spec.OPERATIONS.items() if op.mirrors}
        public = {
            rule.endpoint
            for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("api.") and rule.endpoint not in recorded
        }
    assert recorded == API_MIRRORS
    assert public == set(API_PUBLIC)


def test_the_openapi_document_is_31_and_names_every_route(app, client):
    response = client.get("/api/v1/openapi.json")
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    routes = {
        rule.rule.replace("<", "{").replace(">", "}").replace("period:", "")
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi"
    }
    assert set(document["paths"]) == routes
    assert document["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    secured = document["paths"]["/api/v1/councils/{gss_code}/returns"]["get"]["security"]
    assert secured == [{"token": []}]
    json.dumps(document)  # it is JSON throughout


def test_the_readme_names_the_openapi_document():
    assert "/api/v1/openapi.json" in README.read_text(encoding="utf-8")


def test_the_reference_page_lists_every_route(client, page):
    soup = page(client.get("/api-reference"))
    shown = {code.get_text(strip=True) for code in soup.select("code.tracker-code-block")}
    document = client.get("/api/v1/openapi.json").get_json()
    assert shown == {f"GET {path}" for path in document["paths"]}
    assert soup.find(id="schema-Assessment") is not None


# -- every page with data has an API route, or a reason why not (docs/api.md) -------------------

#: pages open to anyone whose data the API's public routes give
PUBLIC_EQUIVALENTS = {
    "roadmap.index": "api.areas",
    "roadmap.area": "api.actions",
    "roadmap.actions": "api.actions",
    "roadmap.action": "api.action",
    "roadmap.enablers": "api.enablers",
    "councils.index": "api.councils",
}
#: pages with no API route, each with the reason docs/api.md gives
NO_API = {
    "roadmap.key": "the report's prose",
    "roadmap.outcomes": "the report's prose",
    "roadmap.agenda": "the report's prose",
    "roadmap.search": "search, not data",
    "roadmap.cqc": "reference data, published in frameworks/ as YAML",
    "roadmap.in_practice": "named contacts for officers, not open figures; a later issue",
    "reports.council_report": "a document for people",
    "reports.council_report_pdf": "a document for people",
    "reports.council_report_docx": "a document for people",
    "reports.council_report_xlsx": "a document for people",
    "reports.council_chart": "a document for people",
    "reports.region_pack": "a document for people",
    "reports.region_pack_pdf": "a document for people",
    "reports.region_pack_xlsx": "a document for people",
    "reports.region_pack_status": "a document for people",
    "reports.region_chart": "a document for people",
    "returns.export_xlsx": "the assessments route gives the same rows",
    "returns.export_csv": "the assessments route gives the same rows",
    "returns.history": "each quarter's assessment is in the API",
    "returns.current": "a redirect to the newest return",
    "returns.evidence": "evidence files are downloaded from the pages",
    "returns.evidence_library": "evidence files are downloaded from the pages",
    "returns.download_evidence": "evidence files are downloaded from the pages",
    "panels.index": "panel members' comments are personal data",
    "panels.thread": "panel members' comments are personal data",
    "panels.awaiting": "panel members' comments are personal data",
    "panels.easy_read": "panel members' comments are personal data",
    "panels.my_comments": "panel members' comments are personal data",
    "panels.my_comments_csv": "panel members' comments are personal data",
    "returns.search": "search, not data",
    "home.your_work": "personal, not the tracker's figures",
    "home.region": "personal, not the tracker's figures",
    "cqc.view": "read from the assessments routes and the crosswalk in frameworks/",
    "cqc.pack_pdf": "a document for people",
    "cqc.pack_docx": "a document for people",
    "opendata.index": "the open data is itself the bulk download",
    "opendata.download": "the open data is itself the bulk download",
}
#: pages that change something or only serve the site: the API only reads
NOT_DATA = {
    "pages.index", "pages.accessibility", "pages.privacy", "pages.glossary", "pages.healthz",
    "pages.readyz",
    "pages.api_reference", "compare.sharing", "panels.leave", "panels.meeting_view",
    "panels.settings", "returns.add_evidence_link", "returns.bulk_edit", "returns.check",
    "returns.choose_evidence", "returns.confirm_unchanged", "returns.import_preview",
    "returns.import_upload", "returns.reopen", "returns.send_back", "returns.sign_off",
    "returns.upload_evidence", "returns.edit_evidence",
}  # fmt: skip
DATA_BLUEPRINTS = {
    "pages",
    "roadmap",
    "councils",
    "opendata",
    "cqc",
    "home",
    "returns",
    "compare",
    "panels",
    "reports",
}


def test_every_page_with_data_has_an_api_route_or_a_reason_why_not(app):
    pages = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and rule.endpoint.split(".")[0] in DATA_BLUEPRINTS
    }
    mirrored = set(API_MIRRORS.values())
    unaccounted = pages - mirrored - set(PUBLIC_EQUIVALENTS) - set(NO_API) - NOT_DATA
    assert not unaccounted, f"pages with data but no API route and no reason: {unaccounted}"
    api = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(PUBLIC_EQUIVALENTS.values()) <= api
    documented = (Path(__file__).resolve().parent.parent / "docs" / "api.md").read_text()
    assert "Pages without an API route, and why" in documented


def test_each_action_carries_its_crosswalk_and_prevention_tier(app, client):
    actions = _all_items(client, "/api/v1/actions?per_page=500")
    with app.app_context():
        links = set(
            db.session.execute(
                select(Action.code, QualityStatement.code)
                .join(ActionStatementLink, ActionStatementLink.action_id == Action.id)
                .join(QualityStatement, QualityStatement.id == ActionStatementLink.statement_id)
            ).all()
        )
        tiers = dict(db.session.execute(select(Action.code, Action.prevention_tier)).all())
    assert (
        links
        and {(a["code"], s["code"]) for a in actions for s in a["quality_statements"]} == links
    )
    assert all(a["prevention_tier"] == tiers[a["code"]] for a in actions)
    assert all(s["rationale"] for a in actions for s in a["quality_statements"])


def test_a_query_named_like_url_fors_own_arguments_changes_no_link(client):
    """``?endpoint=``, ``?_external=`` or a path value in the query never reach url_for."""
    body = client.get("/api/v1/councils?endpoint=x&_external=1&gss_code=E0&per_page=100").get_json()
    assert body["links"]["next"].startswith("/api/v1/councils?")
    assert "endpoint" not in body["links"]["next"] and "_external" not in body["links"]["next"]
