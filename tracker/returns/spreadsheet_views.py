"""Routes for exporting a return as a spreadsheet and importing one into a draft.

- ``GET /<period>/export.xlsx`` and ``export.csv``: everyone who may read the return;
  panel members only once it has been submitted.
- ``GET, POST /<period>/import``: the council's editors upload a file; it is checked and
  kept under a random name in ``instance/imports/``, and the session holds only its id, SHA-256,
  return, person and expiry (``session["import"]``).
- ``GET /<period>/import/preview``: every change, row by row, and every problem. Nothing
  is written.
- ``POST /<period>/import/confirm``: the kept file is read again (its hash must match) and
  every change is saved in one transaction, or none is.
- ``POST /<period>/import/cancel``: forget the file.

``period_label`` is the period in a URL: ``2025-26-Q3`` for "2025-26 Q3".
"""

from __future__ import annotations

from datetime import UTC

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    session,
    url_for,
)

from tracker import http, storage, throttle
from tracker.clock import utcnow
from tracker.domain import visibility, workflow
from tracker.domain.periods import label_to_url
from tracker.domain.workflow import Step
from tracker.extensions import db
from tracker.http import too_many_requests
from tracker.models import Council, Return, Role, User
from tracker.permissions import council_access, current_principal
from tracker.returns import bp, queries, spreadsheet
from tracker.returns.services import (
    AssessmentConflict,
    AssessmentInvalid,
    ReturnError,
)
from tracker.returns.spreadsheet_forms import CancelImportForm, ConfirmImportForm, ImportForm

SESSION_KEY = "import"
http.allow_upload("returns.import_upload", "IMPORT_MAX_BYTES")


def _actor() -> User:
    principal = current_principal()
    assert principal is not None  # the decorator has checked
    return principal.user


def _return_or_404(council: Council, period_label: str) -> Return:
    return queries.get_return_by_slug(council, period_label) or abort(404)


def _readable_or_404(council: Council, period_label: str) -> Return:
    return_ = _return_or_404(council, period_label)
    if not visibility.may_read_return(current_principal(), council, return_):
        abort(404)
    return return_


def _refusal(return_: Return) -> str | None:
    """Why this person may not change the return now, or None."""
    return workflow.refusal(current_principal(), return_, Step.EDIT)


def _max_bytes() -> int:
    return int(current_app.config["IMPORT_MAX_BYTES"])


# -- export ---------------------------------------------------------------------------------------


def _export(council: Council, period_label: str, kind: str) -> Response | tuple:
    return_ = _readable_or_404(council, period_label)
    actor = _actor()
    config = current_app.config
    limit = throttle.Limit(
        f"export:user:{actor.id}", config["EXPORT_RATE_LIMIT"], config["EXPORT_RATE_WINDOW"]
    )
    if throttle.hit(limit.key, limit.window) > limit.limit:
        db.session.commit()
        return too_many_requests(
            throttle.retry_after(limit) or 1, event="export.rate_limited", user_id=actor.id
        )
    export = spreadsheet.export_return(return_, kind, actor=actor)
    db.session.commit()
    response = Response(export.content, mimetype=export.mimetype)
    if kind == "csv":
        response.charset = "utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response


@bp.get("/<period:period_label>/export.xlsx")
@council_access(*visibility.READERS)
def export_xlsx(council: Council, period_label: str) -> Response | tuple:
    return _export(council, period_label, "xlsx")


@bp.get("/<period:period_label>/export.csv")
@council_access(*visibility.READERS)
def export_csv(council: Council, period_label: str) -> Response | tuple:
    return _export(council, period_label, "csv")


# -- import ---------------------------------------------------------------------------------------


def _urls(council: Council, return_: Return) -> dict[str, str]:
    values = {"gss_code": council.gss_code, "period_label": label_to_url(return_.period.label)}
    return {
        "upload": url_for("returns.import_upload", **values),
        "preview": url_for("returns.import_preview", **values),
        "confirm": url_for("returns.import_confirm", **values),
        "cancel": url_for("returns.import_cancel", **values),
        "xlsx": url_for("returns.export_xlsx", **values),
        "csv": url_for("returns.export_csv", **values),
        "overview": url_for("returns.overview", **values),
    }


def _forget_pending() -> None:
    pending = session.pop(SESSION_KEY, None)
    if isinstance(pending, dict) and isinstance(pending.get("id"), str):
        spreadsheet.discard_upload(storage.store(), pending["id"])


def _pending_for(return_: Return) -> tuple[spreadsheet.PendingUpload, bytes] | None:
    """The upload this person is part-way through importing into ``return_``, if any."""
    pending = session.get(SESSION_KEY)
    if not isinstance(pending, dict) or pending.get("return_id") != return_.id:
        return None
    return spreadsheet.load_upload(
        storage.store(),
        str(pending.get("id", "")),
        str(pending.get("sha256", "")),
        return_=return_,
        actor=_actor(),
        now=utcnow(),
    )


def _size_text(size: int) -> str:
    megabytes = size / (1024 * 1024)
    return f"{megabytes:g} MB" if megabytes >= 1 else f"{size // 1024} KB"


