"""Fixtures: a new app from the factory and a real database of its own for every test.

``TEST_DATABASE_URL`` chooses the database server. Unset, each test gets a temporary SQLite file.
Set to a PostgreSQL URL (``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``), each test gets
a uniquely named database on that server, dropped after the test even when it fails. Either way the
schema and the loaded roadmap, CQC framework and councils are built once per test process (each
pytest-xdist worker is one) as a template, and every test's database is a copy of it: a file
copy on SQLite, ``CREATE DATABASE … TEMPLATE`` on PostgreSQL.

Fixtures:

- ``app``: the app on a database with the schema, the roadmap, the CQC framework and the
  councils loaded.
- ``empty_app``: the app on a database with the schema and no rows (loader tests).
- ``client``, ``runner``: ``app.test_client()`` and ``app.test_cli_runner()``.
- ``blank_database_url``: a database with no tables at all, for migration tests.
- ``page``: ``page(response)`` parses an HTML response into BeautifulSoup.

Mail from an ``app`` or ``empty_app`` is written as .eml files to the test's own ``tmp_path``;
``tests/helpers.py`` reads it (``latest_mail(app)``, ``link_in(message)``).

No fixture keeps an application context pushed, because a request made while one is pushed reuses
it (and its ``g`` and database session) instead of getting its own. Query the database with
``with app.app_context(): ...``.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool
from werkzeug.test import TestResponse

from tests.helpers import redis_answers, redis_server, skip_refused_under_ci
from tracker import background, create_app
from tracker.config import PROJECT_ROOT
from tracker.councils.services import load_councils
from tracker.extensions import db
from tracker.frameworks_loader import load_framework
from tracker.roadmap_loader import load_roadmap

#: 48 characters: as long as a real key, and obviously not one
SECRET_KEY = "test-only-secret-key-0123456789abcdef0123456789ab"
ROADMAP_EDITION = PROJECT_ROOT / "roadmap" / "time-to-act-2023"
CQC_FRAMEWORK = PROJECT_ROOT / "frameworks" / "cqc-la-2023"
COUNCILS_CSV = PROJECT_ROOT / "tracker" / "data" / "councils.csv"


def app_config(database_url: str, **overrides: Any) -> dict[str, Any]:
    """The configuration every test app gets. CSRF protection stays on, as in production."""
    return {
        "TESTING": True,
        "SECRET_KEY": SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": database_url,
        **overrides,
    }


class _MemoryBytecodeCache(BytecodeCache):
    """Compiled templates shared by every app of this process.

    Each test builds a new app and so a new Jinja environment, which would compile the GOV.UK
    macros again on its first request (about a third of a second). Buckets are keyed by the
    template's name and a checksum of its source, so an edited template is compiled afresh.
    """

    def __init__(self) -> None:
        self._store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        data = self._store.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()


_JINJA_CACHE = _MemoryBytecodeCache()


def make_app(database_url: str, **overrides: Any) -> Flask:
    """A new app from the factory on ``database_url``, as every fixture here makes it."""
    app = create_app(app_config(database_url, **overrides))
    app.jinja_env.bytecode_cache = _JINJA_CACHE
    return app


def dispose(app: Flask) -> None:
    """Close the app's session and every pooled connection (no ResourceWarning, DROP can run).

    Background report jobs the test started (a pack asked for by a POST, a board report
    prepared on sign-off) finish first: a job still running would hold a connection that the
    DROP cuts and nothing closes, and its ResourceWarning would fail whichever test is running
    when the collector finds it.
    """
    background.shutdown(app)
    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


# -- database servers -------------------------------------------------------------------------


class Databases(Protocol):
    """Makes template databases and per-test copies of them on one kind of server."""

    dialect: str

    def create_template(self, label: str, build: Callable[[str], None]) -> str: ...

    def drop_template(self, template: str) -> None: ...

    def database(
        self, template: str | None, directory: Path
    ) -> contextlib.AbstractContextManager[str]: ...

    def close(self) -> None: ...


class SqliteDatabases:
    """Templates are files in a session folder; a test's database is a copy in its ``tmp_path``."""

    dialect = "sqlite"

    def __init__(self, root: Path) -> None:
        self.root = root

    def create_template(self, label: str, build: Callable[[str], None]) -> str:
        path = self.root / f"template-{label}.sqlite3"
        build(f"sqlite:///{path}")
        # The app turns WAL on. Back to a rollback journal, so that the one file holds everything
        # and a plain copy of it is a complete database.
        with contextlib.closing(sqlite3.connect(path)) as connection:
            connection.execute("PRAGMA journal_mode=DELETE")
        return str(path)

    def drop_template(self, template: str) -> None:
        Path(template).unlink(missing_ok=True)

    @contextlib.contextmanager
    def database(self, template: str | None, directory: Path) -> Iterator[str]:
        path = directory / f"test-{secrets.token_hex(4)}.sqlite3"
        if template:
            shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        # pytest removes old tmp_path folders itself; nothing holds the file open any more.


