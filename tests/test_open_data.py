"""The open data: a closed quarter's Data Package, its page, its download and its command.

The world (:func:`make_world`) has seven councils in one quarter: three that share named
returns and whose returns are signed off (Leeds, Wakefield, Camden); Cornwall, signed off but
keeping its named returns to itself; Bradford, sharing but only submitted; Hartlepool, neither;
and Sheffield, whose return is still a draft. The quarter is then closed. Leeds's return was
sent back once with a note, has a panel member's comment and the council's answer, a lead
officer's name, a partner, a link as evidence and a narrative that looks like a formula: none
of that may leak but the count of evidence and the (neutralised) narrative.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import zipfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from frictionless import Resource, Schema, validate
from sqlalchemy import event, func, select, update

from tests.access_matrix import council, make_person
from tests.conftest import parse_page
from tests.returns_data import (
    LABEL,
    SLUG,
    assess,
    assess_all,
    close_period,
    get_return,
    open_period,
    sign_off,
    submit,
)
from tracker.compare.services import set_sharing
from tracker.domain.visibility import aggregate_refusal
from tracker.extensions import db
from tracker.models import (
    Action,
    Assessment,
    Council,
    PanelProfile,
    Period,
    Return,
    ReturnStatus,
    Role,
    User,
)
from tracker.opendata import package
from tracker.opendata.schema import TABLES, fields_markdown
from tracker.panels import services as panels
from tracker.returns import evidence, services
from tracker.returns.spreadsheet import neutralise

LEEDS, WAKEFIELD, CAMDEN = "E08000035", "E08000036", "E09000007"
CORNWALL, BRADFORD, HARTLEPOOL, SHEFFIELD = "E06000052", "E08000032", "E06000001", "E08000039"
NAMED = (LEEDS, WAKEFIELD, CAMDEN)
#: in the national summary, not in returns.csv
UNNAMED = (CORNWALL, BRADFORD, HARTLEPOOL)
WORLD = (*NAMED, *UNNAMED, SHEFFIELD)
NOT_SHARING = (CORNWALL, HARTLEPOOL)
FILES = (
    "datapackage.json",
    "actions.csv",
    "actions.json",
    "returns.csv",
    "returns.json",
    "assessments.csv",
    "assessments.json",
    "national_summary.csv",
    "national_summary.json",
)
#: strings that must appear in no file of the package
SEND_BACK_NOTE = "SENDBACK-CANARY say more about carers"
PANEL_COMMENT = "PANEL-CANARY carers were not asked"
PANEL_ANSWER = "ANSWER-CANARY we asked them in March"
LEAD_OFFICER = "Prudence Canary-Officer"
PARTNERS = "PARTNER-CANARY Trust"
CO_PRODUCTION = "COPRODUCTION-CANARY with Mrs Example"
EVIDENCE_TITLE = "EVIDENCE-CANARY board paper"
EVIDENCE_URL = "https://example.org/evidence-canary.pdf"
FORMULA = '=HYPERLINK("https://example.org","click")'
#: the action whose Leeds assessment carries the canaries
ACTION = "A01.S01"


def _frictionless_cli() -> str:
    return str(Path(sys.executable).with_name("frictionless"))


def make_world(app: Flask) -> None:
    """The seven councils' returns for LABEL, then the quarter closed (see the module's doc)."""
    open_period(app, only=WORLD)
    with app.app_context():
        for code in NOT_SHARING:
            set_sharing(council(code), False, actor=None)
        db.session.commit()
    for code in WORLD:
        assess_all(app, code)
    # Leeds: an Amber action with a formula-like narrative and the text no one outside it reads.
    assess(
        app,
        LEEDS,
        [ACTION],
        {
            "stage": "implementing",
            "rag": "amber",
            "narrative": FORMULA,
            "next_steps": "+44 is the dialling code",
            "lead_officer": LEAD_OFFICER,
            "partners": PARTNERS,
            "is_co_produced": True,
            "co_production_how": CO_PRODUCTION,
            "amount_pounds": 1200,
            "funding_source": "bcf",
            "barriers": ["workforce", "funding"],
        },
    )
    with app.app_context():
        editor = make_person(
            "editor-canary@example.org", Role.COUNCIL_EDITOR, council=council(LEEDS)
        )
        item = evidence.add_link_evidence(
            council(LEEDS),
            EVIDENCE_TITLE,
            "board_paper",
            date(2025, 10, 1),
            EVIDENCE_URL,
            actor=editor,
        )
        target = db.session.scalar(
            select(Assessment)
            .join(Action, Action.id == Assessment.action_id)
            .where(Assessment.return_id == get_return(LEEDS).id, Action.code == ACTION)
        )
        evidence.link_evidence(target, item, actor=editor)
        db.session.commit()
    submit(app, LEEDS)
    with app.app_context():
        approver = make_person(
            "approver-canary@example.org", Role.COUNCIL_APPROVER, council=council(LEEDS)
        )
        services.send_back_return(get_return(LEEDS), SEND_BACK_NOTE, actor=approver)
        db.session.commit()
    submit(app, LEEDS)
    with app.app_context():
        member = make_person("panel-canary@example.org", Role.PANEL_MEMBER, council=council(LEEDS))
        action = db.session.scalar(select(Action).where(Action.code == ACTION))
        comment = panels.add_comment(get_return(LEEDS), action, PANEL_COMMENT, actor=member)
        editor = make_person(
            "answerer-canary@example.org", Role.COUNCIL_EDITOR, council=council(LEEDS)
        )
        panels.answer_comment(comment, PANEL_ANSWER, actor=editor)
        db.session.commit()
    for code in (*NAMED, CORNWALL, BRADFORD, HARTLEPOOL):
        if code != LEEDS:
            submit(app, code)
    for code in (*NAMED, CORNWALL):
        sign_off(app, code)
    close_period(app)


@dataclass
class Package:
    """A built package, read back."""

    folder: Path
    files: dict[str, bytes]

    def csv(self, table: str) -> list[dict[str, str]]:
        text = self.files[f"{table}.csv"].decode("utf-8")
        return list(csv.DictReader(io.StringIO(text, newline="")))

    def json(self, table: str) -> list[dict[str, Any]]:
        return json.loads(self.files[f"{table}.json"])

    @property
    def descriptor(self) -> dict[str, Any]:
        return json.loads(self.files["datapackage.json"])


def build(app: Flask, folder: Path, label: str = LABEL) -> Package:
    """The package of ``label``, written into ``folder`` as the command does."""
    with app.app_context():
        package.write_package(package.find_closed_period(label), folder)
    return Package(folder, {path.name: path.read_bytes() for path in folder.iterdir()})


def assert_valid(folder: Path) -> None:
    report = validate(str(folder / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])


def assert_json_rows_fit_their_schema(built: Package) -> None:
    """The JSON files are listed as plain JSON (frictionless reads tabular JSON only with an
    extra it does not install), so their rows are checked here against the CSV's schema."""
    for table in TABLES.values():
        rows = built.json(table.name)
        assert all(list(row) == list(table.names) for row in rows), table.name
        # Without its foreign keys: the tables they refer to are not loaded here.
        schema = Schema.from_descriptor({**table.schema(), "foreignKeys": []})
        resource = Resource(data=[list(table.names), *[list(r.values()) for r in rows]])
        resource.schema = schema
        report = validate(resource)
        assert report.valid, (table.name, report.flatten(["rowNumber", "fieldName", "note"]))