@bp.route("/<period:period_label>/import", methods=["GET", "POST"])
@council_access(Role.COUNCIL_EDITOR)
def import_upload(council: Council, period_label: str) -> str | Response | tuple:
    return_ = _return_or_404(council, period_label)
    form = ImportForm()
    limit = _max_bytes()
    form.file.description = (
        f"An .xlsx workbook or a .csv file, up to {_size_text(limit)}, with the columns of "
        "the export"
    )
    refusal = _refusal(return_)
    if refusal is None and form.validate_on_submit():
        upload = form.file.data
        data = upload.read(limit + 1)
        if len(data) > limit:
            abort(413)
        try:
            preview = spreadsheet.preview_import(return_, upload.filename or "", data)
        except spreadsheet.ImportFileError as error:
            form.file.errors = [*form.file.errors, str(error)]
        else:
            _forget_pending()
            pending = spreadsheet.store_upload(
                storage.store(),
                data,
                filename=upload.filename or "",
                return_=return_,
                actor=_actor(),
                versions=preview.versions,
                now=utcnow(),
            )
            session[SESSION_KEY] = {
                "id": pending.id,
                "sha256": pending.sha256,
                "return_id": return_.id,
                "user_id": pending.user_id,
                "expires": int(pending.expires_at.replace(tzinfo=UTC).timestamp()),
            }
            return redirect(_urls(council, return_)["preview"], 303)
    status = 422 if form.is_submitted() and (form.errors or refusal) else 200
    return (
        render_template(
            "returns/spreadsheet_import.html",
            council=council,
            return_=return_,
            form=form,
            refusal=refusal,
            urls=_urls(council, return_),
            columns=spreadsheet.COLUMNS,
            max_rows=spreadsheet.MAX_ROWS,
        ),
        status,
    )


@bp.get("/<period:period_label>/import/preview")
@council_access(Role.COUNCIL_EDITOR)
def import_preview(council: Council, period_label: str) -> str | Response:
    return_ = _return_or_404(council, period_label)
    urls = _urls(council, return_)
    loaded = _pending_for(return_)
    if loaded is None:
        _forget_pending()
        flash("There is no file waiting to be imported: upload one to check it")
        return redirect(urls["upload"])
    pending, data = loaded
    try:
        preview = spreadsheet.preview_import(return_, pending.filename, data)
    except spreadsheet.ImportFileError as error:
        _forget_pending()
        flash(str(error))
        return redirect(urls["upload"])
    return render_template(
        "returns/spreadsheet_preview.html",
        council=council,
        return_=return_,
        preview=preview,
        filename=pending.filename,
        stale=spreadsheet.stale_actions(return_, pending.versions),
        refusal=_refusal(return_),
        confirm_form=ConfirmImportForm(upload_id=pending.id),
        cancel_form=CancelImportForm(prefix="cancel"),
        urls=urls,
    )


@bp.post("/<period:period_label>/import/confirm")
@council_access(Role.COUNCIL_EDITOR)
def import_confirm(council: Council, period_label: str) -> Response:
    return_ = _return_or_404(council, period_label)
    urls = _urls(council, return_)
    form = ConfirmImportForm()
    loaded = _pending_for(return_) if form.validate_on_submit() else None
    if loaded is None or loaded[0].id != form.upload_id.data:
        flash("Nothing was imported: the file you checked has expired. Upload it again")
        return redirect(urls["upload"])
    pending, data = loaded
    actor = _actor()
    try:
        preview = spreadsheet.preview_import(return_, pending.filename, data)
        if not preview.changed and not preview.errors:
            flash("Nothing was imported: the file has no changes")
            _forget_pending()
            return redirect(urls["upload"])
        count = spreadsheet.apply_import(
            return_,
            preview,
            actor=actor,
            expected_versions=pending.versions,
            filename=pending.filename,
        )
    except spreadsheet.ImportConflict as conflict:
        db.session.rollback()
        _forget_pending()
        codes = ", ".join(conflict.codes[:10]) + (" and others" if len(conflict.codes) > 10 else "")
        flash(
            f"Nothing was imported: someone changed {codes or 'the return'} after you checked "
            "the file. Upload it again to check it against the latest answers"
        )
        return redirect(urls["upload"])
    except (spreadsheet.ImportFileError, ReturnError, AssessmentInvalid, AssessmentConflict) as e:
        db.session.rollback()
        _forget_pending()
        reason = (
            "someone else saved an action at the same time"
            if isinstance(e, AssessmentConflict)
            else str(e)
        )
        flash(f"Nothing was imported: {reason}")
        return redirect(urls["upload"])
    db.session.commit()
    _forget_pending()
    flash(
        f"{count} action{'s' if count != 1 else ''} updated from {pending.filename}",
        "success",
    )
    return redirect(urls["overview"])


@bp.post("/<period:period_label>/import/cancel")
@council_access(Role.COUNCIL_EDITOR)
def import_cancel(council: Council, period_label: str) -> Response:
    return_ = _return_or_404(council, period_label)
    form = CancelImportForm(prefix="cancel")
    if form.validate_on_submit():
        _forget_pending()
        flash("Import cancelled: nothing was changed")
    return redirect(_urls(council, return_)["upload"])
