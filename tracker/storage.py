"""The file store: evidence files, prepared reports and spreadsheets waiting for confirmation,
kept where every app node and worker reads the same bytes.

Two stores behind one interface (:class:`FileStore`), chosen by ``FILE_STORE``:

- ``database`` (the default when ``DATABASE_URL`` is PostgreSQL): the ``stored_files`` and
  ``stored_file_chunks`` tables. A file is written and read a chunk (1 MiB) at a time, in its
  own short transaction, so a download never holds a whole file in memory, nor a connection
  while the client is slow. Every node behind a load balancer sees a file the moment its upload
  is acknowledged, and the database's own backups and replicas carry it.
- ``folder`` (the default for the embedded SQLite database): the instance folder, as before
  (``EVIDENCE_DIR``, ``REPORT_FOLDER`` and ``IMPORT_FOLDER`` override where each kind goes). A
  single server, or several sharing one network file system.

A key is ``<kind>/<name>`` (``evidence/3f…``, ``reports/9a….pdf``, ``reports/cache/….pdf``,
``imports/….json``), made only of the names this app generates: :func:`check_key` refuses
anything else, so no key is ever a path outside the store.

``flask files migrate`` copies the instance folder's files into the database store (checking
each one's SHA-256); ``flask files check`` says whether every evidence item's file is there.
:func:`sweep` removes what is no longer wanted; the scheduler runs it hourly.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO, Protocol

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import StoredFile, StoredFileChunk

#: the largest piece of a file read, written or held at once
CHUNK = 1024 * 1024
#: the kinds of file kept, each the first part of its keys
KINDS = ("evidence", "reports", "imports")
DATABASE, FOLDER = "database", "folder"
_KEY = re.compile(r"^(evidence|reports|imports)/(?:cache/)?[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")


class StoreError(RuntimeError):
    """The store is misconfigured (a folder inside ``static/``, an unknown ``FILE_STORE``)."""


@dataclass(frozen=True)
class FileInfo:
    """What the store knows of a file without reading it; ``sha256`` is None when the store
    would have to read the file to know it (the folder store)."""

    key: str
    size: int
    #: in UTC without a time zone, as :func:`tracker.clock.utcnow`
    modified: datetime
    sha256: str | None = None


def check_key(key: str) -> str:
    """``key`` if it is one this app makes, else ValueError: never a path outside the store."""
    if not _KEY.match(key or "") or ".." in key:
        raise ValueError(f"not a file store key: {key!r}")
    return key


def _chunks(content: bytes | BinaryIO | Iterable[bytes]) -> Iterator[bytes]:
    """``content`` a chunk at a time, whether bytes, an open file or an iterable of bytes."""
    if isinstance(content, bytes | bytearray | memoryview):
        view = memoryview(content)
        for start in range(0, len(view), CHUNK):
            yield bytes(view[start : start + CHUNK])
        return
    read = getattr(content, "read", None)
    if read is not None:
        while piece := read(CHUNK):
            yield piece
        return
    buffer = bytearray()
    for piece in content:
        buffer += piece
        while len(buffer) >= CHUNK:
            yield bytes(buffer[:CHUNK])
            del buffer[:CHUNK]
    if buffer:
        yield bytes(buffer)


class FileStore(Protocol):
    """What every store does. ``save`` replaces a file whole or not at all."""

    kind: str

    def save(self, key: str, content: bytes | BinaryIO | Iterable[bytes]) -> FileInfo: ...

    def open(self, key: str) -> Iterator[bytes]:
        """The file's bytes a chunk at a time; FileNotFoundError at once when it is missing."""
        ...

    def read(self, key: str) -> bytes: ...

    def info(self, key: str) -> FileInfo | None: ...

    def delete(self, key: str) -> None: ...

    def list(self, prefix: str) -> list[FileInfo]:
        """Every file whose key starts with ``prefix`` (``evidence/``, ``reports/cache/``)."""
        ...


# -- the folder store ---------------------------------------------------------------------------


