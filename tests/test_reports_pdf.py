"""The PDF reports: figures in the extracted text match the database; tagged, bookmarked, paged;
hostile text comes out inert; the renderer fetches nothing but static/."""

from __future__ import annotations

import io
import re
import subprocess

import pytest
from bs4 import BeautifulSoup
from pypdf import PdfReader
from sqlalchemy import func, select

from tests.access_matrix import council
from tests.helpers import count_pdf_renders
from tests.returns_data import (
    LABEL,
    LEEDS,
    PREVIOUS_LABEL,
    WAKEFIELD,
    assess,
    complete_quarter,
    confirm_unchanged,
    get_return,
    open_period,
    submit,
)
from tracker.domain.periods import months
from tracker.domain.vocabulary import PREVENTION_TIER_LABELS
from tracker.extensions import db
from tracker.models import Action, ActionArea, Assessment, Period, Region, Return, Role
from tracker.reports import data, paper, render
from tracker.reports.pdf import RefusedURL, StaticOnlyFetcher, collector_paused
from tracker.returns import services

HOSTILE = (
    '<img src="file:///etc/passwd"><script>alert(1)</script>'
    '<link rel=stylesheet href="http://evil.invalid/x.css"> =cmd|calc'
)
RED = {
    "stage": "implementing",
    "rag": "red",
    "narrative": "Blocked by recruitment.",
    "next_steps": "Escalate to the ICB board.",
    "barriers": ["workforce"],
}
AMBER = {"stage": "planning", "rag": "amber", "narrative": "Waiting for the business case."}
EMBEDDED = {"stage": "embedded"}


def pdf_text(content: bytes) -> str:
    """The PDF's text in reading order, as pdftotext extracts it."""
    result = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    )
    return result.stdout.decode()


def codes(app, count: int, skip: int = 0) -> list[str]:
    with app.app_context():
        return_ = get_return(LEEDS)
        return list(
            db.session.scalars(
                select(Action.code)
                .join(Assessment, Assessment.action_id == Action.id)
                .where(Assessment.return_id == return_.id)
                .order_by(Action.code)
                .offset(skip)
                .limit(count)
            )
        )


@pytest.fixture
def leeds_quarter(app):
    """Leeds: last quarter all Embedded and signed off; this quarter 3 Red, 4 Amber, rest
    Embedded and confirmed unchanged (so 7 worsened), submitted."""
    complete_quarter(app, LEEDS, PREVIOUS_LABEL, {"stage": "embedded"})
    open_period(app)
    assess(app, LEEDS, codes(app, 3), RED)
    assess(app, LEEDS, codes(app, 4, skip=3), AMBER)
    confirm_unchanged(app, LEEDS)
    submit(app, LEEDS)
    return app


def leeds_pdf(app, *, hostile_fetcher: StaticOnlyFetcher | None = None) -> bytes:
    with app.app_context():
        report = data.build_council_report(get_return(LEEDS), include_draft_history=True)
        return render.council_pdf(report)


def db_counts(app) -> tuple[dict[str, int], dict[str, int]]:
    """Stage and RAG counts of Leeds's return, straight from the database."""
    with app.app_context():
        return_id = get_return(LEEDS).id
        stages = dict(
            db.session.execute(
                select(Assessment.stage, func.count())
                .where(Assessment.return_id == return_id)
                .group_by(Assessment.stage)
            ).all()
        )
        rags = dict(
            db.session.execute(
                select(Assessment.rag, func.count())
                .where(Assessment.return_id == return_id, Assessment.rag.is_not(None))
                .group_by(Assessment.rag)
            ).all()
        )
        return stages, rags


def table_value(text: str, label: str) -> int:
    match = re.search(rf"^\s*{label}\s+(\d+)\s*$", text, re.MULTILINE)
    assert match, f"no line for {label}"
    return int(match.group(1))


