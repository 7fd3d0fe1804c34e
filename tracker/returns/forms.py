"""Forms of the return pages: an assessment, bulk edit, the overview's filters and the workflow.

The rules of an assessment live in ``services.validate_assessment``, shared with bulk edit and
spreadsheet import: these forms turn what was typed into values for it (``£1,200`` into 1200,
"yes" into True) and put its messages on their fields.
"""

from __future__ import annotations

import re
from typing import Any

from flask import request
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput

from tracker.domain import vocabulary
from tracker.domain.vocabulary import (
    LEAD_HINTS,
    LEAD_NAMES,
    RAG_HINTS,
    RAG_NAMES,
    REVIEW_STATE_NAMES,
    SPEND_NAMES,
    STAGE_HINTS,
    STAGE_NAMES,
    TIMEFRAME_NAMES,
    TIMEFRAME_SPANS,
)
from tracker.forms import ConfirmForm, FilterField
from tracker.models import MAX_RECOMMENDATIONS, PRACTICE_FIELDS, Assessment, Stage
from tracker.returns import queries
from tracker.returns.services import (
    BARRIERS,
    EDITABLE_FIELDS,
    FUNDING_SOURCES,
    RECOMMENDATION_MAX,
    SUMMARY_MAX,
    AssessmentInvalid,
    validate_assessment,
)

__all__ = [
    "AssessmentForm",
    "BulkEditForm",
    "ConfirmForm",
    "ConfirmUnchangedForm",
    "OverviewFilterForm",
    "ReopenForm",
    "SendBackForm",
    "SignOffForm",
]

KEEP = ""
_STAGES = list(STAGE_NAMES)
_TARGET_STAGES = [stage for stage in _STAGES if stage != Stage.NOT_APPLICABLE]
_PERIOD_TYPED = re.compile(r"^\s*(\d{4})\s*[-/]\s*(\d{2})\s*[- ]?\s*[Qq]\s*([1-4])\s*$")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class ChoiceRadios(RadioField):
    """Radios whose choice the service checks, with a hint under each option.

    Nothing chosen is None rather than a WTForms error: the service says what is missing in
    the words of the rule ("Select how far implementation has got").
    """

    widget = GovRadioInput()

    def __init__(self, label: str, *, hints: dict[str, str] | None = None, **kwargs: Any):
        kwargs.setdefault("validate_choice", False)
        super().__init__(label, **kwargs)
        self.hints = hints or {}

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = valuelist[0] if valuelist and valuelist[0] else None

    def item_params(self) -> list[dict[str, Any]]:
        """Per-option ``params`` for the GOV.UK macro: the hint under each option."""
        items = []
        for choice in self.choices or []:
            value = choice.value if isinstance(choice, SelectChoice) else choice[0]
            items.append({"hint": {"text": self.hints[value]}} if value in self.hints else {})
        return items


class Checkboxes(SelectMultipleField):
    """GOV.UK checkboxes; the service checks the values (unknown ones are its error)."""

    widget = GovCheckboxesInput()
    option_widget = CheckboxInput()

    def __init__(self, label: str, **kwargs: Any) -> None:
        kwargs.setdefault("validate_choice", False)
        super().__init__(label, **kwargs)


class PoundsField(StringField):
    """A whole number of pounds, typed as people write money: "1200", "£1,200" or "1,200.00"."""

    widget = GovTextInput()

    def process_formdata(self, valuelist: list[str]) -> None:
        self.raw_text = valuelist[0] if valuelist else ""
        text = re.sub(r"[\s,£]", "", self.raw_text or "")
        text = re.sub(r"\.0{1,2}$", "", text)
        if not text:
            self.data = None
        elif text.isdigit() and len(text) <= 15:
            self.data = int(text)
        else:
            self.data = None
            raise ValueError("Enter the amount in whole pounds, like 12,000")

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return f"{self.data:,}" if isinstance(self.data, int) else ""


