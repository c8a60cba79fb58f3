"""How the command line speaks to the user: one line on stderr, prefixed with the program's name."""

from __future__ import annotations

import sys
from typing import Any

import click

from callqa.errors import CallqaError


def fail(message: str) -> None:
    click.echo(f"callqa: {message}", err=True)


class Commands(click.Group):
    """A group whose commands stop on a CallqaError with its message as one line and exit code 2,
    never a traceback: the one place the command line handles them. A command that goes on after
    one bad file catches the error itself, says so, and exits 1 at the end."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CallqaError as error:
            fail(str(error))
            sys.exit(2)
