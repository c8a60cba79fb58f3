"""How the command line speaks to the user: one line on stderr, prefixed with the program's name;
and the group that loads a command's module only when that command runs."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from callqa.errors import CallqaError


def fail(message: str) -> None:
    click.echo(f"callqa: {message}", err=True)


class Commands(click.Group):
    """A group whose commands stop on a CallqaError with its message as one line and exit code 2,
    never a traceback: the one place the command line handles them. A command that goes on after
    one bad file catches the error itself, says so, and exits 1 at the end.

    ``lazy`` names each command's home as ``module:attribute``: the module (and the libraries it
    needs, such as the recogniser or the database) is imported only when that command runs or
    its help is asked for, so ``callqa transcribe`` does not load the web app."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.lazy or name in self.commands:
            return super().get_command(ctx, name)
        module, attribute = self.lazy[name].split(":")
        try:  # a module that reads the settings on import (the workers' app) may find them wrong
            # lazy: the one deferred import of the command line: a command's module, when it runs
            command = getattr(importlib.import_module(module), attribute)
        except CallqaError as error:
            fail(str(error))
            sys.exit(2)
        assert isinstance(command, click.Command), self.lazy[name]
        self.add_command(command, name)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CallqaError as error:
            fail(str(error))
            sys.exit(2)
