"""Who speaks when in a mono recording: speaker embeddings, clustered into two voices.

Resemblyzer's bundled encoder embeds overlapping 1.6 s windows of speech;
k-means splits the stretches of speech into two voices, and each recognised
word takes the voice of the stretch (or part of one) it falls in. A call has
two sides, so two voices are assumed; only when one of them is next to absent
is the call taken as a single voice. (Centroid similarity and silhouette do
not tell one voice from two reliably: on the real clips in shared/data a
single speaker scores like two synthetic ones.)
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from transcribe.audio import SAMPLE_RATE
from transcribe.speech import speech_spans


@dataclass(frozen=True)
class VoiceWindows:
    """Speaker embeddings of windows of a recording, with the windows' centre times."""

    embeddings: np.ndarray  # (windows, dims), L2-normalised
    centres: np.ndarray  # (windows,), seconds
    stretches: np.ndarray  # (stretches, 2): start and end in seconds of each stretch of speech
    stretch: np.ndarray  # (windows,): the stretch each window lies in


EMPTY = VoiceWindows(np.zeros((0, 256), np.float32), np.zeros(0), np.zeros((0, 2)), np.zeros(0, int))


def merge_windows(parts: Sequence[VoiceWindows]) -> VoiceWindows:
    """The windows of consecutive blocks as one set, stretch numbers kept distinct."""
    if not parts:
        return EMPTY
    shift = np.cumsum([0] + [len(p.stretches) for p in parts[:-1]])
    return VoiceWindows(
        np.concatenate([p.embeddings for p in parts]),
        np.concatenate([p.centres for p in parts]),
        np.concatenate([p.stretches for p in parts]),
        np.concatenate([p.stretch + k for p, k in zip(parts, shift)]),
    )


class SpeakerEncoder(Protocol):
    def embed(self, audio: np.ndarray, offset: float) -> VoiceWindows:
        """Embed mono 16 kHz ``audio`` whose first sample is at ``offset`` seconds."""
        ...


class ResemblyzerEncoder:
    """Resemblyzer's GE2E encoder, shipped inside its package (no download)."""

    def __init__(self, windows_per_second: float = 4.0) -> None:
        self._encoder: Any = None  # loaded on first use: stereo calls never need it
        self._rate = windows_per_second

    def _loaded(self) -> Any:
        if self._encoder is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # webrtcvad's pkg_resources deprecation
                # lazy: PyTorch underneath (seconds): only for mono calls
                from resemblyzer import VoiceEncoder
            self._encoder = VoiceEncoder("cpu", verbose=False)
        return self._encoder

    def embed(self, audio: np.ndarray, offset: float) -> VoiceWindows:
        """Overlapping 1.6 s windows over the whole audio, kept where their centre is speech."""
        # Stretches split at pauses of 0.3 s: a change of speaker is often no longer.
        spans = speech_spans(audio, min_silence_ms=300, pad_ms=30)
        if len(audio) < SAMPLE_RATE or not spans:
            return EMPTY
        _, partials, slices = self._loaded().embed_utterance(
            audio, return_partials=True, rate=self._rate, min_coverage=0.5
        )
        centres = np.array([(s.start + s.stop) / 2 for s in slices]) / SAMPLE_RATE
        stretches = np.array(spans, dtype=np.float64).reshape(-1, 2) / SAMPLE_RATE
        inside = (centres[:, None] >= stretches[:, 0]) & (centres[:, None] <= stretches[:, 1])
        keep = inside.any(axis=1)
        return VoiceWindows(
            np.asarray(partials, dtype=np.float32)[keep],
            offset + centres[keep],
            offset + stretches,
            np.argmax(inside[keep], axis=1),
        )


@dataclass(frozen=True)
class SpeakerLabels:
    labels: tuple[int, ...]  # per word: 0 or 1
    voices: int  # 1 or 2


