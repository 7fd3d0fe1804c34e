"""The spreadsheet pages: downloads, who may use them, and upload → preview → confirm."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.access_matrix import council, csrf_token, make_member, signed_in_client
from tests.factories import get_user
from tests.test_spreadsheet_services import (
    HEADINGS,
    TRACKABLE,
    World,
    assess,
    assessment,
    csv_rows,
    edit,
    leeds_return,
    make_csv,
    make_world,
    snapshot_all,
)
from tracker import storage
from tracker.extensions import db
from tracker.models import AuditEvent, Role
from tracker.returns import services
from tracker.returns.services import save_assessment, submit_return
from tracker.returns.spreadsheet import build_csv

BASE = "/councils/E08000035/returns/2025-26-Q3"
IMPORT = f"{BASE}/import"
PREVIEW = f"{IMPORT}/preview"
CONFIRM = f"{IMPORT}/confirm"
CANCEL = f"{IMPORT}/cancel"


@pytest.fixture
def world(app) -> World:
    return make_world(app)


@pytest.fixture
def editor(app, world):
    """An https client signed in as the Leeds editor of the world."""
    from tests.factories import DEFAULT_PASSWORD, MadeUser

    person = MadeUser(world.editor_id, "editor@example.org", DEFAULT_PASSWORD, None)
    return signed_in_client(app, person)


def upload(client, content: bytes, filename: str = "return.csv"):
    return client.post(
        IMPORT,
        data={"csrf_token": csrf_token(client, IMPORT), "file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def upload_raw(client, content: bytes, filename: str = "return.csv"):
    """POST a multipart body built here: for large files, where Werkzeug's test client would
    spool its own copy to a temporary file that it never closes (a ResourceWarning)."""
    boundary = "----tracker-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f"{csrf_token(client, IMPORT)}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; "
            f'name="file"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.post(IMPORT, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def confirm(client, page_html: str):
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page_html, "html.parser")
    form = soup.find("form", action=CONFIRM)
    assert form is not None, "no confirm button on the preview"
    fields = {i["name"]: i.get("value", "") for i in form.find_all("input") if i.get("name")}
    return client.post(CONFIRM, data=fields)


def edited_csv(app, world, **per_code) -> bytes:
    with app.app_context():
        rows = csv_rows(build_csv(leeds_return(world)))
    for code, cells in per_code.items():
        edit(rows, code.replace("_", "."), **cells)
    return make_csv(rows)


def audit_count(app, action: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
        )


# -- downloads ------------------------------------------------------------------------------------


def kept_file(app, key: str) -> bool:
    """Whether the file store (the folder, or the database) holds ``key``."""
    with app.app_context():
        return storage.store().info(key) is not None


def test_an_editor_downloads_the_xlsx_with_its_name_and_an_audit_row(app, world, editor):
    response = editor.get(f"{BASE}/export.xlsx")
    assert response.status_code == 200
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="roadmap-return-E08000035-2025-26-Q3.xlsx"'
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    sheet = load_workbook(io.BytesIO(response.data))["Return"]
    assert sheet.max_row == 1 + TRACKABLE
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "return.export"))
        assert (event.actor_id, event.council_id, event.after["format"]) == (
            world.editor_id,
            world.leeds_id,
            "xlsx",
        )


def test_the_csv_download_is_utf8_with_a_bom(app, world, editor):
    response = editor.get(f"{BASE}/export.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].endswith('-2025-26-Q3.csv"')
    assert response.data.startswith(b"\xef\xbb\xbf")
    assert tuple(csv_rows(response.data)[0]) == HEADINGS
    assert audit_count(app, "return.export") == 1


@pytest.mark.parametrize("role", [Role.COUNCIL_VIEWER, Role.COUNCIL_APPROVER])
def test_readers_of_a_draft_can_download_it(app, world, role):
    client = signed_in_client(app, make_member(app, role))
    assert client.get(f"{BASE}/export.csv").status_code == 200


@pytest.mark.parametrize("role", [Role.PANEL_MEMBER, Role.REGIONAL_MEMBER, Role.NATIONAL_ADMIN])
def test_people_outside_the_council_download_only_submitted_returns(app, world, role):
    client = signed_in_client(app, make_member(app, role))
    assert client.get(f"{BASE}/export.xlsx").status_code == 404
    assert client.get(f"{BASE}/export.csv").status_code == 404
    with app.app_context():
        for a in leeds_return(world).assessments:
            save_assessment(
                a,
                {"stage": "embedded"},
                actor=get_user(world.editor_id),
                expected_version=a.version_id,
            )
        submit_return(leeds_return(world), actor=get_user(world.editor_id))
        db.session.commit()
    assert client.get(f"{BASE}/export.xlsx").status_code == 200
    assert client.get(f"{BASE}/export.csv").status_code == 200


def test_another_councils_people_get_404(app, world):
    cornwall_editor = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR, "other_region"))
    wakefield_viewer = signed_in_client(app, make_member(app, Role.COUNCIL_VIEWER, "same_region"))
    for client in (cornwall_editor, wakefield_viewer):
        for path in (f"{BASE}/export.xlsx", f"{BASE}/export.csv", IMPORT, PREVIEW):
            assert client.get(path).status_code == 404, path
        assert upload(client, b"x").status_code == 404
    assert audit_count(app, "return.export") == 0


def test_unknown_periods_and_malformed_labels_get_404(app, world, editor):
    for label in ("2024-25-Q1", "2025-26 Q3", "2025-27-Q3", "2025-26-Q5", "latest"):
        assert editor.get(f"/councils/E08000035/returns/{label}/export.csv").status_code == 404


def test_exports_are_rate_limited(app, world, editor):
    app.config["EXPORT_RATE_LIMIT"] = 2
    assert editor.get(f"{BASE}/export.csv").status_code == 200
    assert editor.get(f"{BASE}/export.xlsx").status_code == 200
    response = editor.get(f"{BASE}/export.csv")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert audit_count(app, "return.export") == 2


# -- the import journey ---------------------------------------------------------------------------


def test_only_editors_reach_the_import(app, world):
    for role in (
        Role.COUNCIL_VIEWER,
        Role.COUNCIL_APPROVER,
        Role.PANEL_MEMBER,
        Role.REGIONAL_MEMBER,
        Role.NATIONAL_ADMIN,
    ):
        client = signed_in_client(app, make_member(app, role))
        assert client.get(IMPORT).status_code == 404, role
        assert upload(client, b"Action code\n").status_code == 404, role
        token = csrf_token(client)
        assert client.post(CONFIRM, data={"csrf_token": token}).status_code == 404, role


def test_the_upload_page_explains_the_template(app, world, editor, page):
    response = editor.get(IMPORT)
    assert response.status_code == 200
    html = page(response)
    assert html.h1.get_text(strip=True) == "Import a spreadsheet"
    assert html.title.get_text(strip=True).startswith("Import a spreadsheet – 2025-26 Q3 – Leeds")
    text = html.get_text(" ", strip=True)
    assert "Leave Stage blank to keep an action’s stage as it is." in text
    assert "Any other blank cell clears that answer" in text
    links = {a["href"] for a in html.select("main a")}
    assert {f"{BASE}/export.xlsx", f"{BASE}/export.csv"} <= links
    assert html.find("form", enctype="multipart/form-data") is not None


def test_round_trip_through_the_pages(app, world, editor, page):
    with app.app_context():
        before = snapshot_all(world)
    # An unchanged download imports as "no changes", with no button to import.
    unchanged = editor.get(f"{BASE}/export.xlsx").data
    response = upload(editor, unchanged, "return.xlsx")
    assert response.status_code == 303 and response.headers["Location"].endswith(PREVIEW)
    html = page(editor.get(PREVIEW))
    assert html.h1.get_text(strip=True) == "Check the changes before you import them"
    assert "There are no changes in this file" in html.get_text()
    assert html.find("form", action=CONFIRM) is None

    content = edited_csv(
        app,
        world,
        A01_S01={"Stage": "Implementing", "RAG": "Amber", "Narrative": "Started in October"},
        A01_M01={"Stage": "Not applicable locally", "Not applicable reason": "A national action"},
    )
    response = upload(editor, content, "leeds.csv")
    assert response.status_code == 303
    preview = editor.get(PREVIEW)
    html = page(preview)
    captions = [c.get_text(" ", strip=True) for c in html.select("table caption")]
    assert [c.split(" ")[0] for c in captions] == ["A01.S01", "A01.M01"]
    first = html.select("table")[0]
    cells = [
        [td.get_text(strip=True) for td in tr.find_all(["th", "td"])]
        for tr in first.tbody.find_all("tr")
    ]
    assert cells == [
        ["Stage", "(blank)", "Implementing"],
        ["RAG", "(blank)", "Amber"],
        ["Narrative", "(blank)", "Started in October"],
    ]
    assert "2 actions change" in html.get_text(" ", strip=True)
    with app.app_context():
        assert snapshot_all(world) == before, "the preview wrote something"

    with editor.session_transaction() as session:
        kept = f"imports/{session['import']['id']}.upload"
    assert kept_file(app, kept)
    response = confirm(editor, preview.get_data(as_text=True))
    assert response.status_code == 302
    landing = page(editor.get(response.headers["Location"]))
    assert "2 actions updated from leeds.csv" in landing.get_text()
    with app.app_context():
        first = assessment(world, "A01.S01")
        assert (first.stage, first.rag, first.narrative) == (
            "implementing",
            "amber",
            "Started in October",
        )
        other = assessment(world, "A01.M01")
        assert (other.stage, other.not_applicable_reason) == ("not_applicable", "A national action")
    assert audit_count(app, "assessment.update") == 2
    assert audit_count(app, "return.import") == 1
    # The kept file went with the confirmation; the session forgot it.
    assert not kept_file(app, kept)
    assert editor.get(PREVIEW).status_code == 302


def test_rows_with_problems_are_listed_and_nothing_can_be_imported(app, world, editor, page):
    content = edited_csv(
        app,
        world,
        A01_S01={"Stage": "Implementing"},
        A01_S02={"Stage": "Done"},
        A01_S03={"Stage": "Embedded", "Amount (£)": "about 300"},
    )
    content += b"A99.Z99,,,,,Embedded\r\n"
    response = upload(editor, content)
    assert response.status_code == 303
    preview = editor.get(PREVIEW)
    assert preview.status_code == 200
    html = page(preview)
    assert html.title.get_text(strip=True).startswith("Error: Fix the problems in your file")
    summary = [a.get_text(strip=True) for a in html.select(".govuk-error-summary__list a")]
    assert summary == [
        "Row 2: Select a RAG rating: it is needed while the action is in planning or being "
        "implemented",
        "Row 3: Select how far implementation has got",
        "Row 4: Amount must be a whole number of pounds between 0 and 10,000,000,000",
        f"Row {TRACKABLE + 2}: There is no action A99.Z99 in this return: check the action code",
    ]
    problems = [
        [c.get_text(strip=True) for c in tr.find_all(["th", "td"])]
        for tr in html.select("table tbody tr")
    ]
    assert problems[0] == ["Row 2", "RAG", summary[0].split(": ", 1)[1]]
    assert problems[2][:2] == ["Row 4", "Amount (£)"]
    assert html.find("form", action=CONFIRM) is None
    # Posting the confirmation anyway imports nothing.
    with app.app_context():
        before = snapshot_all(world)
    token = csrf_token(editor, IMPORT)
    response = editor.post(CONFIRM, data={"csrf_token": token, "upload_id": "0" * 32})
    assert response.status_code == 302
    with app.app_context():
        assert snapshot_all(world) == before


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("return.txt", b"hello", "The selected file must be an XLSX or CSV file"),
        ("return.csv", b"", "The selected file is empty"),
        ("return.xlsm", b"PK\x03\x04", "The selected file must not contain macros"),
        ("return.csv", b"Action code,Stage\r\nA01.S01,Embedded\r\n", "is missing these columns"),
    ],
)
def test_a_file_that_is_not_the_template_is_refused_on_the_form(
    app, world, editor, page, filename, content, message
):
    response = upload(editor, content, filename)
    assert response.status_code == 422
    html = page(response)
    assert html.title.get_text(strip=True).startswith("Error: ")
    summary = html.select_one(".govuk-error-summary").get_text(" ", strip=True)
    assert message in summary
    assert html.select_one("#file-error") is not None


def test_no_file_chosen(app, world, editor, page):
    response = editor.post(IMPORT, data={"csrf_token": csrf_token(editor, IMPORT)})
    assert response.status_code == 422
    assert "Select a file to import" in page(response).select_one(".govuk-error-summary").get_text()


def test_an_oversize_upload_gets_the_413_page(app, world, editor, page):
    app.config["IMPORT_MAX_BYTES"] = 20_000
    # Over the limit but within the multipart allowance: the view refuses it.
    response = upload(editor, b"Action code\r\n" + b"x" * 30_000)
    assert response.status_code == 413
    assert page(response).h1.get_text(strip=True) == "Sorry, what you sent is too large"
    # Far over: the request body is refused before the form is read.
    response = upload(editor, b"x" * 200_000)
    assert response.status_code == 413
    assert page(response).h1.get_text(strip=True) == "Sorry, what you sent is too large"


def test_the_import_accepts_more_than_the_global_form_limit(app, world, editor):
    # MAX_CONTENT_LENGTH (1 MB) guards every other form; the import allows IMPORT_MAX_BYTES.
    assert app.config["IMPORT_MAX_BYTES"] > app.config["MAX_CONTENT_LENGTH"]
    with app.app_context():
        rows = csv_rows(build_csv(leeds_return(world)))
    for row in rows[1:]:
        row[HEADINGS.index("Next steps")] = "Words. " * 1300  # 9,100 characters: too long
    content = make_csv(rows)
    assert app.config["MAX_CONTENT_LENGTH"] < len(content) < app.config["IMPORT_MAX_BYTES"]
    response = upload_raw(editor, content)
    assert response.status_code == 303
    assert "Next steps must be 5,000 characters or fewer" in editor.get(PREVIEW).get_data(
        as_text=True
    )


def test_a_failure_midway_through_the_confirmation_leaves_no_partial_rows(
    app, world, editor, monkeypatch
):
    content = edited_csv(
        app,
        world,
        **{f"A01_S0{n}": {"Stage": "Embedded", "Narrative": f"Row {n}"} for n in (1, 2, 3)},
    )
    with app.app_context():
        before = snapshot_all(world)
    assert upload(editor, content).status_code == 303
    preview = editor.get(PREVIEW)
    real = services.save_assessment
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("injected failure on the second save")
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "save_assessment", failing)
    response = confirm(editor, preview.get_data(as_text=True))
    assert response.status_code == 500
    assert calls["n"] == 2
    with app.app_context():
        assert snapshot_all(world) == before
    assert audit_count(app, "assessment.update") == 0
    assert audit_count(app, "return.import") == 0


def test_a_refused_save_midway_rolls_back_and_says_so(app, world, editor, monkeypatch, page):
    content = edited_csv(
        app,
        world,
        **{f"A01_S0{n}": {"Stage": "Embedded", "Narrative": f"Row {n}"} for n in (1, 2, 3)},
    )
    with app.app_context():
        before = snapshot_all(world)
    assert upload(editor, content).status_code == 303
    preview = editor.get(PREVIEW)
    real = services.save_assessment
    calls = {"n": 0}

    def refusing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise services.ReturnError(
                "This return has been submitted: only a draft can be changed"
            )
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "save_assessment", refusing)
    response = confirm(editor, preview.get_data(as_text=True))
    assert response.status_code == 302
    banner = page(editor.get(response.headers["Location"])).select_one(".govuk-notification-banner")
    assert "Nothing was imported: This return has been submitted" in banner.get_text()
    with app.app_context():
        assert snapshot_all(world) == before


def test_someone_elses_save_after_the_preview_stops_the_import(app, world, editor, page):
    content = edited_csv(app, world, A01_S01={"Stage": "Embedded"})
    assert upload(editor, content).status_code == 303
    preview = editor.get(PREVIEW)
    with app.app_context():
        assess(world, "A01.S02", stage="planning", rag="red", narrative="Saved by a colleague")
        db.session.commit()
        before = snapshot_all(world)
    # The preview, looked at again, says so and offers no button.
    again = page(editor.get(PREVIEW))
    assert "Someone has saved A01.S02 since you uploaded the file" in again.get_text()
    assert again.find("form", action=CONFIRM) is None
    # The button from the first look imports nothing.
    response = confirm(editor, preview.get_data(as_text=True))
    assert response.status_code == 302
    banner = page(editor.get(response.headers["Location"])).select_one(".govuk-notification-banner")
    assert "Nothing was imported: someone changed A01.S02 after you checked the file" in (
        banner.get_text()
    )
    with app.app_context():
        assert snapshot_all(world) == before


def test_a_confirmation_needs_the_same_person_and_file(app, world, editor):
    content = edited_csv(app, world, A01_S01={"Stage": "Embedded"})
    assert upload(editor, content).status_code == 303
    preview = editor.get(PREVIEW).get_data(as_text=True)
    # A second editor of Leeds, without the first one's session, cannot confirm it.
    colleague = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    upload_id = re.search(r'name="upload_id" type="hidden" value="([0-9a-f]+)"', preview)[1]
    response = colleague.post(
        CONFIRM, data={"csrf_token": csrf_token(colleague), "upload_id": upload_id}
    )
    assert response.status_code == 302
    # Nor can the file be swapped in the store between the preview and the confirmation.
    with app.app_context():
        store = storage.store()
        for item in store.list("imports/"):
            if item.key.endswith(".upload") and store.read(item.key) == content:
                store.save(item.key, content.replace(b"Embedded", b"Planning"))
    response = confirm(editor, preview)
    assert response.status_code == 302
    with app.app_context():
        assert assessment(world, "A01.S01").stage is None


def test_cancelling_forgets_the_file(app, world, editor):
    content = edited_csv(app, world, A01_S01={"Stage": "Embedded"})
    assert upload(editor, content).status_code == 303
    session_id = None
    with editor.session_transaction() as session:
        session_id = session["import"]["id"]
        assert set(session["import"]) == {"id", "sha256", "return_id", "user_id", "expires"}
    assert kept_file(app, f"imports/{session_id}.upload")
    response = editor.post(CANCEL, data={"csrf_token": csrf_token(editor, IMPORT)})
    assert response.status_code == 302
    assert not kept_file(app, f"imports/{session_id}.upload")
    with editor.session_transaction() as session:
        assert "import" not in session


def test_a_submitted_return_cannot_be_imported_into(app, world, editor, page):
    with app.app_context():
        for a in leeds_return(world).assessments:
            save_assessment(
                a,
                {"stage": "embedded"},
                actor=get_user(world.editor_id),
                expected_version=a.version_id,
            )
        submit_return(leeds_return(world), actor=get_user(world.editor_id))
        db.session.commit()
    html = page(editor.get(IMPORT))
    assert "You cannot import into this return. This return has been submitted" in html.get_text()
    assert html.find("form", enctype="multipart/form-data") is None
    content = edited_csv(app, world, A01_S01={"Narrative": "Late change"})
    assert upload(editor, content).status_code == 422
    with app.app_context():
        assert assessment(world, "A01.S01").narrative == ""


def test_the_other_councils_return_is_never_touched(app, world, editor):
    content = edited_csv(app, world, A01_S01={"Stage": "Embedded"})
    with app.app_context():
        cornwall = council("other_region").id
        from tracker.models import Assessment, Return

        def cornwall_stages():
            return db.session.scalars(
                select(Assessment.stage).join(Return).where(Return.council_id == cornwall)
            ).all()

        before = cornwall_stages()
    assert upload(editor, content).status_code == 303
    confirm(editor, editor.get(PREVIEW).get_data(as_text=True))
    with app.app_context():
        assert cornwall_stages() == before
