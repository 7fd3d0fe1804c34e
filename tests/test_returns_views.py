"""The return pages: what each person sees and may do, checked against the database after."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.access_matrix import make_member, post, signed_in_client
from tests.factories import make_user
from tests.helpers import latest_mail, mail_body
from tests.returns_data import (
    CORNWALL,
    LABEL,
    LEEDS,
    PREVIOUS_LABEL,
    PREVIOUS_SLUG,
    SLUG,
    TRACKABLE,
    WAKEFIELD,
    assess,
    assess_all,
    close_period,
    complete_quarter,
    confirm_unchanged,
    get_assessment,
    get_return,
    open_period,
    submit,
)
from tests.test_roadmap_views import count_queries
from tracker.domain.periods import months
from tracker.extensions import db
from tracker.models import Action, Assessment, AuditEvent, Council, ReturnSnapshot, Role, User
from tracker.returns import queries, services

BASE = f"/councils/{LEEDS}/returns"
OVERVIEW = f"{BASE}/{SLUG}"
PLANNING_AMBER = {"stage": "planning", "rag": "amber", "narrative": "Scoping with partners"}


def _text(element) -> str:
    return " ".join(element.get_text().split())


def _error_summary(soup) -> list[str]:
    summary = soup.select_one(".govuk-error-summary")
    return [_text(a) for a in summary.select("a")] if summary else []


def _row(soup, code: str) -> list[str]:
    """The cells of an action's row in the overview: action, stage, RAG, since last quarter."""
    row = soup.select_one(f'tr[id="action-{code}"]')
    assert row is not None, code
    return [_text(cell) for cell in row.select("th, td")]


def _forms(soup) -> list:
    """The page's own POST forms (not sign-out, which every signed-in page has)."""
    return soup.select('main form[method=post]:not([action="/auth/sign-out"])')


class People(dict):
    """role → the one person holding it for Leeds (regional: Yorkshire and the Humber), each
    made when first asked for: signing up and in hashes a password, which is slow."""

    def __init__(self, app) -> None:
        super().__init__()
        self.app = app

    def __missing__(self, role: Role):
        self[role] = make_member(self.app, role)
        return self[role]


@pytest.fixture
def people(app):
    return People(app)


@pytest.fixture
def clients(app, people):
    """role → a client signed in as that role's person (made when first asked for)."""
    made: dict[Role, object] = {}

    def client_for(role: Role):
        if role not in made:
            made[role] = signed_in_client(app, people[role])
        return made[role]

    return client_for


@pytest.fixture
def two_quarters(app):
    """Leeds: 2025-26 Q2 finished (every action Planning, Amber), Q3 open and carried forward,
    with a few actions changed in Q3."""
    complete_quarter(app, LEEDS, PREVIOUS_LABEL, PLANNING_AMBER)
    open_period(app)
    assess(app, LEEDS, ["A01.S01"], {"stage": "implementing", "rag": "green", "narrative": "Live"})
    assess(app, LEEDS, ["A01.S03"], {"stage": "not_started"})
    assess(app, LEEDS, ["A01.M01"], {"stage": "planning", "rag": "red", "narrative": "Stalled"})
    assess(
        app,
        LEEDS,
        ["A01.S02"],
        {"stage": "not_applicable", "not_applicable_reason": "Done by the county"},
    )


# -- direction of travel ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "now", "expected"),
    [
        (("planning", "amber"), ("implementing", "red"), "improved"),
        (("embedded", None), ("implementing", "green"), "worsened"),
        (("planning", "amber"), ("planning", "green"), "improved"),
        (("planning", "green"), ("planning", "red"), "worsened"),
        (("implementing", "amber"), ("implementing", "amber"), "unchanged"),
        (("embedded", None), ("embedded", None), "unchanged"),
        (("not_applicable", None), ("embedded", None), "not_comparable"),
        (("planning", "amber"), ("not_applicable", None), "not_comparable"),
        ((None, None), ("planning", "amber"), "not_comparable"),
        (None, ("planning", "amber"), "no_earlier"),
    ],
)
def test_direction_of_travel_follows_the_stage_scale_then_rag(before, now, expected):
    assert queries.direction_of_travel(before, now) == expected


# -- the list and the overview ------------------------------------------------------------------


def test_the_list_shows_each_return_newest_first_with_status_and_progress(
    app, clients, page, two_quarters
):
    soup = page(clients(Role.COUNCIL_VIEWER).get(f"{BASE}/"))

    assert _text(soup.h1) == "Returns"
    rows = [[_text(c) for c in tr.select("th, td")] for tr in soup.select("tbody tr")]
    assert [row[0].split(" return")[0] for row in rows] == [LABEL, PREVIOUS_LABEL]
    # Only the four actions saved this quarter are reviewed: carried forward is not assessed.
    assert rows[0][1:4] == [
        "Draft",
        f"4 of {TRACKABLE}",
        f"Not yet reviewed: {TRACKABLE - 4} Confirmed unchanged: 0 Updated: 4",
    ]
    assert rows[1][1] == "Signed off"
    assert "Period closed" in rows[1][0]


