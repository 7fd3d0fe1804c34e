"""Routes for national administrators to create, open and close periods.

- ``GET /admin/periods``: every period with counts of its returns.
- ``GET, POST /admin/periods/new``: a period (a financial-year quarter) and its deadline.
- ``GET, POST /admin/periods/<id>/open``: what opening will do, then open it; every council's
  editors get an email (tracker/reminders.py).
- ``GET, POST /admin/periods/<id>/close``: where the returns stand, then close it.

The services (tracker/returns/periods.py) write the audit trail.
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
        mail = reminders.notify_period_opened(period)
        message = (
            f"{label} is open. {_count(report.returns_created, 'council has', 'councils have')} "
            f"a draft return and {_count(mail.sent, 'editor was', 'editors were')} emailed"
        )
        if mail.failed:
            message += (
                f". {_count(len(mail.failed), 'email', 'emails')} could not be sent: see the log"
            )
        flash(message, "success")
        return redirect(url_for("admin.periods"))
    preview = (
        period_services.preview_open(period) if period.status == PeriodStatus.UPCOMING else None
    )
    return render_template(
        "admin/periods_open.html", period=period, preview=preview, form=form, date_text=_date_text
    )


@bp.route("/periods/<int:period_id>/close", methods=["GET", "POST"])
@national_admin
def close_period(period_id: int) -> str | Response:
    period = _period_or_404(period_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            period_services.close_period(period, actor=_actor())
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
        summary=period_services.summarise_period(period),
        form=form,
        date_text=_date_text,
    )
