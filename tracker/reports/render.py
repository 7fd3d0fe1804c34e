"""Reports as files: the print template to PDF, the same figures to xlsx, and the HTML preview's
context. The web views, the background jobs and ``flask report`` all call these."""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app, render_template
from openpyxl import Workbook
from openpyxl.styles import Font

from tracker import storage
from tracker.clock import utcnow
from tracker.compare.charts import Chart
from tracker.domain.vocabulary import (
    FUNDING_NAMES,
    FUNDING_SYMBOLS,
    LEGISLATIVE_NAMES,
    LEGISLATIVE_SYMBOLS,
    RAG_HINTS,
    SPEND_NAMES,
    STAGE_HINTS,
    STAGE_KEYS,
    STAGE_LABELS,
)
from tracker.reports import charts, paper, pdf
from tracker.reports.data import (
    ARROWS,
    CouncilReport,
    RegionPack,
)
from tracker.returns.queries import DIRECTION_NAMES
from tracker.returns.spreadsheet import neutralise

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: "DRAFT" drawn as strokes, not text, so that it stays out of the PDF's extracted text
WATERMARK_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="600" height="800" viewBox="0 0 600 800">'
    '<g transform="rotate(-45 300 400) translate(20 325)" fill="none" stroke="#b1b4b6" '
    'stroke-opacity="0.4" stroke-width="16" stroke-linejoin="round" stroke-linecap="round">'
    '<path d="M0 0 H45 Q95 0 95 75 Q95 150 45 150 H0 Z"/>'
    '<path d="M120 150 V0 H175 Q215 0 215 40 Q215 80 175 80 H120 M170 80 L215 150"/>'
    '<path d="M240 150 L287 0 L335 150 M258 95 H317"/>'
    '<path d="M445 0 H360 V150 M360 75 H425"/>'
    '<path d="M465 0 H560 M512 0 V150"/>'
    "</g></svg>"
)


def tag_key() -> list[tuple[str, str]]:
    """The roadmap's tags and what they mean, for the key."""
    key = [(FUNDING_SYMBOLS[n], FUNDING_NAMES[n]) for n in (1, 2, 3)]
    key += [(letter, name) for letter, name in SPEND_NAMES.items()]
    key += [(LEGISLATIVE_SYMBOLS[n], LEGISLATIVE_NAMES[n]) for n in (1, 2, 3)]
    return key


def _common() -> dict[str, Any]:
    return {
        "STAGE_ORDER": STAGE_KEYS,
        "STAGE_LABELS": STAGE_LABELS,
        "STAGE_HINTS": STAGE_HINTS,
        "RAG_HINTS": RAG_HINTS,
        "ARROWS": ARROWS,
        "DIRECTION_NAMES": DIRECTION_NAMES,
        "tag_key": tag_key(),
        "paper": paper,
    }


def svg_data_uri(chart: Chart) -> str:
    """The chart rendered to SVG by the shared browser, as a data: URI for the PDF."""
    return "data:image/svg+xml;base64," + base64.b64encode(chart_svg(chart).encode()).decode()


class ChartImages:
    """Chart → URL for the PDF: each chart drawn (or taken from the cache) once, its SVG kept
    here for the renderer's fetcher, the watermark with them."""

    def __init__(self) -> None:
        self.images: dict[str, bytes] = {"watermark.svg": WATERMARK_SVG.encode()}

    def __call__(self, chart: Chart) -> str:
        name = f"{chart.id}.svg"
        self.images[name] = chart_svg(chart).encode()
        return f"{pdf.BASE_URL}charts/{name}"


def chart_svg(chart: Chart) -> str:
    """The chart as SVG text (the HTML preview loads it as an image from its own URL)."""
    return charts.to_svg(
        chart.figure,
        width=int(chart.figure.layout.width or 680),
        height=int(chart.figure.layout.height or 340),
        chromium=current_app.config.get("CHROMIUM_PATH", charts.DEFAULT_CHROMIUM),
    )


def council_title(report: CouncilReport) -> str:
    return paper.title(report.council.name, report.quarter)


def region_title(pack: RegionPack) -> str:
    return f"Regional comparison pack {pack.period.label} – {pack.region.name}"


