"""Packing the speech of one or both sides of a call into one stream for the recogniser.

Silero VAD (shipped with faster-whisper) finds the speech on each channel;
the pieces are laid end to end in the order they were spoken, so Whisper hears
the conversation without its silences and with both sides' context, in as few
30-second windows as possible. Every recognised word is then put back on its
channel at its real time, so overlapping speech keeps its true times.
"""

from __future__ import annotations

import bisect
import itertools
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


def pack_speech(
    channels: Sequence[np.ndarray], *, vad: bool = True, probabilities: Sequence[np.ndarray | None] | None = None
) -> Packed:
    """The speech of ``channels`` end to end, in order of time; all of it when ``vad`` is off.
    ``probabilities``: each channel's ``speech_probabilities``, where already computed."""
    heard = probabilities or [None] * len(channels)
    spans = [
        (start, channel, end)
        for channel, audio in enumerate(channels)
        for start, end in (speech_spans(audio, probabilities=heard[channel]) if vad else [(0, len(audio))])
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


VAD_WINDOW = 512  # the samples Silero VAD judges at a time (32 ms)
THRESHOLD, BELOW = 0.5, 0.35  # speech starts at this probability and ends under the second


def speech_probabilities(audio: np.ndarray) -> np.ndarray:
    """Silero VAD's (shipped with faster-whisper) probability of speech per 512 samples: computed
    once per block, and read by recognition and the diarizer alike (``speech_spans``)."""
    # lazy: loads the VAD model: only when speech is looked for
    from faster_whisper.vad import get_vad_model

    padded = np.pad(audio, (0, VAD_WINDOW - len(audio) % VAD_WINDOW))
    return np.asarray(get_vad_model()(padded)).reshape(-1)


def speech_spans(
    audio: np.ndarray, *, min_silence_ms: int = 2000, pad_ms: int = 400, probabilities: np.ndarray | None = None
) -> list[tuple[int, int]]:
    """Sample ranges of speech: faster-whisper's rule (``get_speech_timestamps`` with its default
    thresholds, no shortest speech or longest stretch), over ``probabilities`` when given."""
    heard = speech_probabilities(audio) if probabilities is None else probabilities
    silence = SAMPLE_RATE * min_silence_ms / 1000
    spans: list[list[int]] = []
    start = quiet = None  # where the speech began; where the silence that may end it began
    for i, p in enumerate(heard.tolist()):
        at = VAD_WINDOW * i
        if p >= THRESHOLD:
            quiet = None
            start = at if start is None else start
        elif p < BELOW and start is not None:
            quiet = at if quiet is None else quiet
            if at - quiet >= silence:
                spans.append([start, quiet])
                start = quiet = None
    if start is not None and start < len(audio):
        spans.append([start, len(audio)])
    return _padded(spans, len(audio), SAMPLE_RATE * pad_ms // 1000)


def _padded(spans: list[list[int]], length: int, pad: int) -> list[tuple[int, int]]:
    """Each span widened by ``pad`` samples either side, or to the middle of a shorter gap."""
    if spans:
        spans[0][0] = max(0, spans[0][0] - pad)
    for this, after in itertools.pairwise(spans):
        gap = after[0] - this[1]
        if gap < 2 * pad:
            this[1] += gap // 2
            after[0] = max(0, after[0] - gap // 2)
        else:
            this[1] = min(length, this[1] + pad)
            after[0] = max(0, after[0] - pad)
    if spans:
        spans[-1][1] = min(length, spans[-1][1] + pad)
    return [(start, end) for start, end in spans]
