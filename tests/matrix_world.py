"""The world the access matrix (``tests/access_matrix.py``) speaks of, and a database holding it.

:func:`build_world` makes it through the services: the period, the three councils' returns in
one state (see ``STATES`` in ``tests/access_matrix.py``), their evidence and panel comments, and
the people URLs point at. Building it takes seconds (three councils' 140 assessments each), so
:class:`MatrixWorlds` builds each state once per test process, with one signed-up person per
role, as a template database; each test then gets its own copy (as ``tests/conftest.py`` copies
the loaded template), and nothing one test changes reaches another.
"""

from __future__ import annotations

import contextlib
import io
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.engine import make_url
from werkzeug.datastructures import FileStorage

from tests import returns_data
from tests.access_matrix import (
    COUNCIL_CODES,
    RELATIONS,
    ROLES,
    STATES,
    Row,
    council,
    make_member,
    make_person,
)
from tests.factories import MadeUser
from tracker.compare.services import set_sharing
from tracker.extensions import db
from tracker.models import Action, ActionArea, Council, Membership, Period, Role, User
from tracker.panels import services as panels
from tracker.returns import evidence, services
from tracker.returns.periods import create_period, open_period


@dataclass
class World:
    """Council A's people of one role, the returns in one state, and the ids the URLs need."""

    app: Flask
    state: str
    area_slug: str
    action_code: str
    #: (relation) -> (user_id, membership_id) of a council editor there, for GETs
    shared: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: (relation) -> more values: periods, evidence and comments (see periods_and_evidence)
    per_relation: dict[str, dict[str, object]] = field(default_factory=dict)

    def subject(self, relation: str) -> tuple[int, int]:
        """A new council editor in the relation's council: (user id, membership id)."""
        with self.app.app_context():
            person = make_person(
                f"subject-{secrets.token_hex(4)}@example.org",
                Role.COUNCIL_EDITOR,
                council=council(relation),
            )
            membership_id = db.session.scalar(
                select(Membership.id).where(Membership.user_id == person.id)
            )
            db.session.commit()
            return person.id, membership_id

    def values(self, row: Row, relation: str) -> dict[str, object]:
        """Every value a URL of the row (or a redirect's target) may need, for the relation."""
        values: dict[str, object] = {
            "gss_code": council_code(relation),
            "token": secrets.token_urlsafe(32),
            "invitation_id": 2**31 - 1,
            "token_id": 2**31 - 1,
            "slug": self.area_slug,
            "code": self.action_code,
            "period_label": MATRIX_PERIOD.replace(" ", "-"),
            "region_slug": REGION_SLUGS[relation],
            **self.per_relation.get(relation, {}),
        }
        if {"user_id", "membership_id"} & rule_of(self.app, row.endpoint).arguments:
            user_id, membership_id = (
                self.subject(relation) if row.method == "POST" else self.shared[relation]
            )
            values.update(user_id=user_id, membership_id=membership_id)
        return values

    def url(self, row: Row, relation: str, values: dict[str, object] | None = None) -> str:
        return build(self.app, row.endpoint, values or self.values(row, relation))

    def form(self, row: Row, relation: str) -> dict[str, object]:
        """What a POST of the row sends besides its CSRF token: the thread's real comment."""
        field_name = COMMENT_FIELDS.get(row.endpoint)
        if field_name is None:
            return {}
        return {field_name: self.per_relation[relation]["comment_id"]}


def rule_of(app: Flask, endpoint: str):
    return next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)


def build(app: Flask, endpoint: str, values: dict[str, object]) -> str:
    """The path of ``endpoint`` with the values its rule takes."""
    arguments = rule_of(app, endpoint).arguments
    return app.url_map.bind("localhost").build(
        endpoint, {name: value for name, value in values.items() if name in arguments}
    )


def council_code(relation: str) -> str:
    return COUNCIL_CODES[relation]


#: the ADASS region of each relation's council (A and B share Yorkshire and the Humber)
REGION_SLUGS = {
    "own": "yorkshire-and-the-humber",
    "same_region": "yorkshire-and-the-humber",
    "other_region": "south-west",
}

