""" "Your work" in Chromium, for an editor and a national administrator: axe WCAG 2.2 AA at
1280 and 320 CSS pixels wide, nothing that scrolls sideways at 320, and signing in in the
browser lands on it.

Screenshots go to ``test-artifacts/your-work/`` for a person to look at.
"""

from __future__ import annotations

import pytest

from tests import returns_data
from tests import test_accessibility as a11y
from tests.access_matrix import make_member
from tests.test_accessibility import describe_violations, run_axe, sign_in_in_browser
from tracker.config import PROJECT_ROOT
from tracker.models import Role

pytestmark = pytest.mark.browser

live_server = a11y.live_server
browser = a11y.browser
axe_source = a11y.axe_source

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "your-work"
WIDTHS = (1280, 320)


def _world(app) -> None:
    """Every council with a draft for 2025-26 Q3; Leeds part-way through, Wakefield submitted."""
    returns_data.open_period(app, only=None)
    with app.app_context():
        codes = sorted(
            a.action.code for a in returns_data.get_return(returns_data.LEEDS).assessments
        )
    returns_data.assess(app, returns_data.LEEDS, codes[:20])
    returns_data.assess_all(app, returns_data.WAKEFIELD)
    returns_data.submit(app, returns_data.WAKEFIELD)


@pytest.mark.parametrize("role", ["council_editor", "national_admin"])
def test_your_work_passes_axe_and_fits_a_narrow_screen(app, live_server, browser, axe_source, role):
    _world(app)
    person = make_member(app, Role(role))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    signed_in = browser.new_context()
    page = signed_in.new_page()
    sign_in_in_browser(page, live_server, person.email, person.password, person.totp_secret)
    assert page.url == f"{live_server}/your-work"
    cookies = signed_in.cookies()
    signed_in.close()
    paths = ["/your-work"]
    if role == "national_admin":
        paths.append("/your-work/regions/yorkshire-and-the-humber")
    problems: list[str] = []
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900})
        context.add_cookies(cookies)
        try:
            for path in paths:
                page = context.new_page()
                response = page.goto(live_server + path, wait_until="load")
                assert response is not None and response.status == 200, path
                problems += describe_violations(f"{path} at {width}px", run_axe(page, axe_source))
                overflow = page.evaluate(
                    "document.documentElement.scrollWidth - document.documentElement.clientWidth"
                )
                if overflow > 0:
                    problems.append(f"{path} at {width}px scrolls sideways by {overflow}px")
                name = path.strip("/").replace("/", "_")
                page.screenshot(path=str(ARTIFACTS / f"{role}-{name}-{width}.png"), full_page=True)
                page.close()
        finally:
            context.close()
    assert not problems, "\n".join(problems)
