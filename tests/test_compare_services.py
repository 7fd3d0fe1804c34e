"""The figures of the dashboards: council dashboard, regional comparison, national view.

Returns are made through the returns services (open, assess, submit, sign off); the figures are
then checked against what was entered. The helpers here are shared by the other compare tests.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from tests.access_matrix import council
from tests.factories import make_user
from tests.returns_data import (
    LABEL,
    PREVIOUS_LABEL,
    assess,
    assess_all,
    close_period,
    open_period,
    sign_off,
    submit,
)
from tracker.compare import charts, services
from tracker.domain import visibility
from tracker.domain.principal import Principal, load_principal
from tracker.extensions import db
from tracker.models import Action, Assessment, Council, Period, Return, Role

LEEDS = "E08000035"
WAKEFIELD = "E08000036"
KIRKLEES = "E08000034"
BRADFORD = "E08000032"
YORK = "E06000014"
CORNWALL = "E06000052"
YORKSHIRE = (LEEDS, WAKEFIELD, KIRKLEES, BRADFORD, YORK)
COUNCILS = (*YORKSHIRE, CORNWALL)
IMPLEMENTING_AMBER = {"stage": "implementing", "rag": "amber", "narrative": "Mitigated"}
PLANNING_RED = {
    "stage": "planning",
    "rag": "red",
    "narrative": "Stalled",
    "next_steps": "Escalate",
    "barriers": ["legislation", "funding"],
}


@pytest.fixture(autouse=True)
def validated_charts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Build the charts here with plotly's property checks on (the app turns them off)."""
    monkeypatch.setattr(charts, "VALIDATE", True)


def period(label: str = LABEL) -> Period:
    found = db.session.scalar(select(Period).where(Period.label == label))
    assert found is not None
    return found


def first_codes(count: int) -> list[str]:
    return list(
        db.session.scalars(
            select(Action.code)
            .where(Action.parent_id.is_(None), Action.archived_at.is_(None))
            .order_by(Action.id)
            .limit(count)
        )
    )


def submitted_quarter(
    app: Flask,
    values_by_council: dict[str, dict[str, Any]],
    *,
    label: str = LABEL,
    only: tuple[str, ...] = COUNCILS,
    signed_off: tuple[str, ...] = (),
) -> None:
    """Open ``label`` for ``only``, give each council in ``values_by_council`` the same answers
    for every action, and submit those returns (and sign off ``signed_off``)."""
    open_period(app, label, only=only)
    for gss_code, values in values_by_council.items():
        assess_all(app, gss_code, values, label=label)
        submit(app, gss_code, label)
        if gss_code in signed_off:
            sign_off(app, gss_code, label)


def test_drafts_never_feed_the_medians_or_the_region(app):
    submitted_quarter(app, {WAKEFIELD: IMPLEMENTING_AMBER, KIRKLEES: IMPLEMENTING_AMBER})
    # Bradford and York only draft: every action Embedded, never submitted.
    assess_all(app, BRADFORD, {"stage": "embedded"})
    assess_all(app, YORK, {"stage": "embedded"})
    with app.app_context():
        comparison = services.region_comparison(council(LEEDS).region, period(), viewer=None)
        assert comparison.councils_reporting == 2
        assert comparison.aggregate_reason is not None
        assert all(m.value is None for m in comparison.medians.values())
        names = {row.council.gss_code: row for row in comparison.rows}
        assert names[BRADFORD].status is None and not names[BRADFORD].cells
        dashboard = services.council_dashboard(council(LEEDS), period())
        assert dashboard.status is None  # Leeds's return is a draft: not shown by default
        assert all(p.region.value is None for p in dashboard.positions)


