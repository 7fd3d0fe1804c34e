"""Learning from peers: sharing practice on the assessment form, "Councils that have embedded
this" on the action page and the roadmap in practice, checked against the database."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import func, select, update

from tests.access_matrix import council, make_member, make_person, post, signed_in_client
from tests.returns_data import (
    CORNWALL,
    LABEL,
    LEEDS,
    SLUG,
    WAKEFIELD,
    assess_all,
    close_period,
    get_assessment,
    open_period,
    sign_off,
    submit,
)
from tests.test_roadmap_views import count_queries
from tracker.extensions import db
from tracker.models import (
    Action,
    Assessment,
    AuditEvent,
    Council,
    Period,
    Return,
    ReturnStatus,
    Role,
    Stage,
)
from tracker.returns import services
from tracker.returns.services import EDITABLE_FIELDS

ACTION = "A01.S01"
ACTION_PAGE = f"/roadmap/actions/{ACTION}"
SUMMARY = "/roadmap/in-practice"
YEAR_BEFORE = "2024-25 Q3"
#: three more councils, so that the summary has six and a named example leaves five unnamed
MORE = ("E08000034", "E08000032", "E08000033")
SIX = (LEEDS, WAKEFIELD, CORNWALL, *MORE)
LEEDS_NOTE = "Strengths-based conversations at the front door, with the ICB paying for two posts"
LEEDS_CONTACT = "Head of Prevention, Leeds City Council"


def _text(element) -> str:
    return " ".join(element.get_text(" ", strip=True).split())


def share(app, gss_code: str, code: str = ACTION, *, label: str = LABEL, note: str = LEEDS_NOTE):
    """Share practice on one action of the council's draft, through the service the form uses."""
    with app.app_context():
        assessment = get_assessment(gss_code, code, label)
        values = {name: getattr(assessment, name) for name in EDITABLE_FIELDS}
        editor = make_person(
            f"sharer-{secrets.token_hex(4)}@example.org",
            Role.COUNCIL_EDITOR,
            council=council(gss_code),
        )
        services.save_assessment(
            assessment,
            values
            | {"practice_shared": True, "practice_note": note, "practice_contact": LEEDS_CONTACT},
            actor=editor,
            expected_version=assessment.version_id,
        )
        db.session.commit()


def _quarter(app, label: str, councils, stage_by_council: dict[str, str], sharers=()):
    """Open ``label`` for ``councils``; give each council's actions its stage (Embedded when not
    given), let ``sharers`` share ACTION, submit every return."""
    with app.app_context():
        # open_period leaves only its councils active: bring back any an earlier quarter left out
        db.session.execute(
            update(Council).where(Council.gss_code.in_(councils)).values(is_active=True)
        )
        db.session.commit()
    open_period(app, label, only=councils)
    for gss_code in councils:
        stage = stage_by_council.get(gss_code, "embedded")
        values = (
            {"stage": stage, "rag": "green"}
            if stage in ("planning", "implementing")
            else {"stage": stage}
        )
        assess_all(app, gss_code, values, label=label)
    for gss_code in sharers:
        share(app, gss_code, label=label)
    for gss_code in councils:
        submit(app, gss_code, label)


@pytest.fixture
def reader(app):
    """A client signed in as an editor of Cornwall (another region): an officer reading peers."""
    return signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR, "other_region"))


# -- the assessment form --------------------------------------------------------------------


FORM_PAGE = f"/councils/{LEEDS}/returns/{SLUG}/actions/{ACTION}"


def test_sharing_needs_a_note_and_nothing_is_saved_without_one(app, page):
    open_period(app)
    editor = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    response = post(
        editor,
        FORM_PAGE,
        {"stage": "embedded", "version": "1", "practice_shared": "y", "practice_note": ""},
    )
    assert response.status_code == 422
    soup = page(response)
    assert "Enter how you did this" in _text(soup.select_one(".govuk-error-summary"))
    with app.app_context():
        saved = get_assessment(LEEDS, ACTION)
        assert saved.practice_shared is False
        assert saved.stage is None


def test_the_form_says_when_shared_practice_stays_inside_the_council(app, page):
    """A council that keeps its named returns to itself shows its practice to nobody outside."""
    open_period(app)
    editor = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    assert page(editor.get(FORM_PAGE)).select_one("#practice-private") is None
    with app.app_context():
        council(LEEDS).shares_named_returns = False
        db.session.commit()
    note = page(editor.get(FORM_PAGE)).select_one("#practice-private")
    assert note is not None and "shown only to your own council" in _text(note)


