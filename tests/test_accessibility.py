"""Browser checks of every page: WCAG 2.2 AA by axe-core, usable without JavaScript, nothing fetched
from another host.

The real app is served by werkzeug on 127.0.0.1 against a test database with the roadmap and the
councils loaded, and Debian's Chromium (``/usr/bin/chromium``) is driven headless by Playwright.
Playwright's own browsers are never downloaded. The crawl starts at every GET route without URL
parameters and follows same-origin links, so a new page is checked as soon as something links to it.
It keeps a few URLs per endpoint (a handful of the 153 council pages, say) and a few query-string
variants per path. axe-core comes from ``node_modules`` (``npm ci`` installs it).

Outside CI a missing Chromium or axe-core skips these tests; under CI (``CI=true``) it fails them.
"""

from __future__ import annotations

import os
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import pytest
from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect
from werkzeug.serving import WSGIRequestHandler, make_server

from tracker.config import PROJECT_ROOT
from tracker.permissions import public

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}
HOST = "127.0.0.1"

MAX_PAGES = 400
#: the icon every page links to (base.html)
FAVICON = "/static/images/favicon.svg"
#: distinct URLs kept per endpoint: pages of one endpoint share a template
MAX_PER_ENDPOINT = 8
#: distinct query strings kept per path (filters, sorting, paging)
MAX_QUERY_VARIANTS = 4
#: files, not pages: left to their own tests
DOWNLOAD_SUFFIXES = {".pdf", ".csv", ".xlsx", ".xls", ".docx", ".odt", ".ods", ".zip", ".json"}
#: files, not pages, whatever their URLs end with: left to their own tests
DOWNLOAD_ENDPOINTS = {"returns.download_evidence"}


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def _require(path: Path, what: str) -> None:
    if path.exists():
        return
    message = f"{what} not found at {path}; `make test` installs it"
    if _in_ci():
        pytest.fail(message)
    pytest.skip(message)


# -- the app and the browser ------------------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # one line per request would bury the test's own output


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served on a free port of 127.0.0.1 from a background thread; yields its base URL."""
    server = make_server(HOST, 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def browser() -> Iterator[Any]:
    _require(CHROMIUM, "Chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def axe_source() -> str:
    _require(AXE, "axe-core")
    # Evaluated through the DevTools protocol, which the page's CSP does not govern, so the
    # pages are checked with their real CSP in force. The trailing expression keeps Playwright
    # from trying to serialise whatever the script's last statement evaluates to.
    return AXE.read_text(encoding="utf-8") + "\n;true"


def run_axe(page: Any, axe_source: str) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.2 AA violations on the page now loaded."""
    page.evaluate(axe_source)
    result = page.evaluate("async (options) => await axe.run(document, options)", AXE_OPTIONS)
    return result["violations"]


def describe_violations(url: str, violations: list[dict[str, Any]]) -> list[str]:
    lines = []
    for violation in violations:
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
        lines.append(
            f"{url}: axe {violation['id']} ({violation.get('impact')}): {violation['help']}\n"
            + "".join(f"      at {target}\n" for target in targets[:10])
            + (f"      … and {len(targets) - 10} more\n" if len(targets) > 10 else "")
        )
    return lines


# -- the crawl --------------------------------------------------------------------------------


#: GET routes without URL parameters that are not pages to start from, and why
NOT_START_ENDPOINTS = {
    "static": "files, not pages",
    # The QR code exists only for someone part-way through setting up an authenticator app;
    # the set-up page links to it, so it is checked from there when it exists.
    "auth.two_factor_qr": "an image for the set-up page alone",
}


def start_paths(app: Flask) -> list[str]:
    """Every GET route that needs no URL parameters (less NOT_START_ENDPOINTS)."""
    return sorted(
        {
            rule.rule
            for rule in app.url_map.iter_rules()
            if "GET" in (rule.methods or ())
            and not rule.arguments
            and rule.endpoint not in NOT_START_ENDPOINTS
        }
    )