class PeriodField(StringField):
    """A quarter typed as "2026-27 Q2" (or "2026/27 q2", "2026-27-Q2"), tidied to the label."""

    widget = GovTextInput()

    def process_formdata(self, valuelist: list[str]) -> None:
        text = (valuelist[0] if valuelist else "").strip()
        match = _PERIOD_TYPED.match(text)
        self.data = f"{match[1]}-{match[2]} Q{match[3]}" if match else text


def _text_area(label: str, description: str = "", rows: int = 4) -> TextAreaField:
    return TextAreaField(
        label,
        description=description,
        widget=GovTextArea(),
        filters=[_strip],
        render_kw={"rows": rows},
    )


class AssessmentForm(FlaskForm):
    """One action's assessment. Field names are those of ``Assessment``; order is the page's."""

    stage = ChoiceRadios(
        "How far has implementation got?",
        choices=[SelectChoice(value, name) for value, name in STAGE_NAMES.items()],
        hints=STAGE_HINTS,
    )
    not_applicable_reason = _text_area(
        "If it is not applicable locally, why not?",
        "Needed when the stage is Not applicable locally",
        rows=3,
    )
    rag = ChoiceRadios(
        "RAG rating",
        description="Needed when the stage is Planning or Implementing: how confident you are "
        "of reaching the target stage by the target date",
        choices=[SelectChoice(value, name) for value, name in RAG_NAMES.items()],
        hints=RAG_HINTS,
    )
    narrative = _text_area(
        "Progress", "What has been done so far, and what difference it has made", rows=6
    )
    next_steps = _text_area("Next steps", "What will happen next, and by when")
    barriers = Checkboxes(
        "Barriers",
        description="Select all that apply",
        choices=[SelectChoice(code, name) for code, name in BARRIERS.items()],
    )
    barrier_detail = _text_area("About the barriers", "Optional", rows=3)
    lead_officer = StringField(
        "Lead officer",
        description="Name or job title",
        widget=GovTextInput(),
        filters=[_strip],
    )
    target_stage = SelectField(
        "Target stage",
        widget=GovSelect(),
        validate_choice=False,
        choices=[
            SelectChoice(KEEP, "Not set"),
            *(SelectChoice(s, STAGE_NAMES[s]) for s in _TARGET_STAGES),
        ],
    )
    target_period = PeriodField(
        "Target period",
        description="The quarter you expect to reach the target stage, for example 2026-27 Q2",
    )
    is_co_produced = ChoiceRadios(
        "Was this co-produced with people who draw on care and support, and carers?",
        description="They shaped it as equal partners, not only as people consulted",
        choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "No")],
    )
    co_production_how = _text_area("If it was co-produced, how?", rows=3)
    partners = _text_area(
        "Partners involved",
        "For example, the integrated care board, NHS trusts, housing, voluntary organisations",
        rows=3,
    )
    spend_types = Checkboxes(
        "Types of spend",
        description="Select all that apply",
        choices=[SelectChoice(letter, name) for letter, name in SPEND_NAMES.items()],
    )
    amount_pounds = PoundsField(
        "Amount spent, in pounds", description="Optional. Whole pounds, for example 12,000"
    )
    funding_source = SelectField(
        "Main source of funding",
        widget=GovSelect(),
        validate_choice=False,
        choices=[
            SelectChoice(KEEP, "Not set"),
            *(SelectChoice(code, name) for code, name in FUNDING_SOURCES.items()),
        ],
    )
    practice_shared = BooleanField(
        "Share how we did this with other councils",
        description="Once the action is Embedded and the return is submitted, staff of other "
        "councils, regional members and national administrators can read your practice note "
        "and contact on the roadmap's page for this action",
        widget=GovCheckboxInput(),
    )
    practice_note = _text_area(
        "How you did it",
        "Needed to share. What you did, and what made it work, in up to 1,000 characters",
        rows=4,
    )
    practice_contact = StringField(
        "Who other councils can contact",
        description="A role or a team mailbox, for example Head of Prevention, Leeds City "
        "Council. Use a personal email address only if your council chooses to",
        widget=GovTextInput(),
        filters=[_strip],
    )
    version = HiddenField()
    submit = SubmitField("Save", widget=GovSubmitInput())

    @classmethod
    def for_assessment(cls, assessment: Assessment) -> AssessmentForm:
        """The form filled in with the assessment as saved (``formdata=None``: a GET)."""
        data = {name: getattr(assessment, name) for name in (*EDITABLE_FIELDS, *PRACTICE_FIELDS)}
        data["spend_types"] = list(assessment.spend_types or "")
        data["is_co_produced"] = {True: "yes", False: "no"}.get(assessment.is_co_produced)
        data["target_stage"] = assessment.target_stage or KEEP
        data["funding_source"] = assessment.funding_source or KEEP
        data["version"] = str(assessment.version_id)
        return cls(formdata=None, data=data)

    @property
    def expected_version(self) -> int:
        """The version of the assessment the person loaded (0, which never matches, if lost)."""
        text = (self.version.data or "").strip()
        return int(text) if text.isdigit() and len(text) < 10 else 0

    def values(self) -> dict[str, Any]:
        """What was entered, as ``save_assessment`` takes it."""
        return {
            "stage": self.stage.data,
            "rag": self.rag.data,
            "not_applicable_reason": self.not_applicable_reason.data or "",
            "narrative": self.narrative.data or "",
            "next_steps": self.next_steps.data or "",
            "barriers": list(self.barriers.data or []),
            "barrier_detail": self.barrier_detail.data or "",
            "lead_officer": self.lead_officer.data or "",
            "target_stage": self.target_stage.data or None,
            "target_period": self.target_period.data or None,
            "is_co_produced": {"yes": True, "no": False}.get(self.is_co_produced.data or ""),
            "co_production_how": self.co_production_how.data or "",
            "partners": self.partners.data or "",
            "spend_types": "".join(self.spend_types.data or []),
            "amount_pounds": self.amount_pounds.data,
            "funding_source": self.funding_source.data or None,
            "practice_shared": bool(self.practice_shared.data),
            "practice_note": self.practice_note.data or "",
            "practice_contact": self.practice_contact.data or "",
        }

    def show_errors(self, errors: dict[str, str]) -> None:
        """Put the service's messages (field name → message) on the fields."""
        for name, message in errors.items():
            field = self._fields.get(name)
            if field is not None and message not in field.errors:
                field.errors = [*field.errors, message]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        try:
            validate_assessment(self.values())
        except AssessmentInvalid as invalid:
            # A field that could not be read (the amount) keeps its own message.
            self.show_errors({k: v for k, v in invalid.errors.items() if not self[k].errors})
            return False
        return valid


