"""Throttling failed sign-ins and reset requests, in the database and in Redis."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask

from tests.conftest import dispose, make_app
from tests.factories import make_user
from tests.helpers import post_form, sign_in
from tracker import throttle
from tracker.extensions import db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


@pytest.fixture(params=["database", "redis"])
def store(request, app: Flask) -> Iterator[str]:
    """The app set up for one store; Redis keys get a prefix of their own and are removed.
    Redis is ``redis_url`` (tests/conftest.py): a running one, or one started for the run."""
    if request.param == "database":
        yield "database"
        return
    import redis

    url = request.getfixturevalue("redis_url")
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    prefix = f"tracker-test:{secrets.token_hex(6)}:"
    app.config.update(REDIS_URL=url, THROTTLE_KEY_PREFIX=prefix)
    try:
        yield "redis"
    finally:
        keys = list(client.scan_iter(f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()
        with app.app_context():
            cached = app.extensions.pop("tracker_redis", None)
            if cached is not None:
                cached.close()


# -- the counters --------------------------------------------------------------------------------


def test_hits_count_up_until_cleared(app, store):
    with app.app_context():
        limit = throttle.Limit("test:key", 3, WINDOW)
        assert [throttle.hit(limit.key, WINDOW) for _ in range(3)] == [1, 2, 3]
        db.session.commit()
        wait = throttle.retry_after(limit)
        assert wait is not None and 0 < wait <= 15 * 60
        throttle.clear(limit.key)
        db.session.commit()
        assert throttle.retry_after(limit) is None
        assert throttle.hit(limit.key, WINDOW) == 1


def test_a_window_expires_on_its_own(app, store):
    if store == "redis":
        # Redis expires keys by its own clock: use a short window and wait it out.
        with app.app_context():
            window = timedelta(milliseconds=300)
            limit = throttle.Limit("test:short", 2, window)
            throttle.hit(limit.key, window)
            throttle.hit(limit.key, window)
            assert throttle.retry_after(limit) == 1
            time.sleep(0.5)
            assert throttle.retry_after(limit) is None
            assert throttle.hit(limit.key, window) == 1
        return
    with time_machine.travel(START, tick=False) as clock, app.app_context():
        limit = throttle.Limit("test:key", 2, WINDOW)
        throttle.hit(limit.key, WINDOW)
        throttle.hit(limit.key, WINDOW)
        db.session.commit()
        clock.move_to(START + timedelta(minutes=10))
        assert throttle.retry_after(limit) == 5 * 60
        clock.move_to(START + timedelta(minutes=15, seconds=1))
        assert throttle.retry_after(limit) is None
        assert throttle.hit(limit.key, WINDOW) == 1


def test_concurrent_hits_are_never_lost(app, store):
    """Ten threads, each with its own app context and connection, as workers would be."""
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(5):
                with app.app_context():
                    throttle.hit("test:race", WINDOW)
                    db.session.commit()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        assert throttle.hit("test:race", WINDOW) == 51


# -- sign-in ---------------------------------------------------------------------------------------


def _fail(client, email: str):
    return post_form(client, "/auth/sign-in", {"email": email, "password": "not the password"})


def test_ten_failures_on_an_account_get_429_with_retry_after(app, client, store):
    made = make_user(app)
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(10):
            assert _fail(client, made.email).status_code == 422
        # Even the right password waits now, and says so.
        blocked = post_form(
            client, "/auth/sign-in", {"email": made.email, "password": made.password}
        )
        assert blocked.status_code == 429
        assert 0 < int(blocked.headers["Retry-After"]) <= 15 * 60
        assert "too many attempts" in blocked.get_data(as_text=True)
        if store == "database":
            # No lasting lockout: the window passes and the person signs in.
            clock.move_to(START + timedelta(minutes=16))
            sign_in(client, made.email, made.password)


def test_a_success_clears_the_accounts_failures(app, client, store):
    made = make_user(app)
    for _ in range(9):
        _fail(client, made.email)
    sign_in(client, made.email, made.password)
    other = app.test_client()
    for _ in range(9):
        assert _fail(other, made.email).status_code == 422


def test_fifty_failures_from_one_address_get_429_for_any_account(app, client, store):
    app.config["THROTTLE_ACCOUNT_LIMIT"] = 1000
    for number in range(50):
        assert _fail(client, f"guess{number}@example.org").status_code == 422
    assert _fail(client, "someone.else@example.org").status_code == 429
    # Another address is not held up.
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert _fail(elsewhere, "someone.else@example.org").status_code == 422


def test_the_count_is_shared_by_two_workers(app, store):
    """Two apps on the same database (and Redis) stand for two gunicorn workers."""
    made = make_user(app)
    second = make_app(app.config["SQLALCHEMY_DATABASE_URI"])
    second.config.update(
        REDIS_URL=app.config.get("REDIS_URL"),
        THROTTLE_KEY_PREFIX=app.config["THROTTLE_KEY_PREFIX"],
    )
    try:
        first_client, second_client = app.test_client(), second.test_client()
        for number in range(10):
            client = first_client if number % 2 else second_client
            assert _fail(client, made.email).status_code == 422
        assert _fail(first_client, made.email).status_code == 429
        assert _fail(second_client, made.email).status_code == 429
    finally:
        cached = second.extensions.pop("tracker_redis", None)
        if cached is not None:
            cached.close()
        dispose(second)


def test_wrong_codes_count_as_failures(app, client, store):
    from tracker.models import Role

    made = make_user(app, memberships=[(Role.NATIONAL_ADMIN, None)], mfa=True)
    post_form(client, "/auth/sign-in", {"email": made.email, "password": made.password})
    for _ in range(10):
        assert post_form(client, "/auth/two-factor", {"code": "00000x"}).status_code == 422
    blocked = post_form(client, "/auth/two-factor", {"code": made.totp_code()})
    assert blocked.status_code == 429
    assert "Retry-After" in blocked.headers


# -- reset links -----------------------------------------------------------------------------------


def test_reset_requests_from_one_address_are_limited(app, client, store):
    for number in range(20):
        response = post_form(
            client, "/auth/forgot-password", {"email": f"someone{number}@example.org"}
        )
        assert response.status_code == 303
    response = post_form(client, "/auth/forgot-password", {"email": "one.more@example.org"})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
