"""faster-whisper (CTranslate2): the default engine, int8 on the CPU, float16 on CUDA."""

from __future__ import annotations

import warnings
from typing import Any

import ctranslate2
import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.audio import pad_or_trim

from callqa.errors import ModelError
from transcribe.audio import SAMPLE_RATE
from transcribe.engines.base import Recognition, RecognitionOptions, Segment
from transcribe.models import ModelFiles
from transcribe.transcript import Word


class FasterWhisperEngine:
    name = "faster-whisper"

    def __init__(
        self,
        model: ModelFiles,
        *,
        device: str = "auto",
        compute_type: str = "default",
        cpu_threads: int = 0,
    ) -> None:
        if model.format != "ctranslate2":
            raise ModelError(
                f"model {model.name}: faster-whisper needs a CTranslate2 model directory; "
                "use --engine openai-whisper for a .pt checkpoint"
            )
        self.model = model.name
        self.multilingual = model.multilingual
        self._model = _load(str(model.path), device, compute_type, cpu_threads)

    def language_probabilities(self, audio: np.ndarray) -> dict[str, float]:
        if not self.multilingual:
            return {"en": 1.0}
        _, _, probabilities = self._model.detect_language(audio)
        return {str(language): float(p) for language, p in probabilities}

    def recognize(self, audio: np.ndarray, options: RecognitionOptions) -> Recognition:
        segments, info = self._model.transcribe(
            audio,
            language=options.language,
            beam_size=options.beam_size,
            vad_filter=options.vad,
            word_timestamps=options.word_timestamps,
            initial_prompt=options.initial_prompt,
            hotwords=" ".join(options.hotwords) or None,
        )
        return Recognition(
            language=info.language,
            segments=tuple(
                Segment(
                    start=float(s.start),
                    end=float(s.end),
                    text=s.text.strip(),
                    words=tuple(
                        Word(w.word.strip(), float(w.start), float(w.end), float(w.probability))
                        for w in s.words or ()
                    ),
                    avg_logprob=s.avg_logprob,
                    no_speech_prob=s.no_speech_prob,
                )
                for s in segments
            ),
        )


def _load(path: str, device: str, compute_type: str, cpu_threads: int) -> Any:
    """A WhisperModel on ``device``; "auto" takes a usable GPU and falls back to the CPU."""
    def load(device: str) -> Any:
        kind = compute_type
        if kind == "default":
            kind = "int8" if device == "cpu" else "float16"
        return WhisperModel(path, device=device, compute_type=kind, cpu_threads=cpu_threads)

    gpus = ctranslate2.get_cuda_device_count()
    if device == "cpu" or (device == "auto" and not gpus):
        return load("cpu")
    if not gpus:
        raise ModelError(
            f"--device {device}: CTranslate2 finds no CUDA GPU; use --device cpu or auto"
        )
    try:
        model = load("cuda" if device == "auto" else device)
        _probe(model)
        return model
    except RuntimeError as error:
        reason = (
            f"faster-whisper cannot run on the GPU: {error}. CTranslate2 {ctranslate2.__version__} "
            "needs the CUDA 12 cuBLAS and cuDNN 9 libraries (pip install nvidia-cublas-cu12 "
            "'nvidia-cudnn-cu12==9.*' and put their lib folders on LD_LIBRARY_PATH)"
        )
        if device != "auto":
            raise ModelError(f"{reason}; or use --device cpu or --engine openai-whisper") from None
        warnings.warn(f"{reason}; using the CPU", stacklevel=3)
        return load("cpu")


def _probe(model: Any) -> None:
    """Encode one second of silence, so missing GPU libraries fail now rather than on the first call."""
    model.encode(pad_or_trim(model.feature_extractor(np.zeros(SAMPLE_RATE, np.float32))))
