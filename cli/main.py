"""The ``callqa`` command line: the group, and where each command lives. A command's module is
imported only when it runs (see ``cli.console.Commands``), so the command line starts fast."""

from __future__ import annotations

import warnings

import click

from cli.console import Commands, fail

COMMANDS = {
    "transcribe": "cli.transcription:transcribe",
    "analyze": "cli.analysis:analyze",
    "evaluate": "cli.analysis:evaluate",
    "script": "cli.scripts:script",
    "batch": "cli.batch:batch",
    "calls": "cli.batch:calls",
    "rescore": "cli.batch:rescore",
    "worker": "cli.batch:worker",
    "serve": "cli.serve:serve",
    "user": "cli.users:user",
    "redact": "cli.privacy:redact",
    "purge": "cli.privacy:purge",
    "revive": "cli.team:revive",
    "report": "cli.team:report",
    "mine": "cli.team:mine",
    "calibrate": "cli.team:calibrate",
}


@click.group(cls=Commands, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="callqa")
def main() -> None:
    """Sales-call quality analysis: transcripts, script checkpoints, scores."""
    warnings.showwarning = _show_warning


def _show_warning(message: Warning | str, *_: object, **__: object) -> None:
    """Warnings as one line for the user, not a source location."""
    fail(f"warning: {message}")


if __name__ == "__main__":
    main()
