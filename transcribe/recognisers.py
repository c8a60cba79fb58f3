"""Which Whisper engine hears a call: the language is told from the first speech, then the
model for that language transcribes it.

The default model, tiny.en, hears only English. Without a check, a Russian call
comes out as confident English nonsense. So the language of each call is told
first, by the bundled multilingual base model on the first 20 s of speech of
both sides (one encoder pass), and a call that is not in English goes to base.
A model named in the settings hears every call, and a call in a language it
cannot hear is refused with advice instead of being transcribed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from callqa.errors import ModelError
from transcribe.audio import SAMPLE_RATE
from transcribe.diarize import BothEncoders, SpeakerEncoder
from transcribe.engines import Engine, load_engine
from transcribe.models import DEFAULT_MODEL, model_for

if TYPE_CHECKING:
    from callqa.settings import Settings

# Whisper tells a language from the first 20 s of speech (silence after a shorter call): its full
# window of 30 s costs twice as much (0.67 s against 0.32 s on 2 cores) and tells no language
# better (`python bench/language.py`: every English recording of the development set kept at
# P(en) 0.50 or more, every Russian, French and Spanish recording told, at P(en) 0.05 or less).
WINDOW = 20 * SAMPLE_RATE
# The expected language is kept while Whisper gives it at least this probability. English
# calls in synthetic accents (espeak-ng) get 0.50-1.0 over the development set, real speech in
# other languages 0.05 or less, so an accent does not send an English call to another model.
KEEP_EXPECTED = 0.25
# Below that, another language is heard instead only when Whisper is this sure of it. Real speech
# in another language gets 0.73-0.999 (Asterisk's Russian, French and Spanish prompts, the Russian
# test call: ``python bench/language.py``); speech it cannot place, such as espeak-ng's robotic
# Russian at 8 kHz, spreads over German, Malayalam, Tagalog... at 0.43 or less (P(ru) 0.001-0.04).
# Such a call is heard in the expected language, and its transcript says what it sounded like.
SURE_OTHER = 0.6


@runtime_checkable
class Engines(Protocol):
    """Where ``transcribe_file`` gets its engine once the call's language is known."""

    def for_language(self, language: str) -> Engine:
        """The engine that transcribes calls in ``language``; ModelError when none can."""
        ...

    def detector(self) -> Engine | None:
        """A multilingual engine to tell the language with; None: take the expected language."""
        ...


@dataclass
class Recognisers:
    """The engines one process uses, each loaded on first use (``Engines``), and the diarizer
    of mono calls: the one place the command line, the service layer and the workers set them up.

    ``model`` None: tiny.en for English calls, the bundled multilingual base for
    others. A named model hears every call; a language it cannot hear is refused.
    """

    cache_dir: Path  # joined and converted weights (``transcribe.models``)
    engine: str = "faster-whisper"
    model: str | None = None
    device: str = "auto"
    threads: int = 0
    mono_voices: str = "auto"  # "two": a mono recording is never taken as one voice
    _loaded: dict[str, Engine] = field(default_factory=dict, repr=False)
    # Mono calls are diarized by voice; its weights load only when a mono call comes.
    _diarizer: SpeakerEncoder = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._diarizer = BothEncoders(one_voice=self.mono_voices == "auto")
        if self.threads:
            confine_pools(self.threads)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, engine: str | None = None, model: str | None = None,
        device: str | None = None,
    ) -> Recognisers:
        """The engines the settings name; ``engine``, ``model`` and ``device`` override them."""
        return cls(
            settings.cache_dir, engine or settings.engine, model or settings.model,
            device or settings.device, settings.threads, settings.mono_voices,
        )  # fmt: skip

    def for_language(self, language: str) -> Engine:
        engine = self._load(self.engine, model_for(self.model, language))
        check_language(engine, language)
        return engine

    def diarizer(self) -> SpeakerEncoder:
        """The speaker encoder that tells the two voices of a mono call apart."""
        return self._diarizer

    def detector(self) -> Engine:
        configured = self._load(self.engine, self.model or DEFAULT_MODEL)
        if configured.multilingual:
            return configured
        # The cheapest multilingual engine that ships: faster-whisper with the bundled base.
        return self._load("faster-whisper", "base")

    def _load(self, engine: str, model: str) -> Engine:
        key = f"{engine}:{model}"
        if key not in self._loaded:
            self._loaded[key] = load_engine(
                engine, model, cache_dir=self.cache_dir, device=self.device, threads=self.threads
            )
        return self._loaded[key]


@dataclass(frozen=True)
class Only:
    """One engine for every call (``Engines``); it tells the language only if multilingual."""

    engine: Engine

    def for_language(self, language: str) -> Engine:
        check_language(self.engine, language)
        return self.engine

    def detector(self) -> Engine | None:
        return self.engine if self.engine.multilingual else None


def spoken_language(detector: Engine | None, speech: np.ndarray, expected: str) -> tuple[str, str | None]:
    """The language to hear a call in, from its packed speech (both sides, in spoken order), and
    what it sounded like where that differs and Whisper is unsure (else None).

    ``expected`` (the script's language, or English) is kept unless Whisper finds it unlikely
    and is sure of another (SURE_OTHER), which then wins.
    """
    if detector is None or not len(speech):
        return expected, None
    window = speech[:WINDOW]
    probabilities = detector.language_probabilities(np.pad(window, (0, WINDOW - len(window))))
    if probabilities.get(expected, 0.0) >= KEEP_EXPECTED:
        return expected, None
    likeliest = max(probabilities, key=lambda language: probabilities[language])
    if probabilities[likeliest] >= SURE_OTHER:
        return likeliest, None
    return expected, likeliest


def check_language(engine: Engine, language: str | None) -> None:
    """Refuse a language the engine's model cannot transcribe."""
    if language not in (None, "en") and not engine.multilingual:
        raise ModelError(
            f"model {engine.model} is English-only and cannot transcribe {language!r}: "
            "use a multilingual model, e.g. --model base"
        )


def confine_pools(threads: int) -> None:
    """The process's numeric libraries' own thread pools to ``threads``, as its recognition.

    A worker (``CALLQA_THREADS=1``, one process per core) gave CTranslate2 and PyTorch one
    thread but left OpenBLAS (numpy's matrix products: the log-mel features, the analysis) and
    OpenMP (scikit-learn's k-means) a thread per core, which spun on the other worker's core:
    one worker kept 1.20 cores busy, and two gave 1.60x its call-minutes an hour; with the pools
    on one thread, 1.02 cores and 1.71-1.77x, 8-15 % more calls an hour from the machine
    (``bench/batch.py``). Libraries loaded already are set now (threadpoolctl); those loaded
    later read the environment, unless it names a count of its own."""
    from threadpoolctl import threadpool_limits  # lazy: only a process told its threads

    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, str(threads))
    threadpool_limits(threads)
