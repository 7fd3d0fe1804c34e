"""Benchmark the tracker at national scale: ``python -m bench.run`` (``make bench``).

For each database (SQLite, and PostgreSQL at ``BENCH_POSTGRES_URL`` when reachable):

1. build the national dataset (all 153 councils, eight closed quarters and the current one,
   evidence) into a throwaway instance folder and database, and datasets of 1 and 10 councils
   beside it, counting each page's SQL queries on all three (``bench/build.py``);
2. serve it with gunicorn, two sync workers, on a free port of 127.0.0.1;
3. sign in as the demo people and drive each page of ``bench/targets.py`` from a separate
   process (``bench/load.py``) for ``--duration`` seconds with ``--concurrency`` clients;
4. print p50, p95, p99, throughput, errors, the ratio of each page's p50 to ``/healthz``'s on the
   same workers, the query counts at 1, 10 and 153 councils, and whether each target is met.

Exits 1 when a request failed or a target was missed. ``--smoke`` is a seconds-long run on two
councils (``tests/test_bench_smoke.py``): it checks that the script works, not the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.load import Client
from bench.targets import GSS, TARGETS, TRIVIAL, Target

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
WORKERS = 2
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
#: the bench instance's settings: one person makes every request of a run, so the per-person
#: PDF and export limits (which protect a shared service from one person) are lifted
INSTANCE_CONFIG = """\
REPORT_RATE_LIMIT = 1_000_000
EXPORT_RATE_LIMIT = 1_000_000
# Every board PDF is laid out afresh: the figure is the render, not a read of the PDF cache.
REPORT_PDF_CACHE = False
"""


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- databases ------------------------------------------------------------------------------


@contextlib.contextmanager
def database(kind: str, folder: Path, label: str, postgres_url: str) -> Iterator[str]:
    """A new, empty database: a file in ``folder``, or a database on the PostgreSQL server."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / f'{label}.sqlite3'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    server = make_url(postgres_url).set(drivername="postgresql+psycopg")
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"tracker_bench_{label}_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_reachable(url: str) -> bool:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    engine = create_engine(
        make_url(url).set(drivername="postgresql+psycopg"),
        poolclass=NullPool,
        connect_args={"connect_timeout": 3},
    )
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


def environment(url: str, instance: Path, secret: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        TRACKER_INSTANCE_PATH=str(instance),
        SECRET_KEY=secret,
        PYTHONPATH=str(ROOT),
    )
    env.pop("REDIS_URL", None)
    return env


