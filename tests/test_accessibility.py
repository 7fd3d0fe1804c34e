"""Browser checks of every page: WCAG 2.2 AA by axe-core, usable without JavaScript, nothing fetched
from another host.

The real app is served by werkzeug on 127.0.0.1 against a test database with the roadmap and the
councils loaded, and Debian's Chromium (``/usr/bin/chromium``) is driven headless by Playwright.
Playwright's own browsers are never downloaded. The crawl starts at every GET route without URL
parameters and follows same-origin links, so a new page is checked as soon as something links to it.
It keeps a few URLs per endpoint (a handful of the 153 council pages, say) and a few query-string
variants per path. axe-core comes from ``node_modules`` (``npm ci`` installs it).

Signed in, the crawl runs as every role of the access matrix (``tests/access_matrix.py``) in its
world, starting from every page the matrix lets that role read; each crawl, the anonymous one
too, fails when it checked fewer of those pages than the matrix promises.

Outside CI a missing Chromium or axe-core skips these tests; under CI (``CI=true``) it fails them
(``tests/helpers.py``, ``require_tool``).
"""

from __future__ import annotations

import contextlib
import re
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

from tests.access_matrix import MATRIX, Row, To
from tests.helpers import require_tool
from tracker.config import PROJECT_ROOT
from tracker.permissions import public, rule_for

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
#: files, not pages, whatever their URLs end with: left to their own tests (the charts are
#: images on the report pages, the pack's status is JSON for its page's script)
DOWNLOAD_ENDPOINTS = {
    "returns.download_evidence",
    "reports.council_chart",
    "reports.region_chart",
    "reports.region_pack_status",
    "panels.my_comments_csv",
}


def _require(path: Path, what: str) -> None:
    require_tool(what, path.exists(), f"not found at {path}; `make test` installs it")


# -- the app and the browser ------------------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # one line per request would bury the test's own output


def _closed_before_sent(app: Flask):
    """The app, its every response read whole and closed before the server sends a byte.

    When the browser drops a connection mid-response (it cancels a favicon it already has), the
    development server's clean-up reads the dead socket, raises, and never closes the response,
    so a static file stays open until the collector finds it: a ResourceWarning that fails
    whichever test is running. Closing first leaves the server nothing to forget."""

    def wsgi(environ, start_response):
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return wsgi