class BulkEditForm(FlaskForm):
    """The same answers for several actions at once; blank answers leave each action's own.

    Made with ``prefix="bulk"``, as the page's filters have fields of the same names; each
    listed action's version comes in an unprefixed ``version-<code>`` field.
    """

    stage = ChoiceRadios(
        "Stage",
        choices=[
            SelectChoice(KEEP, "Leave as it is"),
            *(SelectChoice(value, name) for value, name in STAGE_NAMES.items()),
        ],
        default=KEEP,
    )
    not_applicable_reason = _text_area(
        "If not applicable locally, why not?",
        "Needed when the stage is Not applicable locally",
        rows=3,
    )
    rag = ChoiceRadios(
        "RAG rating",
        description="Needed for actions at Planning or Implementing",
        choices=[
            SelectChoice(KEEP, "Leave as it is"),
            *(SelectChoice(value, name) for value, name in RAG_NAMES.items()),
        ],
        hints=RAG_HINTS,
        default=KEEP,
    )
    lead_officer = StringField(
        "Lead officer",
        description="Leave blank to keep each action's own",
        widget=GovTextInput(),
        filters=[_strip],
    )
    target_stage = SelectField(
        "Target stage",
        widget=GovSelect(),
        validate_choice=False,
        choices=[
            SelectChoice(KEEP, "Leave as it is"),
            *(SelectChoice(s, STAGE_NAMES[s]) for s in _TARGET_STAGES),
        ],
    )
    target_period = PeriodField(
        "Target period",
        description="Leave blank to keep each action's own. For example, 2026-27 Q2",
    )
    all_listed = BooleanField("All the actions listed", widget=GovCheckboxInput())
    actions = Checkboxes("Actions to change")
    submit = SubmitField("Save changes", widget=GovSubmitInput())

    def set_listed(self, rows: list[queries.ActionRow]) -> None:
        """Offer the actions listed on the page (the filters decide which)."""
        self.listed = rows
        self.actions.choices = [SelectChoice(row.code, row.code) for row in rows]

    def changes(self) -> dict[str, Any]:
        """The answers to set, leaving out those left blank."""
        changes: dict[str, Any] = {}
        if self.stage.data:
            changes["stage"] = self.stage.data
            if self.stage.data == Stage.NOT_APPLICABLE:
                changes["not_applicable_reason"] = self.not_applicable_reason.data or ""
        for name in ("rag", "lead_officer", "target_stage", "target_period"):
            value = self[name].data
            if value:
                changes[name] = value
        return changes

    def chosen_codes(self) -> list[str]:
        listed = [row.code for row in getattr(self, "listed", [])]
        if self.all_listed.data:
            return listed
        chosen = set(self.actions.data or [])
        return [code for code in listed if code in chosen]

    def versions(self) -> dict[str, int]:
        """code → the version of each chosen action the page showed (0, never current, if lost)."""
        versions = {}
        for code in self.chosen_codes():
            text = request.form.get(f"version-{code}", "")
            versions[code] = int(text) if text.isdigit() and len(text) < 10 else 0
        return versions

    def validate_actions(self, field: Checkboxes) -> None:
        if not self.chosen_codes():
            raise ValidationError("Select the actions to change")

    def validate_stage(self, field: ChoiceRadios) -> None:
        if not self.changes():
            raise ValidationError("Select an answer to give the selected actions")

    def validate_not_applicable_reason(self, field: TextAreaField) -> None:
        if self.stage.data == Stage.NOT_APPLICABLE and not field.data:
            raise ValidationError("Enter why the actions are not applicable locally")


