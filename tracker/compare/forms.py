"""The dashboards' forms: choosing a quarter (and a council, and an order) with GET, and the
council's choice to share named returns with its region."""

from __future__ import annotations

from collections.abc import Sequence

from flask_wtf import FlaskForm
from wtforms import SelectChoice

from tracker.domain.periods import period_slug
from tracker.forms import ChoiceRadioField, ChoiceSelectField
from tracker.models import Council, Period

#: how the regional table can be ordered: by council name, or by a share (highest first)
SORT_BY_NAME = "council"
SORT_BY_ALL = "all"


class PeriodForm(FlaskForm):
    """The quarter a dashboard shows, sent with GET so that a view can be shared."""

    class Meta:
        csrf = False

    period = ChoiceSelectField("Quarter", message="Select a quarter from the list")

    def __init__(self, formdata, periods: Sequence[Period], **kwargs) -> None:
        super().__init__(formdata, **kwargs)
        self.period.choices = [SelectChoice(period_slug(p), p.label) for p in periods]


class RegionForm(PeriodForm):
    """The regional comparison's quarter, the council to set against the median, the order."""

    council = ChoiceSelectField(
        "Council to compare with the regional median", message="Select a council from the list"
    )
    sort = ChoiceSelectField("Order the table by", message="Select an order from the list")

    def __init__(
        self,
        formdata,
        periods: Sequence[Period],
        councils: Sequence[Council],
        areas: Sequence[tuple[str, str]],
        **kwargs,
    ) -> None:
        super().__init__(formdata, periods, **kwargs)
        self.council.choices = [SelectChoice("", "None")] + [
            SelectChoice(c.gss_code, c.short_name) for c in councils
        ]
        self.sort.choices = [
            SelectChoice(SORT_BY_NAME, "Council name"),
            SelectChoice(SORT_BY_ALL, "Share at Implementing or Embedded, all areas"),
            *(
                SelectChoice(key, f"Share at Implementing or Embedded, {label}")
                for key, label in areas
            ),
        ]


class SharingForm(FlaskForm):
    """Whether the council's region sees its submitted returns by name."""

    shares = ChoiceRadioField(
        "Should your region see your council's submitted returns by name?",
        choices=[
            SelectChoice("yes", "Yes, share them by name"),
            SelectChoice("no", "No, count them only inside regional and national figures"),
        ],
        message="Select whether to share your returns by name",
        description=(
            "Regional members and national administrators compare councils. Drafts are never "
            "shared, whatever you choose."
        ),
    )