def test_council_dashboard_counts_what_was_entered(app):
    open_period(app, PREVIOUS_LABEL, only=COUNCILS)
    assess_all(app, LEEDS, IMPLEMENTING_AMBER, label=PREVIOUS_LABEL)
    submit(app, LEEDS, PREVIOUS_LABEL)
    sign_off(app, LEEDS, PREVIOUS_LABEL)
    close_period(app, PREVIOUS_LABEL)
    submitted_quarter(app, {c: IMPLEMENTING_AMBER for c in (WAKEFIELD, KIRKLEES, BRADFORD, YORK)})
    with app.app_context():
        worse = first_codes(3)
    assess_all(app, LEEDS, {"stage": "embedded", "spend_types": "TS", "amount_pounds": 1000})
    assess(app, LEEDS, worse, PLANNING_RED)
    with app.app_context():
        draft = services.council_dashboard(council(LEEDS), period(), include_draft=True)
        total = db.session.scalar(
            select(Assessment.id).where(Assessment.return_id == _return_id(LEEDS)).limit(1)
        )
        assert total
        assert draft.is_draft
        assert draft.total == 140
        assert draft.stage_totals["embedded"] == 137
        assert draft.stage_totals["planning"] == 3
        assert draft.rag_totals["red"] == 3
        assert draft.since_last_quarter.compared_with.label == PREVIOUS_LABEL
        assert draft.since_last_quarter.counts["improved"] == 137
        assert draft.since_last_quarter.counts["worsened"] == 3
        assert [line.code for line in draft.red_or_worsened] == worse
        assert draft.red_or_worsened[0].barriers == ["Funding", "Legislation or national policy"]
        assert draft.red_or_worsened[0].narrative == "Stalled"
        funding = {f.spend_type: f for f in draft.funding}
        assert funding["T"].actions == 140 and funding["T"].pounds == 140_000
        assert funding["C"].actions == 0
        assert draft.funding_total == 140_000
        assert [p.period.label for p in draft.trend] == [PREVIOUS_LABEL, LABEL]
        assert draft.trend[0].advanced.percent == 100
        # Four other Yorkshire councils submitted: every area's regional median is 100%.
        assert all(p.region.value == 1.0 for p in draft.positions)
        assert all(p.nation.councils == 4 for p in draft.positions)
        for chart in charts.council_charts(draft):
            assert chart.title and chart.summary.endswith(".")
            assert chart.table.rows or chart.id in {"direction"}
            chart.figure_json()
        assert "137 of 140" in charts.stage_mix_by_area(draft).summary
        assert charts.position_against_medians(draft).summary == (
            "Against its region's median, Leeds is above in 0, level in 10 and below in 1 of the"
            " 11 areas where both can be shown."
        )


def _return_id(gss_code: str, label: str = LABEL) -> int:
    return db.session.scalar(
        select(Return.id)
        .join(Period, Period.id == Return.period_id)
        .join(Council, Council.id == Return.council_id)
        .where(Council.gss_code == gss_code, Period.label == label)
    )


def test_a_council_that_does_not_share_is_named_only_to_itself(app):
    submitted_quarter(app, {c: IMPLEMENTING_AMBER for c in YORKSHIRE}, signed_off=(LEEDS,))
    with app.app_context():
        db.session.execute(
            update(Council).where(Council.gss_code == YORK).values(shares_named_returns=False)
        )
        db.session.commit()
        region = council(LEEDS).region
        outside = services.region_comparison(region, period(), viewer=None)
        assert YORK not in {r.council.gss_code for r in outside.rows}
        assert outside.councils_reporting == 5
        # One unnamed council among four named ones: subtracting would reveal it.
        assert outside.unnamed_reporting == 1
        assert outside.aggregate_reason and "fewer than 3" in outside.aggregate_reason
        assert outside.distribution == []
        from tests.factories import make_user

        made = make_user(memberships=[(Role.COUNCIL_VIEWER, council(YORK))])
        from tracker.models import User

        york_viewer: Principal = load_principal(db.session.get(User, made.id))
        inside = services.region_comparison(region, period(), viewer=york_viewer)
        assert YORK in {r.council.gss_code for r in inside.rows}
        assert inside.aggregate_reason is None
        assert inside.medians["A01"].percent == 100


