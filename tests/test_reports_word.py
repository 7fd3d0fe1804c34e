"""The board paper as Word: the sections in order with Word's heading styles, the Director's words
verbatim, figures that match the database, alt text on the charts, and the same things said as
the PDF; the download beside the PDF's, for the same people."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.table import Table
from sqlalchemy import func, select

from tests.access_matrix import council, make_member, make_person, signed_in_client
from tests.returns_data import (
    LEEDS,
    PREVIOUS_LABEL,
    SLUG,
    assess,
    complete_quarter,
    confirm_unchanged,
    get_return,
    open_period,
    submit,
)
from tests.test_reports_pdf import AMBER, RED, codes, pdf_text
from tracker.extensions import db
from tracker.models import Action, Assessment, AuditEvent, Role
from tracker.reports import data, paper, render, word
from tracker.returns import services

SUMMARY = (
    "We moved twelve more actions into implementation this quarter.\n\n"
    "Workforce is still the biggest risk: 14 occupational therapist posts are vacant."
)
RECOMMENDATIONS = [
    "Note the progress made on the roadmap this quarter.",
    "Agree the funding request for the shared lives scheme.",
]
REPORT = f"/councils/{LEEDS}/reports/{SLUG}"


@pytest.fixture
def signed_paper(app):
    """Leeds: last quarter all Embedded; this quarter 3 Red, 4 Amber, the rest Embedded and
    confirmed unchanged; submitted, then signed off with a summary and two recommendations at
    23:30 UTC on 30 June 2026 (1 July in the UK)."""
    complete_quarter(app, LEEDS, PREVIOUS_LABEL, {"stage": "embedded"})
    open_period(app)
    assess(app, LEEDS, codes(app, 3), RED)
    assess(app, LEEDS, codes(app, 4, skip=3), AMBER)
    confirm_unchanged(app, LEEDS)
    submit(app, LEEDS)
    with app.app_context():
        director = make_person(
            "director@example.org", Role.COUNCIL_APPROVER, council=council(LEEDS), name="Jo Bloggs"
        )
        return_ = services.sign_off_return(
            get_return(LEEDS), actor=director, summary=SUMMARY, recommendations=RECOMMENDATIONS
        )
        return_.signed_off_at = datetime(2026, 6, 30, 23, 30)
        db.session.commit()
    return app


def build(app) -> tuple[data.CouncilReport, bytes]:
    with app.app_context():
        report = data.build_council_report(get_return(LEEDS), include_draft_history=True)
        return report, word.build_docx(report)


def blocks(content: bytes) -> list[tuple[str, str]]:
    """The document in reading order as (style name, text): each paragraph, and each table
    cell as ("table", text)."""
    document = Document(io.BytesIO(content))
    found = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                found.extend(("table", cell.text) for cell in row.cells)
        else:
            found.append((block.style.name, block.text))
    return found


def docx_text(content: bytes) -> str:
    """The document's text with its white space collapsed, as the parity test compares it."""
    return " ".join(" ".join(text for _, text in blocks(content)).split())


def section(found: list[tuple[str, str]], heading: str) -> list[tuple[str, str]]:
    """The blocks under one Heading 1, up to the next."""
    start = found.index(("Heading 1", heading)) + 1
    end = next((i for i in range(start, len(found)) if found[i][0] == "Heading 1"), len(found))
    return found[start:end]


def test_the_paper_has_every_section_in_order_with_words_verbatim_and_no_utc(signed_paper):
    report, content = build(signed_paper)
    found = blocks(content)
    assert [text for style, text in found if style == "Heading 1"] == [
        heading for _, heading in paper.SECTIONS
    ]
    assert ("Title", "Quarterly board paper: October to December 2025") in found
    director = section(found, "Summary from the Director")
    assert [text for _, text in director][:2] == SUMMARY.split("\n\n")
    asked = section(found, "What the board is asked to do")
    assert [text for style, text in asked if style == "List Number"] == RECOMMENDATIONS
    progress = section(found, "Progress this quarter")
    assert [text for style, text in progress if style == "List Bullet"] == report.summary
    exceptions = section(found, "Exceptions")
    for code in codes(signed_paper, 3):
        title = next(a.text for a in report.exceptions if a.code == code)
        assert ("Heading 2", f"{title} ({code})") in exceptions
    # times are the UK's: signed off at 23:30 UTC on 30 June is 1 July in the UK
    assert ("Pair", "Signed off: On 1 July 2026") in found
    assert ("Pair", "Date: 1 July 2026") in found
    assert ("Pair", "From: Jo Bloggs, Director of Adult Social Services") in found
    assert "UTC" not in docx_text(content)
    assert not any("Draft:" in text for _, text in found)


