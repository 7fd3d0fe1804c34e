"""The report pages: previews, downloads (audited), who may read what, the pack's background job."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.access_matrix import council, make_member, signed_in_client
from tests.helpers import count_pdf_renders, sent_mail
from tests.returns_data import LEEDS, SLUG, WAKEFIELD, assess_all, open_period, submit
from tracker import storage
from tracker.extensions import db
from tracker.models import AuditEvent, ReportJob, Role
from tracker.reports import jobs, pdf

REPORT = f"/councils/{LEEDS}/reports/{SLUG}"
PACK = f"/regions/yorkshire-and-the-humber/reports/{SLUG}"


def client_for(app, role: Role):
    return signed_in_client(app, make_member(app, role))


def test_viewer_previews_a_draft_board_report_with_one_h1(app, page):
    open_period(app)
    response = client_for(app, Role.COUNCIL_VIEWER).get(REPORT)
    assert response.status_code == 200
    html = page(response)
    assert len(html.find_all("h1")) == 1
    assert html.h1.get_text(strip=True) == "Quarterly board paper: October to December 2025"
    assert (
        html.title.get_text(strip=True)
        == "Board paper: October to December 2025 – Leeds – Roadmap Tracker"
    )
    assert "Draft: this return has not been signed off" in html.get_text()
    assert html.find("a", href=f"{REPORT}/board-report.pdf")


def test_editor_downloads_the_pdf_and_the_download_is_audited(app):
    open_period(app)
    response = client_for(app, Role.COUNCIL_EDITOR).get(f"{REPORT}/board-report.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert "attachment" in response.headers["Content-Disposition"]
    with app.app_context():
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "report.council_pdf")
        )
        assert event is not None and event.council_id == council(LEEDS).id


def test_xlsx_export_has_the_reports_sheets(app):
    import io

    from openpyxl import load_workbook

    open_period(app)
    assess_all(app, LEEDS)
    response = client_for(app, Role.COUNCIL_APPROVER).get(f"{REPORT}/board-report.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Summary by area", "Exceptions", "Actions", "Co-production"]
    assert book["Actions"].max_row == 141
    with app.app_context():
        assert db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "report.council_xlsx")
        )


@pytest.mark.parametrize("role", [Role.REGIONAL_MEMBER, Role.NATIONAL_ADMIN])
def test_region_and_nation_read_the_report_only_once_submitted(app, role):
    open_period(app)
    client = client_for(app, role)
    assert client.get(REPORT).status_code == 404
    assert client.get(f"{REPORT}/board-report.pdf").status_code == 404
    assess_all(app, LEEDS)
    submit(app, LEEDS)
    assert client.get(REPORT).status_code == 200


def test_panel_members_never_get_the_board_report(app):
    open_period(app)
    assess_all(app, LEEDS)
    submit(app, LEEDS)
    assert client_for(app, Role.PANEL_MEMBER).get(REPORT).status_code == 404


def test_a_busy_renderer_answers_503_with_retry_after(app, monkeypatch):
    open_period(app)
    client = client_for(app, Role.COUNCIL_VIEWER)

    def busy(*args, **kwargs):
        raise pdf.RendererBusy("busy")

    monkeypatch.setattr(pdf, "html_to_pdf", busy)
    response = client.get(f"{REPORT}/board-report.pdf")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"


def test_chart_images_are_svg(app):
    open_period(app)
    response = client_for(app, Role.COUNCIL_VIEWER).get(f"{REPORT}/chart.svg?chart=stage-mix")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.data.startswith(b"<svg")
    assert (
        client_for(app, Role.COUNCIL_VIEWER).get(f"{REPORT}/chart.svg?chart=nope").status_code
        == 404
    )


def test_a_chart_opened_on_its_own_keeps_the_policy_that_lets_its_styles_apply(app, quick_reports):
    open_period(app)
    response = client_for(app, Role.COUNCIL_VIEWER).get(f"{REPORT}/chart.svg?chart=stage-mix")
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "style-src 'unsafe-inline'" in policy
    assert policy.startswith("default-src 'none'")


def test_regional_pack_job_shows_progress_and_its_pdf_downloads(app, page):
    open_period(app)
    assess_all(app, LEEDS)
    submit(app, LEEDS)
    client = client_for(app, Role.REGIONAL_MEMBER)
    first = page(client.get(PACK))
    assert first.h1.get_text(strip=True) == "Regional comparison pack: 2025-26 Q3"
    assert client.get(f"{PACK}/pack.pdf").status_code == 302  # nothing generated yet
    token = first.find("input", {"name": "csrf_token"})["value"]
    response = client.post(f"{PACK}/pack", data={"csrf_token": token})
    assert response.status_code == 303
    jobs.wait_for_jobs(app)
    with app.app_context():
        job = db.session.scalar(select(ReportJob))
        assert job.status == "done" and job.progress_done == job.progress_total > 0
    after = page(client.get(PACK))
    assert after.find("a", href=f"{PACK}/pack.pdf")
    download = client.get(f"{PACK}/pack.pdf")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "report.region_pdf"))


def _admin_with_running_job(app, **values):
    """A national administrator's client, and a pack job of theirs left running with ``values``
    (no runner picks it up)."""
    open_period(app)
    client = client_for(app, Role.NATIONAL_ADMIN)
    with app.app_context():
        from tracker.models import Period, User

        admin = db.session.scalar(select(User).order_by(User.id.desc()))
        period = db.session.scalar(select(Period))
        job = jobs.create_job(council(LEEDS).region, period, admin)
        job.status = "running"
        for name, value in values.items():
            setattr(job, name, value)
        db.session.commit()
    return client


def test_a_running_job_shows_its_progress_after_a_refresh(app, page):
    client = _admin_with_running_job(app, progress_done=1, message=jobs.STEPS[1])
    html = page(client.get(PACK))
    banner = " ".join(html.find(attrs={"data-pack-status-url": True}).get_text().split())
    # The step count is fixed from the start (3 steps), and says what is happening now.
    assert "Step 2 of 3: drawing the charts (33% done)" in banner
    # Without JavaScript the page does not refresh itself, and says so; the script (which
    # does follow the job) replaces those words.
    assert "Refresh this page to see how far it has got." in banner
    assert "Drew chart" not in banner
    assert html.find("form") is None or not html.find("button", string="Generate the PDF pack")
    # The page follows the job without a refresh: its script asks the status URL.
    assert html.find("script", src="/static/js/pack-progress.js")
    box = html.find(attrs={"data-pack-status-url": True})
    assert box["data-pack-status-url"] == f"{PACK}/pack/status"
    status = client.get(f"{PACK}/pack/status")
    assert status.status_code == 200 and status.headers["Cache-Control"] == "no-store"
    assert status.get_json() == {
        "status": "running",
        "finished": False,
        "done": 1,
        "total": 3,
        "percent": 33,
        "message": "Drawing the charts",
    }
    script = (Path(app.static_folder) / "js" / "pack-progress.js").read_text()
    assert "Refresh to see progress" not in script and "This page updates itself" in script


def test_a_new_job_counts_the_same_steps_from_the_start(app):
    client = _admin_with_running_job(app)
    status = client.get(f"{PACK}/pack/status").get_json()
    assert (status["done"], status["total"]) == (0, len(jobs.STEPS))

    # Another person's job is theirs alone; a council's own staff do not reach the pack at all.
    other = client_for(app, Role.REGIONAL_MEMBER).get(f"{PACK}/pack/status")
    assert other.get_json() == {"status": "none", "finished": True}
    assert client_for(app, Role.COUNCIL_EDITOR).get(f"{PACK}/pack/status").status_code == 404


def test_a_job_lost_with_its_process_is_failed_and_can_be_started_again(app, page):
    from tracker.clock import utcnow

    client = _admin_with_running_job(app, created_at=utcnow() - jobs.STALE_AFTER * 2)
    assert client.get(f"{PACK}/pack/status").get_json()["status"] == "failed"
    html = page(client.get(PACK))
    assert jobs.INTERRUPTED in html.get_text()
    assert html.find("button", string=lambda text: text and "Generate the PDF pack" in text)
    assert not html.find("script", src="/static/js/pack-progress.js")


def test_downloads_past_the_rate_limit_get_429(app):
    open_period(app)
    app.config["REPORT_RATE_LIMIT"] = 1
    client = client_for(app, Role.COUNCIL_VIEWER)
    assert client.get(f"{REPORT}/board-report.xlsx").status_code == 200
    response = client.get(f"{REPORT}/board-report.xlsx")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0


def cached(app, suffix: str) -> list[bytes]:
    """The files of the report cache (in the folder, or the database) whose keys end so."""
    with app.app_context():
        store = storage.store()
        return [
            store.read(item.key)
            for item in store.list("reports/cache/")
            if item.key.endswith(suffix)
        ]


def test_signing_off_lays_out_the_board_report_ahead_of_its_first_download(
    app, monkeypatch, tmp_path
):
    from tests.access_matrix import post

    app.config.update(REPORT_PDF_CACHE=True, REPORT_FOLDER=str(tmp_path / "reports"))
    calls = count_pdf_renders(monkeypatch)
    open_period(app)
    assess_all(app, LEEDS)
    submit(app, LEEDS)
    approver = client_for(app, Role.COUNCIL_APPROVER)
    response = post(approver, f"/councils/{LEEDS}/returns/{SLUG}/sign-off")
    assert response.status_code == 302
    jobs.wait_for_jobs(app)
    assert len(calls) == 1
    kept = cached(app, ".pdf")
    assert len(kept) == 1
    # The first download is the prepared file: nothing is laid out again.
    download = approver.get(f"{REPORT}/board-report.pdf")
    assert download.status_code == 200 and download.data == kept[0]
    assert len(calls) == 1


def test_a_draft_is_never_prepared_in_the_background(app):
    app.config["REPORT_PDF_CACHE"] = True
    open_period(app)
    with app.app_context():
        from tests.returns_data import get_return

        assert jobs.enqueue_council_report(get_return(LEEDS)) is None


def _slow_renders(monkeypatch, seconds: float) -> None:
    """Make every PDF layout take ``seconds`` longer (after count_pdf_renders: still counted)."""
    real = pdf.html_to_pdf

    def slow(*args, **kwargs):
        time.sleep(seconds)
        return real(*args, **kwargs)

    monkeypatch.setattr(pdf, "html_to_pdf", slow)


def test_a_download_during_the_preparation_waits_for_it_and_renders_once(
    app, monkeypatch, tmp_path
):
    from tests.access_matrix import post

    app.config.update(REPORT_PDF_CACHE=True, REPORT_FOLDER=str(tmp_path / "reports"))
    calls = count_pdf_renders(monkeypatch)
    _slow_renders(monkeypatch, 1.5)
    open_period(app)
    assess_all(app, LEEDS)
    submit(app, LEEDS)
    approver = client_for(app, Role.COUNCIL_APPROVER)
    assert post(approver, f"/councils/{LEEDS}/returns/{SLUG}/sign-off").status_code == 302
    # The preparation is marked in the file store (where every node and worker sees it) from
    # the moment it is queued; the download comes while it is still laying the report out.
    assert cached(app, ".preparing")
    download = approver.get(f"{REPORT}/board-report.pdf")
    jobs.wait_for_jobs(app)
    assert download.status_code == 200
    assert len(calls) == 1  # laid out once, by the preparation
    kept = cached(app, ".pdf")
    assert len(kept) == 1 and download.data == kept[0]
    assert not cached(app, ".preparing")


def test_a_preparation_that_never_ends_delays_a_download_only_so_long(app, monkeypatch, tmp_path):
    app.config.update(
        REPORT_PDF_CACHE=True, REPORT_FOLDER=str(tmp_path / "reports"), REPORT_PREPARE_WAIT=0.5
    )
    calls = count_pdf_renders(monkeypatch)
    open_period(app)
    assess_all(app, LEEDS)
    submit(app, LEEDS)
    with app.app_context():
        from tests.returns_data import get_return

        jobs._mark_preparing(get_return(LEEDS).id)  # as if another worker's job had stalled
    started = time.monotonic()
    download = client_for(app, Role.COUNCIL_APPROVER).get(f"{REPORT}/board-report.pdf")
    assert download.status_code == 200
    assert time.monotonic() - started >= 0.5
    assert len(calls) == 1  # it gave up waiting and laid the report out itself


def test_the_pack_page_opens_on_the_latest_quarter_with_enough_returns_to_show(app, page):
    from tests.returns_data import PREVIOUS_LABEL, close_period

    bradford = "E08000032"
    three = (LEEDS, WAKEFIELD, bradford)
    open_period(app, PREVIOUS_LABEL, only=three)
    for gss_code in three:
        assess_all(app, gss_code, label=PREVIOUS_LABEL)
        submit(app, gss_code, PREVIOUS_LABEL)
    close_period(app, PREVIOUS_LABEL)
    open_period(app, only=three)
    assess_all(app, LEEDS)
    submit(app, LEEDS)  # one council in 2025-26 Q3: too few for the regional figures
    client = client_for(app, Role.REGIONAL_MEMBER)
    html = page(client.get("/regions/yorkshire-and-the-humber/reports"))
    assert html.h1.get_text(strip=True) == "Regional comparison pack: 2025-26 Q2"
    # A quarter asked for by name is still the one shown.
    assert page(client.get(PACK)).h1.get_text(strip=True) == "Regional comparison pack: 2025-26 Q3"
    for gss_code in (WAKEFIELD, bradford):
        assess_all(app, gss_code)
        submit(app, gss_code)
    html = page(client.get("/regions/yorkshire-and-the-humber/reports"))
    assert html.h1.get_text(strip=True) == "Regional comparison pack: 2025-26 Q3"


def test_with_redis_down_the_work_a_change_asks_for_is_done_on_this_node(app):
    """Work asked for after a change is committed (the approvers' email, the report laid out
    ahead, a pack) cannot be queued while Redis refuses connections: the change stands, nobody
    sees an error page, and the work is done in the node's own process instead of being lost."""
    from tests.access_matrix import post
    from tests.returns_data import get_return
    from tracker import background

    open_period(app)
    assess_all(app, LEEDS)
    editor = client_for(app, Role.COUNCIL_EDITOR)
    approver = client_for(app, Role.COUNCIL_APPROVER)
    regional = client_for(app, Role.REGIONAL_MEMBER)
    app.config.update(REDIS_URL="redis://127.0.0.1:1/0", REPORT_PDF_CACHE=True)  # nobody there
    mailed = len(sent_mail(app))
    assert post(editor, f"/councils/{LEEDS}/returns/{SLUG}/submit").status_code == 302
    # The approvers' email went at once, from this node.
    assert any("ready for sign-off" in m["Subject"] for m in sent_mail(app)[mailed:])
    assert post(approver, f"/councils/{LEEDS}/returns/{SLUG}/sign-off").status_code == 302
    started = post(regional, f"{PACK}/pack")
    assert started.status_code == 303
    background.wait_for_jobs(app)
    with app.app_context():
        assert get_return(LEEDS).status == "signed_off"
        store = storage.store()
        cached = [i.key for i in store.list("reports/cache/")]
        # Laid out ahead on this node: the PDF is kept and nobody waits on a marker.
        assert [k for k in cached if k.endswith(".pdf")] and not [
            k for k in cached if k.endswith(".preparing")
        ]
        job = db.session.scalar(select(ReportJob).order_by(ReportJob.id.desc()))
        assert job.status == "done", job.message
    page = regional.get(started.headers["Location"])
    assert page.status_code == 200 and jobs.NOT_STARTED not in page.get_data(as_text=True)
