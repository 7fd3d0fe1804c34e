"""Periodic jobs: what runs when (:data:`SCHEDULE`, the one home for it), and the scheduler's pass.

Every app node may run ``flask jobs scheduler``; each pass looks at the UK time and, for each job
due, claims its slot ("closing-reminders" for 7 December 2026) by inserting a
:class:`~tracker.models.ScheduledRun`. The unique (name, slot) pair lets one scheduler win and the
others skip, so each slot runs once however many nodes there are. The winner queues the run on
the "periodic" queue; the task records when it finished and what it did on the same row, which
``flask jobs status`` shows.

A run that has not finished :data:`LOST_AFTER` after it was claimed was lost: its worker was
killed mid-job, or Redis lost the queue. While its slot is still due, the next pass claims it
again (a compare-and-set on ``claimed_at``, so again only one scheduler wins) and queues it anew.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from tracker.background import JOB_TIMEOUT, submit, task
from tracker.clock import to_uk, uk_today, utcnow
from tracker.extensions import db
from tracker.models import ScheduledRun

log = logging.getLogger(__name__)

#: ``ScheduledRun.outcome``'s length
OUTCOME_LENGTH = 500
#: a claimed run not finished this long after its claim is taken for lost and queued again: far
#: beyond RQ's :data:`~tracker.background.JOB_TIMEOUT`, so that a run merely waiting behind a
#: busy queue is not run twice
LOST_AFTER = timedelta(hours=1)
assert LOST_AFTER.total_seconds() > 3 * JOB_TIMEOUT


@dataclass(frozen=True)
class PeriodicJob:
    """One line of the schedule."""

    name: str
    #: "daily": one run per UK date; "hourly": one per UK date and hour
    every: Literal["daily", "hourly"]
    #: the UK time from which a day's run is due; an hourly job reads only its minutes (due
    #: from that many minutes past each hour)
    start: time
    #: does the work in an app context, commits it, and says what it did in a few words
    run: Callable[[], str]

    def due_slot(self, uk_now: datetime) -> str | None:
        """The slot due at ``uk_now`` (UK local time), or None before the day's (the hour's)
        start time.

        A slot stays due until its day (hour) ends, so a scheduler started at 09:00 still runs
        that day's 07:00 job; a day no scheduler saw is never run later.
        """
        if self.every == "hourly":
            return uk_now.strftime("%Y-%m-%dT%H") if uk_now.minute >= self.start.minute else None
        return uk_now.date().isoformat() if uk_now.time() >= self.start else None

    def describe(self) -> str:
        """ "daily from 07:00", "hourly from :00"."""
        if self.every == "hourly":
            return f"hourly from :{self.start.minute:02d}"
        return f"daily from {self.start.strftime('%H:%M')}"


# -- the jobs -----------------------------------------------------------------------------------


def _closing_reminders() -> str:
    """What ``flask periods remind`` does: a week before a period closes, remind once."""
    from tracker import reminders

    sent = reminders.send_due_reminders(uk_today())
    if not sent:
        return "No reminders due."
    return "; ".join(
        f"{period.label}: {report.sent} sent, {len(report.failed)} failed"
        for period, report in sent
    )


def _retention() -> str:
    """What ``flask retention run`` does: disable idle accounts, anonymise old disabled ones."""
    from tracker.retention import run_retention

    report = run_retention()
    db.session.commit()
    return "; ".join(report.lines())


def _sweep_files() -> str:
    """Remove the file store's leftovers (:func:`tracker.storage.sweep`)."""
    from tracker import storage

    removed = storage.sweep()
    db.session.commit()
    return "Removed " + ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in removed.items())


#: what runs when, in UK time
SCHEDULE: tuple[PeriodicJob, ...] = (
    PeriodicJob("closing-reminders", "daily", time(7, 0), _closing_reminders),
    PeriodicJob("retention", "daily", time(2, 30), _retention),
    PeriodicJob("sweep-files", "hourly", time(0, 0), _sweep_files),
)


def periodic_job(name: str) -> PeriodicJob:
    """The job called ``name`` in :data:`SCHEDULE`; raises ``LookupError`` if there is none."""
    for job in SCHEDULE:
        if job.name == name:
            return job
    raise LookupError(f"there is no periodic job called {name!r}")