class ConfirmUnchangedForm(FlaskForm):
    """Confirm the chosen carried-forward actions unchanged: the codes come from the overview's
    checkboxes (or an action's own page) as ``actions``, each with its ``version-<code>``."""

    def chosen(self, source: MultiDict) -> dict[str, int]:
        """code → the version the person saw (0, never current, when it is missing)."""
        chosen: dict[str, int] = {}
        for code in source.getlist("actions"):
            if queries.ACTION_CODE.match(code or "") and code not in chosen:
                text = source.get(f"version-{code}", "")
                chosen[code] = int(text) if text.isdigit() and len(text) < 10 else 0
        return chosen


class OverviewFilterForm(FlaskForm):
    """Filters of a return's actions, sent with GET so that a filtered view can be shared."""

    class Meta:
        csrf = False

    review = FilterField(
        "Review this quarter",
        choices=[SelectChoice(value, name) for value, name in REVIEW_STATE_NAMES.items()],
    )
    area = FilterField("Area for action")
    timeframe = FilterField(
        "Timeframe",
        choices=[
            *(
                SelectChoice(code, f"{name} ({TIMEFRAME_SPANS[code]})")
                for code, name in TIMEFRAME_NAMES.items()
            ),
            SelectChoice(vocabulary.NO_TIMEFRAME, "No timeframe (barriers and enablers)"),
        ],
    )
    lead = FilterField(
        "Lead",
        choices=[
            SelectChoice(code, f"{name}: {LEAD_HINTS[code]}") for code, name in LEAD_NAMES.items()
        ],
    )
    stage = FilterField(
        "Stage",
        choices=[
            *(SelectChoice(value, name) for value, name in STAGE_NAMES.items()),
            SelectChoice(vocabulary.NOT_ASSESSED, "Not assessed"),
        ],
    )
    rag = FilterField(
        "RAG rating",
        choices=[
            *(SelectChoice(value, name) for value, name in RAG_NAMES.items()),
            SelectChoice(vocabulary.NO_RAG, "No RAG rating"),
        ],
    )
    change = FilterField(
        "Since last quarter",
        choices=[SelectChoice(value, name) for value, name in queries.DIRECTION_NAMES.items()],
    )

    def __init__(self, formdata: MultiDict, area_choices: list[tuple[str, str]]) -> None:
        super().__init__(formdata=formdata)
        # The areas come from the database, so their choices are known only now: read them again.
        self.area.choices = [
            *(SelectChoice(code, label) for code, label in area_choices),
            SelectChoice(vocabulary.ENABLERS, "Barriers and enablers"),
        ]
        self.area.process(formdata)

    def to_filters(self) -> queries.OverviewFilters:
        return queries.OverviewFilters(
            areas=frozenset(self.area.data or ()),
            timeframes=frozenset(self.timeframe.data or ()),
            stages=frozenset(self.stage.data or ()),
            rags=frozenset(self.rag.data or ()),
            leads=frozenset(self.lead.data or ()),
            changes=frozenset(self.change.data or ()),
            reviews=frozenset(self.review.data or ()),
        )

    def active_filters(self) -> list[tuple[str, list[str]]]:
        """(field label, labels of the chosen values) for each field with a choice, in order."""
        active = []
        for field in self:
            chosen = set(field.data or ())
            labels = [choice.label for choice in field.choices if choice.value in chosen]
            if labels:
                active.append((field.label.text, labels))
        return active