def test_national_view_counts_national_barriers_by_action(app):
    submitted_quarter(app, {c: IMPLEMENTING_AMBER for c in YORKSHIRE}, only=YORKSHIRE)
    with app.app_context():
        codes = first_codes(2)
    for gss_code in (LEEDS, WAKEFIELD, KIRKLEES):
        with app.app_context():
            db.session.execute(
                update(Assessment)
                .where(
                    Assessment.return_id == _return_id(gss_code),
                    Assessment.action_id.in_(select(Action.id).where(Action.code == codes[0])),
                )
                .values(barriers=["legislation"], rag="red")
            )
            db.session.commit()
    with app.app_context():
        view = services.national_view(period())
        assert view.councils_reporting == 5
        assert view.blocked[0].code == codes[0]
        assert view.blocked[0].councils == 3 and view.blocked[0].red == 3
        assert view.blocked[0].reporting == 5
        yorkshire = council(LEEDS).region
        assert view.cells[yorkshire.id]["A01"].share.percent == 100
        cornwall = council(CORNWALL).region
        assert view.cells[cornwall.id]["A01"].reason  # nobody reports there
        assert charts.national_heatmap(view).table.rows
        assert "3 of 5" in charts.national_barriers(view).summary


def test_aggregate_refusal_needs_three_and_no_lone_unnamed_council():
    assert visibility.aggregate_refusal(2, 0)
    assert visibility.aggregate_refusal(3, 0) is None
    assert visibility.aggregate_refusal(5, 1)
    assert visibility.aggregate_refusal(5, 2)
    assert visibility.aggregate_refusal(6, 3) is None


def test_a_year_ago_past_target_and_the_trend(app):
    year_ago = "2024-25 Q3"
    open_period(app, year_ago, only=COUNCILS)
    assess_all(app, LEEDS, {"stage": "planning", "rag": "green"}, label=year_ago)
    submit(app, LEEDS, year_ago)
    sign_off(app, LEEDS, year_ago)
    close_period(app, year_ago)
    open_period(app, only=COUNCILS)
    with app.app_context():
        late = first_codes(2)
    assess_all(app, LEEDS, IMPLEMENTING_AMBER)
    assess(
        app,
        LEEDS,
        late,
        {**IMPLEMENTING_AMBER, "target_stage": "embedded", "target_period": "2025-26 Q1"},
    )
    submit(app, LEEDS)
    with app.app_context():
        dashboard = services.council_dashboard(council(LEEDS), period())
        assert dashboard.status == "submitted"
        # No return for last quarter; a year ago, every action was at Planning.
        assert dashboard.since_last_quarter.compared_with is None
        assert dashboard.since_last_year.compared_with.label == year_ago
        assert dashboard.since_last_year.counts["improved"] == 140
        assert [line.code for line in dashboard.past_target] == late
        assert [p.period.label for p in dashboard.trend] == [year_ago, LABEL]
        assert [p.advanced.percent for p in dashboard.trend] == [0, 100]
        trend = charts.trend(dashboard)
        assert "from 0% (0 of 140) in 2024-25 Q3 to 100% (140 of 140)" in trend.summary
        direction = charts.direction_of_travel(dashboard)
        assert direction.summary == "There is no earlier quarter's return to compare with."
        assert direction.table.rows[0][0] == f"Since a year ago ({year_ago})"
        # Only four other councils could feed a median, and none has submitted.
        assert all(p.region.value is None and p.region.reason for p in dashboard.positions)


def test_periods_offered_are_those_with_something_to_show(app):
    submitted_quarter(app, {WAKEFIELD: IMPLEMENTING_AMBER})
    with app.app_context():
        assert services.list_periods(council=council(LEEDS)) == []
        assert [
            p.label for p in services.list_periods(council=council(LEEDS), include_drafts=True)
        ] == [LABEL]
        assert [p.label for p in services.list_periods(region=council(LEEDS).region)] == [LABEL]
        assert services.list_periods(region=council(CORNWALL).region) == []
        periods = services.list_periods()
        assert services.find_period(periods, None).label == LABEL
        assert services.find_period(periods, "2025-26-Q3").label == LABEL
        for bad in ("2025-26-Q4", "2025-26 Q3", "x" * 500, "2025-27-Q3", "'--"):
            assert services.find_period(periods, bad) is None, bad


