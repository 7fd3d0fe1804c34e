"""The public roadmap pages: what a user sees, checked against the database."""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import event, select

from tracker.extensions import db
from tracker.models import Action, ActionArea, AgendaItem, Enabler, RoadmapEdition

TIMEFRAMES = ("short", "medium", "long")


@contextlib.contextmanager
def count_queries(app) -> Iterator[list[str]]:
    """Collect the SQL statements the app's engine runs inside the block."""
    statements: list[str] = []

    def _record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", _record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _record)


def _text(element) -> str:
    return " ".join(element.get_text(" ", strip=True).split())


def _listed_codes(soup) -> list[str]:
    """Codes of a list's top-level actions, in page order (phases under them left out)."""
    return [
        _text(item.select_one(":scope > .tracker-action__code")).removeprefix("Action ")
        for item in soup.select(".tracker-action-list > .tracker-action")
    ]


def _trackable_actions(app) -> list[Action]:
    with app.app_context():
        actions = db.session.scalars(
            select(Action).where(Action.parent_id.is_(None), Action.archived_at.is_(None))
        ).all()
        for action in actions:
            # Touch what the filters below read, while the session is open.
            _ = action.area.code if action.area else None
        db.session.expunge_all()
        return list(actions)


# -- the overview ---------------------------------------------------------------------------------


def test_roadmap_page_counts_each_areas_actions_by_timeframe_as_in_the_database(app, client, page):
    soup = page(client.get("/roadmap/"))

    with app.app_context():
        edition = db.session.scalar(select(RoadmapEdition).where(RoadmapEdition.is_current))
        assert soup.h1.get_text(strip=True) == edition.title
        areas = db.session.scalars(
            select(ActionArea).where(ActionArea.archived_at.is_(None)).order_by(ActionArea.position)
        ).all()
        expected = []
        for area in areas:
            counts = [
                len(
                    db.session.scalars(
                        select(Action.id).where(
                            Action.area_id == area.id,
                            Action.timeframe == timeframe,
                            Action.parent_id.is_(None),
                            Action.archived_at.is_(None),
                        )
                    ).all()
                )
                for timeframe in TIMEFRAMES
            ]
            expected.append([f"{area.position}. {area.title}", *map(str, counts), str(sum(counts))])

    table = soup.find("table")
    assert _text(table.caption) == "Actions in each area, by timeframe"
    assert [_text(th) for th in table.thead.find_all("th")] == [
        "Area for action",
        "Short term",
        "Medium term",
        "Long term",
        "Total",
    ]
    rows = [
        [_text(cell) for cell in row.find_all(["th", "td"])] for row in table.tbody.find_all("tr")
    ]
    assert len(expected) == 10
    assert rows[:-1] == expected
    totals = [str(sum(int(row[column]) for row in expected)) for column in range(1, 5)]
    assert rows[-1] == ["All areas", *totals]


def test_roadmap_page_counts_in_one_grouped_query(app, client):
    with count_queries(app) as statements:
        response = client.get("/roadmap/")

    assert response.status_code == 200
    # One query finds the current edition, one counts every area's actions at once.
    assert len(statements) == 2, statements


@pytest.mark.parametrize(
    ("url", "most"),
    [
        ("/roadmap/areas/accessible-and-affordable", 4),
        # the filters' area and quality statement choices, the actions, their phases
        ("/roadmap/actions", 4),
        ("/roadmap/actions?timeframe=medium&area=A07", 4),
        ("/roadmap/actions?statement=QS4&prevention=tertiary", 4),
        # and one for the action's links to the CQC's quality statements
        ("/roadmap/actions/A07.M01", 6),
        # the framework, its themes, their statements, every link with its action, the count
        ("/roadmap/cqc", 5),
        ("/roadmap/agenda-for-action", 4),
        ("/roadmap/barriers-and-enablers", 4),
    ],
)
def test_roadmap_pages_load_their_actions_without_a_query_per_action(app, client, url, most):
    with count_queries(app) as statements:
        response = client.get(url)

    assert response.status_code == 200
    assert len(statements) <= most, statements