def test_the_overview_shows_status_progress_and_changes_since_last_quarter(
    app, clients, page, two_quarters
):
    soup = page(clients(Role.COUNCIL_EDITOR).get(OVERVIEW))

    assert _text(soup.h1) == f"{LABEL} return"
    assert soup.title.get_text().startswith(f"{LABEL} return – Leeds – ")
    assert _text(soup.select_one("#progress")) == f"4 of {TRACKABLE} actions reviewed this quarter"
    assert _row(soup, "A01.S01")[1:] == [
        "Implementing",
        "RAG rating Green",
        "↑ Improved Was Planning, Amber History of A01.S01",
    ]
    assert _row(soup, "A01.S03")[1:3] == ["Not started", "Not needed"]
    assert _row(soup, "A01.S03")[3].startswith("↓ Worsened")
    assert _row(soup, "A01.S02")[3].startswith("Not comparable")
    assert "Not yet reviewed (carried forward)" in _row(soup, "A01.S04")[0]
    assert "Updated" in _row(soup, "A01.S01")[0]
    assert "carried forward" not in _row(soup, "A01.S01")[0]
    changes = [_text(li) for li in soup.find("h2", string="Since last quarter").find_next("ul")]
    assert [c for c in changes if c] == [
        f"↑ Improved: 1 of {TRACKABLE}",
        f"→ Unchanged: {TRACKABLE - 4} of {TRACKABLE}",
        f"↓ Worsened: 2 of {TRACKABLE}",
        f"Not comparable (not assessed, not applicable locally, or new): 1 of {TRACKABLE}",
    ]
    # The editor may check their answers and submit; nobody has signed it off.
    assert soup.find("a", string=lambda s: s and "Check your answers and submit" in s)
    assert not soup.find("a", string=lambda s: s and s.strip() == "Sign off")


def test_a_new_return_lists_every_action_still_to_assess(app, clients, page):
    open_period(app)
    soup = page(clients(Role.COUNCIL_EDITOR).get(OVERVIEW))

    assert _text(soup.select_one("#progress")) == f"0 of {TRACKABLE} actions reviewed this quarter"
    details = soup.select_one("details")
    assert _text(details.summary) == f"What is missing: {TRACKABLE} actions to assess"
    links = details.select("a")
    assert len(links) == TRACKABLE
    assert links[0]["href"] == f"{OVERVIEW}/actions/A01.S01"
    assert "There is no earlier return to compare with." in _text(soup)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("change=worsened", ["A01.S03", "A01.M01"]),
        ("stage=not_applicable", ["A01.S02"]),
        ("rag=green&rag=red", ["A01.S01", "A01.M01"]),
        ("area=A01&change=improved", ["A01.S01"]),
        ("stage=none", []),
    ],
)
def test_filters_narrow_the_actions_listed(app, clients, page, two_quarters, query, expected):
    soup = page(clients(Role.COUNCIL_EDITOR).get(f"{OVERVIEW}?{query}"))

    listed = [row["id"].removeprefix("action-") for row in soup.select("tr[id^=action-]")]
    assert listed == expected
    assert _text(soup.select_one("#results")) == f"Showing {len(expected)} of {TRACKABLE} actions"
    # Progress counts the whole return, whatever the filters.
    assert _text(soup.select_one("#progress")) == f"4 of {TRACKABLE} actions reviewed this quarter"


def test_national_long_term_filter_lists_what_the_database_holds(app, clients, page):
    open_period(app)
    soup = page(clients(Role.COUNCIL_EDITOR).get(f"{OVERVIEW}?lead=national&timeframe=long"))

    with app.app_context():
        expected = set(
            db.session.scalars(
                select(Action.code).where(
                    Action.lead == "national",
                    Action.timeframe == "long",
                    Action.parent_id.is_(None),
                    Action.archived_at.is_(None),
                )
            )
        )
    listed = {row["id"].removeprefix("action-") for row in soup.select("tr[id^=action-]")}
    assert listed == expected and expected


def test_the_overview_makes_a_bounded_number_of_queries(app, clients, two_quarters):
    client = clients(Role.COUNCIL_EDITOR)
    client.get(OVERVIEW)  # the session cookie settles
    with count_queries(app) as statements:
        response = client.get(f"{OVERVIEW}?area=A01&stage=planning")
    assert response.status_code == 200
    # Session (user, memberships), council, return, previous return, the assessments with last
    # quarter's beside them, names, workflow note, area choices: not one query per action.
    assert len(statements) <= 10, "\n".join(statements)


# -- who sees what --------------------------------------------------------------------------------


def test_panel_members_see_submitted_returns_but_never_drafts(app, clients, page, two_quarters):
    panel = clients(Role.PANEL_MEMBER)

    listed = [_text(th) for th in page(panel.get(f"{BASE}/")).select("tbody th")]
    assert [item.split(" return")[0] for item in listed] == [months(PREVIOUS_LABEL)]
    assert panel.get(OVERVIEW).status_code == 404
    assert panel.get(f"{OVERVIEW}/actions/A01.S01").status_code == 404
    history = page(panel.get(f"{BASE}/history/A01.S01"))
    assert [_text(a) for a in history.select("tbody th a")] == [
        f"{months(PREVIOUS_LABEL)}: action A01.S01"
    ]
    assert panel.get(f"{BASE}/current").headers["Location"].endswith(PREVIOUS_SLUG)

    confirm_unchanged(app, LEEDS)
    submit(app, LEEDS)
    soup = page(panel.get(OVERVIEW))
    assert _text(soup.h1) == f"Report for {months(LABEL)}"  # quarters as months for the panel
    assert not _forms(soup)
    assert panel.get(f"{OVERVIEW}/actions/A01.S01").status_code == 200


