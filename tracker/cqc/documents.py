"""The CQC view as a pack for the council's self-assessment: the page's markup printed to a
tagged PDF by the board paper's renderer (``tracker.reports.pdf``, fetching ``static/`` only),
and the same content as a Word document written with the board paper's styles and building
blocks (``tracker.reports.word``). The sentences come from :mod:`tracker.cqc.texts`.
"""

from __future__ import annotations

import io

from flask import current_app, render_template

from tracker.clock import utcnow
from tracker.cqc import texts
from tracker.cqc.services import CqcView, StatementView
from tracker.reports import pdf, word
from tracker.reports.render import WATERMARK_SVG

DOCX_MIMETYPE = word.DOCX_MIMETYPE


# -- the PDF -------------------------------------------------------------------------------------


def pack_html(view: CqcView) -> str:
    """The pack's print HTML (the PDF's source)."""
    view.generated_at = view.generated_at or utcnow()
    return render_template(
        "cqc/pdf/pack.html",
        view=view,
        texts=texts,
        is_pdf=True,
        doc_title=texts.title(view),
        is_draft=not view.is_signed_off,
        watermark=f"{pdf.BASE_URL}charts/watermark.svg",
        evidence_href=lambda item: "",
    )


def pack_pdf(view: CqcView) -> bytes:
    """The pack as a tagged A4 PDF, "Draft" watermarked until the return is signed off.

    :raises pdf.RendererBusy: every render slot is busy.
    """
    return pdf.html_to_pdf(
        pack_html(view),
        static_folder=current_app.static_folder or "static",
        images={"watermark.svg": WATERMARK_SVG.encode()},
    )


# -- the Word document ---------------------------------------------------------------------------


def pack_docx(view: CqcView) -> bytes:
    """The pack as a .docx file in the board paper's styles: the same sections and sentences
    as the PDF."""
    view.generated_at = view.generated_at or utcnow()
    writer = word.DocxWriter()
    word.set_up(
        writer.doc,
        title=texts.title(view),
        subject="Progress on the ADASS roadmap read against the CQC's quality statements",
        keywords="CQC; local authority assessment; adult social care; ADASS roadmap",
        author=view.council.name,
        is_draft=not view.is_signed_off,
        made=view.generated_at,
    )
    writer.para(view.council.name, "Subtitle")
    writer.add(texts.heading(view), "Title")
    writer.para(texts.INTRO, "Cover text")
    for label, value in texts.cover_facts(view):
        writer.pair(label, value)
    warning = texts.status_warning(view)
    if warning:
        writer.add(style="Warning").add_run(warning).bold = True
    writer.heading(texts.SUMMARY_HEADING, 1, anchor="summary")
    if not view.has_framework:
        writer.para(texts.NO_FRAMEWORK)
    else:
        writer.para(f"{view.summary} {texts.GAP_RULE}")
        for s in view.with_gaps:
            writer.add(f"{s.code} {s.title}: {'; '.join(s.gaps)}", "List Bullet")
    for number, theme in enumerate(view.themes, start=1):
        writer.heading(theme.title, 1, anchor=f"theme-{number}")
        for s in theme.statements:
            _statement(writer, view, s)
    out = io.BytesIO()
    writer.doc.save(out)
    return out.getvalue()


def _statement(writer: word.DocxWriter, view: CqcView, s: StatementView) -> None:
    writer.heading(f"{s.code} {s.title}", 2)
    if s.gaps:
        writer.para("Gaps:")
        for gap in s.gaps:
            writer.add(gap, "List Bullet")
    else:
        writer.para(texts.NO_GAPS)
    writer.heading(texts.actions_heading(s), 3)
    if not s.actions:
        writer.para(texts.NO_ACTIONS)
    for a in s.actions:
        writer.para(f"{a.text} ({a.code})").runs[0].bold = True
        writer.facts(texts.action_facts(a))
        writer.pairs(
            [
                ("Why it is linked", a.rationale),
                ("Progress", a.narrative),
                ("Next steps", a.next_steps),
            ]
        )
    writer.heading(texts.evidence_heading(s), 3)
    if not s.evidence:
        writer.para(texts.NO_EVIDENCE)
    for group in s.evidence:
        writer.para(f"{group.name} ({len(group.items)})").runs[0].bold = True
        for item in group.items:
            writer.add(f"{item.title} ({texts.evidence_line(item)})", "List Bullet")
    if s.missing_categories and s.evidence:
        writer.para(texts.missing_sentence(s))
    writer.heading(texts.PANEL_HEADING, 3)
    if s.panel_views:
        writer.table(
            texts.PANEL_CAPTION,
            texts.panel_head(),
            texts.panel_rows(s),
            numeric=tuple(range(2, len(texts.panel_head()))),
        )
    writer.para(texts.panel_sentence(view, s))
    writer.heading(texts.YSWD_HEADING, 3)
    if not s.you_said_we_did:
        writer.para(texts.NO_YSWD)
    for item in s.you_said_we_did:
        writer.pairs(texts.you_said_we_did_pairs(item))
