"""The demo's quarters of returns (``tracker/demo_data.py``) and ``flask demo seed --scale``."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from tests.conftest import dispose, make_app
from tests.factories import make_user
from tracker.admin.demo import seed_demo
from tracker.demo_data import dataset_fingerprint, seed_dataset
from tracker.domain.vocabulary import ReviewState
from tracker.extensions import db
from tracker.models import (
    Action,
    Assessment,
    Council,
    Evidence,
    Period,
    Return,
    ReturnSnapshot,
    Role,
    assessment_evidence,
)

#: the day the brief was written: 2026-27 Q3 is the current quarter
TODAY = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
LEEDS, CAMDEN = "E08000035", "E09000007"


@pytest.fixture(autouse=True)
def _own_evidence_store(app, tmp_path):
    app.config["EVIDENCE_DIR"] = str(tmp_path / "evidence-store")


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


def _seed(app, scale="demo", limit=6):
    with app.app_context():
        seed_demo()
        report = seed_dataset(scale, council_limit=limit)
        db.session.commit()
        return report


def _return(gss_code: str, label: str) -> Return:
    return db.session.scalar(
        select(Return)
        .join(Council, Return.council_id == Council.id)
        .join(Period, Return.period_id == Period.id)
        .where(Council.gss_code == gss_code, Period.label == label)
    )


def test_eight_closed_quarters_then_the_current_one_open(app):
    report = _seed(app)
    assert (report.periods, report.councils, report.returns) == (9, 6, 54)
    with app.app_context():
        periods = db.session.scalars(select(Period).order_by(Period.year, Period.quarter)).all()
        assert next(p.label for p in periods) == "2024-25 Q3"
        assert [(p.label, p.status) for p in periods][-1] == ("2026-27 Q3", "open")
        assert {p.status for p in periods[:-1]} == {"closed"}
        # Every closed quarter is signed off, and frozen as it was.
        statuses = Counter(
            db.session.scalars(
                select(Return.status).where(Return.period_id.in_([p.id for p in periods[:-1]]))
            )
        )
        assert statuses == {"signed_off": 48}
        assert db.session.scalar(select(func.count(ReturnSnapshot.id))) == 48
        trackable = db.session.scalar(
            select(func.count(Action.id)).where(
                Action.parent_id.is_(None), Action.archived_at.is_(None)
            )
        )
        assert report.assessments == 54 * trackable
        # Leeds works on a draft carried forward from last quarter; Camden has handed it in.
        leeds = _return(LEEDS, "2026-27 Q3")
        assert leeds.status == "draft"
        assert leeds.carried_from_id == _return(LEEDS, "2026-27 Q2").id
        carried = db.session.scalar(
            select(func.count(Assessment.id)).where(
                Assessment.return_id == leeds.id, Assessment.is_carried_forward
            )
        )
        assert 0.4 * trackable < carried < 0.9 * trackable
        # A realistic mix of review states in the open quarter: some not yet reviewed, some
        # confirmed unchanged, some updated (tracker.domain.vocabulary.ReviewState).
        from tracker.returns.queries import list_council_returns

        summary = next(
            r
            for r in list_council_returns(leeds.council, include_drafts=True)
            if r.period.label == "2026-27 Q3"
        )
        reviews = summary.reviews
        assert reviews.total == trackable
        assert reviews.not_reviewed > 0.2 * trackable
        assert reviews.confirmed > 0.1 * trackable
        assert reviews.updated > 0.2 * trackable
        assert reviews.not_reviewed + reviews.confirmed == carried
        assert _return(CAMDEN, "2026-27 Q3").status == "submitted"
        # Evidence for the demo councils, files on disk with the hash recorded.
        assert report.evidence_files == 3
        assert db.session.scalar(select(func.count(assessment_evidence.c.evidence_id))) > 0
        item = db.session.scalar(select(Evidence).where(Evidence.stored_name.is_not(None)))
        from tracker import storage
        from tracker.returns.evidence import stored_key

        assert storage.store().info(stored_key(item)).size == item.size_bytes


def test_answers_are_realistic_and_pass_the_assessment_rules(app):
    _seed(app, limit=10)
    from tracker.models import ASSESSMENT_FIELDS
    from tracker.returns.services import validate_assessment

    with app.app_context():
        rows = db.session.execute(
            select(Assessment, Action.lead, Action.timeframe, Period.year, Period.quarter)
            .join(Action, Assessment.action_id == Action.id)
            .join(Return, Assessment.return_id == Return.id)
            .join(Period, Return.period_id == Period.id)
        ).all()
        national_long = [a.stage for a, lead, tf, *_ in rows if lead == "national" and tf == "long"]
        assert Counter(national_long)["not_applicable"] / len(national_long) > 0.7
        for assessment, *_ in rows[:3000]:
            values = {name: getattr(assessment, name) for name in ASSESSMENT_FIELDS}
            assert validate_assessment(values)["stage"] == assessment.stage
        # Quarter on quarter: most stay, some move on, a few go back.
        order = ["not_started", "planning", "implementing", "embedded"]
        by_key = {}
        for assessment, _lead, _tf, year, quarter in rows:
            key = (assessment.return_.council_id, assessment.action_id)
            by_key.setdefault(key, []).append((year * 4 + quarter, assessment.stage))
        moves = Counter()
        for history in by_key.values():
            stages = [stage for _, stage in sorted(history)]
            for before, after in itertools.pairwise(stages):
                if before in order and after in order:
                    step = order.index(after) - order.index(before)
                    moves["forward" if step > 0 else "back" if step < 0 else "same"] += 1
        total = sum(moves.values())
        assert moves["same"] / total > 0.7
        assert 0.03 < moves["forward"] / total < 0.25
        assert 0 < moves["back"] < moves["forward"]


def test_the_same_seed_builds_the_same_answers(app, databases, loaded_template, tmp_path):
    _seed(app, limit=4)
    with app.app_context():
        first = dataset_fingerprint()
    with databases.database(loaded_template, tmp_path) as url:
        other = make_app(url, EVIDENCE_DIR=str(tmp_path / "other-evidence"))
        try:
            _seed(other, limit=4)
            with other.app_context():
                assert dataset_fingerprint() == first
        finally:
            dispose(other)


def test_signed_off_returns_were_submitted_by_someone_other_than_their_approver(app):
    """Separation of duties holds in the demo too: the approver never signs off what they
    submitted (councils without demo accounts name nobody)."""
    _seed(app)
    with app.app_context():
        rows = db.session.execute(
            select(Council.gss_code, Return.submitted_by_id, Return.signed_off_by_id)
            .join(Council, Return.council_id == Council.id)
            .where(Return.status == "signed_off")
        ).all()
        assert rows
        for code, submitter, approver in rows:
            if submitter is not None or approver is not None:
                assert submitter != approver, code
        named = [row for row in rows if row.gss_code in (LEEDS, CAMDEN)]
        assert named and all(s and a and s != a for _code, s, a in named)


def test_seeding_again_makes_nothing(app):
    _seed(app, limit=2)
    report = _seed(app, limit=2)
    assert report.skipped == "the database already has periods"
    assert report.returns == 0
    with app.app_context():
        assert db.session.scalar(select(func.count(Return.id))) == 18


def test_cli_default_seeds_every_council_and_is_idempotent(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    assert "Demo returns (demo): 9 periods, 153 councils, 1377 returns" in result.output
    again = runner.invoke(args=["demo", "seed"])
    assert "none made (the database already has periods)" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Return.id))) == 1377


def test_cli_national_scale_adds_evidence_for_every_council(app):
    result = app.test_cli_runner().invoke(
        args=["demo", "seed", "--scale", "national", "--councils", "12"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        councils_with_evidence = db.session.scalar(
            select(func.count(func.distinct(Evidence.council_id)))
        )
        assert councils_with_evidence == 12
        # Panel feedback on handed-in returns only, most of it answered.
        from tracker.models.panels import Comment, CommentAnswer, PanelProfile

        comments = db.session.scalar(select(func.count(Comment.id)))
        answers = db.session.scalar(select(func.count(CommentAnswer.id)))
        assert comments > 12 * 8 * 2
        assert 0.5 * comments < answers < comments
        on_drafts = db.session.scalar(
            select(func.count(Comment.id))
            .join(Return, Comment.return_id == Return.id)
            .where(Return.status == "draft")
        )
        assert on_drafts == 0
        assert db.session.scalar(select(func.count(PanelProfile.id))) == 12 * 3


def test_cli_refuses_a_database_with_real_accounts(app):
    with app.app_context():
        council = db.session.scalar(select(Council).where(Council.gss_code == LEEDS))
        make_user(memberships=[(Role.COUNCIL_EDITOR, council)])
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--scale", "national"])
    assert "Not seeding the demo" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Period.id))) == 0


def test_the_demo_returns_page_counts_each_review_state_as_the_database_does(app, page):
    """Done when (issue 15): on the demo's current return, the page's counts equal the
    database's counts of each review state."""
    from tests.access_matrix import make_member, signed_in_client

    _seed(app, limit=3)
    with app.app_context():
        leeds = _return(LEEDS, "2026-27 Q3")
        in_database = Counter(
            state
            for carried, confirmed_at, updated_at in db.session.execute(
                select(
                    Assessment.is_carried_forward, Assessment.confirmed_at, Assessment.updated_at
                ).where(Assessment.return_id == leeds.id)
            )
            for state in [
                ReviewState.of(
                    is_carried_forward=carried, confirmed_at=confirmed_at, updated_at=updated_at
                ).label
            ]
        )
    editor = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    soup = page(editor.get(f"/councils/{LEEDS}/returns/2026-27-Q3"))
    on_page = {}
    for item in soup.select("#review-states li"):
        label, count = item.get_text(" ", strip=True).rsplit(":", 1)
        on_page[label.strip()] = int(count)
    assert on_page == dict(in_database)
    assert all(on_page.values()), "the demo shows every state"
    reviewed = in_database["Confirmed unchanged"] + in_database["Updated"]
    progress = " ".join(soup.select_one("#progress").get_text().split())
    assert progress.startswith(f"{reviewed} of {sum(in_database.values())}")
    # The signed-off quarter before carries the Director's words for the board.
    soup = page(editor.get(f"/councils/{LEEDS}/returns/2026-27-Q2"))
    assert len(soup.select("#board-recommendations li")) == 3
