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
    """Invite a person to the council's team; they join once they accept.

    The council comes from the URL, never from the form. Nothing on the screen depends on
    whether the address already has an account.
    """

    email = email_field(description="We will email them an invitation to accept")
    display_name = name_field(
        description=(
            "So that you recognise the invitation on the team page. Panel members can use a "
            "first name or a pseudonym"
        )
    )
    role = role_field(MANAGED_ROLE_CHOICES)
    submit = SubmitField("Send invitation", widget=GovSubmitInput())

    @property
    def role_enum(self) -> Role:
        return Role(self.role.data)