def roadmap_stage_count(app, stage: str, label: str = LABEL) -> int:
    """Leeds's roadmap actions (not the barriers and enablers) at ``stage``, from the database."""
    with app.app_context():
        return db.session.scalar(
            select(func.count())
            .select_from(Assessment)
            .join(Action, Action.id == Assessment.action_id)
            .where(
                Assessment.return_id == get_return(LEEDS, label).id,
                Action.area_id.is_not(None),
                Assessment.stage == stage,
            )
        )


def titled(app, code: str) -> str:
    """How the paper names an action: its title, with the code beside it."""
    with app.app_context():
        text = db.session.scalar(select(Action.text).where(Action.code == code))
    return f"{' '.join(text.split())} ({code})"


def test_the_board_paper_figures_match_the_database(leeds_quarter):
    app = leeds_quarter
    summary = " ".join(pdf_text(leeds_pdf(app)).split())
    stages, rags = db_counts(app)
    assert stages == {"embedded": 133, "implementing": 3, "planning": 4}
    assert rags == {"red": 3, "amber": 4}
    # Progress in sentences, with denominators and the change since last quarter.
    embedded = roadmap_stage_count(app, "embedded")
    before = roadmap_stage_count(app, "embedded", PREVIOUS_LABEL)
    with app.app_context():
        roadmap = db.session.scalar(
            select(func.count())
            .select_from(Action)
            .where(
                Action.area_id.is_not(None),
                Action.parent_id.is_(None),
                Action.archived_at.is_(None),
            )
        )
    assert (embedded, before, roadmap) == (107, 114, 114)
    assert (
        f"{embedded} of {roadmap} roadmap actions ({round(100 * embedded / roadmap)}%) are "
        f"embedded, down from {before} last quarter." in summary
    )
    assert f"3 of {roadmap} (3%) are being implemented, up from 0 last quarter." in summary
    assert "Of the 26 actions on barriers and enablers, 26 (100%) are embedded" in summary
    assert f"covers {roadmap} roadmap actions and 26 actions on barriers and enablers" in summary
    # Exceptions by title, the code beside it, each with its narrative and next steps.
    exceptions = summary[summary.index("Exceptions 7 actions: every action rated Red") :]
    exceptions = exceptions[: exceptions.index("Financial implications ")]
    for code in codes(app, 7):
        assert titled(app, code) in exceptions
    assert "Why listed: Red; Worse than last quarter (was Embedded)" in exceptions
    assert "Blocked by recruitment." in exceptions and "Escalate to the ICB board." in exceptions
    # Risks: the barriers recorded, grouped.
    risks = summary[summary.index("Risks and barriers 3 actions have a barrier") :]
    assert risks.startswith("Risks and barriers 3 actions have a barrier recorded against them.")
    assert "Workforce: 3 actions" in risks
    # A submitted return has no Director's words yet: a prompt, never invented text.
    assert "The Director writes this summary when signing off the return." in summary
    assert "The co-production panel made no comments on this return." in summary
    # The trend names each quarter by its months.
    trend = summary[summary.index("Trend Roadmap actions by stage") :]
    assert months(PREVIOUS_LABEL) in trend and months(LABEL) in trend
    # The appendix: the facts on one line, then the narratives with their labels.
    first = codes(app, 1)[0]
    detail = summary[summary.rindex("Appendix: every action ") :]
    block = detail[detail.index(titled(app, first)) :]
    block = block[: block.index("Barriers: Workforce") + len("Barriers: Workforce")]
    assert block.endswith(
        "Stage: Implementing, Red · Since last quarter: ↓ Worsened (was Embedded) "
        "Progress: Blocked by recruitment. Next steps: Escalate to the ICB board. "
        "Barriers: Workforce"
    ), block
    # No codes-only headline, no UTC, no hyphenated headings.
    assert "UTC" not in summary and "Implement-" not in summary
    # the submitted, not signed-off return is marked as a draft on its cover
    assert "Draft: this return has not been signed off" in summary


