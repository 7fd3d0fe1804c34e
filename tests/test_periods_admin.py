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
from tracker import clock
from tracker.extensions import db
from tracker.models import Assessment, AuditEvent, Period, Return, ReturnStatus, Role
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
    q4, q3 = period_id(app, "2025-26 Q4"), period_id(app, "2025-26 Q3")
    assert links == [
        f"{PERIODS}/{q4}",
        f"{PERIODS}/{q4}/open",
        f"{PERIODS}/{q3}",
        f"{PERIODS}/{q3}/close",
    ]


def test_the_list_with_no_periods(app, admin, page):
    assert "There are no periods yet." in page(admin.get(PERIODS)).get_text()


# -- creating -------------------------------------------------------------------------------------


def test_the_form_suggests_the_next_quarter(app, admin, page, monkeypatch):
    monkeypatch.setattr(clock, "utcnow", lambda: datetime(2026, 5, 14, 10, 0))
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


# -- closing before the due date ------------------------------------------------------------------


def close_path(app, label: str = "2025-26 Q3") -> str:
    return f"{PERIODS}/{period_id(app, label)}/close"


def return_counts(app) -> dict[str, int]:
    """Returns by status, straight from the database."""
    with app.app_context():
        return {
            status: count
            for status, count in db.session.execute(
                select(Return.status, func.count()).group_by(Return.status)
            )
        }


def test_closing_a_national_period_early_names_the_due_date_and_the_counts(
    app, admin, page, monkeypatch
):
    """All 153 councils: 9 signed off, 9 submitted and 135 still drafts."""
    with app.app_context():
        period = create_period("2026-27 Q3", date(2027, 1, 31), actor=None)
        periods.open_period(period, actor=None)
        ids = list(db.session.scalars(select(Return.id).order_by(Return.id)))
        for number, return_id in enumerate(ids[:18]):
            db.session.get(Return, return_id).status = (
                ReturnStatus.SIGNED_OFF if number % 2 else ReturnStatus.SUBMITTED
            )
        db.session.commit()
    monkeypatch.setattr(periods, "uk_today", lambda: date(2027, 1, 6))
    path = close_path(app, "2026-27 Q3")
    html = page(admin.get(path))
    counts = return_counts(app)
    assert counts == {"draft": 135, "submitted": 9, "signed_off": 9}
    assert html.select_one("#early").get_text(" ", strip=True) == (
        f"2026-27 Q3 is due on 31 January 2027, 25 days from now. {counts['draft']} of "
        f"{sum(counts.values())} returns are still drafts and {counts['submitted']} are waiting "
        "for sign-off. Closing it now makes every return read-only."
    )
    assert [li.get_text(strip=True) for li in html.select("main ul.govuk-list--bullet li")] == [
        "9 of 153 signed off",
        "9 of 153 submitted and waiting for sign-off",
        "135 of 153 still drafts",
    ]
    box = html.select_one("input[type=checkbox][name=understand]")
    assert box is not None
    assert (
        html.select_one(f"label[for={box['id']}]").get_text(strip=True).startswith("I understand")
    )


def test_closing_early_without_the_box_ticked_is_an_error_and_changes_nothing(
    app, admin, page, monkeypatch
):
    with app.app_context():
        open_small_period("2025-26 Q3")
        db.session.scalar(
            select(Return).where(Return.council_id == council_by_code(LEEDS).id)
        ).status = ReturnStatus.SUBMITTED
        db.session.commit()
    monkeypatch.setattr(periods, "uk_today", lambda: date(2026, 1, 6))
    before = return_counts(app)
    path = close_path(app)

    response = post(admin, path)
    assert response.status_code == 200
    html = page(response)
    assert error_summary(html) == [
        "Tick the box to confirm that you want to close 2025-26 Q3 before it is due"
    ]
    assert html.title.get_text().startswith("Error: Close 2025-26 Q3")
    with app.app_context():
        assert db.session.scalar(select(Period.status)) == "open"
        assert db.session.scalar(select(Period.closed_at)) is None
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "period.close")
            )
            == 0
        )
    assert return_counts(app) == before

    response = post(admin, path, {"understand": "y"})
    assert response.status_code == 302
    assert "2025-26 Q3 is closed" in page(admin.get(PERIODS)).get_text()
    with app.app_context():
        assert db.session.scalar(select(Period.status)) == "closed"
        assert db.session.scalar(
            select(AuditEvent.after).where(AuditEvent.action == "period.close")
        ) == {
            "status": "closed",
            "closed_early": True,
            "closes_on": "2026-01-31",
            "drafts": 2,
            "waiting_for_sign_off": 1,
        }
    assert return_counts(app) == before


