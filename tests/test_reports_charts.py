"""The chart browser: one Chromium, one tab reused for many charts, replaced when it fails."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest

from tracker.reports import chart_browser, charts


def bar(label: str) -> go.Figure:
    return go.Figure(go.Bar(x=[label], y=[3]), layout={"title": {"text": f"Chart {label}"}})


@pytest.fixture
def fresh_browser():
    charts.stop()
    charts.clear_cache()
    yield
    charts.stop()
    charts.clear_cache()


def test_one_tab_draws_many_charts_and_reloads_every_n(fresh_browser, monkeypatch):
    monkeypatch.setattr(chart_browser, "RELOAD_EVERY", 3)
    svgs = [charts.to_svg(bar(label)) for label in ("A", "B", "C", "D")]
    browser = charts._browser
    assert browser is not None
    assert (browser.kaleido.renders, browser.kaleido.reloads) == (4, 1)
    # every chart is its own drawing, including the one drawn after the reload
    for label, svg in zip("ABCD", svgs, strict=True):
        assert svg.startswith("<svg") and f"Chart {label}" in svg
    # an unchanged chart comes from the cache: the browser draws nothing
    assert charts.to_svg(bar("A")) == svgs[0]
    assert browser.kaleido.renders == 4


def test_a_missing_browser_is_a_chart_render_error(fresh_browser):
    with pytest.raises(charts.ChartRenderError, match="not found"):
        charts.to_svg(bar("A"), chromium="/nonexistent/chromium")
    assert charts._browser is None
    assert "Chart A" in charts.to_svg(bar("A"))


def test_a_browser_that_fails_is_stopped_and_the_next_chart_starts_another(
    fresh_browser, monkeypatch
):
    charts.to_svg(bar("A"))
    first = charts._browser
    assert first is not None

    def broken(self, figure, width, height):
        raise RuntimeError("the tab crashed")

    monkeypatch.setattr(chart_browser.Browser, "svg", broken)
    with pytest.raises(charts.ChartRenderError, match="the tab crashed"):
        charts.to_svg(bar("B"))
    assert charts._browser is None
    assert not first.thread.is_alive()
    monkeypatch.undo()
    assert "Chart B" in charts.to_svg(bar("B"))
    assert charts._browser is not None and charts._browser is not first


def test_a_browser_killed_under_us_fails_one_chart_quickly_and_is_replaced(fresh_browser):
    import os
    import signal
    import time

    charts.to_svg(bar("A"))
    first = charts._browser
    chromium = first.kaleido.subprocess
    # Chromium runs in a session of its own: its group is its renderers and helpers.
    os.killpg(os.getpgid(chromium.pid), signal.SIGKILL)
    chromium.wait(10)
    started = time.monotonic()
    with pytest.raises(charts.ChartRenderError):
        charts.to_svg(bar("B"))
    assert time.monotonic() - started < 15  # not the 60 s render timeout
    assert charts._browser is None and not first.thread.is_alive()
    assert "Chart B" in charts.to_svg(bar("B"))


def test_a_worker_killed_with_sigkill_leaves_no_browser_behind():
    import os
    import signal
    import subprocess
    import sys
    import time

    script = (
        "import sys, time, plotly.graph_objects as go\n"
        "from tracker.reports import charts\n"
        "charts.to_svg(go.Figure(go.Bar(x=[1], y=[1])))\n"
        "print(charts._browser.kaleido.subprocess.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    worker = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        chromium = int(worker.stdout.readline())
        os.kill(chromium, 0)  # running
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.kill(chromium, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            os.killpg(os.getpgid(chromium), signal.SIGKILL)
            pytest.fail("Chromium outlived its worker")
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
        worker.stdout.close()
