"""The open-data bulk download of a closed quarter: a zip holding a Frictionless Data Package.

What is in it (``docs/open-data.md``):

- ``returns.csv`` and ``.json``: the returns published openly
  (:func:`tracker.domain.visibility.published_openly`: signed off, in a closed period, of a
  council that shares named returns), one row each, with their actions counted by stage;
- ``assessments.csv`` and ``.json``: every assessment of those returns, in the words of a
  return's spreadsheet export, evidence counted but never included, and nothing that names a
  person (no lead officer, no partners, no account), no workflow note and no panel comment;
- ``actions.csv`` and ``.json``: the roadmap's actions;
- ``national_summary.csv`` and ``.json``: per action, councils at each stage over every
  submitted or signed-off return (named or not), withheld where
  :func:`tracker.domain.visibility.aggregate_refusal` says so;
- ``datapackage.json``: the tables' schemas (``tracker.opendata.schema``), the Open Government
  Licence, the sources, and each file's size and SHA-256 hash.

CSV cells that a spreadsheet program would run as a formula are neutralised as the spreadsheet
export does (:func:`tracker.returns.spreadsheet.neutralise`); the JSON files keep the text as
written. A package is four SQL statements whatever the number of councils; assessment rows are
streamed into temporary files, never held as ORM objects. No Flask request globals here: the
views and ``flask opendata build`` call the same functions.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from tracker.clock import to_uk, utcnow
from tracker.domain.periods import (
    PeriodError,
    label_from_url,
    months,
    parse_period_label,
    period_label,
    period_slug,
)
from tracker.domain.visibility import MIN_COUNCILS, aggregate_refusal, published_openly
from tracker.domain.vocabulary import (
    FUNDING_NAMES,
    FUNDING_SYMBOLS,
    LEAD_NAMES,
    NOT_ASSESSED,
    SHARED_STATUSES,
    SPEND_NAMES,
    TIMEFRAME_NAMES,
    TIMEFRAMES,
    ReviewState,
    legislative_label,
)
from tracker.extensions import db
from tracker.models import (
    Action,
    ActionArea,
    Assessment,
    Council,
    Enabler,
    Period,
    PeriodStatus,
    Region,
    Return,
    assessment_evidence,
)
from tracker.opendata.schema import (
    ACTIONS,
    ASSESSMENTS,
    ENABLER_ACTION,
    NATIONAL_SUMMARY,
    RETURNS,
    ROADMAP_ACTION,
    STAGE_COUNTS,
    TABLES,
    Table,
)
from tracker.returns.spreadsheet import DANGEROUS_FIRST, area_name, display_value, neutralise

LICENCE = {
    "name": "OGL-UK-3.0",
    "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
    "title": "Open Government Licence v3.0",
}
SOURCES = (
    {
        "title": (
            "Association of Directors of Adult Social Services (ADASS), Time to act: a roadmap "
            "for reforming care and support in England (April 2023)"
        ),
    },
    {
        "title": "Council codes: Office for National Statistics, Open Geography Portal",
        "path": "https://geoportal.statistics.gov.uk/",
    },
    {
        "title": "Council names: mySociety, UK local authority names and codes (CC BY 4.0)",
        "path": "https://github.com/mysociety/uk_local_authority_names_and_codes",
    },
    {
        "title": "ADASS regions: Care Quality Commission location data",
        "path": "https://www.cqc.org.uk/about-us/transparency/using-cqc-data",
    },
)
ZIP_MIMETYPE = "application/zip"
#: rows fetched from the database at a time while streaming the assessments
BATCH_ROWS = 2000
#: zlib's level: its fastest. At national scale the zip is 3.8 MB rather than 2.7 MB at the
#: default level, and compressing takes a sixth of the time (bench/opendata.py)
COMPRESS_LEVEL = 1
#: a table's file is kept in memory up to this size, then in a temporary file
SPOOL_BYTES = 8 * 1024 * 1024

_TIMEFRAME_ORDER = case(
    {code: index for index, code in enumerate(TIMEFRAMES)},
    value=Action.timeframe,
    else_=len(TIMEFRAMES),
)
#: the roadmap's order, as in a return's export: areas by number, then the barriers; within
#: each, short, medium then long term
_ROADMAP_ORDER = (
    Action.enabler_id.is_not(None),
    ActionArea.position,
    Enabler.position,
    _TIMEFRAME_ORDER,
    Action.position,
    Action.code,
)


class OpenDataError(ValueError):
    """The period cannot be published (unknown, or not closed); the message says why."""


# -- which periods and how many councils -------------------------------------------------------


@dataclass(frozen=True)
class PublishedPeriod:
    """A closed period and how many councils' returns its download holds."""

    period: Period
    councils: int

    @property
    def slug(self) -> str:
        return period_slug(self.period)


