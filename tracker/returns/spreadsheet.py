"""A return as a spreadsheet: the xlsx and csv export, and the import that bulk-updates a draft.

The export's columns *are* the import template. A council exports its return, edits the
spreadsheet (or pastes from its own), and imports it: :func:`preview_import` reads the file and
lists every change, row by row, with the same rules as the assessment form
(:func:`tracker.returns.services.validate_assessment`); nothing is written until
:func:`apply_import` saves every change through
:func:`tracker.returns.services.save_assessment`, all in the caller's one transaction.

What a cell means on import:

- Values are the words the export writes ("Implementing", "Amber", "Better Care Fund"), in any
  case; the stored codes ("implementing", "bcf") are accepted too.
- A blank **Stage** leaves the stage as it is. Every other blank cell clears its field: the
  export writes every value, so a row reads as the whole answer for its action.
- A row that says what the return already holds is unchanged, whatever else is true of it, so an
  unchanged file imports as "no changes" even where actions are not assessed yet.
- Read-only columns (area, action text, carried forward, last updated …) are ignored; actions
  not in the file are left as they are.
- A formula is refused, never evaluated; nor is any cached result of one used.

Cells that a spreadsheet program would run as a formula (text starting ``= + - @``, a tab or a
carriage return) are neutralised in both exports (ASVS 5 1.2.10): with an apostrophe in the
csv, as a quote-prefixed text cell in the xlsx. The import takes such an apostrophe off again.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import secrets
import stat
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.orm import contains_eager

from tracker.audit import record
from tracker.clock import to_uk
from tracker.domain.vocabulary import (
    LEAD_NAMES,
    RAG_HINTS,
    RAG_NAMES,
    SPEND_NAMES,
    STAGE_HINTS,
    STAGE_NAMES,
    TIMEFRAME_NAMES,
)
from tracker.domain.workflow import Step
from tracker.extensions import db
from tracker.models import (
    Action,
    ActionArea,
    Assessment,
    Enabler,
    Rag,
    Return,
    Stage,
    User,
)
from tracker.returns import services
from tracker.returns.services import (
    BARRIERS,
    EDITABLE_FIELDS,
    FUNDING_SOURCES,
    AssessmentInvalid,
    ReturnError,
)
from tracker.storage import FileStore

# -- the scales, in the words of the product -----------------------------------------------------

#: what each stage and RAG rating means, for the Key sheet (the words are in tracker/filters.py)
STAGE_MEANINGS = {
    **STAGE_HINTS,
    Stage.PLANNING: f"{STAGE_HINTS[Stage.PLANNING]} (a RAG rating is required)",
    Stage.IMPLEMENTING: f"{STAGE_HINTS[Stage.IMPLEMENTING]} (a RAG rating is required)",
}
YES, NO = "Yes", "No"
#: what a cell starting with one of these would do in a spreadsheet program: run as a formula
DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r")
#: characters XML 1.0 cannot hold; openpyxl refuses them, so the export leaves them out
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class Column:
    """One column of the export and of the import template."""

    heading: str
    #: the assessment field it edits; None for a read-only column
    field: str | None
    width: int
    #: what the Key sheet and the import page say about it
    help: str
    #: other headings accepted on import (compared in lower case)
    aliases: tuple[str, ...] = ()


CODE_HEADING = "Action code"
COLUMNS: tuple[Column, ...] = (
    Column(CODE_HEADING, None, 11, "Which action the row is about. Do not change it."),
    Column("Area", None, 28, "Read-only: the action area, or the barrier it enables."),
    Column("Timeframe", None, 13, "Read-only: short, medium or long term."),
    Column("Lead", None, 10, "Read-only: local, system or national."),
    Column("Action", None, 60, "Read-only: the roadmap's words for the action."),
    Column(
        "Stage",
        "stage",
        20,
        "How far implementation has got. Leave blank to keep the stage as it is.",
        ("stage of implementation",),
    ),
    Column(
        "RAG",
        "rag",
        9,
        "Green, Amber or Red: needed while the stage is Planning or Implementing.",
        ("rag rating", "rag status"),
    ),
    Column(
        "Not applicable reason",
        "not_applicable_reason",
        30,
        "Why the action is not applicable locally: needed for that stage.",
        ("reason not applicable",),
    ),
    Column("Narrative", "narrative", 50, "Progress this quarter.", ("progress",)),
    Column("Next steps", "next_steps", 40, "What happens next."),
    Column(
        "Barriers",
        "barriers",
        24,
        "Names from the Key sheet, separated by semicolons.",
    ),
    Column("Barrier detail", "barrier_detail", 30, "More about the barriers."),
    Column("Lead officer", "lead_officer", 20, "Who leads the work locally."),
    Column("Target stage", "target_stage", 20, "The stage the council aims to reach."),
    Column("Target period", "target_period", 14, "When, as a quarter like 2026-27 Q2."),
    Column(
        "Co-produced",
        "is_co_produced",
        12,
        "Yes or No: co-produced with people who draw on care and support.",
        ("co-produced?", "coproduced"),
    ),
    Column("How co-produced", "co_production_how", 30, "How it was co-produced (for Yes)."),
    Column("Partners", "partners", 30, "Partners involved."),
    Column(
        "Spend types",
        "spend_types",
        24,
        "Names or letters (T, S, C, A) from the Key sheet, separated by semicolons.",
        ("types of spend", "spend type"),
    ),
    Column(
        "Amount (£)",
        "amount_pounds",
        13,
        "Funding used, in whole pounds.",
        ("amount", "amount (pounds)", "amount £", "amount in pounds"),
    ),
    Column(
        "Funding source",
        "funding_source",
        26,
        "One source from the Key sheet.",
        ("source of funding",),
    ),
    Column(
        "Review this quarter",
        None,
        20,
        "Read-only: Not yet reviewed (carried forward and untouched), Confirmed unchanged, "
        "or Updated. Every action must be reviewed before the return is submitted.",
    ),
    Column("Last updated", None, 18, "Read-only: when it was last saved (UK time)."),
)
HEADINGS = tuple(column.heading for column in COLUMNS)
EDITABLE_COLUMNS = tuple(column for column in COLUMNS if column.field)
COLUMN_FOR_FIELD = {column.field: column for column in EDITABLE_COLUMNS}
assert tuple(COLUMN_FOR_FIELD) == EDITABLE_FIELDS, "the template must cover every field in order"


# -- the limits of an upload ----------------------------------------------------------------------

#: a return has 140 actions; room for blank and note rows, and for later editions
MAX_ROWS = 1000
#: rows read at most, blank ones included (a sheet can claim a million empty rows)
MAX_ROW_NUMBER = 20 * MAX_ROWS
MAX_COLUMNS = 60
#: an xlsx holds a dozen or two parts; more means something else was zipped
MAX_ZIP_ENTRIES = 200
#: uncompressed, all parts together: far more than 1,000 full rows need
MAX_UNCOMPRESSED = 25 * 1024 * 1024
#: compression ratio refused for any part bigger than RATIO_CHECKED_FROM (zip bombs)
MAX_RATIO = 100
RATIO_CHECKED_FROM = 1024 * 1024
#: how long an uploaded file waits for its confirmation
PENDING_TTL = timedelta(hours=1)
ZIP_MAGIC = b"PK\x03\x04"
#: Compound File Binary: .xls, and any password-protected Office file
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class ImportFileError(ValueError):
    """The file as a whole cannot be read as the template; the message says why, for the form."""


class ImportConflict(Exception):
    """Someone changed the return after the preview; ``codes`` names the actions."""

    def __init__(self, codes: list[str]) -> None:
        self.codes = codes
        super().__init__(f"changed since the preview: {', '.join(codes)}")


# -- reading the return in roadmap order ---------------------------------------------------------

_TIMEFRAME_ORDER = case(
    {"short": 0, "medium": 1, "long": 2},
    value=Action.timeframe,
    else_=3,
)


def list_assessments(return_: Return) -> list[Assessment]:
    """The return's assessments in roadmap order: areas by number, then the enablers; within
    each, short, medium then long term."""
    return list(
        db.session.scalars(
            select(Assessment)
            .join(Assessment.action)
            .outerjoin(ActionArea, Action.area_id == ActionArea.id)
            .outerjoin(Enabler, Action.enabler_id == Enabler.id)
            .options(
                contains_eager(Assessment.action).contains_eager(Action.area),
                contains_eager(Assessment.action).contains_eager(Action.enabler),
            )
            .where(Assessment.return_id == return_.id)
            .order_by(
                Action.enabler_id.is_not(None),
                ActionArea.position,
                Enabler.position,
                _TIMEFRAME_ORDER,
                Action.position,
                Action.code,
            )
        )
    )


# -- values as people read them -------------------------------------------------------------------


def _stage_name(value: str | None) -> str:
    return STAGE_NAMES.get(value, value or "") if value else ""


def display_value(field_name: str, value: Any) -> str:
    """A stored value as the export writes it (and the import preview shows it)."""
    if value is None or value == "" or value == []:
        return ""
    if field_name in ("stage", "target_stage"):
        return _stage_name(value)
    if field_name == "rag":
        return RAG_NAMES.get(value, value)
    if field_name == "barriers":
        return "; ".join(BARRIERS.get(code, code) for code in value)
    if field_name == "is_co_produced":
        return YES if value else NO
    if field_name == "spend_types":
        return "; ".join(SPEND_NAMES.get(letter, letter) for letter in value)
    if field_name == "funding_source":
        return FUNDING_SOURCES.get(value, value)
    if field_name == "amount_pounds":
        return str(value)
    return str(value)


def area_name(area_position: int | None, area_title: str | None, enabler_title: str | None) -> str:
    """The Area column: ``"3. Prevention …"`` for an action area, ``"Barriers and enablers:
    Workforce"`` for an action on a barrier (the open data writes the same words)."""
    if area_title is not None:
        return f"{area_position}. {area_title}"
    if enabler_title is not None:
        return f"Barriers and enablers: {enabler_title}"
    return ""


