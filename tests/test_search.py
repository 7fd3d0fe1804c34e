"""Search: the roadmap by keyword or action code (public), and one return's own answers (its
readers only), both as plain GET forms that work without JavaScript.

The suite runs on SQLite, and on PostgreSQL when ``TEST_DATABASE_URL`` names one (``make test``
does both): the return search's LIKE patterns are checked on each.
"""

from __future__ import annotations

import pytest
from markupsafe import Markup
from sqlalchemy import select

from tests import test_accessibility as a11y
from tests.access_matrix import make_member, signed_in_client
from tests.returns_data import CORNWALL, LABEL, LEEDS, SLUG, assess, open_period, submit
from tests.test_accessibility import describe_violations, run_axe
from tests.test_roadmap_views import count_queries
from tracker.config import PROJECT_ROOT
from tracker.extensions import db
from tracker.models import Action, Role
from tracker.search import highlight, like_pattern, query_terms, snippet

SEARCH = "/roadmap/search"
BASE = f"/councils/{LEEDS}/returns"
OVERVIEW = f"{BASE}/{SLUG}"
RETURN_SEARCH = f"{OVERVIEW}/search"
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "search"

# The fixtures of the accessibility checks: the app served on 127.0.0.1, Debian's Chromium, axe.
live_server = a11y.live_server
browser = a11y.browser
axe_source = a11y.axe_source


def _text(element) -> str:
    return " ".join(element.get_text(" ", strip=True).split())


def _results(soup) -> list[str]:
    return [_text(item) for item in soup.select(".tracker-search-result")]


def _action_text(app, code: str) -> str:
    with app.app_context():
        return db.session.scalar(select(Action.text).where(Action.code == code))


# -- the text rules -------------------------------------------------------------------------------


def test_terms_are_distinct_lower_cased_words():
    assert query_terms("  Carers  carers SUPPORT ") == ["carers", "support"]
    assert query_terms("") == []


def test_like_patterns_escape_the_wildcards():
    assert like_pattern("50%_a\\b") == "%50\\%\\_a\\\\b%"


def test_highlight_escapes_everything_and_marks_each_term():
    marked = highlight("Use <b>carers</b> & Carers' breaks", ["carers"])
    assert isinstance(marked, Markup)
    assert str(marked) == (
        "Use &lt;b&gt;<mark>carers</mark>&lt;/b&gt; &amp; <mark>Carers</mark>&#39; breaks"
    )
    assert str(highlight("a <script>", ["<script>"])) == "a <mark>&lt;script&gt;</mark>"


def test_a_long_text_is_cut_around_its_first_match():
    text = "word " * 100 + "carers " + "word " * 100
    passage = snippet(text, ["carers"])
    assert "carers" in passage
    assert passage.startswith("…") and passage.endswith("…")
    assert len(passage) < 260


# -- the roadmap ----------------------------------------------------------------------------------


def test_the_roadmap_page_and_its_home_offer_the_search_form(client, page):
    home = page(client.get("/roadmap/"))
    form = home.select_one("form[role=search]")
    assert form["action"] == SEARCH and form.get("method") == "get"
    assert form.select_one("input[name=q]") is not None

    empty = client.get(SEARCH)
    assert empty.status_code == 200
    soup = page(empty)
    assert _text(soup.h1) == "Search the roadmap"
    assert "action code such as A02.S04" in _text(soup.select_one("#q-hint"))
    assert not soup.select(".tracker-search-result")


def test_a_keyword_from_an_actions_text_finds_it_by_its_words_and_code(app, client, page):
    words = _action_text(app, "A02.S04")
    assert "Direct Payments" in words
    soup = page(client.get(SEARCH, query_string={"q": "direct payments"}))

    results = soup.select(".tracker-search-result")
    found = [item for item in results if "Action A02.S04 " in _text(item)]
    assert found, _results(soup)
    item = found[0]
    assert _text(item.select_one(".tracker-search-result__where")).startswith(
        "Action A02.S04 in area 2: "
    )
    link = item.select_one("a")
    assert link["href"] == "/roadmap/actions/A02.S04"
    # Named by its words, never by its code alone; the matched words marked.
    assert _text(link) == " ".join(words.split())
    assert [_text(mark).lower() for mark in link.select("mark")] == ["direct", "payments"]
    count = _text(soup.select_one("#results"))
    assert count == f"{len(results)} results for ‘direct payments’"


def test_every_word_must_match(client, page):
    soup = page(client.get(SEARCH, query_string={"q": "carers breaks"}))
    both = soup.select(".tracker-search-result")
    carers = _results(page(client.get(SEARCH, query_string={"q": "carers"})))
    assert both and len(both) < len(carers)
    assert all(item.select("mark") for item in both)
    actions = [_text(a) for a in soup.select("#results-actions + ol a")]
    assert actions and all("carers" in t.lower() and "breaks" in t.lower() for t in actions)