@pytest.mark.parametrize("role", [Role.REGIONAL_MEMBER, Role.NATIONAL_ADMIN])
def test_drafts_never_leave_the_council(app, clients, page, role):
    open_period(app)
    assess(app, LEEDS, ["A01.S01"], {"stage": "implementing", "rag": "amber", "narrative": "Going"})
    client = clients(role)
    assert client.get(OVERVIEW).status_code == 404
    assert client.get(f"{OVERVIEW}/actions/A01.S01").status_code == 404
    history = page(client.get(f"{BASE}/history/A01.S01"))
    assert "Going" not in history.get_text()
    # Once it is submitted, they read it.
    assess_all(app, LEEDS)
    submit(app, LEEDS)
    overview = page(client.get(OVERVIEW))
    assert _text(overview.h1) == f"{LABEL} return"
    assert not _forms(overview)


def test_a_council_that_does_not_share_is_not_read_by_name_from_outside(app, clients):
    open_period(app)
    assess_all(app, LEEDS)
    submit(app, LEEDS)
    with app.app_context():
        council = db.session.scalar(select(Council).where(Council.gss_code == LEEDS))
        council.shares_named_returns = False
        db.session.commit()
    regional, viewer = clients(Role.REGIONAL_MEMBER), clients(Role.COUNCIL_VIEWER)
    admin, panel = clients(Role.NATIONAL_ADMIN), clients(Role.PANEL_MEMBER)
    pages = (f"{BASE}/", f"{BASE}/current", OVERVIEW, f"{OVERVIEW}/actions/A01.S01")
    pages += (f"{BASE}/history/A01.S01", f"{OVERVIEW}/export.csv")
    assert [regional.get(path).status_code for path in pages] == [404] * len(pages)
    assert [admin.get(path).status_code for path in pages] == [404] * len(pages)
    assert viewer.get(OVERVIEW).status_code == 200
    assert panel.get(OVERVIEW).status_code == 200
    with app.app_context():
        db.session.scalar(
            select(Council).where(Council.gss_code == LEEDS)
        ).shares_named_returns = True
        db.session.commit()
    assert regional.get(OVERVIEW).status_code == 200


@pytest.mark.parametrize("role", [Role.COUNCIL_VIEWER, Role.COUNCIL_APPROVER])
def test_readers_see_drafts_read_only(app, clients, page, role):
    open_period(app)
    assess(app, LEEDS, ["A01.S01"], {"stage": "implementing", "rag": "amber", "narrative": "Going"})
    client = clients(role)

    overview = page(client.get(OVERVIEW))
    assert _text(overview.h1) == f"{LABEL} return"
    assert not _forms(overview)
    action = page(client.get(f"{OVERVIEW}/actions/A01.S01"))
    assert _text(action.h1).startswith("Bring local partners together")
    assert "Action A01.S01" in _text(action.select_one(".govuk-caption-l"))
    assert not _forms(action)
    values = {_text(row.dt): _text(row.dd) for row in action.select(".govuk-summary-list__row")}
    assert values["Stage"] == "Implementing"
    assert values["Progress"] == "Going"
    # Reading is not changing.
    response = post(client, f"{OVERVIEW}/actions/A01.S01", {"stage": "embedded", "version": "2"})
    assert response.status_code == 404
    assert client.get(f"{OVERVIEW}/bulk").status_code == 404


def test_an_editor_cannot_sign_off_and_an_approver_cannot_edit(app, clients):
    open_period(app)
    assess_all(app, LEEDS)
    submit(app, LEEDS)
    editor, approver = clients(Role.COUNCIL_EDITOR), clients(Role.COUNCIL_APPROVER)

    assert editor.get(f"{OVERVIEW}/sign-off").status_code == 404
    assert post(editor, f"{OVERVIEW}/sign-off").status_code == 404
    assert post(editor, f"{OVERVIEW}/reopen", {"reason": "x"}).status_code == 404
    assert post(approver, f"{OVERVIEW}/actions/A01.S01", {"stage": "embedded"}).status_code == 404
    assert post(approver, f"{OVERVIEW}/submit").status_code == 404
    with app.app_context():
        assert get_return(LEEDS).status == "submitted"


@pytest.mark.parametrize(
    "path",
    [
        f"/councils/{WAKEFIELD}/returns/{SLUG}",
        f"/councils/{WAKEFIELD}/returns/{SLUG}/actions/A01.S01",
        f"/councils/{WAKEFIELD}/returns/{SLUG}/bulk",
        f"/councils/{WAKEFIELD}/returns/history/A01.S01",
        f"/councils/{CORNWALL}/returns/",
        f"{BASE}/2025-26-Q5",
        f"{BASE}/2025-27-Q3",
        f"{BASE}/2025-26 Q3",
        f"{BASE}/2030-31-Q1",
        f"{OVERVIEW}/actions/A99.S01",
        f"{OVERVIEW}/actions/a01.s01",
        f"{OVERVIEW}/actions/A01.S01.1",
        f"{BASE}/history/NOPE",
    ],
)
def test_other_councils_and_unknown_periods_or_actions_are_not_found(app, clients, path):
    open_period(app)
    assert clients(Role.COUNCIL_EDITOR).get(path).status_code == 404


