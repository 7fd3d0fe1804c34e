"""Forms of the evidence pages: a link, a file, and choosing evidence the council already has.

The forms check what a person typed; the services (tracker/returns/evidence.py) check the link's
scheme and the file's contents, and their messages are put on the same fields.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovFileInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Length, StopValidation, ValidationError

from tracker.domain.vocabulary import CQC_EVIDENCE_CATEGORY_NAMES
from tracker.forms import DayMonthYearField
from tracker.returns.evidence import (
    CQC_CATEGORY_REFUSED,
    DATED_IN_FUTURE,
    EVIDENCE_TYPES,
    TITLE_MAX,
    URL_MAX,
    dated_in_future,
)

#: the choice that leaves an item out of the CQC's categories (it is listed last in the CQC view)
NOT_CATEGORISED = ""


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _date_required(form: FlaskForm, field: DateField) -> None:
    if field.data is None and not field.errors:
        raise StopValidation("Enter the date of the evidence")


class EvidenceDateField(DayMonthYearField):
    """The date of a document or page (day, month, year), today or earlier."""

    def __init__(self, label: str, **kwargs) -> None:
        DateField.__init__(self, label, format="%d %m %Y", validators=[_date_required], **kwargs)

    def pre_validate(self, form: FlaskForm) -> None:
        if self.data is not None and dated_in_future(self.data):
            raise ValidationError(DATED_IN_FUTURE)


class TypeRadioField(RadioField):
    """The type of evidence; a value that was not offered reads "Select the type of evidence"."""

    def pre_validate(self, form: FlaskForm) -> None:
        if self.data not in EVIDENCE_TYPES:
            raise ValidationError("Select the type of evidence")


class CqcCategoryRadioField(RadioField):
    """The CQC evidence category, optional: "Not categorised" (or nothing chosen) is none; a
    value that was not offered is refused."""

    def pre_validate(self, form: FlaskForm) -> None:
        if self.data not in (None, NOT_CATEGORISED, *CQC_EVIDENCE_CATEGORY_NAMES):
            raise ValidationError(CQC_CATEGORY_REFUSED)

    @property
    def category(self) -> str | None:
        """The chosen category's key, or None for "Not categorised"."""
        return self.data or None


class EvidenceDetailsForm(FlaskForm):
    """What every evidence item has: a title, a type and a date."""

    title = StringField(
        "Title",
        description="As people will recognise it, for example “Carers strategy 2025 to 2030”",
        widget=GovTextInput(),
        validators=[
            DataRequired(message="Enter a title"),
            Length(max=TITLE_MAX, message=f"Title must be {TITLE_MAX} characters or fewer"),
        ],
        filters=[_strip],
    )
    evidence_type = TypeRadioField(
        "Type of evidence",
        widget=GovRadioInput(),
        choices=[SelectChoice(value, label) for value, label in EVIDENCE_TYPES.items()],
        validators=[DataRequired(message="Select the type of evidence")],
    )
    dated_on = EvidenceDateField(
        "Date",
        description="When it was published or last updated. For example, 27 3 2026",
    )
    cqc_category = CqcCategoryRadioField(
        "CQC evidence category",
        description=(
            "Optional. Which of the CQC’s categories of evidence for local authority "
            "assessment this is; the council’s CQC view groups evidence by it"
        ),
        widget=GovRadioInput(),
        choices=[
            *(SelectChoice(value, label) for value, label in CQC_EVIDENCE_CATEGORY_NAMES.items()),
            SelectChoice(NOT_CATEGORISED, "Not categorised"),
        ],
        default=NOT_CATEGORISED,
    )
    is_published_to_panel = BooleanField(
        "Show it to the council’s co-production panel",
        widget=GovCheckboxInput(),
        description="Panel members can then download it from the returns they comment on",
    )


class LinkEvidenceForm(EvidenceDetailsForm):
    """Evidence published on the web."""

    url = StringField(
        "Link",
        description="The full address, starting with https://",
        widget=GovTextInput(),
        validators=[
            DataRequired(message="Enter a link"),
            Length(max=URL_MAX, message=f"Link must be {URL_MAX:,} characters or fewer"),
        ],
        filters=[_strip],
        render_kw={"type": "url", "spellcheck": "false", "autocomplete": "off"},
    )
    submit = SubmitField("Add link", widget=GovSubmitInput())


class UploadEvidenceForm(EvidenceDetailsForm):
    """Evidence uploaded as a file."""

    file = FileField(
        "Upload a file",
        widget=GovFileInput(),
        validators=[FileRequired(message="Select a file")],
    )
    submit = SubmitField("Upload file", widget=GovSubmitInput())


class EditEvidenceForm(EvidenceDetailsForm):
    """An item's details, changed from the council's evidence (its link or file stays)."""

    submit = SubmitField("Save details", widget=GovSubmitInput())


class ChooseEvidenceForm(FlaskForm):
    """Evidence the council already has, to support one more action. Call
    :meth:`set_choices` before validating: an id that was not offered is refused."""

    evidence = SelectMultipleField(
        "Choose evidence",
        widget=GovCheckboxesInput(),
        validate_choice=False,
        validators=[DataRequired(message="Select the evidence that supports this action")],
    )
    submit = SubmitField("Add evidence", widget=GovSubmitInput())

    def set_choices(self, choices: list[tuple[str, str]]) -> None:
        self.evidence.choices = [SelectChoice(value, label) for value, label in choices]

    def validate_evidence(self, field: SelectMultipleField) -> None:
        offered = {choice.value for choice in field.choices or []}
        if not field.data or any(value not in offered for value in field.data):
            raise ValidationError("Select the evidence that supports this action")

    @property
    def evidence_ids(self) -> list[int]:
        return [int(value) for value in self.evidence.data or []]
