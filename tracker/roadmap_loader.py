"""Reads an edition of the roadmap from ``roadmap/`` and syncs it into the tables.

An edition is a folder holding ``edition.yaml``, ``areas/*.yaml`` (one file an area, in the report's
order), ``agenda.yaml`` and ``barriers-and-enablers.yaml``. Every file is checked against a schema
and the files against each other before anything is written, so bad data is refused whole with a
message naming the file, the item and the problem. Loading is idempotent: rows are matched by their
stable codes, inserted when missing and updated when changed. An action or area that an edition no
longer lists is archived, never deleted, because assessments point to it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from sqlalchemy import select

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import (
    Action,
    ActionArea,
    AgendaGroup,
    AgendaItem,
    Enabler,
    Outcome,
    PreventionTier,
    RoadmapEdition,
)

TIMEFRAMES = ("short", "medium", "long")
LEADS = ["local", "system", "national"]
#: the Care Act's prevent, reduce, delay (roadmap/README.md, "Prevention tier")
PREVENTION_TIERS = [tier.value for tier in PreventionTier]
SPEND_TYPES = ["T", "S", "C", "A"]

#: printed tag groups: cost tags such as "(T£)", "(£££)" or "(A££)", legislative ones such as "(++)"
TAGS = re.compile(r"^\((?:[TSCA]*£{1,3}|\+{1,4})\)(?:\s*\((?:[TSCA]*£{1,3}|\+{1,4})\))*$")

_TEXT = {"type": "string", "minLength": 1}
_TEXT_LIST = {"type": "array", "items": _TEXT}
_TAG_FIELDS = {
    "tags": {"type": "string", "pattern": TAGS.pattern},
    "funding": {"type": "integer", "minimum": 1, "maximum": 3},
    "spend": {
        "type": "array",
        "items": {"enum": SPEND_TYPES},
        "uniqueItems": True,
        "minItems": 1,
    },
    "legislative": {"type": "integer", "minimum": 1, "maximum": 3},
}
_ACTION = {
    "type": "object",
    "required": ["code", "text", "lead"],
    "additionalProperties": False,
    "properties": {
        "code": {"type": "string", "pattern": r"^(A\d\d\.[SML]\d\d(\.\d)?|E\d\d\.\d\d)$"},
        "text": _TEXT,
        **_TAG_FIELDS,
        "lead": {"enum": LEADS},
        "prevention": {"enum": [*PREVENTION_TIERS, None]},
        "note": _TEXT,
        "sub_items": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/action"}},
    },
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "edition": {
        "type": "object",
        "required": ["code", "title", "key", "timeframes", "outcomes"],
        "additionalProperties": False,
        "properties": {
            "code": {"type": "string", "pattern": r"^[a-z0-9-]+$"},
            "title": _TEXT,
            "subtitle": _TEXT,
            "authors": _TEXT,
            "publisher": _TEXT,
            "published": _TEXT,
            "key": {
                "type": "object",
                "required": ["intro", "funding", "spend", "legislative"],
                "additionalProperties": False,
                "properties": {
                    "intro": _TEXT,
                    "funding": {"type": "array", "minItems": 3, "maxItems": 3},
                    "spend": {"type": "array", "minItems": 4, "maxItems": 4},
                    "legislative": {"type": "array", "minItems": 3, "maxItems": 3},
                },
            },
            "timeframes": {
                "type": "array",
                "minItems": 3,
                "maxItems": 3,
                "items": {
                    "type": "object",
                    "required": ["code", "title", "definition"],
                    "additionalProperties": False,
                    "properties": {
                        "code": {"enum": list(TIMEFRAMES)},
                        "title": _TEXT,
                        "definition": _TEXT,
                    },
                },
            },
            "outcomes_intro": _TEXT,
            "outcomes": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["number", "title", "description"],
                    "additionalProperties": False,
                    "properties": {
                        "number": {"type": "integer", "minimum": 1},
                        "title": _TEXT,
                        "description": _TEXT,
                    },
                },
            },
        },
    },
    "area": {
        "$defs": {"action": _ACTION},
        "type": "object",
        "required": ["code", "slug", "title", "shift", "actions"],
        "additionalProperties": False,
        "properties": {
            "code": {"type": "string", "pattern": r"^A\d\d$"},
            "slug": {"type": "string", "pattern": r"^[a-z0-9-]+$"},
            "title": _TEXT,
            "sidebar_title": _TEXT,
            "shift": {**_TEXT_LIST, "minItems": 1},
            "practical_intro": _TEXT,
            "practical": _TEXT_LIST,
            "examples_intro": _TEXT,
            "examples": _TEXT_LIST,
            "note": _TEXT,
            "actions": {
                "type": "object",
                "additionalProperties": False,
                "required": list(TIMEFRAMES),
                "properties": {
                    tf: {"type": "array", "items": {"$ref": "#/$defs/action"}} for tf in TIMEFRAMES
                },
            },
        },
    },
    "agenda": {
        "type": "object",
        "required": ["groups"],
        "additionalProperties": False,
        "properties": {
            "intro": _TEXT_LIST,
            "groups": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["code", "title", "items"],
                    "additionalProperties": False,
                    "properties": {
                        "code": {"type": "string", "pattern": r"^AG\d+$"},
                        "title": _TEXT,
                        "items": {
                            "type": "array",
                            "minItems": 1,
                            "items": {
                                "type": "object",
                                "required": ["code", "text", "restates"],
                                "additionalProperties": False,
                                "properties": {
                                    "code": {"type": "string", "pattern": r"^AG\d+\.\d\d$"},
                                    "text": _TEXT,
                                    **_TAG_FIELDS,
                                    "restates": {"type": ["string", "null"]},
                                    "note": _TEXT,
                                },
                            },
                        },
                    },
                },
            },
        },
    },
    "enablers": {
        "$defs": {"action": _ACTION},
        "type": "object",
        "required": ["enablers"],
        "additionalProperties": False,
        "properties": {
            "intro": _TEXT,
            "enablers": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["code", "slug", "title", "actions"],
                    "additionalProperties": False,
                    "properties": {
                        "code": {"type": "string", "pattern": r"^E\d\d$"},
                        "slug": {"type": "string", "pattern": r"^[a-z0-9-]+$"},
                        "title": _TEXT,
                        "note": _TEXT,
                        "body": _TEXT_LIST,
                        "actions": {
                            "type": "array",
                            "minItems": 1,
                            "items": {"$ref": "#/$defs/action"},
                        },
                    },
                },
            },
        },
    },
}


class RoadmapDataError(Exception):
    """The roadmap files are not valid; ``problems`` lists every one found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "The roadmap was not loaded; nothing was changed.\n"
            + "\n".join(f"- {p}" for p in problems)
        )


