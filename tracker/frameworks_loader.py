"""Reads a framework from ``frameworks/`` (the CQC's, so far) and syncs it into the tables.

A framework is a folder holding ``framework.yaml`` (its themes and quality statements) and
``crosswalk.yaml`` (which statements each roadmap action serves, and why). Both files are checked
against a schema and against each other and the current roadmap before anything is written, so
bad data is refused whole with a message naming the file, the item and the rule. Loading is
idempotent: rows are matched by their stable codes and updated in place; a link the crosswalk no
longer lists is removed, because nothing else points to a link.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from sqlalchemy import select

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import (
    Action,
    ActionStatementLink,
    CqcEvidenceCategory,
    Framework,
    FrameworkTheme,
    QualityStatement,
)
from tracker.roadmap_loader import _item_name, _read_yaml

#: a rationale is one line a DASS reads beside the link (ActionStatementLink.rationale)
RATIONALE_MAX = 300

_TEXT = {"type": "string", "minLength": 1}
_CODE = {"type": "string", "pattern": r"^[a-z0-9-]+$"}

SCHEMAS: dict[str, dict[str, Any]] = {
    "framework": {
        "type": "object",
        "required": ["code", "title", "publisher", "source_url", "licence", "themes"],
        "additionalProperties": False,
        "properties": {
            "code": _CODE,
            "title": _TEXT,
            "publisher": _TEXT,
            "published": _TEXT,
            "source_url": {"type": "string", "pattern": r"^https://"},
            "licence": _TEXT,
            "evidence_categories": {
                "type": "array",
                "items": {"enum": [c.value for c in CqcEvidenceCategory]},
                "uniqueItems": True,
            },
            "themes": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["title", "statements"],
                    "additionalProperties": False,
                    "properties": {
                        "title": _TEXT,
                        "statements": {
                            "type": "array",
                            "minItems": 1,
                            "items": {
                                "type": "object",
                                "required": ["code", "slug", "title"],
                                "additionalProperties": False,
                                "properties": {
                                    "code": {"type": "string", "pattern": r"^QS\d+$"},
                                    "slug": _CODE,
                                    "title": _TEXT,
                                    "we_statement": {"type": "string"},
                                },
                            },
                        },
                    },
                },
            },
        },
    },
    "crosswalk": {
        "type": "object",
        "required": ["framework", "roadmap", "actions"],
        "additionalProperties": False,
        "properties": {
            "framework": _CODE,
            "roadmap": _CODE,
            "actions": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["action", "statements"],
                    "additionalProperties": False,
                    "properties": {
                        "action": {"type": "string", "minLength": 1},
                        "statements": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["statement", "rationale"],
                                "additionalProperties": False,
                                "properties": {
                                    "statement": {"type": "string", "minLength": 1},
                                    "rationale": {"type": "string"},
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


class FrameworkDataError(Exception):
    """The framework files are not valid; ``problems`` lists every one found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "The framework was not loaded; nothing was changed.\n"
            + "\n".join(f"- {p}" for p in problems)
        )


@dataclass
class FrameworkLoadReport:
    """What a load did, counted by kind of row."""

    framework: str = ""
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    removed: Counter = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return any((self.created, self.updated, self.removed))

    def lines(self) -> list[str]:
        out = [f"Framework {self.framework}:"]
        for kind in ("themes", "quality statements", "links"):
            parts = [
                f"{counter[kind]} {label}"
                for label, counter in (
                    ("created", self.created),
                    ("updated", self.updated),
                    ("unchanged", self.unchanged),
                    ("removed", self.removed),
                )
                if counter[kind]
            ]
            out.append(f"  {kind}: {', '.join(parts) or 'none'}")
        return out


@dataclass
class _FrameworkFiles:
    framework: dict[str, Any]
    crosswalk: dict[str, Any]


def _validate(document: Any, schema: str, label: str, problems: list[str]) -> bool:
    validator = Draft202012Validator(SCHEMAS[schema])
    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.path)))
    for error in errors:
        problems.append(f"{label}: {_item_name(document, list(error.path))}: {error.message}")
    return not errors


def _assessed_action_codes() -> set[str]:
    """Codes of the actions a council assesses: not archived, not phases of another action."""
    query = select(Action.code).where(Action.archived_at.is_(None), Action.parent_id.is_(None))
    return set(db.session.scalars(query))


