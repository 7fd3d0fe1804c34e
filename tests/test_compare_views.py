"""The dashboard pages: what each person sees, the period chooser, and the sharing choice."""

from __future__ import annotations

import json
import re

from sqlalchemy import func, select, update

from tests.access_matrix import council, make_member, post, signed_in_client
from tests.returns_data import LABEL, assess_all
from tests.test_compare_services import (
    BRADFORD,
    CORNWALL,
    IMPLEMENTING_AMBER,
    KIRKLEES,
    LEEDS,
    WAKEFIELD,
    YORK,
    submitted_quarter,
)
from tracker.domain.vocabulary import PREVENTION_TIER_LABELS
from tracker.extensions import db
from tracker.models import Action, AuditEvent, Council, Role

SLUG = LABEL.replace(" ", "-")
OTHERS = (WAKEFIELD, KIRKLEES, BRADFORD, YORK)


def _h1(page, response) -> str:
    return page(response).h1.get_text(" ", strip=True)


def _yorkshire_submitted(app, *, leeds_draft=True):
    submitted_quarter(app, {c: IMPLEMENTING_AMBER for c in OTHERS})
    if leeds_draft:
        assess_all(app, LEEDS, {"stage": "embedded"})


def test_council_editor_sees_own_draft_labelled_as_draft(app, page):
    _yorkshire_submitted(app)
    client = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    response = client.get(f"/councils/{LEEDS}/dashboard")
    assert response.status_code == 200
    html = page(response)
    assert _h1(page, response) == f"Dashboard: {LABEL}"
    assert "is a draft" in html.get_text()
    assert html.title.get_text(strip=True).startswith(f"Dashboard {LABEL} – Leeds – ")
    # Every chart: a heading, a summary sentence, its JSON figure and its data table.
    sections = html.select("section.tracker-chart")
    assert len(sections) == 8
    for section in sections:
        assert section.h2 and section.select_one(".tracker-chart__summary")
        figure = section.select_one('script[type="application/json"]')
        assert "data" in json.loads(figure.string)
        assert section.select_one("table caption")
    stage_table = html.select_one("#stage-mix table")
    embedded = [row.find_all("td")[3].get_text(strip=True) for row in stage_table.tbody("tr")]
    assert sum(int(n) for n in embedded) == 140
    # By prevention tier: each tier's total is its number of actions in the roadmap.
    tiers = {
        row.th.get_text(strip=True) if row.th else row.td.get_text(strip=True): int(
            row.find_all("td")[-1].get_text(strip=True)
        )
        for row in html.select_one("#prevention table").tbody("tr")
    }
    with app.app_context():
        expected = dict(
            db.session.execute(
                select(Action.prevention_tier, func.count())
                .where(Action.parent_id.is_(None))
                .group_by(Action.prevention_tier)
            ).all()
        )
    assert tiers == {PREVENTION_TIER_LABELS[k or "none"]: n for k, n in expected.items()}
    # The regional median: four other councils, all at Implementing.
    position = html.select_one("#position table tbody tr td:nth-of-type(2)").get_text()
    assert "100% (median of 4 councils)" in position
    scripts = [s.get("src", "") for s in html.find_all("script")]
    assert "/static/vendor/plotly.min.js" in scripts and "/static/js/charts.js" in scripts


def test_regional_member_never_sees_a_draft(app, page):
    _yorkshire_submitted(app)
    client = signed_in_client(app, make_member(app, Role.REGIONAL_MEMBER))
    response = client.get(f"/councils/{LEEDS}/dashboard")
    assert response.status_code == 200
    assert "Embedded" not in page(response).select_one("main").get_text().replace(
        "Implementing or Embedded", ""
    )
    assert "nothing to show" in page(response).get_text()
    # Asking for the draft's period by name is refused with a message, not shown.
    refused = client.get(f"/councils/{LEEDS}/dashboard?period={SLUG}")
    assert refused.status_code == 400
    assert "Select a quarter from the list" in page(refused).select_one(".govuk-error-summary").text
    wakefield = client.get(f"/councils/{WAKEFIELD}/dashboard?period={SLUG}")
    assert wakefield.status_code == 200 and "draft" not in page(wakefield).select_one("main").text


