"""Routes of the reports: a council's board report and a region's comparison pack, each as an HTML
preview, a PDF and a spreadsheet, and the background job that builds a regional pack.

Who may read what follows the return pages (``tracker/domain/visibility.py``):

- a council's board report: its editors, approvers and viewers (drafts too, watermarked
  "Draft"); regional members of its region and national administrators once the return is
  submitted or signed off. Panel members get 404: the board report is the council's paper.
- a region's pack: its regional members and national administrators; it reads submitted and
  signed-off returns only.

Every PDF and spreadsheet download is written to the audit trail. PDFs are capped (rate per
person, and parallel renders per process): past the cap the answer is 429 or 503 with
``Retry-After``.
"""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from tracker.audit import record
from tracker.compare import services as compare_services
from tracker.domain import visibility
from tracker.domain.periods import period_slug
from tracker.extensions import db
from tracker.models import Council, Period, Region, ReportJobStatus, Return, Role, User
from tracker.permissions import council_access, current_principal, region_access, return_or_404
from tracker.reports import bp, data, downloads, jobs, render, word
from tracker.reports.charts import ChartRenderError
from tracker.reports.pdf import RendererBusy

#: who may read a council's board report (drafts: the council's own people only)
REPORT_READERS = (*visibility.COUNCIL_READERS, Role.REGIONAL_MEMBER, Role.NATIONAL_ADMIN)
PACK_READERS = (Role.REGIONAL_MEMBER, Role.NATIONAL_ADMIN)


def _actor() -> User:
    principal = current_principal()
    assert principal is not None  # the decorator has checked
    return principal.user


def _return_or_404(council: Council, period_label: str) -> Return:
    # Outside the council, a return it does not share by name is seen only in aggregates.
    return return_or_404(council, period_label)


def _period_or_404(period_label: str) -> Period:
    return data.get_period_by_slug(period_label) or abort(404)


def _council_report(council: Council, return_: Return) -> data.CouncilReport:
    return data.build_council_report(
        return_, include_draft_history=visibility.reads_drafts(current_principal(), council)
    )


def _council_urls(council: Council, return_: Return) -> dict[str, str]:
    values = {"gss_code": council.gss_code, "period_label": period_slug(return_.period)}
    return {
        name: url_for(f"reports.{name}", **values)
        for name in (
            "council_report",
            "council_report_pdf",
            "council_report_docx",
            "council_report_xlsx",
            "council_chart",
        )
    }


@bp.app_template_global("report_links")
def report_links(council: Council, return_: Return) -> dict[str, str]:
    """The board report's preview and downloads, for the return pages, if this person may read
    them; else an empty dict."""
    principal = current_principal()
    if (
        principal is None
        or not principal.may_access_council(council, REPORT_READERS)
        or not visibility.may_read_return(current_principal(), council, return_)
    ):
        return {}
    return _council_urls(council, return_)


@bp.app_template_global("region_pack_url")
def region_pack_url(region: Region, period: Period) -> str | None:
    """The regional pack's page, for the comparison pages, if this person may read it."""
    principal = current_principal()
    if principal is None or not principal.may_access_region(region, PACK_READERS):
        return None
    return url_for("reports.region_pack", region_slug=region.slug, period_label=period_slug(period))


# -- a council's board report ---------------------------------------------------------------------


@bp.get("/councils/<gss_code>/reports/<period:period_label>")
@council_access(*REPORT_READERS)
def council_report(council: Council, period_label: str) -> str:
    return_ = _return_or_404(council, period_label)
    report = _council_report(council, return_)
    urls = _council_urls(council, return_)
    return render_template(
        "reports/council.html",
        council=council,
        report=report,
        urls=urls,
        chart_src=lambda chart: f"{urls['council_chart']}?chart={chart.id}",
        **render.preview_context(),
    )