@contextlib.contextmanager
def _served(app: Flask) -> Iterator[str]:
    """The app served on a free port of 127.0.0.1 from a background thread; yields its base URL."""
    server = make_server(
        HOST, 0, _closed_before_sent(app), threaded=True, request_handler=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served on a free port of 127.0.0.1 from a background thread; yields its base URL."""
    with _served(app) as base_url:
        yield base_url


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


#: the narrowest screen the pages must fit without scrolling sideways (WCAG 2.2 1.4.10 Reflow:
#: 320 CSS pixels, a 1280-pixel screen zoomed to 400%)
REFLOW_WIDTH = 320
#: the width the crawls otherwise use
DESKTOP = {"width": 1280, "height": 720}


def reflow_problems(page: Any, url: str) -> list[str]:
    """The page laid out 320 CSS pixels wide must not scroll sideways: wide tables scroll inside
    their own labelled, focusable container, and nothing else may be wider than the screen.
    Puts the page back to the desktop width after."""
    page.set_viewport_size({"width": REFLOW_WIDTH, "height": 640})
    try:
        if page.locator(".js-plotly-plot").count():
            # plotly redraws a responsive chart for the new width a moment after the resize
            page.wait_for_timeout(700)
        wide = page.evaluate(
            """() => {
              const root = document.documentElement;
              if (root.scrollWidth <= window.innerWidth) return null;
              // The widest elements that stick out, for the message.
              const out = [];
              for (const el of document.body.querySelectorAll("*")) {
                const box = el.getBoundingClientRect();
                if (box.right > window.innerWidth + 1 && box.width > 0) {
                  const inside = el.parentElement && el.parentElement.closest(
                    ".tracker-table-wrapper, .tracker-scroll");
                  if (!inside) out.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}` +
                    `${el.className && typeof el.className === "string" ?
                      "." + el.className.trim().split(/\\s+/).slice(0, 2).join(".") : ""}` +
                    ` (${Math.round(box.right)}px)`);
                }
                if (out.length >= 4) break;
              }
              return {width: root.scrollWidth, out};
            }"""
        )
    finally:
        page.set_viewport_size(DESKTOP)
    if wide is None:
        return []
    return [
        f"{url}: at {REFLOW_WIDTH}px the page is {wide['width']}px wide (scrolls sideways): "
        + ", ".join(wide["out"])
    ]


#: a quarter's code ("2026-27 Q3") where its months belong, and an action's code as a heading
QUARTER_CODE = re.compile(r"\b20\d\d-\d\d Q[1-4]\b")
CODE_HEADING = re.compile(r"^(Action|Comments on action) [A-Z]\d\d\.[A-Z0-9.]+$")


def plain_words_problems(page: Any, url: str) -> list[str]:
    """A panel member reads quarters as months and actions by their titles (issue 17): codes
    may stand beside the words, never instead of them."""
    problems = []
    text = page.locator("main").inner_text()
    for found in sorted(set(QUARTER_CODE.findall(text))):
        problems.append(f"{url}: a quarter's code {found!r} where its months belong")
    labels = page.locator("main h1, main h2, .govuk-pagination__link-label")
    for heading in labels.all_inner_texts():
        if CODE_HEADING.match(heading.strip()):
            problems.append(f"{url}: {heading.strip()!r} names an action by its code alone")
    title = page.title()
    if QUARTER_CODE.search(title) or re.match(r"^(Action|Comments on action) [A-Z]\d\d\.", title):
        problems.append(f"{url}: the page title {title!r} uses codes")
    return problems


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


#: the read API answers JSON, not pages: its own tests (tests/test_api*.py) check it
API_PATHS = "/api/"


def start_paths(app: Flask) -> list[str]:
    """Every GET route that needs no URL parameters (less NOT_START_ENDPOINTS)."""
    return sorted(
        {
            rule.rule
            for rule in app.url_map.iter_rules()
            if "GET" in (rule.methods or ())
            and not rule.arguments
            and rule.endpoint not in NOT_START_ENDPOINTS
            and not rule.rule.startswith(API_PATHS)
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
        if path.startswith(("/static/", API_PATHS)):
            return
        if PurePosixPath(path).suffix.lower() in DOWNLOAD_SUFFIXES:
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
        leeds = council("E08000035")
        dass = make_person("dass@example.org", Role.COUNCIL_APPROVER, council=leeds, name="D")
        sent = invite_to_team(leeds, "new@example.org", "Nia New", Role.PANEL_MEMBER, actor=dass)
        db.session.commit()
        return f"/auth/team-invitation/{sent.token}"


def test_every_page_passes_axe_wcag_22_aa(app, live_server, browser, axe_source):
    context = browser.new_context()
    invitation = _team_invitation_link(app)

    def check(page: Any, visit: Visit) -> list[str]:
        return describe_violations(visit.url, run_axe(page, axe_source)) + reflow_problems(
            page, visit.url
        )

    try:
        visits, problems = crawl(app, live_server, context, check, extra_paths=(invitation,))
    finally:
        context.close()
    assert invitation in {urlsplit(v.url).path for v in visits}

    html_pages = [v for v in visits if v.is_html]
    assert html_pages, "the crawl found no HTML page"
    print(f"axe checked {len(html_pages)} pages ({len(visits)} URLs visited)")
    assert_reached(app, "anonymous", public_pages(app), visits)
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
    assert_reached(app, "anonymous", public_pages(app), visits)
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


# -- signed in: every role's pages -----------------------------------------------------------

#: pages kept per endpoint when signed in: each role's crawl must check every page it may read
#: (the expected set below), one URL each; variants of a page share its template
SIGNED_IN_MAX_PER_ENDPOINT = 1
#: public pages visited again signed in, for the signed-in header; the rest were crawled above
SIGNED_IN_PUBLIC_ENDPOINTS = frozenset({"pages.index", "councils.index"})
#: the state of the returns each role's crawl sees (tests/access_matrix.py): editors a draft,
#: so that the forms are there; everyone else a submitted return, the one they may all read
CRAWL_STATES = {"council_editor": "draft"}
SIGNED_IN_ROLES = (
    "council_editor",
    "council_approver",
    "council_viewer",
    "panel_member",
    "regional_member",
    "national_admin",
)


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
    from tracker.models import Action, Period, Role
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
        # Evidence is linked by one of the council's editors (the only people who may).
        keeper = make_person(
            "evidence-keeper@example.org", Role.COUNCIL_EDITOR, council=leeds, name="Kit Keeper"
        )
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


def sign_in_in_browser(
    page: Any, base: str, email: str, password: str, totp_secret: str | None = None
) -> None:
    """Sign in through the real pages in Chromium: password, then (for a role that needs one)
    a code from the app."""
    import pyotp

    page.goto(f"{base}/auth/sign-in")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.locator("main form button", has_text="Sign in").click()
    if totp_secret is not None:
        page.wait_for_url("**/auth/two-factor**")
        page.fill("input[name=code]", pyotp.TOTP(totp_secret).now())
        page.locator("main form button", has_text="Continue").click()
    page.wait_for_load_state("load")
    assert "/auth/" not in page.url, f"still signing in at {page.url}"


def crawled_by_design(app: Flask, endpoint: str, url: str) -> bool:
    """True when the crawl visits ``url`` at all: not a file download (left to its own tests)
    and not an endpoint kept out of the crawl."""
    path = urlsplit(url).path
    suffix = PurePosixPath(path).suffix.lower()
    return (
        not path.startswith(API_PATHS)
        and endpoint not in DOWNLOAD_ENDPOINTS
        and endpoint not in NOT_START_ENDPOINTS
        and suffix not in DOWNLOAD_SUFFIXES
    )


def expected_pages(app: Flask, role: str, state: str, url_of: Callable[[Row], str]) -> dict:
    """endpoint -> URL of every page the access matrix lets ``role`` read (200) in council A,
    its region or the nation, with the returns in ``state``, that the crawl visits: signed in,
    the public pages but SIGNED_IN_PUBLIC_ENDPOINTS are left to the anonymous crawl."""
    pages = {}
    for row in MATRIX:
        if row.method != "GET" or row.expected(role, "own", state) != 200:
            continue
        rule = rule_for(app.view_functions[row.endpoint])
        signed_in = role != "anonymous"
        if (
            signed_in
            and rule
            and rule.kind == "public"
            and row.endpoint not in SIGNED_IN_PUBLIC_ENDPOINTS
        ):
            continue
        url = url_of(row)
        if crawled_by_design(app, row.endpoint, url):
            pages[row.endpoint] = url
    return pages


def visited_endpoints(app: Flask, visits: list[Visit]) -> set[str]:
    adapter = app.url_map.bind("localhost")
    found = set()
    for visit in visits:
        with contextlib.suppress(HTTPException, RequestRedirect):
            found.add(adapter.match(urlsplit(visit.url).path, method="GET")[0])
    return found


def public_pages(app: Flask) -> dict[str, str]:
    """endpoint -> a URL of every page the access matrix lets someone not signed in read."""
    adapter = app.url_map.bind("localhost")
    return expected_pages(
        app,
        "anonymous",
        "draft",
        lambda row: adapter.build(
            row.endpoint, dict.fromkeys(_rule(app, row.endpoint).arguments, "x")
        ),
    )


def assert_reached(app: Flask, who: str, expected: dict[str, str], visits: list[Visit]) -> None:
    """Fail when the crawl answered 200 for fewer of the expected pages than there are."""
    reached = visited_endpoints(app, [v for v in visits if v.status == 200])
    missing = sorted(set(expected) - reached)
    assert not missing, (
        f"{who}: the crawl checked {len(set(expected) & reached)} of the {len(expected)} pages"
        f" the access matrix lets them read; not: {missing}"
    )


def _rule(app: Flask, endpoint: str):
    return next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)


@pytest.fixture
def matrix_site(matrix_worlds, tmp_path, request) -> Iterator[tuple[Flask, Any, dict, str]]:
    """The access matrix's world in the state the role's crawl sees, served like live_server:
    (app, world, people, base URL)."""
    state = CRAWL_STATES.get(request.param, "submitted")
    with matrix_worlds.app(state, tmp_path) as (app, world, people), _served(app) as base_url:
        yield app, world, people, base_url


@pytest.mark.parametrize("matrix_site", SIGNED_IN_ROLES, indirect=True)
def test_signed_in_pages_pass_axe_and_work_without_javascript(
    matrix_site, browser, axe_source, request, quick_reports
):
    """Each role's crawl starts from every page the access matrix says the role may read
    (council A's, its region's, the nation's), follows links from there, and must check every
    one of them: it fails when it finds fewer pages than the matrix promises the role. Charts
    are stubs here (``quick_reports``): they are images with their own tests
    (tests/test_reports_browser.py, tests/test_compare_browser.py)."""
    app, world, people, base = matrix_site
    role = request.node.callspec.params["matrix_site"]
    state = CRAWL_STATES.get(role, "submitted")
    person = people[role]
    expected = expected_pages(app, role, state, lambda row: world.url(row, "own"))

    def wanted(endpoint: str) -> bool:
        """Pages this person may see that the anonymous crawl could not, and a public page or
        two; links to anything they may not see are still followed (and fail: a 404)."""
        view = app.view_functions.get(endpoint)
        rule = rule_for(view) if view else None
        if rule is None:
            return True  # a broken link or redirect: visited, and reported by its status
        if rule.kind == "public":
            return endpoint in SIGNED_IN_PUBLIC_ENDPOINTS
        if endpoint in redirects:
            return False  # only sends the person on to a page of the crawl ("Returns")
        if endpoint in refused:
            return False  # a signed-in page this role may not read ("The roadmap in practice")
        return rule.kind != "national_admin" or role == "national_admin"

    redirects = {
        row.endpoint
        for row in MATRIX
        if row.method == "GET" and isinstance(row.expected(role, "own", state), To)
    }
    refused = {
        row.endpoint
        for row in MATRIX
        if row.method == "GET"
        and len(row.states) == 1
        and row.expected(role, "own", state) == 404
        and rule_for(app.view_functions[row.endpoint]).kind == "signed_in"
    }
    context = browser.new_context()

    def check(page: Any, visit: Visit) -> list[str]:
        problems = describe_violations(visit.url, run_axe(page, axe_source))
        headings = [text.strip() for text in page.locator("h1").all_inner_texts()]
        if len(headings) != 1 or not headings[0]:
            problems.append(f"{visit.url}: expected one h1 with text, got {headings}")
        if role == "panel_member":
            problems += plain_words_problems(page, visit.url)
        return problems + reflow_problems(page, visit.url)

    try:
        sign_in_in_browser(
            context.new_page(), base, person.email, person.password, person.totp_secret
        )
        visits, problems = crawl(
            app,
            base,
            context,
            check,
            extra_paths=tuple(sorted(expected.values())),
            max_per_endpoint=SIGNED_IN_MAX_PER_ENDPOINT,
            wanted=wanted,
        )
    finally:
        context.close()

    print(f"{role}: axe checked {len(visits)} pages, {len(expected)} expected")
    assert_reached(app, role, expected, visits)
    assert not problems, f"{len(problems)} problems on {len(visits)} pages:\n" + "\n".join(problems)


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