def _area_name(action: Action) -> str:
    area, enabler = action.area, action.enabler
    return area_name(
        area.position if area else None,
        area.title if area else None,
        enabler.title if enabler else None,
    )


def _updated(assessment: Assessment) -> str:
    stamp = assessment.updated_at
    return to_uk(stamp).strftime("%Y-%m-%d %H:%M") if stamp else ""


def export_row(assessment: Assessment) -> list[Any]:
    """One row of the export: text, except the amount, which stays a number."""
    action = assessment.action
    values: list[Any] = [
        action.code,
        _area_name(action),
        TIMEFRAME_NAMES.get(action.timeframe or "", ""),
        LEAD_NAMES.get(action.lead, action.lead),
        action.text,
    ]
    for column in EDITABLE_COLUMNS:
        value = getattr(assessment, column.field)
        if column.field == "amount_pounds":
            values.append(value)
        else:
            values.append(display_value(column.field, value))
    values.append(services.review_state(assessment).label)
    values.append(_updated(assessment))
    return values


def is_dangerous(value: Any) -> bool:
    """True for text a spreadsheet program would take as the start of a formula."""
    return isinstance(value, str) and value.startswith(DANGEROUS_FIRST)


def neutralise(value: Any) -> Any:
    """Text safe in a csv cell: an apostrophe before anything that would start a formula."""
    return "'" + value if is_dangerous(value) else value


