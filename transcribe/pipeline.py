"""From a recording to a speaker-attributed Transcript.

Stereo calls keep one side per channel: each channel is recognised on its
own, so overlapping speech and interruptions keep their real times. Mono
calls (and stereo files whose two channels are the same) are recognised once
and diarized into two voices. The recording is decoded block by block, so an
hour-long call never sits in memory whole.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from callqa.errors import AudioError
from transcribe.audio import SAMPLE_RATE, is_silent, stream_audio
from transcribe.diarize import SpeakerEncoder, VoiceWindows, label_words, merge_windows
from transcribe.engines.base import Engine, RecognitionOptions, Segment
from transcribe.roles import guess_manager
from transcribe.transcript import ROLES, RoleMethod, Transcript, Utterance, Word

ManagerChannel = Literal["left", "right", "auto"]


@dataclass(frozen=True)
class TranscribeOptions:
    """How to turn a recording into a Transcript. Override with ``dataclasses.replace``."""

    # Options passed to the Whisper engine.
    recognition: RecognitionOptions = field(default_factory=RecognitionOptions)
    # Which stereo channel carries the manager; "auto" decides from what each side says.
    manager_channel: ManagerChannel = "left"
    # Recordings longer than this many seconds are refused; None accepts any length.
    max_duration: float | None = 4 * 3600.0
    # Decode and recognise this many seconds at a time (bounds memory on long calls).
    block_seconds: float = 600.0
    # A pause this long inside one side's speech starts a new utterance.
    turn_gap: float = 1.0


@dataclass(frozen=True)
class _Side:
    """What was recognised on one channel (or in the mono mix)."""

    channel: int
    segments: tuple[Segment, ...]


def transcribe_file(
    path: str | os.PathLike[str],
    engine: Engine,
    options: TranscribeOptions = TranscribeOptions(),
    *,
    encoder: SpeakerEncoder | None = None,
) -> Transcript:
    """Transcribe one recording. ``encoder`` diarizes mono calls; without it one voice is assumed.

    Raises AudioError (naming the file) for a recording that cannot be used.
    """
    name = os.fspath(path)
    _check_language(engine, options.recognition)
    recognition = options.recognition
    stereo: bool | None = None
    sides: dict[int, list[Segment]] = {}
    windows: list[VoiceWindows] = []
    samples = 0
    audible = False
    blocks = stream_audio(name, block_seconds=options.block_seconds, max_duration=options.max_duration)
    for block in blocks:
        offset = samples / SAMPLE_RATE
        samples += block.shape[1]
        if stereo is None:
            stereo = block.shape[0] == 2 and not same_channels(block)
            # One language per call, heard on both sides together: a single
            # side's few words are easily taken for a neighbouring language.
            if recognition.language is None and not is_silent(block):
                recognition = replace(recognition, language=engine.detect_language(block.mean(axis=0)))
        channels = [block[0], block[1]] if stereo else [block.mean(axis=0)]
        for channel, audio in enumerate(channels):
            if is_silent(audio):
                continue
            audible = True
            result = engine.recognize(audio, recognition)
            sides.setdefault(channel, []).extend(_shifted(result.segments, offset))
        if not stereo and encoder is not None and not is_silent(channels[0]):
            windows.append(encoder.embed(channels[0], offset))
    if not audible:
        raise AudioError(name, "the recording is silent")
    found = [_Side(c, tuple(s)) for c, s in sorted(sides.items())]
    if stereo:
        utterances, confidence, method = _by_channel(found, options)
    else:
        utterances, confidence, method = _by_voice(found, windows, options.turn_gap)
    return Transcript(
        utterances=tuple(sorted(utterances, key=lambda u: (u.start, u.channel))),
        language=recognition.language or "en",
        duration=round(samples / SAMPLE_RATE, 3),
        engine=engine.name,
        model=engine.model,
        role_confidence=confidence,
        role_method=method,
        source=name,
    )


def same_channels(block: np.ndarray) -> bool:
    """True for a mono mix saved as stereo: the channels differ by less than -26 dB."""
    left, right = block[0], block[1]
    level = float(np.sqrt(np.mean(np.square((left + right) / 2))))
    difference = float(np.sqrt(np.mean(np.square(left - right))))
    return difference <= 0.05 * level


def _check_language(engine: Engine, options: RecognitionOptions) -> None:
    from callqa.errors import ModelError

    if options.language not in (None, "en") and not engine.multilingual:
        raise ModelError(
            f"model {engine.model} is English-only; for --language {options.language} "
            "use a multilingual model, e.g. --model base"
        )


def _shifted(segments: Iterable[Segment], offset: float) -> Iterable[Segment]:
    if not offset:
        return segments
    return (
        replace(
            s,
            start=s.start + offset,
            end=s.end + offset,
            words=tuple(replace(w, start=w.start + offset, end=w.end + offset) for w in s.words),
        )
        for s in segments
    )


def _by_channel(
    sides: Sequence[_Side], options: TranscribeOptions
) -> tuple[list[Utterance], float, RoleMethod]:
    pieces = [(side.channel, piece) for side in sides for piece in _pieces(side.segments, options.turn_gap)]
    if options.manager_channel == "auto":
        guess = guess_manager([(c, p[0].start, _text(p)) for c, p in pieces])
        manager, confidence = guess.manager, guess.confidence
    else:
        manager, confidence = (0 if options.manager_channel == "left" else 1), 1.0
    utterances = [
        _utterance("manager" if channel == manager else "client", channel, piece)
        for channel, piece in pieces
    ]
    return utterances, confidence, "channel"


def _by_voice(
    sides: Sequence[_Side], windows: list[VoiceWindows], turn_gap: float
) -> tuple[list[Utterance], float, RoleMethod]:
    words = [w for side in sides for s in side.segments for w in _words_of(s)]
    if not words:
        return [], 0.5, "single-speaker"
    labels = label_words(merge_windows(windows), [(w.start, w.end) for w in words])
    if labels.voices == 1:
        turns = _group(words, [0] * len(words), turn_gap)
        return [_utterance("manager", 0, t) for _, t in turns], 0.5, "single-speaker"
    turns = _group(words, list(labels.labels), turn_gap)
    guess = guess_manager([(voice, t[0].start, _text(t)) for voice, t in turns])
    roles = {guess.manager: ROLES[0], 1 - guess.manager: ROLES[1]}
    return [_utterance(roles[voice], 0, t) for voice, t in turns], guess.confidence, "diarization"


def _words_of(segment: Segment) -> tuple[Word, ...]:
    """A segment's words; a segment recognised without word times counts as one word."""
    if segment.words:
        return segment.words
    return (Word(segment.text, segment.start, segment.end, float(np.exp(segment.avg_logprob))),)


