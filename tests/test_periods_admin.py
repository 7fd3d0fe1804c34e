"""Period administration pages: the list with its counts, creating, opening and closing."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from tests.access_matrix import csrf_token, make_member, signed_in_client
from tests.factories import make_user
from tests.helpers import latest_mail, mail_body, sent_mail
from tests.test_evidence_services import (
    CORNWALL,
    LEEDS,
    WAKEFIELD,
    council_by_code,
    open_small_period,
)
from tracker.extensions import db
from tracker.models import AuditEvent, Period, Return, ReturnStatus, Role
from tracker.returns import periods
from tracker.returns.periods import create_period

PERIODS = "/admin/periods"
NEW = f"{PERIODS}/new"


@pytest.fixture
def admin(app):
    return signed_in_client(app, make_member(app, Role.NATIONAL_ADMIN))


def period_id(app, label: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Period.id).where(Period.label == label))


def post(client, path: str, data: dict | None = None, *, token_from: str | None = None):
    return client.post(
        path, data={"csrf_token": csrf_token(client, token_from or path), **(data or {})}
    )


def period_mail(app) -> list:
    """Mail about periods (not the invitations the factories send)."""
    return [m for m in sent_mail(app) if "invited" not in m["Subject"].lower()]


def error_summary(page) -> list[str]:
    summary = page.select_one(".govuk-error-summary")
    return [a.get_text(strip=True) for a in summary.select("a")] if summary else []


def rows(page) -> list[list[str]]:
    return [
        [cell.get_text(" ", strip=True) for cell in row.select("th, td")]
        for row in page.select("tbody tr")
    ]


# -- the list -------------------------------------------------------------------------------------


def test_the_admin_index_links_to_periods(app, admin, page):
    html = page(admin.get("/admin/"))
    assert PERIODS in [a["href"] for a in html.select("main a")]


def test_the_list_counts_returns_from_one_grouped_query(app, admin, page):
    with app.app_context():
        open_small_period("2025-26 Q3")
        for code, status in ((LEEDS, ReturnStatus.SIGNED_OFF), (WAKEFIELD, ReturnStatus.SUBMITTED)):
            db.session.scalar(
                select(Return).where(Return.council_id == council_by_code(code).id)
            ).status = status
        create_period("2025-26 Q4", date(2026, 4, 30), actor=None)
        db.session.commit()
    html = page(admin.get(PERIODS))
    assert html.h1.get_text(strip=True) == "Periods"
    assert rows(html) == [
        [
            "2025-26 Q4 1 January 2026 to 31 March 2026",
            "30 April 2026",
            "Not yet open",
            "No returns yet",
            "Open 2025-26 Q4",
        ],
        [
            "2025-26 Q3 1 October 2025 to 31 December 2025",
            "31 January 2026",
            "Open",
            "2 of 3",
            "1 of 3",
            "Close 2025-26 Q3",
        ],
    ]
    links = [a["href"] for a in html.select("tbody a")]
    assert links == [
        f"{PERIODS}/{period_id(app, '2025-26 Q4')}/open",
        f"{PERIODS}/{period_id(app, '2025-26 Q3')}/close",
    ]


def test_the_list_with_no_periods(app, admin, page):
    assert "There are no periods yet." in page(admin.get(PERIODS)).get_text()


# -- creating -------------------------------------------------------------------------------------


def test_the_form_suggests_the_next_quarter(app, admin, page, monkeypatch):
    monkeypatch.setattr(periods, "utcnow", lambda: datetime(2026, 5, 14, 10, 0))
    html = page(admin.get(NEW))
    assert html.select_one("input[name=label]")["value"] == "2026-27 Q1"
    with app.app_context():
        create_period("2026-27 Q1", date(2026, 7, 31), actor=None)
        create_period("2026-27 Q4", date(2027, 4, 30), actor=None)
        db.session.commit()
    assert page(admin.get(NEW)).select_one("input[name=label]")["value"] == "2027-28 Q1"


def test_creating_a_period(app, admin, page):
    response = post(admin, NEW, {"label": " 2026-27 Q1 ", "closes_on": ["31", "7", "2026"]})
    assert response.status_code == 302 and response.headers["Location"] == PERIODS
    html = page(admin.get(PERIODS))
    assert "2026-27 Q1 is created" in html.get_text()
    with app.app_context():
        period = db.session.scalar(select(Period))
        assert (period.label, period.closes_on, period.status) == (
            "2026-27 Q1",
            date(2026, 7, 31),
            "upcoming",
        )
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "period.create"))
        assert event.after == {"label": "2026-27 Q1", "closes_on": "2026-07-31"}
        assert event.actor_id is not None


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"label": "", "closes_on": ["", "", ""]},
            ["Enter the period", "Enter the date returns are due"],
        ),
        (
            {"label": "Q1 2026", "closes_on": ["31", "7", "2026"]},
            ["Enter a period like 2025-26 Q3"],
        ),
        (
            {"label": "2026-28 Q1", "closes_on": ["31", "7", "2026"]},
            ["2026-28 is not a financial year"],
        ),
        (
            {"label": "2026-27 Q5", "closes_on": ["31", "7", "2026"]},
            ["Enter a period like 2025-26 Q3"],
        ),
        ({"label": "2026-27 Q1", "closes_on": ["31", "13", "2026"]}, ["Enter a real date"]),
        ({"label": "2026-27 Q1", "closes_on": ["31", "", "2026"]}, ["Enter a real date"]),
        (
            {"label": "2026-27 Q1", "closes_on": ["31", "3", "2026"]},
            [
                "The date returns are due must be on or after 1 April 2026, the first day of "
                "the quarter"
            ],
        ),
    ],
)
def test_creating_errors_are_in_govuk_words(app, admin, page, data, expected):
    response = post(admin, NEW, data)
    assert response.status_code == 200
    html = page(response)
    assert error_summary(html) == expected
    assert html.title.get_text().startswith("Error: Create a period")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Period)) == 0


def test_a_period_cannot_be_created_twice(app, admin, page):
    with app.app_context():
        create_period("2026-27 Q1", date(2026, 7, 31), actor=None)
        db.session.commit()
    response = post(admin, NEW, {"label": "2026-27 Q1", "closes_on": ["31", "7", "2026"]})
    assert error_summary(page(response)) == ["2026-27 Q1 already exists"]


# -- opening --------------------------------------------------------------------------------------


def test_the_open_page_says_what_will_happen(app, admin, page):
    with app.app_context():
        open_small_period("2025-26 Q3", codes=[LEEDS, WAKEFIELD])
        create_period("2025-26 Q4", date(2026, 4, 30), actor=None)
        db.session.commit()
    html = page(admin.get(f"{PERIODS}/{period_id(app, '2025-26 Q4')}/open"))
    assert html.h1.get_text(strip=True) == "Open 2025-26 Q4?"
    items = [li.get_text(" ", strip=True) for li in html.select("main ul.govuk-list--bullet li")]
    assert items[0] == "153 councils get a draft return of 140 actions"
    assert items[1] == (
        "2 of them have their answers carried forward from their latest return; "
        "151 start with every action unassessed"
    )
    assert "due on 30 April 2026" in items[2]


def test_opening_a_period_gives_drafts_and_emails_every_councils_editors(app, admin, page):
    with app.app_context():
        leeds, cornwall = council_by_code(LEEDS), council_by_code(CORNWALL)
        make_user(email="ed@leeds.example", memberships=[(Role.COUNCIL_EDITOR, leeds)])
        make_user(email="ed2@leeds.example", memberships=[(Role.COUNCIL_EDITOR, leeds)])
        make_user(email="ed@cornwall.example", memberships=[(Role.COUNCIL_EDITOR, cornwall)])
        make_user(email="viewer@leeds.example", memberships=[(Role.COUNCIL_VIEWER, leeds)])
        make_user(
            email="gone@leeds.example", memberships=[(Role.COUNCIL_EDITOR, leeds)], active=False
        )
        create_period("2026-27 Q1", date(2026, 7, 31), actor=None)
        db.session.commit()
    path = f"{PERIODS}/{period_id(app, '2026-27 Q1')}/open"
    response = post(admin, path)
    assert response.status_code == 302
    html = page(admin.get(PERIODS))
    assert "2026-27 Q1 is open. 153 councils have a draft return and 3 editors were emailed" in (
        html.get_text()
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Return)) == 153
        assert db.session.scalar(select(Period.status)) == "open"
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "period.open")
            )
            == 1
        )
    recipients = sorted(m["To"] for m in period_mail(app))
    assert recipients == ["ed2@leeds.example", "ed@cornwall.example", "ed@leeds.example"]
    message = latest_mail(app, "ed@leeds.example")
    assert message["Subject"] == "2026-27 Q1 return open for Leeds"
    body = mail_body(message)
    assert "submit the return by 31 July 2026" in body
    assert f"http://127.0.0.1:5000/councils/{LEEDS}/returns/2026-27-Q1" in body


def test_opening_twice_says_it_is_open(app, admin, page):
    with app.app_context():
        open_small_period("2025-26 Q3", codes=[LEEDS])
    path = f"{PERIODS}/{period_id(app, '2025-26 Q3')}/open"
    assert "2025-26 Q3 is already open." in page(admin.get(path)).get_text()
    response = post(admin, path, token_from=PERIODS + "/new")
    assert response.status_code == 302
    assert "2025-26 Q3 is already open" in page(admin.get(PERIODS)).get_text()
    assert period_mail(app) == []


# -- closing --------------------------------------------------------------------------------------


def test_closing_a_period(app, admin, page):
    with app.app_context():
        open_small_period("2025-26 Q3")
        db.session.scalar(
            select(Return).where(Return.council_id == council_by_code(LEEDS).id)
        ).status = ReturnStatus.SIGNED_OFF
        db.session.commit()
    path = f"{PERIODS}/{period_id(app, '2025-26 Q3')}/close"
    html = page(admin.get(path))
    assert html.h1.get_text(strip=True) == "Close 2025-26 Q3?"
    assert [li.get_text(strip=True) for li in html.select("main ul.govuk-list--bullet li")] == [
        "1 of 3 signed off",
        "0 of 3 submitted and waiting for sign-off",
        "2 of 3 still drafts",
    ]
    assert post(admin, path).status_code == 302
    assert "2025-26 Q3 is closed" in page(admin.get(PERIODS)).get_text()
    with app.app_context():
        assert db.session.scalar(select(Period.status)) == "closed"
        assert db.session.scalar(
            select(AuditEvent.after).where(AuditEvent.action == "period.close")
        ) == {"status": "closed"}


def test_an_upcoming_period_cannot_be_closed(app, admin, page):
    with app.app_context():
        create_period("2026-27 Q1", date(2026, 7, 31), actor=None)
        db.session.commit()
    path = f"{PERIODS}/{period_id(app, '2026-27 Q1')}/close"
    assert "2026-27 Q1 is not open yet." in page(admin.get(path)).get_text()
    post(admin, path, token_from=NEW)
    assert "2026-27 Q1 is not open" in page(admin.get(PERIODS)).get_text()
    with app.app_context():
        assert db.session.scalar(select(Period.status)) == "upcoming"


def test_an_unknown_period_is_404(app, admin):
    assert admin.get(f"{PERIODS}/999/open").status_code == 404
    assert admin.get(f"{PERIODS}/999/close").status_code == 404


@pytest.mark.parametrize(
    "role",
    [Role.COUNCIL_EDITOR, Role.COUNCIL_APPROVER, Role.REGIONAL_MEMBER, Role.PANEL_MEMBER],
)
def test_only_national_administrators_reach_periods(app, role):
    with app.app_context():
        create_period("2026-27 Q1", date(2026, 7, 31), actor=None)
        db.session.commit()
    client = signed_in_client(app, make_member(app, role))
    identifier = period_id(app, "2026-27 Q1")
    for path in (PERIODS, NEW, f"{PERIODS}/{identifier}/open", f"{PERIODS}/{identifier}/close"):
        assert client.get(path).status_code == 404
    response = client.post(f"{PERIODS}/{identifier}/open", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 404
    with app.app_context():
        assert db.session.scalar(select(Period.status)) == "upcoming"