class FolderStore:
    """Files in folders, one per kind: ``roots["evidence"] / name``."""

    kind = FOLDER

    def __init__(self, roots: dict[str, Path]) -> None:
        self.roots = roots

    def path(self, key: str) -> Path:
        kind, _, rest = check_key(key).partition("/")
        return self.roots[kind] / rest

    def save(self, key: str, content: bytes | BinaryIO | Iterable[bytes]) -> FileInfo:
        path = self.path(key)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        digest, size = hashlib.sha256(), 0
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as file:
                for piece in _chunks(content):
                    file.write(piece)
                    digest.update(piece)
                    size += len(piece)
                file.flush()
                os.fsync(file.fileno())
            temporary.replace(path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return FileInfo(key, size, utcnow(), digest.hexdigest())

    def open(self, key: str) -> Iterator[bytes]:
        file = self.path(key).open("rb")  # FileNotFoundError now, not on the first chunk

        def pieces() -> Iterator[bytes]:
            with file:
                while piece := file.read(CHUNK):
                    yield piece

        return pieces()

    def read(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def info(self, key: str) -> FileInfo | None:
        try:
            stat = self.path(key).stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        modified = datetime.fromtimestamp(stat.st_mtime, UTC).replace(tzinfo=None)
        return FileInfo(key, stat.st_size, modified)

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def list(self, prefix: str) -> list[FileInfo]:
        kind, _, rest = prefix.partition("/")
        root = self.roots[kind]
        folder = root / rest.rstrip("/") if "/" in rest else root
        if not folder.is_dir():
            return []
        found = []
        # Every file under the folder, as the database store lists every key with the prefix.
        for path in sorted(folder.rglob("*")):
            key = f"{kind}/{path.relative_to(root).as_posix()}"
            if path.is_file() and key.startswith(prefix) and _KEY.match(key):
                found.append(self.info(key))
        return [item for item in found if item is not None]


# -- the database store -------------------------------------------------------------------------


class DatabaseStore:
    """Files in the ``stored_files`` and ``stored_file_chunks`` tables.

    Each operation runs in its own transaction on its own connection, never the request's
    session, so that a file is there (or not) the moment ``save`` returns, exactly as a file on
    disk would be: the caller removes it if what refers to it is not committed.
    """

    kind = DATABASE

    def save(self, key: str, content: bytes | BinaryIO | Iterable[bytes]) -> FileInfo:
        check_key(key)
        digest, size, count = hashlib.sha256(), 0, 0
        files, chunks = StoredFile.__table__, StoredFileChunk.__table__
        with db.engine.begin() as connection:
            now = utcnow()
            # The file's row first, inserted or taken over: its lock makes a second writer of
            # the same key (two nodes caching the same report) wait for this one, then replace
            # it whole, rather than fail on the key.
            row = {"size": 0, "sha256": "", "chunks": 0, "created_at": now}
            upsert = _dialect_insert(connection)(files).values(key=key, **row)
            connection.execute(upsert.on_conflict_do_update(index_elements=[files.c.key], set_=row))
            connection.execute(delete(chunks).where(chunks.c.key == key))
            for piece in _chunks(content):
                connection.execute(insert(chunks).values(key=key, seq=count, data=piece))
                digest.update(piece)
                size += len(piece)
                count += 1
            connection.execute(
                update(files)
                .where(files.c.key == key)
                .values(size=size, sha256=digest.hexdigest(), chunks=count)
            )
        return FileInfo(key, size, now, digest.hexdigest())

    def open(self, key: str) -> Iterator[bytes]:
        found = self.info(key)
        if found is None:
            raise FileNotFoundError(key)
        chunks = StoredFileChunk.__table__
        # Kept now: the response is read after the request (and its app context) has ended.
        engine = db.engine

        def pieces() -> Iterator[bytes]:
            # One chunk per short query: no connection is held while the client reads.
            seq = 0
            while True:
                with engine.connect() as connection:
                    piece = connection.scalar(
                        select(chunks.c.data).where(chunks.c.key == key, chunks.c.seq == seq)
                    )
                if piece is None:
                    return
                yield bytes(piece)
                seq += 1

        return pieces()

    def read(self, key: str) -> bytes:
        return b"".join(self.open(key))

    def info(self, key: str) -> FileInfo | None:
        files = StoredFile.__table__
        with db.engine.connect() as connection:
            row = connection.execute(
                select(files.c.size, files.c.created_at, files.c.sha256).where(
                    files.c.key == check_key(key)
                )
            ).first()
        return None if row is None else FileInfo(key, row.size, row.created_at, row.sha256)

    def delete(self, key: str) -> None:
        files, chunks = StoredFile.__table__, StoredFileChunk.__table__
        with db.engine.begin() as connection:
            connection.execute(delete(chunks).where(chunks.c.key == key))
            connection.execute(delete(files).where(files.c.key == key))

    def list(self, prefix: str) -> list[FileInfo]:
        files = StoredFile.__table__
        with db.engine.connect() as connection:
            rows = connection.execute(
                select(files.c.key, files.c.size, files.c.created_at, files.c.sha256)
                .where(files.c.key.startswith(prefix, autoescape=True))
                .order_by(files.c.key)
            ).all()
        return [FileInfo(row.key, row.size, row.created_at, row.sha256) for row in rows]


def _dialect_insert(connection):
    """``INSERT`` with ``ON CONFLICT`` for the connection's database."""
    return postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert


# -- which store --------------------------------------------------------------------------------


def folder_roots(app: Flask) -> dict[str, Path]:
    """Where each kind of file goes in the folder store: the configured folder, else the
    instance folder's ``evidence``, ``reports`` and ``imports``. None may be inside ``static/``
    (it would be served to anyone)."""
    static = Path(app.static_folder or "static").resolve()
    roots = {}
    for kind, setting in (
        ("evidence", "EVIDENCE_DIR"),
        ("reports", "REPORT_FOLDER"),
        ("imports", "IMPORT_FOLDER"),
    ):
        configured = app.config.get(setting)
        root = (Path(configured) if configured else Path(app.instance_path) / kind).resolve()
        if root == static or static in root.parents:
            raise StoreError(f"{setting} must be outside the static folder")
        roots[kind] = root
    return roots


def kind_for(app: Flask) -> str:
    """``FILE_STORE`` if set, else the database on PostgreSQL and the folder otherwise."""
    configured = (app.config.get("FILE_STORE") or "").strip().lower()
    if configured in (DATABASE, FOLDER):
        return configured
    if configured:
        raise StoreError(f"FILE_STORE must be {DATABASE!r} or {FOLDER!r}, not {configured!r}")
    url = str(app.config.get("SQLALCHEMY_DATABASE_URI", ""))
    return DATABASE if url.startswith("postgresql") else FOLDER


def store(app: Flask | None = None) -> FileStore:
    """The app's file store (see the module's docstring)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    if kind_for(app) == DATABASE:
        return DatabaseStore()
    return FolderStore(folder_roots(app))


def new_name(suffix: str = "") -> str:
    """A random file name of the kind :func:`check_key` accepts."""
    return f"{secrets.token_hex(16)}{suffix}"


# -- keeping it tidy ----------------------------------------------------------------------------

#: an evidence file no evidence item names, or a pack no job names, is removed after this long
#: (an upload writes its file a moment before its row is committed)
ORPHAN_GRACE = timedelta(days=1)


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Remove what nobody will read: spreadsheets never confirmed, cached board reports beyond
    the cache's size, markers of preparations whose worker died, and files no row names (an
    upload whose commit failed). The scheduler runs it hourly; it is safe at any time, on any
    node. :returns: how many of each kind went."""
    from tracker.models import Evidence, ReportJob
    from tracker.reports import jobs, render
    from tracker.returns.spreadsheet import sweep_uploads

    now = now or utcnow()
    store_ = store()
    removed = {
        "uploads": sweep_uploads(store_, now),
        "cached_reports": render.trim_cache(),
        "markers": jobs.sweep_markers(now),
        "orphans": 0,
    }
    named = {
        "evidence/": Evidence.stored_name,
        "reports/": ReportJob.stored_name,
    }
    for prefix, column in named.items():
        kept = set(db.session.scalars(select(column).where(column.is_not(None))))
        for item in store_.list(prefix):
            name = item.key.removeprefix(prefix)
            if "/" in name or name in kept or now - item.modified < ORPHAN_GRACE:
                continue
            store_.delete(item.key)
            removed["orphans"] += 1
    return removed


# -- commands -----------------------------------------------------------------------------------

files_cli = AppGroup("files", help="The file store: evidence files and prepared reports.")


@files_cli.command("migrate")
def migrate_command() -> None:
    """Copy the instance folder's files into the database's file store, checking each one's
    SHA-256 (files already there, the same, are skipped). The folder is left as it was: remove
    it yourself once ``flask files check`` is content."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    target = store(app)
    if target.kind != DATABASE:
        raise click.ClickException(
            "The file store is the instance folder already (FILE_STORE, or a SQLite database): "
            "there is nothing to migrate"
        )
    source = FolderStore(folder_roots(app))
    copied = skipped = 0
    for kind in KINDS:
        for item in source.list(f"{kind}/"):
            digest = hashlib.sha256()
            for piece in source.open(item.key):
                digest.update(piece)
            there = target.info(item.key)
            if there is not None and there.sha256 == digest.hexdigest():
                skipped += 1
                continue
            saved = target.save(item.key, source.open(item.key))
            if saved.sha256 != digest.hexdigest():
                raise click.ClickException(f"{item.key} changed while it was copied: run again")
            copied += 1
    click.echo(f"Copied {copied} files into the database; {skipped} were there already.")


@files_cli.command("check")
def check_command() -> None:
    """Check that every uploaded evidence item's file is in the store, of the size and
    SHA-256 recorded when it was uploaded. Exits with 1 when any is missing or different."""
    from tracker.models import Evidence

    store_ = store()
    problems, checked = [], 0
    items = db.session.execute(
        select(Evidence.id, Evidence.stored_name, Evidence.size_bytes, Evidence.sha256).where(
            Evidence.stored_name.is_not(None)
        )
    ).all()
    for item in items:
        checked += 1
        key = f"evidence/{item.stored_name}"
        digest = hashlib.sha256()
        try:
            for piece in store_.open(key):
                digest.update(piece)
        except FileNotFoundError:
            problems.append(f"evidence {item.id}: {key} is missing")
            continue
        if item.sha256 and digest.hexdigest() != item.sha256:
            problems.append(f"evidence {item.id}: {key} does not match its SHA-256")
    for problem in problems:
        click.echo(problem)
    click.echo(f"{checked - len(problems)} of {checked} evidence files are whole ({store_.kind}).")
    if problems:
        raise SystemExit(1)


@files_cli.command("sweep")
def sweep_command() -> None:
    """Remove what nobody will read (see :func:`sweep`); the scheduler runs it hourly."""
    removed = sweep()
    db.session.commit()
    click.echo(", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in removed.items()))
