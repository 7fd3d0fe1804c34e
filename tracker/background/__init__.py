"""Work done off the request: the one home for running a task later, here or on another node.

A task is a function registered by name (:func:`task`) that takes simple JSON-able arguments
(ids, not objects: by the time it runs, the objects may have changed). :func:`submit` runs it

- with ``REDIS_URL`` set: on an RQ queue in Redis, as a call of :func:`run_task` with the task's
  name and arguments (never a pickled closure, so any node's worker can run any node's job);
  ``flask jobs worker`` (:mod:`tracker.background.cli`) runs them on every app node;
- without it: on a pool of one thread in this process (as a single server always did: packs
  queue behind each other), its futures kept so that :func:`wait_for_jobs` can wait for them;
  except the queues in :data:`INLINE_WITHOUT_REDIS`, which run at once, in the caller.

Work a person's change asks for (:func:`submit_after_commit`: an email, a report laid out
ahead, a pack) runs here, as without Redis, when ``REDIS_URL`` is set but Redis refuses the
connection: the work is done on this node rather than lost while Redis is down.

Periodic jobs (the daily reminders, retention, the hourly file sweep) are in
:mod:`tracker.background.schedule`.
"""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, has_app_context

from tracker.extensions import db

if TYPE_CHECKING:
    from redis import Redis

log = logging.getLogger(__name__)

#: the queues, in the order a worker takes jobs from them: an email a person waits for comes
#: before a pack someone asked for, and both before the nightly housekeeping
QUEUES = ("mail", "reports", "periodic")
#: queues whose tasks run at once, in the caller, when there is no Redis: the pool's one thread
#: may be busy for a minute with a pack, and an approver's email should not wait behind it
#: (nor should a test that reads the outbox right after the request)
INLINE_WITHOUT_REDIS = frozenset({"mail"})
#: the modules that register tasks: a worker imports them before it looks a task up, since
#: nothing else may have imported them in its process
TASK_MODULES = ("tracker.reminders", "tracker.reports.jobs", "tracker.background.schedule")
#: RQ stops a job after this many seconds (a London pack takes a few)
JOB_TIMEOUT = 600

_POOL = "background_pool"
_FUTURES = "background_futures"
_REDIS = "background_redis"

_TASKS: dict[str, Callable[..., Any]] = {}


def task(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as the task ``name`` (returned unchanged).

    The function runs in an app context and takes the JSON-able arguments given to
    :func:`submit`. Raises ``ValueError`` if another function already has the name.
    """

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        if _TASKS.setdefault(name, function) is not function:
            raise ValueError(f"there is already a task called {name!r}")
        return function

    return register


def registered(name: str) -> Callable[..., Any]:
    """The function registered as ``name``; raises ``LookupError`` if there is none."""
    if name not in _TASKS:
        for module in TASK_MODULES:
            importlib.import_module(module)
    try:
        return _TASKS[name]
    except KeyError:
        raise LookupError(f"there is no task called {name!r}") from None


def queue_name(app: Flask, queue: str) -> str:
    """The Redis name of one of :data:`QUEUES`: ``JOBS_QUEUE_PREFIX`` lets several apps (or
    test runs) share one Redis without taking each other's jobs."""
    return app.config.get("JOBS_QUEUE_PREFIX", "") + queue


def submit(name: str, *args: object, queue: str) -> Future | str:
    """Run the task ``name`` with ``args`` off the request (see the module's docstring).

    Call it after committing what the task reads: it may start before this request ends.

    :returns: the RQ job id with ``REDIS_URL``, else a future (already done for an inline queue).
    :raises LookupError: for an unknown task; ``ValueError`` for an unknown queue;
        ``TypeError`` for arguments JSON cannot carry. Each is raised here, by the caller,
        rather than later in a worker.
    """
    if queue not in QUEUES:
        raise ValueError(f"there is no queue called {queue!r}: use one of {QUEUES}")
    registered(name)
    payload = _json_args(args)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    url = app.config.get("REDIS_URL")
    if url:
        return _enqueue(app, url, queue, name, payload)
    return _run_here(app, queue, name, payload)


def _run_here(app: Flask, queue: str, name: str, payload: list[Any]) -> Future:
    if queue in INLINE_WITHOUT_REDIS:
        return _run_inline(name, payload)
    return _run_on_pool(app, name, payload)


def submit_after_commit(name: str, *args: object, queue: str) -> Future | str | None:
    """:func:`submit`, for work asked for once a person's change is committed (an email to the
    approvers, a report laid out ahead, a pack).

    If the connection to Redis fails, the task runs here instead, as it would without
    ``REDIS_URL``: while Redis is down the work is done on this node, not lost. (A connection
    lost just after Redis took the job could, rarely, run it twice: a pack or a prepared report
    twice is the same file; an email would arrive twice.) If it cannot run at all, what the
    person did stands, the failure is logged, and the request is not answered with an error
    page for a change that was made: None then.
    """
    from redis.exceptions import ConnectionError as RedisRefused

    try:
        return submit(name, *args, queue=queue)
    except RedisRefused as error:
        log.warning("Redis does not answer (%s): background task %s runs on this node", error, name)
        try:
            app = current_app._get_current_object()  # type: ignore[attr-defined]
            return _run_here(app, queue, name, _json_args(args))
        except Exception:
            log.exception("background task %s could not be run", name)
            return None
    except Exception:
        log.exception("background task %s could not be queued", name)
        return None


def _json_args(args: tuple[object, ...]) -> list[Any]:
    """The arguments as a worker will see them (round-tripped through JSON), so that the
    pool and RQ give a task the same values."""
    try:
        return json.loads(json.dumps(list(args)))
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"a task's arguments must be JSON-able (ids, not objects): {error}"
        ) from error


