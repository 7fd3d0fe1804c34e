"""Forms of the administration pages: people, memberships and filters for the audit trail.

Choices of council and region are given by the view from the database; a posted value outside
them is refused by WTForms, so a form never binds a council, region or role it did not offer.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import DateField, RadioField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from tracker.accounts.names import NoControlCharacters
from tracker.admin.services import ROLE_VALUES
from tracker.models import Council, Region, Role

#: the order roles are offered in
ROLE_CHOICES = [SelectChoice(role.value, role.label) for role in Role]
ROLE_HINTS = {
    Role.COUNCIL_EDITOR: "Updates the council's returns",
    Role.COUNCIL_APPROVER: "The Director of Adult Social Services: signs off the council's returns",
    Role.COUNCIL_VIEWER: "Reads the council's returns and reports",
    Role.PANEL_MEMBER: "Comments on the council's submitted returns",
    Role.REGIONAL_MEMBER: "Reads the councils of one ADASS region",
    Role.NATIONAL_ADMIN: "Manages periods, people, councils and roadmap editions",
}


#: one @, something either side, a dot in the domain and no spaces: enough to catch typing
#: mistakes; the invitation email is what proves the address works
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"


def _choices(blank: str, pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """A first, empty choice labelled ``blank``, then (value, label) ``pairs``."""
    return [SelectChoice("", blank), *(SelectChoice(value, label) for value, label in pairs)]


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


def council_field() -> ChoiceSelectField:
    return ChoiceSelectField(
        "Council",
        description="For council editors, approvers, viewers and panel members",
        message="Select a council",
    )


def region_field() -> ChoiceSelectField:
    return ChoiceSelectField(
        "ADASS region", description="For regional members", message="Select a region"
    )


class RoleScopeMixin:
    """Role, council and region: the council or region is needed only when the role has one.

    The form declares ``role``, ``council`` and ``region`` (in its own order, so that the error
    summary follows the page). Call :meth:`set_scope_choices` before validating.
    """

    role: RadioField
    council: SelectField
    region: SelectField

    def set_scope_choices(self, councils: list[Council], regions: list[Region]) -> None:
        self.council.choices = [SelectChoice("", "Select a council")] + [
            SelectChoice(c.gss_code, c.name) for c in councils
        ]
        self.region.choices = [SelectChoice("", "Select a region")] + [
            SelectChoice(r.slug, r.name) for r in regions
        ]

    @property
    def role_enum(self) -> Role:
        return Role(self.role.data)

    def _scope(self) -> str | None:
        return Role(self.role.data).scope if self.role.data in ROLE_VALUES else None

    def validate_council(self, field: SelectField) -> None:
        if self._scope() == "council" and not field.data:
            raise ValidationError("Select a council")

    def validate_region(self, field: SelectField) -> None:
        if self._scope() == "region" and not field.data:
            raise ValidationError("Select a region")


class NewUserForm(RoleScopeMixin, FlaskForm):
    """A new person and their first role; they get an invitation by email."""

    email = email_field(description="We will send an invitation to this address")
    display_name = name_field(description="As shown to others in the service")
    role = role_field()
    council = council_field()
    region = region_field()
    submit = SubmitField("Create and send invitation", widget=GovSubmitInput())


class MembershipForm(RoleScopeMixin, FlaskForm):
    """Another role for a person."""

    role = role_field()
    council = council_field()
    region = region_field()
    submit = SubmitField("Add role", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    """A button that confirms a change: only the CSRF token is posted."""


class UserFilterForm(FlaskForm):
    """Search and filters for the list of people, sent with GET so the URL can be shared."""

    class Meta:
        csrf = False

    q = StringField("Name or email address", widget=GovTextInput())
    role = SelectField(
        "Role",
        widget=GovSelect(),
        choices=[SelectChoice("", "Any role"), *ROLE_CHOICES],
        validate_choice=False,
    )
    council = SelectField("Council", widget=GovSelect(), validate_choice=False)
    region = SelectField("ADASS region", widget=GovSelect(), validate_choice=False)
    submit = SubmitField("Apply filters", widget=GovSubmitInput())

    def set_choices(self, councils: list[Council], regions: list[Region]) -> None:
        self.council.choices = [SelectChoice("", "Any council")] + [
            SelectChoice(c.gss_code, c.name) for c in councils
        ]
        self.region.choices = [SelectChoice("", "Any region")] + [
            SelectChoice(r.slug, r.name) for r in regions
        ]


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


class AuditFilterForm(FlaskForm):
    """Filters for the audit trail, sent with GET."""

    class Meta:
        csrf = False

    action = SelectField("Action", widget=GovSelect(), validate_choice=False)
    actor = StringField(
        "Changed by",
        widget=GovTextInput(),
        description="Part of the person's name or email address",
    )
    council = SelectField("Council", widget=GovSelect(), validate_choice=False)
    date_from = DayMonthYearField("From", description="For example, 27 3 2026")
    date_to = DayMonthYearField("To", description="For example, 31 3 2026")
    submit = SubmitField("Apply filters", widget=GovSubmitInput())

    def set_choices(self, actions: list[str], councils: list[Council]) -> None:
        self.action.choices = [SelectChoice("", "Any action")] + [
            SelectChoice(a, a) for a in actions
        ]
        self.council.choices = [SelectChoice("", "Any council")] + [
            SelectChoice(c.gss_code, c.name) for c in councils
        ]