def test_the_pdf_is_tagged_bookmarked_and_numbered(leeds_quarter):
    content = leeds_pdf(leeds_quarter)
    reader = PdfReader(io.BytesIO(content))
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root
    assert bool(root["/MarkInfo"]["/Marked"]) is True
    assert str(root["/Lang"]).lower() == "en-gb"
    assert reader.metadata.title.startswith(f"Quarterly board paper: {months(LABEL)}")
    outline = list(_titles(reader.outline))
    assert outline[0] == f"Quarterly board paper: {months(LABEL)}"
    for heading in ("Contents", *paper.HEADINGS.values()):
        assert heading in outline, heading
    pages = len(reader.pages)
    text = pdf_text(content)
    assert f"Page 1 of {pages}" in text and f"Page {pages} of {pages}" in text
    # reading order: the sections come out in the order of the contents
    body = text[text.index("Summary from the Director\n") :]
    positions = [body.index(heading + "\n") for heading in paper.HEADINGS.values()]
    assert positions == sorted(positions)
    # each chart has alt text: its figure element carries /Alt
    alts = [
        str(element.get_object().get("/Alt"))
        for element in _struct_elements(root["/StructTreeRoot"])
        if element.get_object().get("/S") == "/Figure"
    ]
    with leeds_quarter.app_context():
        report = data.build_council_report(get_return(LEEDS), include_draft_history=True)
        summaries = [chart.summary for chart in report.charts]
    assert [c.id for c in report.charts] == ["stage-mix", "rag-mix", "trend"]  # no funding yet
    assert set(summaries) <= set(alts)


def _titles(outline):
    for item in outline:
        if isinstance(item, list):
            yield from _titles(item)
        else:
            yield item.title


def _struct_elements(node, depth=0):
    if depth > 60:
        return
    kids = node.get_object().get("/K")
    if kids is None:
        return
    if not isinstance(kids, list):
        kids = [kids]
    for kid in kids:
        obj = kid.get_object() if hasattr(kid, "get_object") else kid
        if isinstance(obj, dict) and "/S" in obj:
            yield kid
            yield from _struct_elements(kid, depth + 1)


def test_a_signed_off_paper_leads_with_the_directors_words(leeds_quarter):
    app = leeds_quarter
    with app.app_context():
        from tests.access_matrix import make_person

        director = make_person("dana@example.org", Role.COUNCIL_APPROVER, council=council(LEEDS))
        services.sign_off_return(
            get_return(LEEDS),
            actor=director,
            summary="A difficult quarter for recruitment.\nCarers' work moved on.",
            recommendations=["Note the three Red actions", "Agree the recruitment plan"],
        )
        db.session.commit()
    summary = " ".join(pdf_text(leeds_pdf(app)).split())
    assert "Draft: this return has not been signed off" not in summary
    assert "Return Signed off" in summary
    assert re.search(r"Signed off On \d+ \w+ \d{4} at \d\d:\d\d", summary)
    director_part = summary[summary.index("Summary from the Director A difficult") :]
    assert director_part.startswith(
        "Summary from the Director A difficult quarter for recruitment. Carers' work moved on."
    )
    assert (
        "What the board is asked to do The board is asked to: 1. Note the three Red actions "
        "2. Agree the recruitment plan" in summary
    )


def test_hostile_narrative_and_evidence_titles_come_out_inert(app):
    open_period(app)
    assess(
        app,
        LEEDS,
        None,
        {"stage": "implementing", "rag": "red", "narrative": HOSTILE, "next_steps": HOSTILE},
    )
    with app.app_context():
        from tracker.models import Evidence

        assessment = db.session.scalar(
            select(Assessment).where(Assessment.return_id == get_return(LEEDS).id).limit(1)
        )
        item = Evidence(
            council_id=assessment.return_.council_id,
            title=HOSTILE[:200],
            evidence_type="other",
            url="https://example.org/x",
        )
        db.session.add(item)
        assessment.evidence.append(item)
        db.session.commit()
        report = data.build_council_report(get_return(LEEDS), include_draft_history=True)
        images = render.ChartImages()
        html = render.council_html(report, chart_src=images)
        fetcher = StaticOnlyFetcher(app.static_folder, images.images)
        from tracker.reports.pdf import html_to_pdf

        content = html_to_pdf(html, static_folder=app.static_folder, fetcher=fetcher)
    assert "<script>" not in html and "&lt;script&gt;" in html
    # only our stylesheet, the charts and the watermark were asked for
    assert all(
        url.startswith(("https://tracker.invalid/static/", "https://tracker.invalid/charts/"))
        for url in fetcher.requested
    ), fetcher.requested
    assert not any("passwd" in url or "evil" in url for url in fetcher.requested)
    text = " ".join(pdf_text(content).split())
    assert '<img src="file:///etc/passwd"><script>alert(1)</script>' in text.replace("\u00ad", "")


