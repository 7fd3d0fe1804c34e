"""The council's quarterly board paper as a Word document (.docx), for committee systems that take
Word: the same model as the PDF (``data.CouncilReport``), printed with python-docx.

The document uses Word's own styles (Title, Heading 1–3, List Number, List Bullet, Caption, a
grid table style with header rows that repeat on each page), so a committee clerk can restyle
it to the council's template and a screen reader can move by heading. Charts are PNG pictures
drawn by the same browser as the PDF's SVG, each with the chart's summary as its alt text and
followed by the table of its data. Sections, headings and sentences come from
:mod:`tracker.reports.paper`, as the PDF's do, so the two say the same things.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph
from flask import current_app

from tracker.clock import to_uk, utcnow
from tracker.compare.charts import Chart
from tracker.domain.periods import long_date
from tracker.domain.vocabulary import RAG_HINTS, RAG_NAMES, STAGE_HINTS, STAGE_KEYS, STAGE_LABELS
from tracker.reports import charts, paper
from tracker.reports.charts import ChartRenderError
from tracker.reports.data import ActionDetail, CouncilReport

DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FONT = "Arial"
TEXT = RGBColor(0x0B, 0x0C, 0x0C)
SECONDARY = RGBColor(0x50, 0x5A, 0x5F)
LINK = RGBColor(0x1D, 0x70, 0xB8)
#: A4 with 20 mm margins: 170 mm of text width
TEXT_WIDTH_MM = 170
log = logging.getLogger(__name__)


def title(report: CouncilReport) -> str:
    """The document's title, as its properties and running header give it."""
    return paper.title(report.council.name, report.quarter)


def chart_png(chart: Chart) -> bytes:
    """The chart as PNG, drawn by the shared browser (or taken from its cache).

    :raises ChartRenderError: the browser could not draw it.
    """
    layout = chart.figure.layout
    return charts.to_png(
        chart.figure,
        width=int(layout.width or 680),
        height=int(layout.height or 340),
        chromium=current_app.config.get("CHROMIUM_PATH", charts.DEFAULT_CHROMIUM),
    )


def build_docx(report: CouncilReport) -> bytes:
    """The board paper as a .docx file: cover, the sections of :data:`paper.SECTIONS` in order,
    the appendix of every action and the key.

    A chart the browser cannot draw is left out, with its summary and data table kept: the
    paper is complete without the picture, and a committee deadline is not missed for it.
    """
    report.generated_at = report.generated_at or utcnow()
    paper_doc = _Paper(report)
    paper_doc.write()
    out = io.BytesIO()
    paper_doc.doc.save(out)
    return out.getvalue()


def _when(at) -> str:
    """A stored UTC time as the UK date people read: "7 December 2026"."""
    return long_date(to_uk(at).date()) if at else ""


def _action_title(action: ActionDetail) -> str:
    return f"{action.text} ({action.code})"