def test_a_council_that_does_not_share_is_hidden_from_its_region(app, page):
    _yorkshire_submitted(app)
    with app.app_context():
        db.session.execute(
            update(Council).where(Council.gss_code == YORK).values(shares_named_returns=False)
        )
        db.session.commit()
    client = signed_in_client(app, make_member(app, Role.REGIONAL_MEMBER))
    assert client.get(f"/councils/{YORK}/dashboard").status_code == 404
    response = client.get("/regions/yorkshire-and-the-humber/compare")
    assert response.status_code == 200
    main = page(response).select_one("main").get_text()
    assert not re.search(r"\bYork\b", main)
    assert "Wakefield" in main
    assert "1 council has chosen not to share" in main
    # One unnamed council beside three named ones: the regional figures are withheld.
    assert "Regional median" not in main


def test_region_page_shows_heatmap_table_and_median(app, page):
    _yorkshire_submitted(app, leeds_draft=False)
    client = signed_in_client(app, make_member(app, Role.REGIONAL_MEMBER))
    response = client.get(f"/regions/yorkshire-and-the-humber/compare?council={WAKEFIELD}")
    assert response.status_code == 200
    html = page(response)
    assert _h1(page, response) == f"Compare councils: {LABEL}"
    heatmap_rows = [tr.th.get_text(strip=True) for tr in html.select("#heatmap tbody tr")]
    assert heatmap_rows[-1] == "Regional median"
    assert {"Wakefield", "Kirklees", "Bradford", "York"} <= set(heatmap_rows)
    # Leeds has only a draft: named, but not submitted, and never counted.
    assert "Leeds" in heatmap_rows
    assert "4 of 5 councils" in html.select_one("#heatmap .tracker-chart__summary").text
    assert html.select_one("#council-position")
    assert html.select_one("#distribution table tbody tr")


def test_region_table_sorts_without_ranking_words(app, page):
    _yorkshire_submitted(app, leeds_draft=False)
    client = signed_in_client(app, make_member(app, Role.REGIONAL_MEMBER))
    response = client.get("/regions/yorkshire-and-the-humber/compare?sort=A01")
    assert response.status_code == 200
    text = page(response).get_text()
    for word in ("1st", "2nd", "3rd", "Rank", "League"):
        assert word not in text
    bad = client.get("/regions/yorkshire-and-the-humber/compare?sort=%27;drop")
    assert bad.status_code == 400
    assert "Select an order from the list" in page(bad).select_one(".govuk-error-summary").text


def test_unknown_period_gives_a_message_not_an_error(app, page):
    _yorkshire_submitted(app)
    client = signed_in_client(app, make_member(app, Role.NATIONAL_ADMIN))
    for query in ("period=2019-20-Q1", "period=nonsense", "period=2025-26-Q9"):
        response = client.get(f"/national?{query}")
        assert response.status_code == 400, query
        assert page(response).title.get_text(strip=True).startswith("Error: ")


def test_national_view_lists_regions_and_national_barriers(app, page):
    submitted_quarter(
        app,
        {
            c: {**IMPLEMENTING_AMBER, "barriers": ["legislation"]}
            for c in (WAKEFIELD, KIRKLEES, BRADFORD)
        },
    )
    client = signed_in_client(app, make_member(app, Role.NATIONAL_ADMIN))
    response = client.get("/national")
    assert response.status_code == 200
    html = page(response)
    rows = {tr.th.get_text(strip=True): tr for tr in html.select("#regions tbody tr")}
    assert "100% (" in rows["Yorkshire and the Humber"].get_text()  # all at Implementing
    assert "Not shown" in rows["South West"].get_text()
    barrier_rows = html.select("#national-barriers tbody tr")
    assert barrier_rows and barrier_rows[0].find_all("td")[2].get_text(strip=True) == "3"
    assert "Leeds" not in html.select_one("main").get_text()
    # Every region's link opens, those with no return in the quarter too.
    links = [a["href"] for a in html.select('main a[href^="/regions/"]')]
    assert len(links) >= 9
    assert {path: client.get(path).status_code for path in links} == dict.fromkeys(links, 200)