class PostgresDatabases:
    """Templates and test databases are databases on the server, named for this process."""

    dialect = "postgresql"

    def __init__(self, url: URL) -> None:
        self.url = url
        self.admin = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        # Unique per process, so concurrent runs (several developers, xdist workers) never meet.
        self.prefix = f"tracker_test_{worker}_{secrets.token_hex(4)}"

    def _execute(self, sql: str) -> None:
        with self.admin.connect() as connection:
            connection.exec_driver_sql(sql)

    def _url(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def _create(self, name: str, template: str | None = None) -> None:
        self._execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))

    def _drop(self, name: str) -> None:
        # FORCE ends any connection a failed test left open (PostgreSQL 13+).
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def create_template(self, label: str, build: Callable[[str], None]) -> str:
        name = f"{self.prefix}_{label}"
        self._create(name)
        try:
            build(self._url(name))
        except BaseException:
            self._drop(name)
            raise
        return name

    def drop_template(self, template: str) -> None:
        self._drop(template)

    @contextlib.contextmanager
    def database(self, template: str | None, directory: Path) -> Iterator[str]:
        name = f"{self.prefix}_{secrets.token_hex(4)}"
        self._create(name, template)
        try:
            yield self._url(name)
        finally:
            self._drop(name)

    def close(self) -> None:
        self.admin.dispose()


def _test_database_url() -> URL | None:
    raw = os.environ.get("TEST_DATABASE_URL", "").strip()
    if not raw:
        return None
    url = make_url(raw)
    if url.get_backend_name() != "postgresql":
        raise pytest.UsageError(f"TEST_DATABASE_URL must be a PostgreSQL URL, not {raw!r}")
    # psycopg 3 is our driver, whatever the URL says (as in tracker/config.py).
    return url.set(drivername="postgresql+psycopg")


# -- session: environment, server, templates --------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def instance_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A throwaway instance folder, so that no test reads or writes ``instance/``."""
    path = tmp_path_factory.mktemp("instance")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRACKER_INSTANCE_PATH", str(path))
        # A developer's own settings must not leak into the apps the tests build.
        patch.delenv("DATABASE_URL", raising=False)
        # The tests' servers and clients use this machine's names, the default.
        patch.delenv("TRUSTED_HOSTS", raising=False)
        yield path


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    url = _test_database_url()
    backend: Databases
    if url is None:
        backend = SqliteDatabases(tmp_path_factory.mktemp("databases"))
    else:
        backend = PostgresDatabases(url)
    yield backend
    if isinstance(backend, PostgresDatabases):
        backend.close()


def _build_schema(url: str, *, load: bool) -> None:
    app = make_app(url)
    try:
        with app.app_context():
            # Tests build tables from the models; the migrations have tests of their own.
            db.create_all()
            if load:
                load_roadmap(ROADMAP_EDITION)
                load_framework(CQC_FRAMEWORK)
                load_councils(COUNCILS_CSV)
            db.session.commit()
    finally:
        dispose(app)


@pytest.fixture(scope="session")
def loaded_template(databases: Databases, instance_path: Path) -> Iterator[str]:
    """Schema, roadmap and councils: built once per process, copied for each test."""
    template = databases.create_template("loaded", lambda url: _build_schema(url, load=True))
    yield template
    databases.drop_template(template)