def stage_counts(app: Flask, codes: tuple[str, ...]) -> dict[str, Counter[str]]:
    """GSS code → the council's actions by stage in LABEL, straight from the database."""
    with app.app_context():
        rows = db.session.execute(
            select(Council.gss_code, Assessment.stage, func.count())
            .join(Return, Return.council_id == Council.id)
            .join(Period, Period.id == Return.period_id)
            .join(Assessment, Assessment.return_id == Return.id)
            .where(Period.label == LABEL, Council.gss_code.in_(codes))
            .group_by(Council.gss_code, Assessment.stage)
        ).all()
    found: dict[str, Counter[str]] = {}
    for code, stage, count in rows:
        found.setdefault(code, Counter())[stage or "not_assessed"] += count
    return found


def national_counts(app: Flask) -> dict[str, Counter[str]]:
    """Action code → councils at each stage over LABEL's submitted and signed-off returns."""
    with app.app_context():
        rows = db.session.execute(
            select(Action.code, Assessment.stage, func.count())
            .join(Assessment, Assessment.action_id == Action.id)
            .join(Return, Return.id == Assessment.return_id)
            .join(Period, Period.id == Return.period_id)
            .where(
                Period.label == LABEL,
                Return.status.in_([ReturnStatus.SUBMITTED, ReturnStatus.SIGNED_OFF]),
            )
            .group_by(Action.code, Assessment.stage)
        ).all()
    found: dict[str, Counter[str]] = {}
    for code, stage, count in rows:
        found.setdefault(code, Counter())[stage or "not_assessed"] += count
    return found