def test_a_note_too_long_or_with_control_characters_is_refused(app, page):
    open_period(app)
    editor = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    for data, message in (
        ({"practice_note": "x" * 1001}, "Practice note must be 1,000 characters or fewer"),
        ({"practice_note": "ok", "practice_contact": "y" * 201}, "Contact must be 200 characters"),
        ({"practice_note": "ok", "practice_contact": "Head\x07 of care"}, "control characters"),
    ):
        response = post(
            editor,
            FORM_PAGE,
            {"stage": "embedded", "version": "1", "practice_shared": "y", **data},
        )
        assert response.status_code == 422
        assert message in _text(page(response).select_one(".govuk-error-summary"))
    with app.app_context():
        saved = get_assessment(LEEDS, ACTION)
        assert (saved.practice_shared, saved.practice_note, saved.stage) == (False, "", None)


def test_sharing_is_saved_audited_and_carried_into_the_next_quarter(app, page):
    open_period(app, "2025-26 Q2")
    editor = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    path = f"/councils/{LEEDS}/returns/2025-26-Q2/actions/{ACTION}"
    response = post(
        editor,
        path,
        {
            "stage": "embedded",
            "version": "1",
            "practice_shared": "y",
            "practice_note": LEEDS_NOTE,
            "practice_contact": LEEDS_CONTACT,
        },
    )
    assert response.status_code == 302
    with app.app_context():
        saved = get_assessment(LEEDS, ACTION, "2025-26 Q2")
        assert (saved.practice_shared, saved.practice_note, saved.practice_contact) == (
            True,
            LEEDS_NOTE,
            LEEDS_CONTACT,
        )
        event = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "assessment.update", AuditEvent.object_id == str(saved.id))
            .order_by(AuditEvent.id.desc())
        ).first()
        assert event.after["practice_shared"] is True
        assert event.after["practice_note"] == LEEDS_NOTE
    # The answers list shows it to the council's own readers.
    assert LEEDS_NOTE in _text(page(editor.get(path)).find("main"))
    assess_all(app, LEEDS, label="2025-26 Q2")
    submit(app, LEEDS, "2025-26 Q2")
    sign_off(app, LEEDS, "2025-26 Q2")
    close_period(app, "2025-26 Q2")
    open_period(app)
    with app.app_context():
        carried = get_assessment(LEEDS, ACTION)
        assert carried.is_carried_forward
        assert (carried.practice_shared, carried.practice_note, carried.practice_contact) == (
            True,
            LEEDS_NOTE,
            LEEDS_CONTACT,
        )


# -- the action page ----------------------------------------------------------------------------


def _practice_section(soup):
    return soup.find("h2", id="councils-that-have-embedded-this")


def _shared_councils(soup) -> list[str]:
    return [_text(h) for h in soup.select(".tracker-shared-practice h3")]


def test_only_councils_that_opted_in_appear_with_how_long_embedded(app, page, reader):
    # Leeds has been Embedded for two submitted quarters and shares; Wakefield is Embedded and
    # does not share; Cornwall shares but is only Implementing.
    _quarter(app, "2025-26 Q2", (LEEDS, WAKEFIELD, CORNWALL), {CORNWALL: "implementing"})
    close_period(app, "2025-26 Q2")
    _quarter(app, LABEL, (LEEDS, WAKEFIELD, CORNWALL), {CORNWALL: "implementing"})
    with app.app_context():
        # Cornwall opted in on an Implementing action: never shown below Embedded.
        db.session.execute(
            update(Assessment)
            .where(Assessment.id == get_assessment(CORNWALL, ACTION).id)
            .values(practice_shared=True, practice_note="Not yet", practice_contact="x")
        )
        db.session.commit()
    # Leeds shares on its latest (submitted) return only, set after submission for brevity.
    with app.app_context():
        db.session.execute(
            update(Assessment)
            .where(Assessment.id == get_assessment(LEEDS, ACTION).id)
            .values(practice_shared=True, practice_note=LEEDS_NOTE, practice_contact=LEEDS_CONTACT)
        )
        db.session.commit()
    soup = page(reader.get(ACTION_PAGE))
    assert _practice_section(soup) is not None
    assert _shared_councils(soup) == ["Leeds City Council"]
    card = soup.select_one(f"#practice-{LEEDS}")
    assert LEEDS_NOTE in _text(card)
    assert LEEDS_CONTACT in _text(card)
    assert "Embedded since July to September 2025 — 2 quarters" in _text(card)
    main = _text(soup.find("main"))
    assert "Wakefield" not in main
    assert "Cornwall" not in main


def test_practice_in_a_draft_is_never_shown(app, page, reader):
    open_period(app)
    assess_all(app, LEEDS)
    share(app, LEEDS)
    soup = page(reader.get(ACTION_PAGE))
    assert _practice_section(soup) is not None
    assert _shared_councils(soup) == []
    assert "Leeds" not in _text(soup.find("main"))