def _tier_table(html) -> dict[str, dict[str, int]]:
    """The prevention chart's table: tier → column → count."""
    table = html.select_one("#prevention table")
    head = [th.get_text(strip=True) for th in table.thead("th")][1:]
    rows = {}
    for row in table.tbody("tr"):
        name = row.th.get_text(strip=True)
        rows[name] = dict(
            zip(head, (int(td.get_text(strip=True)) for td in row("td")), strict=True)
        )
    return rows


def _tiers_in_database(app, codes: tuple[str, ...]) -> dict[str, int]:
    """Tier name → the submitted returns' assessments of ``codes``' councils with that tier."""
    from tracker.models import Assessment, Return

    with app.app_context():
        rows = db.session.execute(
            select(Action.prevention_tier, func.count())
            .join(Assessment, Assessment.action_id == Action.id)
            .join(Return, Return.id == Assessment.return_id)
            .join(Council, Council.id == Return.council_id)
            .where(Council.gss_code.in_(codes), Return.status == "submitted")
            .group_by(Action.prevention_tier)
        ).all()
    return {PREVENTION_TIER_LABELS[tier or "none"]: n for tier, n in rows}


def test_region_and_nation_show_progress_by_prevention_tier_from_the_returns(app, page):
    """The regional page and the national view pool the reporting councils' actions by
    prevention tier, as a council's dashboard shows its own: the totals are the submitted
    returns' assessments, and a draft (Leeds) is never counted."""
    _yorkshire_submitted(app)
    expected = _tiers_in_database(app, OTHERS)
    assert len(expected) >= 3
    regional = signed_in_client(app, make_member(app, Role.REGIONAL_MEMBER))
    html = page(regional.get("/regions/yorkshire-and-the-humber/compare"))
    table = _tier_table(html)
    assert {tier: row["Total"] for tier, row in table.items()} == expected
    # Every one of the four councils' actions is at Implementing.
    assert all(row["Implementing"] == row["Total"] for row in table.values())
    summary = html.select_one("#prevention .tracker-chart__summary").get_text(" ", strip=True)
    assert "Added up over the 4 councils reporting in Yorkshire and the Humber" in summary

    national = signed_in_client(app, make_member(app, Role.NATIONAL_ADMIN))
    html = page(national.get("/national"))
    assert {tier: row["Total"] for tier, row in _tier_table(html).items()} == expected
    assert "the 4 councils reporting in England" in html.select_one("#prevention").get_text()


def test_prevention_tiers_are_withheld_with_the_regions_other_figures(app, page):
    """Fewer than three councils reporting: the region's figures are not shown, and neither is
    its prevention chart."""
    submitted_quarter(app, {c: IMPLEMENTING_AMBER for c in (WAKEFIELD, KIRKLEES)})
    regional = signed_in_client(app, make_member(app, Role.REGIONAL_MEMBER))
    html = page(regional.get("/regions/yorkshire-and-the-humber/compare"))
    assert html.select_one("#prevention") is None
    national = signed_in_client(app, make_member(app, Role.NATIONAL_ADMIN))
    assert page(national.get("/national")).select_one("#prevention") is None


def test_approver_changes_sharing_and_it_is_audited(app, page):
    approver = make_member(app, Role.COUNCIL_APPROVER)
    client = signed_in_client(app, approver)
    response = client.get(f"/councils/{LEEDS}/sharing")
    assert response.status_code == 200
    refused = post(client, f"/councils/{LEEDS}/sharing", {})
    assert refused.status_code == 422
    assert "Select whether to share" in page(refused).select_one(".govuk-error-summary").text
    done = post(client, f"/councils/{LEEDS}/sharing", {"shares": "no"})
    assert done.status_code == 302
    with app.app_context():
        assert council(LEEDS).shares_named_returns is False
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "council.sharing"))
        assert event.before == {"shares_named_returns": True}
        assert event.after == {"shares_named_returns": False}
        assert event.actor_id == approver.id


def test_cornwall_people_cannot_see_yorkshire(app):
    _yorkshire_submitted(app)
    client = signed_in_client(app, make_member(app, Role.REGIONAL_MEMBER, "other_region"))
    assert client.get(f"/councils/{WAKEFIELD}/dashboard").status_code == 404
    assert client.get("/regions/yorkshire-and-the-humber/compare").status_code == 404
    assert client.get("/national").status_code == 404
    assert client.get(f"/councils/{CORNWALL}/dashboard").status_code == 200


