"""Database engine settings that every connection needs."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tracker.extensions import db


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers carry on while one writer commits; busy_timeout makes a second writer
    # wait rather than fail with "database is locked"; FULL sync keeps acknowledged writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def init_app(app: Flask) -> None:
    """Attach per-connection settings to the app's engine once it exists."""
    with app.app_context():
        engine: Engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
