"""Time opening a period at national scale: ``python -m bench.periods`` (``make bench-periods``).

    .venv/bin/python -m bench.periods [--database sqlite|postgresql|both] [--runs 3]

For each database (a temporary SQLite file; PostgreSQL at ``--postgres`` or
``BENCH_POSTGRES_URL`` when reachable) builds the national dataset (``seed_dataset("national")``:
153 councils, nine quarters, the current one open, evidence linked to about 18,000
assessments), creates the next quarter, then ``--runs`` times: opens it with
:func:`tracker.returns.periods.open_period` and commits (timed), then deletes what opening made
(not timed) so the next run starts from the same rows.

Prints one JSON line per database: the seconds of each run, their median, and what one opening
made (returns, assessments, assessments carried forward, evidence links). Exits 1 when the
median is over ``--goal`` seconds (2). Nothing here is a test: it measures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.run import DEFAULT_POSTGRES, database, postgres_reachable

SECRET = "bench-only-secret-key-0123456789abcdef0123456789"  # noqa: S105 (a throwaway database)


def _build(app) -> None:
    from tracker.admin.demo import seed_demo
    from tracker.config import PROJECT_ROOT
    from tracker.councils.services import load_councils
    from tracker.demo_data import seed_dataset
    from tracker.extensions import db
    from tracker.roadmap_loader import load_roadmap

    with app.app_context():
        db.create_all()
        load_roadmap(PROJECT_ROOT / "roadmap" / "time-to-act-2023")
        load_councils(PROJECT_ROOT / "tracker" / "data" / "councils.csv")
        seed_demo()
        seed_dataset("national")
        db.session.commit()


def _undo(period_id: int) -> None:
    """Delete the returns, assessments and evidence links opening made; the period is upcoming
    again. (Its ``period.open`` audit events stay: the trail is append-only.)"""
    from sqlalchemy import delete, select, update

    from tracker.extensions import db
    from tracker.models import (
        Assessment,
        Period,
        PeriodStatus,
        Return,
        assessment_evidence,
    )

    returns = select(Return.id).where(Return.period_id == period_id)
    assessments = select(Assessment.id).where(Assessment.return_id.in_(returns))
    db.session.execute(
        delete(assessment_evidence).where(assessment_evidence.c.assessment_id.in_(assessments))
    )
    db.session.execute(delete(Assessment).where(Assessment.return_id.in_(returns)))
    db.session.execute(delete(Return).where(Return.period_id == period_id))
    db.session.execute(
        update(Period)
        .where(Period.id == period_id)
        .values(status=PeriodStatus.UPCOMING, opened_at=None)
    )
    db.session.commit()


def _made(period_id: int) -> dict[str, int]:
    from sqlalchemy import func, select

    from tracker.extensions import db
    from tracker.models import Assessment, Return, assessment_evidence

    returns = select(Return.id).where(Return.period_id == period_id)
    assessments = select(Assessment.id).where(Assessment.return_id.in_(returns))

    def count(statement) -> int:
        return int(db.session.scalar(statement) or 0)

    return {
        "returns": count(select(func.count()).select_from(returns.subquery())),
        "assessments": count(select(func.count()).select_from(assessments.subquery())),
        "carried_forward": count(
            select(func.count())
            .select_from(Assessment)
            .where(Assessment.return_id.in_(returns), Assessment.is_carried_forward)
        ),
        "evidence_links": count(
            select(func.count())
            .select_from(assessment_evidence)
            .where(assessment_evidence.c.assessment_id.in_(assessments))
        ),
    }


def measure(kind: str, url: str, folder: Path, runs: int) -> dict[str, object]:
    from tracker import create_app
    from tracker.extensions import db
    from tracker.returns import periods

    app = create_app(
        {
            "SECRET_KEY": SECRET,
            "SQLALCHEMY_DATABASE_URI": url,
            "EVIDENCE_DIR": str(folder / f"evidence-{kind}"),
            "REPORT_FOLDER": str(folder / f"reports-{kind}"),
        }
    )
    started = time.perf_counter()
    _build(app)
    build_seconds = time.perf_counter() - started
    seconds: list[float] = []
    cpu: list[float] = []
    with app.app_context():
        label = periods.next_period_label()
        year, quarter = periods.parse_period_label(label)
        _starts_on, ends_on = periods.quarter_dates(year, quarter)
        period = periods.create_period(label, ends_on + timedelta(days=31), actor=None)
        db.session.commit()
        period_id = period.id
        made: dict[str, int] = {}
        for run in range(runs):
            db.session.expire_all()
            period = db.session.get(periods.Period, period_id)
            begun, begun_cpu = time.perf_counter(), time.process_time()
            periods.open_period(period, actor=None)
            db.session.commit()
            seconds.append(time.perf_counter() - begun)
            cpu.append(time.process_time() - begun_cpu)
            if run == 0:
                made = _made(period_id)
            _undo(period_id)
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
    return {
        "database": kind,
        "period": label,
        "build_seconds": round(build_seconds, 1),
        "open_seconds": [round(s, 3) for s in seconds],
        "open_seconds_median": round(statistics.median(seconds), 3),
        #: CPU seconds of this Python process (not the PostgreSQL server's): less affected
        #: than the wall clock by other work on the machine
        "open_cpu_seconds_median": round(statistics.median(cpu), 3),
        "made": made,
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--goal", type=float, default=2.0, help="seconds, the median's target")
    parser.add_argument(
        "--postgres", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    )
    arguments = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if arguments.database == "both" else [arguments.database]
    missed = False
    with tempfile.TemporaryDirectory(prefix="bench-periods-") as name:
        folder = Path(name)
        # Nothing of the bench's is written to the project's own instance folder.
        os.environ["TRACKER_INSTANCE_PATH"] = str(folder / "instance")
        for kind in kinds:
            if kind == "postgresql" and not postgres_reachable(arguments.postgres):
                print(
                    f"PostgreSQL at {arguments.postgres} is not reachable: skipped", file=sys.stderr
                )
                continue
            with database(kind, folder, "periods", arguments.postgres) as url:
                result = measure(kind, url, folder, arguments.runs)
            result["goal_seconds"] = arguments.goal
            result["met"] = result["open_seconds_median"] <= arguments.goal
            missed = missed or not result["met"]
            print(json.dumps(result), flush=True)
    if missed:
        raise SystemExit(1)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
