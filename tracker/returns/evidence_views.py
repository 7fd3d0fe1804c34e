"""Routes for evidence: adding links and files, linking them to assessments, downloads.

Under ``/councils/<gss_code>/returns``:

- ``GET /<period:period_label>/actions/<action_code>/evidence``: the evidence of one assessment
  (``period_label`` as in URLs, ``2025-26-Q3``); its editors add and remove from there:
  ``…/evidence/add-link``, ``…/evidence/upload`` (multipart, up to ``EVIDENCE_MAX_BYTES``),
  ``…/evidence/choose`` (from the council's evidence), ``…/evidence/<id>/remove`` (POST).
- ``GET /evidence``: the council's evidence and the actions each item supports; its editors
  change an item's details (title, type, date, CQC evidence category, shown to the panel) at
  ``/evidence/<id>/edit``.
- ``GET /evidence/<id>/download``: an uploaded file, as an attachment, to those who may read the
  council's returns; panel members only for items shown to the panel. Any other council's id
  is a 404.

The period and action in a URL are loaded through a scoped loader
(:func:`tracker.returns.evidence.get_assessment`): the return must be this council's and the
action must exist, or the answer is 404.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable
from urllib.parse import quote

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)

from tracker import http, storage
from tracker.domain import visibility, workflow
from tracker.domain.periods import label_to_url
from tracker.domain.vocabulary import CQC_EVIDENCE_CATEGORY_NAMES
from tracker.domain.workflow import EDITORS, Step
from tracker.extensions import db
from tracker.forms import ConfirmForm
from tracker.models import Assessment, Council, Evidence, Role, User
from tracker.permissions import council_access, current_principal
from tracker.returns import bp
from tracker.returns import evidence as services
from tracker.returns.evidence_forms import (
    ChooseEvidenceForm,
    EditEvidenceForm,
    LinkEvidenceForm,
    UploadEvidenceForm,
)
from tracker.returns.services import ReturnError

log = logging.getLogger(__name__)

http.allow_upload("returns.upload_evidence", "EVIDENCE_MAX_BYTES")


def _actor() -> User:
    principal = current_principal()
    assert principal is not None  # the decorator has checked
    return principal.user


def _assessment_or_404(council: Council, period_label: str, action_code: str) -> Assessment:
    assessment = services.get_assessment(council, period_label, action_code)
    if assessment is None or not visibility.may_read_return(
        current_principal(), council, assessment.return_
    ):
        abort(404)
    return assessment


def _refusal(assessment: Assessment) -> str | None:
    """Why this person may not change the assessment's evidence now, or None."""
    return workflow.refusal(current_principal(), assessment.return_, Step.EDIT)


def _may_edit(council: Council) -> bool:
    return visibility.holds(current_principal(), council, EDITORS)


def _urls(council: Council, assessment: Assessment) -> dict[str, str | None]:
    values = {
        "gss_code": council.gss_code,
        "period_label": label_to_url(assessment.return_.period.label),
        "action_code": assessment.action.code,
    }
    return {
        "evidence": url_for("returns.evidence", **values),
        "add_link": url_for("returns.add_evidence_link", **values),
        "upload": url_for("returns.upload_evidence", **values),
        "choose": url_for("returns.choose_evidence", **values),
        # The library holds drafts' evidence too: the council's own people only.
        "library": (
            url_for("returns.evidence_library", gss_code=council.gss_code)
            if visibility.holds(current_principal(), council, visibility.COUNCIL_READERS)
            else None
        ),
        "action": url_for("returns.action", **values),
    }


def _page(template: str, council: Council, assessment: Assessment, **context) -> str:
    return render_template(
        template,
        council=council,
        assessment=assessment,
        return_=assessment.return_,
        action=assessment.action,
        urls=_urls(council, assessment),
        refusal=_refusal(assessment),
        evidence_types=services.EVIDENCE_TYPES,
        cqc_categories=CQC_EVIDENCE_CATEGORY_NAMES,
        describe=services.describe,
        **context,
    )


def _put_errors(form, errors: dict[str, str]) -> None:
    for name, message in errors.items():
        field = getattr(form, name, None)
        if field is None:
            flash(message, "error")
        else:
            field.errors = [*field.errors, message]


def _upload_limit() -> int:
    return int(current_app.config["EVIDENCE_MAX_BYTES"])