@dataclass
class Crawl:
    """A breadth-first queue of same-origin page URLs, bounded and deduplicated."""

    app: Flask
    base: str
    #: more places to start from: pages with URL parameters that nothing public links to
    extra_paths: tuple[str, ...] = ()
    max_per_endpoint: int = MAX_PER_ENDPOINT
    #: when given, only URLs of endpoints it accepts are visited
    wanted: Callable[[str], bool] | None = None
    queue: deque[str] = field(default_factory=deque)
    queued: set[str] = field(default_factory=set)
    per_endpoint: Counter[str] = field(default_factory=Counter)
    queries: dict[str, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.adapter = self.app.url_map.bind(urlsplit(self.base).netloc)
        for path in [*start_paths(self.app), *self.extra_paths]:
            self.add(path)

    def _endpoint(self, path: str) -> str:
        try:
            endpoint, _ = self.adapter.match(path, method="GET")
        except RequestRedirect:
            return f"redirect {path}"
        except HTTPException:
            return f"unrouted {path}"  # a broken link: visited once, reported by its status
        return str(endpoint)

    def add(self, href: str) -> None:
        parts = urlsplit(urljoin(self.base + "/", href))
        if parts.scheme not in {"http", "https"} or parts.netloc != urlsplit(self.base).netloc:
            return
        path = parts.path or "/"
        if path.startswith("/static/") or PurePosixPath(path).suffix.lower() in DOWNLOAD_SUFFIXES:
            return
        url = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
        if url in self.queued:
            return
        if parts.query:
            variants = self.queries.setdefault(path, set())
            if len(variants) >= MAX_QUERY_VARIANTS:
                return
            variants.add(parts.query)
        endpoint = self._endpoint(path)
        if endpoint in DOWNLOAD_ENDPOINTS:
            return
        if self.wanted is not None and not self.wanted(endpoint):
            return
        if self.per_endpoint[endpoint] >= self.max_per_endpoint:
            return
        self.per_endpoint[endpoint] += 1
        self.queued.add(url)
        self.queue.append(url)


@dataclass
class Visit:
    url: str
    status: int | None
    is_html: bool


def crawl(
    app: Flask,
    base: str,
    context: Any,
    check: Callable[[Any, Visit], list[str]],
    *,
    extra_paths: tuple[str, ...] = (),
    max_per_endpoint: int = MAX_PER_ENDPOINT,
    wanted: Callable[[str], bool] | None = None,
) -> tuple[list[Visit], list[str]]:
    """Visit every page the crawl finds in ``context``; returns the visits and every problem.

    Problems found on any page: a request to another host, a sub-resource that failed or answered
    4xx/5xx, a JavaScript error, a page that did not answer 200, and whatever ``check`` reports.
    """
    problems: list[str] = []
    page = context.new_page()
    current = {"url": ""}

    def on_request(request: Any) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in {"http", "https", "ws", "wss"} and parts.hostname != HOST:
            problems.append(f"{current['url']}: request to another host: {request.url}")

    def on_response(response: Any) -> None:
        if response.status >= 400 and response.url != current["url"]:
            problems.append(f"{current['url']}: {response.status} for {response.url}")

    def on_request_failed(request: Any) -> None:
        # Chromium fetches a page's icon after "load", and cancels the fetch when the crawl
        # moves to the next page before it arrives: not a failure of ours (a missing icon still
        # shows as a 404).
        if request.failure == "net::ERR_ABORTED" and urlsplit(request.url).path == FAVICON:
            return
        problems.append(f"{current['url']}: request failed ({request.failure}): {request.url}")

    def on_console(message: Any) -> None:
        source = message.location.get("url") or "the page"
        # Chromium asks for /favicon.ico by itself when a response is not HTML (/healthz, say):
        # no page of ours links to it.
        if message.type == "error" and urlsplit(source).path != "/favicon.ico":
            problems.append(f"{current['url']}: console error from {source}: {message.text}")

    def on_page_error(error: Any) -> None:
        problems.append(f"{current['url']}: JavaScript error: {error}")

    page.on("request", on_request)
    page.on("response", on_response)
    page.on("requestfailed", on_request_failed)
    page.on("console", on_console)
    page.on("pageerror", on_page_error)

    queue = Crawl(
        app, base, extra_paths=extra_paths, max_per_endpoint=max_per_endpoint, wanted=wanted
    )
    visits: list[Visit] = []
    while queue.queue and len(visits) < MAX_PAGES:
        url = queue.queue.popleft()
        current["url"] = url
        response = page.goto(url, wait_until="load")
        status = response.status if response else None
        content_type = response.headers.get("content-type", "") if response else ""
        visit = Visit(url, status, content_type.startswith("text/html"))
        visits.append(visit)
        if status != 200:
            problems.append(f"{url}: answered {status}, expected 200")
        if not visit.is_html:
            continue
        problems.extend(check(page, visit))
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            queue.add(href)
    page.close()
    return visits, problems


# -- the tests --------------------------------------------------------------------------------


def _team_invitation_link(app: Flask) -> str:
    """The path of an invitation to Leeds's team for someone with no account: the page where
    they choose a password to join."""
    from tests.access_matrix import council, make_person
    from tracker.extensions import db
    from tracker.models import Role
    from tracker.team.services import invite_to_team

    with app.app_context():
        leeds = council(SIGNED_IN_COUNCILS[0])
        dass = make_person("dass@example.org", Role.COUNCIL_APPROVER, council=leeds, name="D")
        sent = invite_to_team(leeds, "new@example.org", "Nia New", Role.PANEL_MEMBER, actor=dass)
        db.session.commit()
        return f"/auth/team-invitation/{sent.token}"


def test_every_page_passes_axe_wcag_22_aa(app, live_server, browser, axe_source):
    context = browser.new_context()
    invitation = _team_invitation_link(app)

    def check(page: Any, visit: Visit) -> list[str]:
        return describe_violations(visit.url, run_axe(page, axe_source))

    try:
        visits, problems = crawl(app, live_server, context, check, extra_paths=(invitation,))
    finally:
        context.close()
    assert invitation in {urlsplit(v.url).path for v in visits}

    html_pages = [v for v in visits if v.is_html]
    assert html_pages, "the crawl found no HTML page"
    print(f"axe checked {len(html_pages)} pages ({len(visits)} URLs visited)")
    assert not problems, f"{len(problems)} problems on {len(html_pages)} pages:\n" + "\n".join(
        problems
    )


def test_every_page_works_without_javascript(app, live_server, browser):
    context = browser.new_context(java_script_enabled=False)

    def check(page: Any, visit: Visit) -> list[str]:
        headings = [text.strip() for text in page.locator("h1").all_inner_texts()]
        if len(headings) != 1 or not headings[0]:
            return [f"{visit.url}: without JavaScript, expected one h1 with text, got {headings}"]
        return []

    try:
        visits, problems = crawl(app, live_server, context, check)
    finally:
        context.close()

    html_pages = [v for v in visits if v.is_html]
    assert html_pages, "the crawl found no HTML page"
    assert not problems, f"{len(problems)} problems on {len(html_pages)} pages:\n" + "\n".join(
        problems
    )


def test_axe_harness_reports_a_known_violation(app, live_server, browser, axe_source):
    # Guards the harness itself: axe must load under our CSP and find an image without a text
    # alternative, otherwise a green crawl above would prove nothing.
    @app.get("/test-only/image-without-alt")
    @public
    def image_without_alt() -> str:
        return (
            '<!doctype html><html lang="en"><head><title>Test</title></head><body><main>'
            '<h1>Test</h1><img src="/static/images/favicon.svg"></main></body></html>'
        )

    context = browser.new_context()
    try:
        page = context.new_page()
        response = page.goto(f"{live_server}/test-only/image-without-alt")
        assert response and response.status == 200
        assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]
        violations = run_axe(page, axe_source)
    finally:
        context.close()

    assert [v["id"] for v in violations] == ["image-alt"]
    assert describe_violations("/x", violations)[0].startswith("/x: axe image-alt (critical)")