#: an open period: every council has a draft return for it
MATRIX_PERIOD = "2025-26 Q3"

#: the hidden field that names the comment a panel form is about
COMMENT_FIELDS = {
    "panels.add_comment": "comment-parent_id",
    "panels.edit_comment": "edit-comment_id",
    "panels.withdraw_comment": "withdraw-comment_id",
    "panels.answer_comment": "answer-comment_id",
    "panels.hide_comment": "hide-comment_id",
    "panels.unhide_comment": "unhide-comment_id",
}


def build_world(
    app: Flask,
    state: str = "draft",
    *,
    panel_member_id: int | None = None,
    only_test_councils: bool = False,
) -> World:
    """The objects the URLs point at, with the three councils' returns in ``state`` (see
    ``tests/access_matrix.py``). ``panel_member_id``: who writes council A's comment (else a
    panel member made here). ``only_test_councils``: first make every council but the three
    inactive, so that opening the period makes three returns, not 153 (a smaller database,
    quicker to copy, fingerprint and compare; the others play no part)."""
    assert state in STATES, state
    with app.app_context():
        if only_test_councils:
            db.session.execute(
                update(Council)
                .where(Council.gss_code.not_in(list(COUNCIL_CODES.values())))
                .values(is_active=False)
            )
        if db.session.scalar(select(Period).where(Period.label == MATRIX_PERIOD)) is None:
            period = create_period(MATRIX_PERIOD, date(2030, 1, 31), actor=None)
            open_period(period, actor=None)
        world = World(
            app=app,
            state=state,
            area_slug=db.session.scalar(select(ActionArea.slug).order_by(ActionArea.id)),
            action_code=db.session.scalar(select(Action.code).order_by(Action.id)),
        )
        db.session.commit()
    for relation in RELATIONS:
        world.shared[relation] = world.subject(relation)
    world.per_relation = periods_and_evidence(app)
    for relation in RELATIONS:
        author = panel_member_id if relation == "own" else None
        world.per_relation[relation]["comment_id"] = submit_with_a_comment(
            app, relation, str(world.per_relation[relation]["action_code"]), author
        )
    set_state(app, state)
    return world


def periods_and_evidence(app: Flask) -> dict[str, dict[str, object]]:
    """URL values of the period and evidence routes, for each relation: an upcoming period to
    open and close (``period_id``), a trackable action (``action_code``) and, in the relation's
    council, an uploaded file that supports that action in MATRIX_PERIOD (``evidence_id``)."""
    with app.app_context():
        upcoming = create_period("2025-26 Q4", date(2030, 4, 30), actor=None)
        action_code = db.session.scalar(
            select(Action.code)
            .where(Action.parent_id.is_(None), Action.archived_at.is_(None))
            .order_by(Action.code)
        )
        values: dict[str, dict[str, object]] = {}
        for relation in RELATIONS:
            place = council(relation)
            # Evidence is linked by one of the council's editors (the only people who may).
            keeper = make_person(
                f"evidence-{secrets.token_hex(4)}@example.org", Role.COUNCIL_EDITOR, council=place
            )
            item = evidence.add_file_evidence(
                place,
                "Board paper",
                "board_paper",
                date(2025, 10, 1),
                FileStorage(io.BytesIO(b"%PDF-1.7\n%%EOF\n"), filename="board paper.pdf"),
                actor=keeper,
            )
            assessment = evidence.get_assessment(
                place, MATRIX_PERIOD.replace(" ", "-"), action_code
            )
            assert assessment is not None
            evidence.link_evidence(assessment, item, actor=keeper)
            values[relation] = {
                "period_id": upcoming.id,
                "action_code": action_code,
                "evidence_id": item.id,
            }
        db.session.commit()
    return values