def council_html(
    report: CouncilReport, *, chart_src: Callable[[Any], str], standalone: bool = False
) -> str:
    """The council report's print HTML (the PDF's source).

    :param standalone: embed the watermark as a data: URI (an HTML file to open on its own).
    """
    report.generated_at = report.generated_at or utcnow()
    return _council_page(
        report,
        chart_src,
        watermark=(
            "data:image/svg+xml;base64," + base64.b64encode(WATERMARK_SVG.encode()).decode()
            if standalone
            else f"{pdf.BASE_URL}charts/watermark.svg"
        ),
    )


def _council_page(report: CouncilReport, chart_src: Callable[[Any], str], watermark: str) -> str:
    return render_template(
        "reports/pdf/council.html",
        report=report,
        chart_src=chart_src,
        is_pdf=True,
        doc_title=council_title(report),
        is_draft=not report.is_signed_off,
        watermark=watermark,
        **_common(),
    )


def region_html(pack: RegionPack, *, chart_src: Callable[[Any], str]) -> str:
    pack.generated_at = pack.generated_at or utcnow()
    return render_template(
        "reports/pdf/region.html",
        pack=pack,
        chart_src=chart_src,
        is_pdf=True,
        doc_title=region_title(pack),
        is_draft=False,
        watermark=None,
        **_common(),
    )


def preview_context() -> dict[str, Any]:
    """What the HTML preview pages add to their own context: the same names as the PDF."""
    return {"is_pdf": False, **_common()}


def _pdf(html: str, images: ChartImages, wait: float) -> bytes:
    return pdf.html_to_pdf(
        html,
        static_folder=current_app.static_folder or "static",
        images=images.images,
        wait=wait,
    )


#: finished council reports kept in the file store, by the hash of their content; the oldest go
#: first
PDF_CACHE_SIZE = 300
CACHE_PREFIX = "reports/cache/"


def trim_cache() -> int:
    """Remove the oldest cached PDFs beyond :data:`PDF_CACHE_SIZE`; returns how many went."""
    store = storage.store()
    kept = sorted(
        (item for item in store.list(CACHE_PREFIX) if item.key.endswith(".pdf")),
        key=lambda item: item.modified,
    )
    old = kept[:-PDF_CACHE_SIZE]
    for item in old:
        store.delete(item.key)
    return len(old)


def cache_enabled() -> bool:
    """True when finished council PDFs are kept (``REPORT_PDF_CACHE``; off in tests)."""
    return bool(current_app.config.get("REPORT_PDF_CACHE", not current_app.testing))


def council_pdf(report: CouncilReport, *, wait: float = 0.0) -> bytes:
    """The council's quarterly board report as a tagged A4 PDF.

    Laying out a 40-page report takes WeasyPrint seconds, so the finished PDF is kept, keyed by
    a SHA-256 of its HTML without the "Produced" time: the same figures, narratives and charts
    give the same file until something in the return (or its panel comments) changes.

    :raises pdf.RendererBusy: every render slot stayed busy for ``wait`` seconds.
    :raises charts.ChartRenderError: the browser could not draw a chart.
    """
    images = ChartImages()
    cached_key = None
    if cache_enabled():
        produced, report.generated_at = report.generated_at, None
        key_html = _council_page(report, images, watermark="")
        report.generated_at = produced
        digest = hashlib.sha256(key_html.encode())
        for name in sorted(images.images):
            digest.update(images.images[name])
        cached_key = f"{CACHE_PREFIX}{digest.hexdigest()}.pdf"
        try:
            return storage.store().read(cached_key)
        except FileNotFoundError:
            pass
    content = _pdf(council_html(report, chart_src=images), images, wait)
    if cached_key is not None:
        storage.store().save(cached_key, content)
        trim_cache()
    return content


def region_pdf(pack: RegionPack, *, wait: float = 0.0) -> bytes:
    """The regional comparison pack as a tagged A4 PDF (same errors as :func:`council_pdf`)."""
    images = ChartImages()
    return _pdf(region_html(pack, chart_src=images), images, wait)


# -- spreadsheets ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sheet:
    title: str
    header: list[str]
    rows: list[list[Any]]


