"""How the command line speaks to the user: one line on stderr, prefixed with the program's name."""

from __future__ import annotations

import click


def fail(message: str) -> None:
    click.echo(f"callqa: {message}", err=True)