# -- signed in: the pages a national administrator and a council approver see ------------------

#: pages kept per endpoint when signed in
SIGNED_IN_MAX_PER_ENDPOINT = 2
#: public pages visited again signed in, for the signed-in header; the rest were crawled above
SIGNED_IN_PUBLIC_ENDPOINTS = frozenset({"pages.index", "councils.index"})
#: the approver's council (Leeds) and another in another region for the administrator
SIGNED_IN_COUNCILS = ("E08000035", "E06000052")


def _people_to_manage(app: Flask, person: Any = None) -> None:
    """A few people with roles, so that people lists, team pages and the audit trail have rows;
    with ``person`` (who manages Leeds's team), an invitation they sent that waits for an answer,
    and one to them from Cornwall's approver (their account page links to it)."""
    from tests.access_matrix import council, make_person
    from tracker.extensions import db
    from tracker.models import Role, User
    from tracker.team.services import invite_to_team

    with app.app_context():
        leeds, cornwall = (council(code) for code in SIGNED_IN_COUNCILS)
        make_person("editor@example.org", Role.COUNCIL_EDITOR, council=leeds, name="Eddie Editor")
        make_person("viewer@example.org", Role.COUNCIL_VIEWER, council=leeds, name="Vi Viewer")
        make_person("panel@example.org", Role.PANEL_MEMBER, council=leeds, name="Pat")
        make_person("kernow@example.org", Role.COUNCIL_EDITOR, council=cornwall, name="Kerenza")
        make_person("region@example.org", Role.REGIONAL_MEMBER, council=leeds, name="Reg Ional")
        if person is not None:
            cornish = make_person(
                "dass@example.org", Role.COUNCIL_APPROVER, council=cornwall, name="Kitto"
            )
            invite_to_team(
                leeds,
                "invited@example.org",
                "Ivy Invited",
                Role.COUNCIL_VIEWER,
                actor=db.session.get(User, person.id),
            )
            invite_to_team(cornwall, person.email, "You", Role.COUNCIL_VIEWER, actor=cornish)
        db.session.commit()


