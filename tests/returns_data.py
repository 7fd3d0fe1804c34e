"""Periods and returns for page tests, made through the services the app uses (not fixtures).

Each helper pushes its own application context and commits, so that a request made afterwards
sees the data::

    slug = open_period(app)                          # "2025-26-Q3": every council gets a draft
    assess_all(app, "E08000035")                     # Leeds: every action Embedded
    submit(app, "E08000035")                         # … and submitted
"""

from __future__ import annotations

import secrets
import sqlite3
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select, update

from tests.access_matrix import council, make_person
from tracker.extensions import db
from tracker.models import Action, Assessment, Council, Period, Return, Role, User
from tracker.returns import periods, services

LABEL = "2025-26 Q3"
SLUG = "2025-26-Q3"
PREVIOUS_LABEL = "2025-26 Q2"
PREVIOUS_SLUG = "2025-26-Q2"
LEEDS = "E08000035"
WAKEFIELD = "E08000036"
CORNWALL = "E06000052"
TRACKABLE = 140
#: the councils the page tests speak of (tests/access_matrix.py: own, same region, other region)
TEST_COUNCILS = (LEEDS, WAKEFIELD, CORNWALL)
EMBEDDED = {"stage": "embedded"}


def _period(label: str) -> Period:
    found = db.session.scalar(select(Period).where(Period.label == label))
    assert found is not None, label
    return found


def get_return(gss_code: str, label: str = LABEL) -> Return:
    """The council's return for the period; call inside an app context."""
    found = services.get_return(council(gss_code), _period(label))
    assert found is not None, (gss_code, label)
    return found


def get_assessment(gss_code: str, code: str, label: str = LABEL) -> Assessment:
    """The council's assessment of one action; call inside an app context."""
    found = db.session.scalar(
        select(Assessment)
        .join(Action, Assessment.action_id == Action.id)
        .where(Assessment.return_id == get_return(gss_code, label).id, Action.code == code)
    )
    assert found is not None, code
    return found


def open_period(
    app: Flask,
    label: str = LABEL,
    *,
    closes_on: date = date(2030, 1, 31),
    only: tuple[str, ...] | None = TEST_COUNCILS,
) -> str:
    """Create and open the period (every active council gets a draft); returns its URL form.

    :param only: first make every other council inactive, so that opening gives three drafts
        rather than 153 (seconds faster on PostgreSQL); None keeps every council.
    """
    with app.app_context():
        if only:
            db.session.execute(
                update(Council).where(Council.gss_code.not_in(only)).values(is_active=False)
            )
        period = periods.create_period(label, closes_on, actor=None)
        periods.open_period(period, actor=None)
        db.session.commit()
    return label.replace(" ", "-")


def close_period(app: Flask, label: str = LABEL) -> None:
    with app.app_context():
        # Deliberately, whatever its due date: the tests close periods early.
        periods.close_period(_period(label), actor=None, confirm_early=True)
        db.session.commit()


def _someone(gss_code: str, role: Role, user_id: int | None) -> User:
    if user_id is not None:
        return db.session.get(User, user_id)
    return make_person(
        f"setup-{secrets.token_hex(4)}@example.org",
        role,
        council=council(gss_code),
        name="Set-up Person",
    )


def assess(
    app: Flask,
    gss_code: str,
    codes: list[str] | None = None,
    values: dict[str, Any] | None = None,
    *,
    label: str = LABEL,
    editor_id: int | None = None,
) -> None:
    """Give the actions ``codes`` (every action when None) the same answers, through bulk edit's
    service: each is validated and audited."""
    with app.app_context():
        return_ = get_return(gss_code, label)
        query = (
            select(Action.code, Assessment)
            .join(Action, Assessment.action_id == Action.id)
            .where(Assessment.return_id == return_.id)
        )
        if codes is not None:
            query = query.where(Action.code.in_(codes))
        targets = {code: (a, a.version_id) for code, a in db.session.execute(query)}
        actor = _someone(gss_code, Role.COUNCIL_EDITOR, editor_id)
        services.bulk_save_assessments(return_, targets, values or EMBEDDED, actor=actor)
        db.session.commit()


def assess_all(app: Flask, gss_code: str, values: dict[str, Any] | None = None, **kwargs) -> None:
    assess(app, gss_code, None, values, **kwargs)


def submit(app: Flask, gss_code: str, label: str = LABEL, *, editor_id: int | None = None) -> None:
    with app.app_context():
        actor = _someone(gss_code, Role.COUNCIL_EDITOR, editor_id)
        services.submit_return(get_return(gss_code, label), actor=actor)
        db.session.commit()


def sign_off(
    app: Flask, gss_code: str, label: str = LABEL, *, approver_id: int | None = None
) -> None:
    with app.app_context():
        actor = _someone(gss_code, Role.COUNCIL_APPROVER, approver_id)
        services.sign_off_return(get_return(gss_code, label), actor=actor)
        db.session.commit()


def complete_quarter(
    app: Flask, gss_code: str, label: str, values: dict[str, Any], **kwargs: Any
) -> str:
    """Open ``label``, assess all of ``gss_code``'s actions with ``values``, submit and sign it off
    and close the period: a finished earlier quarter."""
    slug = open_period(app, label, **kwargs)
    assess_all(app, gss_code, values, label=label)
    submit(app, gss_code, label)
    sign_off(app, gss_code, label)
    close_period(app, label)
    return slug


def action_versions(database: str | Path, gss_code: str, label: str = LABEL) -> dict[str, int]:
    """Action code → version of the council's assessment for ``label``, read straight from the
    SQLite file (for tests that run the app in another process)."""
    with closing(sqlite3.connect(database)) as connection:
        return dict(
            connection.execute(
                "SELECT actions.code, assessments.version_id FROM assessments "
                "JOIN actions ON actions.id = assessments.action_id "
                "JOIN returns ON returns.id = assessments.return_id "
                "JOIN councils ON councils.id = returns.council_id "
                "JOIN periods ON periods.id = returns.period_id "
                "WHERE councils.gss_code = ? AND periods.label = ?",
                (gss_code, label),
            ).fetchall()
        )


def confirm_unchanged(
    app: Flask,
    gss_code: str,
    codes: list[str] | None = None,
    *,
    label: str = LABEL,
    editor_id: int | None = None,
) -> int:
    """Confirm unchanged the carried-forward actions ``codes`` (every one not yet reviewed when
    None), through the service the confirmation page calls; returns how many."""
    with app.app_context():
        return_ = get_return(gss_code, label)
        query = (
            select(Action.code, Assessment)
            .join(Action, Assessment.action_id == Action.id)
            .where(
                Assessment.return_id == return_.id,
                Assessment.is_carried_forward.is_(True),
                Assessment.confirmed_at.is_(None),
            )
        )
        if codes is not None:
            query = query.where(Action.code.in_(codes))
        targets = {code: (a, a.version_id) for code, a in db.session.execute(query)}
        actor = _someone(gss_code, Role.COUNCIL_EDITOR, editor_id)
        count = services.confirm_unchanged(return_, targets, actor=actor)
        db.session.commit()
        return count
