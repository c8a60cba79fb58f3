"""One call in, a Transcript out: a recording is transcribed, a ``.json`` file is read as one."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.metrics import voice_levels
from callqa.errors import CallqaError, InputError
from transcribe import SAMPLE_RATE, stream_audio, transcribe_files
from transcribe.transcript import Transcript

if TYPE_CHECKING:
    from transcribe.diarize import SpeakerEncoder
    from transcribe.engines import Engine
    from transcribe.pipeline import TranscribeOptions
    from transcribe.recognisers import Engines


@dataclass(frozen=True)
class Call:
    transcript: Transcript
    levels: dict[str, float] | None  # speech dBFS per side, when read from audio


def is_transcript(path: Path) -> bool:
    return path.suffix.lower() == ".json"


def read_transcript(path: Path) -> Transcript:
    """A Transcript from its JSON file; InputError names the file and what is wrong."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(f"{path}: {error.strerror or error}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not a JSON transcript ({error})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: not a JSON transcript (expected an object)")
    try:
        return Transcript.from_dict(data)
    except InputError as error:
        raise InputError(f"{path}: {error}") from None


def load_call(
    path: Path,
    engine: Engine | Engines | None,
    options: TranscribeOptions,
    encoder: SpeakerEncoder | None = None,
) -> Call:
    """Transcribe a recording (measuring each side's voice level), or read a transcript file."""
    [call] = load_calls([path], engine, [options], encoder)
    if isinstance(call, CallqaError):
        raise call
    return call


def load_calls(
    paths: Sequence[Path],
    engine: Engine | Engines | None,
    options: Sequence[TranscribeOptions],
    encoder: SpeakerEncoder | None = None,
) -> list[Call | CallqaError]:
    """``load_call`` for each path, in order, the recordings' speech recognised side by side
    (``transcribe_files``: each with the very words it gets alone); a bad file's error, naming
    it, in its place, so the others go on. All are open at once: give a handful, not a folder."""
    found: dict[int, Call | CallqaError] = {}
    for i, path in enumerate(paths):
        if is_transcript(path):
            found[i] = _caught(_read_call, path)
        elif engine is None:
            found[i] = InputError(f"{path}: a recording needs a Whisper engine")
    heard = [i for i in range(len(paths)) if i not in found]
    if heard and engine is not None:
        transcripts = transcribe_files([paths[i] for i in heard], engine, [options[i] for i in heard], encoder=encoder)
        for i, transcript in zip(heard, transcripts, strict=True):
            found[i] = transcript if isinstance(transcript, CallqaError) else _caught(
                measured, paths[i], transcript, options[i])  # fmt: skip
    return [found[i] for i in range(len(paths))]


def _caught(load: Callable[..., Call], *args: Any) -> Call | CallqaError:
    """The call ``load(*args)`` gives, or the CallqaError it raised (naming the file)."""
    try:
        return load(*args)
    except CallqaError as error:
        return error


def _read_call(path: Path) -> Call:
    return Call(read_transcript(path), None)


def measured(path: Path, transcript: Transcript, options: TranscribeOptions) -> Call:
    """A recording's transcript, with each side's voice level read from the recording."""
    blocks = stream_audio(path, block_seconds=options.block_seconds, max_duration=options.max_duration)
    return Call(transcript, voice_levels(blocks, transcript, SAMPLE_RATE))
