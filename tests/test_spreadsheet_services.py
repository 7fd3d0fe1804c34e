"""The spreadsheet export and import services: the template, formula neutralising, the preview's
changes and row errors, file checks, and all-or-nothing apply."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from tests.factories import get_user, make_user
from tracker.extensions import db
from tracker.models import Assessment, AuditEvent, Council, Return, Role
from tracker.returns import services, spreadsheet
from tracker.returns.periods import create_period, open_period
from tracker.returns.services import ReturnError, save_assessment, submit_return
from tracker.returns.spreadsheet import (
    HEADINGS,
    ImportConflict,
    ImportFileError,
    apply_import,
    build_csv,
    build_xlsx,
    preview_import,
)

LEEDS = "E08000035"
TRACKABLE = 140
PERIOD = "2025-26 Q3"
DANGEROUS = {
    "narrative": '=HYPERLINK("https://evil.example","click")',
    "next_steps": "+44 113 000 0000",
    "lead_officer": "@SUM(A1)",
    "partners": "-2+3",
}


# -- helpers shared with tests/test_spreadsheet_views.py -----------------------------------------


@dataclass(frozen=True)
class World:
    leeds_id: int
    return_id: int
    editor_id: int


#: the councils given a return: Leeds, Wakefield (same region) and Cornwall (another region)
WORLD_COUNCILS = (LEEDS, "E08000036", "E06000052")


def make_world(app) -> World:
    """Draft returns for 2025-26 Q3 for Leeds and two other councils, and a Leeds editor.

    Only those three councils are active while the period opens (then all are again), so a
    test inserts 420 assessments rather than 153 councils' 21,420.
    """
    with app.app_context():
        leeds = db.session.scalar(select(Council).where(Council.gss_code == LEEDS))
        editor = make_user(email="editor@example.org", memberships=[(Role.COUNCIL_EDITOR, leeds)])
        others = db.session.scalars(
            select(Council).where(Council.is_active, Council.gss_code.not_in(WORLD_COUNCILS))
        ).all()
        for other in others:
            other.is_active = False
        period = create_period(PERIOD, date(2026, 1, 31), actor=None)
        open_period(period, actor=None)
        for other in others:
            other.is_active = True
        return_id = db.session.scalar(
            select(Return.id).where(Return.council_id == leeds.id, Return.period_id == period.id)
        )
        db.session.commit()
        return World(leeds_id=leeds.id, return_id=return_id, editor_id=editor.id)


def leeds_return(world: World) -> Return:
    return db.session.get(Return, world.return_id)


def assessment(world: World, code: str) -> Assessment:
    return next(a for a in leeds_return(world).assessments if a.action.code == code)


def assess(world: World, code: str, **values) -> Assessment:
    """Save an assessment through the service, as the editor."""
    target = assessment(world, code)
    current = {name: getattr(target, name) for name in services.EDITABLE_FIELDS}
    return save_assessment(
        target,
        {**current, **values},
        actor=get_user(world.editor_id),
        expected_version=target.version_id,
    )


def xlsx_rows(content: bytes) -> list[list]:
    """Every row of the Return sheet, values as openpyxl reads them (no formulas evaluated)."""
    sheet = load_workbook(io.BytesIO(content))["Return"]
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def make_xlsx(rows: list[list]) -> bytes:
    """A workbook whose first sheet holds ``rows``; strings starting "=" become formulas."""
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def make_csv(rows: list[list], *, encoding: str = "utf-8-sig", newline: str = "\r\n") -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator=newline).writerows(rows)
    return out.getvalue().encode(encoding)


def column(name: str) -> int:
    return HEADINGS.index(name)


def edit(rows: list[list], code: str, **cells) -> None:
    """Change cells (by heading) of the row for ``code``."""
    row = next(r for r in rows[1:] if r[0] == code)
    for heading, value in cells.items():
        row[column(heading.replace("_", " "))] = value


def snapshot_all(world: World) -> dict[str, dict]:
    return {
        a.action.code: {
            name: getattr(a, name) for name in (*services.EDITABLE_FIELDS, "version_id")
        }
        for a in leeds_return(world).assessments
    }


# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture
def world(app) -> World:
    return make_world(app)


# -- export ---------------------------------------------------------------------------------------


def test_xlsx_export_is_the_template_in_roadmap_order(app, world):
    with app.app_context():
        assess(
            world,
            "A01.S01",
            stage="implementing",
            rag="amber",
            narrative="Recruitment is behind plan",
            barriers=["workforce", "data"],
            funding_source="bcf",
            spend_types="TC",
            amount_pounds=25000,
            is_co_produced=True,
            co_production_how="With the panel",
            target_period="2026-27 Q2",
        )
        db.session.commit()
        content = build_xlsx(leeds_return(world))

    workbook = load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == ["Return", "Key"]
    sheet = workbook["Return"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert tuple(rows[0]) == HEADINGS
    assert len(rows) == 1 + TRACKABLE
    codes = [row[0] for row in rows[1:]]
    assert codes[:3] == ["A01.S01", "A01.S02", "A01.S03"] or codes[0] == "A01.S01"
    assert codes[-1].startswith("E"), "the enablers' actions come after the ten areas"
    first = dict(zip(HEADINGS, rows[1], strict=True))
    assert first["Stage"] == "Implementing"
    assert first["RAG"] == "Amber"
    assert first["Narrative"] == "Recruitment is behind plan"
    assert first["Barriers"] == "Workforce; Data and digital"
    assert first["Funding source"] == "Better Care Fund"
    assert first["Spend types"] == "Transformation; Community capacity"
    assert first["Amount (£)"] == 25000
    assert first["Co-produced"] == "Yes"
    assert first["Target period"] == "2026-27 Q2"
    assert first["Review this quarter"] == "Updated"
    assert first["Area"].startswith("1. ")
    # Styled header, frozen panes, lists on the scales.
    assert sheet["A1"].font.b
    assert sheet.freeze_panes == "B2"
    assert sheet.column_dimensions["E"].width == 60
    lists = {str(dv.sqref): dv.formula1 for dv in sheet.data_validations.dataValidation}
    assert lists["F2:F141"] == '"Not started,Planning,Implementing,Embedded,Not applicable locally"'
    assert lists["G2:G141"] == '"Green,Amber,Red"'
    assert "Better Care Fund" in lists["U2:U141"]
    key = [[c.value for c in row] for row in workbook["Key"].iter_rows()]
    assert ["Amber", "At risk, with mitigation in place"] in key


def test_csv_export_has_the_same_columns_a_bom_and_crlf(app, world):
    with app.app_context():
        content = build_csv(leeds_return(world))
        xlsx = xlsx_rows(build_xlsx(leeds_return(world)))
    assert content.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in content
    rows = csv_rows(content)
    assert tuple(rows[0]) == HEADINGS
    assert [r[0] for r in rows[1:]] == [r[0] for r in xlsx[1:]]


def test_formula_like_cells_are_neutralised_in_both_exports(app, world):
    with app.app_context():
        assess(world, "A01.S01", stage="embedded", **DANGEROUS)
        # Leading tabs and carriage returns never survive the form (text is stripped), so put
        # them in directly, as older data or another route might have.
        target = assessment(world, "A01.S02")
        target.barrier_detail = "\t=1+1"
        target.co_production_how = "\r=cmd|' /C calc'!A0"
        db.session.commit()
        xlsx = build_xlsx(leeds_return(world))
        csv_content = build_csv(leeds_return(world))

    sheet = load_workbook(io.BytesIO(xlsx))["Return"]
    checked = 0
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", f"{cell.coordinate} is a formula"
            if isinstance(cell.value, str) and cell.value.startswith(spreadsheet.DANGEROUS_FIRST):
                assert cell.data_type == "s" and cell.quotePrefix, cell.coordinate
                checked += 1
    # The carriage return comes back from the XML as a line feed: harmless text either way.
    assert checked >= 5
    read_only = load_workbook(io.BytesIO(xlsx), read_only=True)
    for row in read_only["Return"].iter_rows(min_row=2):
        assert all(cell.data_type != "f" for cell in row)
    read_only.close()

    rows = {r[0]: dict(zip(HEADINGS, r, strict=True)) for r in csv_rows(csv_content)[1:]}
    assert rows["A01.S01"]["Narrative"] == "'" + DANGEROUS["narrative"]
    assert rows["A01.S01"]["Next steps"] == "'+44 113 000 0000"
    assert rows["A01.S01"]["Lead officer"] == "'@SUM(A1)"
    assert rows["A01.S01"]["Partners"] == "'-2+3"
    assert rows["A01.S02"]["Barrier detail"] == "'\t=1+1"
    for row in csv_rows(csv_content)[1:]:
        assert not any(cell.startswith(spreadsheet.DANGEROUS_FIRST) for cell in row)


def test_control_characters_xml_cannot_hold_are_left_out_of_the_xlsx(app, world):
    with app.app_context():
        target = assessment(world, "A01.S01")
        target.narrative = "Line\x0bbreak\x1f"
        db.session.commit()
        rows = xlsx_rows(build_xlsx(leeds_return(world)))
    assert rows[1][column("Narrative")] == "Linebreak"


def test_export_is_audited(app, world):
    with app.app_context():
        export = spreadsheet.export_return(
            leeds_return(world), "csv", actor=get_user(world.editor_id)
        )
        db.session.commit()
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "return.export"))
    assert export.filename == "roadmap-return-E08000035-2025-26-Q3.csv"
    assert event.actor_id == world.editor_id
    assert event.council_id == world.leeds_id
    assert event.after["format"] == "csv"


# -- round trip -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_an_unchanged_export_imports_as_no_changes(app, world, kind):
    with app.app_context():
        assess(
            world,
            "A01.S01",
            stage="planning",
            rag="red",
            narrative="- a bullet\n- another",
            **{k: v for k, v in DANGEROUS.items() if k != "narrative"},
        )
        assess(world, "A02.S01", stage="not_applicable", not_applicable_reason="Not ours")
        db.session.commit()
        build = build_xlsx if kind == "xlsx" else build_csv
        content = build(leeds_return(world))
        preview = preview_import(leeds_return(world), f"return.{kind}", content)
    assert preview.errors == []
    assert preview.changed == []
    assert preview.unchanged == TRACKABLE
    assert preview.not_in_file == 0


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_edited_cells_show_in_the_preview_and_apply_exactly(app, world, kind):
    with app.app_context():
        assess(world, "A01.S02", stage="implementing", rag="green", narrative="Old words")
        db.session.commit()
        rows = xlsx_rows(build_xlsx(leeds_return(world)))
        before = snapshot_all(world)
    rows = [[("" if v is None else v) for v in row] for row in rows]
    edit(
        rows,
        "A01.S01",
        Stage="implementing",
        RAG="amber",
        Narrative="=not a formula, text",
        Barriers="workforce; Funding",
        Funding_source="ICB",
        Spend_types="T, c",
        **{"Amount (£)": "£1,200", "Co-produced": "yes", "How co-produced": "With the panel"},
    )
    edit(rows, "A01.S02", Narrative="New words", Target_period="2026-27 q2")
    content = make_csv(rows) if kind == "csv" else make_xlsx_text(rows)

    with app.app_context():
        preview = preview_import(leeds_return(world), f"edited.{kind}", content)
        assert preview.errors == []
        changes = {
            row.code: {c.column: (c.old, c.new) for c in row.changes} for row in preview.changed
        }
        assert changes == {
            "A01.S01": {
                "Stage": ("", "Implementing"),
                "RAG": ("", "Amber"),
                "Narrative": ("", "=not a formula, text"),
                "Barriers": ("", "Funding; Workforce"),
                "Co-produced": ("", "Yes"),
                "How co-produced": ("", "With the panel"),
                "Spend types": ("", "Transformation; Community capacity"),
                "Amount (£)": ("", "1200"),
                "Funding source": ("", "Integrated care board (ICB)"),
            },
            "A01.S02": {
                "Narrative": ("Old words", "New words"),
                "Target period": ("", "2026-27 Q2"),
            },
        }
        assert preview.unchanged == TRACKABLE - 2
        # Nothing is written by a preview.
        assert snapshot_all(world) == before

        count = apply_import(
            leeds_return(world),
            preview,
            actor=get_user(world.editor_id),
            expected_versions=preview.versions,
            filename=f"edited.{kind}",
        )
        db.session.commit()
        assert count == 2
        first = assessment(world, "A01.S01")
        assert (first.stage, first.rag, first.narrative) == (
            "implementing",
            "amber",
            "=not a formula, text",
        )
        assert first.barriers == ["funding", "workforce"]
        assert (first.funding_source, first.spend_types, first.amount_pounds) == ("icb", "TC", 1200)
        assert (first.is_co_produced, first.co_production_how) == (True, "With the panel")
        assert first.is_carried_forward is False
        second = assessment(world, "A01.S02")
        assert (second.narrative, second.target_period) == ("New words", "2026-27 Q2")
        after = snapshot_all(world)
        untouched = {code for code in before if code not in ("A01.S01", "A01.S02")}
        assert {c: after[c] for c in untouched} == {c: before[c] for c in untouched}
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions.count("assessment.update") == 1 + 2  # the set-up's save, then the import
        assert actions[-1] == "return.import"
        # And the file now matches: importing it again changes nothing.
        again = preview_import(leeds_return(world), f"edited.{kind}", content)
        assert again.changed == [] and again.errors == []


def make_xlsx_text(rows: list[list]) -> bytes:
    """A workbook with every cell written as text (as a person typing after an apostrophe)."""
    workbook = Workbook()
    sheet = workbook.active
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value in ("", None):
                continue
            cell = sheet.cell(row=r, column=c, value=value)
            if isinstance(value, str):
                cell.data_type = "s"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_a_blank_stage_keeps_the_stage_and_other_blanks_clear(app, world):
    with app.app_context():
        assess(world, "A01.S01", stage="embedded", narrative="Done", lead_officer="A. Lead")
        db.session.commit()
        rows = csv_rows(build_csv(leeds_return(world)))
        edit(rows, "A01.S01", Stage="", Narrative="")
        preview = preview_import(leeds_return(world), "x.csv", make_csv(rows))
        assert [(c.column, c.old, c.new) for c in preview.changed[0].changes] == [
            ("Narrative", "Done", "")
        ]
        assert preview.changed[0].values["stage"] == "embedded"


def test_names_and_codes_are_accepted_in_any_case(app, world):
    with app.app_context():
        rows = csv_rows(build_csv(leeds_return(world)))
        edit(
            rows,
            "A01.S01",
            Stage="IMPLEMENTING",
            RAG="g",
            Funding_source="core_budget",
            Barriers="PARTNERS;legislation or national policy",
            Target_stage="Embedded (business as usual)",
            **{"Co-produced": "No"},
        )
        edit(rows, "A01.S02", Stage="not_applicable", Not_applicable_reason="Not ours")
        preview = preview_import(leeds_return(world), "x.csv", make_csv(rows))
    assert preview.errors == []
    values = {row.code: row.values for row in preview.changed}
    assert values["A01.S01"]["stage"] == "implementing"
    assert values["A01.S01"]["rag"] == "green"
    assert values["A01.S01"]["funding_source"] == "core_budget"
    assert values["A01.S01"]["barriers"] == ["legislation", "partners"]
    assert values["A01.S01"]["target_stage"] == "embedded"
    assert values["A01.S01"]["is_co_produced"] is False
    assert values["A01.S02"]["stage"] == "not_applicable"


def test_a_csv_with_bom_and_windows_line_endings_is_accepted(app, world):
    with app.app_context():
        rows = csv_rows(build_csv(leeds_return(world)))
        edit(rows, "A01.S01", Stage="Planning", RAG="Red", Narrative="First line\r\nSecond line")
        content = make_csv(rows, encoding="utf-8-sig", newline="\r\n")
        assert content.startswith(b"\xef\xbb\xbf") and b"\r\n" in content
        preview = preview_import(leeds_return(world), "x.csv", content)
    assert preview.errors == []
    assert preview.changed[0].values["narrative"] == "First line\nSecond line"


def test_a_csv_saved_in_the_windows_code_page_is_accepted(app, world):
    with app.app_context():
        rows = csv_rows(build_csv(leeds_return(world)))
        edit(rows, "A01.S01", Stage="Embedded", Narrative="Saved £300 a week")
        preview = preview_import(leeds_return(world), "x.csv", make_csv(rows, encoding="cp1252"))
    assert preview.changed[0].values["narrative"] == "Saved £300 a week"


def test_only_some_columns_and_rows_are_needed(app, world):
    editable = [c.heading for c in spreadsheet.EDITABLE_COLUMNS]
    rows = [
        ["Action code", *editable, "My own notes"],
        ["a01.s01", "Embedded", *[""] * (len(editable) - 1), "x"],
    ]
    with app.app_context():
        preview = preview_import(leeds_return(world), "mine.csv", make_csv(rows))
    assert preview.errors == []
    assert [r.code for r in preview.changed] == ["A01.S01"]
    assert preview.not_in_file == TRACKABLE - 1
    assert preview.ignored_headings == ["My own notes"]


# -- row errors -----------------------------------------------------------------------------------


def test_a_malformed_workbook_reports_every_bad_row_and_changes_nothing(app, world):
    with app.app_context():
        assess(world, "A01.S03", stage="embedded")
        db.session.commit()
        before = snapshot_all(world)
        rows = xlsx_rows(build_xlsx(leeds_return(world)))
    edit(rows, "A01.S01", Stage="Implementing")  # no RAG: row 2
    edit(rows, "A01.S02", Stage="Implemnting")  # row 3
    edit(rows, "A01.S03", RAG="Purple", Stage="Planning", **{"Amount (£)": "lots"})  # row 4
    edit(rows, "A01.M01", Stage="Not applicable locally")  # no reason
    edit(rows, "A01.M02", Stage="Embedded", Target_period="next year", Funding_source="Lottery")
    edit(rows, "A01.L01", Stage="Embedded", Narrative="=1+1")  # a real formula in the xlsx
    edit(rows, "A01.S04", Stage="Embedded", Barriers="Weather", Spend_types="Z")
    rows.append(["A99.Z99", *[""] * (len(HEADINGS) - 1)])
    row_of = {r[0]: n for n, r in enumerate(rows, start=1)}
    duplicate = rows[TRACKABLE][0]
    rows.append([duplicate, *rows[1][1:]])  # a second row for the last action
    rows.append(["", "", "", "", "", "Embedded"])  # no code

    with app.app_context():
        preview = preview_import(leeds_return(world), "bad.xlsx", make_xlsx(rows))
        texts = [e.text for e in preview.errors]
        by_row = {}
        for error in preview.errors:
            by_row.setdefault(error.row, []).append((error.column, error.message))
        assert by_row[row_of["A01.S01"]] == [
            (
                "RAG",
                "Select a RAG rating: it is needed while the action is in planning or being "
                "implemented",
            )
        ]
        assert by_row[row_of["A01.S02"]] == [("Stage", "Select how far implementation has got")]
        assert ("RAG", "Select a RAG rating") in by_row[row_of["A01.S03"]]
        assert (
            "Amount (£)",
            "Amount must be a whole number of pounds between 0 and 10,000,000,000",
        ) in by_row[row_of["A01.S03"]]
        assert by_row[row_of["A01.M01"]] == [
            ("Not applicable reason", "Enter why the action is not applicable locally")
        ]
        assert set(by_row[row_of["A01.M02"]]) == {
            ("Target period", "Enter a target period like 2026-27 Q2"),
            ("Funding source", "Select a source of funding from the list"),
        }
        assert by_row[row_of["A01.L01"]] == [
            ("Narrative", "Narrative must be a value, not a formula")
        ]
        assert set(by_row[row_of["A01.S04"]]) == {
            ("Barriers", "Select barriers from the list"),
            ("Spend types", "Select types of spend from the list"),
        }
        assert (
            f"Row {len(rows) - 2}: There is no action A99.Z99 in this return: check the action code"
            in texts
        )
        assert (
            f"Row {len(rows) - 1}: Action {duplicate} is also in row {row_of[duplicate]}: "
            "each action can only be in one row" in texts
        )
        assert f"Row {len(rows)}: Enter the action code" in texts
        assert [e.row for e in preview.errors] == sorted(e.row for e in preview.errors)
        assert not preview.can_apply
        with pytest.raises(ReturnError):
            apply_import(
                leeds_return(world),
                preview,
                actor=get_user(world.editor_id),
                expected_versions=preview.versions,
            )
        db.session.rollback()
        assert snapshot_all(world) == before


def test_a_workbook_whose_every_row_is_bad_reports_each_row(app, world):
    rows = [list(HEADINGS)] + [
        [code, "", "", "", "", "Finished", *[""] * (len(HEADINGS) - 6)]
        for code in ("A01.S01", "A01.S02", "A01.S03")
    ]
    with app.app_context():
        preview = preview_import(leeds_return(world), "bad.csv", make_csv(rows))
    assert [e.text for e in preview.errors] == [
        f"Row {n}: Select how far implementation has got" for n in (2, 3, 4)
    ]
    assert preview.changed == [] and preview.rows_with_errors == 3


# -- file errors ----------------------------------------------------------------------------------


def _zip(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("return.xlsx", b"", "The selected file is empty"),
        ("return.txt", b"Action code\n", "The selected file must be an XLSX or CSV file"),
        ("return.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "must be an XLSX or CSV"),
        ("return.xlsm", b"PK\x03\x04", "must not contain macros"),
        ("return.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "password-protected"),
        ("return.xlsx", b"Action code,Stage\n", "not a valid .xlsx workbook"),
        ("return.csv", b"PK\x03\x04rest", "not a valid CSV file"),
        ("return.xlsx", b"PK\x03\x04 but not really a zip", "not a valid .xlsx workbook"),
        ("return.csv", b"Name,Stage\nx,y\n", "must have a row of column headings starting with"),
        ("return.csv", b"Action code,Stage\nA01.S01,Embedded\n", "is missing these columns: RAG,"),
        ("return.csv", ",".join(HEADINGS).encode() + b"\n", "has no rows of actions"),
        (
            "return.csv",
            b"Action code,Stage,stage\n",
            "The column ‘Stage’ appears more than once",
        ),
    ],
)
def test_files_that_are_not_the_template_are_refused(app, world, filename, content, message):
    with app.app_context(), pytest.raises(ImportFileError, match=re.escape(message)):
        preview_import(leeds_return(world), filename, content)


def test_an_xlsx_with_a_macro_project_is_refused(app, world):
    with app.app_context():
        content = build_xlsx(leeds_return(world))
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts["xl/vbaProject.bin"] = b"\0" * 10
    with app.app_context(), pytest.raises(ImportFileError, match="must not contain macros"):
        preview_import(leeds_return(world), "return.xlsx", _zip(parts))


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (
            {"[Content_Types].xml": b"x", "xl/workbook.xml": b"\0" * (30 * 1024 * 1024)},
            "too large once unpacked",
        ),
        (
            {
                "[Content_Types].xml": b"x",
                "xl/workbook.xml": b"x",
                **{f"p{i}": b"" for i in range(250)},
            },
            "not a valid",
        ),
        ({"[Content_Types].xml": b"x", "xl/workbook.xml": b"x", "../evil": b"x"}, "not a valid"),
        ({"[Content_Types].xml": b"x", "docProps/app.xml": b"x"}, "not a valid"),
    ],
)
def test_zip_bombs_and_odd_archives_are_refused_before_parsing(app, world, entries, message):
    with app.app_context(), pytest.raises(ImportFileError, match=message):
        preview_import(leeds_return(world), "return.xlsx", _zip(entries))


def test_a_small_file_that_unpacks_hugely_is_refused_by_its_ratio():
    content = _zip({"[Content_Types].xml": b"x", "xl/workbook.xml": b"\0" * (5 * 1024 * 1024)})
    assert len(content) < 20 * 1024
    with pytest.raises(ImportFileError, match="too large once unpacked"):
        spreadsheet.check_xlsx_container(content)


def test_too_many_rows_are_refused(app, world):
    rows = [list(HEADINGS)] + [["A01.S01"] for _ in range(spreadsheet.MAX_ROWS + 1)]
    with app.app_context(), pytest.raises(ImportFileError, match="1,000 rows or fewer"):
        preview_import(leeds_return(world), "big.csv", make_csv(rows))


# -- applying: all or nothing ---------------------------------------------------------------------


def _three_changes(app, world):
    with app.app_context():
        rows = csv_rows(build_csv(leeds_return(world)))
        for code in ("A01.S01", "A01.S02", "A01.S03"):
            edit(rows, code, Stage="Embedded", Narrative=f"Imported {code}")
        return make_csv(rows), snapshot_all(world)


def test_a_failure_midway_leaves_no_partial_rows(app, world, monkeypatch):
    content, before = _three_changes(app, world)
    real = services.save_assessment
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("injected failure on the third save")
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "save_assessment", failing)
    with app.app_context():
        preview = preview_import(leeds_return(world), "x.csv", content)
        assert len(preview.changed) == 3
        with pytest.raises(RuntimeError):
            apply_import(
                leeds_return(world),
                preview,
                actor=get_user(world.editor_id),
                expected_versions=preview.versions,
            )
        db.session.rollback()
    with app.app_context():
        assert snapshot_all(world) == before
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action.in_(["assessment.update", "return.import"]))
            )
            == 0
        )


def test_a_change_by_someone_else_after_the_preview_stops_the_whole_import(app, world):
    content, _before = _three_changes(app, world)
    with app.app_context():
        preview = preview_import(leeds_return(world), "x.csv", content)
        versions = dict(preview.versions)
        # Someone saves an action the file does not change, after the preview.
        assess(world, "A02.S01", stage="planning", rag="green")
        db.session.commit()
        before = snapshot_all(world)
        with pytest.raises(ImportConflict) as raised:
            apply_import(
                leeds_return(world),
                preview,
                actor=get_user(world.editor_id),
                expected_versions=versions,
            )
        db.session.rollback()
        assert raised.value.codes == ["A02.S01"]
        assert snapshot_all(world) == before


def test_a_submitted_return_cannot_be_imported_into(app, world):
    content, _before = _three_changes(app, world)
    with app.app_context():
        preview = preview_import(leeds_return(world), "x.csv", content)
        for a in leeds_return(world).assessments:
            save_assessment(
                a,
                {"stage": "embedded"},
                actor=get_user(world.editor_id),
                expected_version=a.version_id,
            )
        submit_return(leeds_return(world), actor=get_user(world.editor_id))
        db.session.commit()
        with pytest.raises(ReturnError, match="submitted"):
            apply_import(
                leeds_return(world),
                preview,
                actor=get_user(world.editor_id),
                expected_versions=preview.versions,
            )


# -- pending uploads ------------------------------------------------------------------------------


def test_a_pending_upload_is_only_given_back_to_its_owner_unchanged(app, world, tmp_path):
    from tracker.clock import utcnow
    from tracker.storage import FolderStore

    folder = tmp_path / "imports"
    store = FolderStore({"imports": folder})

    with app.app_context():
        editor = get_user(world.editor_id)
        other = get_user(make_user(email="other@example.org").id)
        now = utcnow()
        pending = spreadsheet.store_upload(
            store,
            b"abc",
            filename="../../x.csv",
            return_=leeds_return(world),
            actor=editor,
            versions={1: 2},
            now=now,
        )
        assert pending.filename == "x.csv"
        assert {p.parent for p in folder.iterdir()} == {folder}
        load = spreadsheet.load_upload
        kwargs = {"return_": leeds_return(world), "now": now}
        assert load(store, pending.id, pending.sha256, actor=editor, **kwargs)[1] == b"abc"
        assert load(store, pending.id, pending.sha256, actor=other, **kwargs) is None
        assert load(store, pending.id, "0" * 64, actor=editor, **kwargs) is None
        assert load(store, "../../etc/passwd", pending.sha256, actor=editor, **kwargs) is None
        late = now + spreadsheet.PENDING_TTL * 2
        assert (
            load(
                store,
                pending.id,
                pending.sha256,
                actor=editor,
                return_=leeds_return(world),
                now=late,
            )
            is None
        )
        (folder / f"{pending.id}.upload").write_bytes(b"abd")
        assert load(store, pending.id, pending.sha256, actor=editor, **kwargs) is None
        spreadsheet.discard_upload(store, pending.id)
        assert list(folder.iterdir()) == []


def test_a_sheet_reaching_far_down_is_refused_without_reading_it_all(app, world):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(HEADINGS))
    sheet.cell(row=1_000_000, column=1, value="A01.S01")
    out = io.BytesIO()
    workbook.save(out)
    with app.app_context(), pytest.raises(ImportFileError, match="1,000 rows or fewer"):
        preview_import(leeds_return(world), "far.xlsx", out.getvalue())


def test_xml_entities_in_a_workbook_are_refused(app, world):
    with app.app_context():
        content = build_xlsx(leeds_return(world))
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    )
    sheet = parts["xl/worksheets/sheet1.xml"]
    parts["xl/worksheets/sheet1.xml"] = bomb + sheet[sheet.index(b"<worksheet") :]
    with app.app_context(), pytest.raises(ImportFileError, match="could not be read"):
        preview_import(leeds_return(world), "return.xlsx", _zip(parts))
