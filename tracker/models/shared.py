"""State that every app node, worker and scheduler shares through the database.

- :class:`StoredFile` and its chunks: evidence files and prepared reports, when the file store
  is the database (``FILE_STORE=database``, the default on PostgreSQL). A file is split into
  chunks of at most 1 MiB, so that it is written and read a chunk at a time, never whole.
- :class:`CacheGeneration`: a counter that database triggers move whenever the roadmap, the
  councils or the regions change, however they were changed (a page, a loader, a restore, or an
  administrator's direct SQL). With ``returns.data_version``, which triggers move whenever a
  shared return's assessments change, it lets every process tell that a figure it keeps in
  memory is out of date (``tracker.compare.services._fingerprint``).
- :class:`ScheduledRun`: one claimed run of a periodic job ("closing reminders, 7 December
  2026"); the unique (name, slot) pair means that however many schedulers run, one claims it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    DDL,
    BigInteger,
    ForeignKey,
    LargeBinary,
    String,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from tracker.clock import utcnow
from tracker.extensions import db

#: the generation every node's in-memory figures are checked against
FIGURES = "figures"


class StoredFile(db.Model):
    """A file in the database's file store, by its key (``evidence/…``, ``reports/…``)."""

    __tablename__ = "stored_files"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    chunks: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StoredFileChunk(db.Model):
    """One chunk (at most 1 MiB) of a stored file, in order of ``seq`` from 0."""

    __tablename__ = "stored_file_chunks"

    key: Mapped[str] = mapped_column(
        String(255), ForeignKey("stored_files.key", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class CacheGeneration(db.Model):
    """A named counter that triggers move (see the module's docstring)."""

    __tablename__ = "cache_generations"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class ScheduledRun(db.Model):
    """A periodic job's run for one slot (a day, an hour), claimed by one scheduler."""

    __tablename__ = "scheduled_runs"
    __table_args__ = (UniqueConstraint("name", "slot", name="uq_scheduled_runs_name_slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    slot: Mapped[str] = mapped_column(String(40))
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    #: what the run did ("3 reminders sent") or why it failed
    outcome: Mapped[str | None] = mapped_column(String(500), default=None)


# -- the triggers -------------------------------------------------------------------------------

#: the statuses of a return whose assessments feed shared figures (ReturnStatus' values)
_SHARED = "('submitted', 'signed_off')"
#: tables whose every change moves the "figures" generation
GENERATION_TABLES = ("actions", "action_areas", "councils", "regions")
#: each change to an assessment, and the rows it leaves to read: a row trigger's NEW or OLD
#: (SQLite), a statement trigger's NEW TABLE or OLD TABLE (PostgreSQL)
_ASSESSMENT_EVENTS = {"INSERT": "NEW", "UPDATE": "NEW", "DELETE": "OLD"}


def trigger_statements(dialect: str) -> list[str]:
    """The SQL that creates the change-tracking triggers on ``dialect`` ("postgresql" or
    "sqlite"). Used by the migration and by ``create_all`` (the tests), so both agree."""
    # Constants only, never input: S608 does not apply.
    bump_return = (
        "UPDATE returns SET data_version = data_version + 1 "  # noqa: S608
        f"WHERE id = {{row}}.return_id AND status IN {_SHARED}"
    )
    bump_shared = (
        "UPDATE returns SET data_version = data_version + 1 "  # noqa: S608
        f"WHERE id IN (SELECT DISTINCT return_id FROM {{rows}}) AND status IN {_SHARED}"
    )
    bump_generation = f"UPDATE cache_generations SET value = value + 1 WHERE name = '{FIGURES}'"  # noqa: S608
    statements: list[str] = []
    if dialect == "postgresql":
        # One UPDATE per statement, over the returns its rows belong to: opening a quarter
        # inserts 21,420 assessments in one statement, and pays for one UPDATE, not 21,420.
        for event_, rows in _ASSESSMENT_EVENTS.items():
            name, table = f"tracker_assessments_{event_.lower()}d", f"{rows.lower()}_rows"
            statements.append(
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN {bump_shared.format(rows=table)}; RETURN NULL; END $$"
            )
            statements.append(
                f"CREATE OR REPLACE TRIGGER assessments_{event_.lower()}d AFTER {event_} "
                f"ON assessments REFERENCING {rows} TABLE AS {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
            )
        statements.append(
            "CREATE OR REPLACE FUNCTION tracker_generation_changed() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN {bump_generation}; RETURN NULL; END $$"
        )
        statements += [
            f"CREATE OR REPLACE TRIGGER {table}_changed "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION tracker_generation_changed()"
            for table in GENERATION_TABLES
        ]
    else:
        statements += [
            f"CREATE TRIGGER IF NOT EXISTS assessments_{event_.lower()}d "
            f"AFTER {event_} ON assessments BEGIN {bump_return.format(row=row)}; END"
            for event_, row in _ASSESSMENT_EVENTS.items()
        ]
        statements += [
            f"CREATE TRIGGER IF NOT EXISTS {table}_{event_.lower()}d AFTER {event_} ON {table} "
            f"BEGIN {bump_generation}; END"
            for table in GENERATION_TABLES
            for event_ in _ASSESSMENT_EVENTS
        ]
    return statements


def drop_statements(dialect: str) -> list[str]:
    """The SQL that removes what :func:`trigger_statements` made."""
    if dialect == "postgresql":
        return [
            *(
                f"DROP TRIGGER IF EXISTS assessments_{e.lower()}d ON assessments"
                for e in _ASSESSMENT_EVENTS
            ),
            *(f"DROP TRIGGER IF EXISTS {t}_changed ON {t}" for t in GENERATION_TABLES),
            *(
                f"DROP FUNCTION IF EXISTS tracker_assessments_{e.lower()}d()"
                for e in _ASSESSMENT_EVENTS
            ),
            "DROP FUNCTION IF EXISTS tracker_generation_changed()",
        ]
    names = [f"assessments_{e.lower()}d" for e in _ASSESSMENT_EVENTS]
    names += [f"{t}_{e.lower()}d" for t in GENERATION_TABLES for e in _ASSESSMENT_EVENTS]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in names]


def first_generation_row() -> str:
    return (
        f"INSERT INTO cache_generations (name, value) VALUES ('{FIGURES}', 0) "  # noqa: S608
        "ON CONFLICT (name) DO NOTHING"
    )


def _create_triggers(target, connection, **_kw) -> None:
    """After ``create_all`` (every table made): the generation's row and the triggers."""
    connection.execute(DDL(first_generation_row()))
    for statement in trigger_statements(connection.dialect.name):
        connection.execute(DDL(statement))


event.listen(db.metadata, "after_create", _create_triggers)
