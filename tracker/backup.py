"""``flask backup`` and ``flask restore``: the database and the evidence files, with a manifest.

A backup is a folder:

- ``database.sqlite3``, made with SQLite's online backup API (a consistent copy while the service
  runs, never a copy of the live file), or ``database.pgdump``, made with ``pg_dump -Fc``;
- ``evidence/``, a copy of every evidence file in the file store (``tracker/storage.py``: the
  instance folder, or the database's ``stored_files``, whose rows are left out of the dump);
- ``manifest.json``, written last: the SHA-256 and size of every one of those files, the
  database's kind and the rows of each table.

``restore`` checks the whole manifest first and refuses, changing nothing, when any file is
missing, extra or different. Then it replaces the database's contents (SQLite's backup API in
the other direction, or ``pg_restore --clean --single-transaction``), makes the file store hold
exactly the backed-up evidence files, and moves the figures' generation so that every app node
recomputes what it keeps in memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select, update
from sqlalchemy.engine import URL

from tracker import storage
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import CacheGeneration
from tracker.models.shared import FIGURES

MANIFEST = "manifest.json"
FORMAT = 1
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
EVIDENCE_FOLDER = "evidence"
CHUNK = 1024 * 1024


class BackupError(RuntimeError):
    """A backup or restore that cannot go ahead; ``str(error)`` says why. Nothing was changed."""


@dataclass
class BackupReport:
    """Where a backup went and what it holds."""

    folder: Path
    dialect: str
    database_bytes: int
    evidence_files: int
    evidence_bytes: int
    rows: dict[str, int] = field(default_factory=dict)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _url() -> URL:
    return db.engine.url


def _sqlite_path() -> Path:
    database = _url().database
    if not database or database == ":memory:":
        raise BackupError("The database is not a SQLite file")
    return Path(database)


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string for pg_dump and pg_restore, and the environment with the
    password (never on the command line, where ``ps`` shows it)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    """The full path of a PostgreSQL client program (Debian package postgresql-client)."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (Debian package postgresql-client)")
    return path


#: the file store's tables: their rows are the ``evidence/`` folder of the backup (prepared
#: reports and pending uploads are made again when wanted), never the database dump
STORE_TABLES = ("stored_files", "stored_file_chunks")
EVIDENCE_PREFIX = "evidence/"


def _new_generation() -> None:
    """Move the "figures" generation by a random step, so that no app node keeps a figure it
    computed before the restore (see ``tracker/models/shared.py``): a restore copies tables
    whole, without firing the triggers that move it otherwise."""
    with db.engine.begin() as connection:
        connection.execute(
            update(CacheGeneration)
            .where(CacheGeneration.name == FIGURES)
            .values(value=CacheGeneration.value + secrets.randbelow(2**40) + 1)
        )


def table_rows() -> dict[str, int]:
    """Rows in every table of the models, by table name (the file store's aside: its evidence
    files are counted in the manifest's ``evidence``)."""
    return {
        name: int(db.session.scalar(select(func.count()).select_from(table)) or 0)
        for name, table in sorted(db.metadata.tables.items())
        if name not in STORE_TABLES
    }


def _integrity_check(path: Path) -> None:
    with closing(sqlite3.connect(path)) as connection:
        result = connection.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        raise BackupError(f"{path.name} failed SQLite's integrity check: {result}")


