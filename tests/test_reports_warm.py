"""A web worker warms up for reports in the background of its first request, once."""

from __future__ import annotations

import logging

import pytest

from tracker.reports import charts, warm


@pytest.fixture
def cold_process(monkeypatch):
    """This process as if it had served no request yet, with no chart browser running and no
    chart drawn."""
    charts.stop()
    charts.clear_cache()
    monkeypatch.setattr(warm, "_started", False)
    monkeypatch.setattr(warm, "thread", None)
    yield
    if warm.thread is not None:
        warm.thread.join(60)
    charts.stop()
    charts.clear_cache()


def test_the_first_request_starts_the_warm_up_once(app, cold_process):
    app.config["REPORT_WARM_UP"] = True
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    first = warm.thread
    assert first is not None and first.name == "report-warm-up"
    assert client.get("/healthz").status_code == 200
    assert warm.thread is first  # not a second one
    first.join(60)
    assert not first.is_alive()
    assert charts._browser is not None  # the chart browser is up before any report


def test_tests_and_commands_do_not_warm_up_unless_asked(app, cold_process):
    assert app.testing and "REPORT_WARM_UP" not in app.config
    assert app.test_client().get("/healthz").status_code == 200
    assert warm.thread is None
    assert charts._browser is None


def test_a_failed_warm_up_is_logged_and_raises_nothing(app, cold_process, caplog):
    app.config["CHROMIUM_PATH"] = "/nonexistent/chromium"
    with caplog.at_level(logging.WARNING, logger="tracker.reports.warm"):
        warm.warm_up(app)
    assert "warming up for reports failed" in caplog.text
    assert charts._browser is None


@pytest.mark.parametrize(("value", "expected"), [("0", False), ("no", False), ("1", True)])
def test_the_environment_turns_the_warm_up_on_or_off(monkeypatch, value, expected):
    from tracker.config import environment_overrides

    monkeypatch.setenv("REPORT_WARM_UP", value)
    assert environment_overrides()["REPORT_WARM_UP"] is expected
