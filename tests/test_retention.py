"""Retention: unused accounts are disabled after a year and anonymised a year later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.access_matrix import council, https_client, post
from tests.factories import get_user, make_user
from tracker.accounts import tokens
from tracker.domain.principal import load_principal
from tracker.extensions import db
from tracker.models import ApiToken, AuditEvent, Membership, Role, User
from tracker.panels.services import ensure_profile, update_profile
from tracker.retention import ANONYMISED_NAME, ANONYMISED_TOKEN_NAME, run_retention

NOW = datetime(2026, 11, 28, 9, 0)


def _seen(user_id: int, when: datetime) -> None:
    get_user(user_id).last_sign_in_at = when
    db.session.commit()


def test_an_account_unused_for_a_year_is_disabled_and_one_in_use_is_not(app):
    with app.app_context():
        leeds = council("own")
        idle = make_user(email="idle@example.org", memberships=[(Role.COUNCIL_EDITOR, leeds)])
        busy = make_user(email="busy@example.org", memberships=[(Role.COUNCIL_EDITOR, leeds)])
        _seen(idle.id, NOW - timedelta(days=366))
        _seen(busy.id, NOW - timedelta(days=364))
        report = run_retention(NOW)
        db.session.commit()
        assert report.disabled == [idle.id]
        assert report.anonymised == []
        assert not get_user(idle.id).is_active
        assert get_user(busy.id).is_active
        # Idempotent: a second run the same day changes nothing.
        again = run_retention(NOW)
        assert (again.disabled, again.anonymised) == ([], [])


def test_a_disabled_account_is_anonymised_a_year_later_and_only_once(app):
    with app.app_context():
        leeds = council("own")
        person = make_user(
            email="leaver@example.org",
            display_name="Lee Leaver",
            memberships=[(Role.PANEL_MEMBER, leeds)],
            active=False,
        )
        profile = ensure_profile(get_user(person.id), leeds)
        update_profile(
            get_user(person.id),
            leeds,
            display_name="Lee L",
            is_real_name_shown=True,
            is_notified_by_email=True,
        )
        get_user(person.id).disabled_at = NOW - timedelta(days=366)
        db.session.commit()
        report = run_retention(NOW)
        db.session.commit()
        assert report.anonymised == [person.id]
        user = get_user(person.id)
        assert "leaver" not in user.email and user.display_name == ANONYMISED_NAME
        assert user.password_hash is None
        assert (
            db.session.scalars(select(Membership).where(Membership.user_id == person.id)).all()
            == []
        )
        events = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_id == str(person.id))
        ).all()
        assert events.count("user.anonymise") == 1
        # Their panel comments stay, by a "former panel member".
        db.session.refresh(profile)
        assert profile.user_id is None and profile.display_name is None
        assert not profile.is_real_name_shown
        assert run_retention(NOW).anonymised == []


def test_an_anonymised_person_cannot_sign_in(app):
    person = make_user(app, email="gone@example.org", active=True)
    with app.app_context():
        _seen(person.id, NOW - timedelta(days=800))
        run_retention(NOW)
        get_user(person.id).disabled_at = NOW - timedelta(days=400)
        run_retention(NOW)
        db.session.commit()
        assert db.session.scalar(select(User).where(User.email == "gone@example.org")) is None
    client = https_client(app)
    response = post(
        client, "/auth/sign-in", {"email": "gone@example.org", "password": person.password}
    )
    assert response.status_code == 422


def test_the_command_reports_what_it_did(app, runner):
    with app.app_context():
        person = make_user(email="old@example.org")
        _seen(person.id, datetime.now(UTC).replace(tzinfo=None) - timedelta(days=400))
    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert "accounts disabled after 365 days unused: 1" in result.output


def test_anonymising_renames_the_persons_api_tokens(app):
    """A token's name is the person's own words ("Lee's Power BI"): it goes with the rest."""
    with app.app_context():
        leeds = council("own")
        person = make_user(
            email="tokens@example.org", memberships=[(Role.COUNCIL_VIEWER, leeds)], active=True
        )
        _token, _secret = tokens.create(
            load_principal(get_user(person.id)),
            name="Lee's Power BI",
            scope=f"council:{leeds.gss_code}",
        )
        get_user(person.id).is_active = False
        get_user(person.id).disabled_at = NOW - timedelta(days=366)
        db.session.commit()
        assert run_retention(NOW).anonymised == [person.id]
        db.session.commit()
        names = db.session.scalars(select(ApiToken.name).where(ApiToken.user_id == person.id))
        assert list(names) == [ANONYMISED_TOKEN_NAME]
