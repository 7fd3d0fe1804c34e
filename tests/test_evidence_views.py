"""Evidence pages: adding links and files, choosing and removing, the library and downloads."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.access_matrix import csrf_token, make_member, signed_in_client
from tests.factories import DEFAULT_PASSWORD, MadeUser, get_user
from tests.helpers import stored_evidence
from tests.test_evidence_services import (
    CORNWALL,
    LEEDS,
    MB,
    URL_PERIOD,
    World,
    assessment_of,
    council_by_code,
    make_world,
    ooxml,
    pdf,
    png,
)
from tracker import storage
from tracker.extensions import db
from tracker.models import (
    AuditEvent,
    Evidence,
    ReturnStatus,
    Role,
    assessment_evidence,
)
from tracker.returns import evidence as services

BASE = f"/councils/{LEEDS}/returns"
LIBRARY = f"{BASE}/evidence"


@pytest.fixture
def evidence_dir(app, tmp_path):
    folder = tmp_path / "evidence"
    app.config["EVIDENCE_DIR"] = str(folder)
    return folder


@pytest.fixture
def world(app, evidence_dir) -> World:
    return make_world(app)


@pytest.fixture
def editor(app, world):
    """An https client signed in as the Leeds editor of the world."""
    person = MadeUser(world.editor_id, "editor@example.org", DEFAULT_PASSWORD, None)
    return signed_in_client(app, person)


def page_of(world: World, code: str | None = None) -> str:
    return f"{BASE}/{URL_PERIOD}/actions/{code or world.action_codes[0]}/evidence"


def form_data(**values) -> dict:
    data = {
        "title": "Carers strategy",
        "evidence_type": "strategy",
        "dated_on": ["1", "4", "2025"],
        "url": "https://www.leeds.gov.uk/carers",
    }
    data.update(values)
    return {k: v for k, v in data.items() if v is not None}


def upload(client, world: World, content: bytes, filename: str = "paper.pdf", **values):
    """POST the upload form with a file. The body is encoded in memory: the test client's own
    encoder spools large bodies to a temporary file that nothing closes."""
    path = page_of(world) + "/upload"
    data = form_data(url=None, **values)
    data["file"] = FileStorage(stream=io.BytesIO(content), filename=filename)
    data["csrf_token"] = csrf_token(client, path)
    boundary, body = encode_multipart(data)
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def add_stored_file(app, world: World, code: str = LEEDS, *, published: bool = False) -> int:
    """A PDF in the council's evidence, added through the service; its id."""
    with app.app_context():
        item = services.add_file_evidence(
            council_by_code(code),
            "Évaluation report",
            "data",
            date(2025, 9, 30),
            FileStorage(stream=io.BytesIO(pdf()), filename="Évaluation report.pdf"),
            actor=get_user(world.editor_id),
            is_published_to_panel=published,
        )
        db.session.commit()
        return item.id