@pytest.mark.parametrize("role", [None, Role.PANEL_MEMBER])
def test_anonymous_visitors_and_panel_members_see_no_shared_practice(app, page, client, role):
    open_period(app)
    assess_all(app, LEEDS)
    share(app, LEEDS)
    submit(app, LEEDS)
    if role is None:
        visitor = client
        assert visitor.get(SUMMARY).status_code == 302
    else:
        visitor = signed_in_client(app, make_member(app, role))
        assert visitor.get(SUMMARY).status_code == 404
    soup = page(visitor.get(ACTION_PAGE))
    assert _practice_section(soup) is None
    assert LEEDS_NOTE not in soup.get_text()


@pytest.mark.parametrize(
    "role", [Role.COUNCIL_VIEWER, Role.COUNCIL_APPROVER, Role.REGIONAL_MEMBER, Role.NATIONAL_ADMIN]
)
def test_officers_regions_and_the_nation_read_shared_practice(app, page, role):
    _quarter(app, LABEL, (LEEDS, WAKEFIELD, CORNWALL), {}, sharers=(LEEDS,))
    client = signed_in_client(app, make_member(app, role, "other_region"))
    assert _shared_councils(page(client.get(ACTION_PAGE))) == ["Leeds City Council"]
    assert client.get(SUMMARY).status_code == 200


# -- the roadmap in practice --------------------------------------------------------------------


def _row(soup, code: str) -> list[str]:
    row = soup.select_one(f'tr[id="action-{code}"]')
    assert row is not None, code
    return [_text(cell) for cell in row.select("th, td")]


def test_summary_counts_match_the_database_with_the_change_on_a_year_before(app, page, reader):
    # A year before: four councils, one at Implementing on every action (3 of 4 Embedded).
    _quarter(app, YEAR_BEFORE, SIX[:4], {CORNWALL: "implementing"})
    close_period(app, YEAR_BEFORE)
    # Now: six councils; Wakefield Planning, Cornwall Implementing, a draft never counted.
    _quarter(
        app,
        LABEL,
        SIX,
        {WAKEFIELD: "planning", CORNWALL: "implementing"},
        sharers=(LEEDS,),
    )
    with app.app_context():
        # One council sends its return back to draft: it is no longer counted.
        draft = db.session.scalar(
            select(Return)
            .join(Council)
            .join(Period)
            .where(Council.gss_code == MORE[2], Period.label == LABEL)
        )
        draft.status = ReturnStatus.DRAFT
        db.session.commit()
        period = db.session.scalar(select(Period).where(Period.label == LABEL))
        shared = [ReturnStatus.SUBMITTED, ReturnStatus.SIGNED_OFF]
        action_id = db.session.scalar(select(Action.id).where(Action.code == ACTION))
        base = (
            select(func.count())
            .select_from(Assessment)
            .join(Return)
            .where(
                Return.period_id == period.id,
                Return.status.in_(shared),
                Assessment.action_id == action_id,
            )
        )
        m = db.session.scalar(
            select(func.count())
            .select_from(Return)
            .where(Return.period_id == period.id, Return.status.in_(shared))
        )
        under = db.session.scalar(base.where(Assessment.stage.in_(["implementing", "embedded"])))
        embedded = db.session.scalar(base.where(Assessment.stage == Stage.EMBEDDED.value))
    assert (m, under, embedded) == (5, 4, 3)
    soup = page(reader.get(f"{SUMMARY}?period={SLUG}"))
    denominator = _text(soup.select_one(".tracker-denominator"))
    assert "out of the 5 councils with a submitted or signed-off return for 2025-26 Q3" in (
        denominator
    )
    assert "A year before, in 2024-25 Q3, 4 councils had one" in denominator
    cells = _row(soup, ACTION)
    # 4 of 5 (80%) against 4 of 4 (100%) a year before; 3 of 5 (60%) against 3 of 4 (75%).
    assert cells[1] == "4 of 5 councils (80%) down 20 percentage points on a year ago"
    assert cells[2] == "3 of 5 councils (60%) down 15 percentage points on a year ago"
    assert cells[3] == "Leeds City Council"
    link = soup.select_one(f'tr[id="action-{ACTION}"] td a')
    assert link["href"] == f"{ACTION_PAGE}#practice-{LEEDS}"
    assert "Wakefield" not in _text(soup.find("main"))


def test_summary_without_a_year_before_says_so(app, page, reader):
    _quarter(app, LABEL, (LEEDS, WAKEFIELD, CORNWALL), {})
    cells = _row(page(reader.get(SUMMARY)), ACTION)
    assert cells[1] == "3 of 3 councils (100%) no figure a year ago"


def test_summary_is_withheld_below_three_councils(app, page, reader):
    _quarter(app, LABEL, (LEEDS, WAKEFIELD, CORNWALL), {})
    with app.app_context():
        db.session.execute(
            update(Return)
            .where(
                Return.council_id
                == db.session.scalar(select(Council.id).where(Council.gss_code == CORNWALL))
            )
            .values(status=ReturnStatus.DRAFT)
        )
        db.session.commit()
    soup = page(reader.get(SUMMARY))
    assert "Not shown: fewer than 3 councils have submitted a return (2)" in _text(soup)
    assert soup.select_one(f'tr[id="action-{ACTION}"]') is None