@dataclass
class LoadReport:
    """What a load did, counted by kind of row."""

    edition: str = ""
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    archived: Counter = field(default_factory=Counter)
    removed: Counter = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return any((self.created, self.updated, self.archived, self.removed))

    def lines(self) -> list[str]:
        kinds = ["areas", "actions", "enablers", "outcomes", "agenda groups", "agenda items"]
        out = [f"Roadmap edition {self.edition}:"]
        for kind in kinds:
            parts = [
                f"{counter[kind]} {label}"
                for label, counter in (
                    ("created", self.created),
                    ("updated", self.updated),
                    ("unchanged", self.unchanged),
                    ("archived", self.archived),
                    ("removed", self.removed),
                )
                if counter[kind]
            ]
            out.append(f"  {kind}: {', '.join(parts) or 'none'}")
        return out


# --- reading and checking -------------------------------------------------------------------


@dataclass
class _Edition:
    path: Path
    edition: dict[str, Any]
    areas: list[tuple[str, dict[str, Any]]]
    agenda: dict[str, Any]
    enablers: dict[str, Any]


def _label(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent.parent))
    except ValueError:
        return str(path)


def _read_yaml(path: Path, label: str, problems: list[str]) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except FileNotFoundError:
        problems.append(f"{label}: file is missing")
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problems.append(f"{label}: not valid YAML{where}: {getattr(error, 'problem', error)}")
    except UnicodeDecodeError:
        problems.append(f"{label}: not UTF-8 text")
    return None


def _item_name(document: Any, path: list[Any]) -> str:
    """The code of the innermost item on ``path``, else the path itself, for messages."""
    node, name = document, ""
    crumbs = []
    for step in path:
        crumbs.append(str(step))
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict) and isinstance(node.get("code"), str):
            name = node["code"]
    where = " → ".join(crumbs)
    if name:
        return f"item {name} ({where})" if where else f"item {name}"
    return f"at {where}" if where else "at top level"


