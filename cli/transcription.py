"""``callqa transcribe``: recordings into speaker-attributed transcripts."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import click

from callqa.errors import CallqaError
from callqa.settings import ENGINES, Settings
from cli.console import fail as _fail
from transcribe import RecognitionOptions, TranscribeOptions, transcribe_file
from transcribe.diarize import SpeakerEncoder
from transcribe.formats import render
from transcribe.pipeline import ManagerChannel
from transcribe.recognisers import Recognisers

_EXTENSIONS = {"text": "txt", "txt": "txt", "srt": "srt", "vtt": "vtt", "json": "json"}


ENGINE = click.option("--engine", type=click.Choice(ENGINES), help="Whisper implementation [default: CALLQA_ENGINE, "
                      "else faster-whisper].")  # fmt: skip
MODEL = click.option("--model", help="tiny.en (bundled, default), base (bundled, multilingual), a Whisper name, "
                     "or a path to a CTranslate2 directory or .pt checkpoint [default: CALLQA_MODEL].")  # fmt: skip


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print each Transcript as one JSON line.")
@click.option(
    "--format", "fmt", type=click.Choice(list(_EXTENSIONS)),
    help="Write one file per recording in this format (next to it, or in --output-dir).",
)
@click.option("-o", "--output-dir", type=click.Path(file_okay=False, path_type=Path))
@ENGINE
@MODEL
@click.option("--language", help="Language code such as en or ru [default: CALLQA_LANGUAGE, else detected].")
@click.option("--manager-channel", type=click.Choice(["left", "right", "auto"]),
              help="Stereo channel of the manager [default: the source's rule, else left].")
@click.option("--beam-size", type=click.IntRange(1, 20), default=5, show_default=True)
@click.option("--no-vad", is_flag=True, help="Decode silence too instead of skipping it.")
@click.option("--prompt", "initial_prompt", help="Context text for the recogniser.")
@click.option("--hotword", "hotwords", multiple=True,
              help="A name the recogniser should expect (repeatable).")
@click.option("--max-duration", type=click.FloatRange(min=1),
              help="Refuse recordings longer than this many seconds [default: 14400].")
@click.option("--device", help="cpu, cuda or auto [default: auto].")
def transcribe(
    files: Sequence[Path],
    as_json: bool,
    fmt: str | None,
    output_dir: Path | None,
    engine: str | None,
    model: str | None,
    language: str | None,
    manager_channel: str | None,
    beam_size: int,
    no_vad: bool,
    initial_prompt: str | None,
    hotwords: tuple[str, ...],
    max_duration: float | None,
    device: str | None,
) -> None:
    """Transcribe recordings into speaker-attributed transcripts.

    \b
    callqa transcribe call.mp3
    callqa transcribe call.wav --json
    callqa transcribe calls/*.ogg --format srt
    """
    if as_json and fmt:
        raise click.UsageError("use either --json (to stdout) or --format (to files)")
    settings = Settings.from_env()
    language = language or settings.language
    recognition = RecognitionOptions(
        language=language, beam_size=beam_size, vad=not no_vad,
        initial_prompt=initial_prompt, hotwords=hotwords,
    )
    recogniser = Recognisers.from_settings(settings, engine=engine, model=model, device=device)
    recogniser.for_language(language or "en")  # a bad --model or --language stops here
    options = TranscribeOptions(
        recognition=recognition, max_duration=max_duration or settings.max_duration
    )
    encoder = recogniser.diarizer()
    failed = 0
    for path in files:
        # The flag wins; otherwise the recording's source rule, then the default.
        channel = manager_channel or settings.manager_channel_for(path)
        one = dataclasses.replace(options, manager_channel=cast("ManagerChannel", channel))
        if not _transcribe_one(path, recogniser, one, encoder, as_json, fmt, output_dir,
                               several=len(files) > 1):
            failed += 1
    if failed:
        sys.exit(1)


def _transcribe_one(
    path: Path,
    recogniser: Recognisers,
    options: TranscribeOptions,
    encoder: SpeakerEncoder,
    as_json: bool,
    fmt: str | None,
    output_dir: Path | None,
    several: bool,
) -> bool:
    """Transcribe and write one recording; False (with one line on stderr) when it fails."""
    try:
        transcript = transcribe_file(path, recogniser, options, encoder=encoder)
        if options.recognition.language is None and transcript.language != options.expected_language:
            click.echo(f"callqa: {path}: the speech is in {transcript.language!r}: "
                       f"transcribed with model {transcript.model}", err=True)  # fmt: skip
        if not transcript.utterances:
            click.echo(f"callqa: {path}: no speech recognised", err=True)
        if fmt:
            target = (output_dir or path.parent) / f"{path.stem}.{_EXTENSIONS[fmt]}"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(render(transcript, fmt), encoding="utf-8")
            click.echo(f"{path}: wrote {target}", err=True)
        elif as_json:
            click.echo(transcript.to_json())
        else:
            if several:
                click.echo(f"== {path} ({transcript.duration:.1f} s, {transcript.language})")
            click.echo(render(transcript, "text"), nl=False)
    except CallqaError as error:
        _fail(str(error))
        return False
    except OSError as error:
        _fail(f"{path}: {error.strerror or error}")
        return False
    except Exception as error:  # noqa: BLE001 - one recording's failure must not stop the rest
        _fail(f"{path}: unexpected error, please report it: {type(error).__name__}: {error}")
        return False
    return True