def _sandbox_downloads(response: Response) -> Response:
    # Runs after the app's security headers (registered first, so called last): a downloaded
    # file also gets CSP "sandbox", so that even opened in the browser it runs nothing, and is
    # never stored by a cache.
    if getattr(response, "is_evidence_download", False):
        policy = response.headers.get("Content-Security-Policy")
        response.headers["Content-Security-Policy"] = f"{policy}; sandbox" if policy else "sandbox"
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.record_once
def _register_hooks(state) -> None:
    state.app.after_request_funcs.setdefault(None, []).insert(0, _sandbox_downloads)


# -- one assessment's evidence ---------------------------------------------------------------


@bp.get("/<period:period_label>/actions/<action_code>/evidence")
@council_access(*visibility.EVIDENCE_READERS)
def evidence(council: Council, period_label: str, action_code: str) -> str:
    assessment = _assessment_or_404(council, period_label, action_code)
    return _page(
        "returns/evidence.html",
        council,
        assessment,
        items=sorted(assessment.evidence, key=lambda e: (e.title.lower(), e.id)),
        may_edit=_may_edit(council),
        has_library=bool(services.list_linkable_evidence(assessment)),
        remove_form=ConfirmForm(),
    )


def _done(council: Council, assessment: Assessment, message: str) -> Response:
    flash(message, "success")
    return redirect(_urls(council, assessment)["evidence"], 303)


def _status(form, refusal: str | None) -> int:
    return 422 if form.is_submitted() and (form.errors or refusal) else 200


def _add_evidence(
    council: Council,
    period_label: str,
    action_code: str,
    form,
    add: Callable[..., Evidence],
    done: str,
    template: str,
    **context,
) -> str | Response | tuple:
    """Show an add-evidence form, or add the item with ``add(council, title, type, date, value,
    actor=…, is_published_to_panel=…, cqc_category=…)`` (``value`` is the form's ``url`` or
    ``file``), link it to the assessment and commit; ``done`` is the message, with ``{title}``
    in it."""
    assessment = _assessment_or_404(council, period_label, action_code)
    refusal = _refusal(assessment)
    if refusal is None and form.validate_on_submit():
        value = form.url.data if hasattr(form, "url") else form.file.data
        try:
            item = add(
                council,
                form.title.data,
                form.evidence_type.data,
                form.dated_on.data,
                value,
                actor=_actor(),
                is_published_to_panel=bool(form.is_published_to_panel.data),
                cqc_category=form.cqc_category.category,
            )
            services.link_evidence(assessment, item, actor=_actor())
        except services.EvidenceInvalid as error:
            db.session.rollback()
            assessment = _assessment_or_404(council, period_label, action_code)
            _put_errors(form, error.errors)
        else:
            title = item.title
            db.session.commit()
            return _done(council, assessment, done.format(title=title))
    return _page(template, council, assessment, form=form, **context), _status(form, refusal)


@bp.route("/<period:period_label>/actions/<action_code>/evidence/add-link", methods=["GET", "POST"])
@council_access(*EDITORS)
def add_evidence_link(
    council: Council, period_label: str, action_code: str
) -> str | Response | tuple:
    return _add_evidence(
        council,
        period_label,
        action_code,
        LinkEvidenceForm(),
        services.add_link_evidence,
        "“{title}” is added to this action’s evidence",
        "returns/evidence_add_link.html",
    )


@bp.route("/<period:period_label>/actions/<action_code>/evidence/upload", methods=["GET", "POST"])
@council_access(*EDITORS)
def upload_evidence(
    council: Council, period_label: str, action_code: str
) -> str | Response | tuple:
    return _add_evidence(
        council,
        period_label,
        action_code,
        UploadEvidenceForm(),
        services.add_file_evidence,
        "“{title}” is uploaded and added to this action",
        "returns/evidence_upload.html",
        max_size=services.size_text(_upload_limit()),
        allowed=services.ALLOWED_TEXT,
    )


@bp.route("/<period:period_label>/actions/<action_code>/evidence/choose", methods=["GET", "POST"])
@council_access(*EDITORS)
def choose_evidence(
    council: Council, period_label: str, action_code: str
) -> str | Response | tuple:
    assessment = _assessment_or_404(council, period_label, action_code)
    linkable = services.list_linkable_evidence(assessment)
    form = ChooseEvidenceForm()
    form.set_choices([(str(item.id), item.title) for item in linkable])
    refusal = _refusal(assessment)
    if refusal is None and form.validate_on_submit():
        chosen = {item.id: item for item in linkable}
        for evidence_id in form.evidence_ids:
            services.link_evidence(assessment, chosen[evidence_id], actor=_actor())
        count = len(form.evidence_ids)
        db.session.commit()
        return _done(
            council,
            assessment,
            f"{count} {'item' if count == 1 else 'items'} of evidence added to this action",
        )
    return _page(
        "returns/evidence_choose.html", council, assessment, form=form, linkable=linkable
    ), _status(form, refusal)