def test_after_the_due_date_closing_shows_the_counts_and_needs_no_box(
    app, admin, page, monkeypatch
):
    with app.app_context():
        open_small_period("2025-26 Q3")
    monkeypatch.setattr(periods, "uk_today", lambda: date(2026, 2, 3))
    path = close_path(app)
    html = page(admin.get(path))
    assert html.select_one("#due").get_text(strip=True) == (
        "2025-26 Q3 was due on 31 January 2026, 3 days ago."
    )
    assert html.select_one("#early") is None
    assert html.select_one("input[name=understand]") is None
    assert "3 of 3 still drafts" in html.get_text()
    assert post(admin, path).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Period.status)) == "closed"


# -- the period's page, reopening ------------------------------------------------------------------


def period_path(app, label: str = "2025-26 Q3") -> str:
    return f"{PERIODS}/{period_id(app, label)}"


def summary_rows(page) -> dict[str, str]:
    return {
        row.select_one(".govuk-summary-list__key").get_text(strip=True): row.select_one(
            ".govuk-summary-list__value"
        ).get_text(" ", strip=True)
        for row in page.select(".govuk-summary-list__row")
    }


def close_small_period(monkeypatch) -> None:
    """2025-26 Q3 for Leeds (signed off), Wakefield (submitted) and Cornwall (draft), closed
    after its due date. Call it in an app context."""
    open_small_period("2025-26 Q3")
    for code, status in ((LEEDS, ReturnStatus.SIGNED_OFF), (WAKEFIELD, ReturnStatus.SUBMITTED)):
        db.session.scalar(
            select(Return).where(Return.council_id == council_by_code(code).id)
        ).status = status
    monkeypatch.setattr(periods, "uk_today", lambda: date(2026, 2, 3))
    periods.close_period(db.session.scalar(select(Period)), actor=None)
    db.session.commit()


def test_reopening_a_period_with_a_reason(app, admin, page, monkeypatch):
    with app.app_context():
        close_small_period(monkeypatch)
        before = dict(db.session.execute(select(Return.id, Return.status)).all())
    path = f"{period_path(app)}/reopen"
    html = page(admin.get(path))
    assert html.h1.get_text(strip=True) == "Reopen 2025-26 Q3?"
    assert [li.get_text(" ", strip=True) for li in html.select("main ul li")] == [
        "1 of 3 still drafts: editors can change and submit them again",
        "1 of 3 submitted and waiting for sign-off: approvers can sign them off or send them back",
        "1 of 3 signed off: they stay signed off",
    ]

    for reason, message in (
        ("  ", "Enter why you are reopening the period"),
        ("x" * 1001, "The reason must be 1,000 characters or fewer"),
    ):
        response = post(admin, path, {"reason": reason})
        assert response.status_code == 200
        assert error_summary(page(response)) == [message]
        with app.app_context():
            assert db.session.scalar(select(Period.status)) == "closed"

    response = post(admin, path, {"reason": "Cornwall's return was lost in a power cut."})
    assert response.status_code == 302
    assert response.headers["Location"] == period_path(app)
    html = page(admin.get(period_path(app)))
    assert "2025-26 Q3 is open again" in html.get_text()
    assert summary_rows(html)["Status"] == "Open"
    history = rows(html.select("table")[-1])
    assert history[-1][1:] == [
        "Reopened",
        "Test Person",
        "Cornwall's return was lost in a power cut.",
    ]
    assert [row[1] for row in history] == ["Created", "Opened", "Closed", "Reopened"]
    with app.app_context():
        assert db.session.scalar(select(Period.status)) == "open"
        assert dict(db.session.execute(select(Return.id, Return.status)).all()) == before
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "period.reopen"))
        assert event.after == {
            "status": "open",
            "reason": "Cornwall's return was lost in a power cut.",
        }
        assert event.actor_id is not None


