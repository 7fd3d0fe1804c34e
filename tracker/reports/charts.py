"""Plotly figures to SVG for the PDFs: one Chromium kept running by kaleido, reused for every chart.

kaleido ≥ 1 drives a headless Chrome through ``choreographer``. We point it at Debian's Chromium
(``CHROMIUM_PATH``, default ``/usr/bin/chromium``) and never call ``kaleido.get_chrome``: nothing
is downloaded. plotly.js comes from the plotly package on disk and MathJax is turned off
(kaleido's default would load it from a CDN), so rendering makes no request.

The browser starts on first use and stays up for the life of the process (``atexit`` stops it).
It runs on an event loop of its own, in a background thread (``chart_browser.Browser``, imported
with kaleido only when the first chart is drawn); ``to_svg`` hands it one chart at a time and
waits. If the browser fails, it is stopped, and the next chart starts a new one.

Rendered SVG is cached in-process by a hash of the figure's JSON, so an unchanged chart in the
next report costs nothing.
"""

from __future__ import annotations

import atexit
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import plotly.graph_objects as go

DEFAULT_CHROMIUM = "/usr/bin/chromium"
#: SVG and PNG kept in memory, by figure hash; a few hundred charts is some megabytes
CACHE_SIZE = 512

_lock = threading.Lock()
#: the running browser (``tracker.reports.chart_browser.Browser``), started by the first chart
_browser: Any = None
_cache: OrderedDict[str, Any] = OrderedDict()


class ChartRenderError(RuntimeError):
    """The browser could not render a chart (it is missing, or it timed out)."""


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
    return _draw(
        figure_key(figure, width, height),
        lambda browser: browser.svg(figure, width, height),
        chromium,
    )


def to_png(
    figure: go.Figure,
    *,
    width: int = 680,
    height: int = 340,
    scale: float = 2,
    chromium: str = DEFAULT_CHROMIUM,
) -> bytes:
    """The figure as PNG (the Word document's charts: Word draws SVG only from 2016 on), from
    the cache or rendered by the shared browser; ``scale`` 2 keeps it sharp in print.

    :raises ChartRenderError: Chromium is missing or did not answer.
    """
    return _draw(
        figure_key(figure, width, height) + f"|png@{scale}",
        lambda browser: browser.png(figure, width, height, scale),
        chromium,
    )


def _draw(key: str, draw: Callable[[Any], Any], chromium: str) -> Any:
    global _browser
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
        try:
            if _browser is None:
                from tracker.reports.chart_browser import Browser

                _browser = Browser(chromium)
            image = draw(_browser)
        except ChartRenderError:
            raise
        except Exception as error:  # kaleido and choreographer fail in many types
            _stop_locked()
            raise ChartRenderError(f"the chart could not be rendered: {error}") from error
        _cache[key] = image
        if len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
        return image


def clear_cache() -> None:
    """Forget every rendered chart (tests)."""
    with _lock:
        _cache.clear()


def cache_size() -> int:
    return len(_cache)
