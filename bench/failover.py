"""Prove that the tracker survives losing one of two nodes: ``python -m bench.failover``
(``make failover``; issue 20, "Proof on this machine").

In a temporary folder, on loopback ports it picks itself, it starts everything two nodes share
and the nodes themselves, and stops and removes all of it afterwards:

- a PostgreSQL cluster of its own (``initdb`` and ``pg_ctl`` of the newest PostgreSQL under
  /usr/lib/postgresql, run as the ``postgres`` user when we are root; trust on 127.0.0.1 only;
  fsync on, as durability of acknowledged writes is what is tested). When no cluster can be
  started, a database made (and dropped afterwards) on the server at 127.0.0.1:5432, and the
  output says so;
- a ``redis-server`` of its own, saving nothing to disk;
- the schema and data: migrations, the roadmap, the CQC framework, councils, the demo seed, then
  ``--users`` people, each of a different council with a draft return in the open period: one
  in five a member of the council's co-production panel (:func:`is_panel_member`), the rest
  editors;
- an RQ worker (:func:`worker_command`);
- two gunicorn nodes, each with its own instance folder, so that whatever they share goes
  through PostgreSQL and Redis and nothing through the local disk;
- HAProxy in front of them: round robin, health checks on ``/readyz``, and a retry only of a
  connection that never reached a node, so that no request (a POST above all) is done twice.

Then the ``--users`` people (threads) sign in through HAProxy and, for ``--seconds``, work with a
short think time between steps: each editor saves an assessment and uploads an evidence file; each
panel member reads an action of their council's newest handed-in return (a draft takes no
comments) and posts a comment on it through the thread's form. Now and then either downloads a
spreadsheet they may read, or an editor the council's board report as a PDF (kept in the shared
file store once laid out, as in production). At ``--kill-after`` seconds node ``a``'s master and
workers are killed (SIGKILL, the whole process group); at ``--restart-after`` it starts again on
the same port.

Afterwards it checks, and exits 0 only when every check passes:

1. every acknowledged write is in the database: each saved assessment holds the last
   acknowledged save or a later attempt by the same person, each acknowledged file is an
   evidence item with the same SHA-256, each acknowledged comment is in ``comments`` once,
   with its text, its author and the thread it was posted to;
2. every acknowledged file downloads through each node directly with the same SHA-256;
3. no 5xx but those in flight on the killed node when it died (HAProxy's 502s);
4. sessions survived: nobody was sent back to sign in;
5. every other answer was the one expected (no refused form, no 404 of one's own return);
6. the figures stay true on every node: a change made by hand in SQL to the last closed
   quarter's shared assessments reaches every worker of both nodes with no restart
   (:func:`check_figures`).

It prints the figures (requests per kind, p50 and p95, writes acknowledged, 5xx, how long
HAProxy took to stop sending to the dead node), as JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import html
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from bench.build import CSRF
from bench.load import Client, percentile
from bench.run import (
    DEFAULT_POSTGRES,
    INSTANCE_CONFIG,
    PYTHON,
    ROOT,
    WORKERS,
    database,
    environment,
    free_port,
    log,
    start_gunicorn,
    wait_for_health,
)

FLASK = str(Path(PYTHON).with_name("flask"))
RQ = str(Path(PYTHON).with_name("rq"))
HAPROXY = "/usr/sbin/haproxy"
REDIS_SERVER = "/usr/bin/redis-server"
POSTGRES_LIB = Path("/usr/lib/postgresql")
DEMO_PASSWORD = "time-to-act-care-and-support"  # noqa: S105 (published demo password)
EMAIL = "failover.editor{:03d}@demo.invalid"
PANEL_EMAIL = "failover.panel{:03d}@demo.invalid"
#: one person in this many is a panel member (:func:`is_panel_member`)
PANEL_EVERY = 5
#: the nodes' settings beyond the benchmark's (``bench.run.INSTANCE_CONFIG``)
NODE_CONFIG = (
    INSTANCE_CONFIG
    + """\
# A panel member here comments every few seconds: far more than the 10 in 10 minutes a real member
# may. The limit is still looked up and counted in Redis on every comment, only higher.
PANEL_COMMENT_LIMIT = 1_000_000
# Finished board PDFs are kept, as in production: in the database's file store, which both
# nodes read, so a PDF one node laid out is the one the other serves.
REPORT_PDF_CACHE = True
"""
)
#: the node that is killed and started again
VICTIM = "a"
NODES = ("a", "b")
#: the response header HAProxy names the node in (``%s``: the server that answered)
NODE_HEADER = "x-tracker-node"
#: a session that has gone sends its holder here (or answers 401)
SIGN_IN = "/auth/sign-in"
#: seconds between two polls of HAProxy's view of the nodes
POLL = 0.05
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

HAPROXY_CONFIG = """\
global
    maxconn 2000
    stats socket {socket} mode 600 level admin
    log stdout format raw local0 info

defaults
    mode http
    log global
    # status, termination state, retries, node, then the request: read back by haproxy_errors
    log-format "%ST %tsc %rc %s %Tw/%Tc/%Ta %{{+Q}}r"
    timeout connect 2s
    timeout client 130s
    # longer than gunicorn's --timeout 120, so that gunicorn, not HAProxy, gives up first
    timeout server 130s
    timeout http-request 10s
    timeout queue 60s
    # A sync worker answers a check only between two requests, so a busy node is slow to answer
    # one; a dead node refuses the connection at once, whatever this says.
    timeout check 10s
    # Only a connection that never reached a node is tried again, on the other node (redispatch):
    # a request that may have reached the app, a POST above all, must never be done twice.
    retries 3
    retry-on conn-failure
    option redispatch

frontend tracker
    bind 127.0.0.1:{port}
    # The client's address for the nodes (TRUSTED_PROXY_HOPS=1): only what HAProxy wrote.
    http-request del-header X-Forwarded-For
    option forwardfor
    default_backend nodes

