"""Time the open-data download of a closed quarter at national scale.

    .venv/bin/python -m bench.opendata [--runs 5] [--database-url URL]

Builds a fresh SQLite database in a temporary folder (unless ``--database-url`` names an empty
one): the roadmap, the 153 councils and ``seed_dataset("national")``, the demo's eight closed
quarters with a signed-off return for every council, evidence and panel feedback. One council
in ten then stops sharing named returns. It times :func:`tracker.opendata.package.build_package`
for the newest closed quarter (the zip written to memory, as the download does) and one
request to ``/open-data/<quarter>.zip``, and counts the SQL statements of each.

Figures are printed as JSON lines. Nothing here is a test: it measures.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, select, update

from tracker import create_app
from tracker.config import PROJECT_ROOT
from tracker.councils.services import load_councils
from tracker.extensions import db
from tracker.models import Council, Period, PeriodStatus
from tracker.roadmap_loader import load_roadmap


def seed(app) -> str:
    """The national dataset; returns the label of the newest closed quarter."""
    from tracker.demo_data import seed_dataset

    with app.app_context():
        db.create_all()
        load_roadmap(PROJECT_ROOT / "roadmap" / "time-to-act-2023")
        load_councils(PROJECT_ROOT / "tracker" / "data" / "councils.csv")
        seed_dataset("national")
        ids = list(db.session.scalars(select(Council.id).order_by(Council.gss_code)))
        db.session.execute(
            update(Council).where(Council.id.in_(ids[::10])).values(shares_named_returns=False)
        )
        db.session.commit()
        return db.session.scalar(
            select(Period.label)
            .where(Period.status == PeriodStatus.CLOSED)
            .order_by(Period.year.desc(), Period.quarter.desc())
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-opendata-"))
    os.environ.setdefault("TRACKER_INSTANCE_PATH", str(folder / "instance"))
    app = create_app(
        {
            "SECRET_KEY": "bench-only-secret-key-0123456789abcdef0123456789",
            "SQLALCHEMY_DATABASE_URI": args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}",
        }
    )
    started = time.perf_counter()
    label = seed(app)
    results: dict[str, object] = {"seed_s": round(time.perf_counter() - started, 1)}

    from tracker.opendata import package

    statements: list[str] = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        period = db.session.scalar(select(Period).where(Period.label == label))
        seconds, cpu = [], []
        for _ in range(args.runs):
            statements.clear()
            buffer = io.BytesIO()
            wall, processor = time.perf_counter(), time.process_time()
            summary = package.build_package(period, buffer)
            seconds.append(time.perf_counter() - wall)
            cpu.append(time.process_time() - processor)
        results.update(
            period=label,
            councils=summary.rows["returns"],
            assessments=summary.rows["assessments"],
            actions=summary.rows["actions"],
            zip_bytes=len(buffer.getvalue()),
            build_statements=len(statements),
            build_s_median=round(statistics.median(seconds), 2),
            build_s_max=round(max(seconds), 2),
            build_cpu_s_median=round(statistics.median(cpu), 2),
        )
        db.session.remove()

    client = app.test_client()
    path = f"/open-data/{label.replace(' ', '-')}.zip"
    requests = []
    for _ in range(args.runs):
        wall = time.perf_counter()
        response = client.get(path)
        requests.append(time.perf_counter() - wall)
        assert response.status_code == 200, response.status_code
    results["download_s_median"] = round(statistics.median(requests), 2)
    wall = time.perf_counter()
    assert client.get("/open-data").status_code == 200
    results["index_s"] = round(time.perf_counter() - wall, 3)
    results["load_average_1min"] = round(os.getloadavg()[0], 2)
    for key, value in results.items():
        print(json.dumps({"figure": key, "value": value}))


if __name__ == "__main__":
    main()
