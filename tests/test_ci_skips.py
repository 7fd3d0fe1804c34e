"""Under CI (``CI=true``) a test that skips for a missing tool fails the run, so that a green CI
run means every check ran (tests/helpers.py, ``require_tool``; tests/conftest.py's hook)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

INNER_TESTS = """
import pytest

from tests.helpers import require_tool, skip_for_database


def test_a_plain_skip():
    pytest.skip("redis-server is not installed")


def test_a_missing_tool():
    require_tool("pdftotext", False)


def test_a_tool_that_is_there():
    require_tool("pdftotext", True)


def test_for_another_database():
    skip_for_database("SQLite crash behaviour")


@pytest.mark.xfail(strict=True, reason="a known bug")
def test_a_known_bug():
    assert False
"""
#: the suite's own hook, as tests/conftest.py declares it
INNER_CONFTEST = "from tests.conftest import pytest_runtest_makereport  # noqa: F401\n"


@pytest.fixture
def inner(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(INNER_CONFTEST)
    pytester.makepyfile(test_inner=INNER_TESTS)
    return pytester


@pytest.mark.parametrize("value", ["true", "1", "yes", "True"])
def test_under_ci_a_skip_for_a_missing_tool_fails(inner, monkeypatch, value):
    monkeypatch.setenv("CI", value)
    result = inner.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:xdist", "-rfs")
    result.assert_outcomes(passed=1, failed=2, skipped=1, xfailed=1)
    result.stdout.fnmatch_lines(
        [
            "*test_a_plain_skip*skipped under CI=true*redis-server is not installed*",
            "*test_a_missing_tool*pdftotext is missing*CI=true*",
        ]
    )


@pytest.mark.parametrize("value", [None, "", "0", "false"])
def test_outside_ci_a_missing_tool_skips(inner, monkeypatch, value):
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    result = inner.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:xdist")
    result.assert_outcomes(passed=1, skipped=3, xfailed=1)