backend nodes
    balance roundrobin
    option httpchk GET /readyz
    # the app answers only the host names it trusts (TRUSTED_HOSTS)
    http-check send hdr Host 127.0.0.1
    http-after-response set-header X-Tracker-Node %s
    # As many requests at a time as a node has workers: the rest wait in HAProxy's queue, from
    # which they go to whichever node is up, rather than in a node's listen backlog, where
    # they would die with it. A connection a node refuses marks it down at once (observe
    # layer4), without waiting for two failed checks: otherwise, while the other node is full,
    # the retries go back to the dead one and end in a 503. Checks bring it back (rise 2).
{servers}
"""
#: answers asked of each node for the national figures: enough that each of its workers answers
FIGURE_SAMPLES = 8
SERVER_LINE = (
    "    server {name} 127.0.0.1:{port} check inter 500 fall 2 rise 2 maxconn {workers}"
    " observe layer4 error-limit 1 on-error mark-down"
)


class Refused(RuntimeError):
    """Something the run needs cannot be had here; ``str(error)`` says what and how to get it."""


# -- PostgreSQL, Redis and the worker ---------------------------------------------------------


def postgres_binaries() -> Path | None:
    """The bin folder of the newest PostgreSQL under /usr/lib/postgresql with ``initdb``."""
    found = [
        path.parent
        for path in POSTGRES_LIB.glob("*/bin/initdb")
        if path.parent.parent.name.isdigit()
    ]
    return max(found, key=lambda path: int(path.parent.name), default=None)


def _as_postgres(command: list[str]) -> list[str]:
    # PostgreSQL will not run as root.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str], what: str, **kwargs: Any) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)  # noqa: S603
    if result.returncode != 0:
        raise Refused(f"{what} failed: {(result.stderr or result.stdout).strip()[-1500:]}")


@contextlib.contextmanager
def own_cluster(folder: Path) -> Iterator[str]:
    """A PostgreSQL cluster of our own on a free port of 127.0.0.1; yields the URL of an empty
    database on it.

    :raises Refused: when there is no ``initdb``, no ``postgres`` user to run it as root, or the
        cluster does not start.
    """
    binaries = postgres_binaries()
    if binaries is None:
        raise Refused(f"no initdb under {POSTGRES_LIB}/*/bin (Debian package postgresql)")
    home = folder / "postgres"
    home.mkdir(mode=0o700)
    if os.geteuid() == 0:
        try:
            shutil.chown(home, "postgres", "postgres")
        except LookupError as error:
            raise Refused("running as root, and there is no postgres user to run it as") from error
        # The postgres user must reach its folder through ours.
        folder.chmod(0o711)
    data = home / "data"
    _run(
        _as_postgres(
            [
                str(binaries / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--auth=trust",
            ]
        ),
        "initdb",
        cwd=home,
    )
    # Trust on 127.0.0.1 only: no Unix-socket or remote connections.
    hba = data / "pg_hba.conf"
    hba.write_text("host all all 127.0.0.1/32 trust\n")
    if os.geteuid() == 0:
        shutil.chown(hba, "postgres", "postgres")
    port = free_port()
    settings = (
        f"-p {port} -k {home} -c listen_addresses=127.0.0.1 "
        "-c fsync=on -c synchronous_commit=on -c full_page_writes=on -c max_connections=200"
    )
    pg_ctl = str(binaries / "pg_ctl")
    started = False
    try:
        _run(
            _as_postgres(
                [
                    pg_ctl,
                    "-D",
                    str(data),
                    "-l",
                    str(home / "postgres.log"),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    settings,
                    "start",
                ]
            ),
            "pg_ctl start",
            cwd=home,
        )
        started = True
        import psycopg

        with psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True
        ) as connection:
            connection.execute("CREATE DATABASE tracker")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/tracker"
    finally:
        if started:
            subprocess.run(  # noqa: S603 (our own cluster)
                _as_postgres([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"]),
                cwd=home,
                capture_output=True,
                check=False,
            )


def start_postgres(stack: contextlib.ExitStack, folder: Path) -> tuple[str, str]:
    """The database of the run: (its URL, what it is), on a cluster of our own if we can."""
    try:
        url = stack.enter_context(own_cluster(folder))
    except Refused as why:
        log(f"Cannot start a PostgreSQL cluster of our own ({why}): using {DEFAULT_POSTGRES}")
        url = stack.enter_context(database("postgresql", folder, "failover", DEFAULT_POSTGRES))
        return url, (
            f"a database made for the run on the server at 127.0.0.1:5432 (no cluster of its "
            f"own: {why}); that server's fsync setting is its own"
        )
    version = postgres_binaries().parent.name  # type: ignore[union-attr]
    return url, f"its own PostgreSQL {version} cluster, fsync on, at {url.rsplit('/', 1)[0]}"


@contextlib.contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """A ``redis-server`` of our own on a free port, saving nothing; yields its URL."""
    import redis

    port = free_port()
    with open(folder / "redis.log", "wb") as log_file:
        process = subprocess.Popen(  # noqa: S603 (Debian's redis-server)
            [
                REDIS_SERVER,
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(folder),
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(redis.RedisError):
                if redis.Redis.from_url(url, socket_connect_timeout=1).ping():
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        yield url
    finally:
        stop(process)


def worker_command(redis_url: str) -> list[str]:
    """The background worker's command line (it reads ``REDIS_URL`` from the environment)."""
    return [FLASK, "--app", "app", "jobs", "worker"]


