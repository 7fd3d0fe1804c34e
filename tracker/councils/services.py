"""Loading and reading councils and their ADASS regions."""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Council, Region

COLUMNS = [
    "gss_code",
    "name",
    "short_name",
    "council_type",
    "adass_region",
    "ons_region",
    "ons_region_code",
    "former_gss_codes",
]
COUNCIL_TYPES = {"county", "unitary", "metropolitan_district", "london_borough", "other"}
ADASS_REGIONS = {
    "East Midlands",
    "East of England",
    "London",
    "North East",
    "North West",
    "South East",
    "South West",
    "West Midlands",
    "Yorkshire and the Humber",
}
GSS_CODE = re.compile(r"^E0(6|8|9)\d{6}$|^E10\d{6}$")
ONS_REGION_CODE = re.compile(r"^E1200000[1-9]$")


class CouncilDataError(Exception):
    """The councils file is not valid; ``problems`` lists every one found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "The councils were not loaded; nothing was changed.\n"
            + "\n".join(f"- {p}" for p in problems)
        )


@dataclass
class CouncilLoadReport:
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    deactivated: int = 0

    def lines(self) -> list[str]:
        out = []
        for kind in ("regions", "councils"):
            out.append(
                f"{kind}: {self.created[kind]} created, {self.updated[kind]} updated, "
                f"{self.unchanged[kind]} unchanged"
            )
        if self.deactivated:
            out.append(f"councils no longer in the file, marked inactive: {self.deactivated}")
        return out


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def read_councils(csv_path: Path) -> list[dict[str, str]]:
    """Read and check the councils file.

    :returns: one dict a row, keyed by the file's columns.
    :raises CouncilDataError: listing every problem, with row numbers.
    """
    problems: list[str] = []
    try:
        with csv_path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames != COLUMNS:
                raise CouncilDataError(
                    [f"{csv_path.name}: the columns must be {', '.join(COLUMNS)}"]
                )
            rows = list(reader)
    except FileNotFoundError as error:
        raise CouncilDataError([f"{csv_path}: file is missing"]) from error
    except UnicodeDecodeError as error:
        raise CouncilDataError([f"{csv_path.name}: not UTF-8 text"]) from error
    seen: Counter = Counter()
    for number, row in enumerate(rows, start=2):
        where = f"{csv_path.name} row {number}"
        code = (row.get("gss_code") or "").strip()
        seen[code] += 1
        if not GSS_CODE.match(code):
            problems.append(f"{where}: GSS code {code!r} is not a council code")
        if not (row.get("name") or "").strip() or not (row.get("short_name") or "").strip():
            problems.append(f"{where}: name and short name are required")
        if row.get("council_type") not in COUNCIL_TYPES:
            problems.append(f"{where}: council type {row.get('council_type')!r} is not known")
        if row.get("adass_region") not in ADASS_REGIONS:
            problems.append(f"{where}: ADASS region {row.get('adass_region')!r} is not known")
        if not ONS_REGION_CODE.match(row.get("ons_region_code") or ""):
            problems.append(f"{where}: ONS region code {row.get('ons_region_code')!r} is not valid")
        for former in filter(None, (row.get("former_gss_codes") or "").split(";")):
            if not GSS_CODE.match(former):
                problems.append(f"{where}: former GSS code {former!r} is not a council code")
    problems += [f"GSS code {c} appears {k} times" for c, k in seen.items() if k > 1 and c]
    if problems:
        raise CouncilDataError(problems)
    return rows


def load_councils(csv_path: Path) -> CouncilLoadReport:
    """Check the councils file and sync regions and councils by GSS code.

    A council missing from the file is marked inactive, never deleted. Flushes; the caller
    commits.

    :raises CouncilDataError: if the file is invalid (nothing is written).
    """
    rows = read_councils(csv_path)
    report = CouncilLoadReport()
    with db.session.begin_nested():
        regions = {r.name: r for r in db.session.scalars(select(Region))}
        for name in sorted({row["adass_region"] for row in rows}):
            if name in regions:
                report.unchanged["regions"] += 1
                continue
            regions[name] = Region(name=name, slug=slugify(name))
            db.session.add(regions[name])
            report.created["regions"] += 1
        db.session.flush()
        existing = {c.gss_code: c for c in db.session.scalars(select(Council))}
        for row in rows:
            values = {
                "name": row["name"].strip(),
                "short_name": row["short_name"].strip(),
                "council_type": row["council_type"],
                "region_id": regions[row["adass_region"]].id,
                "ons_region": row["ons_region"].strip(),
                "ons_region_code": row["ons_region_code"],
                "former_gss_codes": row["former_gss_codes"].strip(),
                "is_active": True,
            }
            council = existing.pop(row["gss_code"], None)
            if council is None:
                db.session.add(Council(gss_code=row["gss_code"], **values))
                report.created["councils"] += 1
                continue
            changed = [k for k, v in values.items() if getattr(council, k) != v]
            for key in changed:
                setattr(council, key, values[key])
            (report.updated if changed else report.unchanged)["councils"] += 1
        for council in existing.values():
            if council.is_active:
                council.is_active = False
                report.deactivated += 1
        db.session.flush()
    return report
