"""Two editors change the same assessment: the second save gets the conflict page, nobody's
answers are lost, and reloading lets the second editor save on top of the first."""

from __future__ import annotations

from sqlalchemy import select, update

from tests.access_matrix import make_member, post, signed_in_client
from tests.returns_data import LEEDS, SLUG, get_assessment, open_period
from tracker.extensions import db
from tracker.models import Assessment, AuditEvent, Role
from tracker.returns import queries

URL = f"/councils/{LEEDS}/returns/{SLUG}/actions/A01.S01"


def _text(element) -> str:
    return " ".join(element.get_text().split())


def _form_values(soup) -> dict[str, str]:
    """The version, checked stage and narrative of the assessment form on a page."""
    form = soup.select_one(f'main form[action="{URL}"]')
    checked = form.select_one("input[name=stage][checked]")
    return {
        "version": form.select_one("input[name=version]")["value"],
        "stage": checked["value"] if checked else "",
        "narrative": form.select_one("textarea[name=narrative]").get_text().strip(),
    }


def test_the_second_save_shows_both_versions_and_loses_nothing(app, page):
    open_period(app)
    alex = make_member(app, Role.COUNCIL_EDITOR, display_name="Alex Editor")
    sam = make_member(app, Role.COUNCIL_EDITOR, display_name="Sam Editor")
    first, second = signed_in_client(app, alex), signed_in_client(app, sam)

    # Both open the form at version 1.
    assert _form_values(page(first.get(URL)))["version"] == "1"
    assert _form_values(page(second.get(URL)))["version"] == "1"

    saved = post(
        first,
        URL,
        {"version": "1", "stage": "implementing", "rag": "green", "narrative": "Alex's words"},
    )
    assert saved.status_code == 302

    clash = post(
        second,
        URL,
        {"version": "1", "stage": "embedded", "narrative": "Sam's words", "lead_officer": "Sam"},
    )

    assert clash.status_code == 409
    soup = page(clash)
    assert _text(soup.h1) == "Someone else saved this action while you were changing it"
    assert "Alex Editor saved action A01.S01 on " in _text(soup)
    headers = [_text(th) for th in soup.select("thead th")]
    assert headers[1] == "Your version not saved"
    assert headers[2].startswith("The saved version by Alex Editor, ")
    rows = {_text(tr.th): [_text(td) for td in tr.select("td")] for tr in soup.select("tbody tr")}
    assert rows["Stage"] == ["Embedded", "Implementing"]
    assert rows["RAG rating"] == ["Not given", "Green"]
    assert rows["Progress"] == ["Sam's words", "Alex's words"]
    assert rows["Lead officer"] == ["Sam", "Not given"]
    # The form below holds Sam's answers against the version now saved, to save knowingly.
    assert _form_values(soup) == {"version": "2", "stage": "embedded", "narrative": "Sam's words"}

    with app.app_context():
        kept = get_assessment(LEEDS, "A01.S01")
        assert (kept.stage, kept.rag, kept.narrative, kept.version_id) == (
            "implementing",
            "green",
            "Alex's words",
            2,
        )

    # Sam reloads the form: Alex's answers, version 2; Sam re-applies and saves.
    reloaded = _form_values(page(second.get(URL)))
    assert reloaded == {"version": "2", "stage": "implementing", "narrative": "Alex's words"}
    again = post(
        second,
        URL,
        {"version": "2", "stage": "embedded", "narrative": "Sam's words, after reading Alex's"},
    )
    assert again.status_code == 302

    with app.app_context():
        final = get_assessment(LEEDS, "A01.S01")
        assert (final.stage, final.narrative, final.version_id) == (
            "embedded",
            "Sam's words, after reading Alex's",
            3,
        )
        trail = db.session.execute(
            select(AuditEvent.actor_id, AuditEvent.before, AuditEvent.after)
            .where(AuditEvent.action == "assessment.update", AuditEvent.object_id == str(final.id))
            .order_by(AuditEvent.id)
        ).all()
    # Alex's answers are in the trail as what Sam's save replaced.
    assert [actor for actor, _before, _after in trail] == [alex.id, sam.id]
    assert trail[1].before["narrative"] == "Alex's words"


def test_saving_from_the_conflict_page_replaces_the_saved_version(app, page):
    open_period(app)
    alex = make_member(app, Role.COUNCIL_EDITOR, display_name="Alex Editor")
    sam = make_member(app, Role.COUNCIL_EDITOR, display_name="Sam Editor")
    first, second = signed_in_client(app, alex), signed_in_client(app, sam)
    # Red and Amber answers need a narrative, so both give one: the clash is the version's.
    saved = post(
        first, URL, {"version": "1", "stage": "planning", "rag": "red", "narrative": "No budget"}
    )
    assert saved.status_code == 302
    clash = post(
        second,
        URL,
        {"version": "1", "stage": "planning", "rag": "amber", "narrative": "Budget agreed"},
    )
    assert clash.status_code == 409

    values = _form_values(page(clash))
    response = post(second, URL, {**values, "rag": "amber"})

    assert response.status_code == 302
    with app.app_context():
        assert get_assessment(LEEDS, "A01.S01").rag == "amber"


def test_a_lost_version_field_is_a_conflict_not_an_overwrite(app, page):
    open_period(app)
    editor = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))

    response = post(editor, URL, {"stage": "embedded"})

    assert response.status_code == 409
    with app.app_context():
        assert get_assessment(LEEDS, "A01.S01").stage is None


def test_a_save_that_loses_a_race_after_its_version_check_gets_the_conflict_page(
    app, page, monkeypatch
):
    # Two saves at the same moment: both pass the version check, then the other one commits
    # first. This one's UPDATE (… WHERE version_id = 1) matches no row: a conflict, not a 500.
    open_period(app)
    editor = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    real = queries.get_assessment
    raced = []

    def get_assessment_then_lose_the_race(return_, code):
        assessment = real(return_, code)
        if not raced:
            raced.append(code)
            with db.engine.connect() as other:
                other.execute(
                    update(Assessment)
                    .where(Assessment.id == assessment.id)
                    .values(version_id=Assessment.version_id + 1, stage="embedded")
                )
                other.commit()
        return assessment

    monkeypatch.setattr(queries, "get_assessment", get_assessment_then_lose_the_race)
    response = post(
        editor, URL, {"version": "1", "stage": "planning", "rag": "red", "narrative": "No budget"}
    )

    assert response.status_code == 409
    rows = {
        _text(tr.th): [_text(td) for td in tr.select("td")]
        for tr in page(response).select("tbody tr")
    }
    assert rows["Stage"] == ["Planning", "Embedded"]
    with app.app_context():
        assert get_assessment(LEEDS, "A01.S01").stage == "embedded"
