"""The open data's tables and fields: one definition for the CSV headers, the JSON keys, the
Frictionless table schemas in ``datapackage.json`` and the field lists in ``docs/open-data.md``.

Values are the product's words ("Implementing", "Amber", "Better Care Fund"), as in a return's
spreadsheet export (:func:`tracker.returns.spreadsheet.display_value`); an empty cell is a value
the return does not give. Each table's ``enum`` lists come from :mod:`tracker.domain.vocabulary`
and the returns services, so a word added there is allowed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tracker.domain.visibility import MIN_COUNCILS
from tracker.domain.vocabulary import (
    LEAD_NAMES,
    NOT_ASSESSED,
    RAG_NAMES,
    REVIEW_STATE_NAMES,
    STAGE_NAMES,
    TIMEFRAME_NAMES,
)
from tracker.returns.services import BARRIERS, FUNDING_SOURCES
from tracker.returns.spreadsheet import NO, YES

#: a council's ONS code: E06, E08, E09 or E10 and six digits
GSS_PATTERN = r"^E(06|08|09|10)\d{6}$"
#: a period's label: "2025-26 Q3"
PERIOD_PATTERN = r"^\d{4}-\d{2} Q[1-4]$"


@dataclass(frozen=True)
class Field:
    """One column of a table (and one key of its JSON objects)."""

    name: str
    title: str
    #: a Frictionless field type: "string", "integer" or "date"
    type: str
    description: str
    required: bool = False
    enum: tuple[str, ...] = ()
    minimum: int | None = None
    pattern: str | None = None

    def descriptor(self) -> dict[str, Any]:
        """The field as a Table Schema field descriptor."""
        constraints: dict[str, Any] = {}
        if self.required:
            constraints["required"] = True
        if self.enum:
            constraints["enum"] = list(self.enum)
        if self.minimum is not None:
            constraints["minimum"] = self.minimum
        if self.pattern:
            constraints["pattern"] = self.pattern
        found: dict[str, Any] = {
            "name": self.name,
            "title": self.title,
            "type": self.type,
            "description": self.description,
        }
        if self.type == "date":
            found["format"] = "default"
        if constraints:
            found["constraints"] = constraints
        return found


@dataclass(frozen=True)
class ForeignKey:
    fields: tuple[str, ...]
    #: the table referred to (its CSV resource, or its JSON one from a JSON resource)
    table: str
    table_fields: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """One table of the download: ``<name>.csv`` and ``<name>.json``."""

    name: str
    title: str
    description: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def csv_path(self) -> str:
        return f"{self.name}.csv"

    @property
    def json_path(self) -> str:
        return f"{self.name}.json"

    @property
    def resource_name(self) -> str:
        """The CSV resource's name in ``datapackage.json`` (lower case, hyphens)."""
        return self.name.replace("_", "-")

    @property
    def json_resource_name(self) -> str:
        return f"{self.resource_name}-json"

    def schema(self) -> dict[str, Any]:
        """The table's Frictionless Table Schema."""
        schema: dict[str, Any] = {
            "fields": [f.descriptor() for f in self.fields],
            "primaryKey": list(self.primary_key),
            "missingValues": [""],
        }
        if self.foreign_keys:
            schema["foreignKeys"] = [
                {
                    "fields": list(key.fields),
                    "reference": {
                        "resource": TABLES[key.table].resource_name,
                        "fields": list(key.table_fields),
                    },
                }
                for key in self.foreign_keys
            ]
        return schema


def _stages(name: str, title: str, description: str) -> Field:
    return Field(name, title, "string", description, enum=tuple(STAGE_NAMES.values()))


def _count(name: str, title: str, description: str) -> Field:
    return Field(name, title, "integer", description, minimum=0)