def _xml_safe(value: Any) -> Any:
    return _ILLEGAL_XML.sub("", value) if isinstance(value, str) else value


# -- the export ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Export:
    filename: str
    mimetype: str
    content: bytes


XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv"


def export_filename(return_: Return, extension: str) -> str:
    """``roadmap-return-E08000035-2025-26-Q3.xlsx``: ASCII only, safe in any header."""
    period = return_.period.label.replace(" ", "-")
    return f"roadmap-return-{return_.council.gss_code}-{period}.{extension}"


def build_csv(return_: Return) -> bytes:
    """The return as UTF-8 csv with a byte-order mark (so Excel reads it as UTF-8), CRLF rows."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADINGS)
    for assessment in list_assessments(return_):
        writer.writerow(["" if v is None else neutralise(v) for v in export_row(assessment)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _data_validation(values: Iterable[str], prompt: str) -> Any:
    from openpyxl.worksheet.datavalidation import DataValidation

    # An inline list: its items hold no commas, and together fewer than 255 characters.
    items = ",".join(values)
    assert len(items) < 255 and '"' not in items
    validation = DataValidation(type="list", formula1=f'"{items}"', allow_blank=True)
    validation.error = "Choose a value from the list, or leave the cell blank"
    validation.errorTitle = "Not on the list"
    validation.prompt = prompt
    validation.showErrorMessage = True
    validation.showInputMessage = bool(prompt)
    return validation


def build_xlsx(return_: Return) -> bytes:
    """The return as an xlsx workbook: a "Return" sheet in the template's columns (header
    styled, panes frozen, lists on the scales) and a "Key" sheet explaining them."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Return"
    bold = Font(bold=True)
    editable_fill = PatternFill("solid", fgColor="DDE8F3")
    read_only_fill = PatternFill("solid", fgColor="E6E6E6")
    wrap = Alignment(wrap_text=True, vertical="top")

    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index, value=column.heading)
        cell.font = bold
        cell.fill = editable_fill if column.field else read_only_fill
        cell.alignment = wrap
        sheet.column_dimensions[get_column_letter(index)].width = column.width

    assessments = list_assessments(return_)
    for row_number, assessment in enumerate(assessments, start=2):
        for index, value in enumerate(export_row(assessment), start=1):
            if value is None or value == "":
                continue
            cell = sheet.cell(row=row_number, column=index)
            cell.value = _xml_safe(value)
            if isinstance(value, str):
                # openpyxl takes any string starting "=" as a formula: say it is text, and
                # mark it quote-prefixed as Excel does for text typed after an apostrophe.
                cell.data_type = "s"
                if is_dangerous(value):
                    cell.quotePrefix = True
                cell.alignment = wrap
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{len(assessments) + 1}"

    last = len(assessments) + 1
    letters = {column.heading: get_column_letter(i) for i, column in enumerate(COLUMNS, 1)}
    stages = list(STAGE_NAMES.values())
    for heading, values, prompt in (
        ("Stage", stages, "Leave blank to keep the stage as it is"),
        ("RAG", list(RAG_NAMES.values()), "Needed for Planning and Implementing"),
        ("Target stage", stages, ""),
        ("Co-produced", [YES, NO], ""),
        ("Funding source", list(FUNDING_SOURCES.values()), ""),
    ):
        validation = _data_validation(values, prompt)
        sheet.add_data_validation(validation)
        validation.add(f"{letters[heading]}2:{letters[heading]}{max(last, 2)}")

    _key_sheet(workbook.create_sheet("Key"), return_)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _key_sheet(sheet: Any, return_: Return) -> None:
    from openpyxl.styles import Alignment, Font

    bold, heading_font = Font(bold=True), Font(bold=True, size=14)
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 90
    rows: list[tuple[str, str, str]] = [
        ("title", f"{return_.council.name}: return for {return_.period.label}", ""),
        ("text", "Import this workbook, or a csv with the same column headings, to update a", ""),
        ("text", "draft return. A blank Stage keeps the stage as it is; any other blank cell", ""),
        ("text", "clears its field. Read-only columns are ignored.", ""),
        ("gap", "", ""),
        ("heading", "Stage", "What it means"),
        *(("row", STAGE_NAMES[s], STAGE_MEANINGS[s]) for s in Stage),
        ("gap", "", ""),
        ("heading", "RAG", "Delivery confidence against the council's own target"),
        *(("row", RAG_NAMES[r], RAG_HINTS[r]) for r in Rag),
        ("gap", "", ""),
        ("heading", "Barriers", "Several allowed, separated by semicolons"),
        *(("row", name, "") for name in BARRIERS.values()),
        ("gap", "", ""),
        ("heading", "Spend types", "Several allowed: the name or the letter"),
        *(("row", name, letter) for letter, name in SPEND_NAMES.items()),
        ("gap", "", ""),
        ("heading", "Funding source", ""),
        *(("row", name, "") for name in FUNDING_SOURCES.values()),
        ("gap", "", ""),
        ("heading", "Column", "What to enter"),
        *(("row", column.heading, column.help) for column in COLUMNS),
    ]
    for number, (kind, first, second) in enumerate(rows, start=1):
        a = sheet.cell(row=number, column=1, value=first or None)
        b = sheet.cell(row=number, column=2, value=second or None)
        for cell in (a, b):
            if isinstance(cell.value, str):
                cell.data_type = "s"
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        if kind == "title":
            a.font = heading_font
        elif kind == "heading":
            a.font = b.font = bold


