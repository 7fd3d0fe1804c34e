"""The dashboards' charts: one function per chart, each a plotly figure with its data table.

Every function takes a dataclass from :mod:`tracker.compare.services` and returns a
:class:`Chart`: a heading, a one-sentence summary written from the data (with its denominators),
the ``plotly.graph_objects.Figure``, and the same figures as a table of formatted strings. Pages
show the table always and draw the figure with ``static/js/charts.js`` when JavaScript runs; the
board report renders the same figure to SVG.

Colour never carries meaning alone: every series has a pattern and a legend name, bars carry
their numbers, and cells of the heatmaps carry their percentages. Fills are light enough for
near-black text (#0b0c0c) to keep a contrast above 4.5:1 on every one of them.
"""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import plotly.graph_objects as go

from tracker.compare.services import (
    AreaCounts,
    CouncilDashboard,
    NationalView,
    RegionComparison,
    RegionTrendPoint,
    Share,
    prevention_tier_counts,
)
from tracker.domain.vocabulary import (
    PREVENTION_TIER_LABELS,
    PREVENTION_TIER_SHORT,
    RAG_KEYS,
    RAG_LABELS,
    SPEND_NAMES,
    STAGE_KEYS,
    STAGE_LABELS,
    TIMEFRAME_KEYS,
    TIMEFRAME_LABELS,
    money,
)
from tracker.returns.queries import DIRECTION_NAMES, IMPROVED, UNCHANGED, WORSENED

TEXT_COLOUR = "#0b0c0c"
#: plotly checks every property as a figure is built, which costs more than the page's queries;
#: the tests build every chart with checking on (tests/test_compare_services.py)
VALIDATE = False
FONT = "Arial, Helvetica, sans-serif"
#: light fills, each ≥ 4.5:1 against TEXT_COLOUR, each with its own pattern
STAGE_STYLE = {
    "not_started": ("#e5e4e3", ""),
    "planning": ("#cbbde6", "/"),
    "implementing": ("#9cc3e6", "."),
    "embedded": ("#8ccfc4", "x"),
    "not_applicable": ("#f8f8f8", "-"),
    "none": ("#ffffff", "+"),
}
RAG_STYLE = {
    "red": ("#f2a19b", "x"),
    "amber": ("#ffd27f", "/"),
    "green": ("#93d2a8", ""),
    "none": ("#ffffff", "+"),
}
DIRECTION_STYLE = {
    IMPROVED: ("#93d2a8", ""),
    UNCHANGED: ("#e5e4e3", "/"),
    WORSENED: ("#f2a19b", "x"),
}
SERIES_COLOURS = ["#6ea5d7", "#cbbde6", "#ffd27f"]
SERIES_PATTERNS = ["", "/", "x"]


@dataclass(frozen=True)
class Table:
    """A chart's data as a table: caption, header row and body rows of formatted strings.

    The first cell of each row is its heading (``<th scope="row">``)."""

    caption: str
    head: list[str]
    rows: list[list[str]]
    #: indexes of the columns that hold numbers (aligned right)
    numeric: tuple[int, ...] = ()
    #: per row, per cell: a CSS class for a shaded cell (heatmaps), or ""
    shades: list[list[str]] = field(default_factory=list)

    # The board report's renderer (tracker/reports) reads a table as (header row, body rows):
    # ``header, rows = chart.table`` and ``chart.table[0]`` work on this one too.
    def __iter__(self):
        return iter((self.head, self.rows))

    def __getitem__(self, index: int) -> list:
        return (self.head, self.rows)[index]


@dataclass(frozen=True)
class Chart:
    """One chart: heading, one-sentence summary, plotly figure and its data table."""

    id: str
    title: str
    summary: str
    figure: go.Figure
    table: Table

    def figure_json(self) -> dict[str, Any]:
        """The figure as plain JSON data (for ``tojson`` in a page)."""
        return json.loads(self.figure.to_json())


def _figure(
    traces: list,
    *,
    height: int = 420,
    xaxis: dict[str, Any] | None = None,
    yaxis: dict[str, Any] | None = None,
    **extra: Any,
) -> go.Figure:
    """The figure with our layout, built in one go (plotly's update methods are slow)."""
    layout = {
        "template": "none",
        "font": {"family": FONT, "color": TEXT_COLOUR, "size": 14},
        "height": height,
        "margin": {"l": 20, "r": 20, "t": 20, "b": 40},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        # Above the plot: below it, the legend crowded the x-axis title.
        "legend": {
            "orientation": "h",
            "x": 0,
            "xanchor": "left",
            "y": 1.02,
            "yanchor": "bottom",
            "traceorder": "normal",
        },
        "xaxis": {"automargin": True, **(xaxis or {})},
        "yaxis": {"automargin": True, **(yaxis or {})},
        **extra,
    }
    return go.Figure(data=traces, layout=layout, _validate=VALIDATE)