# -- the package -------------------------------------------------------------------------------


def test_a_closed_quarter_is_a_valid_data_package_that_holds_the_databases_rows(app, tmp_path):
    make_world(app)
    built = build(app, tmp_path / "package")

    assert sorted(built.files) == sorted(FILES)
    assert_valid(built.folder)
    assert_json_rows_fit_their_schema(built)
    descriptor = built.descriptor
    assert descriptor["licenses"] == [
        {
            "name": "OGL-UK-3.0",
            "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
            "title": "Open Government Licence v3.0",
        }
    ]
    assert "Time to act" in descriptor["sources"][0]["title"]
    assert descriptor["created"].endswith("Z")
    assert {r["path"] for r in descriptor["resources"]} == set(FILES) - {"datapackage.json"}

    # The roadmap's actions: 114 roadmap actions and 26 actions on barriers and enablers.
    actions = built.csv("actions")
    assert Counter(row["kind"] for row in actions) == {
        "Roadmap action": 114,
        "Action on barriers and enablers": 26,
    }
    with app.app_context():
        trackable = set(
            db.session.scalars(
                select(Action.code).where(Action.parent_id.is_(None), Action.archived_at.is_(None))
            )
        )
    assert {row["code"] for row in actions} == trackable

    # Signed off and shared by name: only the three named councils, with their stage counts.
    returns = {row["gss_code"]: row for row in built.csv("returns")}
    assert set(returns) == set(NAMED)
    counts = stage_counts(app, NAMED)
    for code, row in returns.items():
        assert row["period"] == LABEL
        assert row["months"] == "October to December 2025"
        assert row["region"] in {"Yorkshire and the Humber", "London"}
        assert date.fromisoformat(row["signed_off_on"])
        assert int(row["actions"]) == 140
        for stage in ("not_started", "planning", "implementing", "embedded", "not_applicable"):
            assert int(row[stage]) == counts[code][stage], (code, stage)
        assert int(row["not_assessed"]) == counts[code]["not_assessed"]
    assert returns[LEEDS]["council"] == "Leeds City Council"

    # Every action of each of those returns, as the database holds it.
    assessments = built.csv("assessments")
    assert len(assessments) == 3 * 140
    assert Counter(row["gss_code"] for row in assessments) == {code: 140 for code in NAMED}
    leeds = {row["action_code"]: row for row in assessments if row["gss_code"] == LEEDS}
    assert leeds[ACTION]["stage"] == "Implementing"
    assert leeds[ACTION]["rag"] == "Amber"
    assert leeds[ACTION]["review_state"] == "Updated"
    assert leeds[ACTION]["barriers"] == "Funding; Workforce"
    assert leeds[ACTION]["funding_source"] == "Better Care Fund"
    assert leeds[ACTION]["amount_pounds"] == "1200"
    assert leeds[ACTION]["co_produced"] == "Yes"
    assert leeds[ACTION]["evidence_items"] == "1"
    assert {row["stage"] for code, row in leeds.items() if code != ACTION} == {"Embedded"}
    assert all(row["evidence_items"] == "0" for code, row in leeds.items() if code != ACTION)

    # Formula-like text is neutralised in the CSV, as the spreadsheet export does, and kept as
    # written in the JSON.
    assert leeds[ACTION]["narrative"] == neutralise(FORMULA) == "'" + FORMULA
    assert leeds[ACTION]["next_steps"] == "'+44 is the dialling code"
    leeds_json = next(
        row
        for row in built.json("assessments")
        if row["gss_code"] == LEEDS and row["action_code"] == ACTION
    )
    assert leeds_json["narrative"] == FORMULA
    assert leeds_json["amount_pounds"] == 1200
    assert leeds_json["rag"] == "Amber"

    # The national summary: all six submitted or signed-off returns, three of them unnamed.
    summary = {row["action_code"]: row for row in built.csv("national_summary")}
    assert set(summary) == trackable
    assert aggregate_refusal(6, 3) is None
    expected = national_counts(app)
    for code, row in summary.items():
        assert row["councils"] == "6", code
        assert row["suppressed_reason"] == "", code
        for stage in ("not_started", "planning", "implementing", "embedded", "not_applicable"):
            assert int(row[stage]) == expected[code][stage], (code, stage)
        assert int(row["not_assessed"]) == expected[code]["not_assessed"], code
    assert (summary[ACTION]["implementing"], summary[ACTION]["embedded"]) == ("1", "5")

    # The JSON files hold the CSV's rows.
    for table in TABLES.values():
        from_csv = built.csv(table.name)
        from_json = built.json(table.name)
        assert len(from_csv) == len(from_json), table.name
        for csv_row, json_row in zip(from_csv, from_json, strict=True):
            for name in table.names:
                value = json_row[name]
                written = "" if value is None else str(value)
                assert csv_row[name] == (neutralise(written) if value else written), name