def test_the_collector_is_paused_for_overlapping_renders_and_back_after_the_last():
    import gc
    import threading

    assert gc.isenabled()
    first_in, release = threading.Event(), threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with collector_paused():
            first_in.set()
            release.wait(5)
            seen.append(gc.isenabled())  # the second render ended before this one

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(5)
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()  # the first render still runs
    release.set()
    thread.join(5)
    assert seen == [False]
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("a render that fails")
    assert gc.isenabled()
    # Never turned on by a render if something else had turned it off.
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_streams_are_compressed_at_our_level_and_decode(app, monkeypatch):
    import zlib

    from tracker.reports import pdf

    assert pdf.pydyf.zlib.compressobj is pdf._compressobj
    real = zlib.compressobj
    levels: list[int] = []

    def spy(level: int = -1, *args, **kwargs):
        levels.append(level)
        return real(level, *args, **kwargs)

    monkeypatch.setattr(zlib, "compressobj", spy)
    html = (
        '<!DOCTYPE html><html lang="en-GB"><head><title>Streams</title></head>'
        "<body><h1>Streams</h1><p>Compressed text that must extract.</p></body></html>"
    )
    content = pdf.html_to_pdf(html, static_folder=app.static_folder)
    # pydyf still compresses through the zlib we gave it (if it stops, the level is lost)
    assert levels and set(levels) == {pdf.FLATE_LEVEL}
    reader = PdfReader(io.BytesIO(content))
    page = reader.pages[0]
    assert page["/Contents"].get_object()["/Filter"] == "/FlateDecode"
    assert "Compressed text that must extract." in page.extract_text()


def test_the_fetcher_serves_static_files_only(app):
    fetcher = StaticOnlyFetcher(app.static_folder)
    response = fetcher.fetch("https://tracker.invalid/static/css/print.css")
    assert b"@page" in response.read()
    for url in (
        "file:///etc/passwd",
        "http://tracker.invalid/static/css/print.css",
        "https://evil.invalid/static/css/print.css",
        "https://tracker.invalid/static/../tracker/config.py",
        "https://tracker.invalid/static/%2e%2e/pyproject.toml",
        "https://tracker.invalid/etc/passwd",
        "data:text/html;base64,PGgxPg==",
        "https://tracker.invalid/charts/not-drawn.svg",
    ):
        with pytest.raises((RefusedURL, ValueError)):
            fetcher.fetch(url)


def test_region_pack_shows_submitted_returns_only(app):
    open_period(app)
    assess(app, LEEDS, None, {"stage": "embedded"})
    submit(app, LEEDS)
    assess(app, WAKEFIELD, codes(app, 5), RED)  # a draft: never in the pack
    with app.app_context():
        region = council(LEEDS).region
        period = db.session.scalar(select(Period).where(Period.label == LABEL))
        pack = data.build_region_pack(region, period, viewer=None)
        content = render.region_pdf(pack)
        shared = db.session.scalar(
            select(func.count(Return.id)).where(
                Return.period_id == period.id,
                Return.status != "draft",
                Return.council_id.in_([c.id for c in region.councils if c.is_active]),
            )
        )
        active = sum(1 for c in region.councils if c.is_active)
    text = " ".join(pdf_text(content).split())
    assert f"{shared} of {active} councils has submitted or signed off their return" in text
    assert shared == 1
    leeds_row = re.search(r"Leeds Submitted ((?:\d+ ){8}\d+)", text)
    assert leeds_row, text[-2000:]
    assert leeds_row.group(1).split() == ["0", "0", "0", "140", "0", "0", "0", "0", "0"]
    assert "Not yet submitted Wakefield" in text
    reader = PdfReader(io.BytesIO(content))
    assert "/StructTreeRoot" in reader.trailer["/Root"]
    # the councils × areas table, twelve columns wide, is on landscape pages of its own; the
    # rest of the pack is portrait
    shapes = [
        ("landscape" if page.mediabox.width > page.mediabox.height else "portrait", page)
        for page in reader.pages
    ]
    landscape = [page for shape, page in shapes if shape == "landscape"]
    assert landscape and shapes[0][0] == "portrait" and shapes[-1][0] == "portrait"
    # the heatmap's section, chart and table, is on them
    assert "Councils side by side" in landscape[0].extract_text()
    assert any("Data: councils by area" in page.extract_text() for page in landscape)


