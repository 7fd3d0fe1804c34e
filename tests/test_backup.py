"""``flask backup`` and ``flask restore`` (tracker/backup.py): the restored site is identical."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select, text, update

from tracker.admin.demo import seed_demo
from tracker.backup import verify_backup
from tracker.demo_data import seed_dataset
from tracker.extensions import db
from tracker.models import Assessment, Evidence, Return
from tracker.storage import store


@pytest.fixture
def site(app, tmp_path):
    """Six councils' demo quarters, with evidence files in the test's own folder."""
    app.config["EVIDENCE_DIR"] = str(tmp_path / "evidence-store")
    with (
        time_machine.travel(datetime(2026, 11, 28, 12, tzinfo=UTC), tick=False),
        app.app_context(),
    ):
        seed_demo()
        seed_dataset("national", council_limit=6)
        db.session.commit()
    return app


def everything(app) -> tuple[dict[str, list], dict[str, str]]:
    """Every row of every table (ordered) and the SHA-256 of every evidence file. The file
    store's own tables are compared as files; the figures' generation is meant to move."""
    with app.app_context():
        tables = {}
        for name, table in sorted(db.metadata.tables.items()):
            if name in ("stored_files", "stored_file_chunks", "cache_generations"):
                continue
            order = list(table.primary_key.columns) or list(table.columns)
            rows = db.session.execute(select(table).order_by(*order)).all()
            tables[name] = [tuple(str(value) for value in row) for row in rows]
        files = {
            item.key.removeprefix("evidence/"): hashlib.sha256(store().read(item.key)).hexdigest()
            for item in store().list("evidence/")
        }
        db.session.remove()
    return tables, files


def vandalise(app) -> None:
    """Change a row, delete one evidence file and add a stray one."""
    with app.app_context():
        db.session.execute(update(Assessment).values(narrative="changed after the backup"))
        db.session.execute(text("DELETE FROM assessment_evidence"))
        db.session.commit()
        store().delete(store().list("evidence/")[0].key)
        store().save("evidence/" + "f" * 32, b"stray")
        db.session.remove()


def test_round_trip_restores_an_identical_site(site, tmp_path):
    before = everything(site)
    assert len(before[1]) == 6
    runner = site.test_cli_runner()
    result = runner.invoke(args=["backup", "--to", str(tmp_path / "backup")])
    assert result.exit_code == 0, result.output
    assert "6 evidence files" in result.output
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert set(manifest["evidence"]) == set(before[1])
    assert manifest["rows"]["assessments"] == len(before[0]["assessments"])

    vandalise(site)
    assert everything(site) != before

    result = runner.invoke(args=["restore", str(tmp_path / "backup"), "--yes"])
    assert result.exit_code == 0, result.output
    assert everything(site) == before


def test_a_backup_taken_under_write_load_is_consistent(site, tmp_path):
    """Saves keep committing while the backup runs; the copy is complete and restores, and it
    holds the written table as it stood between two of those commits: every other row as it
    was, and the rows being written as one commit left them (never half of one)."""
    with site.app_context():
        written = list(db.session.scalars(select(Assessment.id).order_by(Assessment.id).limit(2)))
        db.session.remove()
    assert len(written) == 2
    stop = threading.Event()
    #: (commit number, time.monotonic() just after the commit)
    commits: list[tuple[int, float]] = []

    def write() -> None:
        # Each commit changes both rows, so a backup that caught half a commit shows it.
        with site.app_context():
            number = 0
            while not stop.is_set():
                number += 1
                db.session.execute(
                    update(Assessment)
                    .where(Assessment.id.in_(written))
                    .values(narrative=f"write {number}", version_id=Assessment.version_id + 1)
                )
                db.session.commit()
                commits.append((number, time.monotonic()))
            db.session.remove()

    before_writes = everything(site)
    writer = threading.Thread(target=write)
    writer.start()
    try:
        while not commits:
            time.sleep(0.01)
        started = time.monotonic()
        result = site.test_cli_runner().invoke(args=["backup", "--to", str(tmp_path / "b")])
        finished = time.monotonic()
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    assert any(started <= at <= finished for _number, at in commits), "no write during the backup"
    verify_backup(tmp_path / "b")
    after_writes = everything(site)
    result = site.test_cli_runner().invoke(args=["restore", str(tmp_path / "b"), "--yes"])
    assert result.exit_code == 0, result.output
    restored = everything(site)

    # Every table but the written one, and every file, as the writes left them.
    assert restored[1] == after_writes[1]
    for name in after_writes[0]:
        if name not in ("assessments", "returns"):
            assert restored[0][name] == after_writes[0][name], name
    # Returns too, but for the data version that each write's trigger moved, which the backup
    # holds as it stood between two commits.
    data_version = [c.name for c in Return.__table__.columns].index("data_version")

    def but_data_version(rows: list[tuple]) -> list[tuple]:
        return [row[:data_version] + row[data_version + 1 :] for row in rows]

    assert but_data_version(restored[0]["returns"]) == but_data_version(after_writes[0]["returns"])
    for low, got, high in zip(
        before_writes[0]["returns"], restored[0]["returns"], after_writes[0]["returns"], strict=True
    ):
        assert int(low[data_version]) <= int(got[data_version]) <= int(high[data_version])
    # The written table: every other row as it was; the two written rows as one commit, made
    # before the backup finished, left them.
    columns = [c.name for c in Assessment.__table__.columns]
    narrative, version = columns.index("narrative"), columns.index("version_id")
    ids = {str(i) for i in written}
    rows = {row[0]: row for row in restored[0]["assessments"]}
    assert len(rows) == len(after_writes[0]["assessments"])
    assert [r for r in restored[0]["assessments"] if r[0] not in ids] == [
        r for r in after_writes[0]["assessments"] if r[0] not in ids
    ]
    originals = {row[0]: row for row in before_writes[0]["assessments"] if row[0] in ids}
    numbers = {rows[i][narrative] for i in ids}
    assert len(numbers) == 1, f"the backup caught half a commit: {numbers}"
    number = int(numbers.pop().removeprefix("write "))
    done_by_then = {n for n, at in commits if at <= finished}
    assert number in done_by_then
    for i in ids:
        assert int(rows[i][version]) == int(originals[i][version]) + number
        changed = {narrative, version}
        assert [v for k, v in enumerate(rows[i]) if k not in changed] == [
            v for k, v in enumerate(originals[i]) if k not in changed
        ]


@pytest.mark.parametrize("damage", ["changed", "missing", "extra", "manifest"])
def test_restore_refuses_a_backup_that_does_not_match_its_manifest(site, tmp_path, damage):
    backup = tmp_path / "backup"
    assert site.test_cli_runner().invoke(args=["backup", "--to", str(backup)]).exit_code == 0
    files = sorted((backup / "evidence").iterdir())
    if damage == "changed":
        files[0].write_bytes(b"tampered")
    elif damage == "missing":
        files[0].unlink()
    elif damage == "extra":
        (backup / "evidence" / ("0" * 32)).write_bytes(b"extra")
    else:
        (backup / "manifest.json").write_text("{not json")
    vandalise(site)
    before = everything(site)

    result = site.test_cli_runner().invoke(args=["restore", str(backup), "--yes"])
    assert result.exit_code == 1
    assert "nothing was restored" in result.output or "cannot be read" in result.output
    assert everything(site) == before


def test_backup_refuses_an_existing_folder(site, tmp_path):
    result = site.test_cli_runner().invoke(args=["backup", "--to", str(tmp_path)])
    assert result.exit_code == 1
    assert "already exists" in result.output


def test_restore_asks_before_replacing_everything(site, tmp_path):
    backup = tmp_path / "backup"
    assert site.test_cli_runner().invoke(args=["backup", "--to", str(backup)]).exit_code == 0
    vandalise(site)
    before = everything(site)
    result = site.test_cli_runner().invoke(args=["restore", str(backup)], input="n\n")
    assert result.exit_code == 1
    assert everything(site) == before
    with site.app_context():
        assert db.session.scalar(select(Evidence.id).limit(1)) is not None
    assert Path(backup, "manifest.json").exists()