def download(client, url: str):
    """GET a download and close it (a sent file stays open until its response is closed)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def error_summary(page) -> list[str]:
    summary = page.select_one(".govuk-error-summary")
    return [a.get_text(strip=True) for a in summary.select("a")] if summary else []


# -- the evidence of one action ------------------------------------------------------------------


def test_the_page_shows_the_action_and_offers_editors_ways_to_add(app, world, editor, page):
    response = editor.get(page_of(world))
    assert response.status_code == 200
    html = page(response)
    assert html.h1.get_text(strip=True) == f"Evidence for action {world.action_codes[0]}"
    assert "No evidence supports this action yet." in html.get_text()
    buttons = [a.get_text(strip=True) for a in html.select("a.govuk-button")]
    assert buttons == ["Add a link", "Upload a file"]
    assert html.title.get_text().startswith(f"Evidence for {world.action_codes[0]} – 2025-26 Q3")


def test_adding_a_link_links_it_to_the_action(app, world, editor, page):
    path = page_of(world) + "/add-link"
    response = editor.post(
        path, data={"csrf_token": csrf_token(editor, path), **form_data()}, follow_redirects=True
    )
    assert response.status_code == 200
    html = page(response)
    assert "“Carers strategy” is added to this action’s evidence" in html.get_text()
    link = html.select_one("table a[href^='https://']")
    assert link["href"] == "https://www.leeds.gov.uk/carers"
    assert link["rel"] == ["noreferrer", "noopener"]
    with app.app_context():
        item = db.session.scalar(select(Evidence))
        assert [a.action.code for a in item.assessments] == [world.action_codes[0]]
        actions = set(db.session.scalars(select(AuditEvent.action)))
        assert {"evidence.create", "evidence.link"} <= actions


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {"title": "", "evidence_type": None, "dated_on": ["", "", ""], "url": ""},
            [
                "Enter a title",
                "Select the type of evidence",
                "Enter the date of the evidence",
                "Enter a link",
            ],
        ),
        ({"url": "javascript:alert(1)"}, ["Enter a link that starts with https://"]),
        ({"url": "http://example.org"}, ["Enter a link that starts with https://"]),
        ({"dated_on": ["31", "2", "2025"]}, ["Enter a real date"]),
        (
            {"dated_on": ["1", "1", "2999"]},
            ["The date of the evidence must be today or in the past"],
        ),
        ({"evidence_type": "gossip"}, ["Select the type of evidence"]),
        ({"title": "x" * 201}, ["Title must be 200 characters or fewer"]),
    ],
)
def test_link_errors_are_shown_in_govuk_words(app, world, editor, page, values, expected):
    path = page_of(world) + "/add-link"
    response = editor.post(
        path, data={"csrf_token": csrf_token(editor, path), **form_data(**values)}
    )
    assert response.status_code == 422
    html = page(response)
    assert error_summary(html) == expected
    assert html.title.get_text().startswith("Error: ")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Evidence)) == 0


def test_uploading_a_file(app, world, editor, page, evidence_dir):
    response = upload(editor, world, pdf(), "Board paper.pdf", title="Board paper")
    assert response.status_code == 303
    html = page(editor.get(response.headers["Location"]))
    assert "“Board paper” is uploaded and added to this action" in html.get_text()
    cells = [td.get_text(" ", strip=True) for td in html.select("tbody tr td")]
    assert cells[:4] == [
        "Board paper",
        "Strategy or plan",
        "1 April 2025",
        f"PDF, {len(pdf())} bytes",
    ]
    with app.app_context():
        item = db.session.scalar(select(Evidence))
        assert (item.original_name, item.content_type) == ("Board paper.pdf", "application/pdf")
        assert list(stored_evidence(app)) == [item.stored_name]


def test_a_file_larger_than_the_global_form_limit_is_accepted(app, world, editor):
    # The app refuses bodies over 1 MB; the upload form raises its own limit.
    assert app.config["MAX_CONTENT_LENGTH"] == MB
    big = pdf() + b"%" * (3 * MB // 2)
    assert upload(editor, world, big).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Evidence.size_bytes)) == len(big)


def test_an_oversize_upload_gets_the_413_page(app, world, editor, page):
    app.config["EVIDENCE_MAX_BYTES"] = 2 * MB
    response = upload(editor, world, pdf() + b"%" * (3 * MB))
    assert response.status_code == 413
    assert page(response).h1.get_text(strip=True) == "Sorry, what you sent is too large"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Evidence)) == 0


def test_a_file_just_over_the_limit_is_refused_on_the_form(app, world, editor, page):
    # Inside the multipart allowance, so the body is read; the service then counts the file.
    app.config["EVIDENCE_MAX_BYTES"] = MB
    response = upload(editor, world, pdf() + b"%" * MB)
    assert response.status_code == 422
    assert error_summary(page(response)) == ["The selected file must be smaller than 1 MB"]


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        (
            "paper.pdf",
            b"<html><script>alert(1)</script></html>",
            "The selected file must not contain web page, SVG or XML code",
        ),
        (
            "paper.pdf",
            png(),
            "The selected file is not a real PDF: its contents do not match its name",
        ),
        ("paper.pdf", b"", "The selected file is empty"),
        (
            "chart.svg",
            b"<svg/>",
            "The selected file must be a PDF, DOCX, XLSX, PPTX, ODT, ODS, CSV, PNG or JPG",
        ),
        (
            "paper.docx",
            ooxml("docx", [("../../x", b"x")]),
            "The selected file has a part whose name points outside it",
        ),
    ],
)
def test_refused_files_are_explained_on_the_form(
    app, world, editor, page, evidence_dir, filename, content, message
):
    response = upload(editor, world, content, filename)
    assert response.status_code == 422
    html = page(response)
    assert error_summary(html) == [message]
    assert html.select_one("#file-error").get_text(strip=True).endswith(message)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Evidence)) == 0
    assert stored_evidence(app) == {}


def test_no_file_chosen(app, world, editor, page):
    path = page_of(world) + "/upload"
    response = editor.post(
        path,
        data={"csrf_token": csrf_token(editor, path), **form_data(url=None)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert error_summary(page(response)) == ["Select a file"]


def test_the_upload_needs_a_csrf_token(app, world, editor):
    path = page_of(world) + "/upload"
    data = {**form_data(url=None), "file": FileStorage(io.BytesIO(pdf()), "paper.pdf")}
    boundary, body = encode_multipart(data)
    response = editor.post(
        path, data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 400


def test_choosing_evidence_the_council_already_has(app, world, editor, page):
    first, second = world.action_codes
    item_id = add_stored_file(app, world)
    with app.app_context():
        services.link_evidence(
            assessment_of(LEEDS, first),
            db.session.get(Evidence, item_id),
            actor=get_user(world.editor_id),
        )
        db.session.commit()
    html = page(editor.get(page_of(world, second)))
    assert "Choose from the council’s evidence" in [
        a.get_text(strip=True) for a in html.select("a.govuk-button")
    ]
    path = page_of(world, second) + "/choose"
    form = page(editor.get(path))
    assert [i["value"] for i in form.select("input[name=evidence]")] == [str(item_id)]
    response = editor.post(
        path, data={"csrf_token": csrf_token(editor, path), "evidence": [str(item_id)]}
    )
    assert response.status_code == 303
    with app.app_context():
        codes = {a.action.code for a in db.session.get(Evidence, item_id).assessments}
        assert codes == {first, second}


def test_choosing_nothing_or_something_not_offered_is_refused(app, world, editor, page):
    add_stored_file(app, world)
    other_council_item = add_stored_file(app, world, CORNWALL)
    path = page_of(world) + "/choose"
    for chosen in ([], [str(other_council_item)], ["nonsense"]):
        response = editor.post(
            path, data={"csrf_token": csrf_token(editor, path), "evidence": chosen}
        )
        assert response.status_code == 422
        assert error_summary(page(response)) == ["Select the evidence that supports this action"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(assessment_evidence)) == 0


def test_removing_evidence_from_an_action_keeps_it_in_the_library(app, world, editor, page):
    item_id = add_stored_file(app, world)
    code = world.action_codes[0]
    with app.app_context():
        services.link_evidence(
            assessment_of(LEEDS, code),
            db.session.get(Evidence, item_id),
            actor=get_user(world.editor_id),
        )
        db.session.commit()
    path = f"{page_of(world)}/{item_id}/remove"
    response = editor.post(
        path, data={"csrf_token": csrf_token(editor, page_of(world))}, follow_redirects=True
    )
    assert "no longer supports this action" in page(response).get_text()
    with app.app_context():
        assert db.session.get(Evidence, item_id).assessments == []
        assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == (
            "evidence.unlink"
        )
    assert editor.get(path).status_code == 405


def test_a_submitted_return_shows_its_evidence_but_offers_no_changes(app, world, editor, page):
    with app.app_context():
        assessment_of(LEEDS, world.action_codes[0]).return_.status = ReturnStatus.SUBMITTED
        db.session.commit()
    html = page(editor.get(page_of(world)))
    assert not html.select("a.govuk-button")
    assert "This return has been submitted" in html.select_one(".govuk-inset-text").get_text()
    path = page_of(world) + "/add-link"
    response = editor.post(path, data={"csrf_token": csrf_token(editor, path), **form_data()})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Evidence)) == 0


@pytest.mark.parametrize(
    "suffix",
    [
        f"/{URL_PERIOD}/actions/Z99.X99/evidence",  # no such action
        "/2024-25-Q1/actions/{code}/evidence",  # no such period
        "/2025-26 Q3/actions/{code}/evidence",  # not the URL form
        "/2025-27-Q3/actions/{code}/evidence",  # not a financial year
    ],
)
def test_unknown_periods_and_actions_are_404(app, world, editor, suffix):
    assert editor.get(BASE + suffix.format(code=world.action_codes[0])).status_code == 404


def test_another_councils_pages_are_404(app, world, editor):
    code = world.action_codes[0]
    cornwall = f"/councils/{CORNWALL}/returns/{URL_PERIOD}/actions/{code}/evidence"
    assert editor.get(cornwall).status_code == 404
    assert editor.get(cornwall + "/upload").status_code == 404
    assert editor.get(f"/councils/{CORNWALL}/returns/evidence").status_code == 404


def test_an_editor_cannot_remove_another_councils_evidence_through_their_own_url(
    app, world, editor
):
    cornwall_item = add_stored_file(app, world, CORNWALL)
    path = f"{page_of(world)}/{cornwall_item}/remove"
    response = editor.post(path, data={"csrf_token": csrf_token(editor, page_of(world))})
    assert response.status_code == 404


def test_approvers_read_but_do_not_change(app, world, page):
    approver = signed_in_client(app, make_member(app, Role.COUNCIL_APPROVER))
    html = page(approver.get(page_of(world)))
    assert html.h1 and not html.select("a.govuk-button")
    assert approver.get(page_of(world) + "/add-link").status_code == 404
    assert approver.get(page_of(world) + "/upload").status_code == 404


# -- the library ----------------------------------------------------------------------------------


def test_the_library_lists_each_item_with_the_actions_it_supports(app, world, editor, page):
    item_id = add_stored_file(app, world, published=True)
    code = world.action_codes[0]
    with app.app_context():
        services.link_evidence(
            assessment_of(LEEDS, code),
            db.session.get(Evidence, item_id),
            actor=get_user(world.editor_id),
        )
        db.session.commit()
    html = page(editor.get(LIBRARY))
    assert html.h1.get_text(strip=True) == "Evidence"
    row = [td.get_text(" ", strip=True) for td in html.select("tbody tr td")]
    assert row == [
        "Évaluation report",
        "Data or dashboard 30 September 2025",
        f"PDF, {len(pdf())} bytes",
        "Not categorised",
        f"{code}, 2025-26 Q3",
        "Yes",
        "Change the details of Évaluation report",
    ]
    assert html.select_one("tbody a")["href"] == f"{LIBRARY}/{item_id}/download"
    assert html.select("tbody ul a")[0]["href"] == page_of(world)
    assert f"Files use {len(pdf())} bytes of the council’s 2 GB for evidence." in html.get_text()


# -- downloads ------------------------------------------------------------------------------------


def test_a_download_is_an_attachment_that_runs_nothing(app, world, editor):
    item_id = add_stored_file(app, world)
    response = download(editor, f"{LIBRARY}/{item_id}/download")
    assert response.status_code == 200
    assert response.data == pdf()
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="Evaluation report.pdf"; '
        "filename*=UTF-8''%C3%89valuation%20report.pdf"
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    policy = response.headers["Content-Security-Policy"]
    assert policy.startswith("default-src 'self'; object-src 'none';")
    assert policy.endswith("; sandbox")
    assert response.headers.getlist("Content-Security-Policy") == [policy]


def test_pages_keep_the_usual_policy_without_sandbox(app, world, editor):
    policy = editor.get(LIBRARY).headers["Content-Security-Policy"]
    assert "sandbox" not in policy


def test_a_link_has_no_download(app, world, editor):
    with app.app_context():
        item = services.add_link_evidence(
            council_by_code(LEEDS),
            "Strategy",
            "strategy",
            None,
            "https://example.org",
            actor=get_user(world.editor_id),
        )
        db.session.commit()
        item_id = item.id
    assert download(editor, f"{LIBRARY}/{item_id}/download").status_code == 404


def test_another_councils_evidence_is_404_through_either_url(app, world, editor):
    cornwall_item = add_stored_file(app, world, CORNWALL)
    assert download(editor, f"{LIBRARY}/{cornwall_item}/download").status_code == 404
    cornwall_url = f"/councils/{CORNWALL}/returns/evidence/{cornwall_item}/download"
    assert download(editor, cornwall_url).status_code == 404
    assert download(editor, f"{LIBRARY}/999999/download").status_code == 404


def test_a_missing_file_is_404(app, world, editor):
    item_id = add_stored_file(app, world)
    with app.app_context():
        storage.store().delete(services.stored_key(db.session.get(Evidence, item_id)))
    assert download(editor, f"{LIBRARY}/{item_id}/download").status_code == 404


@pytest.mark.parametrize(
    ("role", "relation", "status"),
    [
        (Role.COUNCIL_EDITOR, "own", 200),
        (Role.COUNCIL_APPROVER, "own", 200),
        (Role.COUNCIL_VIEWER, "own", 200),
        (Role.REGIONAL_MEMBER, "own", 404),
        (Role.NATIONAL_ADMIN, "own", 404),
        (Role.REGIONAL_MEMBER, "other_region", 404),
        (Role.COUNCIL_EDITOR, "same_region", 404),
        (Role.COUNCIL_VIEWER, "other_region", 404),
    ],
)
def test_who_may_download(app, world, role, relation, status):
    item_id = add_stored_file(app, world)
    client = signed_in_client(app, make_member(app, role, relation))
    assert download(client, f"{LIBRARY}/{item_id}/download").status_code == status


@pytest.mark.parametrize("role", [Role.REGIONAL_MEMBER, Role.NATIONAL_ADMIN])
def test_evidence_leaves_the_council_only_with_a_submitted_return(app, world, role):
    item_id = add_stored_file(app, world)
    client = signed_in_client(app, make_member(app, role))
    url = f"{LIBRARY}/{item_id}/download"
    assert download(client, url).status_code == 404
    code = world.action_codes[0]
    with app.app_context():
        item = db.session.get(Evidence, item_id)
        services.link_evidence(assessment_of(LEEDS, code), item, actor=get_user(world.editor_id))
        db.session.commit()
    # Linked to a draft's assessment: still the council's own.
    assert download(client, url).status_code == 404
    with app.app_context():
        assessment_of(LEEDS, code).return_.status = ReturnStatus.SUBMITTED
        db.session.commit()
    assert download(client, url).status_code == 200
    # The library holds every item, drafts' included: never outside the council.
    assert client.get(LIBRARY).status_code == 404


def test_panel_members_download_only_what_is_shown_to_the_panel(app, world):
    hidden = add_stored_file(app, world)
    shown = add_stored_file(app, world, published=True)
    panel = signed_in_client(app, make_member(app, Role.PANEL_MEMBER))
    assert download(panel, f"{LIBRARY}/{hidden}/download").status_code == 404
    assert download(panel, f"{LIBRARY}/{shown}/download").status_code == 200
    # Panel members do not browse the council's evidence or its drafts' evidence pages.
    assert panel.get(LIBRARY).status_code == 404
    assert panel.get(page_of(world)).status_code == 404
    other_panel = signed_in_client(app, make_member(app, Role.PANEL_MEMBER, "same_region"))
    assert download(other_panel, f"{LIBRARY}/{shown}/download").status_code == 404


def test_signed_out_people_are_sent_to_sign_in(app, world, client):
    item_id = add_stored_file(app, world)
    response = download(client, f"{LIBRARY}/{item_id}/download")
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]
