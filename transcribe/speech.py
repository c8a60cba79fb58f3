"""Packing the speech of one or both sides of a call into one stream for the recogniser.

Silero VAD (shipped with faster-whisper) finds the speech on each channel;
the pieces are laid end to end in the order they were spoken, so Whisper hears
the conversation without its silences and with both sides' context, in as few
30-second windows as possible. Every recognised word is then put back on its
channel at its real time, so overlapping speech keeps its true times.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from transcribe.audio import SAMPLE_RATE
from transcribe.transcript import Word


@dataclass(frozen=True)
class Chunk:
    channel: int
    start: int  # first sample on its channel
    end: int  # one past the last sample on its channel
    at: int  # first sample in the packed stream


@dataclass(frozen=True)
class Packed:
    audio: np.ndarray  # mono float32, 16 kHz
    chunks: tuple[Chunk, ...]

    @cached_property
    def _starts(self) -> list[int]:
        return [c.at for c in self.chunks]

    def place(self, word: Word) -> tuple[int, Word]:
        """The channel ``word`` (timed in the packed stream) was said on, and its real times."""
        middle = (word.start + word.end) / 2 * SAMPLE_RATE
        index = max(0, bisect.bisect_right(self._starts, middle) - 1)
        chunk = self.chunks[index]
        shift = (chunk.start - chunk.at) / SAMPLE_RATE
        first, last = chunk.start / SAMPLE_RATE, chunk.end / SAMPLE_RATE
        start = min(max(word.start + shift, first), last)
        end = min(max(word.end + shift, start), last)
        return chunk.channel, replace(word, start=start, end=end)


def pack_speech(channels: Sequence[np.ndarray], *, vad: bool = True) -> Packed:
    """The speech of ``channels`` end to end, in order of time; all of it when ``vad`` is off."""
    spans = [
        (start, channel, end)
        for channel, audio in enumerate(channels)
        for start, end in (speech_spans(audio) if vad else [(0, len(audio))])
    ]
    spans.sort()
    chunks, at = [], 0
    for start, channel, end in spans:
        chunks.append(Chunk(channel, start, end, at))
        at += end - start
    if not chunks:
        return Packed(np.zeros(0, dtype=np.float32), ())
    audio = np.concatenate([channels[c.channel][c.start : c.end] for c in chunks])
    return Packed(audio.astype(np.float32, copy=False), tuple(chunks))


def speech_spans(
    audio: np.ndarray, *, min_silence_ms: int = 2000, pad_ms: int = 400
) -> list[tuple[int, int]]:
    """Sample ranges of speech found by Silero VAD (faster-whisper's defaults unless told)."""
    # lazy: its VAD model loads with it: only when speech is looked for
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=min_silence_ms, speech_pad_ms=pad_ms)
    return [(s["start"], s["end"]) for s in get_speech_timestamps(audio, options)]