def test_an_editor_cannot_change_another_councils_assessment(app, clients):
    open_period(app)
    editor = clients(Role.COUNCIL_EDITOR)
    url = f"/councils/{WAKEFIELD}/returns/{SLUG}/actions/A01.S01"
    response = post(editor, url, {"stage": "embedded", "version": "1"})

    assert response.status_code == 404
    response = post(editor, f"/councils/{WAKEFIELD}/returns/{SLUG}/submit")
    assert response.status_code == 404
    with app.app_context():
        assert get_assessment(WAKEFIELD, "A01.S01").stage is None


# -- the assessment form ------------------------------------------------------------------------


def test_the_form_shows_the_action_and_last_quarters_answer(app, clients, page, two_quarters):
    soup = page(clients(Role.COUNCIL_EDITOR).get(f"{OVERVIEW}/actions/A01.S04"))

    assert _text(soup.h1).startswith("Train and develop staff")
    assert "Action A01.S04" in _text(soup.select_one(".govuk-caption-l"))
    form = _forms(soup)[0]
    assert form.select_one("input[name=stage][value=planning]").has_attr("checked")
    assert form.select_one("input[name=rag][value=amber]").has_attr("checked")
    with app.app_context():
        version = get_assessment(LEEDS, "A01.S04").version_id
    assert form.select_one("input[name=version]")["value"] == str(version)
    last_quarter = next(h2 for h2 in soup.select("h2") if "Last quarter" in _text(h2)).parent
    assert PREVIOUS_LABEL in _text(last_quarter)
    assert "Scoping with partners" in _text(last_quarter)
    assert "Carried forward from 2025-26 Q2 and not yet reviewed" in _text(soup)


def test_an_editor_saves_an_assessment_and_it_is_audited(app, clients, two_quarters):
    with app.app_context():
        before = get_assessment(LEEDS, "A01.S04")
        version, assessment_id = before.version_id, before.id
    response = post(
        clients(Role.COUNCIL_EDITOR),
        f"{OVERVIEW}/actions/A01.S04",
        {
            "version": str(version),
            "stage": "implementing",
            "rag": "green",
            "narrative": "  Training under way  ",
            "barriers": ["workforce", "funding"],
            "spend_types": ["A", "T"],
            "amount_pounds": "£1,200",
            "funding_source": "bcf",
            "is_co_produced": "yes",
            "co_production_how": "With the carers' forum",
            "target_stage": "embedded",
            "target_period": "2026/27 q2",
            "then": "next",
            "next_code": "A01.M01",
        },
    )

    assert response.status_code == 302
    assert response.headers["Location"] == f"{OVERVIEW}/actions/A01.M01"
    with app.app_context():
        saved = get_assessment(LEEDS, "A01.S04")
        assert (saved.stage, saved.rag, saved.narrative) == (
            "implementing",
            "green",
            "Training under way",
        )
        assert saved.barriers == ["funding", "workforce"]
        assert (saved.spend_types, saved.amount_pounds, saved.funding_source) == ("TA", 1200, "bcf")
        assert saved.is_co_produced is True
        assert saved.target_period == "2026-27 Q2"
        assert not saved.is_carried_forward
        assert saved.version_id == version + 1
        event = db.session.scalar(
            select(AuditEvent)
            .where(
                AuditEvent.action == "assessment.update", AuditEvent.object_id == str(assessment_id)
            )
            .order_by(AuditEvent.id.desc())
        )
        assert event.before["stage"] == "planning"
        assert event.after["stage"] == "implementing"
        assert event.after["amount_pounds"] == 1200


def test_a_form_with_errors_shows_them_and_saves_nothing(app, clients, page):
    open_period(app)
    response = post(
        clients(Role.COUNCIL_EDITOR),
        f"{OVERVIEW}/actions/A01.S01",
        {"version": "1", "stage": "planning", "amount_pounds": "twelve", "target_period": "soon"},
    )

    assert response.status_code == 422
    soup = page(response)
    assert soup.title.get_text().startswith("Error: ")
    assert _error_summary(soup) == [
        "Select a RAG rating: it is needed while the action is in planning or being implemented",
        "Enter a target period like 2026-27 Q2",
        "Enter the amount in whole pounds, like 12,000",
    ]
    assert [a["href"] for a in soup.select(".govuk-error-summary a")] == [
        "#rag",
        "#target_period",
        "#amount_pounds",
    ]
    assert _text(soup.select_one("#amount_pounds-error")).endswith("like 12,000")
    # What was typed is kept.
    assert soup.select_one("input[name=amount_pounds]")["value"] == "twelve"
    assert soup.select_one("input[name=stage][value=planning]").has_attr("checked")
    with app.app_context():
        unchanged = get_assessment(LEEDS, "A01.S01")
        assert (unchanged.stage, unchanged.version_id) == (None, 1)


def test_not_applicable_needs_a_reason(app, clients, page):
    open_period(app)
    response = post(
        clients(Role.COUNCIL_EDITOR),
        f"{OVERVIEW}/actions/A01.S01",
        {"version": "1", "stage": "not_applicable"},
    )

    assert response.status_code == 422
    assert _error_summary(page(response)) == ["Enter why the action is not applicable locally"]