def _count_where(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def list_published_periods() -> list[PublishedPeriod]:
    """Every closed period, newest first, with the number of councils whose returns its
    download holds (:func:`published_openly`). One query."""
    rows = db.session.execute(
        select(Period, _count_where(published_openly()))
        .outerjoin(Return, Return.period_id == Period.id)
        .outerjoin(Council, Council.id == Return.council_id)
        .where(Period.status == PeriodStatus.CLOSED)
        .group_by(Period.id)
        .order_by(Period.year.desc(), Period.quarter.desc())
    ).all()
    return [PublishedPeriod(period, int(councils)) for period, councils in rows]


def get_closed_period(slug: str) -> Period | None:
    """The closed period whose URL form (``2025-26-Q3``) is ``slug``; None for any other."""
    label = label_from_url(slug)
    if label is None:
        return None
    return db.session.scalar(
        select(Period).where(Period.label == label, Period.status == PeriodStatus.CLOSED)
    )


def find_closed_period(label: str) -> Period:
    """The closed period labelled ``label`` ("2025-26 Q3"), for the command line.

    :raises OpenDataError: if the label is not a quarter's, or the period is missing or not
        closed.
    """
    try:
        label = period_label(*parse_period_label(label))
    except PeriodError as error:
        raise OpenDataError(str(error)) from error
    period = db.session.scalar(select(Period).where(Period.label == label))
    if period is None:
        raise OpenDataError(f"There is no period {label}")
    if period.status != PeriodStatus.CLOSED:
        raise OpenDataError(f"{label} is {period.status}: only a closed period is published")
    return period


def package_filename(period: Period) -> str:
    """``roadmap-tracker-open-data-2025-26-Q3.zip``: ASCII only, safe in any header."""
    return f"roadmap-tracker-open-data-{period_slug(period)}.zip"


# -- the tables' rows --------------------------------------------------------------------------


def _stage_counts(counts: Mapping[str, int]) -> list[int]:
    return [int(counts.get(key, 0)) for _name, key in STAGE_COUNTS]


def _action_rows(period: Period) -> Iterator[list[Any]]:
    """The roadmap's actions: every one councils assess now, and any other a submitted or
    signed-off return of ``period`` assessed (an action archived since)."""
    assessed = (
        select(Assessment.action_id)
        .join(Return, Return.id == Assessment.return_id)
        .where(Return.period_id == period.id, Return.status.in_(SHARED_STATUSES))
    )
    rows = db.session.execute(
        select(
            Action.code,
            Action.text,
            ActionArea.position,
            ActionArea.title,
            Enabler.title,
            Action.timeframe,
            Action.lead,
            Action.tag_text,
            Action.funding_level,
            Action.spend_types,
            Action.legislative_level,
        )
        .outerjoin(ActionArea, Action.area_id == ActionArea.id)
        .outerjoin(Enabler, Action.enabler_id == Enabler.id)
        .where(
            Action.parent_id.is_(None),
            or_(Action.archived_at.is_(None), Action.id.in_(assessed)),
        )
        .order_by(*_ROADMAP_ORDER)
    )
    for (
        code,
        text,
        area_position,
        area_title,
        enabler_title,
        timeframe,
        lead,
        tag_text,
        funding_level,
        spend_types,
        legislative_level,
    ) in rows:
        funding = (
            f"{FUNDING_NAMES[funding_level]} ({FUNDING_SYMBOLS[funding_level]})"
            if funding_level
            else ""
        )
        yield [
            code,
            text,
            ENABLER_ACTION if area_title is None else ROADMAP_ACTION,
            area_name(area_position, area_title, enabler_title),
            TIMEFRAME_NAMES.get(timeframe or "", ""),
            LEAD_NAMES.get(lead, lead),
            tag_text,
            funding,
            "; ".join(SPEND_NAMES.get(letter, letter) for letter in spend_types or ""),
            legislative_label(legislative_level),
        ]


def _return_rows(period: Period) -> Iterator[list[Any]]:
    """One row per return published openly, by council name, with its actions by stage."""
    stage = func.coalesce(Assessment.stage, NOT_ASSESSED)
    rows = db.session.execute(
        select(
            Council.gss_code,
            Council.name,
            Region.name,
            Return.signed_off_at,
            func.count(Assessment.id),
            *(_count_where(stage == key) for _name, key in STAGE_COUNTS),
        )
        .select_from(Return)
        .join(Council, Council.id == Return.council_id)
        .join(Region, Region.id == Council.region_id)
        .join(Period, Period.id == Return.period_id)
        .outerjoin(Assessment, Assessment.return_id == Return.id)
        .where(Return.period_id == period.id, published_openly())
        .group_by(Return.id, Council.gss_code, Council.name, Region.name, Return.signed_off_at)
        .order_by(Council.name, Council.gss_code)
    )
    quarter = months(period.label)
    for gss_code, name, region, signed_off_at, actions, *counts in rows:
        signed_off_on = to_uk(signed_off_at).date() if signed_off_at else None
        yield [
            gss_code,
            name,
            region,
            period.label,
            quarter,
            signed_off_on,
            int(actions),
            *(int(count) for count in counts),
        ]


def _assessment_rows(period: Period) -> Iterator[list[Any]]:
    """Every assessment of the returns published openly, by council and in roadmap order,
    fetched :data:`BATCH_ROWS` at a time."""
    evidence_items = (
        select(func.count())
        .select_from(assessment_evidence)
        .where(assessment_evidence.c.assessment_id == Assessment.id)
        .scalar_subquery()
    )
    query = (
        select(
            Council.gss_code,
            Action.code,
            Action.text,
            ActionArea.position,
            ActionArea.title,
            Enabler.title,
            Action.timeframe,
            Action.lead,
            Assessment.stage,
            Assessment.rag,
            Assessment.is_carried_forward,
            Assessment.confirmed_at,
            Assessment.updated_at,
            Assessment.not_applicable_reason,
            Assessment.narrative,
            Assessment.next_steps,
            Assessment.barriers,
            Assessment.barrier_detail,
            Assessment.target_stage,
            Assessment.target_period,
            Assessment.is_co_produced,
            Assessment.spend_types,
            Assessment.amount_pounds,
            Assessment.funding_source,
            evidence_items,
        )
        .select_from(Assessment)
        .join(Return, Return.id == Assessment.return_id)
        .join(Council, Council.id == Return.council_id)
        .join(Period, Period.id == Return.period_id)
        .join(Action, Action.id == Assessment.action_id)
        .outerjoin(ActionArea, Action.area_id == ActionArea.id)
        .outerjoin(Enabler, Action.enabler_id == Enabler.id)
        .where(Return.period_id == period.id, published_openly())
        .order_by(Council.name, Council.gss_code, *_ROADMAP_ORDER)
        .execution_options(yield_per=BATCH_ROWS)
    )
    label = period.label
    for (
        gss_code,
        code,
        text,
        area_position,
        area_title,
        enabler_title,
        timeframe,
        lead,
        stage,
        rag,
        is_carried_forward,
        confirmed_at,
        updated_at,
        not_applicable_reason,
        narrative,
        next_steps,
        barriers,
        barrier_detail,
        target_stage,
        target_period,
        is_co_produced,
        spend_types,
        amount_pounds,
        funding_source,
        evidence,
    ) in db.session.execute(query):
        review = ReviewState.of(
            is_carried_forward=is_carried_forward,
            confirmed_at=confirmed_at,
            updated_at=updated_at,
        )
        yield [
            gss_code,
            label,
            code,
            text,
            area_name(area_position, area_title, enabler_title),
            TIMEFRAME_NAMES.get(timeframe or "", ""),
            LEAD_NAMES.get(lead, lead),
            display_value("stage", stage),
            display_value("rag", rag),
            review.label,
            not_applicable_reason,
            narrative,
            next_steps,
            display_value("barriers", barriers),
            barrier_detail,
            display_value("target_stage", target_stage),
            target_period,
            display_value("is_co_produced", is_co_produced),
            display_value("spend_types", spend_types),
            amount_pounds,
            display_value("funding_source", funding_source),
            int(evidence),
        ]


@dataclass
class _ActionCounts:
    councils: int = 0
    #: of those, councils whose return is in returns.csv
    named: int = 0
    stages: Counter[str] = field(default_factory=Counter)


def _national_rows(period: Period, action_codes: Sequence[str]) -> Iterator[list[Any]]:
    """Per action of ``action_codes``, councils at each stage over every submitted or
    signed-off return of ``period``, withheld as :func:`aggregate_refusal` says: the councils
    not in ``returns.csv`` (not shared by name, or not signed off) are the ones not named."""
    rows = db.session.execute(
        select(
            Action.code,
            Assessment.stage,
            func.count(),
            _count_where(published_openly()),
        )
        .select_from(Assessment)
        .join(Return, Return.id == Assessment.return_id)
        .join(Council, Council.id == Return.council_id)
        .join(Period, Period.id == Return.period_id)
        .join(Action, Action.id == Assessment.action_id)
        .where(Return.period_id == period.id, Return.status.in_(SHARED_STATUSES))
        .group_by(Action.code, Assessment.stage)
    )
    found: dict[str, _ActionCounts] = {}
    for code, stage, count, named in rows:
        entry = found.setdefault(code, _ActionCounts())
        entry.councils += int(count)
        entry.named += int(named)
        entry.stages[stage or NOT_ASSESSED] += int(count)
    for code in action_codes:
        entry = found.get(code, _ActionCounts())
        reason = aggregate_refusal(entry.councils, entry.councils - entry.named)
        counts: list[int | None] = (
            [None] * len(STAGE_COUNTS) if reason else _stage_counts(entry.stages)
        )
        yield [period.label, code, entry.councils, *counts, reason or ""]


# -- writing the files -------------------------------------------------------------------------


class _File:
    """A table's file being written: kept in memory up to :data:`SPOOL_BYTES`, hashed as it
    goes."""

    def __init__(self) -> None:
        self.file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
        self.sha256 = hashlib.sha256()
        self.bytes = 0

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        self.file.write(data)
        self.sha256.update(data)
        self.bytes += len(data)
        return len(text)

    def stats(self) -> dict[str, Any]:
        return {"bytes": self.bytes, "hash": f"sha256:{self.sha256.hexdigest()}"}


#: the first characters :func:`neutralise` acts on (each of DANGEROUS_FIRST is one character), so
#: that the 400,000 cells of a national package call it only when it has something to do
_FORMULA_FIRST = frozenset(DANGEROUS_FIRST)
assert all(len(first) == 1 for first in DANGEROUS_FIRST)
_JSON = json.JSONEncoder(ensure_ascii=False)


def _csv_value(value: Any) -> Any:
    """A cell of the CSV: empty for None, a date as YYYY-MM-DD, formula-like text neutralised."""
    if value is None:
        return ""
    if value.__class__ is str:
        return neutralise(value) if value[:1] in _FORMULA_FIRST else value
    return value.isoformat() if isinstance(value, date) else value


def _json_value(value: Any) -> Any:
    """A value of the JSON: null for an empty one, a date as YYYY-MM-DD."""
    if value is None or value == "":
        return None
    return value.isoformat() if isinstance(value, date) else value


class _TableWriter:
    """One table written as CSV (RFC 4180, UTF-8, formula-like text neutralised) and as JSON
    (an array of objects keyed by the field names; empty values are null) in one pass."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.names = table.names
        self.csv = _File()
        self.json = _File()
        self.rows = 0
        self._writer = csv.writer(self.csv, lineterminator="\r\n")
        self._writer.writerow(self.names)
        self.json.write("[")

    def write(self, row: Sequence[Any]) -> None:
        assert len(row) == len(self.names), self.table.name
        self._writer.writerow([_csv_value(value) for value in row])
        record = dict(zip(self.names, map(_json_value, row), strict=True))
        self.json.write(("\n" if not self.rows else ",\n") + _JSON.encode(record))
        self.rows += 1

    def close(self) -> None:
        self.json.write("\n]\n")


@dataclass(frozen=True)
class PackageSummary:
    """What a built package holds."""

    period: Period
    filename: str
    #: table name → rows
    rows: dict[str, int]
    #: the files in the zip, datapackage.json first
    files: tuple[str, ...]


def _descriptor(
    period: Period, writers: Mapping[str, _TableWriter], created: datetime
) -> dict[str, Any]:
    quarter = months(period.label)
    councils = writers[RETURNS.name].rows
    resources: list[dict[str, Any]] = []
    for table in TABLES.values():
        writer = writers[table.name]
        resources.append(
            {
                "name": table.resource_name,
                "path": table.csv_path,
                "profile": "tabular-data-resource",
                "title": table.title,
                "description": table.description,
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "dialect": {"delimiter": ",", "lineTerminator": "\r\n", "header": True},
                **writer.csv.stats(),
                "schema": table.schema(),
            }
        )
    for table in TABLES.values():
        writer = writers[table.name]
        resources.append(
            {
                "name": table.json_resource_name,
                "path": table.json_path,
                "profile": "data-resource",
                "title": f"{table.title} (JSON)",
                "description": (
                    f"The rows of {table.csv_path} as a JSON array of objects keyed by its field "
                    "names (its schema describes them): numbers as numbers, dates as "
                    "YYYY-MM-DD, empty values as null, and text exactly as written (the CSV "
                    "puts an apostrophe before text that starts with = + - @, a tab or a "
                    "carriage return, so that spreadsheet programs do not run it as a formula)."
                ),
                "format": "json",
                "mediatype": "application/json",
                "encoding": "utf-8",
                **writer.json.stats(),
            }
        )
    return {
        "profile": "data-package",
        "name": f"roadmap-tracker-{period_slug(period).lower()}",
        "title": f"Progress on the ADASS roadmap Time to act: {quarter} ({period.label})",
        "description": (
            "Councils' own quarterly assessments of their progress on the actions of Time to "
            "act: a roadmap for reforming care and support in England (ADASS, April 2023), for "
            f"{quarter} (the financial-year quarter {period.label}).\n\n"
            f"returns.csv and assessments.csv hold the returns of the {councils} councils whose "
            "return for the quarter was signed off by their Director of Adult Social Services "
            "and which share their returns by name. Councils that do not share named returns "
            "are absent from them, and so are returns that were not signed off. "
            "national_summary.csv counts every submitted or signed-off return, named or not, "
            f"and withholds a figure that covers fewer than {MIN_COUNCILS} councils or from 1 "
            f"to {MIN_COUNCILS - 1} councils not named in returns.csv. actions.csv lists the "
            "roadmap's actions.\n\n"
            "Each table is also given as JSON (the .json file of the same name, with the same "
            "fields). Evidence is counted, never included; no names of people, workflow notes "
            "or co-production panel comments are published.\n\n"
            "Licensed under the Open Government Licence v3.0. Council names: mySociety, "
            "licensed under CC BY 4.0. Council codes: Office for National Statistics, licensed "
            "under the Open Government Licence v3.0."
        ),
        "licenses": [dict(LICENCE)],
        "sources": [dict(source) for source in SOURCES],
        "keywords": ["adult social care", "ADASS", "Time to act", "councils", "England"],
        "created": created.replace(microsecond=0).isoformat() + "Z",
        "resources": resources,
    }


def build_package(
    period: Period, target: IO[bytes], *, created: datetime | None = None
) -> PackageSummary:
    """Write the open-data zip of ``period`` to ``target`` (a binary file open for writing).

    Four SQL statements, whatever the number of councils.

    :param created: when the package was made (naive UTC; default now).
    :raises OpenDataError: if the period is not closed.
    """
    if period.status != PeriodStatus.CLOSED:
        raise OpenDataError(f"{period.label} is {period.status}: only a closed period is published")
    writers = {name: _TableWriter(table) for name, table in TABLES.items()}
    codes: list[str] = []
    for row in _action_rows(period):
        codes.append(row[0])
        writers[ACTIONS.name].write(row)
    for row in _return_rows(period):
        writers[RETURNS.name].write(row)
    for row in _assessment_rows(period):
        writers[ASSESSMENTS.name].write(row)
    for row in _national_rows(period, codes):
        writers[NATIONAL_SUMMARY.name].write(row)
    for writer in writers.values():
        writer.close()

    descriptor = _descriptor(period, writers, created or utcnow())
    files = ["datapackage.json"]
    with zipfile.ZipFile(
        target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL
    ) as archive:
        archive.writestr(
            "datapackage.json", json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n"
        )
        for table in TABLES.values():
            writer = writers[table.name]
            for path, part in ((table.csv_path, writer.csv), (table.json_path, writer.json)):
                part.file.seek(0)
                with archive.open(path, "w") as entry:
                    shutil.copyfileobj(part.file, entry)
                part.file.close()
                files.append(path)
    return PackageSummary(
        period=period,
        filename=package_filename(period),
        rows={name: writer.rows for name, writer in writers.items()},
        files=tuple(files),
    )


def write_package(period: Period, output: Path) -> PackageSummary:
    """Write the package of ``period`` to ``output``: a zip when the name ends ``.zip``,
    otherwise its files into that folder (made if missing), ready for ``frictionless validate
    <folder>/datapackage.json``.

    :raises OpenDataError: if the period is not closed.
    """
    if output.suffix.lower() == ".zip":
        output.parent.mkdir(parents=True, exist_ok=True)
        with output.open("wb") as target:
            return build_package(period, target)
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile() as spool:
        summary = build_package(period, spool)
        spool.seek(0)
        with zipfile.ZipFile(spool) as archive:
            for name in summary.files:
                (output / name).write_bytes(archive.read(name))
    return summary