@contextlib.contextmanager
def worker(env: dict[str, str], folder: Path) -> Iterator[None]:
    """The background worker, for as long as the run lasts."""
    with open(folder / "worker.log", "wb") as log_file:
        process = subprocess.Popen(  # noqa: S603 (our own worker)
            worker_command(env["REDIS_URL"]),
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        time.sleep(0.5)
        if process.poll() is not None:
            raise RuntimeError(
                "the worker stopped at once:\n" + (folder / "worker.log").read_text()[-2000:]
            )
        yield
    finally:
        stop(process)


def stop(process: subprocess.Popen, seconds: float = 30) -> None:
    """End a child we started in its own session, and everything in its process group."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=seconds)
    # Whatever is left of the group (a gunicorn worker whose master is gone).
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


# -- the schema, the data and the people ------------------------------------------------------


def prepare(env: dict[str, str], users: int) -> dict[str, Any]:
    """Migrate, load, seed the demo and make the people; returns :func:`make_people`' answer."""
    for step in (
        ["db", "upgrade"],
        ["roadmap", "load"],
        ["frameworks", "load"],
        ["councils", "load"],
        ["demo", "seed"],
    ):
        log(f"flask {' '.join(step)}…")
        result = subprocess.run(  # noqa: S603 (our own app)
            [FLASK, "--app", "app", *step],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"flask {' '.join(step)} failed:\n{result.stderr[-3000:]}")
    code = (
        "import json\nfrom bench.failover import make_people\nfrom tracker import create_app\n"
        f"with create_app().app_context():\n    print(json.dumps(make_people({users})))\n"
    )
    result = subprocess.run(  # noqa: S603 (our own code)
        [PYTHON, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"making the people failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def is_panel_member(number: int) -> bool:
    """Person ``number`` (from 1) is a panel member: the 2nd, the 7th, the 12th … so that a run
    of two people or more has both kinds."""
    return number % PANEL_EVERY == 2


def make_people(count: int) -> dict[str, Any]:
    """``count`` demo people (no second factor: neither role asks for one), each of a different
    council whose return in the open period is a draft, committed. One in five
    (:func:`is_panel_member`) is a member of the council's co-production panel, with a panel
    profile; the rest are editors. Run in an app context.

    :returns: the period's label and, for each person, their email, role (``"editor"`` or
        ``"panel"``) and council; for an editor, the assessment they save; for a panel member,
        the return they comment on (the council's newest that is not a draft: panel members
        cannot comment on drafts, nor read them), its period as in URLs and the action.
    :raises SystemExit: too few councils with a draft, or a panel member's council with no
        return handed in.
    """
    from sqlalchemy import select

    from tracker.accounts import passwords
    from tracker.accounts import services as accounts
    from tracker.admin.services import add_membership
    from tracker.domain.periods import label_to_url
    from tracker.extensions import db
    from tracker.models import (
        Action,
        Assessment,
        Council,
        Period,
        PeriodStatus,
        Return,
        ReturnStatus,
        Role,
    )
    from tracker.panels import services as panels

    period = db.session.scalar(
        select(Period).where(Period.status == PeriodStatus.OPEN).order_by(Period.starts_on)
    )
    if period is None:
        raise SystemExit("No open period: the demo seed makes one")
    drafts = db.session.execute(
        select(Return, Council)
        .join(Council, Return.council_id == Council.id)
        .where(Return.period_id == period.id, Return.status == ReturnStatus.DRAFT)
        .order_by(Council.region_id, Council.gss_code)
    ).all()
    if len(drafts) < count:
        raise SystemExit(f"Only {len(drafts)} councils have a draft return: use fewer users")
    # One council of each region in turn, so the people are spread over the country.
    by_region: dict[int, list[tuple[Return, Council]]] = {}
    for return_, council in drafts:
        by_region.setdefault(council.region_id, []).append((return_, council))
    chosen: list[tuple[Return, Council]] = []
    while len(chosen) < count:
        for queue in by_region.values():
            if queue and len(chosen) < count:
                chosen.append(queue.pop(0))
    password_hash = passwords.hash_password(DEMO_PASSWORD)

    def first_action(return_: Return) -> tuple[int, str]:
        row = db.session.execute(
            select(Assessment.id, Action.code)
            .join(Action, Assessment.action_id == Action.id)
            .where(Assessment.return_id == return_.id, Action.parent_id.is_(None))
            .order_by(Action.code)
            .limit(1)
        ).one()
        return row.id, row.code

    people = []
    for number, (draft, council) in enumerate(chosen, start=1):
        panel = is_panel_member(number)
        user = accounts.create_user(
            (PANEL_EMAIL if panel else EMAIL).format(number),
            f"Failover {'panel member' if panel else 'editor'} {number} (demo)",
            actor=None,
        )
        user.is_demo = True
        user.password_hash = password_hash
        user.password_changed_at = accounts.utcnow()
        person: dict[str, Any] = {"email": user.email, "gss_code": council.gss_code}
        if not panel:
            add_membership(user, Role.COUNCIL_EDITOR, council=council, actor=None)
            assessment_id, code = first_action(draft)
            people.append(
                {
                    **person,
                    "role": "editor",
                    "save": {"code": code, "assessment_id": assessment_id},
                }
            )
            continue
        add_membership(user, Role.PANEL_MEMBER, council=council, actor=None)
        # A name of their own, as a member who saved their settings would have.
        panels.update_profile(
            user,
            council,
            display_name=f"Failover member {number}",
            is_real_name_shown=False,
            is_notified_by_email=False,
        )
        handed_in = db.session.scalar(
            select(Return)
            .join(Period, Period.id == Return.period_id)
            .where(Return.council_id == council.id, Return.status != ReturnStatus.DRAFT)
            .order_by(Period.starts_on.desc())
            .limit(1)
        )
        if handed_in is None:
            raise SystemExit(f"{council.name} has no return handed in for its panel to comment on")
        _assessment_id, code = first_action(handed_in)
        people.append(
            {
                **person,
                "role": "panel",
                "comment": {
                    "period": label_to_url(handed_in.period.label),
                    "return_id": handed_in.id,
                    "code": code,
                },
            }
        )
    db.session.commit()
    return {"period": label_to_url(period.label), "people": people}


# -- the nodes and HAProxy ----------------------------------------------------------------------


@dataclass
class Node:
    """One gunicorn node: its own instance folder, a fixed port, a process group of its own."""

    name: str
    port: int
    instance: Path
    env: dict[str, str]
    process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = start_gunicorn(self.env, self.instance, self.port, new_session=True)
        wait_for_health(self.port, self.process, self.instance / "gunicorn.log")

    def kill(self) -> None:
        """SIGKILL to the master and its workers at once, as on a power cut; returns once the
        node's port refuses connections. Until the last of its processes has died, the kernel
        still accepts connections on the port, for nobody to answer."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    pass
            except ConnectionRefusedError:
                return
            except OSError:
                pass
            time.sleep(0.005)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)


@contextlib.contextmanager
def nodes(env: dict[str, str], folder: Path) -> Iterator[dict[str, Node]]:
    """Both nodes, started; each has its own instance folder, with :data:`NODE_CONFIG`."""
    made: dict[str, Node] = {}
    try:
        for name in NODES:
            instance = folder / f"instance-{name}"
            instance.mkdir()
            (instance / "config.py").write_text(NODE_CONFIG)
            made[name] = Node(
                name, free_port(), instance, {**env, "TRACKER_INSTANCE_PATH": str(instance)}
            )
            made[name].start()
        yield made
    finally:
        for node in made.values():
            node.stop()


@contextlib.contextmanager
def haproxy(folder: Path, backends: dict[str, Node]) -> Iterator[tuple[int, Path]]:
    """HAProxy in the foreground in front of the nodes; yields its port and stats socket."""
    port = free_port()
    socket_path = folder / "haproxy.sock"
    servers = "\n".join(
        SERVER_LINE.format(name=node.name, port=node.port, workers=WORKERS)
        for node in backends.values()
    )
    config = folder / "haproxy.cfg"
    config.write_text(HAPROXY_CONFIG.format(socket=socket_path, port=port, servers=servers))
    _run([HAPROXY, "-c", "-q", "-f", str(config)], "haproxy -c (checking its configuration)")
    with open(folder / "haproxy.log", "wb") as log_file:
        process = subprocess.Popen(  # noqa: S603 (Debian's haproxy)
            [HAPROXY, "-db", "-f", str(config)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 20
        while set(server_states(socket_path).values()) != {"UP"}:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "HAProxy did not see both nodes up:\n"
                    + (folder / "haproxy.log").read_text()[-2000:]
                )
            time.sleep(0.1)
        yield port, socket_path
    finally:
        stop(process)


def haproxy_stats(socket_path: Path) -> dict[str, dict[str, str]]:
    """HAProxy's ``show stat`` row of each node: its status (UP, DOWN, "UP 1/2" while its checks
    fail …), the connections retried on it (``wretr``) and sent on to the other (``wredis``)."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as connection:
        connection.settimeout(2)
        connection.connect(str(socket_path))
        connection.sendall(b"show stat\n")
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
        lines = b"".join(chunks).decode().splitlines()
        header = lines[0].lstrip("# ").split(",")
        rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
        return {
            row["svname"]: row
            for row in rows
            if row.get("pxname") == "nodes" and row["svname"] not in ("BACKEND", "FRONTEND")
        }
    return {}


def server_states(socket_path: Path) -> dict[str, str]:
    return {name: row["status"] for name, row in haproxy_stats(socket_path).items()}


class Watch(threading.Thread):
    """Polls HAProxy's view of the nodes and keeps each change with its time."""

    def __init__(self, socket_path: Path, clock: Callable[[], float]) -> None:
        super().__init__(daemon=True)
        self.socket_path, self.clock = socket_path, clock
        self.changes: list[tuple[float, str, str]] = []
        self.done = threading.Event()

    def run(self) -> None:
        last: dict[str, str] = {}
        while not self.done.is_set():
            now = self.clock()
            for name, status in server_states(self.socket_path).items():
                if last.get(name) != status:
                    self.changes.append((now, name, status))
                    last[name] = status
            time.sleep(POLL)

    def first(self, name: str, status: str, after: float) -> float | None:
        return next(
            (t for t, n, s in self.changes if n == name and s == status and t >= after), None
        )


# -- reading forms --------------------------------------------------------------------------------


@dataclass
class Form:
    """A form of a page as a browser would send it: its fields in order, filled as found."""

    action: str
    #: (name, type, id, value, checked); a select is one "select" field holding its choice
    fields: list[list[Any]] = field(default_factory=list)

    def names(self) -> set[str]:
        return {f[0] for f in self.fields}

    def set(self, name: str, value: str) -> None:
        """Choose ``value`` for a radio group or select, or type it into a text field."""
        matched = [f for f in self.fields if f[0] == name]
        if not matched:
            raise KeyError(f"the form at {self.action} has no field {name!r}")
        for f in matched:
            if f[1] in ("radio", "checkbox"):
                f[4] = f[3] == value
            else:
                f[3] = value

    def set_by_id(self, field_id: str, value: str) -> None:
        for f in self.fields:
            if f[2] == field_id:
                f[3] = value
                return
        raise KeyError(f"the form at {self.action} has no field with id {field_id!r}")

    def uncheck(self, name: str) -> None:
        for f in self.fields:
            if f[0] == name:
                f[4] = False

    def value(self, name: str) -> str | None:
        for f in self.fields:
            if f[0] == name and (f[1] not in ("radio", "checkbox") or f[4]):
                return f[3]
        return None

    def pairs(self) -> list[tuple[str, str]]:
        """What submitting sends (no buttons, no file fields: those are sent apart)."""
        return [
            (f[0], f[3])
            for f in self.fields
            if f[1] not in ("file", "submit", "button")
            and (f[1] not in ("radio", "checkbox") or f[4])
        ]


class FormReader(HTMLParser):
    """Every form of a page with its inputs, textareas and selects."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._text: list[Any] | None = None
        self._select: list[Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", "")))
            return
        if not self.forms:
            return
        form = self.forms[-1]
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            form.fields.append([a["name"], kind, a.get("id"), a.get("value", ""), "checked" in a])
        elif tag == "textarea" and a.get("name"):
            self._text = [a["name"], "textarea", a.get("id"), "", False]
            form.fields.append(self._text)
        elif tag == "select" and a.get("name"):
            self._select = [a["name"], "select", a.get("id"), None, False]
            form.fields.append(self._select)
        elif (
            tag == "option"
            and self._select is not None
            and (self._select[3] is None or "selected" in a)
        ):
            self._select[3] = a.get("value", "")

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text[3] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._text is not None:
            # A browser drops the newline that starts a textarea's contents.
            self._text[3] = self._text[3].removeprefix("\n")
            self._text = None
        elif tag == "select":
            if self._select is not None and self._select[3] is None:
                self._select[3] = ""
            self._select = None


def find_form(page: bytes, action: str) -> Form | None:
    reader = FormReader()
    reader.feed(page.decode("utf-8", "replace"))
    return next((f for f in reader.forms if f.action.split("?")[0] == action), None)


# -- the simulated people --------------------------------------------------------------------


@dataclass
class Record:
    """One request as the client saw it (times in seconds from the start of the run)."""

    user: int
    kind: str
    method: str
    path: str
    started: float
    ended: float
    status: int
    node: str | None
    location: str = ""
    error: str = ""

    @property
    def sent_to_sign_in(self) -> bool:
        if self.path.startswith(SIGN_IN):
            return False
        return self.status == 401 or (
            self.status in (301, 302, 303) and self.location.split("?")[0].endswith(SIGN_IN)
        )


@dataclass
class Write:
    """One attempt to change something, and whether the app acknowledged it."""

    user: int
    kind: str
    started: float
    values: dict[str, Any]
    acknowledged: bool = False
    status: int = 0
    node: str | None = None


@dataclass
class Run:
    """What every person shares: the clock, the records and the writes."""

    port: int
    period: str
    seconds: float
    started: float = field(default_factory=time.monotonic)
    records: list[Record] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    #: requests answered with something other than what was expected, and why
    unexpected: list[str] = field(default_factory=list)
    sign_in_failures: list[str] = field(default_factory=list)
    #: each person's cookies at the end: their session, for the checks
    cookies: dict[int, dict[str, str]] = field(default_factory=dict)
    #: each person's name in messages ("editor 3", "panel member 7")
    names: dict[int, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clock(self) -> float:
        return time.monotonic() - self.started

    def over(self) -> bool:
        return self.clock() >= self.seconds


class Person(threading.Thread):
    """One simulated person: signs in through HAProxy, then goes through :attr:`steps` and now
    and then downloads one of :attr:`downloads`, with a think time between, until the run is
    over."""

    role = "person"

    def __init__(self, number: int, person: dict[str, Any], shared: Run) -> None:
        super().__init__(name=f"{self.role}-{number}".replace(" ", "-"), daemon=True)
        self.number, self.person, self.shared = number, person, shared
        self.label = f"{self.role} {number}"
        shared.names[number] = self.label
        self.client = Client("127.0.0.1", shared.port, timeout=150)
        self.random = random.Random(number)  # noqa: S311 (think times, not secrets)
        self.council = f"/councils/{person['gss_code']}"
        self.steps: tuple[Callable[[int], None], ...] = ()
        #: (path, content type, kind of record) of what this person may download
        self.downloads: list[tuple[str, str, str]] = []

    def request(
        self, kind: str, method: str, path: str, body: Any = None, files: Any = None
    ) -> tuple[int, dict[str, str], bytes]:
        """One request through HAProxy, recorded; a connection that failed is status 0."""
        started = self.shared.clock()
        try:
            status, headers, content = self.client.request(method, path, body, files)
            error = ""
        except OSError as exc:
            status, headers, content, error = 0, {}, b"", f"{type(exc).__name__}: {exc}"
        record = Record(
            self.number,
            kind,
            method,
            path,
            started,
            self.shared.clock(),
            status,
            headers.get(NODE_HEADER),
            headers.get("location", ""),
            error,
        )
        with self.shared.lock:
            self.shared.records.append(record)
        return status, headers, content

    def unexpected(self, what: str, status: int, content: bytes = b"") -> None:
        if status >= 500 or status == 0:
            return  # counted and classified from the records
        message = re.search(rb"govuk-error-summary__list.*?<a[^>]*>([^<]+)", content, re.S)
        detail = f": {html.unescape(message.group(1).decode())}" if message else ""
        with self.shared.lock:
            self.shared.unexpected.append(f"{self.label}: {what} answered {status}{detail}")

    def think(self) -> None:
        time.sleep(self.random.uniform(0.2, 1.0))

    def run(self) -> None:
        try:
            self.work()
        finally:
            self.shared.cookies[self.number] = dict(self.client.cookies)

    def work(self) -> None:
        if not self.sign_in():
            return
        loop = 0
        while not self.shared.over():
            loop += 1
            for step in self.steps:
                step(loop)
                self.think()
                if self.shared.over():
                    return
            if self.random.random() < 0.1:
                self.download(loop)
                self.think()

    def sign_in(self) -> bool:
        """Through the pages; a try cut short by the kill (a 502) is made again."""
        for _attempt in range(5):
            status, _h, page = self.request("sign-in", "GET", SIGN_IN)
            token = CSRF.search(page.decode("utf-8", "replace")) if status == 200 else None
            if token:
                body = {
                    "csrf_token": token.group(1),
                    "email": self.person["email"],
                    "password": DEMO_PASSWORD,
                }
                status, headers, _c = self.request("sign-in", "POST", SIGN_IN, body)
                if status == 302 and SIGN_IN not in headers.get("location", ""):
                    return True
            time.sleep(1)
        with self.shared.lock:
            self.shared.sign_in_failures.append(f"{self.label}: last answer {status}")
        return False

    def _form(self, kind: str, path: str, action: str | None = None) -> Form | None:
        status, _h, page = self.request(kind, "GET", path)
        if status != 200:
            self.unexpected(f"GET {path}", status, page)
            return None
        form = find_form(page, action or path)
        if form is None:
            self.unexpected(f"GET {path} (no form posting to {action or path})", status)
        return form

    def _write(self, kind: str, values: dict[str, Any]) -> Write:
        write = Write(self.number, kind, self.shared.clock(), values)
        with self.shared.lock:
            self.shared.writes.append(write)
        return write

    def download(self, loop: int) -> None:
        path, content_type, kind = self.downloads[loop % len(self.downloads)]
        status, headers, content = self.request(kind, "GET", path)
        if status != 200 or not headers.get("content-type", "").startswith(content_type):
            self.unexpected(f"GET {path}", status, content)


class Editor(Person):
    """An editor of the council's draft: saves an assessment and uploads an evidence file; now
    and then downloads the return as a spreadsheet or the board report as a PDF or a
    spreadsheet."""

    role = "editor"

    def __init__(self, number: int, person: dict[str, Any], shared: Run) -> None:
        super().__init__(number, person, shared)
        self.overview = f"{self.council}/returns/{shared.period}"
        self.save_path = f"{self.overview}/actions/{person['save']['code']}"
        self.steps = (self.save, self.upload)
        reports = f"{self.council}/reports/{shared.period}"
        # The board report's PDF is laid out afresh whenever the return has changed since it
        # was last kept, which with forty editors saving is nearly every time.
        self.downloads = [
            (f"{self.overview}/export.csv", "text/csv", "download"),
            (f"{reports}/board-report.pdf", "application/pdf", "board PDF"),
            (f"{reports}/board-report.xlsx", XLSX, "download"),
            (f"{self.overview}/export.xlsx", XLSX, "download"),
        ]

    def _assessment(self, kind: str, path: str, values: dict[str, str]) -> None:
        form = self._form(kind, path)
        if form is None:
            return
        for name, value in values.items():
            form.set(name, value)
        # Sharing practice is for Embedded actions: leave it out of these saves.
        form.uncheck("practice_shared")
        write = self._write(kind, values)
        status, headers, content = self.request(kind, "POST", path, form.pairs())
        write.status, write.node = status, headers.get(NODE_HEADER)
        # Saved: to the overview. Refused (the return is not a draft): back to the action.
        write.acknowledged = status == 302 and headers.get("location", "").split("#")[0].endswith(
            self.overview
        )
        if not write.acknowledged:
            self.unexpected(f"POST {path}", status, content)

    def save(self, loop: int) -> None:
        stage = ("planning", "implementing")[loop % 2]
        values = {
            "stage": stage,
            "rag": ("green", "amber", "red")[loop % 3],
            "narrative": f"Failover save {self.number}-{loop} {secrets.token_hex(4)}: "
            "progress reported to the board.",
        }
        self._assessment("save", self.save_path, values)

    def upload(self, loop: int) -> None:
        path = f"{self.save_path}/evidence/upload"
        form = self._form("upload", path)
        if form is None:
            return
        title = f"Failover evidence {self.number}-{loop} {secrets.token_hex(4)}"
        rows = self.random.randint(30, 120)
        content = (
            "row,value\n" + "".join(f"{n},{secrets.token_hex(16)}\n" for n in range(rows))
        ).encode()
        today = date.today()
        form.set("title", title)
        form.set("evidence_type", "data")
        for part, value in (("day", today.day), ("month", today.month), ("year", today.year)):
            form.set_by_id(f"dated_on-{part}", str(value))
        files = {"file": (f"failover-{self.number}-{loop}.csv", content, "text/csv")}
        digest = hashlib.sha256(content).hexdigest()
        write = self._write(
            "upload", {"title": title, "sha256": digest, "size": len(content), "evidence_id": None}
        )
        status, headers, page = self.request("upload", "POST", path, form.pairs(), files)
        write.status, write.node = status, headers.get(NODE_HEADER)
        listing = f"{self.save_path}/evidence"
        write.acknowledged = status == 303 and headers.get("location", "").endswith(listing)
        if not write.acknowledged:
            self.unexpected(f"POST {path}", status, page)
            return
        # The evidence page lists the new item, with its download link.
        status, _h, page = self.request("upload", "GET", listing)
        found = re.search(
            rf'href="[^"]*/evidence/(\d+)/download">{re.escape(html.escape(title))}</a>',
            page.decode("utf-8", "replace"),
        )
        if found:
            write.values["evidence_id"] = int(found.group(1))
        elif status == 200:
            self.unexpected(f"GET {listing} (the new file {title!r} is not listed)", status)


class PanelMember(Person):
    """A member of the council's co-production panel: reads an action of the council's newest
    handed-in return, then posts a comment on it through the thread's form; now and then
    downloads the return as a spreadsheet, or everything they have written."""

    role = "panel member"

    def __init__(self, number: int, person: dict[str, Any], shared: Run) -> None:
        super().__init__(number, person, shared)
        target = person["comment"]
        self.action_path = f"{self.council}/returns/{target['period']}/actions/{target['code']}"
        self.thread_path = f"{self.council}/panel/{target['period']}/actions/{target['code']}"
        self.steps = (self.read, self.comment)
        self.downloads = [
            (f"{self.council}/returns/{target['period']}/export.csv", "text/csv", "download"),
            (f"{self.council}/panel/my-comments.csv", "text/csv", "download"),
            (f"{self.council}/returns/{target['period']}/export.xlsx", XLSX, "download"),
        ]

    def read(self, loop: int) -> None:
        status, _h, page = self.request("read", "GET", self.action_path)
        if status != 200:
            self.unexpected(f"GET {self.action_path}", status, page)

    def comment(self, loop: int) -> None:
        form = self._form("comment", self.thread_path)
        if form is None:
            return
        body = (
            f"Failover comment {self.number}-{loop} {secrets.token_hex(4)}: carers were not "
            "asked about this before it changed."
        )
        form.set("comment-body", body)
        write = self._write("comment", {"body": body, "comment_id": None})
        status, headers, content = self.request("comment", "POST", self.thread_path, form.pairs())
        write.status, write.node = status, headers.get(NODE_HEADER)
        # Posted: back to the thread, at the new comment (#comment-<id>).
        where, _hash, anchor = headers.get("location", "").partition("#")
        posted = re.fullmatch(r"comment-(\d+)", anchor)
        write.acknowledged = (
            status == 302 and where.endswith(self.thread_path) and posted is not None
        )
        if not write.acknowledged or posted is None:
            self.unexpected(f"POST {self.thread_path}", status, content)
            return
        write.values["comment_id"] = int(posted.group(1))


# -- the run ----------------------------------------------------------------------------------


@dataclass
class Timeline:
    """When the node was killed, when it was started again and when it answered again, in
    seconds from the start of the run; and HAProxy's counters for it at the end."""

    kill_at: float | None = None
    #: when its port refused connections: from the signal to here, the kill is under way
    gone_at: float | None = None
    restart_at: float | None = None
    ready_at: float | None = None
    stats: dict[str, str] = field(default_factory=dict)


def drive(
    options: argparse.Namespace,
    port: int,
    people: dict[str, Any],
    victim: Node,
    socket_path: Path,
) -> tuple[Run, Timeline, Watch]:
    """The people's run, with the node killed and started again on time."""
    run = Run(port=port, period=people["period"], seconds=options.seconds)
    watch = Watch(socket_path, run.clock)
    timeline = Timeline()
    kinds = {"editor": Editor, "panel": PanelMember}
    threads = [
        kinds[person["role"]](number, person, run)
        for number, person in enumerate(people["people"][: options.users], start=1)
    ]
    run.started = time.monotonic()
    watch.start()
    for person in threads:
        person.start()
    log(f"{len(threads)} people at work for {options.seconds:g} s…")
    time.sleep(max(0.0, options.kill_after - run.clock()))
    timeline.kill_at = run.clock()
    victim.kill()
    timeline.gone_at = run.clock()
    log(
        f"{timeline.kill_at:.1f} s: node {victim.name} killed (SIGKILL, master and workers), "
        f"gone {timeline.gone_at - timeline.kill_at:.2f} s later"
    )
    time.sleep(max(0.0, options.restart_after - run.clock()))
    timeline.restart_at = run.clock()
    victim.start()
    timeline.ready_at = run.clock()
    log(
        f"{timeline.restart_at:.1f} s: node {victim.name} started again (answering at "
        f"{timeline.ready_at:.1f} s)"
    )
    for person in threads:
        person.join()
    # HAProxy takes the node back after two good checks (rise 2 × inter 500 ms), later on a busy
    # machine: wait for it (the file check then reads through both nodes), at most 30 s.
    deadline = time.monotonic() + 30
    while server_states(socket_path).get(victim.name) != "UP" and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # for the watch to see it too
    watch.done.set()
    watch.join()
    timeline.stats = haproxy_stats(socket_path).get(victim.name, {})
    return run, timeline, watch


# -- the checks -------------------------------------------------------------------------------


def check_database(url: str, run: Run, people: list[dict[str, Any]]) -> dict[str, Any]:
    """Check 1: every acknowledged write is in the database: each editor's last acknowledged save
    (or a later try), each file, and each comment, once, by its author, in its thread."""
    import psycopg

    problems: list[str] = []
    dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn) as connection:
        for number, person in enumerate(people, start=1):
            if person["role"] != "editor":
                continue
            writes = [w for w in run.writes if w.user == number and w.kind == "save"]
            acknowledged = [i for i, w in enumerate(writes) if w.acknowledged]
            if not acknowledged:
                continue
            row = connection.execute(
                "SELECT stage, rag, narrative FROM assessments WHERE id = %s",
                (person["save"]["assessment_id"],),
            ).fetchone()
            stored = dict(zip(("stage", "rag", "narrative"), row, strict=True))
            allowed = [
                {k: w.values[k] for k in ("stage", "rag", "narrative")}
                for w in writes[acknowledged[-1] :]
            ]
            if stored not in allowed:
                problems.append(
                    f"editor {number}'s save: the database holds {stored['narrative']!r}, "
                    f"not the last acknowledged {allowed[0]['narrative']!r} nor a later try"
                )
        comments = [w for w in run.writes if w.kind == "comment"]
        # Comments found by their text (each is unique): the author is the profile's person.
        stored_comments: dict[str, list[tuple[Any, ...]]] = {}
        for comment_id, body, email, gss_code, return_id, code in connection.execute(
            "SELECT c.id, c.body, u.email, co.gss_code, c.return_id, a.code FROM comments c "
            "JOIN panel_profiles p ON p.id = c.profile_id LEFT JOIN users u ON u.id = p.user_id "
            "JOIN councils co ON co.id = c.council_id JOIN actions a ON a.id = c.action_id "
            "WHERE c.body = ANY(%s)",
            ([w.values["body"] for w in comments],),
        ):
            stored_comments.setdefault(body, []).append(
                (comment_id, email, gss_code, return_id, code)
            )
        uploads = [w for w in run.writes if w.kind == "upload"]
        rows = {
            title: (evidence_id, sha256, size, gss_code)
            for evidence_id, title, sha256, size, gss_code in connection.execute(
                "SELECT e.id, e.title, e.sha256, e.size_bytes, c.gss_code FROM evidence e "
                "JOIN councils c ON c.id = e.council_id WHERE e.title = ANY(%s)",
                ([w.values["title"] for w in uploads],),
            )
        }
    comments_landed_unacknowledged = 0
    for write in comments:
        rows_of = stored_comments.get(write.values["body"], [])
        if not write.acknowledged:
            comments_landed_unacknowledged += bool(rows_of)
            continue
        person = people[write.user - 1]
        said = f"panel member {write.user}'s acknowledged comment {write.values['body']!r}"
        if not rows_of:
            problems.append(f"{said} is not in comments")
            continue
        if len(rows_of) > 1:
            problems.append(f"{said} is in comments {len(rows_of)} times")
        comment_id, email, gss_code, return_id, code = rows_of[0]
        target = person["comment"]
        if email != person["email"]:
            problems.append(f"{said} is comment {comment_id}, by {email or 'nobody'}")
        if (gss_code, return_id, code) != (person["gss_code"], target["return_id"], target["code"]):
            problems.append(f"{said} is comment {comment_id}, on another thread")
        if write.values["comment_id"] != comment_id:
            problems.append(f"{said} was shown as {write.values['comment_id']}, is {comment_id}")
    landed_unacknowledged = 0
    for write in uploads:
        title = write.values["title"]
        row = rows.get(title)
        if not write.acknowledged:
            landed_unacknowledged += row is not None
            continue
        if row is None:
            problems.append(f"editor {write.user}'s acknowledged file {title!r} is not in evidence")
            continue
        evidence_id, sha256, size, gss_code = row
        if sha256 != write.values["sha256"] or size != write.values["size"]:
            problems.append(f"evidence {evidence_id} ({title!r}) has another SHA-256 or size")
        if write.values["evidence_id"] not in (None, evidence_id):
            problems.append(
                f"{title!r} was listed as {write.values['evidence_id']}, is {evidence_id}"
            )
        if gss_code != people[write.user - 1]["gss_code"]:
            problems.append(f"evidence {evidence_id} belongs to another council")
        write.values["evidence_id"] = evidence_id
    return {
        "passed": not problems,
        "problems": problems,
        "uploads_landed_unacknowledged": landed_unacknowledged,
        "comments_landed_unacknowledged": comments_landed_unacknowledged,
    }


def check_files(run: Run, people: list[dict[str, Any]], ports: dict[str, int]) -> dict[str, Any]:
    """Check 2: each acknowledged file downloads through each node, directly, unchanged, with
    the session of the editor who uploaded it."""
    uploads = [
        w for w in run.writes if w.kind == "upload" and w.acknowledged and w.values["evidence_id"]
    ]

    def fetch(job: tuple[Write, str]) -> tuple[Write, str, str | None]:
        """The file through one node: None when it is the file uploaded, else what was wrong."""
        write, name = job
        gss_code = people[write.user - 1]["gss_code"]
        path = f"/councils/{gss_code}/returns/evidence/{write.values['evidence_id']}/download"
        client = Client("127.0.0.1", ports[name], dict(run.cookies[write.user]), timeout=30)
        try:
            status, _h, content = client.request("GET", path)
        except OSError:
            return write, name, "no answer"
        if status != 200:
            return write, name, "404, not found" if status == 404 else f"answered {status}"
        if hashlib.sha256(content).hexdigest() != write.values["sha256"]:
            return write, name, "another SHA-256"
        return write, name, None

    jobs = [(write, name) for write in uploads for name in ports]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(fetch, jobs))
    verified: dict[str, int] = dict.fromkeys(ports, 0)
    failed: Counter[str] = Counter()
    by_write: dict[int, int] = {}
    for write, name, wrong in results:
        if wrong is None:
            verified[name] += 1
            by_write[id(write)] = by_write.get(id(write), 0) + 1
        else:
            failed[f"through node {name}, uploaded through node {write.node}: {wrong}"] += 1
    on_all = sum(1 for count in by_write.values() if count == len(ports))
    problems = [f"{count} file(s) {what}" for what, count in sorted(failed.items())]
    return {
        "passed": on_all == len(uploads),
        "files": len(uploads),
        "verified_on_every_node": on_all,
        "verified_per_node": verified,
        "problems": problems,
    }