def test_no_council_outside_returns_csv_and_no_private_text_appears_anywhere(app, tmp_path):
    make_world(app)
    built = build(app, tmp_path / "package")
    with app.app_context():
        places = [council(code) for code in (*UNNAMED, SHEFFIELD)]
        absent = [text for p in places for text in (p.gss_code, p.name, p.short_name)]
        # nobody's name or address: every account the world made, and the panel's pseudonyms
        absent += [t for u in db.session.scalars(select(User)) for t in (u.display_name, u.email)]
        absent += [n for n in db.session.scalars(select(PanelProfile.display_name)) if n]
    absent += [
        SEND_BACK_NOTE,
        PANEL_COMMENT,
        PANEL_ANSWER,
        LEAD_OFFICER,
        PARTNERS,
        CO_PRODUCTION,
        EVIDENCE_TITLE,
        EVIDENCE_URL,
    ]
    for name, content in built.files.items():
        text = content.decode("utf-8")
        for needle in absent:
            assert needle not in text, (needle, name)
            # the JSON escapes nothing here (ensure_ascii=False), but check its spelling too
            assert json.dumps(needle)[1:-1] not in text, (needle, name)


def test_a_council_that_starts_sharing_appears_and_a_summary_that_would_reveal_one_is_withheld(
    app, tmp_path
):
    make_world(app)
    # Cornwall (signed off) now shares its named returns: it is in returns.csv, and the
    # national summary's unnamed councils are only Bradford and Hartlepool (two), whose answers
    # the summary minus the named councils would reveal.
    with app.app_context():
        set_sharing(council(CORNWALL), True, actor=None)
        db.session.commit()
    built = build(app, tmp_path / "package")
    assert_valid(built.folder)
    assert {row["gss_code"] for row in built.csv("returns")} == {*NAMED, CORNWALL}
    reason = aggregate_refusal(6, 2)
    assert reason is not None
    for row in built.csv("national_summary"):
        assert row["councils"] == "6"
        assert row["suppressed_reason"] == reason
        assert [row[s] for s in ("not_started", "planning", "implementing", "embedded")] == [""] * 4
        assert row["not_applicable"] == row["not_assessed"] == ""
    assert all(row["embedded"] is None for row in built.json("national_summary"))


