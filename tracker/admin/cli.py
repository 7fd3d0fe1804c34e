"""Flask CLI commands for people: ``flask users …`` and ``flask demo …``."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker.extensions import db
from tracker.models import Membership, Role, User

users_cli = AppGroup("users", help="People and their accounts.")
demo_cli = AppGroup("demo", help="Demonstration data (never in production).")


@users_cli.command("create-admin")
@click.option("--email", required=True, help="The administrator's email address.")
@click.option("--name", required=True, help="Their name as shown in the service.")
def create_admin_command(email: str, name: str) -> None:
    """Create a national administrator and print their invitation link.

    There is no default password: following the link, they set a password and an
    authenticator app. Refuses an email address that already has an account.
    """
    from tracker.accounts import services as accounts
    from tracker.admin.services import AccountChangeRefused, create_person

    try:
        result = create_person(email, name, Role.NATIONAL_ADMIN, actor=None)
    except AccountChangeRefused as error:
        db.session.rollback()
        raise click.ClickException(
            f"{error}: {email.strip().lower()}. Nothing was changed."
            if error.field == "email"
            else f"{error}. Nothing was changed."
        ) from error
    db.session.commit()
    link = accounts.link_to("auth.invitation", token=result.invitation_token or "")
    click.echo(f"Created national administrator {result.user.display_name} <{result.user.email}>.")
    click.echo("They set a password and an authenticator app by following this link, which")
    click.echo("works once and expires in a few days (an email with a link was also sent):")
    click.echo("")
    click.echo(f"  {link}")


@users_cli.command("list")
def list_users_command() -> None:
    """List every account with its roles."""
    from tracker.admin.services import roles_held

    users = db.session.scalars(
        select(User)
        .order_by(User.email)
        .options(
            selectinload(User.memberships).selectinload(Membership.council),
            selectinload(User.memberships).selectinload(Membership.region),
        )
    ).all()
    if not users:
        click.echo("No accounts. Create the first administrator with: flask users create-admin")
        return
    for user in users:
        if not user.is_active:
            status = "disabled"
        elif user.password_hash is None:
            status = "invited"
        else:
            status = "active"
        flags = [status, *(["demo"] if user.is_demo else []), *(["mfa"] if user.has_mfa else [])]
        click.echo(f"{user.id:>5}  {user.email}  {user.display_name}  [{', '.join(flags)}]")
        for line in roles_held(user.memberships) or ["no roles"]:
            click.echo(f"       - {line}")


@demo_cli.command("seed")
@click.option(
    "--scale",
    type=click.Choice(["demo", "national"]),
    default="demo",
    show_default=True,
    help="demo: eight closed quarters and the current one for every council, evidence for the "
    "demo councils; national: evidence and panel feedback for all 153 councils too.",
)
@click.option(
    "--councils",
    "council_limit",
    type=click.IntRange(min=1),
    default=None,
    help="Only the first N councils (the demo councils first); for the benchmarks.",
)
def seed_command(scale: str, council_limit: int | None) -> None:
    """Create the demo accounts and the demo quarters of returns, and print sign-in details.

    Safe to run again: accounts already there are kept, and no returns are made once the
    database has any period. Refuses (and changes nothing) when the database holds any account
    that is not a demo account.
    """
    from tracker.admin.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET, DemoRefused, seed_demo
    from tracker.demo_data import DatasetRefused, seed_dataset

    try:
        report = seed_demo()
        dataset = seed_dataset(scale, council_limit=council_limit)
    except (DemoRefused, DatasetRefused) as error:
        db.session.rollback()
        click.echo(str(error))
        return
    db.session.commit()
    for line in dataset.lines():
        click.echo(line)
    click.echo(
        f"Demo accounts: {len(report.created)} created, {len(report.present)} already present, "
        f"{report.memberships_added} roles added."
    )
    click.echo("")
    click.echo("Sign in at /auth/sign-in with any of these (demo only; never in production):")
    click.echo(f"  password for all:  {DEMO_PASSWORD}")
    click.echo(f"  authenticator key: {DEMO_TOTP_SECRET}  (approvers and the administrator)")
    click.echo("  or print a current code with: flask demo totp-code EMAIL")
    click.echo("")
    for account in report.accounts:
        where = account.gss_code or account.region_slug or "national"
        mfa = "  + code" if account.has_totp else ""
        click.echo(f"  {account.email:<34} {account.role.label} ({where}){mfa}")


@demo_cli.command("totp-code")
@click.argument("email")
def totp_code_command(email: str) -> None:
    """Print the current authenticator code of a demo account (demo accounts only)."""
    from tracker.admin.demo import DemoRefused, current_totp_code
    from tracker.admin.services import find_user_by_email

    user = find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No account has the email address {email.strip().lower()}")
    try:
        click.echo(current_totp_code(user))
    except DemoRefused as error:
        raise click.ClickException(str(error)) from error