def read_framework(path: Path) -> _FrameworkFiles:
    """Read and check the framework at ``path`` against itself and the loaded roadmap.

    :raises FrameworkDataError: listing every problem found, if there is any.
    """
    problems: list[str] = []
    if not path.is_dir():
        raise FrameworkDataError([f"{path}: not a folder holding a framework"])
    documents = {}
    for name, schema in (("framework.yaml", "framework"), ("crosswalk.yaml", "crosswalk")):
        document = _read_yaml(path / name, name, problems)
        if document is None and (path / name).exists() and not problems:
            problems.append(f"{name}: file is empty")
        elif document is not None and _validate(document, schema, name, problems):
            documents[schema] = document
    if problems:
        raise FrameworkDataError(problems)
    framework, crosswalk = documents["framework"], documents["crosswalk"]

    statement_codes: Counter = Counter()
    slugs: Counter = Counter()
    for theme in framework["themes"]:
        for statement in theme["statements"]:
            statement_codes[statement["code"]] += 1
            slugs[statement["slug"]] += 1
    problems += [
        f"framework.yaml: quality statement {code} is listed {n} times"
        for code, n in statement_codes.items()
        if n > 1
    ]
    problems += [
        f"framework.yaml: slug {slug} is used {n} times" for slug, n in slugs.items() if n > 1
    ]

    if crosswalk["framework"] != framework["code"]:
        problems.append(
            f"crosswalk.yaml: framework {crosswalk['framework']} is not this folder's framework "
            f"{framework['code']}"
        )
    action_codes = _assessed_action_codes()
    listed: Counter = Counter()
    linked: Counter = Counter()
    for entry in crosswalk["actions"]:
        code = entry["action"]
        listed[code] += 1
        if code not in action_codes:
            problems.append(f"crosswalk.yaml: {code}: no such action in the current roadmap")
        seen_here: Counter = Counter()
        for link in entry["statements"]:
            statement = link["statement"]
            seen_here[statement] += 1
            if statement not in statement_codes:
                problems.append(
                    f"crosswalk.yaml: {code} → {statement}: no such quality statement in "
                    "framework.yaml"
                )
            else:
                linked[statement] += 1
            rationale = link["rationale"].strip()
            if not rationale:
                problems.append(f"crosswalk.yaml: {code} → {statement}: the rationale is empty")
            elif len(rationale) > RATIONALE_MAX:
                problems.append(
                    f"crosswalk.yaml: {code} → {statement}: the rationale must be "
                    f"{RATIONALE_MAX} characters or fewer (it has {len(rationale)})"
                )
            elif "\n" in rationale:
                problems.append(f"crosswalk.yaml: {code} → {statement}: the rationale is one line")
        problems += [
            f"crosswalk.yaml: {code} → {statement}: the link is listed {n} times"
            for statement, n in seen_here.items()
            if n > 1
        ]
    problems += [
        f"crosswalk.yaml: {code}: the action is listed {n} times"
        for code, n in listed.items()
        if n > 1
    ]
    problems += [
        f"crosswalk.yaml: {code}: the action is missing (list every action, with "
        "`statements: []` if it serves none)"
        for code in sorted(action_codes - set(listed))
    ]
    problems += [
        f"crosswalk.yaml: {code}: no action serves this quality statement (each needs one)"
        for code in statement_codes
        if not linked[code]
    ]
    if problems:
        raise FrameworkDataError(problems)
    return _FrameworkFiles(framework, crosswalk)


def _sync(model, key: dict[str, Any], values: dict[str, Any], kind: str, report):
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


def load_framework(path: Path) -> FrameworkLoadReport:
    """Check the framework at ``path`` and sync it and its crosswalk into the tables.

    Needs the roadmap loaded first (the crosswalk names its actions). Runs in a savepoint and
    flushes; the caller commits. Nothing is written unless both files are valid.

    :returns: counts of what was created, updated, left unchanged and removed.
    :raises FrameworkDataError: if a file is missing or invalid (nothing is written).
    """
    data = read_framework(path)
    meta = data.framework
    report = FrameworkLoadReport(framework=meta["code"])
    with db.session.begin_nested():
        framework = _sync(
            Framework,
            {"code": meta["code"]},
            {
                "title": meta["title"],
                "publisher": meta["publisher"],
                "published": meta.get("published", ""),
                "source_url": meta["source_url"],
                "licence": meta["licence"],
            },
            "frameworks",
            report,
        )
        db.session.flush()
        if report.created["frameworks"] or report.updated["frameworks"]:
            framework.loaded_at = utcnow()

        statement_ids: dict[str, int] = {}
        position = 0
        for theme_position, theme_data in enumerate(meta["themes"], start=1):
            theme = _sync(
                FrameworkTheme,
                {"code": f"{meta['code']}:T{theme_position}"},
                {
                    "framework_id": framework.id,
                    "position": theme_position,
                    "title": theme_data["title"],
                },
                "themes",
                report,
            )
            db.session.flush()
            for statement_data in theme_data["statements"]:
                position += 1
                statement = _sync(
                    QualityStatement,
                    {"code": statement_data["code"]},
                    {
                        "theme_id": theme.id,
                        "position": position,
                        "slug": statement_data["slug"],
                        "title": statement_data["title"],
                        "we_statement": statement_data.get("we_statement", ""),
                    },
                    "quality statements",
                    report,
                )
                db.session.flush()
                statement_ids[statement_data["code"]] = statement.id

        action_ids = dict(
            db.session.execute(
                select(Action.code, Action.id).where(
                    Action.archived_at.is_(None), Action.parent_id.is_(None)
                )
            ).all()
        )
        existing = {
            (link.action_id, link.statement_id): link
            for link in db.session.scalars(
                select(ActionStatementLink).where(
                    ActionStatementLink.statement_id.in_(statement_ids.values())
                )
            )
        }
        wanted: set[tuple[int, int]] = set()
        for entry in data.crosswalk["actions"]:
            for link_data in entry["statements"]:
                key = (action_ids[entry["action"]], statement_ids[link_data["statement"]])
                wanted.add(key)
                rationale = link_data["rationale"].strip()
                link = existing.get(key)
                if link is None:
                    db.session.add(
                        ActionStatementLink(
                            action_id=key[0], statement_id=key[1], rationale=rationale
                        )
                    )
                    report.created["links"] += 1
                elif link.rationale != rationale:
                    link.rationale = rationale
                    report.updated["links"] += 1
                else:
                    report.unchanged["links"] += 1
        # A link is the crosswalk's judgement and nothing points to it, so a dropped one goes.
        for key, link in existing.items():
            if key not in wanted:
                db.session.delete(link)
                report.removed["links"] += 1
        db.session.flush()
    return report