class DocxWriter:
    """A document being written in the board paper's styles: paragraphs, headings with
    bookmarks, "Label: value" pairs and captioned tables. The board paper and the CQC pack
    (``tracker.cqc.documents``) are both written with it, after :func:`set_up`."""

    def __init__(self) -> None:
        self.doc: DocumentObject = Document()
        self.bookmarks = 0
        self.style_ids: dict[str, str] = {}
        self.body = self.doc._body._body

    def add(self, text: str = "", style: str | None = None) -> Paragraph:
        """A paragraph at the end of the body. python-docx looks a style up by name through
        every style of the template each time (most of a 140-action paper's time), so the
        style's id is looked up once and set on the paragraph directly."""
        p = self.body.add_p()
        if style:
            p.style = self.add_style_id(style)
        paragraph = Paragraph(p, self.doc._body)
        if text:
            paragraph.add_run(text)
        return paragraph

    def add_style_id(self, style: str) -> str:
        if style not in self.style_ids:
            self.style_ids[style] = self.doc.styles[style].style_id
        return self.style_ids[style]

    def para(self, text: str, style: str | None = None) -> Paragraph:
        return self.add(text, style)

    def heading(self, text: str, level: int, *, anchor: str | None = None) -> Paragraph:
        paragraph = self.add(text, f"Heading {level}")
        if anchor:
            self.bookmarks += 1
            _bookmark(paragraph, anchor, self.bookmarks)
        return paragraph

    def pair(self, label: str, value: str, style: str | None = None) -> Paragraph:
        paragraph = self.add(style=style or "Pair")
        paragraph.add_run(f"{label}:").bold = True
        paragraph.add_run(f" {value}")
        return paragraph

    def pairs(self, rows: Iterable[tuple[str, str]]) -> list[Paragraph]:
        """ "Label: value" paragraphs with the label in bold, skipping empty values."""
        return [self.pair(label, value) for label, value in rows if value]

    def facts(self, rows: Sequence[tuple[str, str]]) -> list[Paragraph]:
        """Short facts on one line, "Label: value · Label: value", as the PDF prints them."""
        text = " · ".join(f"{label}: {value}" for label, value in rows if value)
        return [self.para(text, "Action facts")] if text else []

    def table(
        self,
        caption: str,
        head: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        numeric: Sequence[int] = (),
        total_row: bool = False,
    ) -> DocxTable:
        """A captioned table in the grid style, its header row repeated on every page, its
        numbers aligned right, its columns as wide as their longest word needs (a wide table
        in a smaller type)."""
        self.para(caption, "Caption")
        table = self.doc.add_table(rows=1 + len(rows), cols=len(head))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.LEFT
        _cell_margins(table)
        # Word's table "alt text": the title a screen reader announces.
        table_caption = OxmlElement("w:tblCaption")
        table_caption.set(qn("w:val"), caption)
        table._tbl.tblPr.append(table_caption)
        small = len(head) > 5
        columns = [Mm(w) for w in _widths(head, rows, numeric, small=small)]
        for index, column in enumerate(table.columns):
            column.width = columns[index]
        last = len(rows)
        table_text = self.add_style_id("Table small" if small else "Table text")
        for row_index, (row, values) in enumerate(zip(table.rows, [head, *rows], strict=True)):
            if row_index == 0:
                _repeat_header(row._tr)
            bold = row_index == 0 or (total_row and row_index == last)
            for index, (cell, value) in enumerate(zip(row.cells, values, strict=True)):
                cell.width = columns[index]
                paragraph = cell.paragraphs[0]
                paragraph._p.style = table_text
                if index in numeric:
                    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                run = paragraph.add_run(value)
                if bold:
                    run.bold = True
        return table


