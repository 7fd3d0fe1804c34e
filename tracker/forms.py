"""Form fields and forms that several areas share: people's names and email addresses, choices
whose only error is "Select …", dates as day, month and year, filter checkboxes, the confirm
button and the search box. Each area's own forms live in its forms.py and import these from here.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovTextInput,
)
from wtforms import (
    DateField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput

from tracker.accounts.names import NoControlCharacters
from tracker.models import Role
from tracker.search import MAX_QUERY_LENGTH

#: the order roles are offered in
ROLE_CHOICES = [SelectChoice(role.value, role.label) for role in Role]
#: one @, something either side, a dot in the domain and no spaces: enough to catch typing
#: mistakes; the invitation email is what proves the address works
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"


class EmailAddress(StringField):
    """An email address, trimmed and lower-cased as it is stored."""

    widget = GovTextInput()

    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata(valuelist)
        if self.data:
            self.data = self.data.strip().lower()


def email_field(label: str = "Email address", description: str = "") -> EmailAddress:
    return EmailAddress(
        label,
        description=description,
        validators=[
            DataRequired(message="Enter an email address"),
            Length(max=254, message="Email address must be 254 characters or fewer"),
            Regexp(
                EMAIL_PATTERN,
                message="Enter an email address in the correct format, like name@example.com",
            ),
        ],
        render_kw={"type": "email", "autocomplete": "off", "spellcheck": "false"},
    )


def name_field(description: str = "") -> StringField:
    return StringField(
        "Name",
        description=description,
        widget=GovTextInput(),
        validators=[
            DataRequired(message="Enter a name"),
            Length(max=120, message="Name must be 120 characters or fewer"),
            NoControlCharacters(),
        ],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )


class ChoiceRadioField(RadioField):
    """Radios whose only error is "Select …": a value outside the choices was not offered."""

    def __init__(self, *args, message: str, **kwargs) -> None:
        kwargs.setdefault("validators", [DataRequired(message=message)])
        super().__init__(*args, widget=GovRadioInput(), **kwargs)
        self.select_message = message

    def pre_validate(self, form) -> None:
        if self.data not in {choice.value for choice in self.choices or []}:
            raise ValidationError(self.select_message)


class ChoiceSelectField(SelectField):
    """A select whose error for a value it did not offer is "Select …"."""

    def __init__(self, *args, message: str, **kwargs) -> None:
        super().__init__(*args, widget=GovSelect(), **kwargs)
        self.select_message = message

    def pre_validate(self, form) -> None:
        if self.data and self.data not in {choice.value for choice in self.choices or []}:
            raise ValidationError(self.select_message)


def role_field(choices: list[SelectChoice] = ROLE_CHOICES) -> ChoiceRadioField:
    return ChoiceRadioField("Role", choices=choices, message="Select a role")


class ConfirmForm(FlaskForm):
    """A button that confirms a change: only the CSRF token is posted."""


class DayMonthYearField(DateField):
    """A date typed as day, month and year in three boxes (the GOV.UK date input)."""

    widget = GovDateInput()

    def __init__(self, label: str, **kwargs) -> None:
        super().__init__(
            label,
            format="%d %m %Y",
            validators=[Optional()],
            **kwargs,
        )

    def process(self, formdata, data=None, extra_filters=None) -> None:
        super().process(formdata, data, extra_filters)
        # The widget needs exactly three values; a URL edited by hand may have fewer or none.
        if not self.raw_data:
            self.raw_data = None
        elif len(self.raw_data) != 3:
            self.raw_data = [*self.raw_data, "", "", ""][:3]
            self.data = None
            self.process_errors.append("Enter a real date")

    def process_formdata(self, valuelist: list[str]) -> None:
        if valuelist and len(valuelist) == 3 and any(v.strip() for v in valuelist):
            try:
                super().process_formdata([" ".join(v.strip() for v in valuelist)])
            except ValueError as error:
                raise ValueError("Enter a real date") from error
            return
        self.data = None


class FilterField(SelectMultipleField):
    """Checkboxes whose unknown values are dropped, not reported.

    Filters arrive in a shareable query string that people edit by hand; a value we do not know
    (``?lead=mayor``) filters by nothing rather than failing. Case is forgiven (``?spend=t``).
    """

    widget = GovCheckboxesInput()
    option_widget = CheckboxInput()

    def process_formdata(self, valuelist: list[str]) -> None:
        known = {choice.value.lower(): choice.value for choice in self.choices or []}
        chosen = (known.get(raw.strip().lower()) for raw in valuelist)
        self.data = list(dict.fromkeys(value for value in chosen if value is not None))

    def pre_validate(self, form) -> None:
        """Every value left is a known choice (see ``process_formdata``)."""


class SearchForm(FlaskForm):
    """A search by keyword or action code (the roadmap's, or one return's answers), sent with GET
    so that results can be shared."""

    class Meta:
        csrf = False

    q = StringField(
        "Search",
        widget=GovTextInput(),
        validators=[
            Length(
                max=MAX_QUERY_LENGTH,
                message=f"Search terms must be {MAX_QUERY_LENGTH} characters or fewer",
            )
        ],
    )

    @property
    def query(self) -> str:
        """The search terms as typed, without surrounding spaces."""
        return (self.q.data or "").strip()
