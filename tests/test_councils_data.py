"""Loading councils: 153 councils in nine ADASS regions, idempotent, bad rows refused."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tracker.councils.services import CouncilDataError, load_councils
from tracker.extensions import db
from tracker.models import Council, Region

CSV = Path(__file__).resolve().parent.parent / "tracker" / "data" / "councils.csv"

#: councils per ADASS region, from tracker/data/README.md
REGION_COUNTS = {
    "East Midlands": 10,
    "East of England": 12,
    "London": 33,
    "North East": 12,
    "North West": 24,
    "South East": 18,
    "South West": 15,
    "West Midlands": 14,
    "Yorkshire and the Humber": 15,
}


def test_loads_153_councils_in_nine_regions(empty_app):
    with empty_app.app_context():
        report = load_councils(CSV)
        db.session.commit()
        assert report.created["councils"] == 153
        rows = db.session.execute(
            select(Region.name, func.count(Council.id)).join(Council).group_by(Region.name)
        ).all()
        assert dict(rows) == REGION_COUNTS
        sheffield = db.session.scalar(select(Council).filter_by(short_name="Sheffield"))
        assert sheffield.gss_code == "E08000039"
        assert sheffield.former_codes == ["E08000019"]
        milton_keynes = db.session.scalar(select(Council).filter_by(gss_code="E06000042"))
        assert milton_keynes.region.name == "East of England"
        assert milton_keynes.ons_region == "South East"


def test_reload_is_idempotent(empty_app):
    with empty_app.app_context():
        load_councils(CSV)
        db.session.commit()
        report = load_councils(CSV)
        assert report.unchanged["councils"] == 153
        assert report.created["councils"] == report.updated["councils"] == 0


def test_council_dropped_from_file_is_kept_inactive(empty_app, tmp_path):
    with empty_app.app_context():
        load_councils(CSV)
        db.session.commit()
        smaller = tmp_path / "councils.csv"
        lines = CSV.read_text("utf-8").splitlines(keepends=True)
        smaller.write_text("".join(lines[:-1]), "utf-8")
        report = load_councils(smaller)
        db.session.commit()
        assert report.deactivated == 1
        assert db.session.scalar(select(func.count()).select_from(Council)) == 153


def test_bad_rows_are_all_reported_and_nothing_loaded(empty_app, tmp_path):
    bad = tmp_path / "councils.csv"
    shutil.copy(CSV, bad)
    with bad.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    rows[0]["gss_code"] = "X123"
    rows[5]["adass_region"] = "Wessex"
    rows[7]["gss_code"] = rows[8]["gss_code"]
    with bad.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with empty_app.app_context():
        with pytest.raises(CouncilDataError) as raised:
            load_councils(bad)
        message = str(raised.value)
        assert "row 2: GSS code 'X123'" in message
        assert "row 7: ADASS region 'Wessex'" in message
        assert "appears 2 times" in message
        assert db.session.scalar(select(func.count()).select_from(Council)) == 0


def test_cli_loads_councils(empty_app):
    result = empty_app.test_cli_runner().invoke(args=["councils", "load"])
    assert result.exit_code == 0, result.output
    assert "councils: 153 created" in result.output