# -- the scheduler's pass -----------------------------------------------------------------------


def schedule_due(now: datetime | None = None) -> list[tuple[str, str]]:
    """Claim and queue every job due at ``now`` (naive UTC; by default, now) whose slot no
    scheduler has claimed yet. Commits each claim before queueing it.

    :returns: the (name, slot) of each run this pass claimed.
    """
    now = now or utcnow()
    uk_now = to_uk(now)
    queued = []
    for job in SCHEDULE:
        slot = job.due_slot(uk_now)
        if slot is None:
            continue
        run_id = _claim(job.name, slot, now)
        if run_id is not None and _queue(run_id):
            queued.append((job.name, slot))
    return queued


def _claimed(name: str, slot: str) -> ScheduledRun | None:
    # Looked at first so that a pass finding everything claimed (nearly every pass) writes
    # nothing, and PostgreSQL's log does not fill with unique violations every 30 seconds.
    return db.session.scalars(
        select(ScheduledRun).where(ScheduledRun.name == name, ScheduledRun.slot == slot)
    ).first()


def _claim(name: str, slot: str, now: datetime) -> int | None:
    """Insert the (name, slot) run and commit it, or take over a lost one; None if another
    scheduler has it."""
    claimed = _claimed(name, slot)
    if claimed is not None:
        return _reclaim(claimed, now)
    run = ScheduledRun(name=name, slot=slot, claimed_at=now)
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:
        # Another scheduler inserted it since we looked: it is theirs to run.
        db.session.rollback()
        return None
    return run.id


def _reclaim(run: ScheduledRun, now: datetime) -> int | None:
    """Claim ``run`` again if it was lost (unfinished :data:`LOST_AFTER` after its claim);
    None if it was not, or another scheduler reclaimed it first."""
    run_id, claimed_at, name, slot = run.id, run.claimed_at, run.name, run.slot
    if run.finished_at is not None or now - claimed_at < LOST_AFTER:
        db.session.rollback()  # ends the read's transaction, as the insert's commit would
        return None
    taken = db.session.execute(
        update(ScheduledRun)
        .where(
            ScheduledRun.id == run_id,
            ScheduledRun.finished_at.is_(None),
            ScheduledRun.claimed_at == claimed_at,
        )
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if taken:
        log.warning("scheduled run %s (%s, %s) was lost; queued again", run_id, name, slot)
    return run_id if taken else None


def _queue(run_id: int) -> bool:
    """Queue the claimed run; if it cannot be queued (Redis is down), give the slot back, so
    that the next pass (here or on another node) claims it again."""
    try:
        submit("periodic.run", run_id, queue="periodic")
    except Exception:
        log.exception("could not queue scheduled run %s; its slot is released", run_id)
        db.session.rollback()
        run = db.session.get(ScheduledRun, run_id)
        if run is not None:
            db.session.delete(run)
            db.session.commit()
        return False
    return True


# -- the task -----------------------------------------------------------------------------------


@task("periodic.run")
def run_scheduled(run_id: int) -> str | None:
    """Run the claimed run's job, and record when it finished and what it did (or why it
    failed: a failure is logged and recorded, never raised into the worker).

    :returns: the outcome recorded, or None when the run had already finished (a job RQ
        started again) or has gone.
    """
    run = db.session.get(ScheduledRun, run_id)
    if run is None or run.finished_at is not None:
        return None
    name, slot = run.name, run.slot
    try:
        outcome = periodic_job(name).run()
    except Exception as error:
        db.session.rollback()
        log.exception("periodic job %s (%s) failed", name, slot)
        outcome = f"Failed: {type(error).__name__}: {error}"
    _finish(run_id, outcome)
    return outcome


def _finish(run_id: int, outcome: str) -> None:
    run = db.session.get(ScheduledRun, run_id)
    assert run is not None
    run.finished_at = utcnow()
    run.outcome = outcome[:OUTCOME_LENGTH]
    db.session.commit()


def recent_runs(name: str, limit: int = 5) -> list[ScheduledRun]:
    """The job's last ``limit`` runs, newest first."""
    return list(
        db.session.scalars(
            select(ScheduledRun)
            .where(ScheduledRun.name == name)
            .order_by(ScheduledRun.claimed_at.desc(), ScheduledRun.id.desc())
            .limit(limit)
        )
    )