def test_roadmap_page_links_to_every_part_of_the_roadmap(client, page):
    soup = page(client.get("/roadmap/"))

    links = {a["href"] for a in soup.find("main").find_all("a")}
    for href in (
        "/roadmap/key",
        "/roadmap/outcomes",
        "/roadmap/agenda-for-action",
        "/roadmap/barriers-and-enablers",
        "/roadmap/actions",
        "/roadmap/areas/workforce",
        "/roadmap/cqc",
    ):
        assert href in links


# -- one area -------------------------------------------------------------------------------------


def test_area_page_shows_the_shift_and_its_actions_under_each_timeframe(app, client, page):
    soup = page(client.get("/roadmap/areas/accessible-and-affordable"))

    assert _text(soup.h1) == "More accessible and affordable for everyone"
    headings = [_text(h) for h in soup.find("main").find_all(["h2", "h3"])]
    assert headings[:5] == [
        "What is the shift?",
        "What actions are needed?",
        "Short term",
        "Medium term",
        "Long term",
    ]
    with app.app_context():
        area = db.session.scalar(select(ActionArea).where(ActionArea.code == "A07"))
        expected = {
            timeframe: [
                action.code
                for action in sorted(area.actions, key=lambda a: a.position)
                if action.timeframe == timeframe
            ]
            for timeframe in TIMEFRAMES
        }
        first_shift = area.shift[0]
    assert first_shift in _text(soup.find("main"))
    for timeframe in TIMEFRAMES:
        heading = soup.find("h3", id=f"{timeframe}-term")
        action_list = heading.find_next("ul", class_="tracker-action-list")
        assert _listed_codes(action_list) == expected[timeframe]


def test_area_page_nests_phases_under_their_action_with_readable_tags(client, page):
    soup = page(client.get("/roadmap/areas/accessible-and-affordable"))

    parent = soup.find("li", id="action-A07.M01")
    phases = parent.find("ul", class_="tracker-action__sub-items")
    assert [li["id"] for li in phases.find_all("li", class_="tracker-action")] == [
        "action-A07.M01.1",
        "action-A07.M01.2",
        "action-A07.M01.3",
    ]
    phase = soup.find("li", id="action-A07.M01.1")
    assert [_text(tag) for tag in phase.select(".govuk-tag")] == ["Access and affordability, £££"]
    assert _text(phase.select_one(".tracker-printed-tags")) == "As printed: (A£££)"

    tagged = soup.find("li", id="action-A07.S02")
    assert [_text(tag) for tag in tagged.select(".govuk-tag")] == [
        "Stabilisation, £",
        "Simple legislative change (+)",
    ]
    assert "Lead: Local" in _text(tagged)
    assert _text(tagged.find("details").summary) == "About the source of A07.S02"


def test_area_page_shows_the_sidebar_name_when_it_differs(client, page):
    soup = page(client.get("/roadmap/areas/assessment-and-planning"))

    assert "Also listed as: Improve assessment and care planning to put people in the lead" in (
        _text(soup.find("main"))
    )


@pytest.mark.parametrize("slug", ["no-such-area", "Workforce", "w" * 300])
def test_unknown_area_is_not_found(client, page, slug):
    response = client.get(f"/roadmap/areas/{slug}")

    assert response.status_code == 404
    assert _text(page(response).h1) == "Page not found"


# -- one action -----------------------------------------------------------------------------------


def test_action_page_shows_its_area_timeframe_lead_tags_and_note(client, page):
    response = client.get("/roadmap/actions/A07.S02")
    soup = page(response)

    assert response.status_code == 200
    assert _text(soup.h1) == (
        "Ensure consistent access to entitlements, e.g. to aids and adaptations, across local areas"
    )
    assert _text(soup.select_one(".govuk-caption-l")).startswith("Action A07.S02 ·")
    assert soup.title.get_text(strip=True) == (
        "Ensure consistent access to entitlements, e.g. to aids and… (A07.S02) – Roadmap Tracker"
    )
    rows = {_text(row.dt): _text(row.dd) for row in soup.select(".govuk-summary-list__row")}
    assert rows["Area for action"] == "7. More accessible and affordable for everyone"
    assert rows["Timeframe"].startswith("Short term (next financial year)")
    assert rows["Lead"] == "Local Within a council's current powers"
    assert "Stabilisation, £" in rows["Tags"]
    assert "Simple legislative change (+)" in rows["Tags"]
    assert "As printed: (+) (S£)" in rows["Tags"]
    assert soup.find("details") is not None
    breadcrumbs = [_text(a) for a in soup.select(".govuk-breadcrumbs a")]
    assert breadcrumbs == ["Home", "Roadmap", "More accessible and affordable for everyone"]


