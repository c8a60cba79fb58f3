"""openai-whisper: the reference PyTorch implementation, on the same weights as faster-whisper."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from transcribe.convert import cached_openai_checkpoint
from transcribe.engines.base import Recognition, RecognitionOptions, Segment, speech_spans
from transcribe.models import ModelFiles
from transcribe.transcript import Word


class OpenAIWhisperEngine:
    name = "openai-whisper"

    def __init__(self, model: ModelFiles, *, cache_dir: Path, device: str = "auto") -> None:
        import torch

        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.model = model.name
        self.multilingual = model.multilingual
        self._device = device
        path = model.path
        if model.format == "ctranslate2":
            path = cached_openai_checkpoint(model.path, cache_dir)
        self._model = load_checkpoint(path).to(device)

    def recognize(self, audio: np.ndarray, options: RecognitionOptions) -> Recognition:
        clips: list[float] = []
        if options.vad:
            clips = _clip_timestamps(speech_spans(audio), len(audio))
            if not clips:
                return Recognition(language=options.language or "en", segments=())
        prompt = " ".join(filter(None, [options.initial_prompt, *options.hotwords])) or None
        result: dict[str, Any] = self._model.transcribe(
            audio,
            language=options.language,
            beam_size=options.beam_size,
            best_of=options.beam_size,
            word_timestamps=options.word_timestamps,
            initial_prompt=prompt,
            clip_timestamps=clips or "0",
            fp16=self._device != "cpu",
            verbose=None,
        )
        return Recognition(
            language=result["language"],
            segments=tuple(
                Segment(
                    start=float(s["start"]),
                    end=float(s["end"]),
                    text=s["text"].strip(),
                    words=tuple(
                        Word(w["word"].strip(), float(w["start"]), float(w["end"]),
                             float(w["probability"]))
                        for w in s.get("words", ())
                    ),
                    avg_logprob=float(s["avg_logprob"]),
                    no_speech_prob=float(s["no_speech_prob"]),
                )
                for s in result["segments"]
            ),
        )


def _clip_timestamps(spans: list[tuple[float, float]], samples: int) -> list[float]:
    """VAD spans as openai-whisper clips, kept inside the last whole mel frame.

    A clip ending past the last frame makes openai-whisper loop forever
    (its segment size becomes zero), so ends are clamped.
    """
    last = (samples // 160 - 1) / 100
    return [t for start, end in spans if start < min(end, last) for t in (start, min(end, last))]


def load_checkpoint(path: Path) -> Any:
    """An openai-whisper model from a checkpoint, with its alignment heads when it names them."""
    import torch
    from whisper.model import ModelDimensions, Whisper

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
