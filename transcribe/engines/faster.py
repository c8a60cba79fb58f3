"""faster-whisper (CTranslate2): the default engine, int8 on the CPU."""

from __future__ import annotations

import numpy as np

from callqa.errors import ModelError
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
        import ctranslate2
        from faster_whisper import WhisperModel

        if model.format != "ctranslate2":
            raise ModelError(
                f"model {model.name}: faster-whisper needs a CTranslate2 model directory; "
                "use --engine openai-whisper for a .pt checkpoint"
            )
        if device == "auto":
            device = "cuda" if ctranslate2.get_cuda_device_count() else "cpu"
        if compute_type == "default":
            compute_type = "int8" if device == "cpu" else "float16"
        self.model = model.name
        self.multilingual = model.multilingual
        self._model = WhisperModel(
            str(model.path), device=device, compute_type=compute_type, cpu_threads=cpu_threads
        )

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
                        Word(w.word.strip(), float(w.start), float(w.end), float(w.probability)) for w in s.words or ()
                    ),
                    avg_logprob=s.avg_logprob,
                    no_speech_prob=s.no_speech_prob,
                )
                for s in segments
            ),
        )
