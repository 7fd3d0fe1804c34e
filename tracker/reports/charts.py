"""Plotly figures to SVG for the PDFs: one Chromium kept running by kaleido, reused for every chart.

kaleido ≥ 1 drives a headless Chrome through ``choreographer``. We point it at Debian's Chromium
(``CHROMIUM_PATH``, default ``/usr/bin/chromium``) through ``BROWSER_PATH`` and never call
``kaleido.get_chrome``: nothing is downloaded. plotly.js comes from the plotly package on disk and
MathJax is turned off (kaleido's default would load it from a CDN), so rendering makes no request.

The browser starts on first use and stays up for the life of the process (``atexit`` stops it).
Rendered SVG is cached in-process by a hash of the figure's JSON, so an unchanged chart in the
next report costs nothing.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import plotly.graph_objects as go

DEFAULT_CHROMIUM = "/usr/bin/chromium"
#: SVG kept in memory, by figure hash; a few hundred charts is a few megabytes
CACHE_SIZE = 512

_lock = threading.Lock()
_started = False
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


def _ensure_started(chromium: str) -> None:
    global _started
    if _started:
        return
    import kaleido

    if not os.path.exists(chromium):
        raise ChartRenderError(f"Chromium not found at {chromium}")
    # choreographer reads BROWSER_PATH; with it set, it never looks for a downloaded Chrome.
    os.environ["BROWSER_PATH"] = chromium
    kaleido.start_sync_server(mathjax=False, timeout=60, silence_warnings=True)
    atexit.register(stop)
    _started = True


def stop() -> None:
    """Stop the browser (at exit, or after a test)."""
    global _started
    with _lock:
        if _started:
            import kaleido

            kaleido.stop_sync_server(silence_warnings=True)
            _started = False


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
    key = figure_key(figure, width, height)
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
        _ensure_started(chromium)
        import kaleido

        try:
            data = kaleido.calc_fig_sync(
                figure, opts={"format": "svg", "width": width, "height": height}
            )
        except Exception as error:  # kaleido wraps browser failures in several types
            raise ChartRenderError(f"the chart could not be rendered: {error}") from error
        svg = data.decode() if isinstance(data, bytes) else str(data)
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
