"""Who speaks when in a mono recording: speaker embeddings, clustered into one voice or two.

The speaker encoders (CAM++, ``transcribe.campplus``, and Resemblyzer's, joined by
default) embed 1 s windows every 0.25 s inside each stretch of speech. k-means
finds two voices among the windows; each window's voice is then the best path
through the call that pays for a change of voice inside a stretch but not at a
pause, so a reply without a pause changes the voice where the embeddings do; each
recognised word takes the voice of the window nearest its middle.

The recording is one voice (a voicemail, a monologue) where one of the two is next
to absent, or where the two found are no more than one voice's variation
(``one_voice``): the two encoders do not split the windows alike, and the turns of
the two voices, embedded whole, are as alike as those of one. How alike the two
halves' centres are does not tell it: CAM++ puts the two halves of one real reader
(the Harvard sentences) at a cosine of 0.92, and a real two-person phone call at
0.65-0.70 (``bench/one_voice.py``).

Beside the encoders, pyannote's segmentation network (``transcribe.overlap``) finds where
two speak at once; the pipeline lets the two turns at such a change of speaker overlap.
"""

from __future__ import annotations

import functools
import itertools
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
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
    # (windows, campplus.MOMENTS): CAM++'s frame moments over each window's own part of its
    # stretch, so that a run of windows can be embedded whole (``campplus.pool_moments``)
    moments: np.ndarray | None = None
    parts: tuple[int, ...] = ()  # where encoders are joined: the width of each one's part
    # (stretches, 2): start and end in seconds of each stretch where two speak at once
    overlaps: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))


EMPTY = VoiceWindows(np.zeros((0, 256), np.float32), np.zeros(0), np.zeros((0, 2)), np.zeros(0, int))


def merge_windows(parts: Sequence[VoiceWindows]) -> VoiceWindows:
    """The windows of consecutive blocks as one set, stretch numbers kept distinct (blocks
    without windows, such as a last block under a second, are left out but for their overlaps)."""
    overlaps = np.concatenate([EMPTY.overlaps, *(p.overlaps for p in parts)])
    parts = [p for p in parts if len(p.centres)]
    if not parts:
        return replace(EMPTY, overlaps=overlaps)
    shift = np.cumsum([0] + [len(p.stretches) for p in parts[:-1]])
    moments = [p.moments for p in parts if p.moments is not None]
    return VoiceWindows(
        np.concatenate([p.embeddings for p in parts]),
        np.concatenate([p.centres for p in parts]),
        np.concatenate([p.stretches for p in parts]),
        np.concatenate([p.stretch + k for p, k in zip(parts, shift)]),
        np.concatenate(moments) if len(moments) == len(parts) else None,
        parts[0].parts,
        overlaps,
    )


def stretches_of(audio: np.ndarray, speech: np.ndarray | None = None) -> list[tuple[int, int]]:
    """The stretches of speech (sample ranges), split at pauses of 0.3 s: a change of speaker
    is often no longer. ``speech``: the audio's ``speech_probabilities``, where already computed."""
    return speech_spans(audio, min_silence_ms=300, pad_ms=30, probabilities=speech)


class SpeakerEncoder(Protocol):
    def embed(self, audio: np.ndarray, offset: float, speech: np.ndarray | None = None) -> VoiceWindows:
        """Embed mono 16 kHz ``audio`` whose first sample is at ``offset`` seconds; ``speech``:
        its ``speech_probabilities`` where recognition has computed them already."""
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

    def embed(self, audio: np.ndarray, offset: float, speech: np.ndarray | None = None) -> VoiceWindows:
        return self.embed_spans(audio, offset, stretches_of(audio, speech))

    def embed_spans(self, audio: np.ndarray, offset: float, spans: list[tuple[int, int]]) -> VoiceWindows:
        """Overlapping 1.6 s windows over the whole audio, those whose centre is in ``spans``."""
        if len(audio) < SAMPLE_RATE or not spans:
            return EMPTY
        # lazy: PyTorch underneath (seconds): only for mono calls
        import torch

        # Resemblyzer's ``embed_utterance(..., return_partials=True)``, its 1.6 s windows at
        # ``windows_per_second``, with the mel spectrogram computed here (librosa's takes 4 s to
        # import, numba, in every process that diarizes), and only the windows kept run.
        encoder = self._loaded()
        slices, mel_slices = encoder.compute_partial_slices(len(audio), self._rate, 0.5)
        centres = np.array([(s.start + s.stop) / 2 for s in slices]) / SAMPLE_RATE
        stretches = np.array(spans, dtype=np.float64).reshape(-1, 2) / SAMPLE_RATE
        inside = (centres[:, None] >= stretches[:, 0]) & (centres[:, None] <= stretches[:, 1])
        keep = np.flatnonzero(inside.any(axis=1))
        if not len(keep):
            return replace(EMPTY, stretches=offset + stretches)
        mel = mel_power(np.pad(audio, (0, max(0, slices[-1].stop - len(audio)))))
        with torch.no_grad():
            partials = encoder(torch.from_numpy(np.array([mel[mel_slices[k]] for k in keep]))).numpy()
        return VoiceWindows(np.asarray(partials, dtype=np.float32), offset + centres[keep], offset + stretches,
                            np.argmax(inside[keep], axis=1))  # fmt: skip


