"""Loading the roadmap: idempotent upserts, archiving, and refusal of bad data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from tracker.extensions import db
from tracker.models import Action, ActionArea, AgendaItem, Enabler, Outcome, RoadmapEdition
from tracker.roadmap_loader import RoadmapDataError, load_roadmap

EDITION = Path(__file__).resolve().parent.parent / "roadmap" / "time-to-act-2023"
AREA_3 = "areas/03-community-capacity.yaml"


@pytest.fixture
def edition_copy(tmp_path):
    """A copy of the real edition that a test may break."""
    target = tmp_path / "roadmap" / "time-to-act-2023"
    shutil.copytree(EDITION, target)
    return target


def edit(folder: Path, name: str, change) -> None:
    path = folder / name
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), "utf-8")


def row_counts() -> dict[str, int]:
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
        for model in (RoadmapEdition, ActionArea, Action, Enabler, Outcome, AgendaItem)
    }


def load(path: Path):
    report = load_roadmap(path)
    db.session.commit()
    return report


def test_first_load_creates_everything(empty_app):
    with empty_app.app_context():
        report = load(EDITION)
        assert report.created["areas"] == 10
        assert report.created["actions"] == 143
        assert report.created["enablers"] == 8
        assert report.created["outcomes"] == 8
        assert report.created["agenda groups"] == 7
        assert report.created["agenda items"] == 28
        trackable = select(func.count()).where(Action.parent_id.is_(None))
        assert db.session.scalar(trackable.select_from(Action)) == 140
        edition = db.session.scalar(select(RoadmapEdition))
        assert edition.is_current
        assert edition.title == "Time to act"


def test_second_load_changes_nothing(empty_app):
    with empty_app.app_context():
        load(EDITION)
        before = row_counts()
        report = load(EDITION)
        assert not report.changed
        assert report.unchanged["actions"] == 143
        assert row_counts() == before


def test_loaded_rows_match_the_files(empty_app):
    with empty_app.app_context():
        load(EDITION)
        action = db.session.scalar(select(Action).filter_by(code="A03.L01"))
        assert action.tag_text == "(+++) (A£)"
        assert (action.funding_level, action.spend_types, action.legislative_level) == (1, "A", 3)
        assert action.timeframe == "long"
        assert action.area.code == "A03"
        phase = db.session.scalar(select(Action).filter_by(code="A07.M01.2"))
        assert phase.parent.code == "A07.M01"
        assert [s.code for s in phase.parent.sub_items] == ["A07.M01.1", "A07.M01.2", "A07.M01.3"]
        enabler_action = db.session.scalar(select(Action).filter_by(code="E04.02"))
        assert enabler_action.enabler.title == "Permissive regulation and positive risk taking"
        assert enabler_action.timeframe is None
        item = db.session.scalar(select(AgendaItem).filter_by(code="AG7.02"))
        assert item.action.code == "A10.S01"
        assert item.tag_text == "(S£)"


def test_changed_text_is_updated_in_place(empty_app, edition_copy):
    def reword(area):
        area["actions"]["short"][0]["text"] = "Reworded action"

    with empty_app.app_context():
        load(edition_copy)
        action_id = db.session.scalar(select(Action.id).filter_by(code="A03.S01"))
        edit(edition_copy, AREA_3, reword)
        report = load(edition_copy)
        assert report.updated["actions"] == 1
        assert report.created["actions"] == 0
        action = db.session.get(Action, action_id)
        assert action.text == "Reworded action"


def test_removed_action_is_archived_not_deleted_and_returns(empty_app, edition_copy):
    removed = {}

    def drop_last_long_term(area):
        removed["action"] = area["actions"]["long"].pop()

    with empty_app.app_context():
        load(edition_copy)
        edit(edition_copy, AREA_3, drop_last_long_term)
        report = load(edition_copy)
        assert report.archived["actions"] == 1
        action = db.session.scalar(select(Action).filter_by(code=removed["action"]["code"]))
        assert action is not None
        assert action.archived_at is not None
        assert not action.is_trackable

        edit(edition_copy, AREA_3, lambda area: area["actions"]["long"].append(removed["action"]))
        load(edition_copy)
        db.session.refresh(action)
        assert action.archived_at is None


def unlink_area_3(agenda):
    for group in agenda["groups"]:
        for item in group["items"]:
            if (item["restates"] or "").startswith("A03."):
                item["restates"] = None
                item["note"] = "Its area was withdrawn."


def test_removed_area_is_archived_with_its_actions(empty_app, edition_copy):
    with empty_app.app_context():
        load(edition_copy)
        (edition_copy / AREA_3).unlink()
        edit(edition_copy, "agenda.yaml", unlink_area_3)
        report = load(edition_copy)
        assert report.archived["areas"] == 1
        assert report.archived["actions"] == 10
        area = db.session.scalar(select(ActionArea).filter_by(code="A03"))
        assert area.archived_at is not None
        assert db.session.scalar(select(AgendaItem).filter_by(code="AG1.01")).action is None


def test_removing_an_area_that_the_agenda_restates_is_refused(empty_app, edition_copy):
    (edition_copy / AREA_3).unlink()
    with empty_app.app_context(), pytest.raises(RoadmapDataError) as raised:
        load_roadmap(edition_copy)
    assert "AG1.01: restates A03.S01, which is not an action of this edition" in str(raised.value)


#: (file, change that breaks it, words the message must contain)
BROKEN = [
    pytest.param(
        AREA_3,
        lambda a: a["actions"]["short"][1].pop("lead"),
        ["areas/03-community-capacity.yaml", "A03.S02", "'lead' is a required property"],
        id="missing-lead",
    ),
    pytest.param(
        AREA_3,
        lambda a: a["actions"]["short"][1].update(lead="regional"),
        ["areas/03-community-capacity.yaml", "A03.S02", "'regional' is not one of"],
        id="unknown-lead",
    ),
    pytest.param(
        AREA_3,
        lambda a: a["actions"]["medium"][0].update(tags="(X£)"),
        ["areas/03-community-capacity.yaml", "A03.M01", "does not match"],
        id="unparseable-tag",
    ),
    pytest.param(
        AREA_3,
        lambda a: a["actions"]["medium"][0].update(funding=2),
        ["areas/03-community-capacity.yaml", "A03.M01", "do not match the printed tags"],
        id="tag-fields-disagree",
    ),
    pytest.param(
        AREA_3,
        lambda a: a["actions"]["medium"][1].update(code="A03.M01"),
        ["code A03.M01 is used 2 times"],
        id="duplicate-code",
    ),
    pytest.param(
        AREA_3,
        lambda a: a["actions"]["medium"][1].update(code="A03.S09"),
        ["A03.S09", "must have a code starting A03.M"],
        id="code-in-wrong-timeframe",
    ),
    pytest.param(
        "agenda.yaml",
        lambda a: a["groups"][0]["items"][0].update(restates="A99.S01"),
        ["agenda.yaml", "AG1.01", "A99.S01, which is not an action"],
        id="agenda-links-nowhere",
    ),
    pytest.param(
        "barriers-and-enablers.yaml",
        lambda a: a["enablers"][2]["actions"].clear(),
        ["barriers-and-enablers.yaml", "E03", "should be non-empty"],
        id="enabler-without-actions",
    ),
    pytest.param(
        "edition.yaml",
        lambda a: a["outcomes"][0].pop("title"),
        ["edition.yaml", "'title' is a required property"],
        id="outcome-without-title",
    ),
]


@pytest.mark.parametrize(("name", "change", "words"), BROKEN)
def test_bad_data_is_refused_whole_with_a_clear_message(
    empty_app, edition_copy, name, change, words
):
    with empty_app.app_context():
        edit(edition_copy, name, change)
        with pytest.raises(RoadmapDataError) as raised:
            load_roadmap(edition_copy)
        db.session.rollback()
        message = str(raised.value)
        assert message.startswith("The roadmap was not loaded; nothing was changed.")
        for word in words:
            assert word in message
        assert all(count == 0 for count in row_counts().values())


def test_bad_data_leaves_a_loaded_edition_untouched(empty_app, edition_copy):
    with empty_app.app_context():
        load(edition_copy)
        before = row_counts()
        edit(edition_copy, AREA_3, lambda a: a["actions"]["long"][0].update(text=""))
        with pytest.raises(RoadmapDataError):
            load_roadmap(edition_copy)
        db.session.rollback()
        assert row_counts() == before
        action = db.session.scalar(select(Action).filter_by(code="A03.L01"))
        assert action.text.startswith("A minimum universal offer")


def test_invalid_yaml_names_the_line(empty_app, edition_copy):
    (edition_copy / AREA_3).write_text("code: A03\nslug: [unclosed\n", "utf-8")
    with empty_app.app_context(), pytest.raises(RoadmapDataError) as raised:
        load_roadmap(edition_copy)
    assert "areas/03-community-capacity.yaml: not valid YAML at line" in str(raised.value)


def test_missing_file_and_folder(empty_app, edition_copy, tmp_path):
    (edition_copy / "agenda.yaml").unlink()
    with empty_app.app_context():
        with pytest.raises(RoadmapDataError, match=r"agenda\.yaml: file is missing"):
            load_roadmap(edition_copy)
        with pytest.raises(RoadmapDataError, match="not a folder"):
            load_roadmap(tmp_path / "nowhere")


def test_cli_loads_and_reports(empty_app):
    runner = empty_app.test_cli_runner()
    result = runner.invoke(args=["roadmap", "load"])
    assert result.exit_code == 0, result.output
    assert "actions: 143 created" in result.output
    again = runner.invoke(args=["roadmap", "load"])
    assert "actions: 143 unchanged" in again.output


def test_cli_refuses_bad_data_with_exit_code(empty_app, edition_copy):
    edit(edition_copy, AREA_3, lambda a: a["actions"]["short"][1].pop("lead"))
    result = empty_app.test_cli_runner().invoke(
        args=["roadmap", "load", "--path", str(edition_copy)]
    )
    assert result.exit_code == 1
    assert "A03.S02" in result.output
    assert "nothing was changed" in result.output