def test_chart_tables_align_numbers_right_and_size_text_columns_by_content(app):
    bradford = "E08000032"
    open_period(app, only=(LEEDS, WAKEFIELD, bradford))  # three, so the distribution is shown
    for gss_code in (LEEDS, WAKEFIELD, bradford):
        assess(app, gss_code, None, {"stage": "embedded"})
        submit(app, gss_code)
    with app.app_context():
        region = council(LEEDS).region
        period = db.session.scalar(select(Period).where(Period.label == LABEL))
        pack_html = render.region_html(
            data.build_region_pack(region, period, viewer=None), chart_src=str
        )
        report = data.build_council_report(get_return(LEEDS), include_draft_history=True)
        report_html = render.council_html(report, chart_src=str)

    def table(html: str, caption: str):
        soup = BeautifulSoup(html, "html.parser")
        return soup.find("caption", string=caption).find_parent("table")

    # the distribution: the area's name, then counts and a share (numbers, right, fixed widths)
    distribution = table(
        pack_html, "Data: stage of each area's actions across the region's councils"
    )
    assert "report-table--fixed" in distribution["class"]
    cells = distribution.find("tbody").find("tr").find_all(["th", "td"])
    assert cells[0].get_text().startswith("1. ")  # the area's name, not "Area 1"
    assert all("govuk-table__cell--numeric" in cell["class"] for cell in cells[1:])
    # the heatmap's table: the councils' cells are text ("57% (4 of 7). Red 1 …"), sized by
    # their content
    heatmap = table(pack_html, "Data: councils by area")
    assert "report-table--fixed" not in heatmap["class"]
    # a table of numbers only keeps its fixed column widths
    stages = table(report_html, "Data: stage of each area's actions")
    assert "report-table--fixed" in stages["class"]
    cells = stages.find("tbody").find("tr").find_all("td")
    assert cells and all("govuk-table__cell--numeric" in cell["class"] for cell in cells)


def test_region_pack_does_not_name_a_council_that_does_not_share(app):
    open_period(app)
    for code in (LEEDS, WAKEFIELD):
        assess(app, code, None, {"stage": "embedded"})
        submit(app, code)
    with app.app_context():
        wakefield = council(WAKEFIELD)
        wakefield.shares_named_returns = False
        db.session.commit()
        region = db.session.get(Region, wakefield.region_id)
        period = db.session.scalar(select(Period).where(Period.label == LABEL))
        pack = data.build_region_pack(region, period, viewer=None)
    assert [line.name for line in pack.shared] == ["Leeds"]
    assert pack.unnamed == 1
    # Two councils reporting: the pack keeps the region page's three-council rule, so no
    # distribution is shown (before the pack took compare's results, it printed one).
    assert pack.comparison.aggregate_reason.startswith("Not shown: fewer than 3 councils")
    assert pack.comparison.distribution == []


def test_the_same_report_is_laid_out_once_and_again_after_a_change(app, monkeypatch):
    app.config["REPORT_PDF_CACHE"] = True
    open_period(app)
    calls = count_pdf_renders(monkeypatch)
    first = leeds_pdf(app)
    assert leeds_pdf(app) == first and len(calls) == 1
    assess(app, LEEDS, codes(app, 1), RED)
    changed = leeds_pdf(app)
    assert len(calls) == 2 and changed != first
    assert "Blocked by recruitment." in pdf_text(changed)