def _pieces(segments: Sequence[Segment], turn_gap: float) -> list[tuple[Word, ...]]:
    """One side's words, split wherever that side pauses for ``turn_gap`` or longer."""
    words = [w for s in segments for w in _words_of(s)]
    return [t for _, t in _group(words, [0] * len(words), turn_gap)]


def _group(
    words: Sequence[Word], labels: Sequence[int], turn_gap: float
) -> list[tuple[int, tuple[Word, ...]]]:
    """Consecutive words of one voice, split at changes of voice and at long pauses."""
    turns: list[tuple[int, list[Word]]] = []
    for word, label in zip(words, labels):
        if turns and turns[-1][0] == label and word.start - turns[-1][1][-1].end < turn_gap:
            turns[-1][1].append(word)
        else:
            turns.append((label, [word]))
    return [(label, tuple(ws)) for label, ws in turns]


def _text(words: Sequence[Word]) -> str:
    return " ".join(w.word for w in words if w.word)


def _utterance(speaker: str, channel: int, words: tuple[Word, ...]) -> Utterance:
    return Utterance(
        speaker=ROLES[0] if speaker == "manager" else ROLES[1],
        channel=channel,
        start=round(words[0].start, 3),
        end=round(words[-1].end, 3),
        text=_text(words),
        words=tuple(replace(w, start=round(w.start, 3), end=round(w.end, 3),
                            probability=round(w.probability, 4)) for w in words),
    )