def test_a_closed_period_is_read_only(app, clients, page):
    open_period(app)
    close_period(app)
    editor = clients(Role.COUNCIL_EDITOR)

    soup = page(editor.get(f"{OVERVIEW}/actions/A01.S01"))
    assert not _forms(soup)
    assert "2025-26 Q3 is closed: its returns cannot be changed" in _text(soup)
    response = post(editor, f"{OVERVIEW}/actions/A01.S01", {"version": "1", "stage": "embedded"})
    assert response.status_code == 302
    soup = page(editor.get(response.headers["Location"]))
    assert "is closed" in _text(soup.select_one(".govuk-notification-banner"))
    bulk = page(editor.get(f"{OVERVIEW}/bulk"))
    assert not _forms(bulk)
    overview = page(editor.get(OVERVIEW))
    assert not overview.find("button", string=lambda s: s and "Submit" in s)
    with app.app_context():
        assert get_assessment(LEEDS, "A01.S01").stage is None


# -- bulk edit --------------------------------------------------------------------------------


def test_bulk_edit_marks_national_long_term_actions_not_applicable(app, clients, page):
    open_period(app)
    editor = clients(Role.COUNCIL_EDITOR)
    url = f"{OVERVIEW}/bulk?lead=national&timeframe=long"
    listed = page(editor.get(url)).select("input[name=bulk-actions]")
    codes = [box["value"] for box in listed]
    versions = {f"version-{code}": "1" for code in codes}

    response = post(
        editor,
        url,
        {
            "bulk-all_listed": "y",
            "bulk-stage": "not_applicable",
            "bulk-not_applicable_reason": "For government to lead",
            **versions,
        },
    )

    assert response.status_code == 302
    flash = page(editor.get(response.headers["Location"])).select_one(".govuk-notification-banner")
    assert f"{len(codes)} actions updated" in _text(flash)
    with app.app_context():
        for code in codes:
            saved = get_assessment(LEEDS, code)
            assert (saved.stage, saved.not_applicable_reason) == (
                "not_applicable",
                "For government to lead",
            )
        assert get_assessment(LEEDS, "A01.S01").stage is None
        events = db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "assessment.update")
        )
        assert events == len(codes)


def test_bulk_edit_is_all_or_nothing(app, clients, page):
    open_period(app)
    assess(app, LEEDS, ["A01.S01"], {"stage": "implementing", "rag": "amber", "narrative": "On"})
    editor = clients(Role.COUNCIL_EDITOR)
    with app.app_context():
        versions = {
            f"version-{code}": str(get_assessment(LEEDS, code).version_id)
            for code in ("A01.S01", "A01.S02")
        }

    # Planning needs a RAG rating: A01.S01 keeps its Amber, A01.S02 has none.
    response = post(
        editor,
        f"{OVERVIEW}/bulk",
        {"bulk-actions": ["A01.S01", "A01.S02"], "bulk-stage": "planning", **versions},
    )

    assert response.status_code == 422
    soup = page(response)
    assert _error_summary(soup) == [
        "Nothing was saved: 1 of the selected actions cannot be given these answers"
    ]
    assert "A01.S02: Select a RAG rating" in _text(soup.select_one(".govuk-inset-text"))
    with app.app_context():
        assert get_assessment(LEEDS, "A01.S01").stage == "implementing"
        assert get_assessment(LEEDS, "A01.S02").stage is None


def test_bulk_edit_refuses_actions_changed_meanwhile(app, clients, page):
    open_period(app)
    editor = clients(Role.COUNCIL_EDITOR)
    assess(app, LEEDS, ["A01.S02"], {"stage": "embedded"})  # after the page showed version 1

    response = post(
        editor,
        f"{OVERVIEW}/bulk",
        {
            "bulk-actions": ["A01.S01", "A01.S02"],
            "bulk-stage": "not_started",
            "version-A01.S01": "1",
            "version-A01.S02": "1",
        },
    )

    assert response.status_code == 422
    assert "changed by someone else" in _error_summary(page(response))[0]
    with app.app_context():
        assert get_assessment(LEEDS, "A01.S01").stage is None
        assert get_assessment(LEEDS, "A01.S02").stage == "embedded"


def test_bulk_edit_asks_for_actions_and_answers(app, clients, page):
    open_period(app)
    response = post(clients(Role.COUNCIL_EDITOR), f"{OVERVIEW}/bulk", {})

    assert response.status_code == 422
    assert _error_summary(page(response)) == [
        "Select an answer to give the selected actions",
        "Select the actions to change",
    ]


# -- the workflow -----------------------------------------------------------------------------


def test_an_incomplete_return_cannot_be_submitted_and_nothing_changes(app, clients, page):
    open_period(app)
    assess(app, LEEDS, ["A01.S01"], {"stage": "embedded"})
    response = post(clients(Role.COUNCIL_EDITOR), f"{OVERVIEW}/submit")

    assert response.status_code == 422
    soup = page(response)
    assert _text(soup.h1) == f"The {LABEL} return cannot be submitted yet"
    summary = soup.select_one(".govuk-error-summary")
    assert _text(summary.select_one("h2")) == (
        f"{TRACKABLE - 1} actions are not yet reviewed: confirm each one unchanged or update it "
        "before the return can be submitted"
    )
    assert soup.select("#missing + ul a")[0]["href"] == f"{OVERVIEW}/actions/A01.S02"
    assert len(soup.select("#missing + ul a")) == TRACKABLE - 1
    with app.app_context():
        assert get_return(LEEDS).status == "draft"
        assert not db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "return.submit")
        )