def export_return(return_: Return, kind: str, *, actor: User) -> Export:
    """Build the return as ``"xlsx"`` or ``"csv"`` and record the export in the audit trail.

    :returns: the file's name, type and bytes.
    """
    if kind == "xlsx":
        content, mimetype = build_xlsx(return_), XLSX_MIMETYPE
    elif kind == "csv":
        content, mimetype = build_csv(return_), CSV_MIMETYPE
    else:
        raise ValueError(f"no export as {kind!r}")
    record(
        actor=actor,
        action="return.export",
        object_type="return",
        object_id=return_.id,
        council_id=return_.council_id,
        after={"format": kind, "period": return_.period.label, "status": return_.status},
    )
    return Export(export_filename(return_, kind), mimetype, content)


# -- reading an upload -----------------------------------------------------------------------------


@dataclass
class Sheet:
    """The rows of an uploaded file: headings found, and each data row with its row number."""

    #: field name (or CODE_HEADING) → 0-based column index
    columns: dict[str, int]
    ignored_headings: list[str]
    #: (row number as the spreadsheet shows it, cells)
    rows: list[tuple[int, list[Any]]]


@dataclass(frozen=True)
class Formula:
    """A cell that holds a formula (never evaluated)."""


@dataclass(frozen=True)
class ErrorValue:
    """A cell holding a spreadsheet error such as #N/A."""

    text: str


def file_kind(filename: str, data: bytes) -> str:
    """``"xlsx"`` or ``"csv"``, from the name and the first bytes agreeing.

    :raises ImportFileError: any other type, a macro workbook, or a mismatch.
    """
    suffix = Path(filename or "").suffix.lower()
    if not data:
        raise ImportFileError("The selected file is empty")
    if suffix == ".xlsm" or suffix == ".xltm":
        raise ImportFileError(
            "The selected file must not contain macros: save it as an .xlsx workbook"
        )
    if suffix == ".xlsx":
        if data.startswith(OLE_MAGIC):
            raise ImportFileError(
                "The selected file is password-protected or not an .xlsx workbook: "
                "remove the password and save it as .xlsx"
            )
        if not data.startswith(ZIP_MAGIC):
            raise ImportFileError("The selected file is not a valid .xlsx workbook")
        return "xlsx"
    if suffix == ".csv":
        if data.startswith((ZIP_MAGIC, OLE_MAGIC)) or b"\x00" in data[:4096]:
            raise ImportFileError("The selected file is not a valid CSV file")
        return "csv"
    raise ImportFileError("The selected file must be an XLSX or CSV file")


def check_xlsx_container(data: bytes) -> None:
    """Refuse zip bombs, odd entries and macros before any XML is parsed.

    :raises ImportFileError: naming what is wrong in words a person can act on.
    """
    invalid = ImportFileError("The selected file is not a valid .xlsx workbook")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise invalid from None
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ZIP_ENTRIES:
            raise invalid
        names = {entry.filename for entry in entries}
        total = 0
        for entry in entries:
            name = entry.filename
            if (
                name.startswith(("/", "\\"))
                or ".." in Path(name.replace("\\", "/")).parts
                or ":" in name
                or entry.flag_bits & 0x1  # encrypted
                or stat.S_ISLNK(entry.external_attr >> 16)
            ):
                raise invalid
            total += entry.file_size
            if total > MAX_UNCOMPRESSED:
                raise ImportFileError("The selected file is too large once unpacked")
            if entry.file_size > RATIO_CHECKED_FROM and entry.file_size > MAX_RATIO * max(
                entry.compress_size, 1
            ):
                raise ImportFileError("The selected file is too large once unpacked")
        # Printer settings are .bin parts too; only a VBA project means macros.
        if any("vbaproject" in n.lower() for n in names):
            raise ImportFileError(
                "The selected file must not contain macros: save it as an .xlsx workbook"
            )
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            raise invalid
        content_types = archive.read("[Content_Types].xml")
        if b"macroEnabled" in content_types:
            raise ImportFileError(
                "The selected file must not contain macros: save it as an .xlsx workbook"
            )


