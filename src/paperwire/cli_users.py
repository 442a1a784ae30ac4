"""``paperwire user``: create accounts (the first admin) and change roles."""

from __future__ import annotations

import sys

import click

from paperwire.accounts import service as accounts
from paperwire.cli_support import open_context
from paperwire.errors import UserError
from paperwire.models import Role
from paperwire.store import users as user_store
from paperwire.store.state import bump_content_version

ROLES = [role.value for role in Role]


@click.group()
def user() -> None:
    """Manage accounts."""


@user.command("create")
@click.argument("username")
@click.option("--email", required=True, help="The account's email address.")
@click.option("--role", type=click.Choice(ROLES), default="member", show_default=True)
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (scripts)."
)
@click.pass_context
def user_create(
    ctx: click.Context, username: str, email: str, role: str, password_stdin: bool
) -> None:
    """Create an account, e.g. the first admin: paperwire user create alice --role admin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    context = open_context(ctx)
    try:
        with context.engine.begin() as conn:
            created = accounts.sign_up(
                conn, username=username, email=email, password=password, role=Role(role)
            )
    except UserError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"created {created.role.value} {created.username} <{created.email}>")


@user.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
@click.pass_context
def user_set_role(ctx: click.Context, username: str, role: str) -> None:
    """Make a user a member, curator or admin."""
    context = open_context(ctx)
    with context.engine.begin() as conn:
        found = user_store.get_user_by_name(conn, username)
        if found is None:
            raise click.ClickException(f"no user named {username!r}")
        user_store.set_role(conn, found.id, Role(role))
        bump_content_version(conn)  # profiles and comments show role badges
    click.echo(f"{found.username} is now {role}")