def test_action_page_lists_the_agenda_items_that_restate_it(app, client, page):
    soup = page(client.get("/roadmap/actions/A02.S03"))

    with app.app_context():
        action_id = db.session.scalar(select(Action.id).where(Action.code == "A02.S03"))
        restating = db.session.scalars(
            select(AgendaItem.text).where(AgendaItem.action_id == action_id)
        ).all()
    assert restating
    section = soup.find("h2", string="In the agenda for action").find_next("ul")
    for text in restating:
        assert text in _text(section)


def test_phase_page_links_to_its_parent_action(client, page):
    soup = page(client.get("/roadmap/actions/A07.M01.1"))

    assert _text(soup.h1).startswith("Increase the means-testing threshold")
    assert _text(soup.select_one(".govuk-caption-l")).startswith("Action A07.M01.1 ·")
    assert soup.find("a", href="/roadmap/actions/A07.M01") is not None


def test_action_with_phases_lists_them(client, page):
    soup = page(client.get("/roadmap/actions/A07.M01"))

    assert soup.find("h2", string="Phases of this action") is not None
    assert soup.find("li", id="action-A07.M01.2") is not None


def test_enabler_action_has_no_timeframe_and_links_to_its_enabler(app, client, page):
    with app.app_context():
        action = db.session.scalar(
            select(Action).where(Action.enabler_id.is_not(None)).order_by(Action.code)
        )
        code, slug = action.code, action.enabler.slug
    soup = page(client.get(f"/roadmap/actions/{code}"))

    rows = {_text(row.dt): _text(row.dd) for row in soup.select(".govuk-summary-list__row")}
    assert rows["Timeframe"].startswith("No timeframe")
    assert soup.find("a", href=f"/roadmap/barriers-and-enablers#{slug}") is not None


@pytest.mark.parametrize("code", ["A99.S01", "nope", "A07.M01.9", "%3Cscript%3E", "A" * 300])
def test_unknown_action_is_not_found(client, page, code):
    response = client.get(f"/roadmap/actions/{code}")

    assert response.status_code == 404
    assert _text(page(response).h1) == "Page not found"


# -- all actions and their filters ----------------------------------------------------------------


def test_actions_page_lists_every_action_of_areas_and_enablers(app, client, page):
    soup = page(client.get("/roadmap/actions"))

    expected = _trackable_actions(app)
    codes = _listed_codes(soup)
    assert sorted(codes) == sorted(action.code for action in expected)
    assert _text(soup.find("h2", id="results")) == f"{len(expected)} actions"
    # Areas in order first, then the barriers and enablers.
    first_enabler = next(i for i, code in enumerate(codes) if code.startswith("E"))
    assert all(code.startswith("A") for code in codes[:first_enabler])
    assert all(code.startswith("E") for code in codes[first_enabler:])
    assert soup.find("a", string="Clear filters") is None


def _matches(action: Action, query: dict[str, list[str]]) -> bool:
    """The filters' rules, written out plainly: any value within a filter, every filter."""
    checks = {
        "timeframe": lambda v: (action.timeframe or "none") == v,
        "spend": lambda v: v in (action.spend_types or ""),
        "funding": lambda v: str(action.funding_level or "none") == v,
        "legislative": lambda v: str(action.legislative_level or "none") == v,
        "lead": lambda v: action.lead == v,
        "area": lambda v: (action.area.code if action.area else "enablers") == v,
    }
    return all(any(checks[name](value) for value in values) for name, values in query.items())


FILTERS = [
    {"timeframe": ["short"]},
    {"timeframe": ["medium", "long"]},
    {"timeframe": ["none"]},
    {"spend": ["T"]},
    {"spend": ["C", "A"]},
    {"funding": ["3"]},
    {"funding": ["none"]},
    {"legislative": ["1", "2"]},
    {"legislative": ["none"], "lead": ["national"]},
    {"lead": ["local"], "timeframe": ["short"], "spend": ["T"]},
    {"area": ["A07"]},
    {"area": ["enablers"]},
    {"area": ["A01", "enablers"], "lead": ["system", "national"]},
]


