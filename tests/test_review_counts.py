"""Review state wherever progress is counted: the council's dashboard and the spreadsheet export
count reviewed actions as the database holds them, and never call an unreviewed one assessed."""

from __future__ import annotations

import csv
import io
from collections import Counter

import pytest

from tests.access_matrix import make_member, signed_in_client
from tests.returns_data import (
    LEEDS,
    PREVIOUS_LABEL,
    SLUG,
    assess,
    complete_quarter,
    confirm_unchanged,
    get_return,
    open_period,
)
from tracker.models import Role
from tracker.returns import services
from tracker.returns.spreadsheet import HEADINGS, build_csv


@pytest.fixture
def mixed_draft(app):
    """Leeds: last quarter finished; this quarter's draft has 3 actions updated, 4 confirmed
    unchanged and the rest not yet reviewed. Returns the database's count of each state."""
    complete_quarter(
        app, LEEDS, PREVIOUS_LABEL, {"stage": "planning", "rag": "amber", "narrative": "x"}
    )
    open_period(app)
    assess(app, LEEDS, ["A01.S01", "A01.S02", "A01.S03"], {"stage": "implementing", "rag": "green"})
    confirm_unchanged(app, LEEDS, ["A02.S01", "A02.S02", "A02.S03", "A02.M01"])
    with app.app_context():
        return Counter(services.review_state(a).value for a in get_return(LEEDS).assessments)


def test_the_dashboard_counts_reviewed_actions_as_the_database_does(app, page, mixed_draft):
    assert (mixed_draft["updated"], mixed_draft["confirmed"]) == (3, 4)
    client = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    soup = page(client.get(f"/councils/{LEEDS}/dashboard?period={SLUG}"))
    total = sum(mixed_draft.values())
    assert soup.select_one("#dashboard-reviewed").get_text(strip=True) == f"7 of {total} actions"
    text = " ".join(soup.select_one("main").get_text().split())
    assert f"{mixed_draft['not_reviewed']} not yet reviewed" in text
    assert "roadmap actions and" in text and "actions on barriers and enablers" in text


def test_the_export_says_each_actions_review_state(app, mixed_draft):
    with app.app_context():
        text = build_csv(get_return(LEEDS)).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == HEADINGS
    column = HEADINGS.index("Review this quarter")
    counted = Counter(row[column] for row in rows[1:])
    assert counted == {
        "Updated": mixed_draft["updated"],
        "Confirmed unchanged": mixed_draft["confirmed"],
        "Not yet reviewed": mixed_draft["not_reviewed"],
    }
