"""Forms of the panel pages: a comment or reply, its change or withdrawal, the council's answer,
hiding, the member's settings and leaving, and the panel's own view of an action.

Forms on the thread page carry a prefix so that their fields' ids never clash. A comment is named
by ``comment_id`` in a hidden field; the view looks it up within the page's thread only.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    Field,
    Form,
    HiddenField,
    IntegerField,
    SelectChoice,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from tracker.accounts.names import has_control_characters
from tracker.domain.vocabulary import PANEL_VIEW_NAMES, PANEL_VIEW_QUESTION
from tracker.forms import ChoiceRadioField, DayMonthYearField
from tracker.panels.services import (
    MAX_ANSWER_DAYS,
    MAX_BODY,
    MAX_DISPLAY_NAME,
    MAX_REASON,
    MAX_VIEW_COMMENT,
    SELECT_ANSWER,
    VIEW_COMMENT_CONTROL,
    VIEW_COMMENT_TOO_LONG,
)

_TOO_LONG = "{thing} must be 5,000 characters or fewer"


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _text_field(label: str, description: str, thing: str, *, rows: int) -> TextAreaField:
    """A text area of up to 5,000 characters; ``thing`` is "comment" or "answer"."""
    return TextAreaField(
        label,
        description=description,
        widget=GovTextArea(),
        filters=[_strip],
        validators=[
            DataRequired(message=f"Enter your {thing}"),
            Length(max=MAX_BODY, message=_TOO_LONG.format(thing=f"Your {thing}")),
        ],
        render_kw={"rows": rows},
    )


def _version(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if 0 < number < 2**31 else None


class CommentForm(FlaskForm):
    """A panel member's comment on an action, or a reply to a comment (``parent_id``)."""

    body = _text_field(
        "Your comment",
        "Say what you think in your own words. Do not include anyone's personal details. "
        "Up to 5,000 characters.",
        "comment",
        rows=6,
    )
    parent_id = HiddenField()
    submit = SubmitField("Post comment", widget=GovSubmitInput())


class EditCommentForm(FlaskForm):
    """The author changes their open comment."""

    body = _text_field("Change your comment", "Up to 5,000 characters.", "comment", rows=6)
    comment_id = HiddenField()
    version = HiddenField()
    submit = SubmitField("Save changes", widget=GovSubmitInput())

    @property
    def expected_version(self) -> int | None:
        return _version(self.version.data)


class WithdrawForm(FlaskForm):
    """The author withdraws their comment."""

    comment_id = HiddenField()
    submit = SubmitField("Withdraw comment", widget=GovSubmitInput())


class AnswerForm(FlaskForm):
    """A council editor answers a comment."""

    body = _text_field(
        "Your answer",
        "Plain words: the panel member is not a professional. Up to 5,000 characters.",
        "answer",
        rows=5,
    )
    is_you_said_we_did = BooleanField(
        "You said, we did: the council changed something because of this comment",
        widget=GovCheckboxInput(),
    )
    change_made = TextAreaField(
        "What did the council change?",
        description="Needed for “you said, we did”.",
        widget=GovTextArea(),
        filters=[_strip],
        validators=[Length(max=MAX_BODY, message=_TOO_LONG.format(thing="The change made"))],
        render_kw={"rows": 3},
    )
    comment_id = HiddenField()
    submit = SubmitField("Send answer", widget=GovSubmitInput())


class HideForm(FlaskForm):
    """A council editor hides a comment, with a reason its author is told."""

    reason = TextAreaField(
        "Why are you hiding this comment?",
        description="The author is told this reason.",
        widget=GovTextArea(),
        filters=[_strip],
        validators=[
            DataRequired(message="Enter the reason for hiding this comment"),
            Length(max=MAX_REASON, message="The reason must be 1,000 characters or fewer"),
        ],
        render_kw={"rows": 3},
    )
    comment_id = HiddenField()
    submit = SubmitField("Hide comment", widget=GovSubmitInput())


