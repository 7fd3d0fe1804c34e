"""The dashboard pages in Chromium: axe WCAG 2.2 AA with the charts drawn, one h1 without
JavaScript, plotly served by us (no other host), and no JavaScript or CSP error.

Screenshots go to ``test-artifacts/compare/`` for a person to look at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests import test_accessibility as a11y
from tests.access_matrix import make_member
from tests.helpers import require_tool
from tests.returns_data import PREVIOUS_LABEL, assess, assess_all, close_period, open_period
from tests.test_accessibility import HOST, describe_violations, run_axe, sign_in_in_browser
from tests.test_compare_services import (
    BRADFORD,
    COUNCILS,
    IMPLEMENTING_AMBER,
    KIRKLEES,
    LEEDS,
    PLANNING_RED,
    WAKEFIELD,
    YORK,
    first_codes,
    submitted_quarter,
)
from tracker.config import PROJECT_ROOT
from tracker.models import Role

pytestmark = pytest.mark.browser

# The fixtures of the accessibility checks: the app served on 127.0.0.1, Debian's Chromium, axe.
live_server = a11y.live_server
browser = a11y.browser
axe_source = a11y.axe_source

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "compare"
PLOTLY = PROJECT_ROOT / "static" / "vendor" / "plotly.min.js"


def _world(app) -> None:
    """Two quarters: Leeds signed off last quarter and has a draft now; four others submitted."""
    open_period(app, PREVIOUS_LABEL, only=COUNCILS)
    for code in (LEEDS, WAKEFIELD, KIRKLEES, BRADFORD, YORK):
        assess_all(app, code, {"stage": "planning", "rag": "green"}, label=PREVIOUS_LABEL)
    from tests.returns_data import sign_off, submit

    for code in (LEEDS, WAKEFIELD, KIRKLEES, BRADFORD, YORK):
        submit(app, code, PREVIOUS_LABEL)
        sign_off(app, code, PREVIOUS_LABEL)
    close_period(app, PREVIOUS_LABEL)
    submitted_quarter(
        app,
        {
            WAKEFIELD: IMPLEMENTING_AMBER,
            KIRKLEES: {"stage": "embedded"},
            BRADFORD: PLANNING_RED,
            YORK: IMPLEMENTING_AMBER,
        },
    )
    assess_all(app, LEEDS, {**IMPLEMENTING_AMBER, "spend_types": "TC", "amount_pounds": 25_000})
    with app.app_context():
        codes = first_codes(6)
    assess(app, LEEDS, codes, PLANNING_RED)


def _visit(context: Any, base: str, path: str, check_axe: str | None) -> tuple[Any, list[str]]:
    problems: list[str] = []
    page = context.new_page()
    page.on(
        "request",
        lambda r: (
            problems.append(f"{path}: request to another host {r.url}")
            if urlsplit(r.url).hostname not in (HOST, None) and r.url.startswith("http")
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(f"{path}: JavaScript error {e}"))
    page.on(
        "console",
        lambda m: (
            problems.append(f"{path}: console {m.type}: {m.text}") if m.type == "error" else None
        ),
    )
    page.on(
        "response",
        lambda r: problems.append(f"{path}: {r.status} for {r.url}") if r.status >= 400 else None,
    )
    response = page.goto(base + path, wait_until="load")
    assert response is not None
    if response.status != 200:
        problems.append(f"{path}: answered {response.status}")
    headings = [t.strip() for t in page.locator("h1").all_inner_texts()]
    if len(headings) != 1:
        problems.append(f"{path}: expected one h1, got {headings}")
    if check_axe is not None:
        page.wait_for_timeout(300)
        problems += describe_violations(path, run_axe(page, check_axe))
    return page, problems


@pytest.mark.parametrize("role", ["council_approver", "national_admin"])
def test_dashboards_pass_axe_with_charts_and_work_without_javascript(
    app, live_server, browser, axe_source, role
):
    require_tool("static/vendor/plotly.min.js", PLOTLY.exists(), "`make assets` copies it")
    _world(app)
    person = make_member(app, Role(role))
    if role == "council_approver":
        paths = [f"/councils/{LEEDS}/dashboard", f"/councils/{LEEDS}/sharing"]
    else:
        paths = [
            "/national",
            "/regions/yorkshire-and-the-humber/compare",
            f"/regions/yorkshire-and-the-humber/compare?council={WAKEFIELD}&sort=all",
            f"/councils/{WAKEFIELD}/dashboard",
        ]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    signed_in = browser.new_context()
    sign_in_in_browser(
        signed_in.new_page(), live_server, person.email, person.password, person.totp_secret
    )
    cookies = signed_in.cookies()
    signed_in.close()
    for javascript in (True, False):
        context = browser.new_context(
            java_script_enabled=javascript, viewport={"width": 1280, "height": 900}
        )
        context.add_cookies(cookies)
        try:
            for path in paths:
                page, found = _visit(context, live_server, path, axe_source if javascript else None)
                problems += found
                charts_here = page.locator("[data-chart-figure]").count()
                drawn = page.locator("[data-chart-figure] svg.main-svg").count()
                if javascript and charts_here and not drawn:
                    problems.append(f"{path}: no chart was drawn")
                name = path.strip("/").replace("/", "_").replace("?", "_")[:80]
                page.screenshot(
                    path=str(ARTIFACTS / f"{role}-{name}-{'js' if javascript else 'nojs'}.png"),
                    full_page=True,
                )
                page.close()
        finally:
            context.close()
    assert not problems, "\n".join(problems)


def test_plotly_is_served_by_us():
    require_tool("static/vendor/plotly.min.js", PLOTLY.exists(), "`make assets` copies it")
    assert Path(PLOTLY).stat().st_size > 1_000_000
