"""What every app node shares: the file store, and figures that no node keeps stale.

On SQLite these tests run the folder store and SQLite's triggers; on PostgreSQL
(``TEST_DATABASE_URL``) the database store and PostgreSQL's triggers.
"""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from tests.returns_data import LABEL, LEEDS, assess_all, get_return, open_period, submit
from tracker import storage
from tracker.clock import utcnow
from tracker.compare import services as compare
from tracker.extensions import db
from tracker.models import CacheGeneration, Evidence, Period
from tracker.models.shared import FIGURES


def _advanced(app) -> int:
    """Leeds' actions at Implementing or Embedded, as the national figures count them."""
    with app.app_context():
        period = db.session.scalar(select(Period).where(Period.label == LABEL))
        council_id = get_return(LEEDS).council_id
        rows = compare._council_area_shares(period)
        return sum(row[4] for row in rows if row[0] == council_id)


def _sql(app, statement: str, **values) -> None:
    """A change made by hand, on a connection of its own, as an administrator's psql would."""
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text(statement), values)


def _generation(app) -> int:
    with app.app_context():
        return db.session.scalar(
            select(CacheGeneration.value).where(CacheGeneration.name == FIGURES)
        )


# -- the store ----------------------------------------------------------------------------------


def test_the_store_matches_the_database(app):
    with app.app_context():
        expected = storage.DATABASE if db.engine.dialect.name == "postgresql" else storage.FOLDER
        assert storage.store().kind == expected
        app.config["FILE_STORE"] = "somewhere"
        with pytest.raises(storage.StoreError, match="FILE_STORE must be"):
            storage.store()


def test_a_file_larger_than_a_chunk_is_kept_whole_and_read_a_chunk_at_a_time(app, tmp_path):
    app.config["EVIDENCE_DIR"] = str(tmp_path / "evidence")  # the folder store's, this test's own
    data = os.urandom(storage.CHUNK * 2 + 123)
    with app.app_context():
        store = storage.store()
        info = store.save("evidence/" + "a" * 32, data)
        assert (info.size, info.sha256) == (len(data), hashlib.sha256(data).hexdigest())
        pieces = list(store.open("evidence/" + "a" * 32))
        assert [len(p) for p in pieces] == [storage.CHUNK, storage.CHUNK, 123]
        assert b"".join(pieces) == data
        found = store.info("evidence/" + "a" * 32)
        assert found is not None and found.size == len(data)
        assert utcnow() - found.modified < timedelta(minutes=1)
        # Saving again replaces the file whole.
        store.save("evidence/" + "a" * 32, b"short")
        assert store.read("evidence/" + "a" * 32) == b"short"
        assert [i.key for i in store.list("evidence/")] == ["evidence/" + "a" * 32]
        store.delete("evidence/" + "a" * 32)
        assert store.info("evidence/" + "a" * 32) is None
        with pytest.raises(FileNotFoundError):
            store.open("evidence/" + "a" * 32)


def test_two_writers_of_one_key_at_once_leave_one_whole_file(app, tmp_path):
    """Two nodes caching the same report save the same key at the same moment: neither fails,
    and the file is one of the two, whole."""
    import threading

    app.config["REPORT_FOLDER"] = str(tmp_path / "reports")
    key = "reports/cache/" + "e" * 64 + ".pdf"
    versions = [os.urandom(storage.CHUNK + 1000), os.urandom(storage.CHUNK + 2000)]
    errors: list[BaseException] = []

    def save(data: bytes) -> None:
        try:
            with app.app_context():
                storage.store().save(key, data)
        except BaseException as error:  # the test's own thread: report it to the test
            errors.append(error)

    for _round in range(5):
        threads = [threading.Thread(target=save, args=(data,)) for data in versions]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        with app.app_context():
            assert storage.store().read(key) in versions


@pytest.mark.parametrize(
    "key",
    ["../etc/passwd", "evidence/../x", "evidence/.hidden", "other/abc", "evidence/a/b/c", ""],
)
def test_a_key_the_app_would_never_make_is_refused(app, key):
    with app.app_context(), pytest.raises(ValueError, match="not a file store key"):
        storage.store().save(key, b"x")