def check_figures(url: str, run: Run, people: list[dict[str, Any]], ports: dict[str, int]) -> dict:
    """Check 6: a change made by hand in the database, behind every node's back (as ``psql``
    or a restore would), reaches the national figures that every worker of every node keeps in
    memory, with no restart: after it, every answer agrees, and differs from before."""
    import psycopg

    number, person = next(
        (n, p) for n, p in enumerate(people, start=1) if p["role"] == "editor" and n in run.cookies
    )

    def ask(name: str, path: str) -> tuple[int, bytes]:
        client = Client("127.0.0.1", ports[name], dict(run.cookies[number]), timeout=30)
        status, _h, content = client.request("GET", path)
        return status, content

    _s, listed = ask(next(iter(ports)), "/api/v1/periods")
    closed = [p for p in json.loads(listed) if p["status"] == "closed"]  # newest first
    if not closed:
        return {"passed": False, "problems": ["no closed quarter to read figures of"]}
    label = closed[0]["label"]
    path = f"/api/v1/councils/{person['gss_code']}/dashboard?period={closed[0]['slug']}"

    def medians() -> list[str]:
        """Each area's national median, as each answer gave them: several answers per node,
        so that each of its workers answers (each keeps figures of its own)."""
        seen = []
        for name in ports:
            for _ in range(FIGURE_SAMPLES):
                status, content = ask(name, path)
                areas = json.loads(content)["areas"] if status == 200 else None
                seen.append(
                    json.dumps([a["national_median"] for a in areas])
                    if areas
                    else f"node {name} answered {status}"
                )
        return seen

    before = medians()
    dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn, autocommit=True) as connection:
        changed = connection.execute(
            "UPDATE assessments SET stage = CASE WHEN stage IN ('implementing', 'embedded') "
            "THEN 'planning' ELSE 'embedded' END WHERE stage IS DISTINCT FROM 'not_applicable' "
            "AND return_id IN (SELECT r.id FROM returns r JOIN periods p ON p.id = r.period_id "
            "WHERE p.label = %s AND r.status IN ('submitted', 'signed_off'))",
            (label,),
        ).rowcount
    after = medians()
    problems = []
    if len(set(before)) != 1:
        problems.append(f"before the change the answers disagreed: {sorted(set(before))}")
    if len(set(after)) != 1:
        problems.append(f"after the change the answers disagreed: {sorted(set(after))}")
    if before[0] == after[0]:
        problems.append(f"the figures did not change after {changed} assessments were changed")
    return {
        "passed": not problems,
        "period": label,
        "assessments_changed": changed,
        "answers": len(after),
        "before": before[0],
        "after": after[0],
        "problems": problems,
    }


