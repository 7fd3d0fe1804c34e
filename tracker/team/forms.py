"""Forms of a council's team pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import SelectChoice, SubmitField

from tracker.forms import email_field, name_field, role_field
from tracker.models import Role

#: the roles an approver grants, in the order they are offered; nothing else can be posted
MANAGED_ROLE_CHOICES = [
    SelectChoice(role.value, role.label)
    for role in (Role.COUNCIL_EDITOR, Role.COUNCIL_VIEWER, Role.PANEL_MEMBER)
]


class TeamMemberForm(FlaskForm):
    """Add a person to the council's team: someone new is invited, someone known is added.

    The council comes from the URL, never from the form.
    """

    email = email_field(description="If they do not have an account yet, we will invite them")
    display_name = name_field(
        description=(
            "How others in the service see them. Panel members can use a first name or a "
            "pseudonym. If they already have an account, their name stays as it is"
        )
    )
    role = role_field(MANAGED_ROLE_CHOICES)
    submit = SubmitField("Add to team", widget=GovSubmitInput())

    @property
    def role_enum(self) -> Role:
        return Role(self.role.data)
