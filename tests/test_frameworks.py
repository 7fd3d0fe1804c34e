"""The CQC framework and its crosswalk: loading, refusing bad files, and the pages showing them."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from tests.conftest import CQC_FRAMEWORK, ROADMAP_EDITION
from tracker.config import PROJECT_ROOT
from tracker.extensions import db
from tracker.frameworks_loader import FrameworkDataError, load_framework
from tracker.models import (
    Action,
    ActionStatementLink,
    Framework,
    FrameworkTheme,
    QualityStatement,
)
from tracker.roadmap_loader import load_roadmap

THEMES = {
    "Working with people": [
        "Assessing needs",
        "Supporting people to live healthier lives",
        "Equity in experience and outcomes",
    ],
    "Providing support": [
        "Care provision, integration and continuity",
        "Partnerships and communities",
    ],
    "How the local authority ensures safety within the system": [
        "Safe systems, pathways and transitions",
        "Safeguarding",
    ],
    "Leadership": [
        "Governance, management and sustainability",
        "Learning, improvement and innovation",
    ],
}


def _trackable_codes() -> set[str]:
    return set(
        db.session.scalars(
            select(Action.code).where(Action.parent_id.is_(None), Action.archived_at.is_(None))
        )
    )


def _roadmap_yaml_tiers() -> dict[str, str | None]:
    tiers: dict[str, str | None] = {}
    files = [*sorted((ROADMAP_EDITION / "areas").glob("*.yaml"))]
    for file in files:
        area = yaml.safe_load(file.read_text(encoding="utf-8"))
        for actions in area["actions"].values():
            for action in actions:
                tiers[action["code"]] = action.get("prevention")
    enablers = yaml.safe_load((ROADMAP_EDITION / "barriers-and-enablers.yaml").read_text())
    for enabler in enablers["enablers"]:
        for action in enabler["actions"]:
            tiers[action["code"]] = action.get("prevention")
    return tiers


# -- the real files ----------------------------------------------------------------------------


def test_the_real_framework_has_9_statements_in_4_themes_in_order(app):
    with app.app_context():
        framework = db.session.scalar(select(Framework))
        assert framework.code == "cqc-la-2023"
        assert framework.publisher == "Care Quality Commission"
        got = {
            theme.title: [statement.title for statement in theme.statements]
            for theme in framework.themes
        }
        assert list(got) == list(THEMES)
        assert got == THEMES
        codes = db.session.scalars(select(QualityStatement.code).order_by("position")).all()
        assert codes == [f"QS{n}" for n in range(1, 10)]
        # names only: no published text is copied (frameworks/README.md)
        assert not db.session.scalar(
            select(func.count())
            .select_from(QualityStatement)
            .where(QualityStatement.we_statement != "")
        )


def test_the_crosswalk_lists_all_140_actions_and_every_statement_has_one():
    crosswalk = yaml.safe_load((CQC_FRAMEWORK / "crosswalk.yaml").read_text(encoding="utf-8"))
    listed = [entry["action"] for entry in crosswalk["actions"]]
    assert len(listed) == len(set(listed)) == 140
    assert set(listed) == set(_roadmap_yaml_tiers())
    linked = {link["statement"] for e in crosswalk["actions"] for link in e["statements"]}
    assert linked == {f"QS{n}" for n in range(1, 10)}


def test_loaded_links_match_the_crosswalk_and_each_statement_has_an_action(app):
    crosswalk = yaml.safe_load((CQC_FRAMEWORK / "crosswalk.yaml").read_text(encoding="utf-8"))
    expected = {
        (entry["action"], link["statement"]): link["rationale"]
        for entry in crosswalk["actions"]
        for link in entry["statements"]
    }
    with app.app_context():
        rows = db.session.execute(
            select(Action.code, QualityStatement.code, ActionStatementLink.rationale)
            .join(Action, Action.id == ActionStatementLink.action_id)
            .join(QualityStatement, QualityStatement.id == ActionStatementLink.statement_id)
        ).all()
        assert {(a, s): r for a, s, r in rows} == expected
        per_statement = dict(
            db.session.execute(
                select(QualityStatement.code, func.count(ActionStatementLink.id))
                .outerjoin(ActionStatementLink)
                .group_by(QualityStatement.code)
            ).all()
        )
        assert len(per_statement) == 9
        assert all(count >= 1 for count in per_statement.values())


def test_reloading_changes_nothing(app):
    with app.app_context():
        report = load_framework(CQC_FRAMEWORK)
        assert not report.changed
        assert report.unchanged["quality statements"] == 9
        assert report.unchanged["themes"] == 4
        assert report.unchanged["links"] == db.session.scalar(
            select(func.count()).select_from(ActionStatementLink)
        )


def test_prevention_tiers_are_loaded_as_the_roadmap_gives_them(app):
    tiers = _roadmap_yaml_tiers()
    assert {t for t in tiers.values()} == {"primary", "secondary", "tertiary", None}
    with app.app_context():
        loaded = dict(
            db.session.execute(
                select(Action.code, Action.prevention_tier).where(Action.parent_id.is_(None))
            ).all()
        )
    assert loaded == tiers


def test_cli_loads_and_reports(app, runner):
    result = runner.invoke(args=["frameworks", "load"])
    assert result.exit_code == 0, result.output
    assert "quality statements: 9 unchanged" in result.output


# -- bad files -------------------------------------------------------------------------------


@pytest.fixture
def framework_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "cqc"
    shutil.copytree(CQC_FRAMEWORK, folder)
    return folder


def _edit(folder: Path, change: Callable[[dict], None], name: str = "crosswalk.yaml") -> None:
    path = folder / name
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")


def _entry(document: dict, code: str) -> dict:
    return next(e for e in document["actions"] if e["action"] == code)


def _unknown_action(d):
    d["actions"].append({"action": "A99.S01", "statements": []})


def _unknown_statement(d):
    _entry(d, "A01.S01")["statements"].append({"statement": "QS10", "rationale": "Because."})


def _phase_listed(d):
    d["actions"].append({"action": "A07.M01.1", "statements": []})


def _missing_action(d):
    d["actions"] = [e for e in d["actions"] if e["action"] != "A02.S02"]


def _duplicate_action(d):
    d["actions"].append({"action": "A01.M01", "statements": []})


def _duplicate_link(d):
    entry = _entry(d, "A01.S04")
    entry["statements"].append(dict(entry["statements"][0]))


def _rationale_too_long(d):
    _entry(d, "A01.S04")["statements"][0]["rationale"] = "x" * 301


def _rationale_empty(d):
    _entry(d, "A01.S04")["statements"][0]["rationale"] = "  "


def _statement_with_no_action(d):
    for entry in d["actions"]:
        entry["statements"] = [s for s in entry["statements"] if s["statement"] != "QS7"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_unknown_action, "crosswalk.yaml: A99.S01: no such action in the current roadmap"),
        (_phase_listed, "crosswalk.yaml: A07.M01.1: no such action in the current roadmap"),
        (_unknown_statement, "crosswalk.yaml: A01.S01 → QS10: no such quality statement"),
        (_missing_action, "crosswalk.yaml: A02.S02: the action is missing"),
        (_duplicate_action, "crosswalk.yaml: A01.M01: the action is listed 2 times"),
        (_duplicate_link, "crosswalk.yaml: A01.S04 → QS9: the link is listed 2 times"),
        (
            _rationale_too_long,
            "crosswalk.yaml: A01.S04 → QS9: the rationale must be 300 characters or fewer",
        ),
        (_rationale_empty, "crosswalk.yaml: A01.S04 → QS9: the rationale is empty"),
        (
            _statement_with_no_action,
            "crosswalk.yaml: QS7: no action serves this quality statement",
        ),
    ],
)
def test_a_bad_crosswalk_is_refused_whole_naming_file_item_and_rule(
    app, framework_copy, change, message
):
    _edit(framework_copy, change)
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(ActionStatementLink))
        with pytest.raises(FrameworkDataError) as error:
            load_framework(framework_copy)
        assert any(p.startswith(message) for p in error.value.problems), error.value.problems
        assert "nothing was changed" in str(error.value)
        after = db.session.scalar(select(func.count()).select_from(ActionStatementLink))
        assert after == before


def test_a_framework_file_against_the_schema_is_named(app, framework_copy):
    def drop_title(d):
        del d["themes"][0]["statements"][0]["title"]

    _edit(framework_copy, drop_title, "framework.yaml")
    with app.app_context(), pytest.raises(FrameworkDataError) as error:
        load_framework(framework_copy)
    assert error.value.problems == [
        "framework.yaml: item QS1 (themes → 0 → statements → 0): 'title' is a required property"
    ]


def test_a_changed_rationale_is_updated_in_place_and_a_dropped_link_removed(app, framework_copy):
    def change(d):
        _entry(d, "A01.S04")["statements"][0]["rationale"] = "A new reason."
        _entry(d, "A01.S01")["statements"].pop()

    _edit(framework_copy, change)
    with app.app_context():
        ids = set(db.session.scalars(select(QualityStatement.id)))
        report = load_framework(framework_copy)
        assert report.updated["links"] == 1
        assert report.removed["links"] == 1
        assert set(db.session.scalars(select(QualityStatement.id))) == ids
        rationale = db.session.scalar(
            select(ActionStatementLink.rationale)
            .join(Action, Action.id == ActionStatementLink.action_id)
            .where(Action.code == "A01.S04")
        )
        assert rationale == "A new reason."


def test_the_cli_refuses_a_bad_crosswalk_with_its_message(app, runner, framework_copy):
    _edit(framework_copy, _unknown_action)
    result = runner.invoke(args=["frameworks", "load", "--path", str(framework_copy)])
    assert result.exit_code == 1
    assert "A99.S01: no such action in the current roadmap" in result.output


def test_the_crosswalk_needs_the_roadmap_loaded_first(empty_app):
    with empty_app.app_context(), pytest.raises(FrameworkDataError) as error:
        load_framework(CQC_FRAMEWORK)
    assert "crosswalk.yaml: A01.S01: no such action in the current roadmap" in error.value.problems
    with empty_app.app_context():
        load_roadmap(ROADMAP_EDITION)
        load_framework(CQC_FRAMEWORK)
        assert db.session.scalar(select(func.count()).select_from(FrameworkTheme)) == 4


# -- pages -------------------------------------------------------------------------------------


def test_the_action_page_shows_its_statements_with_reasons_and_its_tier(app, client, page):
    soup = page(client.get("/roadmap/actions/A04.S01"))
    section = soup.find("h2", id="cqc")
    assert section.get_text(strip=True) == "CQC quality statements"
    rows = {
        row.find("dt").get_text(" ", strip=True): row.find("dd").get_text(" ", strip=True)
        for row in section.find_next("dl").find_all("div")
    }
    with app.app_context():
        expected = {
            f"{theme} › {title}": rationale
            for theme, title, rationale in db.session.execute(
                select(FrameworkTheme.title, QualityStatement.title, ActionStatementLink.rationale)
                .join(QualityStatement, QualityStatement.theme_id == FrameworkTheme.id)
                .join(ActionStatementLink)
                .join(Action, Action.id == ActionStatementLink.action_id)
                .where(Action.code == "A04.S01")
            )
        }
    assert rows == expected
    assert "How the local authority ensures safety within the system › Safe systems" in str(rows)
    text = soup.find("main").get_text(" ", strip=True)
    assert "Delay: support for people with established needs" in text
    assert soup.find("a", href="/glossary#prevention-tier")


def test_a_national_action_page_says_it_has_no_statement(client, page):
    soup = page(client.get("/roadmap/actions/E01.01"))
    text = " ".join(soup.find("main").get_text(" ", strip=True).split())
    assert "not linked to any of the CQC" in text
    assert "Prevention tier : none." in text


def test_the_cqc_page_lists_every_statement_with_its_actions(app, client, page):
    soup = page(client.get("/roadmap/cqc"))
    assert soup.find("h1").get_text(strip=True).startswith("The CQC’s quality statements")
    headings = [h.get_text(strip=True) for h in soup.find_all("h3")]
    assert headings == [title for titles in THEMES.values() for title in titles]
    with app.app_context():
        for statement in db.session.scalars(select(QualityStatement)):
            heading = soup.find("h3", id=statement.slug)
            links = {a["href"].rsplit("/", 1)[-1] for a in heading.find_next("table").find_all("a")}
            codes = set(
                db.session.scalars(
                    select(Action.code)
                    .join(ActionStatementLink)
                    .where(ActionStatementLink.statement_id == statement.id)
                )
            )
            assert links == codes, statement.code
    text = soup.find("main").get_text(" ", strip=True)
    assert "Care Quality Commission" in text and "Local Government Association" in text


def _listed_codes(soup) -> set[str]:
    # the actions listed, not the phases shown under A07.M01
    codes = {a["href"].rsplit("/", 1)[-1] for a in soup.select("main a[href^='/roadmap/actions/']")}
    return {code for code in codes if code.count(".") == 1}


def test_the_filters_narrow_by_statement_and_prevention_tier_as_the_database_says(
    app, client, page
):
    with app.app_context():
        qs7 = set(
            db.session.scalars(
                select(Action.code)
                .join(ActionStatementLink)
                .join(QualityStatement)
                .where(QualityStatement.code.in_(["QS6", "QS7"]))
            )
        )
        tertiary_qs4 = set(
            db.session.scalars(
                select(Action.code)
                .join(ActionStatementLink)
                .join(QualityStatement)
                .where(QualityStatement.code == "QS4", Action.prevention_tier == "tertiary")
            )
        )
        untiered = set(
            db.session.scalars(
                select(Action.code).where(
                    Action.prevention_tier.is_(None), Action.parent_id.is_(None)
                )
            )
        )
    soup = page(client.get("/roadmap/actions?statement=QS6&statement=QS7"))
    assert _listed_codes(soup) == qs7
    assert soup.find(id="results").get_text(strip=True) == f"{len(qs7)} actions"
    soup = page(client.get("/roadmap/actions?statement=QS4&prevention=tertiary"))
    assert _listed_codes(soup) == tertiary_qs4
    soup = page(client.get("/roadmap/actions?prevention=none"))
    assert _listed_codes(soup) == untiered
    # an unknown value filters by nothing rather than failing
    soup = page(client.get("/roadmap/actions?statement=QS99"))
    assert len(_listed_codes(soup)) == 140


def test_the_roadmap_index_links_to_the_cqc_page(client, page):
    soup = page(client.get("/roadmap/"))
    assert soup.find("main").find("a", href="/roadmap/cqc")


def test_the_glossary_explains_the_new_terms(client, page):
    soup = page(client.get("/glossary"))
    for term_id in ("cqc", "quality-statement", "prevention-tier"):
        assert soup.find(id=term_id), term_id


def test_the_readme_cites_both_sources():
    readme = (PROJECT_ROOT / "frameworks" / "README.md").read_text(encoding="utf-8")
    assert "Assessment framework for local authority assurance" in readme
    assert "analysis of local authority CQC" in readme
