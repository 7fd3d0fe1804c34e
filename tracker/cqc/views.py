"""Routes of a council's CQC view: its return for a quarter read against the CQC's quality
statements, as a page, a PDF and a Word document for the council's self-assessment.

- ``GET /councils/<gss_code>/cqc/<period:period_label>``: the page;
- ``…/cqc/<period:period_label>.pdf`` and ``….docx``: the pack.

Who may read them is one rule, ``visibility.may_read_cqc_view``: the council's own staff
(drafts too, labelled as drafts); regional members of its region and national administrators
once the return is submitted or signed off, while the council shares named returns; never
panel members. Anyone else gets 404. The downloads share the board report's rate limit and are
written to the audit trail like it.
"""

from __future__ import annotations

from flask import render_template, url_for
from werkzeug.wrappers import Response

from tracker.audit import record
from tracker.cqc import bp, documents, texts
from tracker.cqc.services import CqcView, EvidenceItem, build_cqc_view
from tracker.domain import visibility
from tracker.domain.periods import period_slug
from tracker.extensions import db
from tracker.models import Council, Period, Return, User
from tracker.permissions import council_access, current_principal, return_or_404
from tracker.reports import downloads
from tracker.reports.pdf import RendererBusy


def _actor() -> User:
    principal = current_principal()
    assert principal is not None  # the decorator has checked
    return principal.user


def _return_or_404(council: Council, period_label: str) -> Return:
    return return_or_404(council, period_label, visibility.may_read_cqc_view)


def _urls(council: Council, period: Period | str) -> dict[str, str]:
    values = {"gss_code": council.gss_code, "period_label": period_slug(period)}
    return {name: url_for(f"cqc.{name}", **values) for name in ("view", "pack_pdf", "pack_docx")}


@bp.app_template_global("cqc_view_url")
def cqc_view_url(council: Council, return_: visibility.HasStatus, period: Period) -> str | None:
    """The CQC view of ``council``'s return for ``period`` (``return_``: it, or anything with
    its status), for the return overview and the dashboard, if this person may read it."""
    if return_.status is None or not visibility.may_read_cqc_view(
        current_principal(), council, return_
    ):
        return None
    return _urls(council, period)["view"]


@bp.get("/councils/<gss_code>/cqc/<period:period_label>")
@council_access(*visibility.CQC_VIEW_READERS)
def view(council: Council, period_label: str) -> str:
    return_ = _return_or_404(council, period_label)
    cqc = build_cqc_view(return_)
    return render_template(
        "cqc/view.html",
        council=council,
        view=cqc,
        texts=texts,
        urls=_urls(council, return_.period),
        is_pdf=False,
        evidence_href=lambda item: _evidence_href(council, item),
    )


def _evidence_href(council: Council, item: EvidenceItem) -> str:
    return url_for("returns.download_evidence", gss_code=council.gss_code, evidence_id=item.id)


def _download(
    council: Council, cqc: CqcView, content: bytes, mimetype: str, extension: str
) -> Response:
    record(
        actor=_actor(),
        action=f"report.cqc_{extension}",
        object_type="return",
        object_id=cqc.return_.id,
        council_id=council.id,
        after={"period": cqc.period.label, "status": cqc.return_.status},
    )
    db.session.commit()
    name = f"cqc-self-assessment-{council.gss_code}-{period_slug(cqc.period)}.{extension}"
    return downloads.attachment(content, mimetype, name)


@bp.get("/councils/<gss_code>/cqc/<period:period_label>.pdf")
@council_access(*visibility.CQC_VIEW_READERS)
def pack_pdf(council: Council, period_label: str) -> Response | tuple:
    return_ = _return_or_404(council, period_label)
    limited = downloads.rate_limited(_actor())
    if limited is not None:
        return limited
    cqc = build_cqc_view(return_)
    try:
        content = documents.pack_pdf(cqc)
    except RendererBusy:
        return downloads.busy()
    return _download(council, cqc, content, "application/pdf", "pdf")


@bp.get("/councils/<gss_code>/cqc/<period:period_label>.docx")
@council_access(*visibility.CQC_VIEW_READERS)
def pack_docx(council: Council, period_label: str) -> Response | tuple:
    return_ = _return_or_404(council, period_label)
    limited = downloads.rate_limited(_actor())
    if limited is not None:
        return limited
    cqc = build_cqc_view(return_)
    return _download(council, cqc, documents.pack_docx(cqc), documents.DOCX_MIMETYPE, "docx")
