"""``flask backup`` and ``flask restore``: the database and the evidence files, with a manifest.

A backup is a folder:

- ``database.sqlite3``, made with SQLite's online backup API (a consistent copy while the service
  runs, never a copy of the live file), or ``database.pgdump``, made with ``pg_dump -Fc``;
- ``evidence/``, a copy of every file in the evidence store (``EVIDENCE_DIR``);
- ``manifest.json``, written last: the SHA-256 and size of every one of those files, the
  database's kind and the rows of each table.

``restore`` checks the whole manifest first and refuses, changing nothing, when any file is
missing, extra or different. Then it replaces the database's contents (SQLite's backup API in
the other direction, or ``pg_restore --clean --single-transaction``) and makes the evidence store
hold exactly the backed-up files.
"""

from __future__ import annotations

import hashlib
import json
import os
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
from sqlalchemy import func, select
from sqlalchemy.engine import URL

from tracker.clock import utcnow
from tracker.extensions import db

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


def _evidence_dir() -> Path:
    from tracker.returns.evidence import evidence_dir

    return evidence_dir()


def table_rows() -> dict[str, int]:
    """Rows in every table of the models, by table name."""
    return {
        name: int(db.session.scalar(select(func.count()).select_from(table)) or 0)
        for name, table in sorted(db.metadata.tables.items())
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
    source_dir = _evidence_dir()
    copy_dir = folder / EVIDENCE_FOLDER
    copy_dir.mkdir(mode=0o700)
    if source_dir.is_dir():
        for path in sorted(source_dir.iterdir()):
            if not path.is_file() or path.is_symlink():
                continue
            shutil.copy2(path, copy_dir / path.name)
            copied = copy_dir / path.name
            evidence[path.name] = {"sha256": sha256_file(copied), "bytes": copied.stat().st_size}
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

    target = _evidence_dir()
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    wanted = manifest["evidence"]
    for name in wanted:
        shutil.copy2(folder / EVIDENCE_FOLDER / name, target / name)
        (target / name).chmod(0o600)
    for path in target.iterdir():
        if path.is_file() and path.name not in wanted:
            path.unlink()
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