def test_coproduction_figures_match_the_panels_and_show_display_names_only(app):
    from tests.access_matrix import make_person
    from tracker.models import Role
    from tracker.panels import services as panels

    open_period(app)
    assess(app, LEEDS, None, {"stage": "embedded"})
    submit(app, LEEDS)
    with app.app_context():
        leeds = council(LEEDS)
        member = make_person("m@example.org", Role.PANEL_MEMBER, council=leeds, name="Canary Real")
        editor = make_person("e@example.org", Role.COUNCIL_EDITOR, council=leeds)
        return_ = get_return(LEEDS)
        action = return_.assessments[0].action
        action_title = f"{' '.join(action.text.split())} ({action.code})"
        first = panels.add_comment(return_, action, "Ramps at the day centre", actor=member)
        panels.add_comment(return_, action, "Still waiting", actor=member)
        panels.answer_comment(
            first, "Thank you", actor=editor, is_you_said_we_did=True, change_made="Ramps fitted"
        )
        db.session.commit()
        totals = panels.comment_totals(leeds, db.session.get(Period, return_.period_id))
        name = panels.list_you_said_we_did(leeds, return_.period)[0].display_name
    text = " ".join(pdf_text(leeds_pdf(app)).split())
    assert (
        f"The co-production panel made {totals.received} comments on this return: "
        f"{totals.answered} answered and {totals.open} awaiting an answer." in text
    )
    assert (totals.received, totals.answered, totals.open) == (2, 1, 1)
    assert "Ramps at the day centre" in text and "Ramps fitted" in text
    # the answer names the action by its title, the code beside it
    assert action_title in text
    assert name in text and "Canary Real" not in text


def test_a_council_that_does_not_share_is_never_named_in_the_pack_pdf(app):
    open_period(app)
    assess(app, LEEDS, None, {"stage": "embedded"})
    submit(app, LEEDS)
    with app.app_context():
        wakefield = council(WAKEFIELD)
        wakefield.shares_named_returns = False  # and its return is still a draft
        db.session.commit()
        period = db.session.scalar(select(Period).where(Period.label == LABEL))
        pack = data.build_region_pack(
            db.session.get(Region, wakefield.region_id), period, viewer=None
        )
        text = " ".join(pdf_text(render.region_pdf(pack)).split())
    assert "Wakefield" not in text
    assert "1 council that does not share by name" in text


def _submit_three(app, three: tuple[str, str, str]) -> None:
    """Open the quarter for ``three`` Yorkshire councils and submit the first two at Embedded
    and the third at Planning (Amber)."""
    open_period(app, only=three)
    for gss_code, values in zip(three, (EMBEDDED, EMBEDDED, AMBER), strict=True):
        assess(app, gss_code, None, values)
        submit(app, gss_code)


def _pack(region: Region) -> data.RegionPack:
    period = db.session.scalar(select(Period).where(Period.label == LABEL))
    return data.build_region_pack(region, period, viewer=None)


