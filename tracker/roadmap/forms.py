"""Forms of the roadmap pages: the filters on the list of actions, the quarter in practice."""

from __future__ import annotations

from collections.abc import Sequence

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import SelectChoice

from tracker.domain.periods import period_slug
from tracker.domain.vocabulary import (
    ENABLERS,
    FUNDING_NAMES,
    FUNDING_SYMBOLS,
    LEAD_HINTS,
    LEAD_NAMES,
    LEGISLATIVE_NAMES,
    LEGISLATIVE_SYMBOLS,
    NO_PREVENTION_TIER,
    NO_TIMEFRAME,
    PREVENTION_TIER_NAMES,
    SPEND_NAMES,
    TIMEFRAME_NAMES,
    TIMEFRAME_SPANS,
    UNTAGGED,
)
from tracker.forms import ChoiceSelectField, FilterField
from tracker.models import Period
from tracker.roadmap.services import ActionFilters


class ActionFilterForm(FlaskForm):
    """Filters for the list of actions, sent with GET so that results can be shared."""

    class Meta:
        # A GET form changes nothing, so it needs no CSRF token (which would also clutter the URL).
        csrf = False

    timeframe = FilterField(
        "Timeframe",
        choices=[
            *(
                SelectChoice(code, f"{name} ({TIMEFRAME_SPANS[code]})")
                for code, name in TIMEFRAME_NAMES.items()
            ),
            SelectChoice(NO_TIMEFRAME, "No timeframe (barriers and enablers)"),
        ],
    )
    spend = FilterField(
        "Type of spend",
        choices=[
            SelectChoice(letter, f"{name} ({letter})") for letter, name in SPEND_NAMES.items()
        ],
    )
    funding = FilterField(
        "Level of funding",
        choices=[
            *(
                SelectChoice(str(level), f"{name} ({FUNDING_SYMBOLS[level]})")
                for level, name in FUNDING_NAMES.items()
            ),
            SelectChoice(UNTAGGED, "No funding tag"),
        ],
    )
    legislative = FilterField(
        "Legislative change",
        choices=[
            *(
                SelectChoice(str(level), f"{name} ({LEGISLATIVE_SYMBOLS[level]})")
                for level, name in LEGISLATIVE_NAMES.items()
            ),
            SelectChoice(UNTAGGED, "No legislative tag"),
        ],
    )
    lead = FilterField(
        "Lead",
        choices=[
            SelectChoice(code, f"{name}: {LEAD_HINTS[code]}") for code, name in LEAD_NAMES.items()
        ],
    )
    area = FilterField("Area for action")
    prevention = FilterField(
        "Prevention tier",
        choices=[
            *(SelectChoice(code, name) for code, name in PREVENTION_TIER_NAMES.items()),
            SelectChoice(NO_PREVENTION_TIER, "No prevention tier"),
        ],
    )
    statement = FilterField("CQC quality statement")

    def __init__(
        self,
        formdata: MultiDict,
        area_choices: list[tuple[str, str]],
        statement_choices: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(formdata=formdata)
        # The areas and statements come from the database, so their choices are known only now:
        # read them again.
        self.area.choices = [
            *(SelectChoice(code, label) for code, label in area_choices),
            SelectChoice(ENABLERS, "Barriers and enablers"),
        ]
        self.area.process(formdata)
        self.statement.choices = [
            SelectChoice(code, label) for code, label in statement_choices or ()
        ]
        self.statement.process(formdata)

    def to_filters(self) -> ActionFilters:
        """The chosen values as filters for ``list_actions``."""
        return ActionFilters(
            timeframes=frozenset(self.timeframe.data or ()),
            spend_types=frozenset(self.spend.data or ()),
            funding_levels=frozenset(self.funding.data or ()),
            legislative_levels=frozenset(self.legislative.data or ()),
            leads=frozenset(self.lead.data or ()),
            areas=frozenset(self.area.data or ()),
            statements=frozenset(self.statement.data or ()),
            prevention_tiers=frozenset(self.prevention.data or ()),
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


class PracticePeriodForm(FlaskForm):
    """The quarter the roadmap in practice shows, sent with GET so that a view can be shared."""

    class Meta:
        csrf = False

    period = ChoiceSelectField("Quarter", message="Select a quarter from the list")

    def __init__(self, formdata, periods: Sequence[Period], **kwargs) -> None:
        super().__init__(formdata, **kwargs)
        self.period.choices = [SelectChoice(period_slug(p), p.label) for p in periods]