def _xlsx_rows(data: bytes) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    check_xlsx_container(data)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about features it drops (extensions, default styles); the cells
            # are all that matter here.
            warnings.simplefilter("ignore")
            # data_only=False: a formula comes back as a formula, so it can be refused; with
            # True its cached result would be taken silently. Nothing is ever evaluated.
            workbook = load_workbook(
                io.BytesIO(data), read_only=True, data_only=False, keep_links=False
            )
            try:
                sheet = (
                    workbook["Return"]
                    if "Return" in workbook.sheetnames
                    else workbook.worksheets[0]
                )
                for row in sheet.iter_rows(max_col=MAX_COLUMNS):
                    cells: list[Any] = []
                    for cell in row:
                        kind = getattr(cell, "data_type", None)
                        value = getattr(cell, "value", None)
                        if kind == "f" or type(value).__name__ in (
                            "ArrayFormula",
                            "DataTableFormula",
                        ):
                            cells.append(Formula())
                        elif kind == "e":
                            cells.append(ErrorValue(str(value)))
                        else:
                            cells.append(value)
                    yield cells
            finally:
                workbook.close()
    except ImportFileError:
        raise
    except Exception:  # any parser failure means the same to the person
        raise ImportFileError("The selected file could not be read as an .xlsx workbook") from None


def _csv_rows(data: bytes) -> Iterator[list[Any]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on Windows saves "CSV (Comma delimited)" in the Windows code page.
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise ImportFileError(
                "The selected file could not be read: save it as CSV UTF-8"
            ) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=False)
    try:
        for row in reader:
            yield list(row[:MAX_COLUMNS])
    except csv.Error:
        raise ImportFileError("The selected file could not be read as a CSV file") from None


def _heading_key(value: Any) -> str:
    return " ".join(str(value).split()).lower().rstrip("*").strip() if value is not None else ""


_HEADING_LOOKUP: dict[str, str] = {}
for _column in COLUMNS:
    _key = _column.field or _column.heading
    _HEADING_LOOKUP[_heading_key(_column.heading)] = _key
    for _alias in _column.aliases:
        _HEADING_LOOKUP[_heading_key(_alias)] = _key