class SignOffForm(FlaskForm):
    """The approver signs off a submitted return, with their summary and recommendations for
    the board (both optional: the board paper asks for them when they are missing)."""

    summary = TextAreaField(
        "Summary from the Director (optional)",
        description="Your own words for the board paper: what this quarter shows, and what "
        "matters most. The board paper prints it as written.",
        widget=GovTextArea(),
        filters=[_strip],
        validators=[
            Length(
                max=SUMMARY_MAX, message=f"The summary must be {SUMMARY_MAX:,} characters or fewer"
            ),
        ],
        render_kw={"rows": 8},
    )
    submit = SubmitField("Sign off return", widget=GovSubmitInput())

    @property
    def recommendations(self) -> list[StringField]:
        """The recommendation boxes, in order."""
        return [self[f"recommendation_{n}"] for n in range(1, MAX_RECOMMENDATIONS + 1)]


def _recommendation_field(number: int) -> StringField:
    return StringField(
        f"Recommendation {number}",
        widget=GovTextInput(),
        filters=[_strip],
        validators=[
            Length(
                max=RECOMMENDATION_MAX,
                message=f"Recommendation {number} must be {RECOMMENDATION_MAX} characters or fewer",
            )
        ],
    )


for _number in range(1, MAX_RECOMMENDATIONS + 1):
    setattr(SignOffForm, f"recommendation_{_number}", _recommendation_field(_number))


class SendBackForm(FlaskForm):
    """The approver returns a submitted return to the editors with comments."""

    comment = TextAreaField(
        "What do the editors need to change?",
        description="They will see this on the return",
        widget=GovTextArea(),
        filters=[_strip],
        validators=[
            DataRequired(message="Enter what the editors need to change"),
            Length(max=5000, message="Comments must be 5,000 characters or fewer"),
        ],
        render_kw={"rows": 5},
    )
    submit = SubmitField("Send back to editors", widget=GovSubmitInput())


class ReopenForm(FlaskForm):
    """The approver reopens a signed-off return, with a reason."""

    reason = TextAreaField(
        "Why are you reopening the return?",
        description="The council's editors and approvers will see this reason on the return "
        "and in its history",
        widget=GovTextArea(),
        filters=[_strip],
        validators=[
            DataRequired(message="Enter why the return is being reopened"),
            Length(max=5000, message="The reason must be 5,000 characters or fewer"),
        ],
        render_kw={"rows": 5},
    )
    submit = SubmitField("Reopen return", widget=GovSubmitInput())