def test_a_download_streams_from_the_store_through_any_node(app, tmp_path):
    """Two apps on one database (two nodes): a file one stored, the other serves whole."""
    app.config["REPORT_FOLDER"] = str(tmp_path / "reports")
    from tests.conftest import app_config, dispose
    from tracker import create_app

    other = create_app(app_config(app.config["SQLALCHEMY_DATABASE_URI"]))
    other.config.update(REPORT_FOLDER=app.config["REPORT_FOLDER"])
    try:
        data = os.urandom(storage.CHUNK + 7)
        with app.app_context():
            storage.store().save("reports/" + "b" * 32 + ".pdf", data)
        with other.app_context():
            assert storage.store().read("reports/" + "b" * 32 + ".pdf") == data
    finally:
        dispose(other)


# -- figures no node keeps stale ----------------------------------------------------------------


def test_a_change_made_by_hand_in_the_database_reaches_the_cached_figures(app):
    open_period(app)
    assess_all(app, LEEDS, {"stage": "embedded"})
    submit(app, LEEDS)
    before = _advanced(app)
    assert before > 0
    assert _advanced(app) == before  # the cached figures
    with app.app_context():
        return_id = get_return(LEEDS).id
        version = get_return(LEEDS).data_version
    _sql(app, "UPDATE assessments SET stage = 'planning' WHERE return_id = :r", r=return_id)
    with app.app_context():
        assert get_return(LEEDS).data_version > version
    assert _advanced(app) == 0


def test_a_draft_returns_saves_move_nothing(app):
    """Triggers move a return's data version only while it is shared, so the many saves of
    draft returns at quarter end never queue on the return's row."""
    open_period(app)
    with app.app_context():
        return_id = get_return(LEEDS).id
    assess_all(app, LEEDS, {"stage": "embedded"})
    with app.app_context():
        assert db.session.get(type(get_return(LEEDS)), return_id).data_version == 0


def test_the_roadmap_or_a_council_changed_by_hand_moves_the_generation(app):
    first = _generation(app)
    _sql(app, "UPDATE actions SET code = code")
    second = _generation(app)
    assert second > first
    _sql(app, "UPDATE councils SET shares_named_returns = shares_named_returns")
    assert _generation(app) > second


def test_a_restore_moves_the_generation(app, tmp_path):
    app.config["EVIDENCE_DIR"] = str(tmp_path / "evidence")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup", "--to", str(tmp_path / "b")]).exit_code == 0
    before = _generation(app)
    result = runner.invoke(args=["restore", str(tmp_path / "b"), "--yes"])
    assert result.exit_code == 0, result.output
    assert _generation(app) != before


# -- commands -----------------------------------------------------------------------------------


def test_migrate_copies_the_folders_files_into_the_database(app, tmp_path):
    app.config.update(
        EVIDENCE_DIR=str(tmp_path / "evidence"),
        REPORT_FOLDER=str(tmp_path / "reports"),
        IMPORT_FOLDER=str(tmp_path / "imports"),
        FILE_STORE="folder",
    )
    with app.app_context():
        storage.store().save("evidence/" + "c" * 32, b"evidence bytes")
        storage.store().save("reports/cache/" + "d" * 64 + ".pdf", b"%PDF cached")
    runner = app.test_cli_runner()
    app.config["FILE_STORE"] = "database"
    result = runner.invoke(args=["files", "migrate"])
    assert result.exit_code == 0, result.output
    assert "Copied 2 files" in result.output
    with app.app_context():
        assert storage.store().read("evidence/" + "c" * 32) == b"evidence bytes"
        assert storage.store().read("reports/cache/" + "d" * 64 + ".pdf") == b"%PDF cached"
    again = runner.invoke(args=["files", "migrate"])
    assert "Copied 0 files into the database; 2 were there already" in again.output
    app.config["FILE_STORE"] = "folder"
    refused = runner.invoke(args=["files", "migrate"])
    assert refused.exit_code != 0 and "nothing to migrate" in refused.output


def test_check_finds_a_missing_or_changed_evidence_file(app, tmp_path):
    from tests.access_matrix import council

    app.config["EVIDENCE_DIR"] = str(tmp_path / "evidence")
    with app.app_context():
        council_id = council(LEEDS).id
        for name, data in (("e" * 32, b"kept"), ("f" * 32, b"lost"), ("0" * 32, b"was")):
            db.session.add(
                Evidence(
                    council_id=council_id,
                    title=name,
                    evidence_type="other",
                    stored_name=name,
                    original_name="x.txt",
                    size_bytes=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                )
            )
        db.session.commit()
        storage.store().save("evidence/" + "e" * 32, b"kept")
        storage.store().save("evidence/" + "0" * 32, b"changed")
    result = app.test_cli_runner().invoke(args=["files", "check"])
    assert result.exit_code == 1
    assert f"evidence/{'f' * 32} is missing" in result.output
    assert f"evidence/{'0' * 32} does not match its SHA-256" in result.output
    assert "1 of 3 evidence files are whole" in result.output