def test_figures_match_the_database(signed_paper):
    _report, content = build(signed_paper)
    with signed_paper.app_context():
        roadmap = (
            select(Assessment.stage, func.count())
            .join(Action, Action.id == Assessment.action_id)
            .where(Assessment.return_id == get_return(LEEDS).id, Action.area_id.is_not(None))
            .group_by(Assessment.stage)
        )
        stages = dict(db.session.execute(roadmap).all())
    total = sum(stages.values())
    embedded = stages.get("embedded", 0)
    found = blocks(content)
    sentences = [text for style, text in section(found, "Progress this quarter")]
    assert any(
        s.startswith(f"{embedded} of {total} roadmap actions") and "are embedded" in s
        for s in sentences
    ), sentences
    # the areas' Embedded column adds up to the same figure, and the trend's last quarter too
    document = Document(io.BytesIO(content))
    areas = next(t for t in document.tables if t.rows[0].cells[0].text == "Area")
    assert [c.text for c in areas.rows[0].cells][:4] == [
        "Area",
        "Actions",
        "Embedded",
        "Implementing",
    ]
    assert (
        sum(
            int(row.cells[2].text)
            for row in areas.rows[1:]
            if not row.cells[0].text.startswith("Barriers and enablers")
        )
        == embedded
    )
    trend = next(t for t in document.tables if t.rows[0].cells[0].text == "Quarter")
    last = [c.text for c in trend.rows[-1].cells]
    assert last[0] == "October to December 2025" and int(last[1]) == embedded


def test_charts_have_alt_text_and_tables_repeat_their_header_rows(signed_paper):
    report, content = build(signed_paper)
    document = Document(io.BytesIO(content))
    shapes = document.inline_shapes
    summaries = {chart.summary for chart in report.charts}
    assert len(shapes) == 3  # stages by area, RAG by area, trend
    for shape in shapes:
        assert shape._inline.docPr.get("descr") in summaries
    for table in document.tables:
        header = table.rows[0]._tr.trPr
        assert header is not None and header.find(qn("w:tblHeader")) is not None
        assert table._tbl.tblPr.find(qn("w:tblCaption")).get(qn("w:val"))
    properties = document.core_properties
    assert (
        properties.title == "Quarterly board paper: October to December 2025 – Leeds City Council"
    )
    assert properties.author == "Jo Bloggs"
    assert properties.language == "en-GB"
    settings = document.settings.element
    assert settings.find(qn("w:autoHyphenation")).get(qn("w:val")) == "false"


def test_a_draft_says_so_and_prompts_for_the_directors_words(app):
    open_period(app)
    _report, content = build(app)
    found = blocks(content)
    assert ("Warning", paper.DRAFT_WARNING) in found
    assert section(found, "Summary from the Director")[0][1] == paper.missing_summary(False)
    assert section(found, "What the board is asked to do")[0][1] == (
        paper.missing_recommendations(False)
    )


def test_the_word_and_pdf_papers_say_the_same_things(signed_paper):
    """Both renderers print the model's sentences: the progress sentences, the Director's
    summary, each recommendation and each exception's title."""
    report, content = build(signed_paper)
    with signed_paper.app_context():
        pdf = " ".join(pdf_text(render.council_pdf(report)).split())
    docx = docx_text(content)
    expected = [
        *report.summary,
        *(line for line in SUMMARY.split("\n\n")),
        *RECOMMENDATIONS,
        *(a.text for a in report.exceptions),
    ]
    for text in expected:
        text = " ".join(text.split())
        assert text in docx, text
        assert text in pdf, text


def test_own_approver_downloads_the_word_paper_and_it_is_audited(app, page):
    open_period(app)
    client = signed_in_client(app, make_member(app, Role.COUNCIL_APPROVER))
    html = page(client.get(REPORT))
    link = html.find("a", href=f"{REPORT}/board-paper.docx")
    assert link is not None and link.get_text(strip=True) == "Download the board paper (Word)"
    response = client.get(f"{REPORT}/board-paper.docx")
    assert response.status_code == 200
    assert response.mimetype == word.DOCX_MIMETYPE
    assert (
        response.headers["Content-Disposition"]
        == f'attachment; filename="board-report-{LEEDS}-{SLUG}.docx"'
    )
    assert Document(io.BytesIO(response.data)).core_properties.language == "en-GB"
    with app.app_context():
        assert db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "report.council_docx")
        )


@pytest.mark.parametrize("relation", ["same_region", "other_region"])
def test_another_councils_editor_gets_404(app, relation):
    open_period(app)
    client = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR, relation))
    assert client.get(f"{REPORT}/board-paper.docx").status_code == 404