def test_with_fewer_than_three_councils_the_national_summary_is_withheld(app, tmp_path):
    open_period(app, only=(LEEDS, WAKEFIELD))
    for code in (LEEDS, WAKEFIELD):
        assess_all(app, code)
        submit(app, code)
        sign_off(app, code)
    close_period(app)
    built = build(app, tmp_path / "package")
    assert_valid(built.folder)
    assert {row["gss_code"] for row in built.csv("returns")} == {LEEDS, WAKEFIELD}
    reason = aggregate_refusal(2, 0)
    assert reason == "Not shown: fewer than 3 councils have submitted a return (2)"
    summary = built.csv("national_summary")
    assert len(summary) == 140
    assert {row["suppressed_reason"] for row in summary} == {reason}
    assert {row["embedded"] for row in summary} == {""}


def test_a_quarter_with_no_signed_off_return_is_an_empty_but_valid_package(app, tmp_path):
    open_period(app, only=(LEEDS,))
    close_period(app)
    built = build(app, tmp_path / "package")
    assert_valid(built.folder)
    assert built.csv("returns") == []
    assert built.csv("assessments") == []
    assert built.json("returns") == []
    assert len(built.csv("actions")) == 140


def test_an_open_period_is_not_published(app):
    open_period(app, only=(LEEDS,))
    with app.app_context():
        with pytest.raises(package.OpenDataError, match="only a closed period"):
            package.find_closed_period(LABEL)
        period = db.session.scalar(select(Period).where(Period.label == LABEL))
        with pytest.raises(package.OpenDataError):
            package.build_package(period, io.BytesIO())
        assert package.get_closed_period(SLUG) is None
        assert package.list_published_periods() == []


@contextmanager
def counting(app: Flask) -> Iterator[list[str]]:
    """The SQL statements the app's engine runs inside the block."""
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_building_a_package_takes_four_statements_whatever_the_number_of_councils(app):
    open_period(app, only=None)
    close_period(app)
    counts = []
    for size in (1, 3, 10, None):
        with app.app_context():
            period = db.session.scalar(select(Period).where(Period.label == LABEL))
            ids = list(db.session.scalars(select(Council.id).order_by(Council.gss_code)))
            chosen = ids if size is None else ids[:size]
            db.session.execute(
                update(Return)
                .where(Return.period_id == period.id)
                .values(status=ReturnStatus.DRAFT, signed_off_at=None)
            )
            db.session.execute(
                update(Return)
                .where(Return.period_id == period.id, Return.council_id.in_(chosen))
                .values(status=ReturnStatus.SIGNED_OFF, signed_off_at=func.current_timestamp())
            )
            db.session.execute(update(Assessment).values(stage="embedded"))
            db.session.commit()
            db.session.refresh(period)  # loaded again after the commit, as a request loads it
            with counting(app) as statements:
                summary = package.build_package(period, io.BytesIO())
            assert summary.rows["returns"] == len(chosen)
            assert summary.rows["assessments"] == 140 * len(chosen)
            counts.append(len(statements))
    assert len(set(counts)) == 1, f"statements grew with the number of councils: {counts}"
    # the actions, the returns, their assessments (fetched in batches) and the national summary
    assert counts[0] == 4, counts


def test_the_documentation_lists_every_field_from_the_schema():
    docs = (Path(__file__).parents[1] / "docs" / "open-data.md").read_text()
    start, end = "<!-- fields: start -->", "<!-- fields: end -->"
    generated = docs.split(start, 1)[1].split(end, 1)[0].strip()
    assert generated == fields_markdown().strip(), (
        "docs/open-data.md is out of step with tracker/opendata/schema.py: paste "
        "fields_markdown() between its markers"
    )


