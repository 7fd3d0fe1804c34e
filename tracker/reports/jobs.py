"""Background report jobs: a regional pack is built off the request, its progress kept in the
``report_jobs`` table so that a refreshed page shows it.

Packs and board-report preparations are tasks of :mod:`tracker.background` on its "reports"
queue: the in-process pool by default, RQ when ``REDIS_URL`` is set (``flask jobs worker`` runs
them, on any node).
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from tracker import storage
from tracker.background import submit_after_commit, task
from tracker.background import wait_for_jobs as wait_for_jobs
from tracker.clock import utcnow
from tracker.domain.principal import load_principal
from tracker.extensions import db
from tracker.models import Period, Region, ReportJob, ReportJobStatus, Return, ReturnStatus, User

KIND_REGION_PACK = "region_pack"
#: a background render waits this long for a free PDF slot before it gives up
RENDER_WAIT_SECONDS = 120
#: a job neither finished nor failed this long after it was asked for was lost: the process that
#: ran it stopped (a restart, a deploy), or no RQ worker is listening. A London pack takes
#: seconds; RQ gives a job 10 minutes (``job_timeout``).
STALE_AFTER = timedelta(minutes=15)
INTERRUPTED = "The pack was interrupted before it was finished. Generate it again."
#: what a pack job does, in order: the page says "Step 2 of 3: drawing the charts". The number
#: of steps is known from the start, so the count never jumps.
STEPS = ("Reading the councils' returns", "Drawing the charts", "Laying out the PDF")
#: a download that finds the board report being prepared waits this long for it, then lays it
#: out itself (``REPORT_PREPARE_WAIT`` overrides it)
PREPARE_WAIT_SECONDS = 60.0
#: a preparation marker older than this is left over (its worker was killed): ignored, removed
PREPARE_STALE_SECONDS = RENDER_WAIT_SECONDS + 600


def create_job(region: Region, period: Period, actor: User) -> ReportJob:
    """A queued job for the region's pack, asked for by ``actor`` (flushed, not committed)."""
    job = ReportJob(
        kind=KIND_REGION_PACK,
        region_id=region.id,
        period_id=period.id,
        requested_by_id=actor.id,
        status=ReportJobStatus.QUEUED,
        progress_done=0,
        progress_total=len(STEPS),
        message="Waiting to start",
    )
    db.session.add(job)
    db.session.flush()
    return job


def latest_job(
    region: Region, period: Period, actor: User, *, status: str | None = None
) -> ReportJob | None:
    """The person's latest pack job for the region and period (of ``status``, if given)."""
    query = select(ReportJob).where(
        ReportJob.region_id == region.id,
        ReportJob.period_id == period.id,
        ReportJob.requested_by_id == actor.id,
    )
    if status is not None:
        query = query.where(ReportJob.status == status)
    job = db.session.scalar(query.order_by(ReportJob.id.desc()).limit(1))
    if job is not None and not job.is_finished and utcnow() - job.created_at > STALE_AFTER:
        # Nobody will finish it: say so, and let the person start it again.
        job.status, job.finished_at, job.message = ReportJobStatus.FAILED, utcnow(), INTERRUPTED
        db.session.commit()
    return job


def _key(stored_name: str) -> str:
    return f"reports/{stored_name}"


def read_file(job: ReportJob) -> bytes | None:
    """The finished PDF of a job, or None if it is not there (not done, or cleaned away)."""
    if job.stored_name is None:
        return None
    try:
        return storage.store().read(_key(job.stored_name))
    except (FileNotFoundError, ValueError):
        return None


def _step(job: ReportJob, done: int, total: int, message: str) -> None:
    job.progress_done, job.progress_total, job.message = done, total, message
    db.session.commit()


@task("reports.region_pack")
def run_job(job_id: int) -> None:
    """Build the job's pack, recording progress as it goes; call in an app context.

    A failure is recorded on the job (status ``failed`` and the reason) rather than raised.
    """
    from tracker.reports import data, render

    job = db.session.get(ReportJob, job_id)
    if job is None or job.status != ReportJobStatus.QUEUED:
        return
    job.status, job.started_at = ReportJobStatus.RUNNING, utcnow()
    total = len(STEPS)
    _step(job, 0, total, STEPS[0])
    try:
        region = db.session.get(Region, job.region_id)
        period = db.session.get(Period, job.period_id)
        requester = db.session.get(User, job.requested_by_id)
        assert region is not None and period is not None and requester is not None
        pack = data.build_region_pack(region, period, viewer=load_principal(requester))
        _step(job, 1, total, STEPS[1])
        for chart in pack.charts:
            render.svg_data_uri(chart)  # cached: the PDF step reuses it
        _step(job, 2, total, STEPS[2])
        content = render.region_pdf(pack, wait=RENDER_WAIT_SECONDS)
        name = storage.new_name(".pdf")
        storage.store().save(_key(name), content)
        job.stored_name = name
        job.status, job.finished_at = ReportJobStatus.DONE, utcnow()
        _step(job, total, total, "Ready to download")
        _forget_earlier_packs(job)
    except Exception as error:  # recorded on the job: the page tells the person
        db.session.rollback()
        job = db.session.get(ReportJob, job_id)
        assert job is not None
        job.status, job.finished_at = ReportJobStatus.FAILED, utcnow()
        job.message = "The pack could not be generated. Try again later."
        db.session.commit()
        current_app.logger.exception("report job %s failed: %s", job_id, type(error).__name__)