@dataclass(frozen=True)
class _Run:
    """Part of a stretch of speech held to be one voice."""

    start: float
    end: float
    voice: int
    members: np.ndarray  # indices of the windows in it


def label_words(
    windows: VoiceWindows, word_times: Sequence[tuple[float, float]]
) -> SpeakerLabels:
    """Give each word (start, end) the voice of the stretch of speech it falls in.

    The stretches of speech (between pauses of 0.3 s) are clustered into two
    voices by the mean of their windows: a whole stretch outvotes its odd
    windows. Each window then takes the nearer of the two voices, and a
    stretch is split where a run of at least a second of the other voice
    follows (a reply that came without a pause, or an interruption).
    """
    if not word_times:
        return SpeakerLabels((), 1)
    centroids = _two_voices(windows) if len(windows.centres) >= 4 else None
    if centroids is None:
        return SpeakerLabels(tuple(0 for _ in word_times), 1)
    runs = _runs(windows, np.argmax(windows.embeddings @ centroids.T, axis=1))
    starts = np.array([r.start for r in runs])
    ends = np.array([r.end for r in runs])
    middles = np.array([(s + e) / 2 for s, e in word_times])
    distance = np.maximum(starts[None, :] - middles[:, None], middles[:, None] - ends[None, :])
    return SpeakerLabels(tuple(runs[i].voice for i in np.argmin(distance, axis=1)), 2)


def _two_voices(windows: VoiceWindows) -> np.ndarray | None:
    """The centroids of two voices, or None when one of them is next to absent."""
    # lazy: scikit-learn is slow to import: only where it is used
    from sklearn.cluster import KMeans

    stretches = np.unique(windows.stretch)
    means = np.stack([windows.embeddings[windows.stretch == s].mean(axis=0) for s in stretches])
    if len(means) < 2:
        return None
    kmeans = KMeans(n_clusters=2, n_init=10, random_state=0).fit(means)
    sizes = np.bincount(np.argmax(windows.embeddings @ kmeans.cluster_centers_.T, axis=1), minlength=2)
    if sizes.min() < max(2, 0.05 * len(windows.centres)):
        return None
    return np.asarray(kmeans.cluster_centers_)


def _runs(windows: VoiceWindows, clusters: np.ndarray) -> list[_Run]:
    runs: list[_Run] = []
    for index, (start, end) in enumerate(windows.stretches):
        members = np.flatnonzero(windows.stretch == index)
        if len(members):
            runs.extend(_voice_runs(start, end, members, windows.centres[members], clusters[members]))
    return runs


def _voice_runs(
    start: float,
    end: float,
    members: np.ndarray,
    centres: np.ndarray,
    labels: np.ndarray,
    min_run: int = 4,
) -> list[_Run]:
    """A stretch as runs of one voice; runs shorter than ``min_run`` windows join their neighbour."""
    runs: list[list[int]] = []  # [label, first, last] over window indices
    for i, label in enumerate(labels):
        if runs and runs[-1][0] == label:
            runs[-1][2] = i
        else:
            runs.append([int(label), i, i])
    while len(runs) > 1 and (short := min(runs, key=lambda r: r[2] - r[1]))[2] - short[1] + 1 < min_run:
        k = runs.index(short)
        other = runs[k - 1] if k > 0 else runs[k + 1]
        other[1], other[2] = min(other[1], short[1]), max(other[2], short[2])
        runs.pop(k)
        runs = _joined(runs)
    bounds = [start] + [(centres[a[2]] + centres[b[1]]) / 2 for a, b in itertools.pairwise(runs)] + [end]
    return [
        _Run(bounds[i], bounds[i + 1], run[0], members[run[1] : run[2] + 1])
        for i, run in enumerate(runs)
    ]


def _joined(runs: list[list[int]]) -> list[list[int]]:
    out: list[list[int]] = []
    for run in runs:
        if out and out[-1][0] == run[0]:
            out[-1][2] = run[2]
        else:
            out.append(run)
    return out