@pytest.mark.parametrize(
    "query", FILTERS, ids=lambda q: "&".join(f"{k}={','.join(v)}" for k, v in q.items())
)
def test_filters_show_exactly_the_matching_actions(app, client, page, query):
    response = client.get("/roadmap/actions", query_string=query)
    soup = page(response)

    assert response.status_code == 200
    expected = sorted(a.code for a in _trackable_actions(app) if _matches(a, query))
    assert sorted(_listed_codes(soup)) == expected
    noun = "action" if len(expected) == 1 else "actions"
    assert _text(soup.find("h2", id="results")) == f"{len(expected)} {noun}"
    # What was chosen stays ticked, is listed as active, and can be cleared.
    for name, values in query.items():
        for value in values:
            assert soup.find("input", attrs={"name": name, "value": value}).has_attr("checked")
    assert soup.select(".tracker-active-filters li")
    assert soup.find("a", string="Clear filters")["href"] == "/roadmap/actions"


def test_a_filter_that_matches_nothing_says_so(client, page):
    soup = page(client.get("/roadmap/actions?area=enablers&timeframe=short"))

    assert _text(soup.find("h2", id="results")) == "0 actions"
    assert "No actions match these filters." in _text(soup.find("main"))


def test_filter_values_forgive_case(app, client, page):
    soup = page(client.get("/roadmap/actions?spend=t&lead=LOCAL&area=a07"))

    expected = sorted(
        a.code
        for a in _trackable_actions(app)
        if _matches(a, {"spend": ["T"], "lead": ["local"], "area": ["A07"]})
    )
    assert sorted(_listed_codes(soup)) == expected


@pytest.mark.parametrize(
    "query_string",
    [
        "timeframe=soon",
        "spend=X&spend=",
        "funding=4&funding=-1&funding=0",
        "legislative=%2B%2B%2B",
        "lead=mayor",
        "area=A99&area=",
        "timeframe=short&timeframe=short",
        "area=" + "A" * 5000,
        "timeframe[]=short",
        "%ff=%fe",
        "funding=1.5&legislative=1e3",
    ],
)
def test_unknown_filter_values_are_ignored_not_an_error(app, client, page, query_string):
    response = client.get(f"/roadmap/actions?{query_string}")

    assert response.status_code == 200
    soup = page(response)
    # Known values still filter ("timeframe=short" twice), unknown ones filter by nothing.
    codes = _listed_codes(soup)
    assert codes
    if query_string.startswith("timeframe=short"):
        assert all(".S" in code for code in codes)
    else:
        assert len(codes) == len(_trackable_actions(app))


# -- key, outcomes, agenda, barriers and enablers -------------------------------------------------


def test_key_explains_every_symbol_timeframe_and_lead(app, client, page):
    soup = page(client.get("/roadmap/key"))

    assert _text(soup.h1) == "Key to the tags"
    with app.app_context():
        edition = db.session.scalar(select(RoadmapEdition).where(RoadmapEdition.is_current))
        key, timeframes = edition.key, edition.timeframes
    captions = [_text(table.caption) for table in soup.find_all("table")]
    assert captions == ["Level of funding", "Type of spend", "Legislative change"]
    for table, kind in zip(
        soup.find_all("table"), ("funding", "spend", "legislative"), strict=True
    ):
        rows = [(_text(row.th), _text(row.td)) for row in table.tbody.find_all("tr")]
        assert rows == [(item["symbol"], item["meaning"]) for item in key[kind]]
    terms = [_text(dt) for dt in soup.select(".govuk-summary-list__key")]
    assert terms == [t["title"] for t in timeframes] + ["Local", "System", "National"]


def test_outcomes_are_numbered_in_order(client, page):
    soup = page(client.get("/roadmap/outcomes"))

    headings = [_text(h2) for h2 in soup.find("main").find_all("h2")]
    assert len(headings) == 8
    assert [int(h.split(".")[0]) for h in headings] == list(range(1, 9))
    assert headings[0] == "1. Focused on outcomes and wellbeing"


def test_agenda_lists_seven_groups_and_links_each_item_to_its_action(app, client, page):
    soup = page(client.get("/roadmap/agenda-for-action"))

    assert _text(soup.h1) == "Agenda for action"
    assert len(soup.find("main").find_all("h2")) == 7
    with app.app_context():
        pairs = db.session.execute(
            select(AgendaItem.code, Action.code).join(Action, AgendaItem.action_id == Action.id)
        ).all()
        intro = db.session.scalar(
            select(RoadmapEdition.agenda_intro).where(RoadmapEdition.is_current)
        )
    assert pairs
    for item_code, action_code in pairs:
        item = soup.find("li", id=item_code)
        assert item.find("a", href=f"/roadmap/actions/{action_code}") is not None
    assert intro[0] in _text(soup.find("main"))