def classify_server_errors(run: Run, timeline: Timeline, victim: str) -> dict[str, Any]:
    """Check 3: the only 5xx (or lost answers) are those in flight on the node when it died:
    sent before its last process had died, answered after the signal."""
    in_flight, other = [], []
    kill = timeline.kill_at if timeline.kill_at is not None else float("inf")
    gone = timeline.gone_at if timeline.gone_at is not None else kill
    for record in run.records:
        if record.status >= 500 or record.status == 0:
            caught = (
                record.started < gone and kill <= record.ended and record.node in (victim, None)
            )
            (in_flight if caught else other).append(record)
    return {
        "passed": not other,
        "in_flight": len(in_flight),
        "other": len(other),
        "problems": [
            f"{r.method} {r.path} → {r.status or r.error} at {r.started:.2f}–{r.ended:.2f} s "
            f"(node {r.node})"
            for r in other
        ],
    }


def check_sessions(run: Run, timeline: Timeline) -> dict[str, Any]:
    """Check 4: nobody was sent back to sign in (before the kill or after it)."""
    kill = timeline.kill_at if timeline.kill_at is not None else float("inf")
    sent = [r for r in run.records if r.sent_to_sign_in]
    after = [r for r in sent if r.started >= kill]
    problems = [
        f"{run.names.get(r.user, r.user)}: {r.method} {r.path} → {r.status} {r.location} "
        f"at {r.started:.1f} s"
        for r in sent
    ] + run.sign_in_failures
    return {
        "passed": not problems,
        "sent_to_sign_in_after_kill": len(after),
        "sent_to_sign_in_before_kill": len(sent) - len(after),
        "sign_in_failures": len(run.sign_in_failures),
        "problems": problems,
    }