def create_backup(folder: Path) -> BackupReport:
    """Back up the database and the evidence store into ``folder`` (which must not exist).

    :raises BackupError: the folder exists, or the database could not be copied.
    """
    if folder.exists():
        raise BackupError(f"{folder} already exists: choose a new folder")
    folder.mkdir(parents=True, mode=0o700)
    dialect = _url().get_backend_name()
    rows = table_rows()
    db.session.remove()
    if dialect == "sqlite":
        target = folder / SQLITE_FILE
        with (
            closing(sqlite3.connect(_sqlite_path(), timeout=30)) as source,
            closing(sqlite3.connect(target)) as copy,
        ):
            source.backup(copy)
        with closing(sqlite3.connect(target)) as copy:
            copy.execute("PRAGMA journal_mode=DELETE")
        _integrity_check(target)
    elif dialect == "postgresql":
        target = folder / PG_FILE
        dsn, env = _libpq(_url())
        result = subprocess.run(  # noqa: S603 (fixed arguments, no shell)
            [
                _tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                *(f"--exclude-table-data={table}" for table in STORE_TABLES),
                "-f",
                str(target),
                dsn,
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    else:
        raise BackupError(f"Cannot back up a {dialect} database")

    evidence: dict[str, dict[str, Any]] = {}
    copy_dir = folder / EVIDENCE_FOLDER
    copy_dir.mkdir(mode=0o700)
    store = storage.store()
    for item in store.list(EVIDENCE_PREFIX):
        name = item.key.removeprefix(EVIDENCE_PREFIX)
        copied = copy_dir / name
        with copied.open("wb") as file:
            for piece in store.open(item.key):
                file.write(piece)
        evidence[name] = {"sha256": sha256_file(copied), "bytes": copied.stat().st_size}
    manifest = {
        "format": FORMAT,
        "created_at": utcnow().isoformat(timespec="seconds") + "Z",
        "dialect": dialect,
        "database": {
            "file": target.name,
            "sha256": sha256_file(target),
            "bytes": target.stat().st_size,
        },
        "evidence": evidence,
        "rows": rows,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return BackupReport(
        folder=folder,
        dialect=dialect,
        database_bytes=target.stat().st_size,
        evidence_files=len(evidence),
        evidence_bytes=sum(item["bytes"] for item in evidence.values()),
        rows=rows,
    )


def verify_backup(folder: Path) -> dict[str, Any]:
    """Check every file of a backup against its manifest.

    :returns: the manifest.
    :raises BackupError: listing each missing, extra or changed file.
    """
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(f"{folder} has no {MANIFEST}: it is not a complete backup")
    try:
        manifest = json.loads(manifest_path.read_text())
        database = manifest["database"]
        evidence = manifest["evidence"]
    except (ValueError, KeyError, TypeError) as error:
        raise BackupError(f"{MANIFEST} cannot be read: {error}") from error
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{MANIFEST} is format {manifest.get('format')}, not {FORMAT}")
    problems = []
    expected = {
        database["file"]: database,
        **{f"{EVIDENCE_FOLDER}/{k}": v for k, v in evidence.items()},
    }
    for relative, item in expected.items():
        path = folder / relative
        if Path(relative).name != path.name or ".." in Path(relative).parts:
            problems.append(f"{relative}: not a plain file name")
        elif not path.is_file():
            problems.append(f"{relative}: missing")
        elif path.stat().st_size != item["bytes"] or sha256_file(path) != item["sha256"]:
            problems.append(f"{relative}: does not match its SHA-256 in the manifest")
    evidence_dir = folder / EVIDENCE_FOLDER
    if evidence_dir.is_dir():
        for path in sorted(evidence_dir.iterdir()):
            if path.name not in evidence:
                problems.append(f"{EVIDENCE_FOLDER}/{path.name}: not in the manifest")
    if problems:
        raise BackupError(
            "The backup does not match its manifest, so nothing was restored:\n  "
            + "\n  ".join(problems)
        )
    return manifest


def restore_backup(folder: Path) -> dict[str, Any]:
    """Replace the database and the evidence store with the backup in ``folder``.

    :returns: the manifest restored.
    :raises BackupError: the backup fails :func:`verify_backup`, is of another kind of
        database, or the database could not be restored.
    """
    manifest = verify_backup(folder)
    dialect = _url().get_backend_name()
    if manifest["dialect"] != dialect:
        raise BackupError(
            f"This is a backup of a {manifest['dialect']} database; this site uses {dialect}"
        )
    source = folder / manifest["database"]["file"]
    db.session.remove()
    db.engine.dispose()
    if dialect == "sqlite":
        with (
            closing(sqlite3.connect(source)) as backup,
            closing(sqlite3.connect(_sqlite_path(), timeout=30)) as live,
        ):
            backup.backup(live)
        _integrity_check(_sqlite_path())
    else:
        dsn, env = _libpq(_url())
        result = subprocess.run(  # noqa: S603 (fixed arguments, no shell)
            [
                _tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                "-d",
                dsn,
                str(source),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed: {result.stderr.strip()}")

    store = storage.store()
    wanted = manifest["evidence"]
    for name in wanted:
        with (folder / EVIDENCE_FOLDER / name).open("rb") as file:
            store.save(f"{EVIDENCE_PREFIX}{name}", file)
    for item in store.list(EVIDENCE_PREFIX):
        if item.key.removeprefix(EVIDENCE_PREFIX) not in wanted:
            store.delete(item.key)
    _new_generation()
    return manifest


# -- commands -----------------------------------------------------------------------------------


@click.command("backup")
@click.option(
    "--to",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="A new folder for the backup (default: instance/backups/<UTC date and time>).",
)
@with_appcontext
def backup_command(folder: Path | None) -> None:
    """Back up the database and the evidence files, with a SHA-256 manifest."""
    if folder is None:
        stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
        folder = Path(current_app.instance_path) / "backups" / stamp
    try:
        report = create_backup(folder)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"Backed up the {report.dialect} database ({report.database_bytes:,} bytes, "
        f"{sum(report.rows.values()):,} rows) and {report.evidence_files} evidence files "
        f"({report.evidence_bytes:,} bytes) to {report.folder}"
    )


@click.command("restore")
@click.argument("folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(folder: Path, yes: bool) -> None:
    """Replace the database and evidence files with a backup (checked against its manifest).

    Stop the service first: restoring replaces everything it holds.
    """
    try:
        manifest = verify_backup(folder)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    if not yes:
        click.confirm(
            f"Replace this site's database and evidence files with the backup of "
            f"{manifest.get('created_at')}?",
            abort=True,
        )
    try:
        manifest = restore_backup(folder)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"Restored the backup of {manifest.get('created_at')}: "
        f"{sum(manifest.get('rows', {}).values()):,} rows and "
        f"{len(manifest['evidence'])} evidence files."
    )