def _periods_and_evidence(app: Flask) -> str:
    """An open period (2025-26 Q3) and an upcoming one, so that the period pages have rows and
    links to open and close; Leeds's evidence, a link and a file, supporting its first action.
    Returns the path of that action's evidence page."""
    import io
    from datetime import date

    from sqlalchemy import select
    from werkzeug.datastructures import FileStorage

    from tests.access_matrix import council, make_person
    from tracker.extensions import db
    from tracker.models import Action, Period
    from tracker.returns import evidence
    from tracker.returns.periods import create_period, open_period

    with app.app_context():
        period = db.session.scalar(select(Period).where(Period.label == "2025-26 Q3"))
        if period is None:
            period = create_period("2025-26 Q3", date(2026, 1, 31), actor=None)
        if period.status == "upcoming":
            open_period(period, actor=None)
        if db.session.scalar(select(Period).where(Period.label == "2025-26 Q4")) is None:
            create_period("2025-26 Q4", date(2026, 4, 30), actor=None)
        code = db.session.scalar(
            select(Action.code)
            .where(Action.parent_id.is_(None), Action.archived_at.is_(None))
            .order_by(Action.code)
        )
        leeds = council("E08000035")
        keeper = make_person("evidence-keeper@example.org", name="Kit Keeper")
        assessment = evidence.get_assessment(leeds, "2025-26-Q3", code)
        for item in (
            evidence.add_link_evidence(
                leeds,
                "Carers strategy 2025 to 2030",
                "strategy",
                date(2025, 4, 1),
                "https://www.example.org/carers-strategy",
                actor=keeper,
            ),
            evidence.add_file_evidence(
                leeds,
                "Board paper: progress on the roadmap",
                "board_paper",
                date(2025, 11, 12),
                FileStorage(io.BytesIO(b"%PDF-1.7\n%%EOF\n"), filename="board paper.pdf"),
                actor=keeper,
            ),
        ):
            evidence.link_evidence(assessment, item, actor=keeper)
        db.session.commit()
    return f"/councils/E08000035/returns/2025-26-Q3/actions/{code}/evidence"