_GSS = Field(
    "gss_code",
    "GSS code",
    "string",
    "The council's code from the Office for National Statistics, e.g. E08000035 (Leeds).",
    required=True,
    pattern=GSS_PATTERN,
)
_PERIOD = Field(
    "period",
    "Quarter",
    "string",
    "The quarter of the financial year the return is for, e.g. 2025-26 Q3 (Q1 is April to June).",
    required=True,
    pattern=PERIOD_PATTERN,
)
_ACTION_CODE = Field(
    "action_code",
    "Action code",
    "string",
    "The action's stable code, e.g. A03.M02 (an area's action) or E02.01 (an action on a "
    "barrier). Its row in actions.csv says what it is.",
    required=True,
)
_AREA = Field(
    "area",
    "Area",
    "string",
    'The action area, e.g. "3. Community capacity for wellbeing and prevention", or the '
    'barrier, e.g. "Barriers and enablers: Getting the wiring right".',
)
_TIMEFRAME = Field(
    "timeframe",
    "Timeframe",
    "string",
    "When the roadmap expects the action: short term (the next financial year), medium term "
    "(about 2 to 5 years) or long term (about 6 to 10 years); empty for actions on barriers and "
    "enablers.",
    enum=tuple(TIMEFRAME_NAMES.values()),
)
_LEAD = Field(
    "lead",
    "Lead",
    "string",
    "Who can make the action happen: Local (within a council's current powers), System (needs "
    "ICS, NHS or housing partners) or National (government, Parliament or regulators).",
    required=True,
    enum=tuple(LEAD_NAMES.values()),
)
#: the stage counts of a return and of the national summary: (field name, stage key); the key
#: ``NOT_ASSESSED`` counts actions with no stage
STAGE_COUNTS: tuple[tuple[str, str], ...] = (
    *((key, key) for key in STAGE_NAMES),
    ("not_assessed", NOT_ASSESSED),
)
ROADMAP_ACTION = "Roadmap action"
ENABLER_ACTION = "Action on barriers and enablers"


def _stage_counts(of_what: str) -> tuple[Field, ...]:
    fields = []
    for name, key in STAGE_COUNTS:
        if key == NOT_ASSESSED:
            fields.append(_count(name, "Not assessed", f"{of_what} with no stage given."))
        else:
            label = STAGE_NAMES[key]
            fields.append(_count(name, label, f"{of_what} at the stage {label}."))
    return tuple(fields)


RETURNS = Table(
    name="returns",
    title="Signed-off returns",
    description=(
        "One row per council whose return for the quarter is signed off by its Director of "
        "Adult Social Services and which shares its returns by name; with the number of its "
        "actions at each stage."
    ),
    fields=(
        _GSS,
        Field("council", "Council", "string", "The council's name.", required=True),
        Field(
            "region",
            "ADASS region",
            "string",
            "The region of the Association of Directors of Adult Social Services the council "
            "belongs to.",
            required=True,
        ),
        _PERIOD,
        Field(
            "months",
            "Months",
            "string",
            "The quarter's months, e.g. October to December 2025.",
            required=True,
        ),
        Field(
            "signed_off_on",
            "Signed off on",
            "date",
            "The day (UK time) the Director of Adult Social Services signed off the return.",
            required=True,
        ),
        _count(
            "actions",
            "Actions",
            "How many actions the return assesses: roadmap actions and actions on barriers and "
            "enablers (its rows in assessments.csv).",
        ),
        *_stage_counts("Actions of the return"),
    ),
    primary_key=("gss_code", "period"),
)

ASSESSMENTS = Table(
    name="assessments",
    title="Assessments",
    description=(
        "One row per action of each return in returns.csv: the council's own assessment of "
        "the action that quarter. Evidence is counted, never included."
    ),
    fields=(
        _GSS,
        _PERIOD,
        _ACTION_CODE,
        Field("action", "Action", "string", "The roadmap's words for the action.", required=True),
        _AREA,
        _TIMEFRAME,
        _LEAD,
        _stages(
            "stage",
            "Stage",
            "How far implementation has got: Not started, Planning, Implementing, Embedded "
            "(business as usual) or Not applicable locally; empty when not assessed.",
        ),
        Field(
            "rag",
            "RAG",
            "string",
            "Delivery confidence against the council's own target: Green (on course to reach "
            "the target stage by the target date), Amber (at risk, mitigation in place) or Red "
            "(will miss the target, or blocked without intervention). Given while the stage is "
            "Planning or Implementing.",
            enum=tuple(RAG_NAMES.values()),
        ),
        Field(
            "review_state",
            "Review this quarter",
            "string",
            "Not yet reviewed (carried forward from last quarter and untouched), Confirmed "
            "unchanged, or Updated.",
            required=True,
            enum=tuple(REVIEW_STATE_NAMES.values()),
        ),
        Field(
            "not_applicable_reason",
            "Not applicable reason",
            "string",
            "Why the action is not applicable locally (for that stage).",
        ),
        Field("narrative", "Narrative", "string", "Progress this quarter, in the council's words."),
        Field("next_steps", "Next steps", "string", "What happens next."),
        Field(
            "barriers",
            "Barriers",
            "string",
            "What holds the action back, separated by semicolons: "
            + ", ".join(BARRIERS.values())
            + ".",
        ),
        Field("barrier_detail", "Barrier detail", "string", "More about the barriers."),
        _stages("target_stage", "Target stage", "The stage the council aims to reach."),
        Field(
            "target_period",
            "Target period",
            "string",
            "The quarter by which the council aims to reach the target stage, e.g. 2026-27 Q2.",
            pattern=PERIOD_PATTERN,
        ),
        Field(
            "co_produced",
            "Co-produced",
            "string",
            "Yes or No: the work was co-produced with people who draw on care and support, "
            "and carers.",
            enum=(YES, NO),
        ),
        Field(
            "spend_types",
            "Spend types",
            "string",
            "The types of spend used, separated by semicolons: Transformation, Stabilisation, "
            "Community capacity, Access and affordability.",
        ),
        _count("amount_pounds", "Amount (£)", "Funding used, in whole pounds."),
        Field(
            "funding_source",
            "Funding source",
            "string",
            "Where the funding came from.",
            enum=tuple(FUNDING_SOURCES.values()),
        ),
        _count(
            "evidence_items",
            "Evidence items",
            "How many documents, links or files the council linked as evidence (not published).",
        ),
    ),
    primary_key=("gss_code", "period", "action_code"),
    foreign_keys=(
        ForeignKey(("action_code",), "actions", ("code",)),
        ForeignKey(("gss_code", "period"), "returns", ("gss_code", "period")),
    ),
)

