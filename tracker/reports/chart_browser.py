"""The chart browser: kaleido's Chromium with one plotly tab, on an event loop of its own.

kaleido reloads its tab (and so parses plotly.js again) after every chart: five sixths of a
chart's time. plotly's ``toImage`` draws each chart in a fresh element and removes it
afterwards, so our tab reloads only every ``RELOAD_EVERY`` charts, which still bounds anything a
page could accumulate. kaleido's own sync server blocks its loop while it waits for the next
chart; ``Browser`` runs the loop in a thread and hands it one coroutine at a time.

Imported by ``tracker.reports.charts`` when the first chart is drawn (kaleido takes a quarter
of a second to import, which every other command would pay).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading

import kaleido
import plotly.graph_objects as go

from tracker.reports.charts import ChartRenderError

#: the tab reloads after this many charts (kaleido's own choice is after every one)
RELOAD_EVERY = 100
#: seconds for the browser to start, and for one chart
START_TIMEOUT = 60
RENDER_TIMEOUT = 60

log = logging.getLogger(__name__)


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


class Browser:
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
        data = self._image(figure, {"format": "svg", "width": width, "height": height})
        return data.decode() if isinstance(data, bytes) else str(data)

    def png(self, figure: go.Figure, width: int, height: int, scale: float) -> bytes:
        """The figure as PNG (the Word document's charts), ``scale`` times its size in pixels."""
        data = self._image(
            figure, {"format": "png", "width": width, "height": height, "scale": scale}
        )
        return data if isinstance(data, bytes) else bytes(data)

    def _image(self, figure: go.Figure, opts: dict) -> bytes | str:
        assert self.kaleido is not None
        return self._run(self.kaleido.calc_fig(figure, opts=opts), RENDER_TIMEOUT + 5)

    def close(self) -> None:
        try:
            if self.kaleido is not None:
                self._run(self.kaleido.close(), 30)
        except Exception:
            log.warning("the chart browser did not close cleanly", exc_info=True)
        finally:
            # What a browser that died leaves running (choreographer's watchdog) ends here,
            # not when the closed loop is collected.
            with contextlib.suppress(Exception):
                self._run(_cancel_pending(), 10)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(30)
            if not self.thread.is_alive():
                self.loop.close()


async def _cancel_pending() -> None:
    """Cancel every other task on this loop, and wait for them to end."""
    tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
