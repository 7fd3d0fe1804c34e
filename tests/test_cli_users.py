"""``flask users …`` and ``flask demo …``: the first administrator, the list, and the demo."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import func, select

from tests.access_matrix import https_client, make_person
from tests.helpers import path_of, sign_in
from tracker.accounts.names import check_name
from tracker.accounts.passwords import check_password
from tracker.admin.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, DEMO_TOTP_SECRET
from tracker.extensions import db
from tracker.models import AuditEvent, Membership, Role, User


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_a_fresh_installation_has_no_accounts(app):
    assert _count(app, User) == 0


def test_create_admin_makes_a_national_administrator_and_prints_a_working_link(app, runner):
    result = runner.invoke(
        args=["users", "create-admin", "--email", "Chief@Example.org", "--name", "Chief Admin"]
    )

    assert result.exit_code == 0, result.output
    link = next(line.strip() for line in result.output.splitlines() if "/auth/invitation/" in line)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "chief@example.org"))
        assert user.password_hash is None  # no default password
        assert [m.role for m in user.memberships] == [Role.NATIONAL_ADMIN.value]
        assert user.is_demo is False
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions == ["user.create", "membership.create", "user.invite"]
    page = https_client(app).get(path_of(link))
    assert page.status_code == 200


def test_create_admin_refuses_an_address_that_has_an_account(app, runner):
    with app.app_context():
        make_person("chief@example.org")
        db.session.commit()
    before = _count(app, AuditEvent)

    result = runner.invoke(
        args=["users", "create-admin", "--email", "CHIEF@example.org", "--name", "Again"]
    )

    assert result.exit_code == 1
    assert "There is already an account with this email address" in result.output
    assert "Nothing was changed" in result.output
    assert _count(app, AuditEvent) == before
    assert _count(app, Membership) == 0


def test_create_admin_refuses_a_malformed_address(app, runner):
    result = runner.invoke(args=["users", "create-admin", "--email", "chief", "--name", "X"])
    assert result.exit_code == 1
    assert "Enter an email address in the correct format" in result.output
    assert _count(app, User) == 0


def test_create_admin_refuses_a_name_with_a_line_break(app, runner):
    result = runner.invoke(
        args=["users", "create-admin", "--email", "chief@example.org", "--name", "Chief\nAdmin"]
    )
    assert result.exit_code == 1
    assert "Name must not contain line breaks or control characters" in result.output
    assert "Nothing was changed" in result.output
    assert _count(app, User) == 0


def test_users_list_shows_each_account_with_status_and_roles(app, runner):
    runner.invoke(args=["users", "create-admin", "--email", "a@example.org", "--name", "Ann"])
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 0
    assert "a@example.org  Ann  [invited]" in result.output
    assert "- National administrator" in result.output


def test_users_list_on_an_empty_database(runner):
    result = runner.invoke(args=["users", "list"])
    assert "No accounts" in result.output


# -- the demo ------------------------------------------------------------------------------------


def test_demo_seed_creates_every_demo_account_once(app, runner):
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    assert f"{len(DEMO_ACCOUNTS)} created" in first.output
    assert DEMO_PASSWORD in first.output and DEMO_TOTP_SECRET in first.output
    for account in DEMO_ACCOUNTS:
        assert account.email in first.output

    second = runner.invoke(args=["demo", "seed"])
    assert second.exit_code == 0
    assert f"0 created, {len(DEMO_ACCOUNTS)} already present, 0 roles added" in second.output

    with app.app_context():
        users = db.session.scalars(select(User)).all()
        assert len(users) == len(DEMO_ACCOUNTS) == 14
        assert all(u.is_demo for u in users)
        roles = db.session.execute(select(Membership.role, func.count()).group_by(Membership.role))
        assert dict(roles.all()) == {
            "national_admin": 1,
            "regional_member": 1,
            "council_approver": 3,
            "council_editor": 3,
            "council_viewer": 3,
            "panel_member": 3,
        }
        with_mfa = {u.email for u in users if u.has_mfa}
        assert with_mfa == {
            a.email for a in DEMO_ACCOUNTS if a.role in {Role.COUNCIL_APPROVER, Role.NATIONAL_ADMIN}
        }


def test_demo_councils_are_in_different_regions_with_the_regional_member_in_leeds_region(
    app, runner
):
    runner.invoke(args=["demo", "seed"])
    with app.app_context():
        regions = dict(
            db.session.execute(
                select(User.email, func.coalesce(Membership.region_id, 0))
                .join(Membership, Membership.user_id == User.id)
                .where(User.email == "regional.yorkshire@demo.invalid")
            ).all()
        )
        leeds = db.session.scalar(
            select(Membership)
            .join(User, Membership.user_id == User.id)
            .where(User.email == "approver.leeds@demo.invalid")
        )
        assert regions["regional.yorkshire@demo.invalid"] == leeds.council.region_id
        approvers = db.session.scalars(
            select(Membership).where(Membership.role == "council_approver")
        ).all()
        assert len({m.council.region_id for m in approvers}) == 3


def test_demo_seed_refuses_a_database_with_real_accounts(app, runner):
    with app.app_context():
        make_person("real@example.org", Role.NATIONAL_ADMIN)
        db.session.commit()
    result = runner.invoke(args=["demo", "seed"])
    assert "Not seeding the demo" in result.output
    assert _count(app, User) == 1


def test_a_demo_approver_signs_in_with_the_published_password_and_code(app, runner):
    runner.invoke(args=["demo", "seed"])
    client = https_client(app)
    sign_in(
        client,
        "approver.leeds@demo.invalid",
        DEMO_PASSWORD,
        DEMO_TOTP_SECRET,
        base_url="https://localhost",
    )
    assert client.get("/councils/E08000035/team/").status_code == 200


def test_demo_totp_code_prints_the_current_code_for_demo_accounts_only(app, runner):
    runner.invoke(args=["demo", "seed"])
    result = runner.invoke(args=["demo", "totp-code", "admin@demo.invalid"])
    assert result.exit_code == 0
    assert pyotp.TOTP(DEMO_TOTP_SECRET).verify(result.output.strip(), valid_window=1)

    no_app = runner.invoke(args=["demo", "totp-code", "editor.leeds@demo.invalid"])
    assert no_app.exit_code == 1
    assert "no authenticator app" in no_app.output


def test_demo_totp_code_refuses_real_accounts(app, runner):
    with app.app_context():
        user = make_person("real@example.org", Role.NATIONAL_ADMIN)
        user.totp_secret = secret = pyotp.random_base32()
        db.session.commit()
    result = runner.invoke(args=["demo", "totp-code", "real@example.org"])
    assert result.exit_code == 1
    assert "not a demo account" in result.output
    assert pyotp.TOTP(secret).now() not in result.output
    missing = runner.invoke(args=["demo", "totp-code", "nobody@example.org"])
    assert missing.exit_code == 1


@pytest.mark.parametrize("account", DEMO_ACCOUNTS, ids=lambda a: a.email)
def test_the_demo_password_meets_the_password_policy_for_every_demo_account(account):
    check_password(DEMO_PASSWORD, email=account.email, name=account.display_name)


@pytest.mark.parametrize("account", DEMO_ACCOUNTS, ids=lambda a: a.email)
def test_every_demo_account_name_meets_the_name_rule(account):
    check_name(account.display_name)
