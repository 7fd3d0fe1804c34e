"""Background work: tasks on the in-process pool or on RQ, ``flask jobs worker``, and the
scheduler that claims each periodic job's slot once however many nodes run it."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime, time, timedelta

import pytest
import time_machine
from flask import has_app_context
from sqlalchemy import func, select

from tests.conftest import dispose, make_app
from tests.factories import get_user, make_user
from tests.helpers import mail_body, sent_mail
from tests.test_evidence_services import LEEDS, council_by_code, open_small_period
from tracker import background, reminders
from tracker.background import schedule
from tracker.background.schedule import PeriodicJob, schedule_due
from tracker.clock import utcnow
from tracker.config import PROJECT_ROOT
from tracker.extensions import db
from tracker.models import Return, Role, ScheduledRun

#: 24 January 2026, 08:00 in the UK (GMT): every job of the real schedule is due, and a period
#: closing on 31 January is due its reminder
MORNING = datetime(2026, 1, 24, 8, 0)


def _runs(name: str | None = None) -> list[tuple[str, str]]:
    query = select(ScheduledRun.name, ScheduledRun.slot).order_by(
        ScheduledRun.name, ScheduledRun.slot
    )
    if name is not None:
        query = query.where(ScheduledRun.name == name)
    return [tuple(row) for row in db.session.execute(query)]


def _run(name: str) -> ScheduledRun:
    return db.session.scalars(select(ScheduledRun).where(ScheduledRun.name == name)).one()


@pytest.fixture
def noted(monkeypatch) -> list[tuple]:
    """A task "test.note" that notes its thread, whether an app context was pushed and its
    arguments, and returns their count."""
    notes: list[tuple] = []

    def note(*args):
        notes.append((threading.current_thread().name, has_app_context(), args))
        return len(args)

    monkeypatch.setitem(background._TASKS, "test.note", note)
    return notes


@pytest.fixture
def counting_schedule(monkeypatch) -> Counter:
    """The schedule replaced by a daily job from 07:00 and an hourly one from :15 past, each
    counting its runs."""
    ran: Counter = Counter()

    def counting(name: str):
        def run() -> str:
            ran[name] += 1
            return f"{name} ran"

        return run

    monkeypatch.setattr(
        schedule,
        "SCHEDULE",
        (
            PeriodicJob("daily-job", "daily", time(7, 0), counting("daily-job")),
            PeriodicJob("hourly-job", "hourly", time(0, 15), counting("hourly-job")),
        ),
    )
    return ran


# -- tasks and the pool -----------------------------------------------------------------------


def test_a_task_runs_on_the_pool_in_an_app_context_with_its_arguments_as_json(app, noted):
    with app.app_context():
        future = background.submit("test.note", 7, ("a", "b"), queue="reports")
    background.wait_for_jobs(app)
    assert future.result() == 2
    [(thread, in_app, args)] = noted
    assert thread.startswith("background") and in_app
    assert args == (7, ["a", "b"])  # what a worker would be given: JSON, not the objects


def test_a_mail_task_runs_at_once_in_the_caller_without_redis(app, noted):
    with app.app_context():
        future = background.submit("test.note", 1, queue="mail")
        assert future.done() and future.result() == 1
        assert noted == [(threading.current_thread().name, True, (1,))]


def test_a_failed_pool_task_is_raised_by_wait_for_jobs(app, monkeypatch):
    def broken():
        raise RuntimeError("disk full")

    monkeypatch.setitem(background._TASKS, "test.broken", broken)
    with app.app_context():
        background.submit("test.broken", queue="reports")
    with pytest.raises(RuntimeError, match="disk full"):
        background.wait_for_jobs(app)


def test_submit_refuses_an_unknown_task_or_queue_and_arguments_json_cannot_carry(app, noted):
    with app.app_context():
        with pytest.raises(LookupError, match=r"no task called 'test\.missing'"):
            background.submit("test.missing", queue="reports")
        with pytest.raises(ValueError, match="no queue called 'later'"):
            background.submit("test.note", queue="later")
        with pytest.raises(TypeError, match="JSON-able"):
            background.submit("test.note", utcnow(), queue="reports")
    background.wait_for_jobs(app)
    assert noted == []


def test_a_task_name_is_registered_once(monkeypatch):
    monkeypatch.setattr(background, "_TASKS", {})
    background.task("test.once")(print)
    background.task("test.once")(print)  # the same function again is harmless
    with pytest.raises(ValueError, match=r"already a task called 'test\.once'"):
        background.task("test.once")(repr)


def test_a_worker_finds_every_task_the_app_submits_without_building_an_app():
    """In a fresh process (a plain ``rq worker``), where nothing else has imported the modules
    that register them."""
    names = [
        "mail.return_submitted",
        "reports.region_pack",
        "reports.prepare_council_report",
        "periodic.run",
    ]
    script = (
        "import sys; from tracker.background import registered; "
        "[registered(name) for name in sys.argv[1:]]"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, *names],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# -- RQ ---------------------------------------------------------------------------------------


def _forget_queues(url: str, prefix: str) -> None:
    """Delete this test's queues, their jobs and registries from the shared Redis (and
    nothing else: other runs may be using it)."""
    from redis import Redis
    from rq import Queue

    with closing(Redis.from_url(url)) as connection:
        job_ids: set[str] = set()
        for name in background.QUEUES:
            queue = Queue(prefix + name, connection=connection)
            job_ids.update(queue.job_ids)
            for registry in (
                queue.started_job_registry,
                queue.finished_job_registry,
                queue.failed_job_registry,
                queue.deferred_job_registry,
                queue.scheduled_job_registry,
                queue.canceled_job_registry,
            ):
                job_ids.update(registry.get_job_ids())
        for pattern in [f"*{prefix}*", *(f"rq:*{job_id}*" for job_id in job_ids)]:
            for key in connection.scan_iter(match=pattern):
                connection.delete(key)
        # RQ lists every queue it has seen in one set.
        for member in connection.sscan_iter("rq:queues", match=f"*{prefix}*"):
            connection.srem("rq:queues", member)


@pytest.fixture
def rq_app(app, redis_url) -> Iterator:
    """The app with REDIS_URL set and queues of its own on the shared Redis."""
    prefix = f"tracker-test-{secrets.token_hex(4)}-"
    app.config.update(REDIS_URL=redis_url, JOBS_QUEUE_PREFIX=prefix)
    yield app
    _forget_queues(redis_url, prefix)


def _queued(app, queue: str) -> list[tuple[str, tuple]]:
    from rq import Queue

    with app.app_context():
        rq_queue = Queue(
            background.queue_name(app, queue),
            connection=background._redis(app, app.config["REDIS_URL"]),
        )
        return [(job.func_name, job.args) for job in rq_queue.jobs]


def test_with_redis_a_submitted_return_queues_its_email_on_the_mail_queue(rq_app):
    with rq_app.app_context():
        open_small_period(codes=[LEEDS])
        return_id = db.session.scalar(select(Return.id))
        job_id = reminders.notify_return_submitted(db.session.get(Return, return_id))
    assert isinstance(job_id, str)
    assert _queued(rq_app, "mail") == [
        ("tracker.background.run_task", ("mail.return_submitted", [return_id]))
    ]
    assert _queued(rq_app, "reports") == _queued(rq_app, "periodic") == []
    assert [m for m in sent_mail(rq_app) if "sign-off" in m["Subject"]] == []  # not in the request


def mail_dir_of(app):
    from tracker.mail import mail_dir

    with app.app_context():
        return mail_dir()


def _flask(app, *args: str) -> subprocess.CompletedProcess:
    """Run ``flask --app app …`` in a process of its own, on this test's database and Redis,
    as a deployment would."""
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "REDIS_URL": app.config["REDIS_URL"],
        "JOBS_QUEUE_PREFIX": app.config["JOBS_QUEUE_PREFIX"],
        # the file backend's folder: the worker's emails land where the test reads them
        "MAIL_FILE_DIR": str(mail_dir_of(app)),
    }
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_flask_jobs_worker_runs_the_scheduled_jobs_against_the_database(rq_app):
    with rq_app.app_context():
        idle = make_user(email="idle@example.org")
        get_user(idle.id).last_sign_in_at = utcnow() - timedelta(days=800)
        db.session.commit()
        # 02:45: retention (from 02:30) and the hourly sweep are due; the reminders are not.
        queued = schedule_due(datetime(2026, 1, 24, 2, 45))
        db.session.remove()
    assert queued == [("retention", "2026-01-24"), ("sweep-files", "2026-01-24T02")]
    assert len(_queued(rq_app, "periodic")) == 2

    result = _flask(rq_app, "jobs", "worker", "--burst")

    assert result.returncode == 0, result.stderr
    assert _queued(rq_app, "periodic") == []
    with rq_app.app_context():
        assert not get_user(idle.id).is_active
        retention = _run("retention")
        assert retention.finished_at is not None
        assert retention.outcome.startswith("accounts disabled after 365 days unused: 1;")
        assert _run("sweep-files").finished_at is not None


def test_flask_jobs_worker_needs_redis(runner):
    result = runner.invoke(args=["jobs", "worker", "--burst"])
    assert result.exit_code == 1
    assert "REDIS_URL is not set" in result.output


# -- the scheduler ----------------------------------------------------------------------------


def test_two_schedulers_at_the_same_time_claim_each_slot_once_and_run_each_job_once(
    app, counting_schedule
):
    """Two app nodes (two apps on one database) pass at the same moment."""
    other = make_app(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with app.app_context():
            first = schedule_due(MORNING + timedelta(minutes=20))
        with other.app_context():
            second = schedule_due(MORNING + timedelta(minutes=20))
        background.wait_for_jobs(app)
        background.wait_for_jobs(other)
    finally:
        dispose(other)
    assert first == [("daily-job", "2026-01-24"), ("hourly-job", "2026-01-24T08")]
    assert second == []
    assert counting_schedule == {"daily-job": 1, "hourly-job": 1}
    with app.app_context():
        assert _runs() == [("daily-job", "2026-01-24"), ("hourly-job", "2026-01-24T08")]
        assert _run("daily-job").outcome == "daily-job ran"
        assert _run("daily-job").finished_at is not None


def test_a_slot_claimed_by_another_scheduler_since_this_one_looked_is_skipped(
    app, counting_schedule, monkeypatch
):
    with app.app_context():
        db.session.add(ScheduledRun(name="daily-job", slot="2026-01-24"))
        db.session.commit()
        # As if the other node's insert landed between this one's look and its insert.
        monkeypatch.setattr(schedule, "_claimed", lambda name, slot: None)
        assert schedule_due(MORNING + timedelta(minutes=20)) == [("hourly-job", "2026-01-24T08")]
        background.wait_for_jobs(app)
        assert _runs("daily-job") == [("daily-job", "2026-01-24")]
        assert _run("daily-job").finished_at is None  # the other node's run, untouched
    assert counting_schedule == {"hourly-job": 1}


def test_a_run_lost_before_it_finished_is_queued_again_an_hour_on_by_one_scheduler(
    app, counting_schedule
):
    """A worker killed mid-job (or a Redis that lost its queue) leaves a claimed, unfinished run;
    while its day lasts, a pass an hour after the claim queues it again, once however many
    schedulers pass."""
    claimed = MORNING + timedelta(minutes=20)
    other = make_app(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with app.app_context():
            db.session.add(ScheduledRun(name="daily-job", slot="2026-01-24", claimed_at=claimed))
            db.session.commit()
            # Not yet lost: it may be waiting behind a busy queue.
            later = claimed + schedule.LOST_AFTER - timedelta(minutes=1)
            assert ("daily-job", "2026-01-24") not in schedule_due(later)
            background.wait_for_jobs(app)
            assert counting_schedule["daily-job"] == 0
            lost = claimed + schedule.LOST_AFTER
            first = schedule_due(lost)
        with other.app_context():
            second = schedule_due(lost)
        background.wait_for_jobs(app)
        background.wait_for_jobs(other)
    finally:
        dispose(other)
    assert ("daily-job", "2026-01-24") in first
    assert ("daily-job", "2026-01-24") not in second
    assert counting_schedule["daily-job"] == 1
    with app.app_context():
        run = _run("daily-job")
        assert (run.claimed_at, run.outcome) == (lost, "daily-job ran")
        # Finished now: never queued again, however late it is that day.
        assert ("daily-job", "2026-01-24") not in schedule_due(lost + timedelta(hours=5))
        background.wait_for_jobs(app)
    assert counting_schedule["daily-job"] == 1


def test_a_job_runs_from_its_time_that_day_and_a_missed_day_is_not_run_later(
    app, counting_schedule
):
    with app.app_context():
        assert schedule_due(datetime(2026, 1, 24, 6, 10)) == []  # neither 07:00 nor :15 yet
        # The scheduler starts at 09:00: the day's 07:00 run is still due; nothing ran on the
        # 23rd, and nothing runs for it now.
        assert schedule_due(datetime(2026, 1, 24, 9, 0)) == [("daily-job", "2026-01-24")]
        assert schedule_due(datetime(2026, 1, 24, 9, 15)) == [("hourly-job", "2026-01-24T09")]
        assert schedule_due(datetime(2026, 1, 25, 6, 0)) == []
        background.wait_for_jobs(app)
        assert _runs("daily-job") == [("daily-job", "2026-01-24")]


def test_times_are_uk_time_in_summer(app, counting_schedule):
    with app.app_context():
        # 05:59 UTC on 1 July is 06:59 in the UK (BST); 06:00 UTC is 07:00.
        assert schedule_due(datetime(2026, 7, 1, 5, 59)) == [("hourly-job", "2026-07-01T06")]
        assert schedule_due(datetime(2026, 7, 1, 6, 0)) == [("daily-job", "2026-07-01")]
        background.wait_for_jobs(app)


def test_a_failing_job_records_why_and_raises_nothing(app, monkeypatch):
    def broken() -> str:
        db.session.add(ScheduledRun(name="half-done", slot="x"))
        db.session.flush()
        raise RuntimeError("disk full")

    monkeypatch.setattr(schedule, "SCHEDULE", (PeriodicJob("broken", "daily", time(7, 0), broken),))
    with app.app_context():
        assert schedule_due(MORNING) == [("broken", "2026-01-24")]
    background.wait_for_jobs(app)  # the task raised nothing
    with app.app_context():
        run = _run("broken")
        assert run.outcome == "Failed: RuntimeError: disk full"
        assert run.finished_at is not None
        assert _runs("half-done") == []  # what it did before failing was rolled back


def test_a_run_that_cannot_be_queued_gives_its_slot_back(app, counting_schedule, monkeypatch):
    def refused(*args, **kwargs):
        raise ConnectionError("Redis is down")

    with app.app_context():
        monkeypatch.setattr(schedule, "submit", refused)
        assert schedule_due(MORNING + timedelta(minutes=20)) == []
        assert _runs() == []
        monkeypatch.setattr(schedule, "submit", background.submit)
        assert len(schedule_due(MORNING + timedelta(minutes=20))) == 2
    background.wait_for_jobs(app)


def test_the_real_schedule_reminds_once_and_the_status_shows_its_runs(app, runner):
    with app.app_context():
        open_small_period(codes=[LEEDS])
        make_user(
            email="ed@leeds.example", memberships=[(Role.COUNCIL_EDITOR, council_by_code(LEEDS))]
        )
    with time_machine.travel(MORNING, tick=False):
        first = runner.invoke(args=["jobs", "scheduler", "--once"])
        second = runner.invoke(args=["jobs", "scheduler", "--once"])
        status = runner.invoke(args=["jobs", "status"])
    assert first.exit_code == 0, first.output
    assert first.output.splitlines() == [
        "Queued closing-reminders for 2026-01-24.",
        "Queued retention for 2026-01-24.",
        "Queued sweep-files for 2026-01-24T08.",
    ]
    assert (second.exit_code, second.output) == (0, "")
    reminded = [m for m in sent_mail(app, "ed@leeds.example") if "is due" in m["Subject"]]
    assert len(reminded) == 1 and "31 January 2026" in mail_body(reminded[0])
    lines = status.output.splitlines()
    assert lines[0] == "closing-reminders (daily from 07:00)"
    assert lines[1].startswith(
        "  2026-01-24  claimed 2026-01-24 08:00:00  finished 2026-01-24 08:00:00"
    )
    assert lines[1].endswith("2025-26 Q3: 1 sent, 0 failed")
    assert "retention (daily from 02:30)" in lines
    assert "sweep-files (hourly from :00)" in lines
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ScheduledRun)) == 3


def test_the_hourly_sweep_removes_the_stores_leftovers(app, tmp_path):
    from tracker import storage

    app.config.update(
        EVIDENCE_DIR=str(tmp_path / "e"),
        REPORT_FOLDER=str(tmp_path / "r"),
        IMPORT_FOLDER=str(tmp_path / "i"),
    )
    with app.app_context():
        storage.store().save("reports/cache/return-9.preparing", b"left by a killed worker")
    # Two hours on, the marker's worker is long dead.
    with time_machine.travel(datetime.now() + timedelta(hours=2)), app.app_context():
        outcome = schedule.periodic_job("sweep-files").run()
        assert outcome.startswith("Removed 0 uploads, 0 cached reports, 1 markers"), outcome
        assert storage.store().list("reports/") == []


def test_status_says_when_a_job_has_not_run(runner):
    result = runner.invoke(args=["jobs", "status"])
    assert result.exit_code == 0
    assert result.output.splitlines()[:2] == [
        "closing-reminders (daily from 07:00)",
        "  no runs yet",
    ]


def test_with_redis_a_quarter_opened_from_its_page_emails_its_editors_from_a_worker(rq_app, page):
    """Opening a quarter emails every editor of 153 councils: with REDIS_URL the administrator's
    request only queues it, the page says so, and a worker sends them."""
    from tests.access_matrix import csrf_token, make_member, signed_in_client
    from tests.test_evidence_services import council_by_code
    from tracker.models import Period
    from tracker.returns.periods import create_period

    with rq_app.app_context():
        make_user(
            email="ed@leeds.example", memberships=[(Role.COUNCIL_EDITOR, council_by_code(LEEDS))]
        )
        period = create_period("2026-27 Q1", datetime(2026, 7, 31).date(), actor=None)
        db.session.commit()
        period_id = period.id
    admin = signed_in_client(rq_app, make_member(rq_app, Role.NATIONAL_ADMIN))
    path = f"/admin/periods/{period_id}/open"
    response = admin.post(path, data={"csrf_token": csrf_token(admin, path)})
    assert response.status_code == 302
    text = page(admin.get("/admin/periods")).get_text(" ", strip=True)
    assert (
        "2026-27 Q1 is open. 153 councils have a draft return; their editors are being emailed"
        in text
    )
    assert _queued(rq_app, "mail") == [
        ("tracker.background.run_task", ("mail.period_opened", [period_id]))
    ]
    opened = [m for m in sent_mail(rq_app) if "return open" in m["Subject"]]
    assert opened == []  # not in the request

    result = _flask(rq_app, "jobs", "worker", "--burst")
    assert result.returncode == 0, result.stderr[-3000:]
    opened = [m for m in sent_mail(rq_app) if "return open" in m["Subject"]]
    assert [m["To"] for m in opened] == ["ed@leeds.example"]
    with rq_app.app_context():
        assert db.session.get(Period, period_id).status == "open"
