"""The Alembic migrations build exactly the schema the models describe, on either database."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import DatabaseError

from tests.conftest import app_config, dispose
from tracker import create_app
from tracker.extensions import db


def test_upgrade_matches_the_models_and_downgrade_empties(blank_database_url):
    app = create_app(app_config(blank_database_url))
    try:
        with app.app_context():
            upgrade()
            with db.engine.connect() as connection:
                context = MigrationContext.configure(connection, opts={"compare_type": True})
                differences = compare_metadata(context, db.metadata)
            assert differences == []
            assert "actions" in inspect(db.engine).get_table_names()
            with db.engine.begin() as connection:
                connection.execute(
                    text(
                        "INSERT INTO audit_events (at, action, object_type, object_id) "
                        "VALUES (CURRENT_TIMESTAMP, 'test.create', 'test', '1')"
                    )
                )
            for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"):
                with pytest.raises(DatabaseError, match="append-only"), db.engine.begin() as c:
                    c.execute(text(statement))
            downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    finally:
        dispose(app)