def test_an_action_whose_examples_leave_fewer_than_three_unnamed_is_withheld(app, page, reader):
    # Three councils, Leeds named as an example: the other two would be revealed by subtraction.
    _quarter(app, LABEL, (LEEDS, WAKEFIELD, CORNWALL), {}, sharers=(LEEDS,))
    cells = _row(page(reader.get(SUMMARY)), ACTION)
    assert "Not shown: it would reveal the answers of fewer than 3 councils" in cells[1]
    assert cells[-1] == "Leeds City Council"
    other = _row(page(reader.get(SUMMARY)), "A01.S02")
    assert other[1].startswith("3 of 3 councils (100%)")


def test_an_unknown_quarter_is_a_clear_error(app, page, reader):
    _quarter(app, LABEL, (LEEDS, WAKEFIELD, CORNWALL), {})
    response = reader.get(f"{SUMMARY}?period=2019-20-Q1")
    assert response.status_code == 400
    assert "Select a quarter from the list" in _text(page(response))


# -- statements ---------------------------------------------------------------------------------


def _national(app) -> list[str]:
    """Twenty councils' returns, every action Embedded, every council sharing how; set straight
    in the database (only the number of statements is measured). Returns the GSS codes."""
    with app.app_context():
        others = db.session.scalars(
            select(Council.gss_code)
            .where(Council.gss_code.not_in([LEEDS, WAKEFIELD, CORNWALL]))
            .order_by(Council.gss_code)
            .limit(17)
        )
        codes = [LEEDS, WAKEFIELD, CORNWALL, *others]
    open_period(app, only=tuple(codes))
    with app.app_context():
        db.session.execute(
            update(Assessment).values(
                stage="embedded",
                practice_shared=True,
                practice_note="How we did it",
                practice_contact="Team mailbox",
            )
        )
        db.session.commit()
    return codes


def _submit_returns(app, codes) -> None:
    with app.app_context():
        ids = select(Council.id).where(Council.gss_code.in_(codes))
        db.session.execute(
            update(Return).where(Return.council_id.in_(ids)).values(status=ReturnStatus.SUBMITTED)
        )
        db.session.commit()


@pytest.mark.parametrize("path", [SUMMARY, ACTION_PAGE])
def test_statements_do_not_grow_with_the_number_of_councils(app, path):
    codes = _national(app)
    client = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR, "other_region"))
    counts, shown = [], []
    for reporting in (codes[:3], codes):
        _submit_returns(app, reporting)
        client.get(path)
        with count_queries(app) as statements:
            response = client.get(path)
        assert response.status_code == 200
        counts.append(len(statements))
        shown.append(response.get_data(as_text=True).count("Team mailbox"))
    assert counts[0] == counts[1]
    if path == ACTION_PAGE:
        assert shown == [3, 20]


def test_the_roadmap_links_to_the_summary_for_those_who_may_read_it(app, page, client, reader):
    link = 'a[href="/roadmap/in-practice"]'
    assert page(reader.get("/roadmap/")).select_one(link) is not None
    assert page(client.get("/roadmap/")).select_one(link) is None
    panel = signed_in_client(app, make_member(app, Role.PANEL_MEMBER))
    assert page(panel.get("/roadmap/")).select_one(link) is None


def test_the_demo_shows_shared_practice_on_both_pages(app, page, reader):
    from tracker.demo_data import DEMO_PRACTICE_CONTACTS, seed_dataset

    app.config["EVIDENCE_DIR"] = str(app.instance_path) + "/demo-evidence"
    with app.app_context():
        seed_dataset("demo", council_limit=8)
        db.session.commit()
        code = db.session.scalar(
            select(Action.code)
            .join(Assessment, Assessment.action_id == Action.id)
            .join(Return, Return.id == Assessment.return_id)
            .join(Council, Council.id == Return.council_id)
            .where(
                Council.gss_code == LEEDS,
                Assessment.practice_shared.is_(True),
                Return.status.in_([ReturnStatus.SUBMITTED, ReturnStatus.SIGNED_OFF]),
            )
            .order_by(Action.code)
            .limit(1)
        )
    assert code is not None
    soup = page(reader.get(f"/roadmap/actions/{code}"))
    assert "Leeds City Council" in _shared_councils(soup)
    assert DEMO_PRACTICE_CONTACTS[LEEDS] in _text(soup.select_one(f"#practice-{LEEDS}"))
    summary = page(reader.get(SUMMARY))
    assert "Leeds City Council" in _row(summary, code)[-1]