class _Paper(DocxWriter):
    """One document being written: the report, the python-docx document and a bookmark count."""

    def __init__(self, report: CouncilReport) -> None:
        super().__init__()
        self.report = report
        self.previous_name = (
            paper.quarter_name(report.previous_period) if report.previous_period else None
        )
        _set_up(self.doc, report)

    # -- the sections, in the order of paper.SECTIONS ----------------------------------------

    def write(self) -> None:
        self.cover()
        sections: dict[str, Callable[[], None]] = {
            "director": self.director,
            "recommendations": self.recommendations,
            "progress": self.progress,
            "exceptions": self.exceptions,
            "financial": self.financial,
            "risks": self.risks,
            "coproduction": self.coproduction,
            "trend": self.trend,
            "appendix": self.appendix,
            "key": self.key,
        }
        for anchor, heading in paper.SECTIONS:
            self.heading(heading, 1, anchor=anchor)
            sections[anchor]()

    def cover(self) -> None:
        r = self.report
        self.para(r.council.name, "Subtitle")
        self.add(f"Quarterly board paper: {r.quarter}", "Title")
        intro = self.add(style="Cover text")
        intro.add_run("Progress on ")
        intro.add_run(
            "Time to act: a roadmap for reforming care and support in England"
        ).italic = True
        intro.add_run(" (ADASS, 2023)")
        submitted = (
            f"By {r.submitted_by or 'someone'} on {_when(r.return_.submitted_at)}"
            if r.return_.submitted_at and r.return_.status != "draft"
            else "Not yet"
        )
        facts = [
            ("Council", r.council.name),
            ("Quarter", f"{r.quarter} ({r.period.label})"),
            ("Return", r.status_name),
            (
                "From",
                f"{r.author or 'The Director of Adult Social Services'}, Director of Adult "
                "Social Services"
                if r.is_signed_off
                else "Not yet signed off by the Director of Adult Social Services",
            ),
            ("Submitted", submitted),
            (
                "Signed off",
                f"On {_when(r.return_.signed_off_at)}" if r.is_signed_off else "Not yet",
            ),
            ("Date", _when(r.dated)),
        ]
        for label, value in facts:
            self.pair(label, value)
        if not r.is_signed_off:
            warning = self.add(style="Warning")
            warning.add_run(paper.DRAFT_WARNING).bold = True
        self.contents()
        self.add().add_run().add_break(WD_BREAK.PAGE)

    def contents(self) -> None:
        self.heading("Contents", 2)
        for number, (anchor, heading) in enumerate(paper.SECTIONS, start=1):
            line = self.add(style="Contents")
            line.add_run(f"{number}. ")
            _internal_link(line, heading, anchor)

    def director(self) -> None:
        r = self.report
        if not r.director_summary:
            self.para(paper.missing_summary(r.is_signed_off))
            return
        for line in r.director_summary.splitlines():
            if line.strip():
                self.para(line.strip())
        if r.author:
            self.add().add_run(f"{r.author}, Director of Adult Social Services").italic = True

    def recommendations(self) -> None:
        r = self.report
        if not r.recommendations:
            self.para(paper.missing_recommendations(r.is_signed_off))
            return
        self.para("The board is asked to:")
        for text in r.recommendations:
            self.add(text, "List Number")

    def progress(self) -> None:
        r = self.report
        intro = f"The return covers {r.kinds}."
        if self.previous_name:
            intro += f" Changes are since {self.previous_name}"
            if r.last_year_period:
                intro += f"; a year ago is {paper.quarter_name(r.last_year_period)}"
            intro += "."
        self.para(intro)
        for sentence in r.summary:
            self.add(sentence, "List Bullet")
        change = "Change in Implementing or Embedded" + (
            f" since {self.previous_name}" if self.previous_name else ""
        )
        self.table(
            "Each area: actions at Implementing or Embedded",
            ["Area", "Actions", "Embedded", "Implementing", change],
            [
                [a.label, str(a.total), str(a.embedded), str(a.implementing), a.change]
                for a in r.area_progress
            ],
            numeric=(1, 2, 3),
        )
        self.chart_or_reason(
            "stage-mix", "No action is assessed yet, so there is no chart of stages by area."
        )
        self.chart_or_reason(
            "rag-mix",
            "No action is in planning or being implemented, so no action has a RAG rating to "
            "chart.",
        )

    def exceptions(self) -> None:
        r = self.report
        intro = self.para(paper.exceptions_intro(len(r.exceptions), self.previous_name))
        intro.paragraph_format.keep_with_next = bool(r.exceptions)
        for a in r.exceptions:
            self.heading(_action_title(a), 2)
            block = self.facts(
                [("Why listed", "; ".join(a.exception_reasons)), ("Stage", a.stage_and_rag)]
            )
            barriers = ", ".join(a.barriers) or "None recorded"
            if a.barrier_detail:
                barriers += f". {a.barrier_detail}"
            block += self.pairs(
                [
                    ("Progress", a.narrative or "None given"),
                    ("Next steps and mitigation", a.next_steps or "None given"),
                    ("Barriers", barriers),
                ]
            )
            _keep_together(block)

    def financial(self) -> None:
        f = self.report.financial
        if f is None:
            return
        for sentence in paper.financial_sentences(f):
            self.para(sentence)
        if f.spend:
            self.table(
                "What the roadmap says the actions in progress need: type of spend and funding "
                "level (£ modest, ££ substantial, £££ significant year on year)",
                ["Type of spend", "Actions in progress", "By funding level"],
                [
                    [line.name, str(line.actions), line.levels or "No funding level tagged"]
                    for line in f.spend
                ],
                numeric=(1,),
            )
        if f.sources:
            self.table(
                "Funding the council recorded, by source",
                ["Source", "Actions", "Amount"],
                [[line.name, str(line.actions), line.amount] for line in f.sources]
                + [["Total", str(sum(line.actions for line in f.sources)), f.total]],
                numeric=(1, 2),
                total_row=True,
            )
        if f.unfunded:
            self.heading("In progress with no funding recorded", 2)
            for a in f.unfunded:
                tags = f": {'; '.join(a.tags)}" if a.tags else ""
                self.add(_action_title(a) + tags, "List Bullet")

    def risks(self) -> None:
        k = self.report.risks
        if k is None:
            return
        if k.groups:
            them = "it" if k.count == 1 else "them"
            self.para(
                f"{paper.plural(k.count, 'action has', 'actions have')} a barrier recorded "
                f"against {them}."
            )
            for group in k.groups:
                self.heading(f"{group.name}: {paper.plural(len(group.actions), 'action')}", 2)
                for a in group.listed:
                    self.add(_action_title(a), "List Bullet")
                if group.more:
                    self.add(f"and {group.more} more (see the appendix)", "List Bullet")
        else:
            self.para("No barrier is recorded against any action this quarter.")
        self.heading("Blocked by national policy or legislation", 2)
        if k.national:
            for a, tag in k.national:
                self.add(f"{_action_title(a)}: {tag}", "List Bullet")
        else:
            self.para("No action is recorded as blocked by national policy or legislation.")

    def coproduction(self) -> None:
        c = self.report.coproduction
        if not c.available:
            self.para("Comments from the co-production panel are not recorded in this service.")
            return
        self.para(
            paper.coproduction_sentence(
                c.received, c.answered, c.open, c.hidden, c.median_days, c.overdue, c.aim_days
            )
        )
        for item in c.you_said_we_did:
            self.heading(f"{item.get('action') or item['action_code']} ({item['action_code']})", 2)
            said = item["said"] + (f" ({item['by']})" if item.get("by") else "")
            _keep_together(
                self.pairs(
                    [("You said", said), ("We answered", item["did"]), ("We did", item["change"])]
                )
            )
        if c.received and not c.you_said_we_did:
            self.para('No answer is marked "you said, we did" yet.')
        self.panel_views()

    def panel_views(self) -> None:
        """The panel's own view beside the council's RAG (a signed-off return only)."""
        if not self.report.is_signed_off:
            return
        views = self.report.panel_views
        self.heading("The panel's view beside the council's RAG", 2)
        self.para(views.intro)
        if views.shown:
            self.table(
                paper.PANEL_VIEWS_CAPTION,
                list(paper.PANEL_VIEWS_HEAD),
                paper.panel_view_rows(views),
                numeric=tuple(range(2, len(paper.PANEL_VIEWS_HEAD))),
            )
        for sentence in (views.withheld_sentence, views.none_yet):
            if sentence:
                self.para(sentence)

    def trend(self) -> None:
        rows = self.report.trend
        if len(rows) <= 1:
            self.para(
                "This is the council's first return in Roadmap Tracker, so there is no trend to "
                "show yet."
            )
            return
        self.table(
            "Roadmap actions by stage, quarter by quarter",
            ["Quarter", *(STAGE_LABELS[s] for s in paper.TREND_STAGES)],
            [
                [row.quarter, *(str(row.stages.get(s, 0)) for s in paper.TREND_STAGES)]
                for row in rows
            ],
            numeric=(1, 2, 3, 4, 5),
        )
        self.chart_or_reason("trend", "")

    def appendix(self) -> None:
        r = self.report
        since = f", with its direction of travel since {self.previous_name}"
        self.para(f"Every action of the return, area by area{since if self.previous_name else ''}.")
        for label, actions in r.groups:
            self.heading(label, 2)
            for a in actions:
                self.heading(_action_title(a), 3)
                meta = " · ".join(
                    part
                    for part in (a.timeframe, f"{a.lead} lead" if a.lead else "", "; ".join(a.tags))
                    if part
                )
                block = [self.para(meta, "Action facts")] if meta else []
                direction = (f"{a.arrow} " if a.arrow else "") + a.direction
                if a.previous:
                    direction += f" (was {a.previous})"
                block += self.facts(
                    [
                        ("Stage", a.stage_and_rag),
                        ("Since last quarter", direction),
                        ("Lead officer", a.lead_officer),
                        ("Target", a.target),
                        ("Co-produced", a.co_produced),
                    ]
                )
                barriers = ", ".join(a.barriers)
                if a.barriers and a.barrier_detail:
                    barriers += f". {a.barrier_detail}"
                block += self.pairs(
                    [
                        ("Why not applicable", a.not_applicable_reason),
                        ("Progress", a.narrative),
                        ("Next steps", a.next_steps),
                        ("Barriers", barriers),
                        ("Evidence", "; ".join(a.evidence)),
                    ]
                )
                _keep_together(block)

    def key(self) -> None:
        from tracker.reports.render import tag_key

        self.heading("Tags", 2)
        self.pairs(tag_key())
        self.heading("Stage", 2)
        self.pairs([(STAGE_LABELS[s], STAGE_HINTS[s]) for s in STAGE_KEYS if s in STAGE_HINTS])
        self.heading("RAG rating", 2)
        self.pairs([(RAG_NAMES[rag], RAG_HINTS[rag]) for rag in ("green", "amber", "red")])
        self.heading("Direction of travel", 2)
        self.pairs(paper.DIRECTION_KEY)

    def chart_or_reason(self, chart_id: str, reason: str) -> None:
        chart = next((c for c in self.report.charts if c.id == chart_id), None)
        if chart is None:
            if reason:
                self.para(reason)
            return
        self.chart(chart)

    def chart(self, chart: Chart) -> None:
        """The chart's heading, its picture (alt text: its summary), the summary as a caption
        and the table of its data, as the PDF's ``chart_block``."""
        self.heading(chart.title, 2)
        try:
            image = chart_png(chart)
        except ChartRenderError:
            log.warning("chart %s left out of the Word paper", chart.id, exc_info=True)
        else:
            run = self.add(style="Figure").add_run()
            shape = run.add_picture(io.BytesIO(image), width=Mm(TEXT_WIDTH_MM - 10))
            # Word reads a picture's alt text from docPr's descr; python-docx leaves it empty.
            doc_pr = shape._inline.docPr
            doc_pr.set("descr", chart.summary)
            doc_pr.set("title", chart.title)
        self.para(chart.summary, "Figure caption")
        head, rows = chart.table
        self.table(f"Data: {chart.title.lower()}", head, rows, numeric=chart.table.numeric)