def _call(name: str, args: list[Any]) -> Any:
    return registered(name)(*args)


def _redis(app: Flask, url: str) -> Redis:
    """One Redis client per app and URL, closed by :func:`shutdown`."""
    from redis import Redis

    cached = app.extensions.get(_REDIS)
    if cached is None or cached[0] != url:
        if cached is not None:
            cached[1].close()
        cached = (url, Redis.from_url(url))
        app.extensions[_REDIS] = cached
    return cached[1]


def _enqueue(app: Flask, url: str, queue: str, name: str, payload: list[Any]) -> str:
    from rq import Queue

    rq_queue = Queue(queue_name(app, queue), connection=_redis(app, url))
    job = rq_queue.enqueue(run_task, name, payload, job_timeout=JOB_TIMEOUT, description=name)
    return job.id


def _run_inline(name: str, payload: list[Any]) -> Future:
    """Run now, in the caller's app context; an exception reaches the caller, as it would
    have before the task was a task."""
    future: Future = Future()
    future.set_result(_call(name, payload))
    return future


def _run_on_pool(app: Flask, name: str, payload: list[Any]) -> Future:
    pool = app.extensions.get(_POOL)
    if pool is None:
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="background")
        app.extensions[_POOL] = pool
        app.extensions[_FUTURES] = []
    futures: list[Future] = app.extensions[_FUTURES]
    # A long-running process (the scheduler) must not keep every future it ever made; a
    # failed one is kept so that wait_for_jobs still raises its exception.
    futures[:] = [f for f in futures if not f.done() or f.exception() is not None]
    future = pool.submit(_in_app, app, name, payload)
    futures.append(future)
    return future


def _in_app(app: Flask, name: str, payload: list[Any]) -> Any:
    with app.app_context():
        try:
            return _call(name, payload)
        except Exception:
            # Nobody may ever ask the future: say so in the log now.
            log.exception("background task %s failed", name)
            raise


def run_task(name: str, args: list[Any]) -> None:
    """The one function RQ calls: run the task ``name`` with ``args`` in an app context.

    In ``flask jobs worker`` the app was built once, before working, and is current here; a
    plain ``rq worker`` has none, so an app is built for the job and closed after it.
    Returns nothing, so that RQ keeps no result in Redis.
    """
    if has_app_context():
        with current_app.app_context():  # a job's own session and ``g``
            _call(name, args)
        return
    _in_new_app(name, args)


def _in_new_app(name: str, args: list[Any]) -> None:
    from tracker import create_app

    app = create_app()
    with app.app_context():
        try:
            _call(name, args)
        finally:
            # A plain worker may build many apps: close this one's connections now.
            db.session.remove()
            db.engine.dispose()


def wait_for_jobs(app: Flask, timeout: float | None = 120) -> None:
    """Wait for every task this app put on its in-process pool (tests and the CLI); a task's
    exception is raised here."""
    for future in list(app.extensions.get(_FUTURES, [])):
        future.result(timeout=timeout)


def shutdown(app: Flask) -> None:
    """Let the pool finish its tasks and close the Redis client (when an app is thrown away:
    the tests make one per test)."""
    pool = app.extensions.pop(_POOL, None)
    if pool is not None:
        pool.shutdown(wait=True)
    cached = app.extensions.pop(_REDIS, None)
    if cached is not None:
        cached[1].close()