def test_submit_sign_off_and_reopen_through_the_pages(app, clients, people, page):
    open_period(app)
    assess_all(app, LEEDS)
    editor, approver = clients(Role.COUNCIL_EDITOR), clients(Role.COUNCIL_APPROVER)

    response = post(editor, f"{OVERVIEW}/submit")
    assert response.status_code == 302
    notice = latest_mail(app, to=people[Role.COUNCIL_APPROVER].email)
    assert LABEL in notice["Subject"]
    assert f"/councils/{LEEDS}/returns/" in mail_body(notice)
    soup = page(editor.get(OVERVIEW))
    assert "submitted for sign-off" in _text(soup.select_one(".govuk-notification-banner"))
    status = {_text(r.dt): _text(r.dd) for r in soup.select(".govuk-summary-list__row")}
    assert status["Status"] == "Submitted"
    assert status["Submitted"].startswith("By Test Person on ")

    overview = page(approver.get(OVERVIEW))
    assert overview.find("a", string=lambda s: s and s.strip() == "Sign off")
    confirm = page(approver.get(f"{OVERVIEW}/sign-off"))
    assert _text(confirm.h1) == f"Sign off the {LABEL} return?"
    assert post(approver, f"{OVERVIEW}/sign-off").status_code == 302
    soup = page(approver.get(OVERVIEW))
    status = {_text(r.dt): _text(r.dd) for r in soup.select(".govuk-summary-list__row")}
    assert status["Status"] == "Signed off"
    with app.app_context():
        return_ = get_return(LEEDS)
        assert (return_.status, return_.signed_off_by_id) == (
            "signed_off",
            people[Role.COUNCIL_APPROVER].id,
        )
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(ReturnSnapshot)
                .where(ReturnSnapshot.return_id == return_.id)
            )
            == 1
        )

    empty = post(approver, f"{OVERVIEW}/reopen", {"reason": "  "})
    assert empty.status_code == 422
    assert _error_summary(page(empty)) == ["Enter why the return is being reopened"]
    assert (
        post(approver, f"{OVERVIEW}/reopen", {"reason": "The board asked about A05"}).status_code
        == 302
    )
    soup = page(editor.get(OVERVIEW))
    inset = _text(soup.select_one(".govuk-inset-text"))
    assert "reopened this return" in inset and "The board asked about A05" in inset
    status = {_text(r.dt): _text(r.dd) for r in soup.select(".govuk-summary-list__row")}
    assert status["Status"] == "Draft"
    assert status["Reopened because"] == "The board asked about A05"


def test_the_approver_sends_a_return_back_with_comments(app, clients, page):
    open_period(app)
    assess_all(app, LEEDS)
    submit(app, LEEDS)
    approver = clients(Role.COUNCIL_APPROVER)

    missing = post(approver, f"{OVERVIEW}/send-back", {"comment": ""})
    assert missing.status_code == 422
    assert _error_summary(page(missing)) == ["Enter what the editors need to change"]
    assert (
        post(approver, f"{OVERVIEW}/send-back", {"comment": "Check A01 narratives"}).status_code
        == 302
    )

    soup = page(clients(Role.COUNCIL_EDITOR).get(OVERVIEW))
    inset = _text(soup.select_one(".govuk-inset-text"))
    assert "sent back this return" in inset and "Check A01 narratives" in inset
    with app.app_context():
        assert get_return(LEEDS).status == "draft"


def test_the_sign_off_page_does_not_offer_the_button_to_the_person_who_submitted(app, page):
    open_period(app)
    assess_all(app, LEEDS)
    with app.app_context():
        leeds = db.session.scalar(select(Council).where(Council.gss_code == LEEDS))
        both = make_user(
            email="both@example.org",
            memberships=[(Role.COUNCIL_EDITOR, leeds), (Role.COUNCIL_APPROVER, leeds)],
            mfa=True,
        )
    client = signed_in_client(app, both)
    assert post(client, f"{OVERVIEW}/submit").status_code == 302

    overview = page(client.get(OVERVIEW))
    assert not overview.find("a", string=lambda s: s and s.strip() == "Sign off")
    soup = page(client.get(f"{OVERVIEW}/sign-off"))
    assert not _forms(soup)
    refusal = "You submitted this return, so another approver must sign it off"
    assert refusal in _text(soup.select_one("main"))

    response = post(client, f"{OVERVIEW}/sign-off")
    assert response.status_code == 302
    flash = page(client.get(response.headers["Location"])).select_one(".govuk-notification-banner")
    assert refusal in _text(flash)
    with app.app_context():
        assert get_return(LEEDS).status == "submitted"
        assert not db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "return.sign_off")
        )


def test_signing_off_a_draft_changes_nothing(app, clients, page):
    open_period(app)
    approver = clients(Role.COUNCIL_APPROVER)

    soup = page(approver.get(f"{OVERVIEW}/sign-off"))
    assert not _forms(soup)
    response = post(approver, f"{OVERVIEW}/sign-off")
    assert response.status_code == 302
    flash = page(approver.get(response.headers["Location"])).select_one(
        ".govuk-notification-banner"
    )
    assert "Only a submitted return can be signed off" in _text(flash)
    with app.app_context():
        assert get_return(LEEDS).status == "draft"