# -- document set-up ------------------------------------------------------------------------------


def _set_up(doc: DocumentObject, report: CouncilReport) -> None:
    set_up(
        doc,
        title=title(report),
        subject="Progress on Time to act: a roadmap for reforming care and support in England",
        keywords="board paper; adult social care; ADASS roadmap",
        author=report.author or report.council.name,
        is_draft=not report.is_signed_off,
        made=report.generated_at or utcnow(),
    )


def set_up(
    doc: DocumentObject,
    *,
    title: str,
    subject: str,
    keywords: str,
    author: str,
    is_draft: bool,
    made: datetime,
) -> None:
    """A4, fonts and styles like the PDF's, British English, no hyphenation, the properties,
    and a running header ("– DRAFT" after the title when ``is_draft``) and "Page X of Y"
    footer."""
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(20)
    section.top_margin, section.bottom_margin = Mm(20), Mm(18)
    section.header_distance = section.footer_distance = Mm(9)

    styles = doc.styles
    defaults = styles.element.find(qn("w:docDefaults"))
    run_defaults = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _fonts(run_defaults)
    run_defaults.find(qn("w:lang")).set(qn("w:val"), "en-GB")
    settings = doc.settings.element
    settings.find(qn("w:themeFontLang")).set(qn("w:val"), "en-GB")
    no_hyphens = OxmlElement("w:autoHyphenation")
    no_hyphens.set(qn("w:val"), "false")
    settings.find(qn("w:defaultTabStop")).addnext(no_hyphens)

    normal = styles["Normal"]
    normal.font.size = Pt(11)
    normal.font.color.rgb = TEXT
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.line_spacing = 1.15
    for name, size, before, after in (
        ("Title", 26, 0, 12),
        ("Heading 1", 17, 18, 8),
        ("Heading 2", 12.5, 12, 4),
        ("Heading 3", 11, 10, 2),
    ):
        style = styles[name]
        _fonts(style.element.get_or_add_rPr())
        style.font.size = Pt(size)
        style.font.bold = True
        style.font.color.rgb = TEXT
        style.paragraph_format.space_before = Pt(before)
        style.paragraph_format.space_after = Pt(after)
        style.paragraph_format.keep_with_next = True
    title_ppr = styles["Title"].element.get_or_add_pPr()
    border = title_ppr.find(qn("w:pBdr"))
    if border is not None:
        title_ppr.remove(border)
    subtitle = styles["Subtitle"]
    _fonts(subtitle.element.get_or_add_rPr())
    subtitle.font.size, subtitle.font.italic = Pt(14), False
    subtitle.font.color.rgb = SECONDARY
    subtitle.paragraph_format.space_after = Pt(4)
    caption = styles["Caption"]
    caption.font.size, caption.font.bold, caption.font.italic = Pt(10), True, False
    caption.font.color.rgb = TEXT
    caption.paragraph_format.space_before, caption.paragraph_format.space_after = Pt(8), Pt(3)
    caption.paragraph_format.keep_with_next = True
    for name in ("List Number", "List Bullet"):
        styles[name].paragraph_format.space_after = Pt(4)

    _style(doc, "Cover text", size=13, after=12)
    _style(doc, "Pair", size=10, after=3)
    _style(doc, "Action facts", size=9, after=3, colour=SECONDARY)
    _style(doc, "Table text", size=9.5, after=0, line=1.0)
    _style(doc, "Table small", size=8.5, after=0, line=1.0)
    _style(doc, "Contents", size=12, after=4)
    _style(doc, "Figure", after=2, keep_with_next=True)
    _style(doc, "Figure caption", size=10, after=6)
    warning = _style(doc, "Warning", size=12, before=12, after=12)
    ppr = warning.element.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    for side in ("top", "left", "bottom", "right"):
        line = OxmlElement(f"w:{side}")
        for key, value in (("val", "single"), ("sz", "16"), ("space", "6"), ("color", "0B0C0C")):
            line.set(qn(f"w:{key}"), value)
        borders.append(line)
    ppr.insert_element_before(borders, "w:shd", "w:tabs", "w:spacing", "w:ind", "w:jc")

    properties = doc.core_properties
    properties.title = title
    properties.subject = subject
    properties.author = author
    properties.last_modified_by = properties.author
    properties.language = "en-GB"
    properties.keywords = keywords
    properties.comments = ""
    properties.revision = 1
    properties.created = properties.modified = made

    header = section.header.paragraphs[0]
    header.style = "Header"
    running = title + (" – DRAFT" if is_draft else "")
    header.add_run(running).font.size = Pt(8.5)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for part in ("Page ", "PAGE", " of ", "NUMPAGES"):
        if part.isupper():
            _field(footer, part)
        else:
            footer.add_run(part).font.size = Pt(8.5)


