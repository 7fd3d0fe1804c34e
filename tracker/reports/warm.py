"""Warming a web worker for its first report, in the background of its first request.

A worker's first board report would otherwise also start the chart browser, import WeasyPrint
and load its fonts: about two seconds more than the next one (``bench/reports.py``,
``council_first_in_process_s``). The first request a worker serves (a sign-in page, most
likely) starts a thread that does all three, so that by the time anyone asks for a report the
worker is ready. Only a process that serves requests warms up: ``flask`` commands never do, and
tests do not unless they set ``REPORT_WARM_UP``.

The warm-up renders a one-page document without taking a render slot (it must never make a
person's request wait or be refused) and draws one chart, which starts the browser.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask, current_app

log = logging.getLogger(__name__)

_started = False
_lock = threading.Lock()
#: the thread of the warm-up this process started (tests wait for it)
thread: threading.Thread | None = None

#: a page in the reports' print stylesheet (the URL is completed with ``pdf.BASE_URL``)
WARM_UP_HTML = (
    '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>Warm-up</title>'
    '<link rel="stylesheet" href="{base}static/css/print.css"></head>'
    '<body><h1 class="govuk-heading-xl">Warm-up</h1><p class="govuk-body">Text and '
    "<b>bold text</b>.</p></body></html>"
)


def enabled(app: Flask) -> bool:
    """``REPORT_WARM_UP`` (default: on outside tests)."""
    return bool(app.config.get("REPORT_WARM_UP", not app.testing))


def start_once() -> None:
    """Start the warm-up thread, once per process (a ``before_app_request`` hook)."""
    global _started, thread
    if _started:
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with _lock:
        if _started:
            return
        _started = True
        if not enabled(app):
            return
        thread = threading.Thread(target=warm_up, args=(app,), name="report-warm-up", daemon=True)
        thread.start()


def warm_up(app: Flask) -> None:
    """Load WeasyPrint and the report fonts, and start the chart browser. Never raises."""
    import plotly.graph_objects as go

    from tracker.reports import charts, pdf

    try:
        pdf.write(
            WARM_UP_HTML.format(base=pdf.BASE_URL),
            pdf.StaticOnlyFetcher(app.static_folder or "static"),
        )
        charts.to_svg(
            go.Figure(go.Bar(x=["Warm-up"], y=[1])),
            width=200,
            height=100,
            chromium=app.config.get("CHROMIUM_PATH", charts.DEFAULT_CHROMIUM),
        )
    except Exception:
        # The first report will start what failed here, and say so if it fails again.
        log.warning("warming up for reports failed", exc_info=True)
