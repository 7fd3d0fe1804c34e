"""Routes for national administrators to create, open, close and reopen periods.

- ``GET /admin/periods``: every period with counts of its returns.
- ``GET, POST /admin/periods/new``: a period (a financial-year quarter) and its deadline.
- ``GET /admin/periods/<id>``: one period: where its returns stand, the councils that have not
  submitted (by region) and its history.
- ``GET, POST /admin/periods/<id>/open``: what opening will do, then open it; every council's
  editors get an email (tracker/reminders.py).
- ``GET, POST /admin/periods/<id>/close``: where the returns stand, then close it; before the
  due date only with a box ticked.
- ``GET, POST /admin/periods/<id>/reopen``: open a closed period again, with a reason.
- ``POST /admin/periods/<id>/remind``: email the editors of every council that has not
  submitted, at most once an hour.

The services (tracker/returns/periods.py, tracker/reminders.py) write the audit trail.
"""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from werkzeug.wrappers import Response
from wtforms import DateField, StringField, SubmitField
from wtforms.validators import DataRequired, StopValidation, ValidationError

from tracker import reminders
from tracker.admin import bp
from tracker.admin.forms import ClosePeriodForm, ReopenPeriodForm
from tracker.domain.periods import PeriodError
from tracker.extensions import db
from tracker.forms import ConfirmForm, DayMonthYearField
from tracker.models import Period, PeriodStatus, User
from tracker.permissions import current_principal, national_admin
from tracker.returns import periods as period_services


def _actor() -> User:
    principal = current_principal()
    assert principal is not None  # the decorator has checked
    return principal.user


def _period_or_404(period_id: int) -> Period:
    return db.session.get(Period, period_id) or abort(404)


def _required_date(form: FlaskForm, field: DateField) -> None:
    if field.data is None and not field.errors:
        raise StopValidation("Enter the date returns are due")


class DeadlineField(DayMonthYearField):
    """A date that must be given, as day, month and year (the GOV.UK date input)."""

    def __init__(self, label: str, **kwargs) -> None:
        DateField.__init__(self, label, format="%d %m %Y", validators=[_required_date], **kwargs)


class PeriodForm(FlaskForm):
    """A new period: which quarter, and when its returns are due."""

    label = StringField(
        "Period",
        description="A financial-year quarter, for example 2026-27 Q1 (April to June 2026)",
        widget=GovTextInput(),
        validators=[DataRequired(message="Enter the period")],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        render_kw={"spellcheck": "false", "autocomplete": "off"},
    )
    closes_on = DeadlineField(
        "Date returns are due",
        description="Editors are reminded a week before. For example, 31 7 2026",
    )
    submit = SubmitField("Create period", widget=GovSubmitInput())

    def validate_label(self, field: StringField) -> None:
        try:
            period_services.parse_period_label(field.data)
        except PeriodError as error:
            raise ValidationError(str(error)) from None

    def validate_closes_on(self, field: DateField) -> None:
        if field.data is None or self.label.errors:
            return
        year, quarter = period_services.parse_period_label(self.label.data)
        starts_on, _ends_on = period_services.quarter_dates(year, quarter)
        if field.data < starts_on:
            raise ValidationError(
                "The date returns are due must be on or after "
                f"{starts_on.strftime('%-d %B %Y')}, the first day of the quarter"
            )


def _count(number: int, singular: str, plural: str) -> str:
    return f"{number:,} {singular if number == 1 else plural}"


def _date_text(day: date) -> str:
    return day.strftime("%-d %B %Y")


@bp.get("/periods")
@national_admin
def periods() -> str:
    return render_template(
        "admin/periods.html", summaries=period_services.list_periods(), date_text=_date_text
    )


@bp.route("/periods/new", methods=["GET", "POST"])
@national_admin
def new_period() -> str | Response:
    form = PeriodForm()
    if not form.is_submitted():
        form.label.data = period_services.next_period_label()
    if form.validate_on_submit():
        try:
            period = period_services.create_period(
                form.label.data, form.closes_on.data, actor=_actor()
            )
        except PeriodError as error:
            db.session.rollback()
            form.label.errors = [*form.label.errors, str(error)]
        else:
            db.session.commit()
            flash(f"{period.label} is created. Open it when councils should start", "success")
            return redirect(url_for("admin.periods"))
    return render_template("admin/periods_new.html", form=form)


def _mail_trouble(mail: reminders.MailOutcome, *, queued: str) -> str:
    """What the flash message adds about a round of emails: the ones that failed, when they
    were sent at once; ``queued`` when a worker is sending them; or that they could not be."""
    if isinstance(mail, reminders.MailReport):
        if not mail.failed:
            return ""
        return f". {_count(len(mail.failed), 'email', 'emails')} could not be sent: see the log"
    if mail is None:
        return ". The emails could not be sent: see the log"
    return queued