def test_an_open_period_cannot_be_reopened(app, admin, page):
    with app.app_context():
        open_small_period("2025-26 Q3")
    path = f"{period_path(app)}/reopen"
    assert "only a closed period can be reopened" in page(admin.get(path)).get_text()
    response = post(admin, path, {"reason": "Why not"}, token_from=NEW)
    assert response.status_code == 302
    assert "2025-26 Q3 is not closed" in page(admin.get(period_path(app))).get_text()
    with app.app_context():
        assert db.session.scalar(select(Period.status)) == "open"


def test_the_list_offers_to_reopen_a_closed_period(app, admin, page, monkeypatch):
    with app.app_context():
        close_small_period(monkeypatch)
    links = [a["href"] for a in page(admin.get(PERIODS)).select("tbody a")]
    assert links == [period_path(app), f"{period_path(app)}/reopen"]


# -- who has not submitted, and the reminder ------------------------------------------------------


@pytest.fixture
def waiting(app):
    """2025-26 Q3 open: Wakefield submitted; Leeds (two joined editors, a disabled one, a viewer)
    and Cornwall (one editor) still drafts. Leeds has reviewed two actions."""
    with app.app_context():
        leeds, cornwall = council_by_code(LEEDS), council_by_code(CORNWALL)
        make_user(email="ed@leeds.example", memberships=[(Role.COUNCIL_EDITOR, leeds)])
        make_user(email="ed2@leeds.example", memberships=[(Role.COUNCIL_EDITOR, leeds)])
        make_user(email="viewer@leeds.example", memberships=[(Role.COUNCIL_VIEWER, leeds)])
        make_user(
            email="gone@leeds.example", memberships=[(Role.COUNCIL_EDITOR, leeds)], active=False
        )
        make_user(email="ed@cornwall.example", memberships=[(Role.COUNCIL_EDITOR, cornwall)])
        make_user(
            email="ed@wakefield.example",
            memberships=[(Role.COUNCIL_EDITOR, council_by_code(WAKEFIELD))],
        )
        open_small_period("2025-26 Q3")
        db.session.scalar(
            select(Return).where(Return.council_id == council_by_code(WAKEFIELD).id)
        ).status = ReturnStatus.SUBMITTED
        leeds_return = db.session.scalar(select(Return).where(Return.council_id == leeds.id))
        for assessment in leeds_return.assessments[:2]:
            assessment.stage, assessment.is_carried_forward = "embedded", False
        db.session.commit()


def test_the_period_page_lists_the_councils_that_have_not_submitted_by_region(
    app, admin, page, waiting
):
    html = page(admin.get(period_path(app)))
    assert html.h1.get_text(strip=True) == "2025-26 Q3"
    assert html.select_one(".govuk-caption-xl").get_text(strip=True) == "October to December 2025"
    assert summary_rows(html)["Returns"] == (
        "3 returns: 0 signed off, 1 waiting for sign-off, 2 still drafts"
    )
    tables = html.select("table")[:-1]  # the last is the history
    assert [t.caption.get_text(strip=True) for t in tables] == [
        "South West: 1 council",
        "Yorkshire and the Humber: 1 council",
    ]
    with app.app_context():
        actions = db.session.scalar(
            select(func.count())
            .select_from(Assessment)
            .join(Return, Assessment.return_id == Return.id)
            .where(Return.council_id == council_by_code(LEEDS).id)
        )
    assert [rows(t) for t in tables] == [
        [["Cornwall Council", f"0 of {actions}", "1"]],
        [["Leeds City Council", f"2 of {actions}", "2"]],
    ]
    assert html.select_one("form[action$='/remind'] button").get_text(strip=True) == (
        "Send a reminder now"
    )