def _validate(document: Any, schema_name: str, label: str, problems: list[str]) -> bool:
    validator = Draft202012Validator(SCHEMAS[schema_name])
    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.path)))
    for error in errors:
        problems.append(f"{label}: {_item_name(document, list(error.path))}: {error.message}")
    return not errors


def _parse_tags(tags: str) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for match in re.finditer(r"\(([^)]*)\)", tags):
        group = match.group(1)
        if set(group) == {"+"}:
            parsed["legislative"] = min(len(group), 3)
        else:
            parsed["funding"] = group.count("£")
            letters = group.rstrip("£")
            if letters:
                parsed["spend"] = list(letters)
    return parsed


def _check_tags(item: dict[str, Any], label: str, problems: list[str]) -> None:
    """The parsed tag fields must say exactly what the printed tags say."""
    printed = _parse_tags(item.get("tags", ""))
    recorded = {k: item[k] for k in ("funding", "spend", "legislative") if k in item}
    if printed != recorded:
        problems.append(
            f"{label}: item {item['code']}: tag fields {recorded or 'none'} do not match the "
            f"printed tags {item.get('tags', '(none)')!r}, which give {printed or 'none'}"
        )
    if "++++" in item.get("tags", "") and not item.get("note"):
        problems.append(
            f"{label}: item {item['code']}: the tag (++++) is outside the key; add a note saying "
            "how it was read"
        )


def _walk_actions(actions: list[dict[str, Any]]):
    for action in actions:
        yield action
        yield from _walk_actions(action.get("sub_items", []))


def read_edition(path: Path) -> _Edition:
    """Read and check every file of the edition at ``path``.

    :raises RoadmapDataError: listing every problem found, if there is any.
    """
    problems: list[str] = []
    if not path.is_dir():
        raise RoadmapDataError([f"{path}: not a folder holding a roadmap edition"])

    def load(file: Path, schema: str) -> Any:
        label = _label(file, path)
        document = _read_yaml(file, label, problems)
        if document is not None and _validate(document, schema, label, problems):
            return document
        if document is None and file.exists() and not problems:
            problems.append(f"{label}: file is empty")
        return None

    edition = load(path / "edition.yaml", "edition")
    area_files = sorted((path / "areas").glob("*.yaml"))
    if not area_files:
        problems.append(f"{_label(path / 'areas', path)}: no area files found")
    areas = [(_label(f, path), load(f, "area")) for f in area_files]
    agenda = load(path / "agenda.yaml", "agenda")
    enablers = load(path / "barriers-and-enablers.yaml", "enablers")
    if problems:
        raise RoadmapDataError(problems)

    codes: Counter = Counter()
    slugs: Counter = Counter()
    action_codes: set[str] = set()
    for label, area in areas:
        codes[area["code"]] += 1
        slugs[area["slug"]] += 1
        for timeframe in TIMEFRAMES:
            for action in area["actions"][timeframe]:
                expected = f"{area['code']}.{timeframe[0].upper()}"
                if not action["code"].startswith(expected):
                    problems.append(
                        f"{label}: item {action['code']}: a {timeframe}-term action of "
                        f"{area['code']} must have a code starting {expected}"
                    )
                for sub in action.get("sub_items", []):
                    if not sub["code"].startswith(action["code"] + "."):
                        problems.append(
                            f"{label}: item {sub['code']}: a sub-item's code must start with "
                            f"its action's code {action['code']}."
                        )
                    if sub.get("sub_items"):
                        problems.append(f"{label}: item {sub['code']}: sub-items cannot nest")
            for action in _walk_actions(area["actions"][timeframe]):
                codes[action["code"]] += 1
                action_codes.add(action["code"])
                _check_tags(action, label, problems)
    enablers_label = _label(path / "barriers-and-enablers.yaml", path)
    for enabler in enablers["enablers"]:
        codes[enabler["code"]] += 1
        slugs[enabler["slug"]] += 1
        for action in _walk_actions(enabler["actions"]):
            if not action["code"].startswith(enabler["code"] + "."):
                problems.append(
                    f"{enablers_label}: item {action['code']}: an action of {enabler['code']} "
                    f"must have a code starting {enabler['code']}."
                )
            codes[action["code"]] += 1
            action_codes.add(action["code"])
            _check_tags(action, enablers_label, problems)
    agenda_label = _label(path / "agenda.yaml", path)
    for group in agenda["groups"]:
        codes[group["code"]] += 1
        for item in group["items"]:
            codes[item["code"]] += 1
            _check_tags(item, agenda_label, problems)
            if item["restates"] is not None and item["restates"] not in action_codes:
                problems.append(
                    f"{agenda_label}: item {item['code']}: restates {item['restates']}, "
                    "which is not an action of this edition"
                )
    numbers = Counter(outcome["number"] for outcome in edition["outcomes"])
    problems += [
        f"{_label(path / 'edition.yaml', path)}: outcome {n} appears {k} times"
        for n, k in numbers.items()
        if k > 1
    ]
    problems += [f"code {code} is used {k} times" for code, k in codes.items() if k > 1]
    problems += [f"slug {slug} is used {k} times" for slug, k in slugs.items() if k > 1]
    if problems:
        raise RoadmapDataError(problems)
    return _Edition(path, edition, areas, agenda, enablers)


