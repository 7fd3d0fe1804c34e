"""Forms of the sign-in pages and of the person's own account."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import PasswordField, SelectChoice, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from tracker.accounts import tokens
from tracker.accounts.names import NoControlCharacters
from tracker.accounts.passwords import ENTER_PASSWORD
from tracker.accounts.services import MAX_EMAIL_LENGTH, MAX_NAME_LENGTH
from tracker.forms import ChoiceRadioField

EMAIL_LENGTH = Length(
    max=MAX_EMAIL_LENGTH, message=f"Email address must be {MAX_EMAIL_LENGTH} characters or fewer"
)
#: hint for every field where a person chooses a password
CHOOSING_HINT = (
    "Use 8 characters or more. A few unrelated words are easy to remember and hard to guess. "
    "You can paste a password from a password manager."
)


class EmailField(StringField):
    """An email address: spaces around it are dropped."""

    widget = GovTextInput()

    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata(valuelist)
        self.data = (self.data or "").strip()


class CodeField(StringField):
    """A 6-digit code from an authenticator app; spaces and hyphens are forgiven later."""

    widget = GovTextInput()


class SignInForm(FlaskForm):
    """Email address and password."""

    email = EmailField(
        "Email address", validators=[DataRequired("Enter your email address"), EMAIL_LENGTH]
    )
    password = PasswordField(
        "Password", widget=GovPasswordInput(), validators=[InputRequired("Enter your password")]
    )


class TwoFactorForm(FlaskForm):
    """The code from the person's authenticator app."""

    code = CodeField(
        "Security code",
        description="Enter the 6-digit code shown in your authenticator app",
        validators=[
            DataRequired("Enter the security code"),
            Length(max=20, message="Enter the security code, like 123456"),
        ],
    )


class ConfirmIdentityForm(FlaskForm):
    """The password again, and a code when the person has an authenticator app."""

    password = PasswordField(
        "Password", widget=GovPasswordInput(), validators=[InputRequired("Enter your password")]
    )
    code = CodeField(
        "Security code",
        description="Enter the 6-digit code shown in your authenticator app",
        validators=[Optional(), Length(max=20, message="Enter the security code, like 123456")],
    )


class ForgotPasswordForm(FlaskForm):
    """Where to send a reset link."""

    email = EmailField(
        "Email address",
        description="We will send a link to reset your password to this address",
        validators=[DataRequired("Enter your email address"), EMAIL_LENGTH],
    )


class NewPasswordForm(FlaskForm):
    """A new password (from a reset link)."""

    password = PasswordField(
        "New password",
        description=CHOOSING_HINT,
        widget=GovPasswordInput(),
        validators=[InputRequired(ENTER_PASSWORD)],
    )


class InvitationForm(NewPasswordForm):
    """The invited person's name and their first password."""

    display_name = StringField(
        "Your name",
        description="Your colleagues see this name",
        widget=GovTextInput(),
        validators=[
            DataRequired("Enter your name"),
            Length(
                max=MAX_NAME_LENGTH, message=f"Name must be {MAX_NAME_LENGTH} characters or fewer"
            ),
            NoControlCharacters(),
        ],
    )
    password = PasswordField(
        "Create a password",
        description=CHOOSING_HINT,
        widget=GovPasswordInput(),
        validators=[InputRequired(ENTER_PASSWORD)],
    )


class ChangePasswordForm(FlaskForm):
    """The current password, then the new one."""

    current_password = PasswordField(
        "Current password",
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter your current password")],
    )
    new_password = PasswordField(
        "New password",
        description=CHOOSING_HINT,
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter a new password")],
    )


class ConfirmForm(FlaskForm):
    """A form with only its CSRF token: sign out, stay signed in."""


class AnswerInvitationForm(FlaskForm):
    """Accept or decline an invitation to a council's team: the button pressed says which."""

    accept = SubmitField("Accept and join", widget=GovSubmitInput())
    decline = SubmitField("Decline", widget=GovSubmitInput())


#: the lifetimes offered for an API token, as the radios post them
EXPIRY_CHOICES = [SelectChoice(str(days), f"{days} days") for days in tokens.EXPIRY_DAYS]


class NewTokenForm(FlaskForm):
    """Name, scope and lifetime of a new API token.

    The scopes offered are the person's own (``tokens.scope_choices``), passed in by the view;
    anything else posted is refused here and again by ``tokens.create``.
    """

    name = StringField(
        "Name",
        description="So that you can tell your tokens apart, like “Power BI board report”",
        widget=GovTextInput(),
        validators=[
            DataRequired("Enter a name for the token"),
            Length(
                max=tokens.MAX_NAME_LENGTH,
                message=f"Name must be {tokens.MAX_NAME_LENGTH} characters or fewer",
            ),
            NoControlCharacters(),
        ],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )
    scope = ChoiceRadioField(
        "What can the token read?",
        description="It reads what you can read there, and nothing else",
        choices=[],
        message="Select what the token can read",
    )
    expires_in_days = ChoiceRadioField(
        "When should it stop working?",
        description="You can revoke it sooner. When it expires, create a new one",
        choices=EXPIRY_CHOICES,
        default=str(tokens.DEFAULT_EXPIRY_DAYS),
        message="Select when the token expires",
    )
    submit = SubmitField("Create token", widget=GovSubmitInput())

    def __init__(self, *args, scopes: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.scope.choices = [SelectChoice(value, label) for value, label in scopes]