class UnhideForm(FlaskForm):
    """Show a hidden comment again."""

    comment_id = HiddenField()
    submit = SubmitField("Show comment again", widget=GovSubmitInput())


class SettingsForm(FlaskForm):
    """The member's name on comments and their choices."""

    display_name = StringField(
        "The name shown beside your comments",
        description="It does not have to be your real name. Up to 60 characters.",
        widget=GovTextInput(),
        filters=[_strip],
        validators=[
            DataRequired(message="Enter the name to show beside your comments"),
            Length(
                max=MAX_DISPLAY_NAME,
                message="Your name on comments must be 60 characters or fewer",
            ),
        ],
        render_kw={"autocomplete": "nickname", "spellcheck": "false"},
    )
    is_real_name_shown = BooleanField(
        "Show my real name in regional pages and reports",
        description="Only your council's Director of Adult Social Services sees your real name "
        "unless you tick this.",
        widget=GovCheckboxInput(),
    )
    is_notified_by_email = BooleanField(
        "Email me when the council answers or hides one of my comments",
        widget=GovCheckboxInput(),
    )
    submit = SubmitField("Save", widget=GovSubmitInput())


class AnswerDaysForm(FlaskForm):
    """The council's approver sets how quickly the council aims to answer its panel."""

    answer_days = IntegerField(
        "How many working days the council aims to take to answer a comment",
        description="Working days are Monday to Friday. Bank holidays count as working days. "
        "Panel members are told this number, and a comment that waits longer is overdue.",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter the number of working days"),
            NumberRange(
                min=1,
                max=MAX_ANSWER_DAYS,
                message=f"Enter a number of working days from 1 to {MAX_ANSWER_DAYS}",
            ),
        ],
        render_kw={"inputmode": "numeric", "spellcheck": "false"},
    )
    submit = SubmitField("Save", widget=GovSubmitInput())


class LeaveForm(FlaskForm):
    """The member leaves the panel."""

    confirm = BooleanField(
        "I understand that I will leave the panel and be signed out",
        widget=GovCheckboxInput(),
        validators=[DataRequired(message="Tick the box to confirm that you want to leave")],
    )
    submit = SubmitField("Leave the panel", widget=GovSubmitInput())


def _no_control_characters(form: Form, field: Field) -> None:
    """Line breaks and tabs are kept; other control characters are refused (the service says
    the same)."""
    text = (field.data or "").replace("\r", "").replace("\n", "").replace("\t", "")
    if has_control_characters(text):
        raise ValidationError(VIEW_COMMENT_CONTROL)


def _view_fields(description: str) -> tuple[ChoiceRadioField, TextAreaField]:
    answer = ChoiceRadioField(
        PANEL_VIEW_QUESTION,
        choices=[SelectChoice(key, label) for key, label in PANEL_VIEW_NAMES.items()],
        message=SELECT_ANSWER,
    )
    comment = TextAreaField(
        "Anything you want to add (optional)",
        description=description,
        widget=GovTextArea(),
        filters=[_strip],
        validators=[
            Length(max=MAX_VIEW_COMMENT, message=VIEW_COMMENT_TOO_LONG),
            _no_control_characters,
        ],
        render_kw={"rows": 3},
    )
    return answer, comment


class PanelViewForm(FlaskForm):
    """A panel member's own view of an action: is it happening, from what they see?"""

    answer, comment = _view_fields(
        "The council sees how many people gave each answer, and the comments, but never who "
        "said what. Up to 1,000 characters."
    )
    submit = SubmitField("Save your answer", widget=GovSubmitInput())


class MeetingViewForm(FlaskForm):
    """The council's approver records one view gathered at a panel meeting."""

    meeting_on = DayMonthYearField("When was the meeting?", description="For example, 27 11 2026")
    answer, comment = _view_fields(
        "What the person said, in their words. Do not include their name or personal details. "
        "Up to 1,000 characters."
    )
    submit = SubmitField("Record this view", widget=GovSubmitInput())