def test_hostile_query_strings_never_cause_a_server_error(app):
    _yorkshire_submitted(app)
    client = signed_in_client(app, make_member(app, Role.NATIONAL_ADMIN))
    values = ["", "2025-26-Q3'--", "<script>alert(1)</script>", "2025-26-Q3" * 40, "../../etc", "é"]
    pages = [f"/councils/{WAKEFIELD}/dashboard", "/regions/yorkshire-and-the-humber/compare"]
    pages.append("/national")
    for path in pages:
        for name in ("period", "council", "sort"):
            for value in values:
                response = client.get(path, query_string={name: value})
                assert response.status_code in (200, 400), (path, name, value)
                assert "<script>alert" not in response.get_data(as_text=True)


def test_panel_members_and_strangers_get_404(app):
    _yorkshire_submitted(app)
    panel = signed_in_client(app, make_member(app, Role.PANEL_MEMBER))
    assert panel.get(f"/councils/{LEEDS}/dashboard").status_code == 404
    assert panel.get(f"/councils/{LEEDS}/sharing").status_code == 404
    editor = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR, "same_region"))
    assert editor.get(f"/councils/{LEEDS}/dashboard").status_code == 404
    assert editor.get("/regions/yorkshire-and-the-humber/compare").status_code == 404


def test_region_table_orders_by_a_share_highest_first(app, page):
    submitted_quarter(
        app,
        {
            WAKEFIELD: {"stage": "planning", "rag": "green"},
            KIRKLEES: {"stage": "embedded"},
            BRADFORD: IMPLEMENTING_AMBER,
            YORK: {"stage": "not_started"},
        },
    )
    client = signed_in_client(app, make_member(app, Role.REGIONAL_MEMBER))
    response = client.get("/regions/yorkshire-and-the-humber/compare?sort=all")
    names = [
        tr.th.get_text(" ", strip=True)
        for tr in page(response).select("#table-title ~ div tbody tr")
    ]
    assert names[:2] == ["Bradford dashboard", "Kirklees dashboard"]  # both 100%, by name
    assert names[-2:] == ["Leeds dashboard", "Regional median"]  # no return, then the median
    by_name = client.get("/regions/yorkshire-and-the-humber/compare?sort=council")
    named = [
        tr.th.get_text(" ", strip=True)
        for tr in page(by_name).select("#table-title ~ div tbody tr")
    ]
    assert named[0] == "Bradford dashboard" and named[-2] == "York dashboard"


def test_the_dashboard_counts_the_panels_comments_on_a_submitted_return(app, page):
    from tests.factories import get_user, make_user
    from tests.returns_data import get_return
    from tracker.models import Action
    from tracker.panels.services import add_comment, answer_comment

    submitted_quarter(app, {c: IMPLEMENTING_AMBER for c in (LEEDS, *OTHERS)})
    with app.app_context():
        leeds = council(LEEDS)
        member = make_user(memberships=[(Role.PANEL_MEMBER, leeds)])
        editor = make_user(memberships=[(Role.COUNCIL_EDITOR, leeds)])
        return_ = get_return(LEEDS)
        actions = db.session.scalars(select(Action).order_by(Action.code).limit(3)).all()
        comments = [
            add_comment(return_, action, f"Comment {n}", actor=get_user(member.id))
            for n, action in enumerate(actions)
        ]
        answer_comment(
            comments[0], "Done", actor=get_user(editor.id), is_you_said_we_did=True, change_made="X"
        )
        answer_comment(comments[1], "Noted", actor=get_user(editor.id))
        db.session.commit()
    client = signed_in_client(app, make_member(app, Role.COUNCIL_VIEWER))
    html = page(client.get(f"/councils/{LEEDS}/dashboard?period={SLUG}"))
    rows = {
        row.dt.get_text(strip=True): row.dd.get_text(" ", strip=True)
        for row in html.select(".govuk-summary-list__row")
    }
    assert rows["Panel comments"] == (
        "3 received: 2 answered, 1 awaiting an answer; 1 “you said, we did”; "
        "median answer time 0 working days; 0 overdue (aim: 20 working days)"
    )