ACTIONS = Table(
    name="actions",
    title="Roadmap actions",
    description=(
        "The actions of the roadmap councils assess: the roadmap actions of the ten areas for "
        "action and the actions on barriers and enablers, in the roadmap's order."
    ),
    fields=(
        Field(
            "code",
            "Action code",
            "string",
            "The action's stable code, never reused: A03.M02 is area 3's second medium-term "
            "action, E02.01 the first action on the second barrier.",
            required=True,
        ),
        Field("text", "Action", "string", "The roadmap's words for the action.", required=True),
        Field(
            "kind",
            "Kind",
            "string",
            "Roadmap action (one of the ten areas for action) or Action on barriers and enablers.",
            required=True,
            enum=(ROADMAP_ACTION, ENABLER_ACTION),
        ),
        _AREA,
        _TIMEFRAME,
        _LEAD,
        Field(
            "tags",
            "Tags",
            "string",
            "The roadmap's tags as printed, e.g. (+++) (A£): funding (£ modest, ££ substantial, "
            "£££ significant), type of spend (T transformation, S stabilisation, C community "
            "capacity, A access and affordability) and legislative change (+ simple, ++ "
            "moderate, +++ major).",
        ),
        Field(
            "funding",
            "Funding",
            "string",
            "The funding tag in words, e.g. Modest funding (£).",
        ),
        Field(
            "spend_types",
            "Spend types",
            "string",
            "The type-of-spend tags in words, separated by semicolons.",
        ),
        Field(
            "legislative_change",
            "Legislative change",
            "string",
            "The legislative tag in words, e.g. Major legislative reform (+++).",
        ),
    ),
    primary_key=("code",),
)

NATIONAL_SUMMARY = Table(
    name="national_summary",
    title="National summary",
    description=(
        "Per action, how many councils are at each stage, over every council whose return for "
        "the quarter is submitted or signed off, named in returns.csv or not. A row covering "
        f"fewer than {MIN_COUNCILS} councils, or from 1 to {MIN_COUNCILS - 1} councils not in "
        "returns.csv, is withheld: its counts are empty and suppressed_reason says why."
    ),
    fields=(
        _PERIOD,
        _ACTION_CODE,
        _count(
            "councils",
            "Councils",
            "Councils whose submitted or signed-off return for the quarter assesses the action.",
        ),
        *_stage_counts("Councils with the action"),
        Field(
            "suppressed_reason",
            "Why withheld",
            "string",
            "Empty when the counts are shown; otherwise why they are withheld (the three-council "
            "rule).",
        ),
    ),
    primary_key=("period", "action_code"),
    foreign_keys=(ForeignKey(("action_code",), "actions", ("code",)),),
)

#: the tables in the order of ``datapackage.json`` (referred-to tables first)
TABLES: dict[str, Table] = {t.name: t for t in (ACTIONS, RETURNS, ASSESSMENTS, NATIONAL_SUMMARY)}


def fields_markdown() -> str:
    """Every table's fields as Markdown, for ``docs/open-data.md`` (a test keeps it in step)."""
    lines: list[str] = []
    for table in TABLES.values():
        lines += [
            f"### `{table.csv_path}` and `{table.json_path}`: {table.title.lower()}",
            "",
            table.description,
            "",
            f"Key: {', '.join(f'`{name}`' for name in table.primary_key)}.",
            "",
            "| field | type | meaning |",
            "| --- | --- | --- |",
        ]
        for field in table.fields:
            kind = field.type + (", required" if field.required else "")
            lines.append(f"| `{field.name}` | {kind} | {field.description} |")
        lines.append("")
    return "\n".join(lines)
