"""A council's CQC view: its return read against the CQC's quality statements, with the
evidence by CQC category, the panel's word and the gaps; who may read it; the PDF and Word pack;
the CQC evidence category on the evidence forms; and a bounded number of queries."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from docx import Document
from pypdf import PdfReader
from sqlalchemy import delete, func, select, update

from tests.access_matrix import council, csrf_token, make_member, make_person, signed_in_client
from tests.returns_data import LEEDS, SLUG, assess, assess_all, get_assessment, open_period, submit
from tests.test_frameworks import THEMES
from tests.test_roadmap_views import count_queries
from tracker.admin.demo import seed_demo
from tracker.clock import uk_today
from tracker.cqc.services import NO_LINKED_ACTIONS, NO_RECENT_EVIDENCE, build_cqc_view
from tracker.demo_data import seed_dataset
from tracker.domain.vocabulary import (
    CQC_EVIDENCE_CATEGORY_NAMES,
    RAG_NAMES,
    STAGE_NAMES,
    action_name,
)
from tracker.extensions import db
from tracker.models import (
    Action,
    ActionStatementLink,
    Assessment,
    AuditEvent,
    Council,
    Evidence,
    Framework,
    QualityStatement,
    Role,
)
from tracker.returns import evidence as evidence_services

VIEW = f"/councils/{LEEDS}/cqc/{SLUG}"
#: the CQC's four themes and nine quality statements, in its order
RED = {"stage": "implementing", "rag": "red", "narrative": "Blocked by recruitment."}
AMBER = {"stage": "planning", "rag": "amber", "narrative": "Waiting for the business case."}


def make_framework(app, links: dict[str, list[str]]) -> None:
    """The loaded framework (``flask frameworks load`` fills the test template) with its
    crosswalk replaced by ``links``: statement code → action codes, so that each test knows
    exactly which actions a statement reads."""
    with app.app_context():
        assert db.session.scalar(select(Framework.id).where(Framework.code == "cqc-la-2023"))
        titles = [title for statements in THEMES.values() for title in statements]
        loaded = db.session.scalars(select(QualityStatement).order_by(QualityStatement.position))
        assert [statement.title for statement in loaded] == titles
        db.session.execute(delete(ActionStatementLink))
        for code, actions in links.items():
            statement = db.session.scalar(
                select(QualityStatement).where(QualityStatement.code == code)
            )
            for action_code in actions:
                action_id = db.session.scalar(select(Action.id).where(Action.code == action_code))
                db.session.add(
                    ActionStatementLink(
                        action_id=action_id,
                        statement_id=statement.id,
                        rationale=f"{action_code} serves {statement.title.lower()}",
                    )
                )
        db.session.commit()


def first_codes(app, count: int) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Action.code).order_by(Action.code).limit(count)))


def add_evidence(app, code: str, title: str, *, category: str | None, dated: date) -> int:
    with app.app_context():
        editor = make_person(
            f"ev-{title.replace(' ', '-').lower()}@example.org",
            Role.COUNCIL_EDITOR,
            council=council(LEEDS),
        )
        item = evidence_services.add_link_evidence(
            council(LEEDS),
            title,
            "strategy",
            dated,
            f"https://example.org/{title.replace(' ', '-').lower()}",
            actor=editor,
            cqc_category=category,
        )
        evidence_services.link_evidence(get_assessment(LEEDS, code), item, actor=editor)
        db.session.commit()
        return item.id


@pytest.fixture
def world(app):
    """Leeds' draft for 2025-26 Q3, every action Embedded, except: A (QS1) Red, B (QS1) Amber.
    QS1 links A and B, with recent evidence (People's experience, and one uncategorised);
    QS2 links C, whose only evidence is two years old; QS3 links nothing; QS4 links D, with
    recent evidence and nothing Red."""
    open_period(app)
    a, b, c, d = first_codes(app, 4)
    make_framework(app, {"QS1": [a, b], "QS2": [c], "QS4": [d]})
    assess_all(app, LEEDS)
    assess(app, LEEDS, [a], RED)
    assess(app, LEEDS, [b], AMBER)
    today = uk_today()
    add_evidence(app, b, "Survey of people", category="people", dated=today - timedelta(days=30))
    add_evidence(app, a, "Recruitment plan", category=None, dated=today - timedelta(days=60))
    add_evidence(app, c, "Old strategy", category="processes", dated=today - timedelta(days=800))
    add_evidence(app, d, "Partners feedback", category="partners", dated=today - timedelta(days=5))
    with app.app_context():
        text = db.session.scalar(select(Action.text).where(Action.code == a))
    # a Red action is named by its words, its code beside them
    return {"a": a, "b": b, "c": c, "d": d, "red_a": action_name(a, text, 60)}


def _text(element) -> str:
    return " ".join(element.get_text(" ", strip=True).split())


def statement_section(soup, code: str):
    section = soup.select_one(f"#statement-{code.lower()}")
    assert section is not None, code
    return section


# -- the figures ----------------------------------------------------------------------------------


def test_a_statements_actions_carry_their_assessments(app, world, page):
    editor = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    response = editor.get(VIEW)
    assert response.status_code == 200
    soup = page(response)
    assert _text(soup.h1) == "CQC self-assessment: October to December 2025"
    section = statement_section(soup, "QS1")
    with app.app_context():
        for code in (world["a"], world["b"]):
            assessment = get_assessment(LEEDS, code)
            stage = STAGE_NAMES[assessment.stage]
            rag = RAG_NAMES[assessment.rag]
            assert f"({code})" in _text(section)
            assert f"Stage: {stage} · RAG: {rag} · Review: Updated" in _text(section)
        view = build_cqc_view(get_assessment(LEEDS, world["a"]).return_)
        qs1 = next(s for s in view.statements if s.code == "QS1")
        assert [(x.code, x.stage, x.rag) for x in qs1.actions] == [
            (c, a.stage, a.rag)
            for c, a in db.session.execute(
                select(Action.code, Assessment)
                .join(Assessment, Assessment.action_id == Action.id)
                .where(
                    Assessment.return_id == view.return_.id,
                    Action.code.in_([world["a"], world["b"]]),
                )
                .order_by(Action.code)
            )
        ]
    assert "Blocked by recruitment." in _text(section)


def test_evidence_is_grouped_by_cqc_category_with_uncategorised_last(app, world):
    with app.app_context():
        view = build_cqc_view(get_assessment(LEEDS, world["a"]).return_)
        qs1 = next(s for s in view.statements if s.code == "QS1")
        groups = [(g.name, [i.title for i in g.items]) for g in qs1.evidence]
        # the evidence rows themselves, by category
        rows = db.session.execute(
            select(Evidence.title, Evidence.cqc_category).where(
                Evidence.title.in_(["Survey of people", "Recruitment plan"])
            )
        ).all()
    by_category = {category: title for title, category in rows}
    assert groups == [
        (CQC_EVIDENCE_CATEGORY_NAMES["people"], [by_category["people"]]),
        ("Not categorised", [by_category[None]]),
    ]
    assert qs1.missing_categories == [
        "Feedback from staff and leaders",
        "Feedback from partners",
        "Processes",
    ]


def test_gaps_are_a_red_action_or_no_recent_evidence(app, world, page):
    with app.app_context():
        view = build_cqc_view(get_assessment(LEEDS, world["a"]).return_)
        gaps = {s.code: s.gaps for s in view.statements}
    assert gaps["QS1"] == [f"1 linked action is rated Red: {world['red_a']}"]
    assert gaps["QS2"] == [NO_RECENT_EVIDENCE]
    assert gaps["QS3"] == [NO_LINKED_ACTIONS, NO_RECENT_EVIDENCE]
    assert gaps["QS4"] == []
    # every statement with nothing linked has a gap: 9 less QS4
    editor = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    soup = page(editor.get(VIEW))
    assert _text(soup.select_one("#cqc-summary-sentence")).startswith(
        "8 of 9 quality statements have gaps."
    )
    listed = [" ".join(li.get_text().split()) for li in soup.select("#cqc-gaps li")]
    assert listed[0] == f"QS1 Assessing needs: 1 linked action is rated Red: {world['red_a']}"
    assert not any(item.startswith("QS4") for item in listed)


def test_the_draft_is_labelled_as_a_draft(app, world, page):
    viewer = signed_in_client(app, make_member(app, Role.COUNCIL_VIEWER))
    soup = page(viewer.get(VIEW))
    assert "Draft: this return has not been submitted" in _text(soup)


# -- who may read it ------------------------------------------------------------------------------


def test_panel_members_never_read_it(app, world):
    submit(app, LEEDS)
    panel = signed_in_client(app, make_member(app, Role.PANEL_MEMBER))
    assert panel.get(VIEW).status_code == 404
    assert panel.get(f"{VIEW}.pdf").status_code == 404


def test_the_region_reads_it_once_submitted_and_only_while_shared(app, world):
    regional = signed_in_client(app, make_member(app, Role.REGIONAL_MEMBER))
    elsewhere = signed_in_client(app, make_member(app, Role.REGIONAL_MEMBER, "other_region"))
    assert regional.get(VIEW).status_code == 404  # a draft
    submit(app, LEEDS)
    assert regional.get(VIEW).status_code == 200
    assert elsewhere.get(VIEW).status_code == 404
    with app.app_context():
        db.session.execute(
            update(Council).where(Council.gss_code == LEEDS).values(shares_named_returns=False)
        )
        db.session.commit()
    assert regional.get(VIEW).status_code == 404
    assert regional.get(f"{VIEW}.docx").status_code == 404


def test_the_overview_links_to_it_for_its_readers(app, world, page):
    editor = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    soup = page(editor.get(f"/councils/{LEEDS}/returns/{SLUG}"))
    assert soup.select_one(f'a[href="{VIEW}"]') is not None
    soup = page(editor.get(f"/councils/{LEEDS}/dashboard"))
    assert soup.select_one(f'a[href="{VIEW}"]') is not None


# -- the pack -------------------------------------------------------------------------------------


def test_the_pdf_says_what_the_page_says(app, world):
    editor = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    response = editor.get(f"{VIEW}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = " ".join(
        " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(response.data)).pages).split()
    )
    assert "CQC self-assessment: October to December 2025" in text
    assert "8 of 9 quality statements have gaps." in text
    assert "QS1 Assessing needs" in text and "Leadership" in text
    assert f"1 linked action is rated Red: {world['red_a']}" in text
    assert "People’s experience (1)" in text and "Survey of people" in text
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "report.cqc_pdf"))


def test_the_word_pack_has_the_same_headings_and_figures(app, world):
    editor = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    response = editor.get(f"{VIEW}.docx")
    assert response.status_code == 200
    document = Document(io.BytesIO(response.data))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings[:3] == [
        "Summary: quality statements with gaps",
        "Working with people",
        "QS1 Assessing needs",
    ]
    assert "Leadership" in headings and "QS9 Learning, improvement and innovation" in headings
    text = "\n".join(p.text for p in document.paragraphs)
    assert "8 of 9 quality statements have gaps." in text
    assert f"QS1 Assessing needs: 1 linked action is rated Red: {world['red_a']}" in text
    assert "Survey of people" in text and "Old strategy" in text
    assert document.core_properties.title.startswith("CQC self-assessment: October to December")


# -- the evidence forms ---------------------------------------------------------------------------


def _add_link_url(code: str) -> str:
    return f"/councils/{LEEDS}/returns/{SLUG}/actions/{code}/evidence/add-link"


def _link_form(**extra) -> dict[str, object]:
    return {
        "title": "Carers survey",
        "evidence_type": "data",
        "dated_on": ["1", "10", "2025"],
        "url": "https://example.org/carers-survey",
        **extra,
    }


def test_the_evidence_forms_save_the_cqc_category(app, world):
    editor = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    url = _add_link_url(world["d"])
    form = _link_form(cqc_category="staff_leaders")
    response = editor.post(url, data={"csrf_token": csrf_token(editor, url), **form})
    assert response.status_code == 303
    with app.app_context():
        item = db.session.scalar(select(Evidence).where(Evidence.title == "Carers survey"))
        assert item.cqc_category == "staff_leaders"
        created = db.session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "evidence.create", AuditEvent.object_id == str(item.id)
            )
        )
        item_id = item.id
    assert created is not None and created.after["cqc_category"] == "staff_leaders"
    edit = f"/councils/{LEEDS}/returns/evidence/{item_id}/edit"
    response = editor.post(
        edit,
        data={"csrf_token": csrf_token(editor, edit), **_link_form(cqc_category="processes")},
    )
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Evidence, item_id).cqc_category == "processes"
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "evidence.update"))
    assert event.before == {"cqc_category": "staff_leaders"}
    assert event.after == {"cqc_category": "processes"}


def test_a_cqc_category_that_was_not_offered_is_refused(app, world, page):
    editor = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    url = _add_link_url(world["d"])
    response = editor.post(
        url, data={"csrf_token": csrf_token(editor, url), **_link_form(cqc_category="rumour")}
    )
    assert response.status_code == 422
    summary = _text(page(response).select_one(".govuk-error-summary"))
    assert "Select a CQC evidence category from the list, or “Not categorised”" in summary
    with app.app_context():
        assert db.session.scalar(select(Evidence).where(Evidence.title == "Carers survey")) is None


def test_the_service_refuses_a_category_that_is_not_the_cqcs(app, world):
    with app.app_context():
        item = db.session.scalar(select(Evidence).where(Evidence.title == "Old strategy"))
        with pytest.raises(evidence_services.EvidenceInvalid) as refused:
            evidence_services.update_evidence_details(
                item,
                item.title,
                item.evidence_type,
                item.dated_on,
                cqc_category="rumour",
                is_published_to_panel=False,
                actor=make_person("x@example.org"),
            )
    assert "cqc_category" in refused.value.errors


# -- queries --------------------------------------------------------------------------------------


def test_the_view_reads_a_fixed_number_of_queries(app, world):
    editor = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    editor.get(VIEW)  # warm: the session's own queries settle
    with count_queries(app) as few:
        assert editor.get(VIEW).status_code == 200
    # link thirty more actions, each with evidence, to the statements
    more = first_codes(app, 34)[4:]
    with app.app_context():
        statements = list(db.session.scalars(select(QualityStatement)))
        for index, code in enumerate(more):
            action_id = db.session.scalar(select(Action.id).where(Action.code == code))
            db.session.add(
                ActionStatementLink(
                    action_id=action_id,
                    statement_id=statements[index % len(statements)].id,
                    rationale="more",
                )
            )
        db.session.commit()
    for index, code in enumerate(more[:10]):
        add_evidence(app, code, f"More {index}", category="people", dated=uk_today())
    with count_queries(app) as many:
        assert editor.get(VIEW).status_code == 200
    assert len(many) == len(few), many
    assert len(few) <= 20, few


# -- the demo -------------------------------------------------------------------------------------


def test_the_demo_tags_its_evidence_with_every_category_and_leaves_some_untagged(app, tmp_path):
    app.config["EVIDENCE_DIR"] = str(tmp_path / "evidence-store")
    with app.app_context():
        seed_demo()
        seed_dataset("demo", council_limit=3)
        db.session.commit()
        counts = dict(
            db.session.execute(
                select(Evidence.cqc_category, func.count()).group_by(Evidence.cqc_category)
            ).all()
        )
    assert set(counts) == {*CQC_EVIDENCE_CATEGORY_NAMES, None}
    assert counts[None] < sum(counts.values()) / 2
