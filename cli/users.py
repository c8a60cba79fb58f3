"""``callqa user``: who may use the API and the pages."""

from __future__ import annotations

import json

import click
from sqlalchemy.orm import Session, sessionmaker

from callqa.settings import Settings
from storage import connect
from storage.users import (
    ROLES,
    add_user,
    new_token,
    remove_user,
    set_disabled,
    set_password,
    set_role,
    users,
)


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
@click.option("--role", required=True, type=click.Choice(ROLES))
@_PASSWORD
def user_add(name: str, role: str, password: str | None) -> None:
    """Create a user and print their API token (shown once).

    \b
    callqa user add anna --role quality --password     # asks for the password of the pages
    """
    token = add_user(_sessions(), name, role, _prompt() if password == "" else password)
    click.echo(token)


@user.command("password")
@click.argument("name")
@_PASSWORD
def user_password(name: str, password: str | None) -> None:
    """Set or change the password a user signs in to the pages with (asked for, hidden). As after
    a leak, their browser sessions end and their API token is replaced: the new one is printed."""
    token = set_password(_sessions(), name, password or _prompt())
    click.echo(f"password of {name} set; their API token was replaced", err=True)
    click.echo(token)


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per user.")
def user_list(as_json: bool) -> None:
    """Every user: role, whether they sign in with a password, disabled, token expiry."""
    with _sessions()() as db:
        for u in users(db):
            row = {"name": u.name, "role": u.role, "password": u.password_hash is not None,
                   "disabled": u.disabled_at.isoformat(timespec="seconds") if u.disabled_at else None,
                   "token_expires": u.token_expires_at.isoformat(timespec="seconds") if u.token_expires_at else None,
                   "created": u.created_at.isoformat(timespec="seconds")}  # fmt: skip
            if as_json:
                click.echo(json.dumps(row))
                continue
            notes = [n for n in ("password" if row["password"] else "token only",
                                 f"disabled {row['disabled']}" if row["disabled"] else "",
                                 f"token expires {row['token_expires']}" if row["token_expires"] else "") if n]  # fmt: skip
            click.echo(f"{u.name:24} {u.role:8} {', '.join(notes)}")


@user.command("disable")
@click.argument("name")
def user_disable(name: str) -> None:
    """Sign a user out everywhere and refuse their password and token; kept for the history."""
    set_disabled(_sessions(), name, True)
    click.echo(f"{name} disabled")


@user.command("enable")
@click.argument("name")
def user_enable(name: str) -> None:
    """Let a disabled user sign in and use their token again."""
    set_disabled(_sessions(), name, False)
    click.echo(f"{name} enabled")


@user.command("remove")
@click.argument("name")
def user_remove(name: str) -> None:
    """Delete a user who has reviewed no call (a reviewer is disabled instead)."""
    remove_user(_sessions(), name)
    click.echo(f"{name} removed")


@user.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
def user_role(name: str, role: str) -> None:
    """Give a user another role; they are signed out everywhere."""
    set_role(_sessions(), name, role)
    click.echo(f"{name} is now {role}")


@user.command("token")
@click.argument("name")
@click.option("--days", type=click.FloatRange(min=0, min_open=True), help="The new token expires after this many days.")
def user_token(name: str, days: float | None) -> None:
    """Replace a user's API token and print the new one (shown once); the old one stops working.

    \b
    callqa user token pbx --days 90
    """
    click.echo(new_token(_sessions(), name, days))


def _sessions() -> sessionmaker[Session]:
    return connect(Settings.from_env().database)