def test_an_action_code_in_any_case_tops_the_results(client, page):
    soup = page(client.get(SEARCH, query_string={"q": " a02.s04 "}))
    first = soup.select_one(".tracker-search-result")
    assert "Action code" in _text(first)
    assert first.select_one("a")["href"] == "/roadmap/actions/A02.S04"
    # The agenda item that restates it is found too.
    assert any("restates action A02.S04" in text for text in _results(soup))


def test_outcomes_agenda_and_barriers_and_enablers_are_searched(client, page):
    soup = page(client.get(SEARCH, query_string={"q": "workforce"}))
    headings = [_text(h3) for h3 in soup.select("h3[id^=results-]")]
    assert any(heading.startswith("Barriers and enablers") for heading in headings), headings
    enabler_links = soup.select("#results-enablers + ol a")
    assert enabler_links[0]["href"].startswith("/roadmap/barriers-and-enablers#")
    wheres = [_text(p) for p in soup.select(".tracker-search-result__where")]
    assert "Barriers and enablers" in wheres


def test_no_results_says_so_and_suggests_what_to_try(client, page):
    response = client.get(SEARCH, query_string={"q": "zzxqv"})
    assert response.status_code == 200
    soup = page(response)
    assert _text(soup.select_one("#results")) == "0 results for ‘zzxqv’"
    assert "nothing in the roadmap that matches" in _text(soup.main)
    assert soup.select_one("main a[href='/roadmap/actions']") is not None


def test_what_was_searched_for_is_shown_escaped(client, page):
    response = client.get(SEARCH, query_string={"q": "<script>alert(1)</script>"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "‘&lt;script&gt;alert(1)&lt;/script&gt;’" in html
    assert page(response).select_one("input[name=q]")["value"] == "<script>alert(1)</script>"


@pytest.mark.parametrize("query", ["x" * 201, "carers " * 40])
def test_an_over_long_query_is_refused_with_a_message(client, page, query):
    response = client.get(SEARCH, query_string={"q": query})
    assert response.status_code == 400
    soup = page(response)
    summary = soup.select_one(".govuk-error-summary")
    assert "Search terms must be 200 characters or fewer" in _text(summary)
    assert summary.select_one("a")["href"] == "#q"
    assert soup.title.get_text().startswith("Error: ")


@pytest.mark.parametrize(
    "query", ["%", "_", "\\", "'", '"', "a" * 200, "%%%_", "é ß 日本", "q=1&q=2", "\t"]
)
def test_odd_input_never_fails(client, query):
    assert client.get(SEARCH, query_string={"q": query}).status_code == 200


def test_two_q_parameters_and_a_nul_byte_are_not_a_500(client):
    assert client.get(f"{SEARCH}?q=carers&q=breaks").status_code == 200
    assert client.get(SEARCH, query_string={"q": "a\x00b"}).status_code == 400


# -- one return -----------------------------------------------------------------------------------

NARRATIVE = "Piloting a 50% faster Direct Payments route with Kaleidoscope carers"


@pytest.fixture
def assessed(app):
    """Leeds's draft: one action with a narrative, one with next steps, one not applicable."""
    open_period(app)
    assess(
        app,
        LEEDS,
        ["A01.S01"],
        {"stage": "implementing", "rag": "green", "narrative": NARRATIVE},
    )
    assess(
        app,
        LEEDS,
        ["A01.M01"],
        {
            "stage": "planning",
            "rag": "red",
            "narrative": "Scoping",
            "next_steps": "Ask kaleidoscope partners",
            "barriers": ["workforce"],
            "barrier_detail": "Too few social_workers",
        },
    )
    assess(
        app,
        LEEDS,
        ["A01.S02"],
        {"stage": "not_applicable", "not_applicable_reason": "The county runs it"},
    )


def test_the_overview_offers_a_search_of_the_return(app, assessed, page):
    editor = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    form = page(editor.get(OVERVIEW)).select_one("form[role=search]")
    assert form["action"] == RETURN_SEARCH
    assert _text(form.select_one("label")) == "Search this return"


def test_a_return_search_finds_saved_answers_and_says_which_field(app, assessed, page):
    editor = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    response = editor.get(RETURN_SEARCH, query_string={"q": "Kaleidoscope"})
    assert response.status_code == 200
    soup = page(response)
    assert _text(soup.h1) == f"Search the {LABEL} return"
    assert _text(soup.select_one("#results")) == "2 results for ‘Kaleidoscope’"
    items = soup.select(".tracker-search-result")
    first, second = items
    assert _text(first.select_one(".tracker-search-result__where")).startswith(
        "Action A01.S01 in area 1: "
    )
    link = first.select_one("a")
    assert link["href"] == f"{OVERVIEW}/actions/A01.S01"
    assert _text(link) == " ".join(_action_text(app, "A01.S01").split())
    assert [_text(dt) for dt in first.select("dt")] == ["Progress"]
    assert _text(first.select_one("dd mark")) == "Kaleidoscope"
    assert second.select_one("a")["href"] == f"{OVERVIEW}/actions/A01.M01"
    assert [_text(dt) for dt in second.select("dt")] == ["Next steps"]


def test_a_return_search_reads_every_written_answer_and_escapes_wildcards(app, assessed, page):
    editor = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))

    def fields(query: str) -> list[tuple[str, list[str]]]:
        soup = page(editor.get(RETURN_SEARCH, query_string={"q": query}))
        return [
            (item.select_one("a")["href"].rsplit("/", 1)[1], [_text(dt) for dt in item("dt")])
            for item in soup.select(".tracker-search-result")
        ]

    assert fields("county") == [("A01.S02", ["Why it is not applicable"])]
    assert fields("social_workers") == [("A01.M01", ["About the barriers"])]
    # "_" and "%" are themselves, not LIKE's wildcards.
    assert fields("social_w") == [("A01.M01", ["About the barriers"])]
    assert fields("socialXworkers") == []
    assert fields("50%") == [("A01.S01", ["Progress"])]
    assert fields("5%") == []
    # Every word, across the action and its answers.
    assert fields("scoping kaleidoscope") == [("A01.M01", ["Progress", "Next steps"])]
    # An action code finds that action, whatever its answers.
    assert fields("a01.s03") == [("A01.S03", [])]


