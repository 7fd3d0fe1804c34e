"""The template filters that turn stored UTC times into what people in the UK read."""

from __future__ import annotations

from datetime import date, datetime

from tracker.filters import uk_date, uk_time


def test_a_stored_time_shows_the_uk_day_and_time_in_summer_and_winter():
    # 23:30 UTC on 30 June is 00:30 on 1 July in the UK (BST); in January UTC is UK time.
    assert uk_date(datetime(2026, 6, 30, 23, 30)) == "1 July 2026"
    assert uk_time(datetime(2026, 6, 30, 23, 30)) == "1 July 2026 at 00:30"
    assert uk_date(datetime(2027, 1, 31, 23, 30)) == "31 January 2027"


def test_a_date_is_shown_as_it_is():
    assert uk_date(date(2026, 6, 30)) == "30 June 2026"
