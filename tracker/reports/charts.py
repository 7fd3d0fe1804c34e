"""Plotly figures to SVG for the PDFs: one Chromium kept running by kaleido, reused for every chart.

kaleido ≥ 1 drives a headless Chrome through ``choreographer``. We point it at Debian's Chromium
(``CHROMIUM_PATH``, default ``/usr/bin/chromium``) and never call ``kaleido.get_chrome``: nothing
is downloaded. plotly.js comes from the plotly package on disk and MathJax is turned off
(kaleido's default would load it from a CDN), so rendering makes no request.

The browser starts on first use and stays up for the life of the process (``atexit`` stops it).
It runs on an event loop of its own, in a background thread (``_Browser``); ``to_svg`` hands it
one chart at a time and waits. kaleido reloads its tab (and so parses plotly.js again) after
every chart: five sixths of a chart's time. plotly's ``toImage`` draws each chart in a fresh
element and removes it afterwards, so our tab reloads only every ``RELOAD_EVERY`` charts, which
still bounds anything a page could accumulate. If the browser fails, it is stopped, and the
next chart starts a new one.

Rendered SVG is cached in-process by a hash of the figure's JSON, so an unchanged chart in the
next report costs nothing.
"""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import kaleido
import plotly.graph_objects as go

DEFAULT_CHROMIUM = "/usr/bin/chromium"
#: SVG kept in memory, by figure hash; a few hundred charts is a few megabytes
CACHE_SIZE = 512
#: the tab reloads after this many charts (kaleido's own choice is after every one)
RELOAD_EVERY = 100
#: seconds for the browser to start, and for one chart
START_TIMEOUT = 60
RENDER_TIMEOUT = 60

log = logging.getLogger(__name__)
_lock = threading.Lock()
_browser: _Browser | None = None
_cache: OrderedDict[str, str] = OrderedDict()


class ChartRenderError(RuntimeError):
    """The browser could not render a chart (it is missing, or it timed out)."""


@dataclass(frozen=True)
class Chart:
    """A chart as a report shows it: the figure, its alt text and the data table beside it.

    The same shape as ``tracker.compare.charts.Chart`` (issue 5), so either can be passed.
    """

    id: str
    title: str
    #: the alt text: what the chart shows, in one or two sentences
    summary: str
    figure: go.Figure
    #: (header row, body rows) of the data table shown under the chart
    table: tuple[list[str], list[list[Any]]] = field(default_factory=lambda: ([], []))


class _Kaleido(kaleido.Kaleido):
    """kaleido, with its tab reloaded every ``RELOAD_EVERY`` charts instead of after each."""

    renders = 0
    reloads = 0

    async def _return_kaleido_tab(self, tab) -> None:  # kaleido's hook for a finished chart
        self.renders += 1
        if self.renders % RELOAD_EVERY == 0:
            self.reloads += 1
            await tab.reload()
        await self.tabs_ready.put(tab)


class _Browser:
    """One Chromium with one plotly tab, on an event loop in a thread of its own."""

    def __init__(self, chromium: str) -> None:
        if not os.path.exists(chromium):
            raise ChartRenderError(f"Chromium not found at {chromium}")
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="charts", daemon=True)
        self.thread.start()
        self.kaleido: _Kaleido | None = None
        try:
            self.kaleido = self._run(self._open(chromium), START_TIMEOUT)
        except BaseException:
            self.close()
            raise

    @staticmethod
    async def _open(chromium: str) -> _Kaleido:
        browser = _Kaleido(n=1, timeout=RENDER_TIMEOUT, mathjax=False, path=chromium)
        await browser.open()
        return browser

    def _run(self, coroutine, timeout: float):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def svg(self, figure: go.Figure, width: int, height: int) -> str:
        assert self.kaleido is not None
        opts = {"format": "svg", "width": width, "height": height}
        data = self._run(self.kaleido.calc_fig(figure, opts=opts), RENDER_TIMEOUT + 5)
        return data.decode() if isinstance(data, bytes) else str(data)

    def close(self) -> None:
        try:
            if self.kaleido is not None:
                self._run(self.kaleido.close(), 30)
        except Exception:
            log.warning("the chart browser did not close cleanly", exc_info=True)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(30)
            if not self.thread.is_alive():
                self.loop.close()


def stop() -> None:
    """Stop the browser (at exit, after a failure, or after a test)."""
    with _lock:
        _stop_locked()


def _stop_locked() -> None:
    global _browser
    if _browser is not None:
        browser, _browser = _browser, None
        browser.close()


atexit.register(stop)


def figure_key(figure: go.Figure, width: int, height: int) -> str:
    """The cache key of a figure rendered at a size: a SHA-256 of its JSON."""
    text = figure.to_json() + f"|{width}x{height}"
    return hashlib.sha256(text.encode()).hexdigest()


def to_svg(
    figure: go.Figure, *, width: int = 680, height: int = 340, chromium: str = DEFAULT_CHROMIUM
) -> str:
    """The figure as an SVG document (text), from the cache or rendered by the shared browser.

    :raises ChartRenderError: Chromium is missing or did not answer.
    """
    global _browser
    key = figure_key(figure, width, height)
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
        try:
            if _browser is None:
                _browser = _Browser(chromium)
            svg = _browser.svg(figure, width, height)
        except ChartRenderError:
            raise
        except Exception as error:  # kaleido and choreographer fail in many types
            _stop_locked()
            raise ChartRenderError(f"the chart could not be rendered: {error}") from error
        _cache[key] = svg
        if len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
        return svg


def clear_cache() -> None:
    """Forget every rendered chart (tests)."""
    with _lock:
        _cache.clear()


def cache_size() -> int:
    return len(_cache)