def _workbook(sheets: list[Sheet]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for sheet in sheets:
        ws = book.create_sheet(sheet.title[:31])
        ws.append(sheet.header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in sheet.rows:
            # Text a person typed must stay text in a spreadsheet program (SECURITY.md F).
            ws.append([neutralise(v) if isinstance(v, str) else v for v in row])
        ws.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def council_sheets(report: CouncilReport) -> list[Sheet]:
    """The report's data as tables: summary by area, charts' data, exceptions, every action."""
    stage_order = STAGE_KEYS
    sheets = [
        Sheet(
            "Summary by area",
            [
                "Area",
                "Actions",
                *[STAGE_LABELS[s] for s in stage_order],
                "Red",
                "Amber",
                "Green",
                "Improved",
                "Unchanged",
                "Worsened",
            ],
            [
                [
                    a.label,
                    a.total,
                    *[a.stages.get(s, 0) for s in stage_order],
                    *[a.rags.get(r, 0) for r in ("red", "amber", "green")],
                    *[a.directions.get(d, 0) for d in ("improved", "unchanged", "worsened")],
                ]
                for a in report.areas
            ],
        )
    ]
    columns = [
        "Action code",
        "Action",
        "Area",
        "Timeframe",
        "Lead",
        "Stage",
        "RAG rating",
        "Direction of travel",
        "Last quarter",
        "Progress",
        "Next steps",
        "Barriers",
        "About the barriers",
        "Lead officer",
        "Target",
        "Co-produced",
        "Evidence",
    ]

    def line(a) -> list[Any]:
        return [
            a.code,
            a.text,
            a.area_label,
            a.timeframe,
            a.lead,
            a.stage,
            a.rag,
            a.direction,
            a.previous,
            a.narrative,
            a.next_steps,
            ", ".join(a.barriers),
            a.barrier_detail,
            a.lead_officer,
            a.target,
            a.co_produced,
            "; ".join(a.evidence),
        ]

    sheets.append(Sheet("Exceptions", columns, [line(a) for a in report.exceptions]))
    sheets.append(Sheet("Actions", columns, [line(a) for a in report.actions]))
    c = report.coproduction
    if c.available:
        sheets.append(
            Sheet(
                "Co-production",
                ["Action code", "You said", "We answered", "We did", "Panel member"],
                [
                    [i["action_code"], i["said"], i["did"], i["change"], i["by"]]
                    for i in c.you_said_we_did
                ]
                + [[], ["Comments received", c.received], ["Answered", c.answered]]
                + [["Open", c.open], ["Hidden by the council", c.hidden]],
            )
        )
    views = report.panel_views
    if report.is_signed_off:
        counts = paper.panel_view_rows(views, as_text=False)
        notes = [s for s in (views.withheld_sentence, views.none_yet) if s]
        sheets.append(
            Sheet(
                "Panel's view",
                list(paper.PANEL_VIEWS_HEAD),
                counts + ([[], *[[note] for note in notes]] if notes else []),
            )
        )
    return sheets


def council_xlsx(report: CouncilReport) -> bytes:
    """The report's data as an xlsx workbook."""
    return _workbook(council_sheets(report))


def region_xlsx(pack: RegionPack) -> bytes:
    """The pack's data as an xlsx workbook: the named table, each chart's data, and every
    action over the reporting councils (the PDF's appendix)."""
    stage_order = STAGE_KEYS
    sheets = [
        Sheet(
            "Councils",
            [
                "Council",
                "GSS code",
                "Return",
                *[STAGE_LABELS[s] for s in stage_order],
                "Red",
                "Amber",
                "Green",
            ],
            [
                [
                    line.name,
                    line.gss_code,
                    line.status,
                    *[line.stages.get(s, 0) for s in stage_order],
                    *[line.rags.get(r, 0) for r in ("red", "amber", "green")],
                ]
                for line in pack.shared
            ],
        )
    ]
    for chart in pack.charts:
        sheets.append(Sheet(chart.id.replace("-", " ").capitalize(), *chart.table))
    if pack.actions:
        # The PDF's appendix as numbers, for a regional lead to sort and filter: every action
        # over the reporting councils, with the share the PDF ranks the actions by.
        sheets.append(
            Sheet(
                "Actions",
                [
                    "Area",
                    "Action",
                    "What the roadmap asks",
                    "Councils reporting",
                    *[STAGE_LABELS[s] for s in stage_order],
                    "Implementing or Embedded",
                    "Share at Implementing or Embedded",
                ],
                [
                    [
                        action.area,
                        action.code,
                        action.text,
                        action.councils,
                        *[action.stages.get(s, 0) for s in stage_order],
                        action.advanced,
                        round(action.advanced / action.councils, 3) if action.councils else None,
                    ]
                    for action in pack.actions
                ],
            )
        )
    return _workbook(sheets)