# -- the command -------------------------------------------------------------------------------


def test_the_command_writes_a_folder_and_a_zip_that_frictionless_validate_accepts(
    app, runner, tmp_path
):
    open_period(app, only=(LEEDS,))
    assess_all(app, LEEDS)
    submit(app, LEEDS)
    sign_off(app, LEEDS)

    refused = runner.invoke(args=["opendata", "build", LABEL, "-o", str(tmp_path / "x")])
    assert refused.exit_code != 0
    assert "only a closed period is published" in refused.output
    close_period(app)

    folder = tmp_path / "folder"
    result = runner.invoke(args=["opendata", "build", LABEL, "-o", str(folder)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES)
    checked = subprocess.run(
        [_frictionless_cli(), "validate", "datapackage.json"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "INVALID" not in checked.stdout

    zipped = tmp_path / "open-data.zip"
    result = runner.invoke(args=["opendata", "build", LABEL, "-o", str(zipped)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(zipped) as archive:
        assert archive.namelist() == list(FILES)
        assert archive.read("returns.csv") == (folder / "returns.csv").read_bytes()

    unknown = runner.invoke(args=["opendata", "build", "2030-31 Q1", "-o", str(folder)])
    assert unknown.exit_code != 0
    assert "There is no period 2030-31 Q1" in unknown.output


# -- the pages ---------------------------------------------------------------------------------


def test_the_open_data_page_lists_closed_quarters_with_their_councils_and_downloads(app, client):
    page = parse_page(client.get("/open-data"))
    assert page.h1.get_text(strip=True) == "Open data"
    assert "There is nothing to download yet" in page.get_text()
    assert page.find("a", href="/open-data", string="Open data") is not None  # the footer

    make_world(app)
    response = client.get("/open-data")
    assert response.status_code == 200
    page = parse_page(response)
    rows = page.select("table tbody tr")
    assert len(rows) == 1
    cells = [cell.get_text(" ", strip=True) for cell in rows[0].find_all(["th", "td"])]
    assert cells[0] == "October to December 2025"
    assert cells[1] == "3"
    link = rows[0].find("a")
    assert link["href"] == f"/open-data/{SLUG}.zip"
    assert link.get_text(" ", strip=True) == "Download ZIP for October to December 2025"
    licence = page.find("a", rel="license", string="Open Government Licence v3.0")
    assert licence["href"] == package.LICENCE["path"]


def test_the_download_is_a_zip_attachment_of_the_package(app, client):
    make_world(app)
    response = client.get(f"/open-data/{SLUG}.zip")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="roadmap-tracker-open-data-{SLUG}.zip"'
    )
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert archive.namelist() == list(FILES)
        returns = archive.read("returns.csv").decode()
    assert "Leeds City Council" in returns
    assert "Cornwall" not in returns


def test_an_open_unknown_or_malformed_quarter_is_not_found(app, client):
    open_period(app, only=(LEEDS,))
    assert client.get(f"/open-data/{SLUG}.zip").status_code == 404
    assert client.get("/open-data/2024-25-Q1.zip").status_code == 404
    assert client.get("/open-data/2025-27-Q1.zip").status_code == 404
    assert client.get("/open-data/2025-26-Q5.zip").status_code == 404
    assert client.get(f"/open-data/{SLUG}").status_code == 404


def test_downloads_are_rate_limited_per_address(app, client):
    open_period(app, only=(LEEDS,))
    close_period(app)
    app.config["OPEN_DATA_RATE_LIMIT"] = 2
    assert client.get(f"/open-data/{SLUG}.zip").status_code == 200
    assert client.get(f"/open-data/{SLUG}.zip").status_code == 200
    refused = client.get(f"/open-data/{SLUG}.zip")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    # a 404 costs nothing to make and is not counted
    assert client.get("/open-data/2024-25-Q1.zip").status_code == 404
