"""Whisper engines behind one protocol: ``faster-whisper`` (default) and ``openai-whisper``."""

from __future__ import annotations

from pathlib import Path

from callqa.errors import ModelError
from callqa.settings import ENGINES  # the one list, which the settings check too
from transcribe.engines.base import Engine, Recognition, RecognitionOptions, Segment
from transcribe.models import resolve_model

__all__ = ["ENGINES", "Engine", "Recognition", "RecognitionOptions", "Segment", "load_engine"]


def load_engine(
    name: str = "faster-whisper",
    model: str | None = None,
    *,
    cache_dir: Path,
    device: str = "auto",
    threads: int = 0,
) -> Engine:
    """Load the engine ``name`` with the model ``model`` (see ``transcribe.models``).

    ``threads``: CPU threads for one recognition (0: every core). With faster-whisper on the
    CPU the encoder runs on them, the decoding loop on one (``DeterministicWhisper``).
    """
    files = resolve_model(model, cache_dir=cache_dir)
    if name == "faster-whisper":
        # lazy: an engine's library loads only when that engine is chosen
        from transcribe.engines.faster import FasterWhisperEngine

        return FasterWhisperEngine(files, device=device, cpu_threads=threads)
    if name == "openai-whisper":
        # lazy: an engine's library loads only when that engine is chosen
        from transcribe.engines.openai import OpenAIWhisperEngine

        return OpenAIWhisperEngine(files, cache_dir=cache_dir, device=device, threads=threads)
    raise ModelError(f"engine {name}: unknown; choose one of {', '.join(ENGINES)}")
