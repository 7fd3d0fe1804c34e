"""The open-data page with downloads listed, in a real browser: WCAG 2.2 AA by axe-core, and no
sideways scrolling on a 320-pixel screen (the anonymous crawl of tests/test_accessibility.py
checks it only before any quarter is closed, when it has no table).

Debian's Chromium is driven through the fixtures of tests/test_accessibility.py.
"""

from __future__ import annotations

import pytest

from tests import test_accessibility as a11y
from tests.test_accessibility import describe_violations, reflow_problems, run_axe
from tests.test_open_data import make_world

pytestmark = pytest.mark.browser

live_server = a11y.live_server
browser = a11y.browser
axe_source = a11y.axe_source


def test_the_open_data_page_with_its_downloads_passes_axe_and_fits_320_pixels(
    app, live_server, browser, axe_source
):
    make_world(app)
    context = browser.new_context(viewport=a11y.DESKTOP)
    try:
        page = context.new_page()
        url = f"{live_server}/open-data"
        response = page.goto(url)
        assert response is not None and response.status == 200
        assert page.locator("table tbody tr").count() == 1
        problems = describe_violations(url, run_axe(page, axe_source))
        problems += reflow_problems(page, url)
        assert not problems, "\n".join(problems)
    finally:
        context.close()
