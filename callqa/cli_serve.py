"""``callqa serve`` and ``callqa user``: the API server and who may use it."""

from __future__ import annotations

import sys

import click

from callqa.console import fail as _fail
from callqa.errors import CallqaError
from callqa.settings import Settings


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
def serve(host: str, port: int) -> None:
    """The JSON API (OpenAPI at /docs) on the embedded defaults or the configured storage."""
    import uvicorn

    from api import create_app

    try:
        app = create_app(Settings.from_env())
    except CallqaError as error:
        _fail(str(error))
        sys.exit(2)
    uvicorn.run(app, host=host, port=port)


@click.group()
def user() -> None:
    """Users of the API: admin, quality, trainer or manager."""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["admin", "quality", "trainer", "manager"]))
@click.option("--password", help="Also set a password (for the pages to come).")
def user_add(name: str, role: str, password: str | None) -> None:
    """Create a user and print their API token (shown once).

    \b
    callqa user add anna --role quality
    """
    from callqa.storage import connect
    from callqa.storage.users import add_user

    try:
        token = add_user(connect(Settings.from_env().database), name, role, password)
    except CallqaError as error:
        _fail(str(error))
        sys.exit(2)
    click.echo(token)