def _a_submitted_return(app: Flask) -> None:
    """Leeds's 2025-26 Q3 return (opened above) assessed and submitted, so that the approver's
    crawl reaches its overview, actions, history, and the sign-off and send-back pages."""
    from tests.returns_data import LEEDS, assess_all, submit

    assess_all(app, LEEDS, {"stage": "implementing", "rag": "amber", "narrative": "Under way"})
    submit(app, LEEDS)


def sign_in_in_browser(page: Any, base: str, email: str, password: str, totp_secret: str) -> None:
    """Sign in through the real pages in Chromium: password, then a code from the app."""
    import pyotp

    page.goto(f"{base}/auth/sign-in")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.locator("main form button", has_text="Sign in").click()
    page.wait_for_url("**/auth/two-factor**")
    page.fill("input[name=code]", pyotp.TOTP(totp_secret).now())
    page.locator("main form button", has_text="Continue").click()
    page.wait_for_load_state("load")
    assert "/auth/" not in page.url, f"still signing in at {page.url}"


@pytest.mark.parametrize("role", ["national_admin", "council_approver"])
def test_signed_in_pages_pass_axe_and_work_without_javascript(
    app, live_server, browser, axe_source, role
):
    from tests.access_matrix import make_member
    from tracker.models import Role
    from tracker.permissions import rule_for

    person = make_member(app, Role(role))
    _people_to_manage(app, person)
    evidence_page = _periods_and_evidence(app)
    _a_submitted_return(app)
    codes = SIGNED_IN_COUNCILS if role == "national_admin" else SIGNED_IN_COUNCILS[:1]
    extra_paths = tuple(f"/councils/{code}/team/" for code in codes)
    extra_paths += tuple(f"/councils/{code}/team/add" for code in codes)
    if role == "council_approver":
        # A council's evidence library is its own (a national administrator gets 404).
        extra_paths += tuple(f"/councils/{code}/returns/evidence" for code in codes)
    # The library links to every item's page; without it (an administrator) start there.
    extra_paths += (evidence_page,)
    extra_paths += tuple(f"/councils/{code}/returns/" for code in codes)
    if role == "national_admin":
        # The regional pack's page (reports, issue 7): for regions and the nation only.
        extra_paths += ("/regions/yorkshire-and-the-humber/reports/2025-26-Q3",)

    def wanted(endpoint: str) -> bool:
        """Pages this person may see that the anonymous crawl could not, and a public page or
        two; links to anything they may not see are still followed (and fail: a 404)."""
        view = app.view_functions.get(endpoint)
        rule = rule_for(view) if view else None
        if rule is None:
            return True  # a broken link or redirect: visited, and reported by its status
        if rule.kind == "public":
            return endpoint in SIGNED_IN_PUBLIC_ENDPOINTS
        return rule.kind != "national_admin" or role == "national_admin"

    context = browser.new_context()

    def check(page: Any, visit: Visit) -> list[str]:
        problems = describe_violations(visit.url, run_axe(page, axe_source))
        headings = [text.strip() for text in page.locator("h1").all_inner_texts()]
        if len(headings) != 1 or not headings[0]:
            problems.append(f"{visit.url}: expected one h1 with text, got {headings}")
        return problems

    try:
        sign_in_in_browser(
            context.new_page(), live_server, person.email, person.password, person.totp_secret
        )
        visits, problems = crawl(
            app,
            live_server,
            context,
            check,
            extra_paths=extra_paths,
            max_per_endpoint=SIGNED_IN_MAX_PER_ENDPOINT,
            wanted=wanted,
        )
    finally:
        context.close()

    paths = {urlsplit(v.url).path for v in visits if v.is_html}
    expected = {"/account", "/councils/E08000035/team/", "/councils/E08000035/team/add"}
    expected |= {evidence_page}
    expected |= {"/councils/E08000035/returns/", "/councils/E08000035/returns/2025-26-Q3"}
    expected |= {"/councils/E08000035/reports/2025-26-Q3"}  # the board report's preview
    assert any("/returns/history/" in p for p in paths), "no action history checked"
    assert any(p.startswith("/account/invitations/") for p in paths), "no invitation checked"
    assert any(
        p.startswith("/councils/E08000035/returns/2025-26-Q3/actions/") and p.count("/") == 6
        for p in paths
    ), "no assessment page checked"
    if role == "council_approver":
        expected |= {
            "/councils/E08000035/returns/evidence",
            "/councils/E08000035/returns/2025-26-Q3/sign-off",
            "/councils/E08000035/returns/2025-26-Q3/send-back",
        }
        expected |= {"/councils/E08000035/dashboard", "/councils/E08000035/sharing"}  # issue 5
    if role == "national_admin":
        expected |= {"/admin/", "/admin/users", "/admin/users/new", "/admin/audit"}
        expected |= {"/admin/periods", "/admin/periods/new"}
        expected |= {"/national"}  # issue 5: the national picture, from the menu
        expected |= {"/regions/yorkshire-and-the-humber/reports/2025-26-Q3"}
        assert any(p.endswith("/open") for p in paths), "no period opening page checked"
        assert any(p.endswith("/close") for p in paths), "no period closing page checked"
        assert any(p.endswith("/disable") for p in paths), "no disable confirmation checked"
        assert any(p.endswith("/remove") for p in paths), "no removal confirmation checked"
    else:
        assert any("/team/memberships/" in p for p in paths), "no team removal page checked"
    assert expected <= paths, f"not visited: {sorted(expected - paths)}"
    print(f"{role}: axe checked {len(paths)} pages ({len(visits)} URLs visited)")
    assert not problems, f"{len(problems)} problems on {len(paths)} pages:\n" + "\n".join(problems)