def test_a_reminder_goes_to_the_editors_of_councils_that_have_not_submitted_once_an_hour(
    app, admin, page, waiting
):
    path = f"{period_path(app)}/remind"
    response = post(admin, path, token_from=period_path(app))
    assert response.status_code == 302 and response.headers["Location"] == period_path(app)
    html = page(admin.get(period_path(app)))
    assert "Reminder sent to 3 people in 2 councils" in html.get_text()
    assert sorted(m["To"] for m in period_mail(app)) == [
        "ed2@leeds.example",
        "ed@cornwall.example",
        "ed@leeds.example",
    ]
    message = latest_mail(app, "ed@cornwall.example")
    assert message["Subject"] == "2025-26 Q3 return for Cornwall was due 31 January 2026"
    assert "was due on 31 January 2026. It is still a draft." in mail_body(message)
    # The button is gone for an hour, and pressing it anyway sends nothing.
    assert html.select_one("form[action$='/remind']") is None
    assert "You can send another from" in html.get_text()
    response = post(admin, path, token_from=PERIODS)
    assert response.status_code == 302
    text = page(admin.get(period_path(app))).get_text()
    assert "A reminder for 2025-26 Q3 was sent less than an hour ago. You can send another in" in (
        text
    )
    assert len(period_mail(app)) == 3
    with app.app_context():
        remind = list(
            db.session.scalars(select(AuditEvent.after).where(AuditEvent.action == "period.remind"))
        )
    assert remind == [{"drafts": 2, "councils": 2, "people": 3}]
    history = rows(page(admin.get(period_path(app))).select("table")[-1])
    assert history[-1][1:] == ["Reminder sent", "Test Person", "To 3 people in 2 councils"]


def test_no_reminder_for_a_closed_period(app, admin, page, monkeypatch):
    with app.app_context():
        close_small_period(monkeypatch)
    html = page(admin.get(period_path(app)))
    assert html.select_one("form[action$='/remind']") is None
    post(admin, f"{period_path(app)}/remind", token_from=PERIODS)
    assert (
        "2025-26 Q3 is not open: there is nobody to remind"
        in page(admin.get(period_path(app))).get_text()
    )
    assert period_mail(app) == []


@pytest.mark.parametrize(
    "role",
    [Role.COUNCIL_EDITOR, Role.COUNCIL_APPROVER, Role.REGIONAL_MEMBER, Role.PANEL_MEMBER],
)
def test_only_national_administrators_reach_a_period_reopen_it_or_send_reminders(
    app, role, monkeypatch
):
    with app.app_context():
        close_small_period(monkeypatch)
        create_period("2025-26 Q4", date(2026, 4, 30), actor=None)
        periods.open_period(
            db.session.scalar(select(Period).where(Period.label == "2025-26 Q4")), actor=None
        )
        db.session.commit()
    client = signed_in_client(app, make_member(app, role))
    q3, q4 = period_path(app, "2025-26 Q3"), period_path(app, "2025-26 Q4")
    for path in (q3, f"{q3}/reopen", q4, f"{q4}/close"):
        assert client.get(path).status_code == 404
    token = csrf_token(client)
    for path, data in (
        (f"{q3}/reopen", {"reason": "Let me in"}),
        (f"{q4}/remind", {}),
        (f"{q4}/close", {"understand": "y"}),
    ):
        assert client.post(path, data={"csrf_token": token, **data}).status_code == 404
    with app.app_context():
        assert dict(db.session.execute(select(Period.label, Period.status)).all()) == {
            "2025-26 Q3": "closed",
            "2025-26 Q4": "open",
        }
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action.in_(["period.reopen", "period.remind"]))
            )
            == 0
        )
    assert period_mail(app) == []
