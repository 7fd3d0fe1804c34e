"""Forms of the administration pages: people, memberships, filters for the audit trail, and
closing and reopening periods.

Choices of council and region are given by the view from the database; a posted value outside
them is refused by WTForms, so a form never binds a council, region or role it did not offer.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, ValidationError

from tracker.admin.services import ROLE_VALUES
from tracker.forms import (
    ROLE_CHOICES,
    ChoiceSelectField,
    DayMonthYearField,
    email_field,
    name_field,
    role_field,
)
from tracker.models import Council, Region, Role
from tracker.returns.periods import MAX_REOPEN_REASON

ROLE_HINTS = {
    Role.COUNCIL_EDITOR: "Updates the council's returns",
    Role.COUNCIL_APPROVER: "The Director of Adult Social Services: signs off the council's returns",
    Role.COUNCIL_VIEWER: "Reads the council's returns and reports",
    Role.PANEL_MEMBER: "Comments on the council's submitted returns",
    Role.REGIONAL_MEMBER: "Reads the councils of one ADASS region",
    Role.NATIONAL_ADMIN: "Manages periods, people, councils and roadmap editions",
}


def _choices(blank: str, pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """A first, empty choice labelled ``blank``, then (value, label) ``pairs``."""
    return [SelectChoice("", blank), *(SelectChoice(value, label) for value, label in pairs)]


#: marks a select of the 153 councils for the type-ahead (static/js/council-autocomplete.js);
#: without JavaScript it stays a plain select
COUNCIL_AUTOCOMPLETE = {"data-module": "council-autocomplete"}


def council_field() -> ChoiceSelectField:
    return ChoiceSelectField(
        "Council",
        description="For council editors, approvers, viewers and panel members",
        message="Select a council",
        render_kw=COUNCIL_AUTOCOMPLETE,
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
    council = SelectField(
        "Council", widget=GovSelect(), validate_choice=False, render_kw=COUNCIL_AUTOCOMPLETE
    )
    region = SelectField("ADASS region", widget=GovSelect(), validate_choice=False)
    submit = SubmitField("Apply filters", widget=GovSubmitInput())

    def set_choices(self, councils: list[Council], regions: list[Region]) -> None:
        self.council.choices = [SelectChoice("", "Any council")] + [
            SelectChoice(c.gss_code, c.name) for c in councils
        ]
        self.region.choices = [SelectChoice("", "Any region")] + [
            SelectChoice(r.slug, r.name) for r in regions
        ]


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
    council = SelectField(
        "Council", widget=GovSelect(), validate_choice=False, render_kw=COUNCIL_AUTOCOMPLETE
    )
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


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class ClosePeriodForm(FlaskForm):
    """Close a period. Before its due date the box must be ticked (the view says so with
    :meth:`require_understanding`); after it, the button alone closes it."""

    understand = BooleanField(
        "I understand that councils will not be able to finish, submit or sign off their returns",
        widget=GovCheckboxInput(),
    )
    submit = SubmitField("Close the period", widget=GovSubmitInput())
    #: closing now would be early, so the box must be ticked
    is_early = False

    def require_understanding(self, label: str) -> None:
        self.is_early = True
        self.period_label = label

    def validate_understand(self, field: BooleanField) -> None:
        if self.is_early and not field.data:
            raise ValidationError(
                f"Tick the box to confirm that you want to close {self.period_label} before it "
                "is due"
            )


class ReopenPeriodForm(FlaskForm):
    """Reopen a closed period, with the reason (kept in the audit trail)."""

    reason = TextAreaField(
        "Why are you reopening the period?",
        description="National administrators see this reason in the period's history",
        widget=GovTextArea(),
        filters=[_strip],
        validators=[
            DataRequired(message="Enter why you are reopening the period"),
            Length(
                max=MAX_REOPEN_REASON,
                message=f"The reason must be {MAX_REOPEN_REASON:,} characters or fewer",
            ),
        ],
        render_kw={"rows": 5},
    )
    submit = SubmitField("Reopen the period", widget=GovSubmitInput())
