"""HTML to tagged PDF with WeasyPrint, fetching nothing but our own ``static/`` files.

The URL fetcher serves ``https://tracker.invalid/static/…`` from the app's static folder and
``https://tracker.invalid/charts/…`` from the charts this render drew (kept in memory: as URLs
rather than data: URIs, the HTML parser does not walk their bytes). It refuses everything else
(``file:``, http(s) to any other host, paths that climb out of ``static/``), so text a person
typed can never make the renderer read a file or call a server (SECURITY.md F).

Renders are capped: at most ``REPORT_MAX_PARALLEL`` at once in this process; a request that
finds every slot busy is refused (the view answers 503 with ``Retry-After``).
"""

from __future__ import annotations

import base64
import gc
import re
import threading
import types
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pydyf
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

#: the base URL the print templates are rendered with; the fetcher maps it to static/
BASE_URL = "https://tracker.invalid/"
STATIC_PREFIX = "/static/"
CHARTS_PREFIX = "/charts/"
MIME_TYPES = {
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
}
#: the PDF variant: PDF/UA-1 gives a tagged PDF with its language, title and structure tree
PDF_VARIANT = "pdf/ua-1"

#: zlib level for the PDF's streams. pydyf asks for 9, the slowest; 6 (zlib's default) makes a
#: 40-page report about 2% bigger and takes a twentieth off its render (about 0.08 s).
FLATE_LEVEL = 6

#: the template's indentation: whitespace with a line break, between two tags
_INDENTATION = re.compile(r">\s*\n\s*<")

_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()
#: renders in this process that have the cyclic garbage collector paused (see collector_paused),
#: and whether the collector was on when the first of them began
_pausing = 0
_we_paused = False
_pausing_lock = threading.Lock()


def compact(html: str) -> str:
    """The HTML without the whitespace the templates' indentation puts between tags.

    Each run of it is a text box WeasyPrint styles and lays out; a 40-page report has thousands.
    Only runs that contain a line break go, so a space typed between two inline elements on one
    line (``<b>Stage:</b> Planning``) stays.
    """
    return _INDENTATION.sub("><", html)


def _compressobj(level: int = FLATE_LEVEL, *args, **kwargs):
    """``zlib.compressobj`` at FLATE_LEVEL, whatever level pydyf asks for."""
    return zlib.compressobj(FLATE_LEVEL, *args, **kwargs)


#: pydyf's view of zlib: the real module, but every stream compressed at FLATE_LEVEL
#: (tests/test_reports_pdf.py checks that pydyf still compresses through it)
pydyf.zlib = types.SimpleNamespace(**{**vars(zlib), "compressobj": _compressobj})


class RefusedURL(ValueError):
    """The PDF asked for something other than our static files."""


class RendererBusy(RuntimeError):
    """Every PDF render slot is in use; try again shortly."""


class StaticOnlyFetcher(URLFetcher):
    """Serves ``static/`` and our embedded SVG charts; refuses every other URL."""

    def __init__(self, static_folder: str | Path, images: dict[str, bytes] | None = None) -> None:
        super().__init__(allowed_protocols=("https", "data"), allow_redirects=False)
        self.root = Path(static_folder).resolve()
        #: chart name → SVG bytes, served under /charts/
        self.images = images or {}
        #: every URL asked for, refused or not (tests read it)
        self.requested: list[str] = []

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        self.requested.append(url)
        if url.startswith("data:image/svg+xml;base64,"):
            body = base64.b64decode(url.split(",", 1)[1], validate=True)
            return URLFetcherResponse(url, body, {"Content-Type": "image/svg+xml"})
        parts = urlsplit(url)
        if (
            parts.scheme == "https"
            and parts.netloc == urlsplit(BASE_URL).netloc
            and parts.path.startswith(CHARTS_PREFIX)
        ):
            image = self.images.get(parts.path[len(CHARTS_PREFIX) :])
            if image is None:
                raise RefusedURL(f"refused: {url[:200]}")
            return URLFetcherResponse(url, image, {"Content-Type": "image/svg+xml"})
        if (
            parts.scheme != "https"
            or parts.netloc != urlsplit(BASE_URL).netloc
            or not parts.path.startswith(STATIC_PREFIX)
        ):
            raise RefusedURL(f"refused: {url[:200]}")
        path = (self.root / unquote(parts.path[len(STATIC_PREFIX) :])).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise RefusedURL(f"refused: {url[:200]}")
        mime = MIME_TYPES.get(path.suffix.lower())
        if mime is None:
            raise RefusedURL(f"refused: {url[:200]}")
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while WeasyPrint lays out and writes a document.

    A 40-page report is a tree of a few hundred thousand boxes that lives for the whole render;
    as it grows, the collector walks it again and again and finds nothing to free: a fifth of
    the render's time (``bench/reports.py``). The tree becomes garbage only when the render
    ends; one young-generation collection then frees it (a few tenths of a second; the peak of
    a render is about 150 MB higher). The pause is process-wide: other threads' cycles wait for
    that collection too. Renders on several threads share the pause: the collector comes back
    when the last one ends, and is never turned on here if something else had turned it off.
    """
    global _pausing, _we_paused
    with _pausing_lock:
        _pausing += 1
        if _pausing == 1:
            _we_paused = gc.isenabled()
            gc.disable()
    try:
        yield
    finally:
        with _pausing_lock:
            _pausing -= 1
            last = _pausing == 0
            if last and _we_paused:
                gc.enable()
        if last:
            gc.collect(0)


def configure(max_parallel: int) -> None:
    """Set how many PDFs this process renders at once (create_app calls it once)."""
    global _slots
    with _slots_lock:
        if _slots is None or getattr(_slots, "_initial_value", None) != max_parallel:
            _slots = threading.BoundedSemaphore(max_parallel)


def html_to_pdf(
    html: str,
    *,
    static_folder: str | Path,
    images: dict[str, bytes] | None = None,
    wait: float = 0.0,
    fetcher: StaticOnlyFetcher | None = None,
) -> bytes:
    """The HTML as a tagged PDF (PDF/UA-1): bookmarks from its headings, its ``lang`` and title.

    :param wait: seconds to wait for a free render slot (0 for a web request: refuse at once;
        longer for background jobs, which queue anyway).
    :raises RendererBusy: every render slot stayed busy for ``wait`` seconds.
    """
    if _slots is None:
        from flask import current_app, has_app_context

        configure(int(current_app.config.get("REPORT_MAX_PARALLEL", 2)) if has_app_context() else 2)
    assert _slots is not None
    acquired = _slots.acquire(timeout=wait) if wait > 0 else _slots.acquire(blocking=False)
    if not acquired:
        raise RendererBusy("every PDF render slot is busy")
    try:
        with collector_paused():
            return write(html, fetcher or StaticOnlyFetcher(static_folder, images))
    finally:
        _slots.release()


def write(html: str, fetcher: StaticOnlyFetcher) -> bytes:
    """The render itself, with no render slot and the collector as it is: ``html_to_pdf``'s
    core, and the worker's warm-up (which must never take a slot from a person's request)."""
    document = HTML(string=compact(html), base_url=BASE_URL, url_fetcher=fetcher)
    return document.write_pdf(pdf_variant=PDF_VARIANT, pdf_tags=True)