# -- history and navigation -------------------------------------------------------------------


def test_history_shows_each_quarter_with_direction_and_who(app, clients, page, two_quarters):
    soup = page(clients(Role.COUNCIL_VIEWER).get(f"{BASE}/history/A01.S01"))

    assert _text(soup.h1).startswith("Bring local partners together")
    assert _text(soup.select_one(".govuk-caption-l")).endswith("History of action A01.S01")
    rows = [[_text(c) for c in tr.select("th, td")] for tr in soup.select("tbody tr")]
    assert [row[0] for row in rows] == [
        f"{LABEL}: action A01.S01 Draft",
        f"{PREVIOUS_LABEL}: action A01.S01 Signed off",
    ]
    assert rows[0][1:5] == ["Implementing", "RAG rating Green", "↑ Improved", "Live"]
    assert rows[1][1:5] == [
        "Planning",
        "RAG rating Amber",
        "No earlier quarter",
        "Scoping with partners",
    ]
    assert rows[0][5].startswith("Set-up Person, ")


def test_the_returns_menu_item_leads_to_the_current_return(app, clients, page):
    open_period(app)
    soup = page(clients(Role.COUNCIL_EDITOR).get("/"))
    link = next(a for a in soup.select("a.govuk-service-navigation__link") if _text(a) == "Returns")
    assert link["href"] == f"{BASE}/current"
    response = clients(Role.COUNCIL_EDITOR).get(link["href"])
    assert response.headers["Location"] == OVERVIEW

    regional = page(clients(Role.REGIONAL_MEMBER).get("/"))
    assert "Returns" not in [_text(a) for a in regional.select("a.govuk-service-navigation__link")]


def test_current_goes_to_the_list_when_there_is_no_return(app, clients):
    response = clients(Role.COUNCIL_EDITOR).get(f"{BASE}/current")
    assert response.headers["Location"] == f"{BASE}/"


# -- review state -------------------------------------------------------------------------------


def _review_counts(app) -> dict[str, int]:
    """Review state → how many of Leeds's Q3 assessments are in it, straight from the table."""
    with app.app_context():
        rows = db.session.scalars(
            select(Assessment).where(Assessment.return_id == get_return(LEEDS).id)
        ).all()
        updated = sum(1 for a in rows if not a.is_carried_forward and a.updated_at is not None)
        confirmed = sum(
            1
            for a in rows
            if a.confirmed_at is not None and (a.is_carried_forward or not a.updated_at)
        )
        return {
            "Not yet reviewed": len(rows) - updated - confirmed,
            "Confirmed unchanged": confirmed,
            "Updated": updated,
        }


def test_the_overview_counts_each_review_state_as_the_database_holds_it(
    app, clients, page, two_quarters
):
    confirm_unchanged(app, LEEDS, ["A01.S04", "A01.M02"])
    soup = page(clients(Role.COUNCIL_EDITOR).get(OVERVIEW))

    shown = dict(_text(li).split(": ") for li in soup.select("#review-states li"))
    expected = _review_counts(app)
    assert {k: int(v) for k, v in shown.items()} == expected
    assert expected == {
        "Not yet reviewed": TRACKABLE - 6,
        "Confirmed unchanged": 2,
        "Updated": 4,
    }
    assert _text(soup.select_one("#progress")) == f"6 of {TRACKABLE} actions reviewed this quarter"
    assert _text(soup.select_one("#kinds")) == (
        "This return covers 114 roadmap actions and 26 actions on barriers and enablers."
    )
    assert "Every action is" not in _text(soup)
    assert "Confirmed unchanged" in _row(soup, "A01.S04")[0]
    # Filtering by review state lists exactly those actions.
    filtered = page(clients(Role.COUNCIL_EDITOR).get(f"{OVERVIEW}?review=confirmed"))
    listed = [row["id"].removeprefix("action-") for row in filtered.select("tr[id^=action-]")]
    assert listed == ["A01.S04", "A01.M02"]


def test_submitting_with_unreviewed_actions_is_refused_and_nothing_changes(
    app, clients, page, two_quarters
):
    editor = clients(Role.COUNCIL_EDITOR)
    check = page(editor.get(f"{OVERVIEW}/check"))
    assert _text(check.h1) == f"Check your answers before submitting the {LABEL} return"
    blocked = _text(check.select_one("#blocked"))
    assert f"{TRACKABLE - 4} actions are not yet reviewed" in blocked
    assert check.select_one("#blocked a")["href"] == f"{OVERVIEW}?review=not_reviewed#results"
    assert not check.find("button", string=lambda s: s and "Submit for sign-off" in s)
    # What changed and the exceptions are named by title, code beside.
    assert "A01.M01" in _text(check.select_one("#exceptions-red"))
    assert "A01.S03" in _text(check.select_one("#exceptions-worsened"))
    assert "A01.S01" in _text(check.select_one("#stage-changes"))

    response = post(editor, f"{OVERVIEW}/submit")
    assert response.status_code == 422
    soup = page(response)
    assert f"{TRACKABLE - 4} actions are not yet reviewed" in _text(soup.select_one("#unreviewed"))
    with app.app_context():
        assert get_return(LEEDS).status == "draft"
        with pytest.raises(services.ReturnError, match=f"{TRACKABLE - 4} actions are not yet"):
            services.submit_return(get_return(LEEDS), actor=db.session.get(User, people_id(app)))
        assert get_return(LEEDS).status == "draft"

    # Once every carried-forward action is confirmed, the check page offers the button.
    confirm_unchanged(app, LEEDS)
    check = page(editor.get(f"{OVERVIEW}/check"))
    assert check.select_one("#blocked") is None
    assert check.find("button", string=lambda s: s and "Submit for sign-off" in s)
    assert post(editor, f"{OVERVIEW}/submit").status_code == 302
    with app.app_context():
        assert get_return(LEEDS).status == "submitted"


