"""``flask jobs worker|scheduler|status``: run background work beside the web workers.

- ``worker``: an RQ worker on the "mail", "reports" and "periodic" queues (needs ``REDIS_URL``).
- ``scheduler``: claims and queues the periodic jobs when they are due; one per node is fine.
- ``status``: each periodic job's last runs, for operators.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from tracker.background import QUEUES, queue_name, wait_for_jobs
from tracker.background.schedule import SCHEDULE, recent_runs, schedule_due
from tracker.clock import to_uk
from tracker.extensions import db

log = logging.getLogger(__name__)

jobs_cli = AppGroup("jobs", help="Background work: the RQ worker, the scheduler, their runs.")


def _redis_url(app: Flask) -> str:
    url = app.config.get("REDIS_URL")
    if not url:
        raise click.ClickException(
            "REDIS_URL is not set: without Redis, background work runs in the web process and "
            "there is nothing for a worker to do."
        )
    return url


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty (tests).")
def worker_command(burst: bool) -> None:
    """Work on the queues at REDIS_URL ("mail", then "reports", then "periodic") until stopped."""
    from redis import Redis
    from rq import Queue

    from tracker.background.worker import AppWorker

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    connection = Redis.from_url(_redis_url(app))
    try:
        queues = [Queue(queue_name(app, name), connection=connection) for name in QUEUES]
        AppWorker(queues, connection=connection, app=app).work(burst=burst)
    finally:
        connection.close()


@jobs_cli.command("scheduler")
@click.option(
    "--once",
    is_flag=True,
    help="Run one pass and exit, after the jobs it started here (tests; a cron fallback).",
)
def scheduler_command(once: bool) -> None:
    """Queue each periodic job when it is due, every JOBS_SCHEDULER_INTERVAL seconds.

    Run one on every node if you like: each job's slot is claimed once, by one of them.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    interval = float(app.config["JOBS_SCHEDULER_INTERVAL"])
    while True:
        _one_pass(keep_going=not once)
        if once:
            # Without Redis the jobs run on this process's pool: see them done before exiting.
            wait_for_jobs(app, timeout=None)
            return
        time.sleep(interval)


def _one_pass(*, keep_going: bool) -> None:
    try:
        for name, slot in schedule_due():
            click.echo(f"Queued {name} for {slot}.")
    except Exception:
        if not keep_going:
            raise
        # The database or Redis is away for a moment: the next pass tries again.
        log.exception("the scheduler's pass failed")
    finally:
        # No connection or transaction held between passes.
        db.session.remove()


def _when(at: datetime | None) -> str:
    return to_uk(at).strftime("%Y-%m-%d %H:%M:%S") if at is not None else "-"


@jobs_cli.command("status")
@click.option("--last", "limit", default=5, show_default=True, help="Runs shown per job.")
def status_command(limit: int) -> None:
    """Each periodic job's last runs: when claimed and finished (UK time), and what it did."""
    for job in SCHEDULE:
        click.echo(f"{job.name} ({job.describe()})")
        runs = recent_runs(job.name, limit)
        if not runs:
            click.echo("  no runs yet")
        for run in runs:
            outcome = run.outcome if run.finished_at else "not finished (running, or lost)"
            click.echo(
                f"  {run.slot}  claimed {_when(run.claimed_at)}  "
                f"finished {_when(run.finished_at)}  {outcome}"
            )
