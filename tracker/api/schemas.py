"""What each answer of the API holds: one marshmallow schema per kind of thing.

The same schemas shape the answers (``dump`` sends only the fields declared here, so nothing
undeclared can leak out) and describe them in the OpenAPI document (:mod:`tracker.api.spec`).
Identifiers are the stable ones people already use: action codes ("A03.M02"), GSS codes
("E08000035"), region slugs and period labels in URLs ("2026-27-Q3").
"""

from __future__ import annotations

from datetime import UTC

from marshmallow import Schema, fields

from tracker.domain.vocabulary import (
    LEAD_NAMES,
    RAG_NAMES,
    RETURN_STATUS_NAMES,
    STAGE_NAMES,
    TIMEFRAME_NAMES,
    ReviewState,
)


def _text(description: str, **kwargs) -> fields.String:
    return fields.String(metadata={"description": description}, **kwargs)


def _maybe(field: fields.Field) -> fields.Field:
    field.allow_none = True
    return field


def _one_of(values, description: str, *, nullable: bool = False) -> fields.String:
    allowed: list[str | None] = sorted(values)
    if nullable:
        allowed.append(None)
    return fields.String(
        allow_none=nullable, metadata={"description": description, "enum": allowed}
    )


class UtcDateTime(fields.DateTime):
    """A stored (naive, UTC) time sent as RFC 3339 with its offset: "2027-01-31T17:05:00+00:00"."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


def _time(description: str = "UTC.", **kwargs) -> UtcDateTime:
    return UtcDateTime(metadata={"description": description}, **kwargs)


class Links(Schema):
    self = _text("This answer's address.", required=True)
    next = _maybe(_text("The next page, or null on the last."))
    prev = _maybe(_text("The page before, or null on the first."))


class Page(Schema):
    """A page of a list: its items, how many there are in all, and links to the others."""

    total = fields.Integer(required=True, metadata={"description": "Items in the whole list."})
    links = fields.Nested(Links, required=True)


# -- the roadmap ----------------------------------------------------------------------------------


class Edition(Schema):
    code = _text("The edition's stable code, e.g. 'time-to-act-2023'.", required=True)
    title = _text("Its title.", required=True)
    published = _text("When it was published, as the edition says it (e.g. 'March 2023').")
    is_current = fields.Boolean(required=True)


class Area(Schema):
    slug = _text("Stable identifier of the area.", required=True)
    number = fields.Integer(required=True, metadata={"description": "1 to 10."})
    title = _text("The area's title.", required=True)
    actions = fields.Integer(required=True, metadata={"description": "Trackable actions."})


class Enabler(Schema):
    number = fields.Integer(required=True)
    title = _text("The barrier or enabler's title.", required=True)
    actions = fields.Integer(required=True, metadata={"description": "Trackable actions."})


class Tags(Schema):
    funding_level = _maybe(
        fields.Integer(metadata={"description": "£ (1), ££ (2) or £££ (3); null if untagged."})
    )
    spend_types = fields.List(
        fields.String(), required=True, metadata={"description": "Letters from T, S, C, A."}
    )
    legislative_level = _maybe(
        fields.Integer(metadata={"description": "+ (1), ++ (2) or +++ (3); null if untagged."})
    )
    as_printed = _text("The tags exactly as the roadmap prints them, e.g. '(+++) (A£)'.")


class Action(Schema):
    code = _text("Stable identifier, e.g. 'A03.M02' or 'E02.01'.", required=True)
    text = _text("The action, verbatim from the roadmap.", required=True)
    kind = _one_of(
        ("roadmap", "barriers_and_enablers"),
        "A roadmap action (one of the ten areas) or an action on barriers and enablers.",
    )
    area = _maybe(_text("The area's slug; null for barriers and enablers."))
    area_title = _maybe(_text("The area's title."))
    enabler = _maybe(_text("The barrier or enabler's title; null for roadmap actions."))
    timeframe = _one_of(TIMEFRAME_NAMES, "Short, medium or long term.", nullable=True)
    lead = _one_of(LEAD_NAMES, "Who leads it.")
    lead_name = _text("Who leads it, in words.")
    tags = fields.Nested(Tags, required=True)
    note = _text("The tracker's note on the action's source, if any.")
    prevention_tier = _one_of(
        ("primary", "secondary", "tertiary"),
        "The Care Act's prevent (primary), reduce (secondary) or delay (tertiary) it mainly "
        "serves; null when it is not itself care and support. The tracker's judgement.",
        nullable=True,
    )
    quality_statements = fields.List(
        fields.Nested(lambda: StatementLink()),
        required=True,
        metadata={"description": "The CQC quality statements it serves (the crosswalk)."},
    )
    phases = fields.List(
        fields.Nested(lambda: Phase()), metadata={"description": "Phases listed under it."}
    )
    links = fields.Dict(keys=fields.String(), values=fields.String())


class StatementLink(Schema):
    code = _text("The quality statement's code, 'QS1' to 'QS9'.", required=True)
    title = fields.String(required=True)
    rationale = _text("Why the action serves it, in one line.", required=True)


class Phase(Schema):
    code = fields.String(required=True)
    text = fields.String(required=True)


class ActionPage(Page):
    items = fields.List(fields.Nested(Action), required=True)


# -- councils, regions, periods -----------------------------------------------------------------


class Region(Schema):
    slug = _text("Stable identifier of the ADASS region.", required=True)
    name = _text("Its name.", required=True)
    councils = fields.Integer(required=True)


class Council(Schema):
    gss_code = _text("The council's GSS code.", required=True)
    name = fields.String(required=True)
    short_name = fields.String(required=True)
    council_type = fields.String(required=True)
    region = _text("Its ADASS region's slug.", required=True)
    named_to_outsiders = fields.Boolean(
        required=True,
        metadata={
            "description": "Whether people outside the council (its region, the nation) may "
            "read its submitted returns by name; if not, they count only in aggregates."
        },
    )
    links = fields.Dict(keys=fields.String(), values=fields.String())


class CouncilPage(Page):
    items = fields.List(fields.Nested(Council), required=True)


class Period(Schema):
    label = _text("The quarter's label, e.g. '2026-27 Q3'.", required=True)
    slug = _text("The label as it appears in URLs, e.g. '2026-27-Q3'.", required=True)
    months = _text("The quarter in months, e.g. 'October to December 2026'.", required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    closes_on = fields.Date(required=True, metadata={"description": "When returns are due."})
    status = _one_of(("upcoming", "open", "closed"), "Where the quarter stands.")


# -- returns and assessments ----------------------------------------------------------------------


class ReturnSummary(Schema):
    period = fields.Nested(Period, required=True)
    status = _one_of(RETURN_STATUS_NAMES, "Draft, submitted or signed off.")
    submitted_at = _maybe(_time())
    signed_off_at = _maybe(_time())
    actions = fields.Integer(required=True)
    links = fields.Dict(keys=fields.String(), values=fields.String())


class ReturnList(Schema):
    council = fields.Nested(Council, required=True)
    items = fields.List(fields.Nested(ReturnSummary), required=True)


class Return(ReturnSummary):
    council = fields.Nested(Council, required=True)
    stages = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "Actions by stage ('none' for not assessed)."},
    )
    rags = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "Actions by RAG rating ('none' for none)."},
    )
    reviews = _maybe(
        fields.Dict(
            keys=fields.String(),
            values=fields.Integer(),
            metadata={
                "description": "Actions by review this quarter; the council's own staff only "
                "(null for others)."
            },
        )
    )
    director_summary = _maybe(_text("The Director's summary for the board, once signed off."))
    board_recommendations = fields.List(fields.String(), required=True)


class Evidence(Schema):
    title = fields.String(required=True)
    evidence_type = fields.String(required=True)
    dated_on = _maybe(fields.Date())
    kind = _one_of(("link", "file"), "A link or an uploaded file.")
    cqc_category = _one_of(
        ("people", "staff_leaders", "partners", "processes"),
        "The CQC evidence category, if the council gave one.",
        nullable=True,
    )
    url = _maybe(_text("The link; null for a file."))
    size_bytes = _maybe(fields.Integer())


class Assessment(Schema):
    action = _text("The action's code.", required=True)
    action_text = fields.String(required=True)
    area = _maybe(fields.String())
    timeframe = _one_of(TIMEFRAME_NAMES, "Short, medium or long term.", nullable=True)
    stage = _one_of(
        STAGE_NAMES, "How far the council has got; null if not assessed.", nullable=True
    )
    stage_name = fields.String(required=True)
    rag = _one_of(RAG_NAMES, "Confidence of reaching its target.", nullable=True)
    review_state = _one_of(
        [s.value for s in ReviewState],
        "Reviewed this quarter or carried forward; the council's own staff only.",
        nullable=True,
    )
    not_applicable_reason = fields.String(required=True)
    narrative = _text("Progress, in the council's words.", required=True)
    next_steps = fields.String(required=True)
    barriers = fields.List(fields.String(), required=True)
    barrier_detail = fields.String(required=True)
    target_stage = _one_of(STAGE_NAMES, "The stage aimed for.", nullable=True)
    target_period = _maybe(_text("By when, e.g. '2027-28 Q4'."))
    is_co_produced = _maybe(fields.Boolean())
    co_production_how = fields.String(required=True)
    partners = fields.String(required=True)
    spend_types = fields.List(fields.String(), required=True)
    amount_pounds = _maybe(fields.Integer())
    funding_source = _maybe(fields.String())
    evidence = _maybe(
        fields.List(
            fields.Nested(Evidence),
            metadata={"description": "Evidence metadata; null where the caller may not read it."},
        )
    )


class AssessmentPage(Page):
    items = fields.List(fields.Nested(Assessment), required=True)


# -- aggregates -----------------------------------------------------------------------------------


class ShareSchema(Schema):
    part = fields.Integer(required=True)
    whole = fields.Integer(required=True)
    percent = _maybe(fields.Integer())


class MedianSchema(Schema):
    percent = _maybe(fields.Integer())
    councils = fields.Integer(required=True)
    withheld = _maybe(_text("Why it is not shown (the three-council rule), or null."))


class DashboardArea(Schema):
    area = fields.String(required=True)
    title = fields.String(required=True)
    stages = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    rags = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    advanced = fields.Nested(ShareSchema, required=True)
    region_median = fields.Nested(MedianSchema, required=True)
    national_median = fields.Nested(MedianSchema, required=True)


class PanelViewLine(Schema):
    """The panel's own view of one action, beside the council's rating: only actions at least
    three members answered are listed, and nobody is named."""

    action = fields.String(required=True)
    stage = _maybe(fields.String())
    rag = _maybe(fields.String())
    answers = fields.Integer(required=True)
    at_meeting = fields.Integer(
        required=True, metadata={"description": "Of the answers, how many came from a meeting."}
    )
    views = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "Answers by view: yes, partly, not_yet, dont_know."},
    )


class Dashboard(Schema):
    council = fields.Nested(Council, required=True)
    period = _maybe(
        fields.Nested(Period, metadata={"description": "Null before any quarter has figures."})
    )
    status = _maybe(fields.String())
    actions = fields.Integer(required=True)
    advanced = fields.Nested(ShareSchema, required=True)
    stages = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    rags = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    areas = fields.List(fields.Nested(DashboardArea), required=True)
    since_last_quarter = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    since_last_year = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    funding_total_pounds = fields.Integer(required=True)
    co_produced = fields.Integer(required=True)
    evidence_items = fields.Integer(required=True)
    panel_views = fields.List(fields.Nested(PanelViewLine), required=True)
    panel_views_withheld = fields.Integer(
        required=True,
        metadata={"description": "Actions some, but fewer than three, members answered."},
    )


class ComparisonCell(Schema):
    area = fields.String(required=True)
    applicable = fields.Integer(required=True)
    advanced = fields.Integer(required=True)
    red = fields.Integer(required=True)
    amber = fields.Integer(required=True)
    green = fields.Integer(required=True)


class ComparisonRow(Schema):
    council = fields.String(required=True, metadata={"description": "GSS code."})
    name = fields.String(required=True)
    status = _maybe(fields.String())
    cells = fields.List(fields.Nested(ComparisonCell), required=True)


class Comparison(Schema):
    region = fields.Nested(Region, required=True)
    period = _maybe(
        fields.Nested(Period, metadata={"description": "Null before any quarter has figures."})
    )
    councils_reporting = fields.Integer(required=True)
    councils_in_region = fields.Integer(required=True)
    withheld = _maybe(_text("Why the region's aggregates are not shown, or null."))
    medians = fields.Dict(keys=fields.String(), values=fields.Nested(MedianSchema), required=True)
    councils = fields.List(fields.Nested(ComparisonRow), required=True)


class NationalRegion(Schema):
    region = fields.String(required=True)
    councils_reporting = fields.Integer(required=True)
    areas = fields.Dict(keys=fields.String(), values=fields.Nested(MedianSchema), required=True)


class National(Schema):
    period = _maybe(
        fields.Nested(Period, metadata={"description": "Null before any quarter has figures."})
    )
    councils_reporting = fields.Integer(required=True)
    withheld = _maybe(fields.String())
    medians = fields.Dict(keys=fields.String(), values=fields.Nested(MedianSchema), required=True)
    regions = fields.List(fields.Nested(NationalRegion), required=True)


class YouSaidWeDid(Schema):
    action = fields.String(required=True)
    action_text = fields.String(required=True)
    period = fields.String(required=True)
    comment = fields.String(required=True)
    commented_at = _time(required=True)
    answer = fields.String(required=True)
    answered_at = _time(required=True)
    is_you_said_we_did = fields.Boolean(required=True)
    change_made = fields.String(required=True)


class YouSaidWeDidPage(Page):
    items = fields.List(fields.Nested(YouSaidWeDid), required=True)


class Problem(Schema):
    """RFC 9457 problem details."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    incident = fields.String()


class Index(Schema):
    title = fields.String(required=True)
    version = fields.String(required=True)
    caller = _maybe(_text("Who the API takes you to be, or null when anonymous."))
    links = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