def figures(run: Run, timeline: Timeline, watch: Watch, victim: str) -> dict[str, Any]:
    per_kind = {}
    for kind in ("sign-in", "save", "upload", "read", "comment", "download", "board PDF"):
        latencies = [(r.ended - r.started) * 1000 for r in run.records if r.kind == kind]
        per_kind[kind] = {
            "requests": len(latencies),
            "writes_acknowledged": sum(1 for w in run.writes if w.kind == kind and w.acknowledged),
            "p50_ms": round(percentile(latencies, 0.5), 1),
            "p95_ms": round(percentile(latencies, 0.95), 1),
        }
    latencies = [(r.ended - r.started) * 1000 for r in run.records]
    down = up = None
    if timeline.kill_at is not None:
        down = watch.first(victim, "DOWN", timeline.kill_at)
    if timeline.restart_at is not None:
        up = watch.first(victim, "UP", timeline.restart_at)
    return {
        "requests": len(run.records),
        "per_kind": per_kind,
        "p50_ms": round(percentile(latencies, 0.5), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "writes_acknowledged": sum(1 for w in run.writes if w.acknowledged),
        "writes_unacknowledged": sum(1 for w in run.writes if not w.acknowledged),
        "statuses": dict(sorted(Counter(str(r.status) for r in run.records).items())),
        "requests_per_node": dict(Counter(str(r.node) for r in run.records)),
        "down_after_kill_s": round(down - timeline.kill_at, 2) if down is not None else None,
        "ready_after_restart_s": round(timeline.ready_at - timeline.restart_at, 2)
        if timeline.ready_at is not None and timeline.restart_at is not None
        else None,
        "up_after_restart_s": round(up - timeline.restart_at, 2) if up is not None else None,
        # connections to the node that failed and were tried again, and those of them sent on to
        # the other node: requests that never reached the dead node and were served all the same
        "haproxy_retries": int(timeline.stats.get("wretr") or 0),
        "haproxy_redispatches": int(timeline.stats.get("wredis") or 0),
        "node_changes": [
            {"at_s": round(t, 2), "node": n, "status": s} for t, n, s in watch.changes
        ],
    }


# -- the report -------------------------------------------------------------------------------


CHECKS = {
    "writes": "every acknowledged write is in the database",
    "files": "every uploaded file downloads through each node with its SHA-256",
    "server_errors": "no 5xx but those in flight on the killed node",
    "sessions": "sessions survived: nobody was sent back to sign in",
    "answers": "every other answer was the one expected",
    "figures": "a change made by hand in the database reached every worker of both nodes",
}


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def figures_line(check: dict[str, Any]) -> str:
    if "period" not in check:
        return "not checked."

    def percents(medians: str) -> str:
        return ", ".join(f"{m['percent']}%" for m in json.loads(medians) if m)

    return (
        f"{check['assessments_changed']:,} assessments of {check['period']}'s shared returns "
        f"changed by hand in SQL; each area's national median went from "
        f"{percents(check['before'])} to {percents(check['after'])}, the same in all "
        f"{check['answers']} answers from both nodes' workers, with no restart."
    )


def summary(result: dict[str, Any]) -> str:
    f, t, s = result["figures"], result["timeline"], result["settings"]
    panel = s["panel_members"]
    lines = [
        f"Failover check: {s['seconds']:g} s, {s['users']} people "
        f"({_count(s['users'] - panel, 'editor')}, {_count(panel, 'panel member')}) through "
        f"HAProxy; node {t['killed_node']} killed at {t['kill_at_s']} s, started again at "
        f"{t['restart_at_s']} s.",
        f"Database: {result['database']}.",
        f"HAProxy stopped sending to node {t['killed_node']} {f['down_after_kill_s']} s after "
        f"the kill (marked DOWN), having retried {f['haproxy_retries']} connections to it and "
        f"sent {f['haproxy_redispatches']} on to the other node. Started again, it answered after "
        f"{f['ready_after_restart_s']} s and HAProxy had it UP after {f['up_after_restart_s']} s.",
        "",
        "| kind | requests | writes acknowledged | p50 ms | p95 ms |",
        "|---|---|---|---|---|",
    ]
    for kind, row in f["per_kind"].items():
        lines.append(
            f"| {kind} | {row['requests']} | {row['writes_acknowledged']} | {row['p50_ms']} | "
            f"{row['p95_ms']} |"
        )
    lines += [
        f"| all | {f['requests']} | {f['writes_acknowledged']} | {f['p50_ms']} | {f['p95_ms']} |",
        "",
        f"Answers: {f['statuses']}; by node: {f['requests_per_node']}.",
        f"Writes not acknowledged: {f['writes_unacknowledged']}. 5xx in flight on the killed "
        f"node (allowed): {f['server_errors_in_flight']}; other 5xx: {f['server_errors_other']}.",
        f"Files verified through both nodes: {f['files_verified_on_both']} of "
        f"{f['files_acknowledged']} (per node: {result['checks']['files']['verified_per_node']}).",
        f"Comments: posted by the {_count(panel, 'panel member')} through the thread's form, "
        "on their council's newest return handed in (a draft takes none), each looked for in "
        "comments with its text, author and thread; not acknowledged but stored all the same: "
        f"{f['comments_landed_unacknowledged']}.",
        f"Figures: {figures_line(result['checks']['figures'])}",
        "",
    ]
    for key, label in CHECKS.items():
        check = result["checks"][key]
        lines.append(f"{'✔' if check['passed'] else '✘'} {label}")
        for problem in check["problems"][:10]:
            lines.append(f"    {problem}")
        if len(check["problems"]) > 10:
            lines.append(f"    … and {len(check['problems']) - 10} more")
        for what, count in check.get("haproxy_says", {}).items():
            lines.append(f"    HAProxy: {count} × {what}")
    lines.append("")
    lines.append("PASSED" if result["passed"] else "FAILED")
    return "\n".join(lines)


def haproxy_errors(log_path: Path) -> dict[str, int]:
    """HAProxy's account of each 5xx it sent: status, termination state (``SC``: the node
    refused the connection; ``SH``: it went away with the request; ``sQ``: it waited too long
    in the queue …), retries and the node it last tried."""
    said: Counter[str] = Counter()
    with contextlib.suppress(OSError):
        for line in log_path.read_text(errors="replace").splitlines():
            parts = line.split(" ", 4)
            if len(parts) == 5 and parts[0].isdigit() and int(parts[0]) >= 500:
                status, state, retries, node, _rest = parts
                said[f"{status} {state} after {retries} retries, node {node}"] += 1
    return dict(said)


def keep_logs(folder: Path, target: Path) -> None:
    """Copy every log of the run (HAProxy's, each node's, PostgreSQL's …) to ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    for path in folder.rglob("*.log"):
        shutil.copy(path, target / "-".join(path.relative_to(folder).parts))
    with contextlib.suppress(OSError):
        shutil.copy(folder / "haproxy.cfg", target / "haproxy.cfg")


def missing_tools() -> list[str]:
    needs = []
    if not Path(HAPROXY).is_file():
        needs.append(f"{HAPROXY} is missing: apt-get install -y haproxy")
    if not Path(REDIS_SERVER).is_file():
        needs.append(f"{REDIS_SERVER} is missing: apt-get install -y redis-server")
    return needs


def failover(options: argparse.Namespace) -> dict[str, Any]:
    """Set everything up, drive it through the kill and the restart, check; returns the result."""
    secret = secrets.token_hex(32)
    with (
        tempfile.TemporaryDirectory(prefix="tracker-failover-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        folder = Path(tmp)
        try:
            url, described = start_postgres(stack, folder)
            log(f"Database: {described}")
            redis_url = stack.enter_context(redis_server(folder))
            setup = folder / "instance-setup"
            setup.mkdir()
            env = {
                **environment(url, setup, secret),
                "REDIS_URL": redis_url,
                "FILE_STORE": "database",
                "TRUSTED_PROXY_HOPS": "1",
            }
            people = prepare(env, options.users)
            stack.enter_context(worker(env, folder))
            log("Starting two gunicorn nodes and HAProxy…")
            served = stack.enter_context(nodes(env, folder))
            port, socket_path = stack.enter_context(haproxy(folder, served))
            run, timeline, watch = drive(options, port, people, served[VICTIM], socket_path)
            log("Checking…")
            persons = people["people"][: options.users]
            ports = {name: node.port for name, node in served.items()}
            checks = {
                "writes": check_database(url, run, persons),
                "files": check_files(run, persons, ports),
                "server_errors": classify_server_errors(run, timeline, VICTIM),
                "sessions": check_sessions(run, timeline),
                "answers": {"passed": not run.unexpected, "problems": run.unexpected},
                "figures": check_figures(url, run, persons, ports),
            }
            checks["server_errors"]["haproxy_says"] = haproxy_errors(folder / "haproxy.log")
        finally:
            if options.keep_logs:
                keep_logs(folder, options.keep_logs)
    numbers = figures(run, timeline, watch, VICTIM)
    numbers.update(
        server_errors_in_flight=checks["server_errors"]["in_flight"],
        server_errors_other=checks["server_errors"]["other"],
        files_acknowledged=checks["files"]["files"],
        files_verified_on_both=checks["files"]["verified_on_every_node"],
        comments_landed_unacknowledged=checks["writes"]["comments_landed_unacknowledged"],
        sent_to_sign_in=len([r for r in run.records if r.sent_to_sign_in]),
    )
    return {
        "passed": all(check["passed"] for check in checks.values()),
        "database": described,
        "settings": {
            "seconds": options.seconds,
            "users": options.users,
            "panel_members": sum(map(is_panel_member, range(1, options.users + 1))),
            "kill_after_s": options.kill_after,
            "restart_after_s": options.restart_after,
            "gunicorn_workers_per_node": WORKERS,
            "cpus": os.cpu_count(),
        },
        "timeline": {
            "killed_node": VICTIM,
            "kill_at_s": round(timeline.kill_at, 2) if timeline.kill_at is not None else None,
            "gone_at_s": round(timeline.gone_at, 2) if timeline.gone_at is not None else None,
            "restart_at_s": round(timeline.restart_at, 2)
            if timeline.restart_at is not None
            else None,
        },
        "figures": numbers,
        "checks": checks,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60, help="length of the run (60)")
    parser.add_argument(
        "--users", type=int, default=50, help="simulated people, one in five a panel member (50)"
    )
    parser.add_argument(
        "--kill-after", type=float, default=20, help="seconds before node a is killed (20)"
    )
    parser.add_argument(
        "--restart-after", type=float, default=40, help="seconds before it starts again (40)"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--keep-logs", type=Path, help="copy the servers' logs to this folder")
    options = parser.parse_args(argv)
    if not 0 < options.kill_after < options.restart_after < options.seconds:
        parser.error("need 0 < --kill-after < --restart-after < --seconds")
    needs = missing_tools()
    if needs:
        log("\n".join(needs))
        return 2
    # A stop from outside (make's Ctrl-C, a test's timeout) still stops everything we started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    result = failover(options)
    if options.json:
        log(summary(result))
        print(json.dumps(result, indent=2))
    else:
        print(summary(result))
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