@bp.route("/periods/<int:period_id>/open", methods=["GET", "POST"])
@national_admin
def open_period(period_id: int) -> str | Response:
    period = _period_or_404(period_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            report = period_services.open_period(period, actor=_actor())
        except PeriodError as error:
            db.session.rollback()
            flash(str(error), "error")
            return redirect(url_for("admin.periods"))
        label = period.label
        db.session.commit()
        mail = reminders.queue_period_opened(period)
        drafts = _count(report.returns_created, "council has", "councils have")
        message = f"{label} is open. {drafts} a draft return"
        if isinstance(mail, reminders.MailReport):
            message += f" and {_count(mail.sent, 'editor was', 'editors were')} emailed"
        message += _mail_trouble(mail, queued="; their editors are being emailed")
        flash(message, "success")
        return redirect(url_for("admin.periods"))
    preview = (
        period_services.preview_open(period) if period.status == PeriodStatus.UPCOMING else None
    )
    return render_template(
        "admin/periods_open.html", period=period, preview=preview, form=form, date_text=_date_text
    )


@bp.get("/periods/<int:period_id>")
@national_admin
def period(period_id: int) -> str:
    period = _period_or_404(period_id)
    is_open = period.status == PeriodStatus.OPEN
    return render_template(
        "admin/period.html",
        period=period,
        check=period_services.check_closing(period),
        waiting=(
            reminders.list_waiting_councils(period)
            if period.status != PeriodStatus.UPCOMING
            else []
        ),
        next_reminder_at=reminders.next_reminder_at(period) if is_open else None,
        history=period_services.period_history(period),
        form=ConfirmForm(),
        date_text=_date_text,
    )


@bp.route("/periods/<int:period_id>/close", methods=["GET", "POST"])
@national_admin
def close_period(period_id: int) -> str | Response:
    period = _period_or_404(period_id)
    form = ClosePeriodForm()
    if period.status != PeriodStatus.OPEN and form.is_submitted():
        flash(f"{period.label} is not open", "error")
        return redirect(url_for("admin.periods"))
    check = period_services.check_closing(period)
    if check.is_early:
        form.require_understanding(period.label)
    if form.validate_on_submit():
        try:
            period_services.close_period(
                period, actor=_actor(), confirm_early=bool(form.understand.data)
            )
        except PeriodError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            label = period.label
            db.session.commit()
            flash(f"{label} is closed. Its returns can no longer be changed", "success")
        return redirect(url_for("admin.periods"))
    return render_template(
        "admin/periods_close.html",
        period=period,
        summary=check.summary,
        check=check,
        form=form,
        date_text=_date_text,
    )


@bp.route("/periods/<int:period_id>/reopen", methods=["GET", "POST"])
@national_admin
def reopen_period(period_id: int) -> str | Response:
    period = _period_or_404(period_id)
    form = ReopenPeriodForm()
    if period.status != PeriodStatus.CLOSED and form.is_submitted():
        flash(f"{period.label} is not closed", "error")
        return redirect(url_for("admin.period", period_id=period.id))
    if form.validate_on_submit():
        try:
            period_services.reopen_period(period, form.reason.data, actor=_actor())
        except PeriodError as error:
            db.session.rollback()
            period = _period_or_404(period_id)
            form.reason.errors = [*form.reason.errors, str(error)]
        else:
            label = period.label
            db.session.commit()
            flash(
                f"{label} is open again. Councils can change their draft returns until you "
                "close it",
                "success",
            )
            return redirect(url_for("admin.period", period_id=period_id))
    return render_template(
        "admin/periods_reopen.html",
        period=period,
        summary=period_services.summarise_period(period),
        form=form,
        date_text=_date_text,
    )


@bp.post("/periods/<int:period_id>/remind")
@national_admin
def send_reminder(period_id: int) -> Response:
    period = _period_or_404(period_id)
    if ConfirmForm().validate_on_submit():
        try:
            claim = reminders.claim_reminder_now(period, actor=_actor())
        except reminders.ReminderRefused as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            mail = reminders.queue_closing_reminder(period)
            if isinstance(mail, reminders.MailReport):
                message = (
                    f"Reminder sent to {_count(mail.sent, 'person', 'people')} in "
                    f"{_count(len(mail.councils), 'council', 'councils')}"
                )
            else:
                message = (
                    f"Reminder to {_count(claim.people, 'person', 'people')} in "
                    f"{_count(claim.councils, 'council', 'councils')}"
                )
            message += _mail_trouble(mail, queued=": it is being sent")
            if (missed := claim.councils_without_editors) == 1:
                message += ". 1 council that has not submitted has no editors to email"
            elif missed:
                message += f". {missed:,} councils that have not submitted have no editors to email"
            flash(message, "success")
    return redirect(url_for("admin.period", period_id=period_id))