def test_region_pack_names_areas_counts_with_denominators_and_shows_the_trend(app):
    from tests.returns_data import close_period

    bradford = "E08000032"
    three = (LEEDS, WAKEFIELD, bradford)
    open_period(app, PREVIOUS_LABEL, only=three)
    for gss_code in three:
        assess(app, gss_code, None, AMBER, label=PREVIOUS_LABEL)
        submit(app, gss_code, PREVIOUS_LABEL)
    close_period(app, PREVIOUS_LABEL)
    _submit_three(app, three)
    with app.app_context():
        pack = _pack(council(LEEDS).region)
        period = pack.period
        text = " ".join(pdf_text(render.region_pdf(pack)).split())
        areas = db.session.scalars(select(ActionArea).order_by(ActionArea.position)).all()
        top = max(pack.actions, key=lambda a: (a.embedded / a.councils, a.code))
        embedded = db.session.scalar(
            select(func.count(Assessment.id))
            .join(Action, Assessment.action_id == Action.id)
            .where(
                Action.code == top.code,
                Assessment.return_id.in_(select(Return.id).where(Return.period_id == period.id)),
                Assessment.stage == "embedded",
            )
        )
        reporting = db.session.scalar(
            select(func.count(Return.id)).where(
                Return.period_id == period.id, Return.status != "draft"
            )
        )
    # Every area is named, on the charts' tables and in the sentences; never "Area 1".
    for area in areas:
        assert f"{area.position}. {area.title}" in text
    assert "Area 1" not in text and "Area 10" not in text
    # British Red Cross style sentences: counts with their denominators and percentages,
    # matching the database.
    assert (embedded, reporting) == (2, 3)
    assert f"{embedded} of {reporting} councils (67%) have embedded {top.code}" in text
    assert "3 of 3 councils (100%) in Yorkshire and the Humber have submitted" in text
    assert re.search(r"Across those councils, [\d,]+ of [\d,]+ applicable actions \(\d+%\)", text)
    # The trend: both quarters, the change between them said in words.
    assert "Trend over the quarters" in text and "The region quarter by quarter" in text
    assert f"on {PREVIOUS_LABEL} (0%)" in text  # all Planning last quarter: 0% advanced
    # Times in UK time, never labelled "(UTC)"; no hyphenated headings; correct plurals.
    assert "(UTC)" not in text
    assert "Each action across the region's councils" not in text  # the 140-bar chart is gone
    assert "1 councils" not in text and "1 comments" not in text
    # Progress by prevention tier, added up over the three councils, in the contents and drawn.
    assert "Progress by prevention tier" in text
    assert "added up over the 3 councils reporting" in text


def test_the_packs_prevention_tiers_add_up_the_reporting_councils_in_pdf_and_spreadsheet(app):
    from openpyxl import load_workbook

    bradford = "E08000032"
    three = (LEEDS, WAKEFIELD, bradford)
    _submit_three(app, three)
    with app.app_context():
        pack = _pack(council(LEEDS).region)
        period = pack.period
        expected = dict(
            db.session.execute(
                select(Action.prevention_tier, func.count(Assessment.id))
                .join(Assessment, Assessment.action_id == Action.id)
                .join(Return, Return.id == Assessment.return_id)
                .where(Return.period_id == period.id, Return.status == "submitted")
                .group_by(Action.prevention_tier)
            ).all()
        )
        workbook = load_workbook(io.BytesIO(render.region_xlsx(pack)))
    sheet = workbook["Prevention"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Prevention tier" and rows[0][-1] == "Total"
    totals = {row[0]: int(row[-1]) for row in rows[1:]}
    assert totals == {PREVENTION_TIER_LABELS[k or "none"]: n for k, n in expected.items()}
    assert sum(totals.values()) == 3 * 140
    # Every action, as numbers a spreadsheet sorts: Leeds and Wakefield Embedded, Bradford
    # Planning.
    actions = list(workbook["Actions"].iter_rows(values_only=True))
    head = actions[0]
    assert head[:4] == ("Area", "Action", "What the roadmap asks", "Councils reporting")
    assert len(actions) - 1 == len(pack.actions) == 140
    first = dict(zip(head, actions[1], strict=True))
    assert first["Councils reporting"] == 3
    assert (first["Embedded"], first["Planning"], first["Implementing or Embedded"]) == (2, 1, 2)
    assert first["Share at Implementing or Embedded"] == 0.667


def test_a_pack_with_too_few_councils_says_why_once_instead_of_drawing(app):
    open_period(app)
    assess(app, LEEDS, None, EMBEDDED)
    submit(app, LEEDS)
    with app.app_context():
        region = council(LEEDS).region
        period = db.session.scalar(select(Period).where(Period.label == LABEL))
        pack = data.build_region_pack(region, period, viewer=None)
        html = render.region_html(pack, chart_src=str)
    assert [c.id for c in pack.charts] == ["heatmap"]  # Leeds is named; no aggregate is drawn
    text = " ".join(BeautifulSoup(html, "html.parser").get_text().split())
    assert "Regional figures are not shown for this quarter: fewer than 3 councils" in text
    assert "no trend to show" in text
    assert "Regional median" not in text