def _forget_earlier_packs(job: ReportJob) -> None:
    """Delete the files of the person's earlier packs for the same region and period: only the
    latest is ever downloaded, so each person keeps one file per region and quarter."""
    earlier = db.session.scalars(
        select(ReportJob).where(
            ReportJob.region_id == job.region_id,
            ReportJob.period_id == job.period_id,
            ReportJob.requested_by_id == job.requested_by_id,
            ReportJob.id < job.id,
            ReportJob.stored_name.is_not(None),
        )
    ).all()
    for old in earlier:
        storage.store().delete(_key(str(old.stored_name)))
        old.stored_name = None
    db.session.commit()


#: what the pack's page says when its job could not even be queued
NOT_STARTED = "The pack could not be started. Try again in a few minutes."


def enqueue(job_id: int) -> Future | str | None:
    """Start the job (:func:`run_job`) on the "reports" queue: RQ when ``REDIS_URL`` is set,
    else the in-process pool (also while Redis refuses connections). A job that can be neither
    queued nor started here is marked failed at once, with :data:`NOT_STARTED`, rather than
    left waiting for nobody.

    :returns: the in-process future, the RQ job id, or None when it could not be queued.
    """
    started = submit_after_commit("reports.region_pack", job_id, queue="reports")
    if started is None:
        job = db.session.get(ReportJob, job_id)
        if job is not None and job.status == ReportJobStatus.QUEUED:
            job.status, job.finished_at, job.message = ReportJobStatus.FAILED, utcnow(), NOT_STARTED
            db.session.commit()
    return started


def _marker(return_id: int) -> str:
    """The file store's key that says "this return's board report is being prepared". Every
    node and worker sees it: the preparation runs in whichever process took the sign-off (or in
    an RQ worker), the download in any other."""
    return f"reports/cache/return-{return_id}.preparing"


def _mark_preparing(return_id: int) -> None:
    storage.store().save(_marker(return_id), f"{utcnow().isoformat()}\n".encode())


def _left_over(marker: storage.FileInfo, now: datetime) -> bool:
    """Whether a preparation marker is older than any preparation takes: its worker died."""
    return (now - marker.modified).total_seconds() > PREPARE_STALE_SECONDS


def sweep_markers(now: datetime) -> int:
    """Remove preparation markers left by workers that were killed; returns how many went."""
    store = storage.store()
    stale = [
        item
        for item in store.list("reports/cache/")
        if item.key.endswith(".preparing") and _left_over(item, now)
    ]
    for item in stale:
        store.delete(item.key)
    return len(stale)


def wait_for_preparation(return_id: int, timeout: float | None = None) -> bool:
    """If the return's board report is being prepared in the background, wait (at most
    ``timeout`` seconds, ``REPORT_PREPARE_WAIT`` or 60 by default) for it to reach the PDF cache,
    so that a download asked for meanwhile is served from it rather than laid out a second time.

    :returns: True when it waited and the preparation ended; False when nothing was being
        prepared, or the wait timed out (the caller then lays the report out itself).
    """
    if timeout is None:
        timeout = float(current_app.config.get("REPORT_PREPARE_WAIT", PREPARE_WAIT_SECONDS))
    store, marker = storage.store(), _marker(return_id)
    deadline = time.monotonic() + timeout
    waited = False
    while True:
        found = store.info(marker)
        if found is None:
            return waited
        if _left_over(found, utcnow()):
            store.delete(marker)  # left by a worker that was killed
            return False
        if time.monotonic() >= deadline:
            return False
        waited = True
        time.sleep(0.1)


@task("reports.prepare_council_report")
def prepare_council_report(return_id: int) -> bool:
    """Lay out a submitted or signed-off return's board report into the PDF cache, so that the
    first download after submission or sign-off is served at once rather than laid out then
    (a 40-page report takes WeasyPrint seconds). Call in an app context; failures are logged.

    The marker :func:`enqueue_council_report` left is removed when this ends, whatever the
    outcome: a download waiting for it (:func:`wait_for_preparation`) then reads the cache, or
    lays the report out itself if this failed.

    :returns: True when the report is now in the cache.
    """
    from tracker.reports import data, render

    try:
        return_ = db.session.get(Return, return_id)
        if return_ is None or return_.status == ReturnStatus.DRAFT:
            return False
        try:
            # As the council's own people read it (they download it for their board).
            report = data.build_council_report(return_, include_draft_history=True)
            render.council_pdf(report, wait=RENDER_WAIT_SECONDS)
        except Exception as error:  # the download lays it out instead: nothing is lost
            current_app.logger.exception(
                "preparing the board report of return %s failed: %s",
                return_id,
                type(error).__name__,
            )
            return False
        return True
    finally:
        storage.store().delete(_marker(return_id))


def enqueue_council_report(return_: Return) -> Future | str | None:
    """After a return is submitted or signed off (and committed), prepare its board report in
    the background, on the same runner as the regional packs. Nothing happens for a draft, or
    when the PDF cache is off (``REPORT_PDF_CACHE``).

    :returns: the in-process future, the RQ job id, or None when nothing was queued.
    """
    from tracker.reports.render import cache_enabled

    if return_.status == ReturnStatus.DRAFT or not cache_enabled():
        return None
    # Marked before it is queued: a download that arrives while the job waits its turn waits too.
    _mark_preparing(return_.id)
    queued = submit_after_commit("reports.prepare_council_report", return_.id, queue="reports")
    if queued is None:
        storage.store().delete(_marker(return_.id))  # nothing will prepare it: nobody waits
    return queued
