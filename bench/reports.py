"""Time the PDF reports on a seeded database: one council's board report, and the London pack.

    .venv/bin/python -m bench.reports [--runs 5]

Builds a fresh SQLite database in a temporary folder (roadmap, 153 councils, two quarters; every
London council's returns assessed with varied stages and RAG ratings and submitted), then times:

- the first council report in the process (starts the shared Chromium: a one-off cost);
- a council report with the browser running and the chart cache empty (the figure we keep:
  target < 2 s);
- the same report again (charts from the cache);
- WeasyPrint's own layout of the same HTML (the floor), the cold request's ratio to it and its
  p95 (targets: p95 < 1.5 s, within 1.2× of the layout);
- the same paper as a Word document, charts not cached (target < 1 s);
- the London regional pack, 33 councils, through the background job (target < 20 s).

Figures are printed as JSON lines. Nothing here is a test: it measures.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import select, update

from tracker import create_app
from tracker.config import PROJECT_ROOT
from tracker.councils.services import load_councils
from tracker.extensions import db
from tracker.models import Assessment, Council, Region, Return, ReturnStatus
from tracker.roadmap_loader import load_roadmap

STAGES = ["not_started", "planning", "implementing", "embedded", "not_applicable"]


def seed(app, rng: random.Random) -> tuple[str, str]:
    """Schema, roadmap, councils, two quarters for London; returns (gss code, period label)."""
    from tracker.returns import periods

    with app.app_context():
        db.create_all()
        load_roadmap(PROJECT_ROOT / "roadmap" / "time-to-act-2023")
        load_councils(PROJECT_ROOT / "tracker" / "data" / "councils.csv")
        db.session.commit()
        london = db.session.scalar(select(Region).where(Region.slug == "london"))
        db.session.execute(
            update(Council).where(Council.region_id != london.id).values(is_active=False)
        )
        for label in ("2025-26 Q2", "2025-26 Q3"):
            period = periods.create_period(label, date(2030, 1, 31), actor=None)
            periods.open_period(period, actor=None)
            db.session.flush()
            for assessment in db.session.scalars(
                select(Assessment)
                .join(Return, Assessment.return_id == Return.id)
                .where(Return.period_id == period.id)
            ):
                stage = rng.choice(STAGES)
                assessment.stage = stage
                assessment.rag = (
                    rng.choice(["red", "amber", "green"])
                    if stage in ("planning", "implementing")
                    else None
                )
                assessment.not_applicable_reason = (
                    "Not a local power" if stage == "not_applicable" else ""
                )
                assessment.narrative = "Progress this quarter. " * rng.randint(1, 8)
                assessment.next_steps = "Next steps agreed with partners."
            db.session.execute(
                update(Return)
                .where(Return.period_id == period.id)
                .values(status=ReturnStatus.SUBMITTED)
            )
            if label == "2025-26 Q2":
                periods.close_period(period, actor=None, confirm_early=True)
            db.session.commit()
        camden = db.session.scalar(select(Council.gss_code).where(Council.gss_code == "E09000007"))
        return camden, "2025-26 Q3"


def _p95(values: list[float]) -> float:
    """The 95th percentile (the largest of fewer than 20 runs)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(7)  # noqa: S311 (made-up data, repeatable)
    folder = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    app = create_app(
        {
            "SECRET_KEY": "bench-only-secret-key-0123456789abcdef0123456789",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite3'}",
            "REPORT_FOLDER": str(folder / "reports"),
        }
    )
    gss_code, label = seed(app, rng)
    from tracker.reports import charts, data, jobs, render
    from tracker.returns.services import get_return

    def council_pdf() -> bytes:
        council = db.session.scalar(select(Council).where(Council.gss_code == gss_code))
        period = data.get_period_by_label(label)
        report = data.build_council_report(get_return(council, period), include_draft_history=True)
        return render.council_pdf(report, wait=60)

    results = {}
    with app.app_context():
        app.config["REPORT_PDF_CACHE"] = False
        first, content = timed(council_pdf)
        results["council_first_in_process_s"] = round(first, 2)
        cold, cpu = [], []
        for _ in range(args.runs):
            charts.clear_cache()
            started = time.process_time()
            seconds, content = timed(council_pdf)
            cold.append(seconds)
            cpu.append(time.process_time() - started)
        # WeasyPrint's own layout of the same HTML, charts already drawn: the floor a request
        # cannot go below; the issue asks the whole cold request to stay within 1.2× of it.
        council = db.session.scalar(select(Council).where(Council.gss_code == gss_code))
        return_ = get_return(council, data.get_period_by_label(label))
        report = data.build_council_report(return_, include_draft_history=True)
        images = render.ChartImages()
        html = render.council_html(report, chart_src=images)
        layout = [timed(lambda: render._pdf(html, images, 60))[0] for _ in range(args.runs)]
        results["council_weasyprint_layout_s_median"] = round(statistics.median(layout), 2)
        results["council_report_s_p95_nothing_cached"] = round(_p95(cold), 2)
        results["council_cold_over_layout_ratio"] = round(
            statistics.median(cold) / statistics.median(layout), 2
        )
        from tracker.reports import word

        words = []
        for _ in range(args.runs):
            charts.clear_cache()
            seconds, _ = timed(
                lambda: word.build_docx(
                    data.build_council_report(return_, include_draft_history=True)
                )
            )
            words.append(seconds)
        results["council_word_s_median_nothing_cached"] = round(statistics.median(words), 2)
        results["council_word_s_max"] = round(max(words), 2)
        warm = [timed(council_pdf)[0] for _ in range(args.runs)]
        results["council_report_s_median_browser_running_nothing_cached"] = round(
            statistics.median(cold), 2
        )
        results["council_report_s_max_nothing_cached"] = round(max(cold), 2)
        results["council_report_cpu_s_median_nothing_cached"] = round(statistics.median(cpu), 2)
        results["council_report_s_median_charts_cached"] = round(statistics.median(warm), 2)
        app.config["REPORT_PDF_CACHE"] = True
        timed(council_pdf)  # fills the PDF cache
        hits = [timed(council_pdf)[0] for _ in range(args.runs)]
        results["council_report_s_median_pdf_cached"] = round(statistics.median(hits), 3)
        from pypdf import PdfReader

        results["council_report_pages"] = len(PdfReader(io.BytesIO(content)).pages)
        results["council_report_bytes"] = len(content)
        results["load_average_1min"] = round(os.getloadavg()[0], 2)

        london = db.session.scalar(select(Region).where(Region.slug == "london"))
        period = data.get_period_by_label(label)
        from tracker.accounts import services as accounts

        person = accounts.create_user("bench@example.org", "Bench", actor=None)
        db.session.commit()
        packs = []
        for _ in range(max(1, args.runs // 2)):
            charts.clear_cache()
            job = jobs.create_job(london, period, person)
            db.session.commit()
            seconds, _ = timed(lambda j=job.id: jobs.run_job(j))
            db.session.refresh(job)
            assert job.status == "done", job.message
            packs.append(seconds)
        results["london_pack_councils"] = len(
            data.build_region_pack(london, period, viewer=None).shared
        )
        results["london_pack_s_median_cache_empty"] = round(statistics.median(packs), 2)
        results["london_pack_s_max"] = round(max(packs), 2)
    for key, value in results.items():
        print(json.dumps({"figure": key, "value": value}))
    charts.stop()


if __name__ == "__main__":
    main()