def test_sweep_removes_what_nobody_will_read(app, tmp_path):
    app.config.update(
        EVIDENCE_DIR=str(tmp_path / "e"),
        REPORT_FOLDER=str(tmp_path / "r"),
        IMPORT_FOLDER=str(tmp_path / "i"),
    )
    with app.app_context():
        store = storage.store()
        store.save("evidence/" + "1" * 32, b"an upload whose commit failed")
        store.save("reports/cache/return-5.preparing", b"left by a killed worker")
        later = utcnow() + storage.ORPHAN_GRACE + timedelta(hours=1)
        assert storage.sweep(later) == {
            "uploads": 0,
            "cached_reports": 0,
            "markers": 1,
            "orphans": 1,
        }
        assert store.list("evidence/") == [] and store.list("reports/") == []
        # A fresh upload (its row about to be committed) is left alone.
        store.save("evidence/" + "2" * 32, b"just uploaded")
        assert storage.sweep()["orphans"] == 0


# -- behind a load balancer ---------------------------------------------------------------------


@pytest.mark.parametrize(("hops", "seen"), [(0, "127.0.0.1 http"), (1, "203.0.113.9 https")])
def test_the_clients_address_comes_from_the_proxy_only_when_it_is_trusted(hops, seen):
    """With TRUSTED_PROXY_HOPS unset, a forged X-Forwarded-For changes nothing (rate limits and
    the security log keep the real address); behind one proxy, its header gives the client's
    address and scheme."""
    from flask import request

    from tests.conftest import app_config, dispose
    from tracker import create_app
    from tracker.permissions import public

    node = create_app(app_config("sqlite://") | {"TRUSTED_PROXY_HOPS": hops})
    node.add_url_rule(
        "/whoami", "whoami", public(lambda: f"{request.remote_addr} {request.scheme}")
    )
    try:
        answer = node.test_client().get(
            "/whoami",
            headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
            environ_overrides={"REMOTE_ADDR": "127.0.0.1"},
        )
        assert answer.get_data(as_text=True) == seen
    finally:
        dispose(node)


def test_a_node_is_ready_only_when_it_reaches_what_it_shares(app, monkeypatch):
    """/readyz is the load balancer's check: 200 while the database answers, 503 when it does
    not, so the balancer sends requests to the other nodes. A Redis that does not answer is
    named, but leaves the node in the pool: the app carries on without it."""
    from tracker import throttle

    client = app.test_client()
    ready = client.get("/readyz")
    assert (ready.status_code, ready.get_data(as_text=True)) == (200, "ready")
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    app.extensions.pop("tracker_redis", None)
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.get_data(as_text=True) == "ready, but redis does not answer"
    app.config["REDIS_URL"] = None
    monkeypatch.setattr(throttle, "redis_answers", lambda: True)

    def broken(*_args, **_kwargs):
        raise OSError("the database went away")

    with app.app_context():
        monkeypatch.setattr(db.session, "execute", broken)
        answer = client.get("/readyz")
    assert (answer.status_code, answer.get_data(as_text=True)) == (503, "not ready: database")


def test_while_redis_does_not_answer_limits_are_counted_in_the_database(app, caplog):
    """Sign-in, download and export limits keep working through a Redis outage, counted in the
    throttle table (and said once in the log), instead of every counted request failing."""
    from tracker import throttle
    from tracker.models import ThrottleCounter

    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    limit = throttle.Limit("test:outage", 2, timedelta(minutes=5))
    with app.app_context():
        assert [throttle.hit(limit.key, limit.window) for _ in range(3)] == [1, 2, 3]
        assert throttle.retry_after(limit) is not None
        assert db.session.get(ThrottleCounter, limit.key).count == 3
        throttle.clear(limit.key)
        assert throttle.retry_after(limit) is None
        assert not throttle.redis_answers()
    warnings = [r for r in caplog.records if "Redis does not answer" in r.getMessage()]
    assert len(warnings) <= 1


def test_people_sign_in_while_redis_does_not_answer(app):
    """Signing in counts failures per account and address: with Redis silent it counts them in
    the database, and the person gets in."""
    from tests.access_matrix import make_member, signed_in_client
    from tracker.models import Role

    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    client = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    assert client.get("/account").status_code == 200
