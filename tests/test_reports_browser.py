"""The regional pack page in Chromium: its progress follows the job without a refresh, the page
passes axe while the job runs, and it offers the download once the job is done.

The job is driven by hand through the database (no runner picks it up), so every step is seen.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests import test_accessibility as a11y
from tests.access_matrix import make_member
from tests.returns_data import LEEDS, SLUG, assess_all, open_period, submit
from tests.test_accessibility import describe_violations, run_axe, sign_in_in_browser
from tracker import storage
from tracker.extensions import db
from tracker.models import Period, Region, ReportJob, Role, User
from tracker.reports import jobs

pytestmark = pytest.mark.browser

live_server = a11y.live_server
browser = a11y.browser
axe_source = a11y.axe_source

PACK = f"/regions/yorkshire-and-the-humber/reports/{SLUG}"


def _set(app, job_id: int, **values) -> None:
    with app.app_context():
        job = db.session.get(ReportJob, job_id)
        for name, value in values.items():
            setattr(job, name, value)
        db.session.commit()


def test_pack_progress_updates_in_place_and_the_download_appears(
    app, live_server, browser, axe_source
):
    open_period(app)
    assess_all(app, LEEDS)
    submit(app, LEEDS)
    person = make_member(app, Role.NATIONAL_ADMIN)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == person.email))
        region = db.session.scalar(select(Region).where(Region.slug == "yorkshire-and-the-humber"))
        job = jobs.create_job(region, db.session.scalar(select(Period)), user)
        job.status, job.progress_done, job.progress_total = "running", 1, 3
        job.message = jobs.STEPS[1]
        db.session.commit()
        job_id = job.id
        stored = "pack-browser-test.pdf"
        storage.store().save(f"reports/{stored}", b"%PDF-1.7\n% a stand-in for the test\n")

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda e: problems.append(f"JavaScript error {e}"))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    try:
        sign_in_in_browser(page, live_server, person.email, person.password, person.totp_secret)
        page.goto(live_server + PACK, wait_until="load")
        banner = page.locator("#pack-progress")
        assert banner.inner_text() == "Step 2 of 3: drawing the charts (33% done)"
        problems += describe_violations(PACK, run_axe(page, axe_source))

        _set(app, job_id, progress_done=2, message=jobs.STEPS[2])
        # (a locator, not wait_for_function: the page's CSP forbids evaluating strings)
        expect(banner).to_have_text("Step 3 of 3: laying out the PDF (67% done)", timeout=15_000)
        follow = page.locator("[data-pack-follow]").inner_text()
        assert follow.startswith("This page updates itself")

        with app.app_context():
            from tracker.clock import utcnow

            finished = utcnow()
        _set(app, job_id, status="done", progress_done=3, stored_name=stored, finished_at=finished)
        link = page.get_by_role("link", name="Download the regional pack (PDF)", exact=False)
        link.wait_for(timeout=15_000)
        assert page.locator("#pack-progress").count() == 0
    finally:
        context.close()
    assert not problems, "\n".join(problems)