@bp.get("/councils/<gss_code>/reports/<period:period_label>/chart.svg")
@council_access(*REPORT_READERS)
def council_chart(council: Council, period_label: str) -> Response:
    return_ = _return_or_404(council, period_label)
    return _chart_response(data.council_charts(return_), request.args.get("chart"))


def _chart_response(charts: list, chart_id: str | None) -> Response:
    if not charts:
        abort(404)
    chart = next((c for c in charts if c.id == chart_id), None) if chart_id else charts[0]
    if chart is None:
        abort(404)
    try:
        svg = render.chart_svg(chart)
    except ChartRenderError:
        abort(503)
    response = Response(svg, mimetype="image/svg+xml")
    # The SVG is plotly's own drawing, shown as an image; it runs nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@bp.get("/councils/<gss_code>/reports/<period:period_label>/board-report.pdf")
@council_access(*REPORT_READERS)
def council_report_pdf(council: Council, period_label: str) -> Response | tuple:
    return_ = _return_or_404(council, period_label)
    actor = _actor()
    limited = downloads.rate_limited(actor)
    if limited is not None:
        return limited
    # Being prepared in the background (after submission or sign-off)? Wait for that file
    # rather than lay the same report out twice.
    jobs.wait_for_preparation(return_.id)
    report = _council_report(council, return_)
    try:
        content = render.council_pdf(report)
    except (RendererBusy, ChartRenderError):
        return downloads.busy()
    _audit(actor, "report.council_pdf", return_, council)
    db.session.commit()
    return downloads.attachment(content, "application/pdf", _filename(council, return_, "pdf"))


@bp.get("/councils/<gss_code>/reports/<period:period_label>/board-report.xlsx")
@council_access(*REPORT_READERS)
def council_report_xlsx(council: Council, period_label: str) -> Response | tuple:
    return_ = _return_or_404(council, period_label)
    actor = _actor()
    limited = downloads.rate_limited(actor)
    if limited is not None:
        return limited
    content = render.council_xlsx(_council_report(council, return_))
    _audit(actor, "report.council_xlsx", return_, council)
    db.session.commit()
    return downloads.attachment(content, render.XLSX_MIMETYPE, _filename(council, return_, "xlsx"))


@bp.get("/councils/<gss_code>/reports/<period:period_label>/board-paper.docx")
@council_access(*REPORT_READERS)
def council_report_docx(council: Council, period_label: str) -> Response | tuple:
    """The board paper as a Word document, for committee systems that take Word: the same
    access, rate limit and audit as the PDF."""
    return_ = _return_or_404(council, period_label)
    actor = _actor()
    limited = downloads.rate_limited(actor)
    if limited is not None:
        return limited
    content = word.build_docx(_council_report(council, return_))
    _audit(actor, "report.council_docx", return_, council)
    db.session.commit()
    return downloads.attachment(content, word.DOCX_MIMETYPE, _filename(council, return_, "docx"))


def _filename(council: Council, return_: Return, extension: str) -> str:
    return f"board-report-{council.gss_code}-{period_slug(return_.period)}.{extension}"


def _audit(actor: User, action: str, return_: Return, council: Council) -> None:
    record(
        actor=actor,
        action=action,
        object_type="return",
        object_id=return_.id,
        council_id=council.id,
        after={"period": return_.period.label, "status": return_.status},
    )


# -- a region's comparison pack -------------------------------------------------------------------


def _pack_urls(region: Region, period: Period) -> dict[str, str]:
    values = {"region_slug": region.slug, "period_label": period_slug(period)}
    return {
        name: url_for(f"reports.{name}", **values)
        for name in (
            "region_pack",
            "start_region_pack",
            "region_pack_pdf",
            "region_pack_xlsx",
            "region_chart",
            "region_pack_status",
        )
    }