# --- writing --------------------------------------------------------------------------------


def _sync(model, key: dict[str, Any], values: dict[str, Any], kind: str, report: LoadReport):
    """Insert or update one row matched by ``key``; count what happened under ``kind``."""
    row = db.session.scalar(select(model).filter_by(**key))
    if row is None:
        row = model(**key, **values)
        db.session.add(row)
        report.created[kind] += 1
        return row
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    (report.updated if changed else report.unchanged)[kind] += 1
    return row


def _tag_values(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "tag_text": item.get("tags", ""),
        "funding_level": item.get("funding"),
        "spend_types": "".join(item.get("spend", [])),
        "legislative_level": item.get("legislative"),
    }


def _sync_actions(
    actions: list[dict[str, Any]],
    report: LoadReport,
    seen: set[str],
    *,
    timeframe: str | None,
    area: ActionArea | None = None,
    enabler: Enabler | None = None,
    parent: Action | None = None,
) -> None:
    for position, item in enumerate(actions, start=1):
        row = _sync(
            Action,
            {"code": item["code"]},
            {
                "area_id": area.id if area else None,
                "enabler_id": enabler.id if enabler else None,
                "parent_id": parent.id if parent else None,
                "timeframe": timeframe,
                "position": position,
                "text": item["text"],
                "lead": item["lead"],
                "prevention_tier": item.get("prevention"),
                "note": item.get("note", ""),
                "archived_at": None,
                **_tag_values(item),
            },
            "actions",
            report,
        )
        db.session.flush()
        seen.add(item["code"])
        _sync_actions(
            item.get("sub_items", []),
            report,
            seen,
            timeframe=timeframe,
            area=area,
            enabler=enabler,
            parent=row,
        )


def _archive_missing(model, seen: set[str], kind: str, now: datetime, report: LoadReport) -> None:
    stale = select(model).where(model.code.not_in(seen), model.archived_at.is_(None))
    for row in db.session.scalars(stale):
        row.archived_at = now
        report.archived[kind] += 1


def _remove_missing(model, seen: set[str], kind: str, report: LoadReport) -> None:
    for row in db.session.scalars(select(model).where(model.code.not_in(seen))):
        db.session.delete(row)
        report.removed[kind] += 1