_HEADING_LOOKUP["code"] = CODE_HEADING


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_sheet(filename: str, data: bytes) -> tuple[str, Sheet]:
    """Read an uploaded xlsx or csv into headed rows.

    The heading row is the first of the first ten rows with an "Action code" cell. Every
    editable column of the template must be there; other columns are ignored.

    :returns: the kind (``"xlsx"`` or ``"csv"``) and the sheet.
    :raises ImportFileError: wrong type, unreadable, no heading row, missing or repeated
        columns, no rows, too many rows.
    """
    kind = file_kind(filename, data)
    source = _xlsx_rows(data) if kind == "xlsx" else _csv_rows(data)
    columns: dict[str, int] | None = None
    ignored: list[str] = []
    rows: list[tuple[int, list[Any]]] = []
    for number, cells in enumerate(source, start=1):
        if number > MAX_ROW_NUMBER:
            raise ImportFileError(f"The selected file must have {MAX_ROWS:,} rows or fewer")
        if columns is None:
            keys = [_HEADING_LOOKUP.get(_heading_key(v)) for v in cells]
            if CODE_HEADING not in keys:
                if number >= 10:
                    break
                continue
            columns = {}
            for index, (key, value) in enumerate(zip(keys, cells, strict=True)):
                if key is None:
                    if not _is_blank(value) and not isinstance(value, Formula):
                        ignored.append(str(value).strip()[:60])
                    continue
                if key in columns:
                    heading = COLUMN_FOR_FIELD[key].heading if key in COLUMN_FOR_FIELD else key
                    raise ImportFileError(f"The column ‘{heading}’ appears more than once")
                columns[key] = index
            continue
        if all(_is_blank(v) for v in cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise ImportFileError(f"The selected file must have {MAX_ROWS:,} rows or fewer")
        rows.append((number, cells))
    if columns is None:
        raise ImportFileError(
            "The selected file must have a row of column headings starting with ‘Action code’: "
            "export the return to get the template"
        )
    missing = [column.heading for column in EDITABLE_COLUMNS if column.field not in columns]
    if missing:
        raise ImportFileError(
            "The selected file is missing "
            + ("this column" if len(missing) == 1 else "these columns")
            + ": "
            + ", ".join(missing)
            + ". Use the column headings of the downloaded return"
        )
    if not rows:
        raise ImportFileError("The selected file has no rows of actions under its headings")
    return kind, Sheet(columns=columns, ignored_headings=ignored, rows=rows)


# -- cells to values ------------------------------------------------------------------------------


def _lookup(names: dict[str, str], extra: dict[str, str] | None = None) -> dict[str, str]:
    table = {}
    for code, name in names.items():
        table[code.lower()] = code
        table[name.lower()] = code
        table[code.lower().replace("_", " ")] = code
    for alias, code in (extra or {}).items():
        table[alias.lower()] = code
    return table


STAGE_LOOKUP = _lookup(
    {s.value: STAGE_NAMES[s] for s in Stage},
    {
        "not applicable": Stage.NOT_APPLICABLE.value,
        "n/a": Stage.NOT_APPLICABLE.value,
        "embedded (business as usual)": Stage.EMBEDDED.value,
        "business as usual": Stage.EMBEDDED.value,
    },
)
RAG_LOOKUP = _lookup({r.value: RAG_NAMES[r] for r in Rag}, {"g": "green", "a": "amber", "r": "red"})
BARRIER_LOOKUP = _lookup(BARRIERS, {"legislation": "legislation", "partners": "partners"})
FUNDING_LOOKUP = _lookup(
    FUNDING_SOURCES,
    {
        "core": "core_budget",
        "bcf": "bcf",
        "msif": "msif",
        "icb": "icb",
        "integrated care board": "icb",
        "phg": "public_health_grant",
        "public health": "public_health_grant",
    },
)
SPEND_LOOKUP = {name.lower(): letter for letter, name in SPEND_NAMES.items()}
YES_NO = {"yes": True, "y": True, "true": True, "no": False, "n": False, "false": False}
_TARGET_PERIOD = re.compile(r"^(\d{4})\s*[-/]\s*(\d{2})[\s-]*q\s*([1-4])$", re.IGNORECASE)
_AMOUNT = re.compile(r"^£?\s*\d{1,3}(?:,\d{3})+$|^£?\s*\d+$")


def _text(value: Any) -> str:
    """A cell as text: line endings made "\\n", the export's guard apostrophe taken off."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.strftime("%Y-%m-%d %H:%M") if value.time() else value.date().isoformat()
    elif isinstance(value, date):
        value = value.isoformat()
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    if text.startswith("'") and text[1:2] and text[1:].startswith(DANGEROUS_FIRST):
        text = text[1:].strip()
    return text


def _tokens(text: str) -> list[str]:
    return [t.strip() for t in re.split(r"[;,\n]", text) if t.strip()]


def _choice(text: str, table: dict[str, str]) -> str | None:
    """The code for ``text``; unknown text is passed on as it is, for validation to refuse."""
    if not text:
        return None
    return table.get(" ".join(text.split()).lower(), text)


def cell_value(field_name: str, value: Any) -> Any:
    """What one cell means for one field, as ``validate_assessment`` expects it.

    Words and codes it knows become codes; anything else is passed on unchanged so that the
    assessment's own rules name the problem in their own words.
    """
    if field_name == "amount_pounds":
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            return int(value) if value.is_integer() else value
        text = _text(value)
        if _AMOUNT.match(text):
            return int(re.sub(r"[£,\s]", "", text))
        return text
    text = _text(value)
    if field_name in ("stage", "target_stage"):
        return _choice(text, STAGE_LOOKUP)
    if field_name == "rag":
        return _choice(text, RAG_LOOKUP)
    if field_name == "funding_source":
        return _choice(text, FUNDING_LOOKUP)
    if field_name == "barriers":
        return [_choice(token, BARRIER_LOOKUP) for token in _tokens(text)]
    if field_name == "spend_types":
        letters = []
        for token in _tokens(text):
            if token.lower() in SPEND_LOOKUP:
                letters.append(SPEND_LOOKUP[token.lower()])
            elif re.fullmatch(r"[TSCAtsca\s]+", token):
                letters.extend(token.upper().replace(" ", ""))
            else:
                letters.append("?")
        return "".join(letter for letter in "TSCA?" if letter in letters)
    if field_name == "is_co_produced":
        if isinstance(value, bool):
            return value
        return YES_NO.get(text.lower(), text) if text else None
    if field_name == "target_period":
        match = _TARGET_PERIOD.match(text)
        return f"{match[1]}-{match[2]} Q{match[3]}" if match else (text or None)
    return text


_OPTIONAL_FIELDS = frozenset(
    {"stage", "rag", "target_stage", "target_period", "is_co_produced", "amount_pounds"}
    | {"funding_source"}
)
_BARRIER_ORDER = {code: index for index, code in enumerate(BARRIERS)}


def _comparable(field_name: str, value: Any) -> Any:
    """A value in the form two answers can be compared in."""
    if field_name == "barriers":
        return tuple(sorted(value or [], key=lambda b: (_BARRIER_ORDER.get(b, 99), str(b))))
    if field_name == "spend_types":
        return "".join(letter for letter in "TSCA?" if letter in (value or ""))
    if value is None or value == "":
        return None if field_name in _OPTIONAL_FIELDS else ""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n").strip()
    return value


# -- the preview -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem in one row, in GOV.UK wording."""

    row: int
    column: str
    message: str

    @property
    def text(self) -> str:
        return f"Row {self.row}: {self.message}"


@dataclass(frozen=True)
class FieldChange:
    column: str
    old: str
    new: str


@dataclass
class RowChange:
    """An action whose answer the import changes."""

    row: int
    assessment_id: int
    code: str
    action_text: str
    changes: list[FieldChange]
    #: the cleaned values to save (every editable field)
    values: dict[str, Any]


@dataclass
class ImportPreview:
    """What an import would do; nothing has been written."""

    kind: str
    changed: list[RowChange] = field(default_factory=list)
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    #: actions of the return with no row in the file (left as they are)
    not_in_file: int = 0
    ignored_headings: list[str] = field(default_factory=list)
    #: assessment id → version read, for every row of the file
    versions: dict[int, int] = field(default_factory=dict)

    @property
    def rows_with_errors(self) -> int:
        return len({error.row for error in self.errors})

    @property
    def can_apply(self) -> bool:
        return not self.errors and bool(self.changed)


def _row_values(sheet: Sheet, cells: list[Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The values of one row, and (column, message) for cells refused before validation."""
    values: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for column in EDITABLE_COLUMNS:
        index = sheet.columns[column.field]
        raw = cells[index] if index < len(cells) else None
        if isinstance(raw, Formula):
            problems.append((column.heading, f"{column.heading} must be a value, not a formula"))
            continue
        if isinstance(raw, ErrorValue):
            problems.append(
                (column.heading, f"{column.heading} holds the spreadsheet error {raw.text}")
            )
            continue
        values[column.field] = cell_value(column.field, raw)
    return values, problems


def preview_import(return_: Return, filename: str, data: bytes) -> ImportPreview:
    """Read ``data`` as the import template for ``return_`` and work out every change.

    Writes nothing. Rows with problems are listed in :attr:`ImportPreview.errors` with their
    row number and column; the rules are :func:`validate_assessment`'s.

    :raises ImportFileError: the file as a whole cannot be used (see :func:`read_sheet`).
    """
    kind, sheet = read_sheet(filename, data)
    preview = ImportPreview(kind=kind, ignored_headings=sheet.ignored_headings)
    assessments = {a.action.code.upper(): a for a in list_assessments(return_)}
    seen: dict[str, int] = {}
    code_index = sheet.columns[CODE_HEADING]
    for number, cells in sheet.rows:
        raw_code = cells[code_index] if code_index < len(cells) else None
        if isinstance(raw_code, Formula):
            preview.errors.append(
                RowError(number, CODE_HEADING, "Action code must be a value, not a formula")
            )
            continue
        code = _text(raw_code).upper()
        if not code:
            preview.errors.append(RowError(number, CODE_HEADING, "Enter the action code"))
            continue
        assessment = assessments.get(code)
        if assessment is None:
            preview.errors.append(
                RowError(
                    number,
                    CODE_HEADING,
                    f"There is no action {code[:24]} in this return: check the action code",
                )
            )
            continue
        if code in seen:
            preview.errors.append(
                RowError(
                    number,
                    CODE_HEADING,
                    f"Action {code} is also in row {seen[code]}: each action can only be in "
                    "one row",
                )
            )
            continue
        seen[code] = number
        preview.versions[assessment.id] = assessment.version_id
        values, problems = _row_values(sheet, cells)
        if problems:
            preview.errors.extend(RowError(number, col, msg) for col, msg in problems)
            continue
        current = {name: getattr(assessment, name) for name in EDITABLE_FIELDS}
        if values.get("stage") is None:
            values["stage"] = current["stage"]  # a blank stage keeps the stage
        if all(
            _comparable(name, values[name]) == _comparable(name, current[name])
            for name in EDITABLE_FIELDS
        ):
            preview.unchanged += 1
            continue
        try:
            clean = services.validate_assessment(values)
        except AssessmentInvalid as invalid:
            preview.errors.extend(
                RowError(number, COLUMN_FOR_FIELD[name].heading, message)
                for name, message in sorted(
                    invalid.errors.items(), key=lambda item: EDITABLE_FIELDS.index(item[0])
                )
            )
            continue
        changes = [
            FieldChange(
                COLUMN_FOR_FIELD[name].heading,
                display_value(name, current[name]),
                display_value(name, clean[name]),
            )
            for name in EDITABLE_FIELDS
            if _comparable(name, clean[name]) != _comparable(name, current[name])
        ]
        if not changes:
            preview.unchanged += 1
            continue
        preview.changed.append(
            RowChange(
                row=number,
                assessment_id=assessment.id,
                code=assessment.action.code,
                action_text=assessment.action.text,
                changes=changes,
                values=clean,
            )
        )
    preview.not_in_file = len(assessments) - len(seen)
    preview.errors.sort(key=lambda e: e.row)
    return preview


def stale_actions(return_: Return, versions: dict[int, int]) -> list[str]:
    """Codes of the actions saved by someone since ``versions`` were read (in roadmap order)."""
    return [
        a.action.code
        for a in list_assessments(return_)
        if a.id in versions and a.version_id != versions[a.id]
    ]


def apply_import(
    return_: Return,
    preview: ImportPreview,
    *,
    actor: User,
    expected_versions: dict[int, int],
    filename: str = "",
) -> int:
    """Save every change of ``preview``, or none: the caller commits once, or rolls back.

    :param expected_versions: assessment id → the version shown in the preview, for every row
        of the file; a row saved by someone since then stops the whole import.
    :returns: how many assessments changed.
    :raises ReturnError: the return is not an open draft.
    :raises ImportConflict: someone saved an action of the file since the preview.
    :raises AssessmentInvalid: a row breaks a rule (the preview would have shown it).
    :raises AssessmentConflict: from :func:`save_assessment`, should a save race this one.
    """
    services.require_step(actor, return_, Step.EDIT)
    # Someone else's save first: it may also be why the file now reads differently.
    stale = stale_actions(return_, expected_versions)
    if stale or set(preview.versions) - set(expected_versions):
        raise ImportConflict(stale)
    if preview.errors:
        raise ReturnError("The file has problems: fix them and upload it again")
    by_id = {a.id: a for a in list_assessments(return_)}
    for change in preview.changed:
        services.save_assessment(
            by_id[change.assessment_id],
            change.values,
            actor=actor,
            expected_version=expected_versions[change.assessment_id],
        )
    record(
        actor=actor,
        action="return.import",
        object_type="return",
        object_id=return_.id,
        council_id=return_.council_id,
        after={
            "format": preview.kind,
            "file": filename[:255],
            "changed": [change.code for change in preview.changed],
            "unchanged": preview.unchanged,
        },
    )
    return len(preview.changed)


# -- an upload waiting for its confirmation --------------------------------------------------------


@dataclass(frozen=True)
class PendingUpload:
    """An uploaded file kept, outside ``static/``, between the preview and the confirmation."""

    id: str
    sha256: str
    filename: str
    return_id: int
    user_id: int
    versions: dict[int, int]
    expires_at: datetime


_PENDING_ID = re.compile(r"^[0-9a-f]{32}$")


def _pending_keys(upload_id: str) -> tuple[str, str]:
    if not _PENDING_ID.match(upload_id or ""):
        raise ValueError("not an upload id")
    return f"imports/{upload_id}.upload", f"imports/{upload_id}.json"


def store_upload(
    store: FileStore,
    data: bytes,
    *,
    filename: str,
    return_: Return,
    actor: User,
    versions: dict[int, int],
    now: datetime,
) -> PendingUpload:
    """Keep the uploaded bytes under a random name in the file store (so that the confirmation
    finds them whichever app node it reaches), with what the preview read.

    Old uploads nobody confirmed are removed at the same time.
    """
    sweep_uploads(store, now)
    upload_id = secrets.token_hex(16)
    data_key, meta_key = _pending_keys(upload_id)
    pending = PendingUpload(
        id=upload_id,
        sha256=hashlib.sha256(data).hexdigest(),
        filename=Path(filename or "upload").name[:255],
        return_id=return_.id,
        user_id=actor.id,
        versions=dict(versions),
        expires_at=now + PENDING_TTL,
    )
    store.save(data_key, data)
    meta = {
        "sha256": pending.sha256,
        "filename": pending.filename,
        "return_id": pending.return_id,
        "user_id": pending.user_id,
        "versions": {str(k): v for k, v in pending.versions.items()},
        "expires_at": pending.expires_at.isoformat(),
    }
    store.save(meta_key, json.dumps(meta).encode("utf-8"))
    return pending


def load_upload(
    store: FileStore,
    upload_id: str,
    sha256: str,
    *,
    return_: Return,
    actor: User,
    now: datetime,
) -> tuple[PendingUpload, bytes] | None:
    """The pending upload and its bytes, if it is this person's, for this return, unexpired and
    unchanged (its SHA-256 still ``sha256``); otherwise None."""
    try:
        data_key, meta_key = _pending_keys(upload_id)
        meta = json.loads(store.read(meta_key).decode("utf-8"))
        data = store.read(data_key)
    except (ValueError, OSError):
        return None
    pending = PendingUpload(
        id=upload_id,
        sha256=meta["sha256"],
        filename=meta["filename"],
        return_id=meta["return_id"],
        user_id=meta["user_id"],
        versions={int(k): int(v) for k, v in meta["versions"].items()},
        expires_at=datetime.fromisoformat(meta["expires_at"]),
    )
    if (
        pending.return_id != return_.id
        or pending.user_id != actor.id
        or pending.expires_at < now
        or not secrets.compare_digest(pending.sha256, sha256 or "")
        or not secrets.compare_digest(hashlib.sha256(data).hexdigest(), pending.sha256)
    ):
        return None
    return pending, data


def discard_upload(store: FileStore, upload_id: str) -> None:
    """Remove a pending upload (confirmed, cancelled or replaced)."""
    try:
        keys = _pending_keys(upload_id)
    except ValueError:
        return
    for key in keys:
        store.delete(key)


def sweep_uploads(store: FileStore, now: datetime) -> int:
    """Remove pending uploads older than their time to live; returns how many went."""
    removed = 0
    cutoff = now - PENDING_TTL
    for item in store.list("imports/"):
        if item.key.endswith((".upload", ".json")) and item.modified < cutoff:
            store.delete(item.key)
            removed += item.key.endswith(".json")
    return removed
