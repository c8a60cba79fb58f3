"""faster-whisper (CTranslate2): the default engine, int8 on the CPU, float16 on CUDA.

Recognition is deterministic: the same audio, model and settings give the same words, whatever
the thread count and the machine's load. CTranslate2's arithmetic already is (measured: the
same text with 1 and 2 threads, and with a core kept busy); what was not is Whisper's fallback,
which re-decodes a segment that loops or is unsure by *sampling* at rising temperatures, from a
random generator CTranslate2 seeds once per thread and never again (no seed per call). Here the
fallback decodes again without sampling (``DeterministicWhisper``).
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any

import ctranslate2
import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.audio import pad_or_trim
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import TranscriptionOptions

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
        return DeterministicWhisper(path, device=device, compute_type=kind, cpu_threads=cpu_threads)

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


# The decodings tried for a segment, in order, until one passes Whisper's checks (not too
# repetitive, not too unsure): as asked; then with no three tokens repeated, so that no loop can
# form. Measured on 10 espeak-ng calls of the development set (tiny.en, stereo 8 kHz): WER 0.408,
# against 0.410-0.415 with faster-whisper's sampling (different at each run) and 0.535 with no
# fallback; the same words as sampling on the Piper calls, where no segment needs it. Dropping
# the previous segment's text as context after a fallback, as faster-whisper does, gave 0.421.
FALLBACKS: tuple[dict[str, Any], ...] = ({}, {"no_repeat_ngram_size": 3})


class DeterministicWhisper(WhisperModel):  # type: ignore[misc]
    """faster-whisper's model with a fallback that decodes again without sampling."""

    def generate_with_fallback(
        self, encoder_output: ctranslate2.StorageView, prompt: list[int], tokenizer: Tokenizer,
        options: TranscriptionOptions,
    ) -> tuple[Any, float, float, float]:  # fmt: skip
        """The decoded segment, its mean log-probability, its "temperature" (always 0: nothing is
        sampled) and its compression ratio, as faster-whisper's own method returns them.

        Each try is faster-whisper's own decoding at temperature 0 alone (no sampling); the
        checks that would have sent it on to a higher temperature send it to the next of FALLBACKS."""
        tried: list[tuple[Any, float, float, float]] = []
        passed: list[tuple[Any, float, float, float]] = []
        for changes in FALLBACKS:
            asked = replace(options, temperatures=[0.0], **changes)
            result, avg_logprob, _, ratio = super().generate_with_fallback(encoder_output, prompt, tokenizer, asked)
            decoded = (result, float(avg_logprob), 0.0, float(ratio))
            tried.append(decoded)
            done, repetitive = judge(float(ratio), float(avg_logprob), result.no_speech_prob, options)
            if not repetitive:
                passed.append(decoded)
            if done:
                return decoded
        # None passed: the surest that is not a loop (or the surest of all), as faster-whisper does.
        return max(passed or tried, key=lambda d: d[1])


def judge(ratio: float, avg_logprob: float, no_speech_prob: float, options: TranscriptionOptions) -> tuple[bool, bool]:
    """Whisper's checks of one decoding: whether it stands (not a loop and sure of itself, or
    silence), and whether it is a loop (its text compresses too well)."""
    limit = options.compression_ratio_threshold
    repetitive = limit is not None and ratio > limit
    unsure = options.log_prob_threshold is not None and avg_logprob < options.log_prob_threshold
    silent = unsure and options.no_speech_threshold is not None and no_speech_prob > options.no_speech_threshold
    return silent or not (repetitive or unsure), repetitive