def _style(
    doc: DocumentObject,
    name: str,
    *,
    size: float | None = None,
    before: float = 0,
    after: float = 6,
    line: float | None = None,
    colour: RGBColor | None = None,
    keep_with_next: bool = False,
):
    from docx.enum.style import WD_STYLE_TYPE

    style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = doc.styles["Normal"]
    style.quick_style = True
    if size:
        style.font.size = Pt(size)
    if colour is not None:
        style.font.color.rgb = colour
    style.paragraph_format.space_before = Pt(before)
    style.paragraph_format.space_after = Pt(after)
    if line:
        style.paragraph_format.line_spacing = line
    if keep_with_next:
        style.paragraph_format.keep_with_next = True
    return style


def _fonts(rpr) -> None:
    """Arial for every script, in place of the template's theme fonts (which Word would
    prefer to a named font)."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for key in list(fonts.attrib):
        if key.endswith("Theme") or key.endswith("theme"):
            del fonts.attrib[key]
    for script in ("ascii", "hAnsi", "cs", "eastAsia"):
        fonts.set(qn(f"w:{script}"), FONT)


#: Arial's advance widths (thousandths of an em; Helvetica's metrics, which Arial shares) for
#: sizing table columns: regular, then bold, for " 0-9a-zA-Z"; anything else counts as 0.556
_LETTERS = " 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_REGULAR = (
    [278]
    + [556] * 10
    + [556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833]
    + [556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500]
    + [667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833]
    + [722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611]
)
_BOLD = (
    [278]
    + [556] * 10
    + [556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889]
    + [611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500]
    + [722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833]
    + [722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611]
)
_EM = {
    False: dict(zip(_LETTERS, _REGULAR, strict=True)),
    True: dict(zip(_LETTERS, _BOLD, strict=True)),
}
#: a cell's left and right margins (see _cell_margins), and a little to spare, in millimetres
_PADDING = 3.4


def _text_mm(text: str, size: float, *, bold: bool = False) -> float:
    widths = _EM[bold]
    return sum(widths.get(ch, 556) for ch in text) / 1000 * size * 25.4 / 72


def _widths(
    head: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int], *, small: bool
) -> list[float]:
    """Column widths in millimetres that fill the text width: every column at least as wide as
    its longest word (a number is one word; a heading is bold), a column of numbers no wider,
    and the space left to the first column and the other text columns, by how much text they
    hold."""
    size = 8.5 if small else 9.5
    least, weights = [], []
    for index, heading in enumerate(head):
        cells = [str(row[index]) for row in rows if index < len(row)]
        least.append(
            max(
                [_text_mm(w, size, bold=True) for w in heading.split()]
                + [_text_mm(w, size) for text in cells for w in text.split()]
                + [0.0]
            )
            + _PADDING
        )
        is_text = index == 0 or index not in numeric
        weights.append((sum(len(c) for c in cells) / max(1, len(cells)) + 4) if is_text else 0.0)
    spare = max(0.0, TEXT_WIDTH_MM - sum(least))
    total = sum(weights) or 1.0
    widths = [w + spare * weight / total for w, weight in zip(least, weights, strict=True)]
    scale = TEXT_WIDTH_MM / sum(widths)
    return [w * scale for w in widths]


def _cell_margins(table: DocxTable) -> None:
    """Narrower cell margins than Word's 1.9 mm, so a column of numbers can be narrow."""
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        margin = OxmlElement(f"w:{side}")
        margin.set(qn("w:w"), "74")  # twentieths of a point: 1.3 mm
        margin.set(qn("w:type"), "dxa")
        margins.append(margin)
    table._tbl.tblPr.insert_element_before(margins, "w:tblLook", "w:tblCaption")


