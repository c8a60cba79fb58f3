"""``callqa redact`` and ``callqa purge``: personal data out of calls, expired calls out of storage."""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import datetime
from pathlib import Path

import click

from analysis.redact import redact as redact_transcript
from callqa.errors import CallqaError
from callqa.settings import Settings
from cli.analysis import CallLoader
from cli.console import fail
from pipeline.calls import is_transcript
from pipeline.context import Context
from pipeline.redaction import redact_call
from pipeline.retention import purge as run_purge
from storage.calls import unredacted_calls
from transcribe.silence import silence

_DAY = click.DateTime(formats=["%Y-%m-%d"])


@click.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--audio", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the recording with the personal data silenced here (WAV: 8 kHz mu-law for a telephone recording, else 16 kHz).")  # fmt: skip
@click.option("--keep", multiple=True, help="A name that is not redacted: the manager's own.")
@click.option("--stored", is_flag=True, help="Redact every stored call that is not redacted yet.")
@click.option("--json", "as_json", is_flag=True, help="The redacted transcript and what was found, as JSON.")
@click.option("--language", help="en or ru, for a recording [default: detected].")
def redact(
    files: tuple[Path, ...], audio: Path | None, keep: tuple[str, ...], stored: bool, as_json: bool,
    language: str | None,
) -> None:  # fmt: skip
    """Replace personal data in a recording or transcript (.json) with placeholders such as
    [PHONE], and print it; with --stored, redact what the database holds."""
    settings = Settings.from_env()
    if stored:
        _redact_stored(settings, as_json)
        return
    if len(files) != 1:
        raise click.UsageError("give one recording or transcript, or --stored")
    _redact_file(settings, files[0], audio, keep, as_json, language)


def _redact_file(settings: Settings, path: Path, audio: Path | None, keep: tuple[str, ...],
                 as_json: bool, language: str | None) -> None:  # fmt: skip
    if audio and is_transcript(path):
        raise click.UsageError(f"{path}: --audio needs a recording, not a transcript")
    redaction = redact_transcript(CallLoader(settings, language or "en")(path).transcript, keep)
    seconds = None
    if audio:
        seconds = silence(path, audio, redaction.spans(), max_duration=settings.max_duration)
    if as_json:
        out = {"transcript": redaction.transcript.to_dict(), "redactions": redaction.found(),
               "silenced_seconds": seconds}  # fmt: skip
        click.echo(json.dumps(out, ensure_ascii=False))
        return
    for u in redaction.transcript.utterances:
        click.echo(f"[{u.start:7.2f}] {u.speaker}: {u.text}")
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(redaction.counts().items())) or "nothing"
    silenced = f"; {seconds:.1f} s silenced in {audio}" if audio else ""
    click.echo(f"redacted: {counts}{silenced}", err=True)


def _redact_stored(settings: Settings, as_json: bool) -> None:
    ctx = Context.from_settings(settings)
    with ctx.sessions() as db:
        ids = unredacted_calls(db)
    failed = 0
    for call_id in ids:
        try:
            redaction = redact_call(ctx, call_id)
        except CallqaError as error:  # one bad recording does not stop the rest
            failed += 1
            click.echo(f"call {call_id}: {error}", err=True)
            continue
        counts = redaction.counts() if redaction else {}
        if as_json:
            click.echo(json.dumps({"call": call_id, "redacted": counts}))
    click.echo(f"{len(ids) - failed} calls redacted, {failed} failed", err=True)
    if failed:
        sys.exit(1)


@click.command()
@click.option("--as-of", "as_of", type=_DAY, help="Purge as if it were this day (YYYY-MM-DD) [default: now].")
@click.option("--dry-run", is_flag=True, help="Say what would be deleted; delete nothing.")
@click.option("--json", "as_json", is_flag=True, help="The call ids per kind of deletion, as JSON.")
def purge(as_of: datetime | None, dry_run: bool, as_json: bool) -> None:
    """Delete the recordings, transcripts and calls older than the retention settings
    (CALLQA_KEEP_AUDIO_DAYS, _TRANSCRIPT_DAYS, _REPORT_DAYS); held calls are kept. Each deletion
    is recorded in the access log."""
    settings = Settings.from_env()
    if not settings.purges:
        fail("nothing to purge: set CALLQA_KEEP_AUDIO_DAYS, CALLQA_KEEP_TRANSCRIPT_DAYS or "
             "CALLQA_KEEP_REPORT_DAYS (days; 0 keeps for ever)")  # fmt: skip
        sys.exit(2)
    purged = run_purge(Context.from_settings(settings), as_of, dry_run)
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(purged) | {"dry_run": dry_run}))
        return
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"{verb}: audio of {len(purged.audio)} calls, transcripts of {len(purged.transcripts)}, "
               f"{len(purged.calls)} whole calls; {len(purged.held)} expired calls kept on hold")  # fmt: skip
