"""The roadmap data files checked against the source text of *Time to act* (2023)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.roadmap_source import source_flat, source_lines
from tracker.roadmap_loader import read_edition

EDITION = Path(__file__).resolve().parent.parent / "roadmap" / "time-to-act-2023"

#: actions per area and timeframe, counted by hand from the report (top-level actions only)
EXPECTED_COUNTS = {
    "A01": (4, 4, 1),
    "A02": (6, 3, 3),
    "A03": (4, 4, 2),
    "A04": (3, 6, 3),
    "A05": (4, 5, 2),
    "A06": (4, 4, 3),
    "A07": (3, 5, 2),
    "A08": (7, 3, 4),
    "A09": (4, 4, 2),
    "A10": (5, 7, 3),
}
AREA_TITLES = [
    "Reimagine care and support with people who draw on it",
    "Improve assessment and planning to put people in the lead",
    "Community capacity for wellbeing and prevention",
    "More people live at home, or in a place they call home",
    "Better support for carers",
    "Join up care and support for fulfilled lives",
    "More accessible and affordable for everyone",
    "Diverse and sustainable providers, focused on outcomes",
    "Harness the potential of digital technology",
    "Redesign and reward the workforce",
]
ENABLER_ACTION_COUNTS = {
    "Investment": 3,
    "Developing leadership for change": 6,
    "Innovation infrastructure": 2,
    "Permissive regulation and positive risk taking": 4,
    "Reasserting existing legal frameworks": 2,
    "Commissioning differently": 4,
    "People not patients": 2,
    "Getting the wiring right": 3,
}
AGENDA_GROUPS = {
    "Co-producing local plans": 3,
    "Training and development": 3,
    "Improving assessment and care planning": 4,
    "Working in partnership": 4,
    "Improving choice and shaping provision": 4,
    "Widening access": 5,
    "Improving work in care and support": 5,
}
TAG_IN_SOURCE = re.compile(r"\((?:[TSCA]*£+|\++)\)\s*$")


@pytest.fixture(scope="module")
def edition():
    return read_edition(EDITION)


def walk(actions):
    for action in actions:
        yield action
        yield from walk(action.get("sub_items", []))


def area_actions(edition):
    for _label, area in edition.areas:
        for timeframe, actions in area["actions"].items():
            for action in walk(actions):
                yield area, timeframe, action


def all_actions(edition):
    yield from (action for _a, _t, action in area_actions(edition))
    for enabler in edition.enablers["enablers"]:
        yield from walk(enabler["actions"])


def printed_line(item):
    """The item as the report prints it: text, then its tags if any."""
    return item["text"] + (" " + item["tags"] if item.get("tags") else "")


def test_areas_are_the_ten_in_the_reports_order(edition):
    assert [area["title"] for _label, area in edition.areas] == AREA_TITLES
    assert [area["code"] for _label, area in edition.areas] == [f"A{n:02d}" for n in range(1, 11)]


def test_area_titles_are_headings_in_the_source(edition):
    lines = set(source_lines())
    for _label, area in edition.areas:
        assert area["title"] in lines
        if "sidebar_title" in area:
            assert area["sidebar_title"] in lines
            assert area["note"], "a differing sidebar title must be explained in the area's note"


@pytest.mark.parametrize("code", EXPECTED_COUNTS)
def test_action_counts_per_area_and_timeframe(edition, code):
    area = next(a for _label, a in edition.areas if a["code"] == code)
    counts = tuple(len(area["actions"][tf]) for tf in ("short", "medium", "long"))
    assert counts == EXPECTED_COUNTS[code]


def test_totals(edition):
    area_top_level = sum(sum(c) for c in EXPECTED_COUNTS.values())
    enabler_actions = sum(len(e["actions"]) for e in edition.enablers["enablers"])
    assert area_top_level == 114
    assert enabler_actions == 26
    # 140 trackable actions; the three phases of A07.M01 are listed under it, not assessed alone
    assert len([a for a in all_actions(edition)]) == 143


def test_every_action_is_a_whole_item_of_the_source(edition):
    lines = set(source_lines())
    missing = [a["code"] for a in all_actions(edition) if printed_line(a) not in lines]
    # A07.S02 is printed "areas(+) (S£)" with no space before its first tag.
    assert missing == ["A07.S02"]
    odd = next(a for a in all_actions(edition) if a["code"] == "A07.S02")
    assert odd["text"] + odd["tags"] in lines
    assert "no space" in odd["note"]


def test_every_action_text_occurs_verbatim(edition):
    flat = source_flat()
    for action in all_actions(edition):
        assert action["text"] in flat, action["code"]


def test_every_tagged_line_of_the_roadmap_detail_is_in_the_data(edition):
    lines = source_lines()
    start = lines.index("The roadmap in detail")
    end = lines.index("Barriers and enablers", start)
    tagged_in_source = {line for line in lines[start:end] if TAG_IN_SOURCE.search(line)}
    tagged_in_data = {
        action["text"] + (" " if action["code"] != "A07.S02" else "") + action["tags"]
        for _area, _tf, action in area_actions(edition)
        if action.get("tags")
    }
    assert len(tagged_in_source) == 60
    assert tagged_in_data == tagged_in_source


@pytest.mark.parametrize(
    ("code", "tags", "funding", "spend", "legislative"),
    [
        ("A03.L01", "(+++) (A£)", 1, ["A"], 3),
        ("A07.S02", "(+) (S£)", 1, ["S"], 1),
        ("A02.L03", "(++++)", None, None, 3),
        ("A06.S02", "(£)", 1, None, None),
        ("A10.S01", "(£££)", 3, None, None),
        ("A03.M03", "(C££)", 2, ["C"], None),
        ("A07.M01.2", "(A£££)", 3, ["A"], None),
        ("A01.L01", "(+++)", None, None, 3),
        ("A01.S01", None, None, None, None),
    ],
)
def test_irregular_and_typical_tags_parse(edition, code, tags, funding, spend, legislative):
    action = next(a for a in all_actions(edition) if a["code"] == code)
    assert action.get("tags") == tags
    assert action.get("funding") == funding
    assert action.get("spend") == spend
    assert action.get("legislative") == legislative


def test_irregular_tags_are_noted_not_fixed(edition):
    for action in all_actions(edition):
        tags = action.get("tags", "")
        cost_without_spend = re.search(r"\(£+\)", tags)
        if "++++" in tags or cost_without_spend:
            assert action.get("note"), action["code"]


def test_codes_are_stable_and_follow_their_timeframe(edition):
    for area, timeframe, action in area_actions(edition):
        assert action["code"].startswith(f"{area['code']}.{timeframe[0].upper()}")
    codes = [a["code"] for a in all_actions(edition)]
    assert len(codes) == len(set(codes))


def test_every_action_has_a_lead(edition):
    leads = {a["lead"] for a in all_actions(edition)}
    assert leads == {"local", "system", "national"}


def test_sub_items_of_the_phased_action(edition):
    action = next(a for a in all_actions(edition) if a["code"] == "A07.M01")
    assert action["text"] == "Bring in changes permitted under the Care Act 2014, in phases:"
    assert [s["code"] for s in action["sub_items"]] == ["A07.M01.1", "A07.M01.2", "A07.M01.3"]
    assert all(s["tags"] == "(A£££)" for s in action["sub_items"])


def test_area_prose_occurs_verbatim(edition):
    flat = source_flat()
    for _label, area in edition.areas:
        for field in ("shift", "practical", "examples"):
            assert area[field], (area["code"], field)
            for paragraph in area[field]:
                assert paragraph in flat, (area["code"], field, paragraph[:60])
        for field in ("practical_intro", "examples_intro"):
            assert area[field] in flat, (area["code"], field)


def test_split_shifts_are_both_kept(edition):
    shifts = {area["code"]: area["shift"] for _label, area in edition.areas}
    assert len(shifts["A04"]) == 2
    assert len(shifts["A08"]) == 2


def test_key_and_timeframes_occur_verbatim(edition):
    flat = source_flat()
    key = edition.edition["key"]
    assert key["intro"] in flat
    for group in ("funding", "spend", "legislative"):
        for entry in key[group]:
            assert f"{entry['symbol']} {entry['meaning']}" in flat
    assert [t["code"] for t in edition.edition["timeframes"]] == ["short", "medium", "long"]
    for timeframe in edition.edition["timeframes"]:
        assert timeframe["definition"] in flat


def test_eight_outcomes_in_order(edition):
    flat = source_flat()
    outcomes = edition.edition["outcomes"]
    assert [o["number"] for o in outcomes] == list(range(1, 9))
    for outcome in outcomes:
        assert f"{outcome['number']}. {outcome['title']}" in flat
        assert outcome["description"] in flat
    assert edition.edition["outcomes_intro"] in flat


def test_agenda_for_action_groups_and_links(edition):
    flat = source_flat()
    groups = edition.agenda["groups"]
    assert {g["title"]: len(g["items"]) for g in groups} == AGENDA_GROUPS
    assert list(AGENDA_GROUPS) == [g["title"] for g in groups]
    codes = {a["code"] for a in all_actions(edition)}
    lines = set(source_lines())
    for group in groups:
        assert group["title"] in lines
        for item in group["items"]:
            assert printed_line(item) in lines, item["code"]
            if item["restates"] is None:
                assert item.get("note"), item["code"]
            else:
                assert item["restates"] in codes
    for paragraph in edition.agenda["intro"]:
        assert paragraph in flat


def test_agenda_links_restate_the_same_idea(edition):
    actions = {a["code"]: a for a in all_actions(edition)}
    items = {i["code"]: i for g in edition.agenda["groups"] for i in g["items"]}
    assert items["AG7.02"]["restates"] == "A10.S01"
    assert "uplift in pay" in actions["A10.S01"]["text"]
    assert items["AG5.01"]["restates"] == "A04.S01"
    assert "Home First" in actions["A04.S01"]["text"]
    linked = sum(1 for i in items.values() if i["restates"])
    assert linked == 27


def test_barriers_and_enablers(edition):
    flat = source_flat()
    lines = set(source_lines())
    enablers = edition.enablers["enablers"]
    assert {e["title"]: len(e["actions"]) for e in enablers} == ENABLER_ACTION_COUNTS
    for enabler in enablers:
        assert enabler["title"] in lines
        assert enabler["body"], enabler["code"]
        for paragraph in enabler["body"]:
            assert paragraph in flat, (enabler["code"], paragraph[:60])
        for action in enabler["actions"]:
            assert "timeframe" not in action
    assert edition.enablers["intro"] in flat


def test_investment_body_keeps_the_three_aims_apart(edition):
    investment = edition.enablers["enablers"][0]
    aims = [
        p
        for p in investment["body"]
        if p.startswith("Investment to") or p.startswith("Investment in community capacity")
    ]
    assert len(aims) == 3
