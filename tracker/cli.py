"""Flask CLI commands: loading the roadmap, frameworks and councils; retention."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from tracker.extensions import db

roadmap_cli = AppGroup("roadmap", help="The roadmap's data.")
councils_cli = AppGroup("councils", help="Councils and ADASS regions.")
retention_cli = AppGroup("retention", help="Retention of personal data.")
frameworks_cli = AppGroup("frameworks", help="Frameworks beside the roadmap (the CQC's).")


@roadmap_cli.command("load")
@click.option(
    "--path",
    "path",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of the edition to load (default: roadmap/time-to-act-2023).",
)
@click.option("--not-current", is_flag=True, help="Load without making it the current edition.")
def load_roadmap_command(path: Path | None, not_current: bool) -> None:
    """Check the roadmap files and sync them into the database (safe to run again)."""
    from tracker.roadmap_loader import RoadmapDataError, load_roadmap

    path = path or Path(current_app.config["ROADMAP_DIR"]) / "time-to-act-2023"
    try:
        report = load_roadmap(path, make_current=not not_current)
    except RoadmapDataError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    for line in report.lines():
        click.echo(line)


@frameworks_cli.command("load")
@click.option(
    "--path",
    "path",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of the framework to load (default: frameworks/cqc-la-2023).",
)
def load_framework_command(path: Path | None) -> None:
    """Check a framework and its crosswalk and sync them into the database (safe to run again).

    Run it after ``flask roadmap load``: the crosswalk names the roadmap's actions.
    """
    from tracker.frameworks_loader import FrameworkDataError, load_framework

    path = path or Path(current_app.config["FRAMEWORKS_DIR"]) / "cqc-la-2023"
    try:
        report = load_framework(path)
    except FrameworkDataError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    for line in report.lines():
        click.echo(line)


@councils_cli.command("load")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Councils file (default: tracker/data/councils.csv).",
)
def load_councils_command(csv_path: Path | None) -> None:
    """Check the councils file and sync councils and regions (safe to run again)."""
    from tracker.councils.services import CouncilDataError, load_councils

    csv_path = csv_path or Path(current_app.config["COUNCILS_CSV"])
    try:
        report = load_councils(csv_path)
    except CouncilDataError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    for line in report.lines():
        click.echo(line)


@retention_cli.command("run")
def run_retention_command() -> None:
    """Disable accounts unused for a year; anonymise those disabled for a year.

    With REDIS_URL the scheduler runs this daily (flask jobs scheduler); on a single server
    without it, run it daily from cron.
    """
    from tracker.retention import run_retention

    report = run_retention()
    db.session.commit()
    for line in report.lines():
        click.echo(line)


def init_app(app: Flask) -> None:
    """Register the command groups."""
    from tracker.admin.cli import demo_cli, users_cli

    app.cli.add_command(roadmap_cli)
    app.cli.add_command(frameworks_cli)
    app.cli.add_command(councils_cli)
    app.cli.add_command(retention_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    from tracker.periods_cli import periods_cli

    app.cli.add_command(periods_cli)
    from tracker.backup import backup_command, restore_command

    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    from tracker.storage import files_cli

    app.cli.add_command(files_cli)
    from tracker.reports.cli import report_cli

    app.cli.add_command(report_cli)
    from tracker.opendata.cli import opendata_cli

    app.cli.add_command(opendata_cli)
    from tracker.background.cli import jobs_cli

    app.cli.add_command(jobs_cli)
