"""One call in, a Transcript out: a recording is transcribed, a ``.json`` file is read as one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.metrics import voice_levels
from callqa.errors import InputError
from transcribe import SAMPLE_RATE, stream_audio, transcribe_file
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
    if is_transcript(path):
        return Call(read_transcript(path), None)
    if engine is None:
        raise InputError(f"{path}: a recording needs a Whisper engine")
    return measured(path, transcribe_file(path, engine, options, encoder=encoder), options)


def measured(path: Path, transcript: Transcript, options: TranscribeOptions) -> Call:
    """A recording's transcript, with each side's voice level read from the recording."""
    blocks = stream_audio(path, block_seconds=options.block_seconds, max_duration=options.max_duration)
    return Call(transcript, voice_levels(blocks, transcript, SAMPLE_RATE))