def people_id(app) -> int:
    with app.app_context():
        return make_member(app, Role.COUNCIL_EDITOR).id


def test_bulk_confirm_goes_through_a_confirmation_page_and_changes_only_the_chosen(
    app, clients, page, two_quarters
):
    editor = clients(Role.COUNCIL_EDITOR)
    overview = page(editor.get(OVERVIEW))
    form = overview.select_one("#confirm-form")
    assert form is not None
    # Only carried-forward actions nobody has reviewed can be chosen.
    assert overview.select_one('input[name=actions][value="A01.S04"]')
    assert not overview.select_one('input[name=actions][value="A01.S01"]')
    before = _review_counts(app)
    chosen = ["A01.S04", "A01.M02"]
    with app.app_context():
        versions = {f"version-{c}": str(get_assessment(LEEDS, c).version_id) for c in chosen}

    confirm_page = page(
        editor.get(f"{OVERVIEW}/confirm-unchanged", query_string={"actions": chosen, **versions})
    )
    assert _text(confirm_page.h1) == "Confirm 2 actions unchanged?"
    listed = [_text(tr.select_one("td a")) for tr in confirm_page.select("#chosen tbody tr")]
    assert listed == ["A01.S04", "A01.M02"]
    with app.app_context():
        title = db.session.scalar(select(Action.text).where(Action.code == "A01.S04"))
    assert _text(confirm_page.select_one('tr[id="chosen-A01.S04"] th')) == " ".join(title.split())
    assert _review_counts(app) == before  # nothing saved by looking

    response = post(editor, f"{OVERVIEW}/confirm-unchanged", {"actions": chosen, **versions})
    assert response.status_code == 302
    after = _review_counts(app)
    assert after["Confirmed unchanged"] == 2
    assert after["Not yet reviewed"] == before["Not yet reviewed"] - 2
    with app.app_context():
        assert get_assessment(LEEDS, "A01.S04").confirmed_at is not None
        assert get_assessment(LEEDS, "A01.M03").confirmed_at is None
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "assessment.confirm")
        ).all()
        assert sorted(e.after["action"] for e in events) == sorted(chosen)


def test_viewers_cannot_confirm_and_a_submitted_return_cannot_be_confirmed(
    app, clients, two_quarters
):
    viewer = clients(Role.COUNCIL_VIEWER)
    assert (
        post(viewer, f"{OVERVIEW}/confirm-unchanged", {"actions": ["A01.S04"]}).status_code == 404
    )
    with app.app_context():
        assert get_assessment(LEEDS, "A01.S04").confirmed_at is None


def test_red_or_amber_without_a_narrative_is_refused(app, clients, page):
    open_period(app)
    editor = clients(Role.COUNCIL_EDITOR)
    with app.app_context():
        version = get_assessment(LEEDS, "A01.S01").version_id
    response = post(
        editor,
        f"{OVERVIEW}/actions/A01.S01",
        {"stage": "planning", "rag": "red", "narrative": "", "version": str(version)},
    )
    assert response.status_code == 422
    assert "Enter a narrative: Red and Amber actions need one" in _error_summary(page(response))
    with app.app_context():
        assert get_assessment(LEEDS, "A01.S01").stage is None
        with pytest.raises(services.AssessmentInvalid) as refused:
            services.validate_assessment({"stage": "implementing", "rag": "amber"})
        assert refused.value.errors["narrative"] == (
            "Enter a narrative: Red and Amber actions need one"
        )


def test_a_target_period_already_passed_is_flagged(app, clients, page):
    open_period(app)
    assess(
        app,
        LEEDS,
        ["A01.S01"],
        {
            "stage": "planning",
            "rag": "green",
            "target_stage": "embedded",
            "target_period": "2025-26 Q1",
        },
    )
    assess(app, LEEDS, ["A01.S02"], {"stage": "embedded", "target_period": "2026-27 Q1"})
    editor = clients(Role.COUNCIL_EDITOR)
    soup = page(editor.get(OVERVIEW))
    assert "Target date passed" in _row(soup, "A01.S01")[0]
    assert "Target date passed" not in _row(soup, "A01.S02")[0]
    check = page(editor.get(f"{OVERVIEW}/check"))
    assert "A01.S01" in _text(check.select_one("#exceptions-target-passed"))
    assert "A01.S02" not in _text(check.select_one("#exceptions-target-passed"))
    action = page(editor.get(f"{OVERVIEW}/actions/A01.S01"))
    assert "Target date passed" in _text(action)