@bp.post("/<period:period_label>/actions/<action_code>/evidence/<int:evidence_id>/remove")
@council_access(*EDITORS)
def unlink_evidence(
    council: Council, period_label: str, action_code: str, evidence_id: int
) -> Response:
    assessment = _assessment_or_404(council, period_label, action_code)
    item = services.get_council_evidence(council, evidence_id) or abort(404)
    if ConfirmForm().validate_on_submit():
        try:
            removed = services.unlink_evidence(assessment, item, actor=_actor())
        except ReturnError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            title = item.title
            db.session.commit()
            if removed:
                flash(
                    f"“{title}” no longer supports this action. It is still in the council’s "
                    "evidence",
                    "success",
                )
    return redirect(_urls(council, assessment)["evidence"], 303)


# -- the council's evidence ------------------------------------------------------------------


@bp.get("/evidence")
@council_access(*visibility.COUNCIL_READERS)
def evidence_library(council: Council) -> str:
    return render_template(
        "returns/evidence_library.html",
        council=council,
        items=services.list_council_evidence(council),
        used=services.size_text(services.storage_used(council)),
        quota=services.size_text(int(current_app.config["EVIDENCE_COUNCIL_QUOTA"])),
        evidence_types=services.EVIDENCE_TYPES,
        cqc_categories=CQC_EVIDENCE_CATEGORY_NAMES,
        may_edit=_may_edit(council),
        describe=services.describe,
        label_to_url=label_to_url,
    )


@bp.route("/evidence/<int:evidence_id>/edit", methods=["GET", "POST"])
@council_access(*EDITORS)
def edit_evidence(council: Council, evidence_id: int) -> str | Response | tuple:
    item = services.get_council_evidence(council, evidence_id) or abort(404)
    form = EditEvidenceForm(obj=item)
    if form.validate_on_submit():
        try:
            changed = services.update_evidence_details(
                item,
                form.title.data,
                form.evidence_type.data,
                form.dated_on.data,
                cqc_category=form.cqc_category.category,
                is_published_to_panel=bool(form.is_published_to_panel.data),
                actor=_actor(),
            )
        except services.EvidenceInvalid as error:
            db.session.rollback()
            item = services.get_council_evidence(council, evidence_id) or abort(404)
            _put_errors(form, error.errors)
        else:
            title = item.title
            db.session.commit()
            if changed:
                flash(f"The details of “{title}” are saved", "success")
            return redirect(url_for("returns.evidence_library", gss_code=council.gss_code), 303)
    if not form.is_submitted() and item.cqc_category is None:
        form.cqc_category.data = ""
    page = render_template(
        "returns/evidence_edit.html",
        council=council,
        item=item,
        form=form,
        describe=services.describe,
    )
    return page, 422 if form.is_submitted() and form.errors else 200


def content_disposition(name: str) -> str:
    """``attachment`` with the file's name as RFC 6266 asks: a plain ASCII ``filename`` for old
    clients and the exact name, UTF-8 and percent-encoded, in ``filename*``."""
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    fallback = re.sub(r"[^A-Za-z0-9._ ()-]", "_", fallback).strip(" ._") or "evidence"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _may_download(council: Council, item: Evidence) -> bool:
    # Regional members and national administrators see only what supports a submitted return.
    supports_shared = not visibility.reads_drafts(
        current_principal(), council
    ) and services.supports_submitted(item)
    return visibility.may_read_evidence(
        current_principal(), council, item, supports_shared=supports_shared
    )


@bp.get("/evidence/<int:evidence_id>/download")
@council_access(*visibility.EVIDENCE_READERS, Role.PANEL_MEMBER)
def download_evidence(council: Council, evidence_id: int) -> Response:
    item = services.get_council_evidence(council, evidence_id)
    if item is None or item.stored_name is None or not _may_download(council, item):
        abort(404)
    try:
        chunks = storage.store().open(services.stored_key(item))
    except FileNotFoundError:
        log.error("evidence %s: stored file %s is missing", item.id, item.stored_name)
        abort(404)
    # A chunk at a time from the store, never the whole file in memory.
    response = Response(
        chunks,
        content_type=item.content_type or "application/octet-stream",
        direct_passthrough=True,
    )
    if item.size_bytes is not None:
        response.content_length = item.size_bytes
    response.headers["Content-Disposition"] = content_disposition(item.original_name or "evidence")
    response.is_evidence_download = True
    return response