def submit_with_a_comment(
    app: Flask, relation: str, action_code: str, author_id: int | None
) -> int:
    """Assess every action of the relation's return and submit it, and have a panel member
    comment on ``action_code``. Returns the comment's id."""
    gss_code = council_code(relation)
    returns_data.assess_all(app, gss_code)
    returns_data.submit(app, gss_code)
    with app.app_context():
        place = council(relation)
        author = (
            db.session.get(User, author_id)
            if author_id is not None
            else make_person(
                f"panel-{secrets.token_hex(4)}@example.org", Role.PANEL_MEMBER, council=place
            )
        )
        return_ = returns_data.get_return(gss_code)
        action = db.session.scalar(select(Action).where(Action.code == action_code))
        comment = panels.add_comment(return_, action, "Carers were not asked.", actor=author)
        db.session.commit()
        return comment.id


def set_state(app: Flask, state: str) -> None:
    """Bring the three councils' submitted returns to ``state``, as their approvers do."""
    with app.app_context():
        for relation in RELATIONS:
            place = council(relation)
            return_ = returns_data.get_return(council_code(relation))
            approver = make_person(
                f"approver-{secrets.token_hex(4)}@example.org",
                Role.COUNCIL_APPROVER,
                council=place,
            )
            if state == "draft":
                services.send_back_return(return_, "Say more about carers", actor=approver)
            elif state == "signed_off":
                services.sign_off_return(return_, actor=approver)
            elif state == "unshared":
                set_sharing(place, False, actor=approver)
            else:
                assert state == "submitted", state
        db.session.commit()


# -- one database per state, copied for each test ---------------------------------------------


@dataclass(frozen=True)
class MatrixSetting:
    """A template database holding the world in one state, and who is in it."""

    template: str
    world: World
    #: role -> the person of council A (its region, or the nation) who holds it
    people: dict[str, MadeUser]


class MatrixWorlds:
    """Builds each state's template on first use, and drops them all at the end of the run."""

    def __init__(self, databases, loaded_template: str, directory: Path) -> None:
        self.databases = databases
        self.loaded_template = loaded_template
        self.directory = directory
        self.built: dict[str, MatrixSetting] = {}
        self.stack = contextlib.ExitStack()

    def __call__(self, state: str) -> MatrixSetting:
        if state not in self.built:
            self.built[state] = self._build(state)
        return self.built[state]

    def _open(self, template: str, name: str) -> tuple[Flask, str]:
        """An app on a new database copied from ``template``, kept until the run ends."""
        from tests.conftest import make_app

        folder = self.directory / name
        folder.mkdir()
        url = self.stack.enter_context(self.databases.database(template, folder))
        return make_app(url, MAIL_FILE_DIR=str(folder / "mail")), url

    def _build(self, state: str) -> MatrixSetting:
        """The submitted world first (the costly part: people, assessments, comments); any
        other state is a copy of it taken one step on."""
        from tests.conftest import dispose

        if state != "submitted":
            submitted = self("submitted")
            app, url = self._open(submitted.template, state)
            try:
                set_state(app, state)
            finally:
                dispose(app)
            world = replace(submitted.world, state=state)
            return MatrixSetting(self._seal(url), world, submitted.people)
        app, url = self._open(self.loaded_template, state)
        try:
            people = {role: make_member(app, Role(role)) for role in ROLES if role != "anonymous"}
            world = build_world(
                app,
                "submitted",
                panel_member_id=people["panel_member"].id,
                only_test_councils=True,
            )
        finally:
            dispose(app)
        return MatrixSetting(template=self._seal(url), world=world, people=people)

    def _seal(self, url: str) -> str:
        """The template's name as the database server's ``database()`` takes it."""
        parsed = make_url(url)
        if self.databases.dialect != "sqlite":
            assert parsed.database
            return parsed.database
        # As tests/conftest.py's templates: one file holds everything, so a copy is complete.
        path = str(parsed.database)
        with contextlib.closing(sqlite3.connect(path)) as connection:
            connection.execute("PRAGMA journal_mode=DELETE")
        return path

    @contextlib.contextmanager
    def app(
        self, state: str, directory: Path
    ) -> Iterator[tuple[Flask, World, dict[str, MadeUser]]]:
        """An app on a fresh copy of the state's template, with its world and people."""
        from tests.conftest import _app_on

        setting = self(state)
        with _app_on(self.databases, setting.template, directory) as app:
            yield app, replace(setting.world, app=app), setting.people

    def close(self) -> None:
        self.stack.close()