def test_national_view_withholds_a_region_that_would_reveal_an_unnamed_council(app):
    submitted_quarter(app, {c: IMPLEMENTING_AMBER for c in YORKSHIRE}, only=YORKSHIRE)
    with app.app_context():
        yorkshire = council(LEEDS).region
        assert services.national_view(period()).cells[yorkshire.id]["A01"].reason is None
        db.session.execute(
            update(Council).where(Council.gss_code == YORK).values(shares_named_returns=False)
        )
        db.session.commit()
        cell = services.national_view(period()).cells[yorkshire.id]["A01"]
        assert cell.reason and cell.share.whole == 0


def test_a_chart_table_reads_as_header_and_rows_for_the_board_report():
    table = charts.Table(caption="c", head=["Area", "Count"], rows=[["1. Care", "3"]])
    header, rows = table
    assert header == ["Area", "Count"] and rows == [["1. Care", "3"]]
    assert table[0] == header and table[1] == rows


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_every_fill_keeps_text_on_it_readable_and_has_its_own_pattern():
    fills = [
        *(colour for colour, _pattern in charts.STAGE_STYLE.values()),
        *(colour for colour, _pattern in charts.RAG_STYLE.values()),
        *(colour for colour, _pattern in charts.DIRECTION_STYLE.values()),
        *charts.SHADES,
        *charts.SERIES_COLOURS,
    ]
    for fill in fills:
        assert _contrast(fill, charts.TEXT_COLOUR) >= 4.5, fill
    for styles in (charts.STAGE_STYLE, charts.RAG_STYLE, charts.DIRECTION_STYLE):
        patterns = [pattern for _colour, pattern in styles.values()]
        assert len(set(patterns)) == len(patterns)
    # The heatmap tables' shades (static/css/compare.css) are the charts' shades.
    from tracker.config import PROJECT_ROOT

    css = (PROJECT_ROOT / "static" / "css" / "compare.css").read_text()
    for step, colour in enumerate(charts.SHADES):
        assert f".tracker-shade--{step} {{ background-color: {colour}; }}" in css


def test_figures_follow_a_return_sent_back_and_resubmitted(app):
    """The period's figures are kept between requests; a change of any shared return shows."""
    submitted_quarter(app, {c: IMPLEMENTING_AMBER for c in (WAKEFIELD, KIRKLEES, BRADFORD)})
    from tests.returns_data import get_return
    from tracker.models import User
    from tracker.returns import services as returns

    with app.app_context():
        region = council(LEEDS).region
        assert services.region_comparison(region, period(), viewer=None).councils_reporting == 3
        assert services.national_view(period()).councils_reporting == 3
        approver = make_user(memberships=[(Role.COUNCIL_APPROVER, council(BRADFORD))])
        returns.send_back_return(
            get_return(BRADFORD), "Check area 3", actor=db.session.get(User, approver.id)
        )
        db.session.commit()
        assert services.region_comparison(region, period(), viewer=None).councils_reporting == 2
        assert services.national_view(period()).councils_reporting == 2
        dashboard = services.council_dashboard(council(LEEDS), period())
        assert all(p.region.value is None for p in dashboard.positions)
    assess_all(app, BRADFORD, {"stage": "embedded"})
    submit(app, BRADFORD)
    with app.app_context():
        comparison = services.region_comparison(council(LEEDS).region, period(), viewer=None)
        assert comparison.councils_reporting == 3
        bradford = comparison.row_for(BRADFORD)
        assert bradford.cell("A01").share.percent == 100
        assert bradford.cell("A01").amber == 0
