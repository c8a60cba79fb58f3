"""``callqa user``: who may use the API and the pages."""

from __future__ import annotations

import click

from callqa.settings import Settings
from storage import connect
from storage.users import add_user, set_password


@click.group()
def user() -> None:
    """Users of the API and the pages: admin, quality, trainer or manager."""


_PASSWORD = click.option(
    "--password", is_flag=False, flag_value="", default=None,
    help="Set a password for the pages; asked for (hidden) when no value follows.",
)  # fmt: skip


def _prompt() -> str:
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@user.command("add")
@click.argument("name")
@click.option(
    "--role", required=True, type=click.Choice(["admin", "quality", "trainer", "manager"])
)
@_PASSWORD
def user_add(name: str, role: str, password: str | None) -> None:
    """Create a user and print their API token (shown once).

    \b
    callqa user add anna --role quality --password     # asks for the password of the pages
    """
    token = add_user(connect(Settings.from_env().database), name, role,
                     _prompt() if password == "" else password)  # fmt: skip
    click.echo(token)


@user.command("password")
@click.argument("name")
@_PASSWORD
def user_password(name: str, password: str | None) -> None:
    """Set or change the password a user signs in to the pages with (asked for, hidden)."""
    set_password(connect(Settings.from_env().database), name, password or _prompt())
    click.echo(f"password of {name} set")
