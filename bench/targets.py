"""What the benchmark measures: one entry per page, each a path template and a method.

Add a page by adding a :class:`Target`. A target whose endpoint is not in the app (a page not
built yet) is listed as "not in the app" and skipped. In paths, ``{gss}`` is Leeds (the demo
council whose people sign in), ``{period}`` the current quarter, ``{past}`` the last closed
quarter, ``{region}`` London (the largest region, 33 councils), ``{code}`` an action code and
``{period_id}`` the current quarter's id.
"""

from __future__ import annotations

from dataclasses import dataclass

#: the demo council whose editor and approver sign in
GSS = "E08000035"
REGION = "london"
#: a London council (Camden, a demo council): the one-council dataset of the London pages
LONDON_COUNCIL = "E09000007"


@dataclass(frozen=True)
class Target:
    """One page to measure."""

    name: str
    #: the Flask endpoint, to skip the target when the page is not in the app
    endpoint: str
    #: the path, with {gss}, {period}, {past}, {region} and {code} filled in
    path: str
    #: "get", "save" (GET the form, POST it; the POST is timed) or "job" (POST, then poll
    #: ``path`` until the file is ready; the whole wait is timed)
    kind: str = "get"
    #: who signs in: "editor" (Leeds), "approver" (Leeds) or "admin" (national administrator)
    role: str = "editor"
    #: the issue's p95 target in milliseconds, or None
    goal_ms: float | None = None
    #: concurrent clients, when not the run's default (PDFs: one at a time per person)
    concurrency: int | None = None
    #: for "job": the page with the start button, and the POST that starts the job
    form_path: str | None = None
    start_path: str | None = None
    expect_type: str = "text/html"
    #: count this page's SQL queries at 1, 10 and 153 councils
    count_queries: bool = True
    #: the council of the one-council dataset its queries are counted on: one the page is about
    #: (a London page with no London council would have nothing to show)
    council: str = GSS
    #: time at least this many requests, however long they take (slow pages)
    min_requests: int = 0


TRIVIAL = Target("Trivial endpoint (/healthz)", "pages.healthz", "/healthz", count_queries=False)

TARGETS: list[Target] = [
    TRIVIAL,
    Target(
        "Council dashboard", "compare.council_dashboard", "/councils/{gss}/dashboard", goal_ms=100
    ),
    Target("Return overview", "returns.overview", "/councils/{gss}/returns/{period}", goal_ms=100),
    Target(
        "Assessment save",
        "returns.save_action",
        "/councils/{gss}/returns/{period}/actions/{code}",
        kind="save",
        goal_ms=500,
    ),
    Target(
        "London regional comparison",
        "compare.region",
        "/regions/{region}/compare",
        role="admin",
        goal_ms=250,
        council=LONDON_COUNCIL,
    ),
    Target("National view", "compare.national", "/national", role="admin", goal_ms=500),
    Target(
        "Period page (councils that have not submitted)",
        "admin.period",
        "/admin/periods/{period_id}",
        role="admin",
        goal_ms=250,
    ),
    Target(
        "Council board PDF",
        "reports.council_report_pdf",
        "/councils/{gss}/reports/{past}/board-report.pdf",
        goal_ms=2000,
        concurrency=1,
        expect_type="application/pdf",
        min_requests=5,
    ),
    Target(
        "London regional pack (PDF, background job)",
        "reports.start_region_pack",
        "/regions/{region}/reports/{past}/pack.pdf",
        kind="job",
        role="admin",
        concurrency=1,
        form_path="/regions/{region}/reports/{past}",
        start_path="/regions/{region}/reports/{past}/pack",
        expect_type="application/pdf",
        count_queries=False,
    ),
]