def _bar(name: str, x: list, y: list, style: tuple[str, str], **extra: Any) -> go.Bar:
    colour, pattern = style
    return go.Bar(
        _validate=VALIDATE,
        name=name,
        x=x,
        y=y,
        marker={
            "color": colour,
            "line": {"color": TEXT_COLOUR, "width": 1},
            "pattern": {
                "shape": pattern,
                "bgcolor": colour,
                "fgcolor": TEXT_COLOUR,
                "size": 7,
                "solidity": 0.12,
            },
        },
        textfont={"color": TEXT_COLOUR},
        **extra,
    )


#: the five steps of the share scale (0–19%, 20–39% … 80–100%), as in static/css/compare.css
SHADES = ["#f3f2f1", "#dbe6f0", "#b7d3ec", "#93bce2", "#6ea5d7"]


def _tiles(
    values: list[list[int | None]],
    labels: list[list[str]],
    columns: list[str],
    rows: list[str],
    *,
    height: int,
    width: int | None = None,
    tick_size: int | None = None,
) -> go.Figure:
    """A heatmap drawn as SVG rectangles with their numbers on them.

    Not plotly's heatmap trace: that paints a canvas into a data: image, which the pages' CSP
    refuses. The fills are the five steps of the share scale; an empty cell is white.
    """
    traces = []
    shapes = []
    xs, ys, texts = [], [], []
    for y, (row_values, row_labels) in enumerate(zip(values, labels, strict=True)):
        for x, (value, label) in enumerate(zip(row_values, row_labels, strict=True)):
            fill = "#ffffff" if value is None else SHADES[min(int(value) // 20, 4)]
            shapes.append(
                {
                    "type": "rect",
                    "x0": x - 0.48,
                    "x1": x + 0.48,
                    "y0": y - 0.46,
                    "y1": y + 0.46,
                    "fillcolor": fill,
                    "line": {"color": "#b1b4b6", "width": 1},
                    "layer": "below",
                }
            )
            xs.append(x)
            ys.append(y)
            texts.append(label)
    traces.append(
        go.Scatter(
            _validate=VALIDATE,
            x=xs,
            y=ys,
            mode="text",
            text=texts,
            textfont={"color": TEXT_COLOUR, "size": 13},
            showlegend=False,
            hoverinfo="skip",
        )
    )
    return _figure(
        traces,
        height=height,
        showlegend=False,
        shapes=shapes,
        **({"width": width} if width else {}),
        xaxis={
            "tickvals": list(range(len(columns))),
            "ticktext": columns,
            "side": "top",
            "showgrid": False,
            "zeroline": False,
            "range": [-0.5, len(columns) - 0.5],
            **({"tickfont": {"size": tick_size}, "tickangle": 0} if tick_size else {}),
        },
        yaxis={
            "tickvals": list(range(len(rows))),
            "ticktext": rows,
            "showgrid": False,
            "zeroline": False,
            "range": [len(rows) - 0.5, -0.5],
        },
    )


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def _against(pairs: list[tuple[Share, Any]]) -> str:
    """The shares against the medians, as the whole percentages shown: "above in 3, level in 5
    and below in 2 of the 10 areas"."""
    above = sum(1 for s, m in pairs if round((s.ratio or 0) * 100) > round(m.value * 100))
    below = sum(1 for s, m in pairs if round((s.ratio or 0) * 100) < round(m.value * 100))
    level = len(pairs) - above - below
    return f"above in {above}, level in {level} and below in {below} of the {len(pairs)} areas"


def _pct(share: Share) -> str:
    return "–" if share.percent is None else f"{share.percent}%"


def shade_class(percent: int | None) -> str:
    """The CSS class of a heatmap cell: five steps of the share scale."""
    if percent is None:
        return "tracker-shade--none"
    return f"tracker-shade--{min(percent // 20, 4)}"


# -- the council dashboard --------------------------------------------------------------------


def _stacked_area_bars(
    areas: list[AreaCounts],
    counts: list[Counter[str]],
    keys: Sequence[str],
    names: dict[str, str],
    styles: dict[str, Any],
    axis_title: str,
) -> go.Figure:
    """Horizontal stacked bars, one per area, one series per key that any area has."""
    labels = [a.area.short_label for a in areas]
    traces = []
    for key in keys:
        values = [c[key] for c in counts]
        if not any(values):
            continue
        traces.append(
            _bar(
                names[key],
                values,
                labels,
                styles[key],
                orientation="h",
                text=[v or "" for v in values],
                textposition="inside",
            )
        )
    return _figure(
        traces,
        height=120 + 36 * max(len(areas), 1),
        barmode="stack",
        yaxis={"autorange": "reversed"},
        xaxis={"title": {"text": axis_title}},
    )


def stage_mix_by_area(dashboard: CouncilDashboard) -> Chart:
    """Stacked bars: each area's actions by stage."""
    areas = [a for a in dashboard.areas if a.total]
    figure = _stacked_area_bars(
        areas, [a.stages for a in areas], STAGE_KEYS, STAGE_LABELS, STAGE_STYLE, "Actions"
    )
    advanced = dashboard.advanced
    summary = (
        f"{advanced.part} of {advanced.whole} applicable actions "
        f"({_pct(advanced)}) are at Implementing or Embedded."
        if advanced.whole
        else "There are no actions to show for this quarter."
    )
    return Chart(
        id="stage-mix",
        title="Stage of each area's actions",
        summary=summary,
        figure=figure,
        table=Table(
            caption="Actions by area and stage",
            head=["Area", *(STAGE_LABELS[k] for k in STAGE_KEYS), "Total"],
            rows=[
                [a.area.label, *(str(a.stages[k]) for k in STAGE_KEYS), str(a.total)]
                for a in dashboard.areas
            ],
            numeric=tuple(range(1, len(STAGE_KEYS) + 2)),
        ),
    )


def rag_by_area(dashboard: CouncilDashboard) -> Chart:
    """Stacked bars: RAG ratings of each area's actions at Planning or Implementing."""
    areas = [a for a in dashboard.areas if sum(a.rags.values())]
    figure = _stacked_area_bars(
        areas,
        [a.rags for a in areas],
        RAG_KEYS,
        RAG_LABELS,
        RAG_STYLE,
        "Actions at Planning or Implementing",
    )
    totals = dashboard.rag_totals
    rated = sum(totals.values())
    summary = (
        f"Of {_plural(rated, 'action')} at Planning or Implementing, {totals['red']} "
        f"{'is' if totals['red'] == 1 else 'are'} Red, {totals['amber']} Amber and "
        f"{totals['green']} Green."
        if rated
        else "No actions are at Planning or Implementing, so none has a RAG rating."
    )
    return Chart(
        id="rag-mix",
        title="RAG rating of each area's actions",
        summary=summary,
        figure=figure,
        table=Table(
            caption="Actions at Planning or Implementing by area and RAG rating",
            head=["Area", *(RAG_LABELS[k] for k in RAG_KEYS), "Total"],
            rows=[
                [a.area.label, *(str(a.rags[k]) for k in RAG_KEYS), str(sum(a.rags.values()))]
                for a in dashboard.areas
            ],
            numeric=tuple(range(1, len(RAG_KEYS) + 2)),
        ),
    )


def progress_by_timeframe(dashboard: CouncilDashboard) -> Chart:
    """Stacked bars: short-, medium- and long-term actions by stage."""
    keys = [k for k in TIMEFRAME_KEYS if sum(dashboard.timeframes[k].values())]
    labels = [TIMEFRAME_LABELS[k] for k in keys]
    traces = []
    for stage in STAGE_KEYS:
        values = [dashboard.timeframes[k][stage] for k in keys]
        if not any(values):
            continue
        traces.append(
            _bar(
                STAGE_LABELS[stage],
                labels,
                values,
                STAGE_STYLE[stage],
                text=[v or "" for v in values],
                textposition="inside",
            )
        )
    figure = _figure(traces, barmode="stack", yaxis={"title": {"text": "Actions"}})
    short = dashboard.timeframes["short"]
    short_total = sum(short.values()) - short["not_applicable"]
    short_done = short["implementing"] + short["embedded"]
    summary = (
        f"{short_done} of {short_total} applicable short-term actions are at Implementing or "
        "Embedded."
        if short_total
        else "There are no applicable short-term actions to show."
    )
    return Chart(
        id="timeframes",
        title="Progress by timeframe",
        summary=summary,
        figure=figure,
        table=Table(
            caption="Actions by timeframe and stage",
            head=["Timeframe", *(STAGE_LABELS[k] for k in STAGE_KEYS), "Total"],
            rows=[
                [
                    TIMEFRAME_LABELS[t],
                    *(str(dashboard.timeframes[t][k]) for k in STAGE_KEYS),
                    str(sum(dashboard.timeframes[t].values())),
                ]
                for t in keys
            ],
            numeric=tuple(range(1, len(STAGE_KEYS) + 2)),
        ),
    )


def progress_by_prevention_tier(dashboard: CouncilDashboard) -> Chart:
    """Stacked bars: the council's actions that prevent, reduce or delay needs (and those with
    no tier), by stage."""
    return _prevention_tiers(dashboard.prevention_tiers, unit="Actions")


def region_prevention_tiers(comparison: RegionComparison) -> Chart:
    """The region's reporting councils' actions by prevention tier and stage, pooled."""
    return _prevention_tiers(
        prevention_tier_counts(comparison.distribution),
        unit="Councils' actions",
        whose=f"the {comparison.councils_reporting} councils reporting in {comparison.region.name}",
    )


def national_prevention_tiers(view: NationalView) -> Chart:
    """Every reporting council's actions by prevention tier and stage, pooled."""
    return _prevention_tiers(
        view.prevention_tiers,
        unit="Councils' actions",
        whose=f"the {view.councils_reporting} councils reporting in England",
    )


def _prevention_tiers(
    tiers: dict[str, Counter[str]], *, unit: str, whose: str | None = None
) -> Chart:
    """Stacked bars of ``tiers`` (prevention tier key → counts by stage), one home for the
    council's, the region's and the nation's chart; ``whose`` names the councils pooled."""
    tiers = {key: tiers.get(key, Counter()) for key in PREVENTION_TIER_LABELS}
    keys = [k for k in PREVENTION_TIER_LABELS if sum(tiers[k].values())]
    labels = [PREVENTION_TIER_LABELS[k] for k in keys]
    traces = []
    for stage in STAGE_KEYS:
        values = [tiers[k][stage] for k in keys]
        if not any(values):
            continue
        traces.append(
            _bar(
                STAGE_LABELS[stage],
                labels,
                values,
                STAGE_STYLE[stage],
                text=[v or "" for v in values],
                textposition="inside",
            )
        )
    figure = _figure(traces, barmode="stack", yaxis={"title": {"text": unit}})
    parts = []
    for key in PREVENTION_TIER_SHORT:
        counts = tiers[key]
        applicable = sum(counts.values()) - counts["not_applicable"]
        if applicable:
            done = counts["implementing"] + counts["embedded"]
            parts.append(f"{PREVENTION_TIER_SHORT[key]}: {done} of {applicable}")
    pooled = f" Added up over {whose}." if whose else ""
    summary = (
        "Applicable actions at Implementing or Embedded, by prevention tier: "
        + "; ".join(parts)
        + "."
        + pooled
        if parts
        else "There are no applicable actions with a prevention tier to show."
    )
    return Chart(
        id="prevention",
        title="Progress by prevention tier",
        summary=summary,
        figure=figure,
        table=Table(
            caption=f"{unit} by prevention tier and stage",
            head=["Prevention tier", *(STAGE_LABELS[k] for k in STAGE_KEYS), "Total"],
            rows=[
                [
                    PREVENTION_TIER_LABELS[t],
                    *(str(tiers[t][k]) for k in STAGE_KEYS),
                    str(sum(tiers[t].values())),
                ]
                for t in keys
            ],
            numeric=tuple(range(1, len(STAGE_KEYS) + 2)),
        ),
    )


def direction_of_travel(dashboard: CouncilDashboard) -> Chart:
    """Grouped bars: improved, unchanged and worsened since last quarter and a year ago."""
    columns = []
    for name, direction in (
        ("Since last quarter", dashboard.since_last_quarter),
        ("Since a year ago", dashboard.since_last_year),
    ):
        if direction.compared_with is not None and direction.total:
            columns.append((f"{name} ({direction.compared_with.label})", direction))
    traces = []
    for key in (IMPROVED, UNCHANGED, WORSENED):
        values = [d.counts[key] for _n, d in columns]
        traces.append(
            _bar(
                DIRECTION_NAMES[key],
                [n for n, _d in columns],
                values,
                DIRECTION_STYLE[key],
                text=values,
                textposition="outside",
            )
        )
    figure = _figure(traces, barmode="group", yaxis={"title": {"text": "Actions"}})
    last = dashboard.since_last_quarter
    if last.compared_with is not None and last.total:
        summary = (
            f"Since {last.compared_with.label}, {last.counts[IMPROVED]} of {last.total} actions "
            f"improved, {last.counts[UNCHANGED]} stayed the same and {last.counts[WORSENED]} "
            "worsened."
        )
    else:
        summary = "There is no earlier quarter's return to compare with."
    rows = [
        [
            n,
            str(d.counts[IMPROVED]),
            str(d.counts[UNCHANGED]),
            str(d.counts[WORSENED]),
            str(d.total - d.comparable),
            str(d.total),
        ]
        for n, d in columns
    ]
    return Chart(
        id="direction",
        title="Direction of travel",
        summary=summary,
        figure=figure,
        table=Table(
            caption="Actions by direction of travel",
            head=["Compared with", "Improved", "Unchanged", "Worsened", "Not comparable", "Total"],
            rows=rows,
            numeric=(1, 2, 3, 4, 5),
        ),
    )


def trend(dashboard: CouncilDashboard) -> Chart:
    """A line: the share of actions at Implementing or Embedded over the last eight quarters."""
    points = dashboard.trend
    labels = [p.period.label for p in points]
    values = [p.advanced.percent for p in points]
    trace = go.Scatter(
        _validate=VALIDATE,
        x=labels,
        y=values,
        mode="lines+markers+text",
        text=[f"{v}%" if v is not None else "" for v in values],
        textposition="top center",
        name="At Implementing or Embedded",
        line={"color": "#1d70b8", "width": 3},
        marker={"size": 9, "symbol": "circle", "color": "#1d70b8"},
    )
    figure = _figure(
        [trace],
        showlegend=False,
        yaxis={"title": {"text": "Per cent of applicable actions"}, "range": [0, 105]},
    )
    if len(points) >= 2:
        first, last = points[0], points[-1]
        summary = (
            f"The share at Implementing or Embedded went from {first.advanced} in "
            f"{first.period.label} to {last.advanced} in {last.period.label}."
        )
    elif points:
        summary = f"Only one quarter to show: {points[0].advanced} in {points[0].period.label}."
    else:
        summary = "There are no quarters to show."
    return Chart(
        id="trend",
        title="Trend over the last eight quarters",
        summary=summary,
        figure=figure,
        table=Table(
            caption="Actions at Implementing or Embedded, by quarter",
            head=["Quarter", "Status", "At Implementing or Embedded", "Applicable actions", "%"],
            rows=[
                [
                    p.period.label,
                    {"draft": "Draft", "submitted": "Submitted", "signed_off": "Signed off"}.get(
                        p.status, p.status
                    ),
                    str(p.advanced.part),
                    str(p.advanced.whole),
                    _pct(p.advanced),
                ]
                for p in points
            ],
            numeric=(2, 3, 4),
        ),
    )


def funding_by_spend_type(dashboard: CouncilDashboard) -> Chart:
    """Bars: pounds recorded by type of spend, with the number of actions."""
    labels = [SPEND_NAMES[f.spend_type] for f in dashboard.funding]
    pounds = [f.pounds for f in dashboard.funding]
    trace = _bar(
        "Funding used",
        labels,
        pounds,
        ("#9cc3e6", ""),
        text=[money(p) for p in pounds],
        textposition="outside",
    )
    figure = _figure(
        [trace],
        showlegend=False,
        yaxis={"title": {"text": "Pounds"}, "tickprefix": "£", "separatethousands": True},
    )
    actions = sum(f.actions for f in dashboard.funding)
    summary = (
        f"{money(dashboard.funding_total)} of funding used is recorded on this return; "
        f"{_plural(actions, 'type of spend')} recorded across its actions."
        if actions or dashboard.funding_total
        else "No funding used is recorded on this return."
    )
    return Chart(
        id="funding",
        title="Funding used by type of spend",
        summary=summary,
        figure=figure,
        table=Table(
            caption="Funding used by type of spend (an amount recorded against several types "
            "counts under each)",
            head=["Type of spend", "Actions", "Amount"],
            rows=[
                [SPEND_NAMES[f.spend_type], str(f.actions), money(f.pounds)]
                for f in dashboard.funding
            ],
            numeric=(1, 2),
        ),
    )


def _share_bars(labels: list[str], series: list[tuple[str, list[Any]]]) -> go.Figure:
    """Grouped bars of per-cent shares by area: the council first, then the medians."""
    traces = [
        _bar(name, labels, values, (SERIES_COLOURS[index], SERIES_PATTERNS[index]))
        for index, (name, values) in enumerate(series)
    ]
    return _figure(
        traces,
        barmode="group",
        yaxis={"title": {"text": "Per cent at Implementing or Embedded"}, "range": [0, 110]},
    )


def position_against_medians(dashboard: CouncilDashboard) -> Chart:
    """Grouped bars: the council's share per area beside its region's and the nation's medians."""
    positions = dashboard.positions
    labels = [p.area.short_label for p in positions]
    series = [
        (dashboard.council.short_name, [p.council.percent for p in positions]),
        ("Regional median", [p.region.percent for p in positions]),
        ("National median", [p.nation.percent for p in positions]),
    ]
    figure = _share_bars(labels, series)
    with_region = [
        (p.council, p.region) for p in positions if p.region.value is not None and p.council.whole
    ]
    if with_region:
        summary = (
            f"Against its region's median, {dashboard.council.short_name} is "
            f"{_against(with_region)} where both can be shown."
        )
    else:
        reason = positions[0].region.reason if positions else None
        summary = "The regional median cannot be shown" + (
            f": {reason[len('Not shown: ') :]}." if reason else "."
        )
    return Chart(
        id="position",
        title="Where the council sits against its region and the nation",
        summary=summary,
        figure=figure,
        table=Table(
            caption="Share of actions at Implementing or Embedded, by area",
            head=["Area", dashboard.council.short_name, "Regional median", "National median"],
            rows=[[p.area.label, str(p.council), str(p.region), str(p.nation)] for p in positions],
            numeric=(),
        ),
    )


def council_charts(dashboard: CouncilDashboard) -> list[Chart]:
    """Every chart of the council dashboard, in the order of the page."""
    return [
        stage_mix_by_area(dashboard),
        rag_by_area(dashboard),
        progress_by_timeframe(dashboard),
        progress_by_prevention_tier(dashboard),
        direction_of_travel(dashboard),
        trend(dashboard),
        funding_by_spend_type(dashboard),
        position_against_medians(dashboard),
    ]


# -- the regional comparison ------------------------------------------------------------------


def _wrapped(label: str, width: int) -> str:
    """A long label (an area's name) broken into lines for an axis (plotly's ``<br>``)."""
    return "<br>".join(textwrap.wrap(label, width)) or label


def region_heatmap(comparison: RegionComparison, *, width: int | None = None) -> Chart:
    """Councils × areas: the share at Implementing or Embedded, number in every cell. The
    columns carry the areas' names ("1. Reimagine care and support …"), not their numbers.

    :param width: the figure's width in pixels (the pack draws it for a landscape page); None
        lets the page size it.
    """
    areas = comparison.areas
    rows = [r for r in comparison.rows if r.has_return]
    names = [r.council.short_name for r in rows]
    z, text = [], []
    for row in rows:
        shares = [row.cell(a.key).share for a in areas]
        z.append([s.percent for s in shares])
        text.append([f"{s.percent}%" if s.percent is not None else "–" for s in shares])
    if comparison.aggregate_reason is None:
        medians = [comparison.medians[a.key] for a in areas]
        names.append("Regional median")
        z.append([m.percent for m in medians])
        text.append([f"{m.percent}%" if m.percent is not None else "–" for m in medians])
    figure = _tiles(
        z,
        text,
        [_wrapped(a.label, 15) for a in areas],
        names,
        height=220 + 28 * max(len(names), 1),
        width=width,
        tick_size=11,
    )
    named, unnamed = len(rows), comparison.unnamed_reporting
    summary = (
        f"{comparison.councils_reporting} of {comparison.councils_in_region} councils in "
        f"{comparison.region.name} have submitted a return for {comparison.period.label}; "
        f"{named} {'is' if named == 1 else 'are'} named here"
        + (
            f" and {unnamed} {'is' if unnamed == 1 else 'are'} counted in the regional figures"
            " only."
            if unnamed
            else "."
        )
    )
    table_rows, shades = [], []
    for row in comparison.rows:
        if not row.has_return:
            # Said once, in the row's first cell: not in every area's.
            table_rows.append([row.council.short_name, "Not submitted", *("" for _a in areas)])
            shades.append(["", *("" for _a in areas), ""])
            continue
        cells = [row.cell(a.key) for a in areas]
        table_rows.append(
            [
                row.council.short_name,
                f"{_pct(row.overall)} ({row.overall.part} of {row.overall.whole})",
                *(f"{_pct(c.share)} ({c.advanced} of {c.applicable}). {c.rag_text}" for c in cells),
            ]
        )
        shades.append(
            ["", shade_class(row.overall.percent), *(shade_class(c.share.percent) for c in cells)]
        )
    if comparison.aggregate_reason is None:
        medians = [comparison.medians[a.key] for a in areas]
        table_rows.append(
            [
                "Regional median",
                f"Of {comparison.councils_reporting} councils",
                *("–" if m.percent is None else f"{m.percent}%" for m in medians),
            ]
        )
        shades.append(["", "", *(shade_class(m.percent) for m in medians)])
    return Chart(
        id="heatmap",
        title="Councils by area",
        summary=summary,
        figure=figure,
        table=Table(
            caption="Share of each council's actions at Implementing or Embedded, and RAG mix, "
            "by area",
            head=["Council", "All areas", *(a.label for a in areas)],
            rows=table_rows,
            shades=shades,
        ),
    )


def action_distribution(comparison: RegionComparison, *, width: int | None = None) -> Chart:
    """Stacked bars, one per area (named): the stage of the area's actions over every reporting
    council, as shares of them. Replaces a bar per action (140 of them), which nobody could
    read; the pack lists the actions furthest on and least far on by title instead."""
    by_area: dict[str, Counter[str]] = {}
    for item in comparison.distribution:
        by_area.setdefault(item.area, Counter()).update(item.stages)
    labels = list(by_area)
    keys = [*STAGE_KEYS, "none"]
    names = {**STAGE_LABELS, "none": "Not assessed"}
    totals = [sum(c.values()) for c in by_area.values()]
    traces = []
    for key in keys:
        counts = [by_area[label][key] for label in labels]
        if not any(counts):
            continue
        shares = [round(100 * n / t) if t else 0 for n, t in zip(counts, totals, strict=True)]
        traces.append(
            _bar(
                names[key],
                shares,
                [_wrapped(label, 30) for label in labels],
                STAGE_STYLE[key],
                orientation="h",
                text=[f"{v}%" if v >= 5 else "" for v in shares],
                textposition="inside",
                insidetextanchor="middle",
            )
        )
    figure = _figure(
        traces,
        height=160 + 52 * max(len(labels), 1),
        barmode="stack",
        yaxis={"autorange": "reversed", "tickfont": {"size": 12}},
        xaxis={"title": {"text": "Per cent of the councils' actions"}, "range": [0, 100]},
        # Room for the areas' names however the SVG's text is measured (the PDF's fonts differ
        # from the browser's a little): plotly's automargin alone cut their first letters.
        margin={"l": 250, "r": 20, "t": 20, "b": 40},
        **({"width": width} if width else {}),
    )
    advanced = {
        label: Share(c["implementing"] + c["embedded"], sum(c.values()) - c["not_applicable"])
        for label, c in by_area.items()
    }
    if advanced:
        ranked = sorted(advanced.items(), key=lambda item: item[1].ratio or 0)
        (low, low_share), (high, high_share) = ranked[0], ranked[-1]
        summary = (
            f"Over the {comparison.councils_reporting} reporting councils, the share of actions "
            f"at Implementing or Embedded ranges from {low_share} in {low} to {high_share} in "
            f"{high}."
        )
    else:
        summary = comparison.aggregate_reason or "There are no actions to show."
    return Chart(
        id="distribution",
        title="Stage of each area's actions across the region's councils",
        summary=summary,
        figure=figure,
        table=Table(
            caption="The reporting councils' actions at each stage, by area",
            head=[
                "Area",
                *(names[k] for k in keys),
                "Actions (all councils)",
                "At Implementing or Embedded",
            ],
            rows=[
                [
                    label,
                    *(str(by_area[label][k]) for k in keys),
                    str(total),
                    _pct(advanced[label]),
                ]
                for label, total in zip(labels, totals, strict=True)
            ],
            numeric=tuple(range(1, len(keys) + 3)),
        ),
    )


def region_trend(points: Sequence[RegionTrendPoint], region_name: str) -> Chart:
    """Lines over the quarters: the region's share of actions at Implementing or Embedded and
    the share of RAG ratings that are Red, pooled over the councils reporting each quarter. A
    quarter whose figures may not be shown is a gap (said once, under the table)."""
    # "2025-26<br>Q3": eight quarters' labels side by side ran into each other on one line.
    labels = [p.period.label.replace(" ", "<br>") for p in points]
    advanced = [p.advanced.percent if p.advanced else None for p in points]
    red = [p.red.percent if p.red else None for p in points]
    traces = [
        go.Scatter(
            _validate=VALIDATE,
            x=labels,
            y=values,
            mode="lines+markers+text",
            text=[f"{v}%" if v is not None else "" for v in values],
            textposition=position,
            name=name,
            line={"color": colour, "width": 3, "dash": dash},
            marker={"size": 9, "symbol": symbol, "color": colour},
            textfont={"color": TEXT_COLOUR},
            connectgaps=False,
        )
        for values, name, colour, dash, symbol, position in (
            (
                advanced,
                "Actions at Implementing or Embedded",
                "#1d70b8",
                "solid",
                "circle",
                "top center",
            ),
            (red, "RAG ratings that are Red", "#d4351c", "dash", "square", "bottom center"),
        )
    ]
    figure = _figure(
        traces, yaxis={"title": {"text": "Per cent"}, "range": [0, 105]}, xaxis={"type": "category"}
    )
    shown = [p for p in points if p.advanced is not None]
    if len(shown) >= 2:
        first, last = shown[0], shown[-1]
        summary = (
            f"In {region_name}, the share of actions at Implementing or Embedded went from "
            f"{first.advanced} in {first.period.label} ({first.councils_reporting} councils "
            f"reporting) to {last.advanced} in {last.period.label} ({last.councils_reporting} "
            "councils reporting)."
        )
    elif shown:
        summary = (
            f"Only one quarter can be shown: {shown[0].advanced} of actions at Implementing or "
            f"Embedded in {shown[0].period.label}."
        )
    else:
        summary = "No quarter has enough councils reporting to show regional figures."

    def share(value: Share | None) -> list[str]:
        return ["–", "–"] if value is None else [f"{value.part} of {value.whole}", _pct(value)]

    return Chart(
        id="trend",
        title="The region quarter by quarter",
        summary=summary,
        figure=figure,
        table=Table(
            caption="The region by quarter, pooled over the councils reporting",
            head=[
                "Quarter",
                "Councils reporting",
                "At Implementing or Embedded",
                "%",
                "Red ratings",
                "%",
            ],
            rows=[
                [
                    p.period.label,
                    f"{p.councils_reporting} of {p.councils_in_region}",
                    *share(p.advanced),
                    *share(p.red),
                ]
                for p in points
            ],
            numeric=(1, 2, 3, 4, 5),
        ),
    )


def council_position(comparison: RegionComparison, gss_code: str | None) -> Chart | None:
    """Grouped bars: one named council's share per area beside the regional median."""
    row = comparison.row_for(gss_code)
    if row is None or not row.has_return:
        return None
    areas = comparison.areas
    mine = [row.cell(a.key).share for a in areas]
    medians = [comparison.medians[a.key] for a in areas]
    figure = _share_bars(
        [a.short_label for a in areas],
        [
            (row.council.short_name, [s.percent for s in mine]),
            ("Regional median", [m.percent for m in medians]),
        ],
    )
    both = [(s, m) for s, m in zip(mine, medians, strict=True) if m.value is not None and s.whole]
    if both:
        summary = f"Against the regional median, {row.council.short_name} is {_against(both)}."
    else:
        summary = comparison.aggregate_reason or "The regional median cannot be shown."
    return Chart(
        id="council-position",
        title=f"{row.council.short_name} against the regional median",
        summary=summary,
        figure=figure,
        table=Table(
            caption=f"{row.council.short_name} and the regional median, by area",
            head=["Area", row.council.short_name, "Regional median"],
            rows=[[a.label, str(s), str(m)] for a, s, m in zip(areas, mine, medians, strict=True)],
        ),
    )


# -- the national view ------------------------------------------------------------------------


def national_heatmap(view: NationalView) -> Chart:
    """Regions × areas: the pooled share at Implementing or Embedded, number in every cell."""
    areas = view.areas
    z, text, table_rows, shades = [], [], [], []
    for region in view.regions:
        cells = [view.cells[region.id][a.key] for a in areas]
        z.append([None if c.reason else c.share.percent for c in cells])
        text.append(["n/a" if c.reason else _pct(c.share) for c in cells])
        reporting = view.reporting[region.id]
        table_rows.append(
            [
                region.name,
                str(reporting),
                *(
                    "Not shown" if c.reason else f"{_pct(c.share)} ({c.advanced} of {c.applicable})"
                    for c in cells
                ),
            ]
        )
        shades.append(
            ["", "", *(shade_class(None if c.reason else c.share.percent) for c in cells)]
        )
    figure = _tiles(
        z,
        text,
        [a.short_label for a in areas],
        [r.name for r in view.regions],
        height=180 + 36 * len(view.regions),
    )
    shown = sum(1 for r in view.regions if not any(c.reason for c in view.cells[r.id].values()))
    summary = (
        f"{view.councils_reporting} councils have submitted a return for {view.period.label}; "
        f"{shown} of {len(view.regions)} regions are shown (a region is shown when its figures "
        "cover at least three councils and would reveal no council that is not named)."
    )
    return Chart(
        id="regions",
        title="Regions by area",
        summary=summary,
        figure=figure,
        table=Table(
            caption="Share of actions at Implementing or Embedded, by region and area "
            "(all reporting councils' actions pooled)",
            head=["Region", "Councils reporting", *(a.label for a in areas)],
            rows=table_rows,
            numeric=(1,),
            shades=shades,
        ),
    )


def national_barriers(view: NationalView) -> Chart:
    """Horizontal bars: the actions most often recorded as blocked by national barriers."""
    items = view.blocked
    trace = _bar(
        "Councils recording the barrier",
        [b.councils for b in items],
        [b.code for b in items],
        ("#f2a19b", "x"),
        orientation="h",
        text=[b.councils for b in items],
        textposition="outside",
    )
    figure = _figure(
        [trace],
        height=140 + 30 * max(len(items), 1),
        showlegend=False,
        yaxis={"autorange": "reversed"},
        xaxis={"title": {"text": "Councils"}},
    )
    if items:
        top = items[0]
        later = view.blocked_by_timeframe["medium"] + view.blocked_by_timeframe["long"]
        every = sum(view.blocked_by_timeframe.values())
        summary = (
            f"{top.code} is most often blocked by legislation or national policy "
            f"({top.councils} of {top.reporting} reporting councils); {later} of {every} such "
            "records are against medium- and long-term actions."
        )
    else:
        summary = (
            view.aggregate_reason
            or "No council recorded legislation or national policy as a barrier this quarter."
        )
    return Chart(
        id="national-barriers",
        title="Actions most often blocked by legislation or national policy",
        summary=summary,
        figure=figure,
        table=Table(
            caption="Councils recording legislation or national policy as a barrier, by action",
            head=["Action", "Area", "Timeframe", "Councils", "Of which Red", "Councils reporting"],
            rows=[
                [
                    b.code,
                    b.area,
                    TIMEFRAME_LABELS.get(b.timeframe or "none", ""),
                    str(b.councils),
                    str(b.red),
                    str(b.reporting),
                ]
                for b in items
            ],
            numeric=(3, 4, 5),
        ),
    )