@pytest.fixture(scope="session")
def empty_template(databases: Databases, instance_path: Path) -> Iterator[str]:
    """Schema only."""
    template = databases.create_template("empty", lambda url: _build_schema(url, load=False))
    yield template
    databases.drop_template(template)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Under CI (``CI=true``) a skipped test fails: a missing tool must be installed, not passed
    over (tests/helpers.py, ``require_tool``). Only ``skip_for_database`` skips stay skips."""
    outcome = yield
    skip_refused_under_ci(outcome.get_result())


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis server for the run: ``TEST_REDIS_URL`` (default redis://127.0.0.1:6379/0) when
    it answers, else a ``redis-server`` of our own (fails under CI when there is neither)."""
    configured = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    if redis_answers(configured):
        yield configured
        return
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(scope="session")
def matrix_worlds(
    databases: Databases, loaded_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """The access matrix's world in each state of its returns, built once per process as a
    template database (``tests/matrix_world.py``); ``matrix_worlds.app(state, tmp_path)`` gives a
    test its own copy."""
    from tests.matrix_world import MatrixWorlds

    worlds = MatrixWorlds(databases, loaded_template, tmp_path_factory.mktemp("matrix"))
    yield worlds
    worlds.close()


#: a 1 × 1 white PNG: the Word paper's chart pictures where no chart is drawn
_BLANK_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg=="
)


# -- per test ---------------------------------------------------------------------------------


@pytest.fixture
def quick_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    """No layout behind the report routes, for tests that request every route (the access
    matrix, the fuzzing): a board report's PDF, a chart's SVG and the Word paper's chart
    pictures are stubs, and a regional
    pack's job is queued but not run. Whether a request may have the file, and what it makes
    of its input, is decided before any of them; the layout would add seconds per request
    (tests/test_reports_*.py lay them out)."""
    from tracker.reports import jobs, render, word

    monkeypatch.setattr(render, "council_pdf", lambda report, **kwargs: b"%PDF-1.7\n%%EOF\n")
    monkeypatch.setattr(
        render, "chart_svg", lambda chart: '<svg xmlns="http://www.w3.org/2000/svg"/>'
    )
    monkeypatch.setattr(jobs, "enqueue", lambda job_id: None)
    monkeypatch.setattr(word, "chart_png", lambda chart: _BLANK_PNG)


@contextlib.contextmanager
def _app_on(databases: Databases, template: str | None, directory: Path) -> Iterator[Flask]:
    with databases.database(template, directory) as url:
        # Each test's mail in its own folder, so tests/helpers.py's latest_mail() sees only it.
        app = make_app(url, MAIL_FILE_DIR=str(directory / "mail"))
        try:
            yield app
        finally:
            dispose(app)


@pytest.fixture
def database_backend(databases: Databases) -> str:
    """``"sqlite"`` or ``"postgresql"``: the server this run's tests use."""
    return databases.dialect


@pytest.fixture
def app(databases: Databases, loaded_template: str, tmp_path: Path) -> Iterator[Flask]:
    with _app_on(databases, loaded_template, tmp_path) as app:
        yield app


@pytest.fixture
def empty_app(databases: Databases, empty_template: str, tmp_path: Path) -> Iterator[Flask]:
    with _app_on(databases, empty_template, tmp_path) as app:
        yield app


@pytest.fixture
def blank_database_url(databases: Databases, tmp_path: Path) -> Iterator[str]:
    """A database with no tables; the test disposes any engine it makes on it."""
    with databases.database(None, tmp_path) as url:
        yield url


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def parse_page(response: TestResponse) -> BeautifulSoup:
    """The response's HTML as BeautifulSoup; fails if the response is not HTML."""
    assert response.mimetype == "text/html", f"expected HTML, got {response.mimetype}"
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


@pytest.fixture
def page() -> Callable[[TestResponse], BeautifulSoup]:
    """``page(response)``: the response's HTML as BeautifulSoup."""
    return parse_page