def test_the_review_pages_pass_axe(app, live_server, browser, axe_source):
    """The pages an editor uses to review a carried-forward quarter, which the crawls above (as
    an administrator and an approver) never reach: the overview's choice of actions, the
    confirmation page, and the check page both while actions wait for review and once the
    return can be submitted."""
    from tests.access_matrix import make_member
    from tests.returns_data import (
        LEEDS,
        PREVIOUS_LABEL,
        SLUG,
        complete_quarter,
        confirm_unchanged,
        open_period,
    )
    from tracker.models import Role

    planning_amber = {"stage": "planning", "rag": "amber", "narrative": "Scoping with partners"}
    complete_quarter(app, LEEDS, PREVIOUS_LABEL, planning_amber)
    open_period(app)
    editor = make_member(app, Role.COUNCIL_EDITOR)
    overview = f"{live_server}/councils/{LEEDS}/returns/{SLUG}"
    problems: list[str] = []

    def check(page: Any, heading: str) -> None:
        page.wait_for_load_state("load")
        assert " ".join(page.locator("h1").first.inner_text().split()) == heading, page.url
        problems.extend(describe_violations(page.url, run_axe(page, axe_source)))

    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{live_server}/auth/sign-in")
        page.fill("input[name=email]", editor.email)
        page.fill("input[name=password]", editor.password)
        page.locator("main form button", has_text="Sign in").click()
        page.wait_for_load_state("load")
        page.goto(overview)
        check(page, "2025-26 Q3 return")

        page.locator("main a", has_text="Check your answers and submit").click()
        check(page, "Check your answers before submitting the 2025-26 Q3 return")
        assert page.locator("#blocked").count() == 1

        page.goto(overview)
        page.check("input[name=actions][value='A01.S01']")
        page.check("input[name=actions][value='A01.S02']")
        page.locator("main form button", has_text="Confirm the chosen actions unchanged").click()
        check(page, "Confirm 2 actions unchanged?")
        page.locator("main form button", has_text="Confirm unchanged").click()
        page.wait_for_load_state("load")
        assert (
            "2 actions confirmed unchanged"
            in page.locator(".govuk-notification-banner").first.inner_text()
        )

        confirm_unchanged(app, LEEDS)
        page.goto(f"{overview}/check")
        check(page, "Check your answers before submitting the 2025-26 Q3 return")
        assert page.locator("#blocked").count() == 0
        assert page.locator("main form button", has_text="Submit for sign-off").count() == 1
    finally:
        context.close()
    assert not problems, "\n".join(problems)