def build(
    url: str,
    instance: Path,
    secret: str,
    councils: int,
    *,
    count: bool,
    skip: list[str],
    lead: str | None = None,
) -> dict[str, Any]:
    instance.mkdir(parents=True, exist_ok=True)
    (instance / "config.py").write_text(INSTANCE_CONFIG)
    command = [PYTHON, "-m", "bench.build", "--councils", str(councils)]
    if lead:
        command += ["--lead", lead]
    if not count:
        command.append("--no-count")
    for name in skip:
        command += ["--skip", name]
    result = subprocess.run(  # noqa: S603 (our own script)
        command,
        cwd=ROOT,
        env=environment(url, instance, secret),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"building the dataset failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# -- the server -----------------------------------------------------------------------------


def start_gunicorn(
    env: dict[str, str],
    instance: Path,
    port: int,
    workers: int = WORKERS,
    *,
    new_session: bool = False,
) -> subprocess.Popen:
    """gunicorn serving the app on 127.0.0.1:``port``, its log appended to
    ``instance/gunicorn.log``; ``new_session`` puts the master and its workers in a process group
    of their own, which one ``killpg`` ends."""
    with open(instance / "gunicorn.log", "ab") as log_file:
        return subprocess.Popen(  # noqa: S603 (our own server)
            [
                GUNICORN,
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--timeout",
                "120",
                "--no-control-socket",
                "app:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
            start_new_session=new_session,
        )


def wait_for_health(
    port: int, process: subprocess.Popen, log_path: Path, seconds: float = 60
) -> None:
    """Return once ``/healthz`` on ``port`` answers 200.

    :raises RuntimeError: when the server stops, or has not answered within ``seconds``.
    """
    deadline = time.monotonic() + seconds
    while True:
        try:
            status, _h, _c = Client("127.0.0.1", port, timeout=2).request("GET", "/healthz")
            if status == 200:
                return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("gunicorn did not start:\n" + log_path.read_text()[-3000:])
        time.sleep(0.2)


@contextlib.contextmanager
def gunicorn(url: str, instance: Path, secret: str, workers: int = WORKERS) -> Iterator[str]:
    """gunicorn serving the app on a free port of 127.0.0.1; yields its base URL."""
    port = free_port()
    (instance / "gunicorn.log").unlink(missing_ok=True)
    process = start_gunicorn(environment(url, instance, secret), instance, port, workers)
    try:
        wait_for_health(port, process, instance / "gunicorn.log")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def sign_in(base: str, role: str) -> dict[str, str]:
    """The cookies of a session signed in as ``role`` over HTTP, through the pages."""
    import pyotp

    from bench.build import CSRF, EMAILS

    demo_password = "time-to-act-care-and-support"  # noqa: S105 (published demo password)
    demo_totp = "ROADMAPTRACKERDEMOSECRETKEY23456"
    port = int(base.rsplit(":", 1)[1])
    client = Client("127.0.0.1", port)
    _s, _h, page = client.request("GET", "/auth/sign-in")
    token = CSRF.search(page.decode()).group(1)
    status, headers, _c = client.request(
        "POST",
        "/auth/sign-in",
        {"csrf_token": token, "email": EMAILS[role], "password": demo_password},
    )
    if status != 302:
        raise RuntimeError(f"signing in as {role} answered {status}")
    location = headers["location"]
    if "two-factor" in location:
        step = location.split(base, 1)[-1]
        for _attempt in range(3):
            _s, _h, page = client.request("GET", step)
            token = CSRF.search(page.decode()).group(1)
            code = pyotp.TOTP(demo_totp).now()
            status, _h, _c = client.request("POST", step, {"csrf_token": token, "code": code})
            if status == 302:
                break
            # The code of this 30-second step was used already (the query counts signed in):
            # codes are single-use, so wait for the next one.
            time.sleep(31 - time.time() % 30)
        else:
            raise RuntimeError(f"second factor as {role} answered {status}")
    return client.cookies


def drive(spec: dict[str, Any]) -> dict[str, Any]:
    result = subprocess.run(  # noqa: S603 (our own driver)
        [PYTHON, "-m", "bench.load"],
        cwd=ROOT,
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if result.returncode != 0:
        raise RuntimeError(f"the load driver failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout)


def drive_jobs(
    target: Target, spec: dict[str, Any], values: dict[str, str], options: argparse.Namespace
) -> dict[str, Any]:
    """A background job, once for each of the last ``--jobs`` closed quarters (a job for a
    quarter that already has a finished pack would find that pack at once)."""
    from bench.load import percentile

    latencies: list[float] = []
    merged: dict[str, Any] = {"errors": 0, "server_errors": 0, "database_locked": 0}
    statuses: dict[str, int] = {}
    started = time.perf_counter()
    for past in values["closed"][-options.jobs :]:
        quarter = {**values, "past": past}
        one = drive(
            {
                **spec,
                "path": target.path.format(**quarter),
                "form_path": (target.form_path or "").format(**quarter),
                "start_path": (target.start_path or "").format(**quarter),
                "max_requests": 1,
                "duration": 10**6,
                "warmup": 0,
                "keep_latencies": True,
            }
        )
        latencies += one["latencies_ms"]
        for key in merged:
            merged[key] += one[key]
        for status, count in one["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    elapsed = time.perf_counter() - started
    return {
        **merged,
        "requests": len(latencies),
        "statuses": statuses,
        "p50_ms": round(percentile(latencies, 0.5), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "max_ms": round(max(latencies), 1) if latencies else 0.0,
        "throughput_rps": round(len(latencies) / elapsed, 2) if elapsed else 0.0,
        "seconds": round(elapsed, 1),
    }


def action_codes(url: str, instance: Path, secret: str) -> list[str]:
    code = (
        "from tracker import create_app\n"
        "from tracker.extensions import db\n"
        "from tracker.models import Action\n"
        "from sqlalchemy import select\n"
        "with create_app().app_context():\n"
        "    print('\\n'.join(db.session.scalars(select(Action.code).where("
        "Action.parent_id.is_(None), Action.archived_at.is_(None)).order_by(Action.code))))\n"
    )
    result = subprocess.run(  # noqa: S603 (our own code)
        [PYTHON, "-c", code],
        cwd=ROOT,
        env=environment(url, instance, secret),
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.split()


def path_values(url: str, instance: Path, secret: str) -> dict[str, str]:
    code = (
        "import json\nfrom bench.build import path_values\nfrom tracker import create_app\n"
        "with create_app().app_context():\n    print(json.dumps(path_values()))\n"
    )
    result = subprocess.run(  # noqa: S603 (our own code)
        [PYTHON, "-c", code],
        cwd=ROOT,
        env=environment(url, instance, secret),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


# -- one database ---------------------------------------------------------------------------


def endpoints_in_app() -> set[str]:
    os.environ.setdefault("SECRET_KEY", secrets.token_hex(32))
    from tracker import create_app

    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/x.sqlite3"})
        return {rule.endpoint for rule in app.url_map.iter_rules()}


def bench_database(kind: str, options: argparse.Namespace) -> dict[str, Any]:
    """Build, serve and measure on one kind of database; returns the results."""
    present = endpoints_in_app()
    targets = [t for t in TARGETS if t.endpoint in present]
    if options.smoke:
        # Seconds, not minutes: the smoke run checks the script, not the PDF renderer.
        targets = [t for t in targets if t.expect_type != "application/pdf"]
    if options.only:
        targets = [t for t in targets if t is TRIVIAL or options.only.lower() in t.name.lower()]
    missing = [t.name for t in TARGETS if t.endpoint not in present]
    results: dict[str, Any] = {"database": kind, "missing": missing, "pages": {}, "queries": {}}
    secret = secrets.token_hex(32)
    with tempfile.TemporaryDirectory(prefix=f"tracker-bench-{kind}-") as tmp:
        folder = Path(tmp)
        sizes = sorted({1, 10, options.councils}) if not options.smoke else [options.councils]
        main_url = None
        with contextlib.ExitStack() as stack:
            not_measured = [t.name for t in TARGETS if t not in targets]
            for size in sizes:
                url = stack.enter_context(database(kind, folder, f"c{size}", options.postgres))
                log(f"[{kind}] building the dataset of {size} council(s)…")
                built = build(
                    url, folder / f"instance-{size}", secret, size, count=True, skip=not_measured
                )
                results["queries"][size] = built.get("queries", {})
                if size == 1 and not options.smoke:
                    # A page about another council (the London pages) is counted again on a
                    # dataset of that one council: with Leeds alone it has nothing to show.
                    counted = {t.council for t in targets if t.count_queries}
                    for lead in sorted(counted - {GSS}):
                        name = f"c1_{lead.lower()}"
                        url_lead = stack.enter_context(
                            database(kind, folder, name, options.postgres)
                        )
                        log(f"[{kind}] building the dataset of 1 council ({lead})…")
                        others = [t.name for t in targets if t.council != lead]
                        led = build(
                            url_lead,
                            folder / f"instance-{name}",
                            secret,
                            1,
                            count=True,
                            skip=not_measured + others,
                            lead=lead,
                        )
                        results["queries"][1].update(led.get("queries", {}))
                if size == options.councils:
                    results["build_seconds"] = built["build_seconds"]
                    results["build_report"] = built["report"]
                    main_url = url
            assert main_url is not None
            instance = folder / f"instance-{options.councils}"
            values = path_values(main_url, instance, secret)
            codes = action_codes(main_url, instance, secret)
            with gunicorn(main_url, instance, secret) as base:
                log(f"[{kind}] serving on {base}; signing in…")
                cookies = {role: sign_in(base, role) for role in {t.role for t in targets}}
                for target in targets:
                    log(f"[{kind}] {target.name}…")
                    spec = {
                        "base": base,
                        "cookies": cookies[target.role],
                        "kind": target.kind,
                        "path": target.path.format(**{**values, "code": "{code}"}),
                        "codes": codes,
                        "concurrency": target.concurrency or options.concurrency,
                        "duration": options.duration,
                        # One request per worker per client first: each worker's first PDF
                        # loads fonts, each worker's first page compiles templates.
                        "warmup": WORKERS,
                        "expect_type": target.expect_type,
                        "min_requests": target.min_requests,
                    }
                    if target.kind == "job":
                        results["pages"][target.name] = drive_jobs(target, spec, values, options)
                    else:
                        results["pages"][target.name] = drive(spec)
            if kind == "sqlite":
                results["database_bytes"] = Path(main_url.removeprefix("sqlite:///")).stat().st_size
    return results


# -- the report -----------------------------------------------------------------------------


def verdicts(results: dict[str, Any], targets: list[Target]) -> list[str]:
    """Every failure: errors, missed targets, query counts that grow with councils."""
    failures = []
    for target in targets:
        page = results["pages"].get(target.name)
        if page is None:
            continue
        if page["errors"]:
            failures.append(f"{target.name}: {page['errors']} failed requests {page['statuses']}")
        if target.goal_ms is not None and page["p95_ms"] > target.goal_ms:
            failures.append(f"{target.name}: p95 {page['p95_ms']} ms > {target.goal_ms:g} ms")
        counts = [results["queries"].get(size, {}).get(target.name) for size in results["queries"]]
        counts = [c for c in counts if c is not None]
        if target.count_queries and len(set(counts)) > 1:
            failures.append(f"{target.name}: queries grow with councils {counts}")
    return failures


def table(results: dict[str, Any]) -> str:
    sizes = list(results["queries"])
    trivial = results["pages"].get(TRIVIAL.name, {}).get("p50_ms") or 0
    header = (
        "| page | p50 ms | p95 ms | p99 ms | req/s | errors | × /healthz | "
        + " | ".join(f"queries @{s}" for s in sizes)
        + " | p95 target |"
    )
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for target in TARGETS:
        page = results["pages"].get(target.name)
        if page is None:
            continue
        ratio = f"{page['p50_ms'] / trivial:.1f}" if trivial else "–"
        queries = " | ".join(
            str(results["queries"].get(s, {}).get(target.name, "–")) for s in sizes
        )
        goal = f"< {target.goal_ms:g} ms" if target.goal_ms else "–"
        met = ""
        if target.goal_ms:
            met = " ✔" if page["p95_ms"] <= target.goal_ms else " ✘"
        lines.append(
            f"| {target.name} | {page['p50_ms']} | {page['p95_ms']} | {page['p99_ms']} | "
            f"{page['throughput_rps']} | {page['errors']} | {ratio} | {queries} | {goal}{met} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the tracker at national scale.")
    parser.add_argument(
        "--database", choices=["sqlite", "postgresql", "both"], default="both", help="default: both"
    )
    parser.add_argument("--councils", type=int, default=153, help="default: 153 (every council)")
    parser.add_argument("--duration", type=float, default=20, help="seconds per page (20)")
    parser.add_argument("--concurrency", type=int, default=2, help="clients per page (2)")
    parser.add_argument("--jobs", type=int, default=3, help="regional packs to build (3)")
    parser.add_argument(
        "--postgres", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--only", help="only the pages whose name contains this (and /healthz)")
    parser.add_argument("--smoke", action="store_true", help="a seconds-long run on 2 councils")
    options = parser.parse_args(argv)
    if options.smoke:
        options.councils, options.duration, options.jobs = 2, 1.0, 1
        if options.database == "both":
            options.database = "sqlite"
    kinds = ["sqlite", "postgresql"] if options.database == "both" else [options.database]
    if "postgresql" in kinds and not postgres_reachable(options.postgres):
        if options.database == "postgresql":
            log(f"PostgreSQL is not reachable at {options.postgres}")
            return 2
        log(f"PostgreSQL is not reachable at {options.postgres}: SQLite only")
        kinds = ["sqlite"]
    all_results = []
    failed = False
    for kind in kinds:
        started = time.perf_counter()
        load_before = os.getloadavg()
        results = bench_database(kind, options)
        results["load_average"] = {
            "before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in os.getloadavg()],
        }
        results["seconds"] = round(time.perf_counter() - started, 1)
        results["settings"] = {
            "councils": options.councils,
            "duration_s": options.duration,
            "concurrency": options.concurrency,
            "gunicorn_workers": 2,
            "cpus": os.cpu_count(),
        }
        all_results.append(results)
        print(
            f"\n## {kind}: {options.councils} councils, gunicorn 2 workers, "
            f"{options.concurrency} clients, {options.duration:g} s per page\n"
        )
        for line in results.get("build_report", []):
            print(f"Dataset: {line}")
        print(f"Dataset built in {results.get('build_seconds')} s.")
        print(
            f"Load average (1, 5, 15 min) before: {results['load_average']['before']}, "
            f"after: {results['load_average']['after']} ({os.cpu_count()} CPUs)\n"
        )
        print(table(results))
        if results["missing"]:
            print("\nNot measured (not in the app yet): " + ", ".join(results["missing"]))
        failures = verdicts(results, TARGETS)
        if failures:
            failed = True
            print("\nMissed:\n  " + "\n  ".join(failures))
        else:
            print("\nEvery target met, no errors.")
    if options.json:
        options.json.write_text(json.dumps(all_results, indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