def load_roadmap(path: Path, *, make_current: bool = True) -> LoadReport:
    """Check the edition at ``path`` and sync it into the tables.

    Runs in a savepoint and flushes; the caller commits. Nothing is written unless every file
    is valid.

    :returns: counts of what was created, updated, left unchanged, archived and removed.
    :raises RoadmapDataError: if any file is missing or invalid (nothing is written).
    """
    data = read_edition(path)
    now = utcnow()
    report = LoadReport(edition=data.edition["code"])
    with db.session.begin_nested():
        edition_data = data.edition
        edition = _sync(
            RoadmapEdition,
            {"code": edition_data["code"]},
            {
                "title": edition_data["title"],
                "subtitle": edition_data.get("subtitle", ""),
                "authors": edition_data.get("authors", ""),
                "publisher": edition_data.get("publisher", ""),
                "published": edition_data.get("published", ""),
                "key": edition_data["key"],
                "timeframes": edition_data["timeframes"],
                "outcomes_intro": edition_data.get("outcomes_intro", ""),
                "agenda_intro": data.agenda.get("intro", []),
                "enablers_intro": data.enablers.get("intro", ""),
            },
            "editions",
            report,
        )
        db.session.flush()
        if report.created["editions"] or report.updated["editions"]:
            edition.loaded_at = now
        if make_current:
            for other in db.session.scalars(
                select(RoadmapEdition).where(RoadmapEdition.id != edition.id)
            ):
                other.is_current = False
            edition.is_current = True

        seen_outcomes = set()
        for outcome in edition_data["outcomes"]:
            code = f"{edition_data['code']}:O{outcome['number']}"
            seen_outcomes.add(code)
            _sync(
                Outcome,
                {"code": code},
                {
                    "edition_id": edition.id,
                    "number": outcome["number"],
                    "title": outcome["title"],
                    "description": outcome["description"],
                },
                "outcomes",
                report,
            )
        stale_outcomes = select(Outcome).where(
            Outcome.edition_id == edition.id, Outcome.code.not_in(seen_outcomes)
        )
        for row in db.session.scalars(stale_outcomes):
            db.session.delete(row)
            report.removed["outcomes"] += 1

        seen_areas: set[str] = set()
        seen_actions: set[str] = set()
        seen_enablers: set[str] = set()
        for position, (_, area_data) in enumerate(data.areas, start=1):
            seen_areas.add(area_data["code"])
            area = _sync(
                ActionArea,
                {"code": area_data["code"]},
                {
                    "edition_id": edition.id,
                    "position": position,
                    "slug": area_data["slug"],
                    "title": area_data["title"],
                    "sidebar_title": area_data.get("sidebar_title", ""),
                    "shift": area_data["shift"],
                    "practical_intro": area_data.get("practical_intro", ""),
                    "practical": area_data.get("practical", []),
                    "examples_intro": area_data.get("examples_intro", ""),
                    "examples": area_data.get("examples", []),
                    "note": area_data.get("note", ""),
                    "archived_at": None,
                },
                "areas",
                report,
            )
            db.session.flush()
            for timeframe in TIMEFRAMES:
                _sync_actions(
                    area_data["actions"][timeframe],
                    report,
                    seen_actions,
                    timeframe=timeframe,
                    area=area,
                )

        for position, enabler_data in enumerate(data.enablers["enablers"], start=1):
            seen_enablers.add(enabler_data["code"])
            enabler = _sync(
                Enabler,
                {"code": enabler_data["code"]},
                {
                    "edition_id": edition.id,
                    "position": position,
                    "slug": enabler_data["slug"],
                    "title": enabler_data["title"],
                    "body": enabler_data.get("body", []),
                    "note": enabler_data.get("note", ""),
                    "archived_at": None,
                },
                "enablers",
                report,
            )
            db.session.flush()
            _sync_actions(
                enabler_data["actions"], report, seen_actions, timeframe=None, enabler=enabler
            )

        _archive_missing(Action, seen_actions, "actions", now, report)
        _archive_missing(ActionArea, seen_areas, "areas", now, report)
        _archive_missing(Enabler, seen_enablers, "enablers", now, report)

        action_ids = {code: id_ for code, id_ in db.session.execute(select(Action.code, Action.id))}
        seen_groups: set[str] = set()
        seen_items: set[str] = set()
        for position, group_data in enumerate(data.agenda["groups"], start=1):
            seen_groups.add(group_data["code"])
            group = _sync(
                AgendaGroup,
                {"code": group_data["code"]},
                {"edition_id": edition.id, "position": position, "title": group_data["title"]},
                "agenda groups",
                report,
            )
            db.session.flush()
            for item_position, item in enumerate(group_data["items"], start=1):
                seen_items.add(item["code"])
                _sync(
                    AgendaItem,
                    {"code": item["code"]},
                    {
                        "group_id": group.id,
                        "position": item_position,
                        "text": item["text"],
                        "action_id": action_ids.get(item["restates"]),
                        "note": item.get("note", ""),
                        **_tag_values(item),
                    },
                    "agenda items",
                    report,
                )
        # Agenda items are restatements that nothing else points to, so they can go.
        _remove_missing(AgendaItem, seen_items, "agenda items", report)
        db.session.flush()
        _remove_missing(AgendaGroup, seen_groups, "agenda groups", report)
        db.session.flush()
    return report