def test_barriers_and_enablers_each_have_an_anchor_and_their_actions(app, client, page):
    soup = page(client.get("/roadmap/barriers-and-enablers"))

    with app.app_context():
        enablers = db.session.scalars(select(Enabler).order_by(Enabler.position)).all()
        expected = {
            enabler.slug: [a.code for a in enabler.actions if a.parent_id is None]
            for enabler in enablers
        }
    for slug, codes in expected.items():
        heading = soup.find("h2", id=slug)
        assert heading is not None
        assert soup.find("a", href=f"#{slug}") is not None
        section = heading.find_parent("section")
        assert _listed_codes(section) == codes


# -- every page -----------------------------------------------------------------------------------

PAGES = [
    "/",
    "/accessibility",
    "/roadmap/",
    "/roadmap/areas/reimagine-care-and-support",
    "/roadmap/actions",
    "/roadmap/actions?timeframe=short",
    "/roadmap/actions/A01.S01",
    "/roadmap/key",
    "/roadmap/outcomes",
    "/roadmap/agenda-for-action",
    "/roadmap/barriers-and-enablers",
    "/roadmap/cqc",
    "/councils/",
    "/no-such-page",
]


@pytest.mark.parametrize("url", PAGES)
def test_every_page_has_one_h1_a_main_landmark_and_a_skip_link(client, page, url):
    response = client.get(url)
    soup = page(response)

    assert len(soup.find_all("h1")) == 1
    assert soup.find("main", id="main-content") is not None
    assert soup.find("a", class_="govuk-skip-link")["href"] == "#main-content"
    assert soup.title.get_text(strip=True).endswith(" – Roadmap Tracker")
    # Heading levels never skip one on the way down (h2 then h4, say).
    levels = [int(h.name[1]) for h in soup.find("main").find_all(re.compile(r"^h[1-6]$"))]
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, levels
    # No crown, no GOV.UK logo: this service is not GOV.UK.
    assert soup.find(class_=re.compile("govuk-logo|govuk-footer__crown")) is None
    for part in (soup.find("header"), soup.find("footer")):
        assert "GOV.UK" not in _text(part)
        assert "Crown copyright" not in _text(part)


@pytest.mark.parametrize("url", PAGES)
def test_every_page_loads_its_assets_from_this_host_and_scripts_by_nonce(client, page, url):
    response = client.get(url)
    soup = page(response)
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)

    for script in soup.find_all("script"):
        if script.has_attr("src"):
            assert script["src"].startswith("/static/")
        else:
            assert script.get("nonce") == nonce
    for link in soup.find_all("link", href=True):
        assert link["href"].startswith("/static/")


def test_every_action_has_a_page(app, client):
    with app.app_context():
        codes = db.session.scalars(select(Action.code)).all()

    assert len(codes) > 100
    for code in codes:
        response = client.get(f"/roadmap/actions/{code}")
        assert response.status_code == 200, code


@pytest.mark.parametrize("url", PAGES)
def test_pages_do_not_fail_before_the_roadmap_is_loaded(empty_app, url):
    response = empty_app.test_client().get(url)

    assert response.status_code in {200, 404}


def test_navigation_marks_the_current_section(client, page):
    soup = page(client.get("/roadmap/actions/A01.S01"))

    active = soup.select(".govuk-service-navigation__item--active")
    assert [_text(item) for item in active] == ["Actions"]


def test_health_check_says_ok_in_plain_text(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "ok"


def test_accessibility_statement_names_the_standard_and_how_we_test(client, page):
    soup = page(client.get("/accessibility"))
    text = _text(soup.find("main"))

    assert _text(soup.h1) == "Accessibility statement for Roadmap Tracker"
    assert "WCAG" in text or "Web Content Accessibility Guidelines" in text
    assert "2.2" in text
    assert "axe-core" in text
    assert "23 November 2026" in text
    assert soup.find("footer").find("a", string="Accessibility statement") is not None
