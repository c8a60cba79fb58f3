"""The one small protocol both Whisper engines implement, and the values it passes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from transcribe.transcript import Word


@dataclass(frozen=True)
class RecognitionOptions:
    """How to run the recogniser. Override with ``dataclasses.replace``."""

    # ISO 639-1 code such as "en" or "ru"; None detects the language.
    language: str | None = None
    # Beam width of the beam search; 1 is greedy decoding.
    beam_size: int = 5
    # Skip silence with Silero VAD before decoding.
    vad: bool = True
    # Time every word (needed for pinning mistakes to moments, and for diarization).
    word_timestamps: bool = True
    # Text the recogniser should take as preceding context, e.g. a call's opening line.
    initial_prompt: str | None = None
    # Names the recogniser should expect: a script's products, the company's name.
    hotwords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...]
    avg_logprob: float
    no_speech_prob: float


@dataclass(frozen=True)
class Recognition:
    language: str
    segments: tuple[Segment, ...]


class Engine(Protocol):
    """A Whisper implementation with its model loaded."""

    name: str  # "faster-whisper" or "openai-whisper"
    model: str  # the model's label, e.g. "tiny.en"
    multilingual: bool

    def recognize(self, audio: np.ndarray, options: RecognitionOptions) -> Recognition:
        """Transcribe mono 16 kHz float32 samples; times are seconds from their start."""
        ...

    def language_probabilities(self, audio: np.ndarray) -> dict[str, float]:
        """How likely each language is in the first 30 s of mono 16 kHz samples."""
        ...
