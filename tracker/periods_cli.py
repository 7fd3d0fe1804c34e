"""Flask CLI commands for periods: ``flask periods list|create|open|close|reopen|remind``.

``flask periods remind`` sends the "a week to go" reminder of each open period once. With
``REDIS_URL`` the scheduler runs the same each day (``tracker.background.schedule``); on a single
server without Redis, a daily cron job runs this command.
"""

from __future__ import annotations

from datetime import date, datetime

import click
from flask.cli import AppGroup
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Period

periods_cli = AppGroup("periods", help="Periods: the quarters councils make returns for.")


def _period(label: str) -> Period:
    from tracker.domain.periods import PeriodError, parse_period_label, period_label

    try:
        label = period_label(*parse_period_label(label))
    except PeriodError as error:
        raise click.ClickException(str(error)) from error
    period = db.session.scalar(select(Period).where(Period.label == label))
    if period is None:
        raise click.ClickException(f"There is no period {label}")
    return period


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as error:
        raise click.BadParameter("use YYYY-MM-DD, e.g. 2026-07-31") from error


def _report_mail(what: str, report) -> None:
    click.echo(f"{what}: {report.sent} sent, {len(report.failed)} failed.")
    for address in report.failed:
        click.echo(f"  not sent to {address} (see the log)", err=True)


@periods_cli.command("list")
def list_command() -> None:
    """List every period with its deadline, status and returns."""
    from tracker.returns.periods import list_periods

    summaries = list_periods()
    if not summaries:
        click.echo("No periods.")
    for s in summaries:
        p = s.period
        click.echo(
            f"{p.label}  due {p.closes_on.isoformat()}  {p.status:<8}  "
            f"returns {s.returns}, submitted {s.submitted}, signed off {s.signed_off}"
        )


@periods_cli.command("create")
@click.argument("label")
@click.option("--due", "due", required=True, help="The date returns are due, YYYY-MM-DD.")
def create_command(label: str, due: str) -> None:
    """Create the period LABEL (e.g. "2026-27 Q1"), not yet open."""
    from tracker.domain.periods import PeriodError
    from tracker.returns.periods import create_period

    closes_on = _day(due)
    assert closes_on is not None
    try:
        period = create_period(label, closes_on, actor=None)
    except PeriodError as error:
        db.session.rollback()
        raise click.ClickException(f"{error}. Nothing was changed.") from error
    db.session.commit()
    click.echo(f"Created {period.label}, due {period.closes_on.isoformat()}. It is not open yet.")


@periods_cli.command("open")
@click.argument("label")
@click.option("--no-email", is_flag=True, help="Do not email the councils' editors.")
def open_command(label: str, no_email: bool) -> None:
    """Open the period LABEL: every council gets a draft return; editors get an email."""
    from tracker import reminders
    from tracker.domain.periods import PeriodError
    from tracker.returns.periods import open_period

    period = _period(label)
    try:
        report = open_period(period, actor=None)
    except PeriodError as error:
        db.session.rollback()
        raise click.ClickException(f"{error}. Nothing was changed.") from error
    db.session.commit()
    click.echo(
        f"Opened {period.label}: {report.returns_created} draft returns, "
        f"{report.carried_forward} assessments carried forward."
    )
    if not no_email:
        _report_mail("Emails to editors", reminders.notify_period_opened(period))


@periods_cli.command("close")
@click.argument("label")
@click.option(
    "--early",
    is_flag=True,
    help="Close it even though returns are not yet due (councils may still be working on them).",
)
def close_command(label: str, early: bool) -> None:
    """Close the period LABEL: its returns become read-only.

    Until the end of its due date, closing needs --early.
    """
    from tracker.domain.periods import PeriodError
    from tracker.returns.periods import EarlyCloseRefused, close_period

    period = _period(label)
    try:
        check = close_period(period, actor=None, confirm_early=early)
    except EarlyCloseRefused as error:
        db.session.rollback()
        check = error.check
        raise click.ClickException(
            f"{check.due}. {check.where_returns_stand}. Add --early to close it now. "
            "Nothing was changed."
        ) from error
    except PeriodError as error:
        db.session.rollback()
        raise click.ClickException(f"{error}. Nothing was changed.") from error
    db.session.commit()
    if check.is_early:
        click.echo(f"Closed {period.label} early: {check.due}. {check.where_returns_stand}.")
    else:
        click.echo(f"Closed {period.label}.")


@periods_cli.command("reopen")
@click.argument("label")
@click.option(
    "--reason",
    required=True,
    help="Why it is reopened (kept in the audit trail), up to 1,000 characters.",
)
def reopen_command(label: str, reason: str) -> None:
    """Reopen the closed period LABEL: its returns can change again, each keeping its status."""
    from tracker.domain.periods import PeriodError
    from tracker.returns.periods import reopen_period

    period = _period(label)
    try:
        reopen_period(period, reason, actor=None)
    except PeriodError as error:
        db.session.rollback()
        raise click.ClickException(f"{error}. Nothing was changed.") from error
    db.session.commit()
    click.echo(f"Reopened {period.label}.")


@periods_cli.command("remind")
@click.option("--today", "today", default=None, help="Act as if today were YYYY-MM-DD.")
def remind_command(today: str | None) -> None:
    """Remind editors of draft returns a week before their period closes (once per period).

    Run it daily from cron where no scheduler runs (``flask jobs scheduler``). Exits with
    status 1 if any email could not be sent.
    """
    from tracker import reminders
    from tracker.clock import uk_today

    day = _day(today) or uk_today()
    sent = reminders.send_due_reminders(day)
    if not sent:
        click.echo("No reminders due.")
        return
    for period, report in sent:
        _report_mail(f"{period.label} reminders", report)
    if any(report.failed for _period, report in sent):
        raise SystemExit(1)
