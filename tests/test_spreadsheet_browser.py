"""The import journey in Chromium as a council editor: the upload page, a preview with problems,
a preview with changes, and the confirmation; axe finds no WCAG 2.2 AA violation on any of them.

Set ``SPREADSHEET_SCREENSHOTS`` to a folder to keep a full-page screenshot of each page.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests import test_accessibility as a11y
from tests.test_spreadsheet_services import (
    assessment,
    csv_rows,
    edit,
    leeds_return,
    make_csv,
    make_world,
)
from tracker.extensions import db
from tracker.returns.spreadsheet import build_csv

pytestmark = pytest.mark.browser

# The fixtures of the accessibility checks: the app served on 127.0.0.1, Debian's Chromium, axe.
live_server = a11y.live_server
browser = a11y.browser
axe_source = a11y.axe_source

IMPORT = "/councils/E08000035/returns/2025-26-Q3/import"


def _check(page: Any, axe: str, name: str, problems: list[str], *, full_page: bool = True) -> None:
    headings = [text.strip() for text in page.locator("h1").all_inner_texts()]
    if len(headings) != 1:
        problems.append(f"{name}: expected one h1, got {headings}")
    problems.extend(a11y.describe_violations(name, a11y.run_axe(page, axe)))
    folder = os.environ.get("SPREADSHEET_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=full_page)


def _upload(page: Any, base: str, content: bytes, name: str) -> None:
    page.goto(f"{base}{IMPORT}")
    page.set_input_files(
        "input[type=file]", files=[{"name": name, "mimeType": "text/csv", "buffer": content}]
    )
    page.locator("main form button", has_text="Upload and check the file").click()
    page.wait_for_load_state("load")


def test_an_editor_imports_a_spreadsheet_in_the_browser(app, live_server, browser, axe_source):
    world = make_world(app)
    with app.app_context():
        rows = csv_rows(build_csv(leeds_return(world)))
    bad = [list(row) for row in rows]
    edit(bad, "A01.S01", Stage="Implementing")
    edit(bad, "A01.S02", Stage="Finished")
    edit(bad, "A01.S03", Stage="Embedded", **{"Amount (£)": "about £300"})
    good = [list(row) for row in rows]
    edit(good, "A01.S01", Stage="Implementing", RAG="Amber", Narrative="Started in October")
    edit(good, "A01.S02", Stage="Embedded", Barriers="Workforce; Funding")

    context = browser.new_context()
    problems: list[str] = []
    try:
        page = context.new_page()
        page.goto(f"{live_server}/auth/sign-in")
        page.fill("input[name=email]", "editor@example.org")
        from tests.factories import DEFAULT_PASSWORD

        page.fill("input[name=password]", DEFAULT_PASSWORD)
        page.locator("main form button", has_text="Sign in").click()
        page.wait_for_load_state("load")

        page.goto(f"{live_server}{IMPORT}")
        _check(page, axe_source, "import-form", problems)

        _upload(page, live_server, make_csv(bad), "leeds-with-problems.csv")
        assert page.url.endswith("/import/preview")
        assert "Fix the problems in your file" in page.locator("h1").inner_text()
        assert page.locator(".govuk-error-summary__list li").count() == 3
        _check(page, axe_source, "import-preview-errors", problems)

        _upload(page, live_server, make_csv([["Action code", "Stage"]]), "short.csv")
        assert page.locator(".govuk-error-summary").count() == 1
        _check(page, axe_source, "import-form-error", problems)

        _upload(page, live_server, make_csv(good), "leeds.csv")
        assert "Check the changes" in page.locator("h1").inner_text()
        _check(page, axe_source, "import-preview-changes", problems)
        page.locator("main form button", has_text="Import the changes to 2 actions").click()
        page.wait_for_load_state("load")
        assert (
            "2 actions updated from leeds.csv"
            in page.locator(".govuk-notification-banner").inner_text()
        )
        _check(page, axe_source, "import-done", problems, full_page=False)
    finally:
        context.close()

    assert not problems, "\n".join(problems)
    with app.app_context():
        first = assessment(world, "A01.S01")
        assert (first.stage, first.rag, first.narrative) == (
            "implementing",
            "amber",
            "Started in October",
        )
        assert assessment(world, "A01.S02").barriers == ["funding", "workforce"]
        db.session.rollback()
