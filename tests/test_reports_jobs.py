"""Background pack jobs: progress recorded, failures recorded, RQ used when REDIS_URL is set."""

from __future__ import annotations

from contextlib import closing

from sqlalchemy import select

from tests.access_matrix import council, make_person
from tests.helpers import redis_server
from tests.returns_data import LABEL, LEEDS, assess_all, open_period, submit
from tracker import storage
from tracker.extensions import db
from tracker.models import Period, Region, ReportJob, User
from tracker.reports import jobs, render


def _job(app) -> int:
    with app.app_context():
        person = make_person("asker@example.org")
        period = db.session.scalar(select(Period).where(Period.label == LABEL))
        job = jobs.create_job(council(LEEDS).region, period, person)
        db.session.commit()
        return job.id


def test_a_job_records_its_steps_and_keeps_its_pdf(app):
    open_period(app)
    assess_all(app, LEEDS)
    submit(app, LEEDS)
    job_id = _job(app)
    with app.app_context():
        jobs.run_job(job_id)
        job = db.session.get(ReportJob, job_id)
        assert job.status == "done"
        assert job.progress_done == job.progress_total == len(jobs.STEPS)
        assert job.message == "Ready to download"
        assert jobs.read_file(job).startswith(b"%PDF")
        assert job.started_at <= job.finished_at


def test_a_newer_pack_replaces_the_file_of_the_last_one(app):
    open_period(app)
    assess_all(app, LEEDS)
    submit(app, LEEDS)
    first_id = _job(app)
    with app.app_context():
        jobs.run_job(first_id)
        first = db.session.get(ReportJob, first_id)
        first_key = f"reports/{first.stored_name}"
        assert storage.store().info(first_key) is not None
        second = jobs.create_job(
            db.session.get(Region, first.region_id),
            db.session.get(Period, first.period_id),
            db.session.get(User, first.requested_by_id),
        )
        db.session.commit()
        jobs.run_job(second.id)
        db.session.refresh(first)
        assert db.session.get(ReportJob, second.id).status == "done"
        assert storage.store().info(first_key) is None and first.stored_name is None
        assert jobs.read_file(db.session.get(ReportJob, second.id)).startswith(b"%PDF")


def test_a_failed_job_says_so_and_raises_nothing(app, monkeypatch):
    open_period(app)
    job_id = _job(app)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(render, "region_pdf", broken)
    with app.app_context():
        jobs.run_job(job_id)
        job = db.session.get(ReportJob, job_id)
        assert job.status == "failed"
        assert job.message == "The pack could not be generated. Try again later."
        assert jobs.read_file(job) is None


def test_with_redis_url_jobs_go_on_the_rq_queue(app, monkeypatch):
    open_period(app)
    job_id = _job(app)
    enqueued = []

    class FakeQueue:
        def __init__(self, name, connection):
            self.name = name

        def enqueue(self, func, *args, **kwargs):
            enqueued.append((self.name, func.__name__, args))

            class Job:
                id = "rq-1"

            return Job()

    import rq

    monkeypatch.setattr(rq, "Queue", FakeQueue)
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    with app.app_context():
        assert jobs.enqueue(job_id) == "rq-1"
    assert enqueued == [("reports", "run_task", ("reports.region_pack", [job_id]))]


def test_a_real_rq_worker_builds_the_pack(app, monkeypatch, tmp_path):
    """Redis and a plain RQ worker (in this process, with no app of its own): the queue path
    end to end. ``flask jobs worker`` is tested in tests/test_background.py."""
    from redis import Redis
    from rq import Queue, SimpleWorker

    with redis_server(tmp_path) as url, closing(Redis.from_url(url)) as connection:
        open_period(app)
        assess_all(app, LEEDS)
        submit(app, LEEDS)
        job_id = _job(app)
        app.config["REDIS_URL"] = url
        with app.app_context():
            jobs.enqueue(job_id)
        # The worker builds its own app from the environment, as it would beside gunicorn.
        monkeypatch.setenv("DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
        monkeypatch.setenv("SECRET_KEY", app.config["SECRET_KEY"])
        worker = SimpleWorker([Queue("reports", connection=connection)], connection=connection)
        assert worker.work(burst=True)
        with app.app_context():
            job = db.session.get(ReportJob, job_id)
            assert job.status == "done"
