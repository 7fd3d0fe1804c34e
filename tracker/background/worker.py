"""The RQ worker class of ``flask jobs worker`` (imported only there: RQ is not needed to serve
pages)."""

from __future__ import annotations

from flask import Flask
from rq import Queue, Worker
from rq.job import Job

from tracker.extensions import db


class AppWorker(Worker):
    """RQ's worker, which forks a "work horse" per job, for an app built once before working.

    The horse inherits the worker's memory, the app's connection pools included; a connection
    used by two processes at once corrupts both, so the horse drops what it inherited (without
    closing it: it is the parent's) before the job, and closes its own after it.
    """

    def __init__(self, *args: object, app: Flask, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.app = app

    def perform_job(self, job: Job, queue: Queue) -> bool:
        # RQ's Worker calls this in the horse, just after the fork.
        with self.app.app_context():
            for engine in db.engines.values():
                engine.dispose(close=False)
        try:
            return super().perform_job(job, queue)
        finally:
            with self.app.app_context():
                for engine in db.engines.values():
                    engine.dispose()