@bp.get("/regions/<region_slug>/reports", defaults={"period_label": None})
@bp.get("/regions/<region_slug>/reports/<period:period_label>")
@region_access(*PACK_READERS)
def region_pack(region: Region, period_label: str | None) -> str | Response:
    if period_label is None:
        # No quarter asked for: the newest with enough shared returns to show regional figures.
        period = compare_services.region_default_period(region)
        if period is None:
            return redirect(url_for("compare.region", region_slug=region.slug))
    else:
        period = _period_or_404(period_label)
    actor = _actor()
    pack = data.build_region_pack(region, period, viewer=current_principal())
    urls = _pack_urls(region, period)
    return render_template(
        "reports/region.html",
        region=region,
        pack=pack,
        urls=urls,
        job=jobs.latest_job(region, period, actor),
        chart_src=lambda chart: f"{urls['region_chart']}?chart={chart.id}",
        **render.preview_context(),
    )


@bp.get("/regions/<region_slug>/reports/<period:period_label>/chart.svg")
@region_access(*PACK_READERS)
def region_chart(region: Region, period_label: str) -> Response:
    period = _period_or_404(period_label)
    pack = data.build_region_pack(region, period, viewer=current_principal())
    return _chart_response(pack.charts, request.args.get("chart"))


@bp.post("/regions/<region_slug>/reports/<period:period_label>/pack")
@region_access(*PACK_READERS)
def start_region_pack(region: Region, period_label: str) -> Response | tuple:
    period = _period_or_404(period_label)
    actor = _actor()
    limited = downloads.rate_limited(actor)
    if limited is not None:
        return limited
    job = jobs.latest_job(region, period, actor)
    if job is None or job.is_finished:
        job = jobs.create_job(region, period, actor)
        db.session.commit()
        jobs.enqueue(job.id)
        flash("The regional pack is being generated. This page shows its progress.")
    return redirect(
        url_for("reports.region_pack", region_slug=region.slug, period_label=period_label), 303
    )


@bp.get("/regions/<region_slug>/reports/<period:period_label>/pack/status")
@region_access(*PACK_READERS)
def region_pack_status(region: Region, period_label: str) -> Response:
    """The person's latest pack job as JSON, for the progress on the pack page to follow."""
    period = _period_or_404(period_label)
    job = jobs.latest_job(region, period, _actor())
    response = (
        jsonify(status="none", finished=True)
        if job is None
        else jsonify(
            status=job.status,
            finished=job.is_finished,
            done=job.progress_done,
            total=job.progress_total,
            percent=job.percent,
            message=job.message,
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/regions/<region_slug>/reports/<period:period_label>/pack.pdf")
@region_access(*PACK_READERS)
def region_pack_pdf(region: Region, period_label: str) -> Response:
    period = _period_or_404(period_label)
    actor = _actor()
    job = jobs.latest_job(region, period, actor, status=ReportJobStatus.DONE)
    content = jobs.read_file(job) if job is not None else None
    if job is None or content is None:
        return redirect(
            url_for("reports.region_pack", region_slug=region.slug, period_label=period_label)
        )
    record(
        actor=actor,
        action="report.region_pdf",
        object_type="report_job",
        object_id=job.id,
        after={"region": region.slug, "period": period.label},
    )
    db.session.commit()
    return downloads.attachment(
        content, "application/pdf", f"regional-pack-{region.slug}-{period_slug(period)}.pdf"
    )


@bp.get("/regions/<region_slug>/reports/<period:period_label>/pack.xlsx")
@region_access(*PACK_READERS)
def region_pack_xlsx(region: Region, period_label: str) -> Response | tuple:
    period = _period_or_404(period_label)
    actor = _actor()
    limited = downloads.rate_limited(actor)
    if limited is not None:
        return limited
    pack = data.build_region_pack(region, period, viewer=current_principal())
    content = render.region_xlsx(pack)
    record(
        actor=actor,
        action="report.region_xlsx",
        object_type="region",
        object_id=region.id,
        after={"region": region.slug, "period": period.label},
    )
    db.session.commit()
    return downloads.attachment(
        content,
        render.XLSX_MIMETYPE,
        f"regional-pack-{region.slug}-{period_slug(period)}.xlsx",
    )
