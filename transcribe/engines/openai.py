"""openai-whisper: the reference PyTorch implementation, on the same weights as faster-whisper.

This module imports PyTorch (seconds): ``transcribe.engines`` loads it only when it is chosen."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numba
import numpy as np
import torch
import whisper
from whisper.model import ModelDimensions, Whisper

from callqa.errors import ModelError
from transcribe.convert import cached_openai_checkpoint
from transcribe.engines.base import Recognition, RecognitionOptions, Segment
from transcribe.models import ModelFiles
from transcribe.speech import Packed, pack_speech
from transcribe.transcript import Word


class OpenAIWhisperEngine:
    name = "openai-whisper"

    def __init__(
        self, model: ModelFiles, *, cache_dir: Path, device: str = "auto", threads: int = 0
    ) -> None:
        # numba (under Whisper's word timing) starts its OpenMP layer on first use and sets the
        # thread count of the OpenMP runtime PyTorch shares: a worker's one thread became two
        # after its first call's words were timed (1.7 cores busy). Started now, before the
        # count is set. And set on this thread now, so that a mono call's diarizer, which puts
        # its own thread on one (``diarize.one_thread``), cannot leave recognition on one.
        numba.get_num_threads()
        torch.set_num_threads(threads or torch.get_num_threads())
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        elif device.startswith("cuda") and not torch.cuda.is_available():
            build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
            raise ModelError(
                f"--device {device}: PyTorch {torch.__version__} ({build}) finds no CUDA GPU; "
                "use --device cpu or auto"
            )
        self.model = model.name
        self.multilingual = model.multilingual
        self._device = device
        path = model.path
        if model.format == "ctranslate2":
            path = cached_openai_checkpoint(model.path, cache_dir)
        self._model = load_checkpoint(path).to(device)

    def language_probabilities(self, audio: np.ndarray) -> dict[str, float]:
        if not self.multilingual:
            return {"en": 1.0}
        n_mels = self._model.dims.n_mels
        mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(audio), n_mels).to(self._device)
        _, probabilities = self._model.detect_language(mel)
        return {str(language): float(p) for language, p in probabilities.items()}

    def recognize(self, audio: np.ndarray, options: RecognitionOptions) -> Recognition:
        speech = pack_speech([audio]) if options.vad else None
        if speech is not None:
            if not len(speech.audio):
                return Recognition(language=options.language or "en", segments=())
            audio = speech.audio
        prompt = " ".join(filter(None, [options.initial_prompt, *options.hotwords])) or None
        # Whisper's fallback samples; from the same seed each call, a call run again samples alike.
        torch.manual_seed(0)
        result: dict[str, Any] = self._model.transcribe(
            audio,
            language=options.language,
            beam_size=options.beam_size,
            best_of=options.beam_size,
            word_timestamps=options.word_timestamps,
            initial_prompt=prompt,
            fp16=self._device != "cpu",
            verbose=None,
        )
        segments = tuple(_segment(s) for s in result["segments"])
        if speech is not None:
            segments = tuple(_restored(s, speech) for s in segments)
        return Recognition(language=result["language"], segments=segments)


def _restored(segment: Segment, speech: Packed) -> Segment:
    """``segment`` with its times put back from the speech-only stream onto the original audio."""
    if not segment.words:
        whole = speech.place(Word(segment.text, segment.start, segment.end, 1.0))[1]
        return replace(segment, start=whole.start, end=whole.end)
    words = tuple(speech.place(w)[1] for w in segment.words)
    return replace(segment, start=words[0].start, end=words[-1].end, words=words)


def _segment(s: dict[str, Any]) -> Segment:
    return Segment(
        start=float(s["start"]),
        end=float(s["end"]),
        text=s["text"].strip(),
        words=tuple(
            Word(w["word"].strip(), float(w["start"]), float(w["end"]), float(w["probability"]))
            for w in s.get("words", ())
        ),
        avg_logprob=float(s["avg_logprob"]),
        no_speech_prob=float(s["no_speech_prob"]),
    )


def load_checkpoint(path: Path) -> Any:
    """An openai-whisper model from a checkpoint, with its alignment heads when it names them."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    dims = ModelDimensions(**checkpoint["dims"])
    model = Whisper(dims)
    model.load_state_dict(checkpoint["model_state_dict"])
    heads = checkpoint.get("alignment_heads")
    if heads:
        mask = torch.zeros(dims.n_text_layer, dims.n_text_head, dtype=torch.bool)
        rows, cols = zip(*heads)
        mask[list(rows), list(cols)] = True
        model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)
    return model