def mel_power(audio: np.ndarray, n_fft: int = 400, hop: int = 160) -> np.ndarray:
    """Resemblyzer's input: the 40-band mel power spectrogram of 16 kHz audio in 25 ms windows
    every 10 ms, (frames, 40); the numbers of ``librosa.feature.melspectrogram`` (Hann window,
    centred frames, Slaney mel bands) to within 2e-7."""
    padded = np.pad(audio, n_fft // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32)
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    return np.asarray(power @ _mel_bands(SAMPLE_RATE, n_fft, 40).T, dtype=np.float32)


@functools.cache
def _mel_bands(rate: int, n_fft: int, bands: int) -> np.ndarray:
    """Slaney's triangular mel filters, each of unit area (librosa's ``filters.mel`` default)."""
    bins = np.linspace(0, rate / 2, 1 + n_fft // 2)
    edges = _hz(np.linspace(0.0, _mel(rate / 2), bands + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - bins[None, :]
    rising, falling = -ramps[:-2] / widths[:-1, None], ramps[2:] / widths[1:, None]
    weights = np.maximum(0, np.minimum(rising, falling)) * (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return np.asarray(weights, dtype=np.float32)


_STEP = np.log(6.4) / 27.0  # Slaney's mel scale: linear to 1 kHz (15 mels), logarithmic above


def _mel(hz: float) -> float:
    return hz / (200.0 / 3) if hz < 1000.0 else 15.0 + float(np.log(hz / 1000.0)) / _STEP


def _hz(mels: np.ndarray) -> np.ndarray:
    return np.asarray(np.where(mels >= 15.0, 1000.0 * np.exp(_STEP * (mels - 15.0)), mels * (200.0 / 3)))


class CamPlusEncoder:
    """CAM++ (``transcribe.campplus``), trained on real speech of many thousands of speakers:
    1 s windows every 0.25 s inside each stretch of speech (a shorter stretch is one window)."""

    def __init__(self, window: float = 1.0, hop: float = 0.25) -> None:
        self._model: Any = None  # loaded on first use: stereo calls never need it
        self._window, self._hop = window, hop

    def embed(self, audio: np.ndarray, offset: float, speech: np.ndarray | None = None) -> VoiceWindows:
        return self.embed_spans(audio, offset, stretches_of(audio, speech))

    def embed_spans(self, audio: np.ndarray, offset: float, spans: list[tuple[int, int]]) -> VoiceWindows:
        """Windows inside each of ``spans`` (sample ranges)."""
        from transcribe import campplus  # lazy: PyTorch underneath (seconds): only for mono calls

        if self._model is None:
            self._model = campplus.load()
        vectors, centres, stretch, moments = [], [], [], []
        embedded = campplus.embed(self._model, [audio[start:end] for start, end in spans], self._window, self._hop)
        for index, ((start, _), (found, middles, sums)) in enumerate(zip(spans, embedded, strict=True)):
            vectors.append(found)
            centres.append(start / SAMPLE_RATE + middles)
            moments.append(sums)
            stretch += [index] * len(found)
        if not stretch:
            return replace(EMPTY, embeddings=np.zeros((0, 192), np.float32))
        return VoiceWindows(np.concatenate(vectors), offset + np.concatenate(centres),
                            offset + np.array(spans, dtype=np.float64).reshape(-1, 2) / SAMPLE_RATE, np.array(stretch),
                            np.concatenate(moments))  # fmt: skip

    def pool_runs(self, moments: np.ndarray) -> np.ndarray:
        """The embeddings of runs of windows whole, from their windows' summed moments."""
        from transcribe import campplus  # lazy: PyTorch underneath (seconds): only for mono calls

        return campplus.pool_moments(self._model, moments)


class BothEncoders:
    """CAM++ and Resemblyzer together: each CAM++ window joined with the Resemblyzer window
    nearest in time (each half L2-normalised, so both weigh the same).

    ``one_voice``: whether a recording may be found to hold one voice (``label_words``), or
    every mono recording is a call of two (``CALLQA_MONO_VOICES=two``). The stretches where
    two speak at once come from pyannote's segmentation network (``transcribe.overlap``)."""

    def __init__(self, one_voice: bool = True) -> None:
        self._campplus, self._resemblyzer = CamPlusEncoder(), ResemblyzerEncoder(windows_per_second=1.0)
        self.pool_runs = self._campplus.pool_runs if one_voice else None
        self._segmentation: Any = None  # loaded on first use

    def embed(self, audio: np.ndarray, offset: float, speech: np.ndarray | None = None) -> VoiceWindows:
        with one_thread():
            return replace(self._embed(audio, offset, speech), overlaps=self._overlaps(audio, offset))

    def _overlaps(self, audio: np.ndarray, offset: float) -> np.ndarray:
        from transcribe import overlap  # lazy: PyTorch underneath (seconds): only for mono calls

        if self._segmentation is None:
            self._segmentation = overlap.load()
        return overlap.overlap_stretches(self._segmentation, audio, offset)

    def _embed(self, audio: np.ndarray, offset: float, speech: np.ndarray | None) -> VoiceWindows:
        spans = stretches_of(audio, speech)
        fine = self._campplus.embed_spans(audio, offset, spans)
        other = self._resemblyzer.embed_spans(audio, offset, spans)
        if not len(fine.centres) or not len(other.centres):  # under a second of speech: nothing to join
            return replace(fine, embeddings=np.zeros((0, fine.embeddings.shape[1] + other.embeddings.shape[1]), np.float32),
                           centres=np.zeros(0), stretch=np.zeros(0, int), moments=None)  # fmt: skip
        nearest = np.argmin(np.abs(fine.centres[:, None] - other.centres[None, :]), axis=1)
        joined = np.concatenate([fine.embeddings, other.embeddings[nearest]], axis=1) / np.sqrt(2)
        parts = (fine.embeddings.shape[1], other.embeddings.shape[1])
        return replace(fine, embeddings=joined.astype(np.float32), parts=parts)


@contextmanager
def one_thread() -> Iterator[None]:
    """PyTorch on one thread in the calling thread, for the networks of the diarizer.

    They run beside recognition, which has the other cores; on two threads the same work took
    a fifth more CPU time (threads waiting for each other; bench/README.md, Diarization), and took a
    worker's second core that ``CALLQA_THREADS=1`` leaves to the other worker. On one
    thread, too, their sums are added in one order whatever the machine's cores, so a call's
    voices do not change with them. PyTorch keeps the count per thread once a thread has used it:
    other threads' counts stay as they are."""
    import torch  # lazy: only for mono calls

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass(frozen=True)
class SpeakerLabels:
    labels: tuple[int, ...]  # per word: 0 or 1
    voices: int  # 1 or 2


SWITCH = 0.3  # what a change of voice inside a stretch of speech costs, in cosine similarity


def label_words(
    windows: VoiceWindows,
    word_times: Sequence[tuple[float, float]],
    switch: float = SWITCH,
    pool: Callable[[np.ndarray], np.ndarray] | None = None,
) -> SpeakerLabels:
    """Give each word (start, end) the voice of the window nearest its middle.

    The windows are clustered into two voices (k-means on the embeddings); each window's voice
    is then the best path through the call (Viterbi) that pays ``switch`` for a change of voice
    inside a stretch of speech, and nothing at a pause: so a reply that comes without a pause,
    or an interruption, changes the voice where the embeddings change, while one odd window does not.
    With ``pool`` (``BothEncoders.pool_runs``) the recording is one voice where the two voices
    found are no more than one voice's variation (``one_voice``).
    """
    if not word_times:
        return SpeakerLabels((), 1)
    path = voice_path(windows, switch)
    if path is None or (pool is not None and one_voice(windows, *path, pool)):
        return SpeakerLabels(tuple(0 for _ in word_times), 1)
    order, voices = path
    centres = windows.centres[order]
    middles = np.array([(s + e) / 2 for s, e in word_times])
    # The nearest window in time (the earlier of two as near): by bisection, not a words x windows
    # matrix, which on an hour-long call would take gigabytes.
    after = np.clip(np.searchsorted(centres, middles), 1, len(centres) - 1)
    nearest = np.where(middles - centres[after - 1] <= centres[after] - middles, after - 1, after)
    return SpeakerLabels(tuple(int(v) for v in voices[nearest]), 2)


def voice_path(windows: VoiceWindows, switch: float = SWITCH) -> tuple[np.ndarray, np.ndarray] | None:
    """The windows' order in time, and the voice (0 or 1) of each in that order along the best
    path; None under four windows, or where one of the two voices is next to absent."""
    centroids = _two_voices(windows.embeddings) if len(windows.centres) >= 4 else None
    if centroids is None:
        return None
    order = np.argsort(windows.centres, kind="stable")
    return order, _best_path(windows.embeddings[order] @ centroids.T, windows.stretch[order], switch)


AGREEMENT = 0.6  # adjusted Rand index of the two encoders' own splits at or above which two voices are heard
APART = 0.15  # how much more alike one voice's turns must be than the two voices' turns
TURN = 0.5  # seconds from a turn's first window centre to its last, for the turn to count (1.5 s of speech)


def one_voice(
    windows: VoiceWindows, order: np.ndarray, voices: np.ndarray, pool: Callable[[np.ndarray], np.ndarray]
) -> bool:
    """Whether the two voices found (``voices`` of the windows in time ``order``) are one.

    Two cues must both say so (``one_voice_cues``). The two encoders, each splitting the windows
    in two on its own (k-means), split them alike where there are two voices and each along its
    own whim where there is one (adjusted Rand index under ``AGREEMENT``). And the turns (runs
    of one voice, ``TURN`` or longer, embedded whole by CAM++) are about as alike across the two
    voices as within one (``turns_apart`` under ``APART``); with under three turns, the first
    cue decides. Set on real speech and the first development calls, and checked on others
    (``bench/one_voice.py``, bench/README.md).
    """
    if windows.moments is None or len(windows.parts) != 2:
        return False
    agreement, apart = one_voice_cues(windows, order, voices, pool)
    return agreement < AGREEMENT and (apart is None or apart < APART)


def one_voice_cues(
    windows: VoiceWindows, order: np.ndarray, voices: np.ndarray, pool: Callable[[np.ndarray], np.ndarray]
) -> tuple[float, float | None]:
    """(how alike the two encoders' own splits are, ``turns_apart``) of joined ``windows``."""
    # lazy: scikit-learn is slow to import: only where it is used
    from sklearn.metrics import adjusted_rand_score

    assert windows.moments is not None and len(windows.parts) == 2
    first = windows.parts[0]
    splits = [_halves(part).labels_ for part in (windows.embeddings[:, :first], windows.embeddings[:, first:])]
    apart = turns_apart(windows.centres[order], windows.moments[order], voices, pool)
    return float(adjusted_rand_score(*splits)), apart


def turns_apart(
    centres: np.ndarray, moments: np.ndarray, voices: np.ndarray, pool: Callable[[np.ndarray], np.ndarray]
) -> float | None:
    """Mean cosine of the turns of one voice with each other less that of turns of different
    voices, each turn (windows in a row of one voice, ``TURN`` or longer) embedded whole; None
    under three such turns, or where one voice has none."""
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(voices)) + 1, [len(voices)]])
    turns = [(a, b) for a, b in itertools.pairwise(bounds) if centres[b - 1] - centres[a] >= TURN]
    voice = np.array([voices[a] for a, _ in turns])
    if len(turns) < 3 or len(set(voice.tolist())) < 2:
        return None
    vectors = pool(np.stack([moments[a:b].sum(axis=0, dtype=np.float64) for a, b in turns]))
    similar = vectors @ vectors.T
    same = voice[:, None] == voice[None, :]
    return float(similar[same & ~np.eye(len(turns), dtype=bool)].mean() - similar[~same].mean())


def _two_voices(embeddings: np.ndarray) -> np.ndarray | None:
    """The centroids of two voices (L2-normalised), or None when one of them is next to absent."""
    kmeans = _halves(embeddings)
    centroids = kmeans.cluster_centers_ / np.linalg.norm(kmeans.cluster_centers_, axis=1, keepdims=True)
    sizes = np.bincount(kmeans.labels_, minlength=2)
    if sizes.min() < max(2, 0.05 * len(embeddings)):
        return None
    return np.asarray(centroids)


def _halves(embeddings: np.ndarray) -> Any:
    """k-means of the rows in two, the same way for the voices and for each encoder's own split."""
    # lazy: scikit-learn is slow to import: only where it is used
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=2, n_init=10, random_state=0).fit(embeddings)


def _best_path(scores: np.ndarray, stretch: np.ndarray, switch: float) -> np.ndarray:
    """The voice of each window in time order: the path that maximises the windows' similarity
    to their voice, less ``switch`` for each change inside a stretch."""
    n = len(scores)
    total = scores[0].copy()
    back = np.zeros((n, 2), int)
    for i in range(1, n):
        cost = switch if stretch[i] == stretch[i - 1] else 0.0
        stay, move = total, total[::-1] - cost
        back[i] = np.where(stay >= move, [0, 1], [1, 0])
        total = np.maximum(stay, move) + scores[i]
    path = np.zeros(n, int)
    path[-1] = int(np.argmax(total))
    for i in range(n - 1, 0, -1):
        path[i - 1] = back[i, path[i]]
    return path