def test_a_return_search_is_one_query_for_its_results(app, assessed):
    editor = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    editor.get(RETURN_SEARCH, query_string={"q": "a"})  # warm the session's own queries
    with count_queries(app) as few:
        editor.get(RETURN_SEARCH, query_string={"q": "kaleidoscope"})
    with count_queries(app) as many:
        editor.get(RETURN_SEARCH, query_string={"q": "a"})
    assert len(many) == len(few), "\n".join(many)


def test_a_return_search_answers_bad_input_with_a_message(app, assessed, page):
    editor = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    empty = page(editor.get(RETURN_SEARCH))
    assert not empty.select(".tracker-search-result")
    too_long = editor.get(RETURN_SEARCH, query_string={"q": "y" * 201})
    assert too_long.status_code == 400
    assert "200 characters or fewer" in _text(page(too_long).select_one(".govuk-error-summary"))
    none = page(editor.get(RETURN_SEARCH, query_string={"q": "<zz>"}))
    assert "No action in this return matches" in _text(none.main)
    assert "&lt;zz&gt;" in str(none.select_one("#results"))


@pytest.mark.parametrize(
    ("role", "relation"),
    [
        (Role.COUNCIL_EDITOR, "other_region"),
        (Role.COUNCIL_EDITOR, "same_region"),
        (Role.PANEL_MEMBER, "own"),
        (Role.REGIONAL_MEMBER, "own"),
        (Role.NATIONAL_ADMIN, "own"),
    ],
)
def test_who_may_not_read_the_draft_gets_404_as_on_the_overview(
    app, assessed, role, relation, page
):
    client = signed_in_client(app, make_member(app, role, relation))
    assert client.get(OVERVIEW).status_code == 404
    assert client.get(RETURN_SEARCH, query_string={"q": "kaleidoscope"}).status_code == 404
    assert client.get(RETURN_SEARCH).status_code == 404


def test_once_submitted_the_panel_may_search_it_as_it_reads_it(app, assessed, page):
    from tests.returns_data import assess_all

    # Another council's answers, the same words, never appear in Leeds's results.
    assess_all(app, CORNWALL, {"stage": "implementing", "rag": "green", "narrative": NARRATIVE})
    assess(app, LEEDS, None, {"stage": "embedded"})  # every action reviewed, answers kept
    submit(app, LEEDS)
    panel = signed_in_client(app, make_member(app, Role.PANEL_MEMBER))
    assert panel.get(OVERVIEW).status_code == 200
    soup = page(panel.get(RETURN_SEARCH, query_string={"q": "kaleidoscope"}))
    assert [a["href"] for a in soup.select(".tracker-search-result a")] == [
        f"{OVERVIEW}/actions/A01.S01",
        f"{OVERVIEW}/actions/A01.M01",
    ]
    anonymous = app.test_client()
    assert anonymous.get(RETURN_SEARCH).status_code == 302


# -- in a browser ---------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 320])
def test_roadmap_results_pass_axe_and_never_scroll_sideways(
    live_server, browser, axe_source, width
):
    """Screenshots go to test-artifacts/search/ for a person to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.goto(f"{live_server}{SEARCH}?q=carers+support", wait_until="load")
        page.screenshot(path=str(ARTIFACTS / f"roadmap-search-{width}.png"), full_page=True)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{overflow}px of sideways scroll at {width}px"
        assert describe_violations(SEARCH, run_axe(page, axe_source)) == []
    finally:
        page.close()