def _keep_together(paragraphs: Sequence[Paragraph]) -> None:
    """Keep an action's lines on one page with its heading (each keeps with the next)."""
    for paragraph in paragraphs[:-1]:
        paragraph.paragraph_format.keep_with_next = True


def _repeat_header(tr) -> None:
    """Mark a table row as the header row Word repeats at the top of each page (and reads to
    a screen reader as the column headings)."""
    properties = tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)
    cant_split = OxmlElement("w:cantSplit")
    properties.insert(0, cant_split)


def _bookmark(paragraph: Paragraph, name: str, number: int) -> None:
    start = OxmlElement("w:bookmarkStart")
    start.set(qn("w:id"), str(number))
    start.set(qn("w:name"), name)
    end = OxmlElement("w:bookmarkEnd")
    end.set(qn("w:id"), str(number))
    p = paragraph._p
    ppr = p.pPr
    if ppr is not None:
        ppr.addnext(start)
    else:
        p.insert(0, start)
    p.append(end)


def _internal_link(paragraph: Paragraph, text: str, anchor: str) -> None:
    """A link to a bookmark in the document (the contents)."""
    link = OxmlElement("w:hyperlink")
    link.set(qn("w:anchor"), anchor)
    link.set(qn("w:history"), "1")
    run = OxmlElement("w:r")
    properties = OxmlElement("w:rPr")
    colour = OxmlElement("w:color")
    colour.set(qn("w:val"), str(LINK))
    underline = OxmlElement("w:u")
    underline.set(qn("w:val"), "single")
    properties.append(colour)
    properties.append(underline)
    run.append(properties)
    t = OxmlElement("w:t")
    t.text = text
    run.append(t)
    link.append(run)
    paragraph._p.append(link)


def _field(paragraph: Paragraph, instruction: str) -> None:
    """A simple field (PAGE, NUMPAGES) that Word and LibreOffice fill in."""
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    properties = OxmlElement("w:rPr")
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), "17")
    properties.append(size)
    run.append(properties)
    t = OxmlElement("w:t")
    t.text = "1"
    run.append(t)
    field.append(run)
    paragraph._p.append(field)
