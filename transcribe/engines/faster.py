"""faster-whisper (CTranslate2): the default engine, int8 on the CPU, float16 on CUDA.

Recognition is deterministic: the same audio, model and settings give the same words, whatever
the thread count and the machine's load. CTranslate2's arithmetic already is (measured: the
same text with 1 and 2 threads, and with a core kept busy); what was not is Whisper's fallback,
which re-decodes a segment that loops or is unsure by *sampling* at rising temperatures, from a
random generator CTranslate2 seeds once per thread and never again (no seed per call). Here the
fallback decodes again without sampling (``DeterministicWhisper``).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import ctranslate2
import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.audio import pad_or_trim
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import (
    TranscriptionOptions,
    get_compression_ratio,
    get_ctranslate2_storage,
    get_suppressed_tokens,
)

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
        # The encoder over the frames the audio holds, not over a window padded to 30 s, so
        # that a shorter window costs less (``transcribe.recognisers.WINDOW``).
        extractor = self._model.feature_extractor
        frames = min(len(audio) // extractor.hop_length, extractor.nb_max_frames)  # at most 30 s
        features = np.ascontiguousarray(extractor(audio)[:, :frames])
        [found] = self._model.encoder.detect_language(ctranslate2.StorageView.from_array(features[None]))
        return {language.strip("<|>"): float(p) for language, p in found}

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


    def recognize_many(
        self, audios: Sequence[np.ndarray], options: RecognitionOptions, batch_size: int = 8
    ) -> list[Recognition]:
        """Several recordings at once, each with the very words and times ``recognize`` gives
        it, but their 30-second windows decoded side by side, up to ``batch_size`` at a time, so
        the decoding loop runs once for several calls (1.3-1.6x as fast on 2 cores:
        ``bench/batched_decoding.py``). ``options.language`` must be given, and ``options.vad``
        off: pack the speech first (``transcribe.speech``), as the pipeline does."""
        if options.language is None or options.vad:
            raise ValueError("recognize_many: give the language, with vad off (pack the speech first)")
        if not audios:
            return []
        found = lockstep(self._model, [self._model.feature_extractor(a) for a in audios], options, batch_size)
        return [Recognition(language=options.language, segments=tuple(segments)) for segments in found]


def lockstep(
    model: WhisperModel, mels: Sequence[np.ndarray], options: RecognitionOptions, batch_size: int
) -> list[list[Segment]]:
    """The segments of each log-mel spectrogram, decoded as faster-whisper decodes a recording:
    window by window with timestamps, seeking on from the end of the last whole segment (or its
    last word), the recording's own earlier text as the prompt (up to KEPT tokens), with the
    fallback of ``DeterministicWhisper``. In rounds until none has audio left, the windows of up
    to ``batch_size`` recordings are decoded as one batch.

    CTranslate2 wants the start-of-transcript token at one place in every prompt of a batch: a
    batch takes windows whose prompts keep as much earlier text (most do: KEPT tokens, once a
    call has said that much). No prompt is cut to fit its batch, so a call's words do not depend
    on the calls decoded beside it."""
    tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language=options.language)
    asked = {
        "beam_size": options.beam_size, "patience": 1, "length_penalty": 1, "max_length": model.max_length,
        "suppress_blank": True, "suppress_tokens": get_suppressed_tokens(tokenizer, [-1]), "return_scores": True,
        "return_no_speech_prob": True, "max_initial_timestamp_index": round(1.0 / model.time_precision),
    }  # fmt: skip
    window, per_second = model.feature_extractor.nb_max_frames, model.frames_per_second
    hotwords = " ".join(options.hotwords) or None
    ends = [mel.shape[-1] - 1 for mel in mels]
    seeks = [0] * len(mels)
    spoken = [0.0] * len(mels)  # each recording's last word's end, for the word times
    prompt = tokenizer.encode(" " + options.initial_prompt.strip()) if options.initial_prompt else []
    context: list[list[int]] = [list(prompt) for _ in mels]
    found: list[list[Segment]] = [[] for _ in mels]

    def decode(encoded: Any, prompts: list[list[int]], **changes: Any) -> list[_Decoded]:
        return [_Decoded.of(r, tokenizer) for r in model.model.generate(encoded, prompts, **asked, **changes)]

    def step(batch: list[int], kept: int) -> None:
        """Decode the current window of each of ``batch``, and move each on."""
        sizes = [min(window, ends[i] - seeks[i]) for i in batch]
        features = np.stack([pad_or_trim(mels[i][:, seeks[i] : seeks[i] + n]) for i, n in zip(batch, sizes, strict=True)])
        prompts = [
            model.get_prompt(tokenizer, context[i][len(context[i]) - kept :], without_timestamps=False, hotwords=hotwords)
            for i in batch
        ]  # fmt: skip
        encoded = model.encode(features)
        tried = [[d] for d in decode(encoded, prompts, **FALLBACKS[0])]
        for changes in FALLBACKS[1:]:  # those that do not stand, decoded again with the next
            again = [k for k, tries in enumerate(tried) if not tries[-1].stands]
            if again:
                for k, d in zip(again, decode(model.encode(features[again]), [prompts[k] for k in again], **changes),
                                strict=True):  # fmt: skip
                    tried[k].append(d)
        # None stood: the surest that is not a loop (or the surest of all), as DeterministicWhisper.
        decoded = [
            tries[-1] if tries[-1].stands else max([d for d in tries if not d.loops] or tries, key=lambda d: d.avg_logprob)
            for tries in tried
        ]  # fmt: skip
        segments: list[list[dict[str, Any]]] = []
        whole: list[bool] = []
        starts = [seeks[i] for i in batch]
        for i, n, d, start in zip(batch, sizes, decoded, starts, strict=True):
            if d.no_speech_prob > CHECKS.no_speech_threshold and d.avg_logprob < CHECKS.log_prob_threshold:
                seeks[i] += n  # silence
                segments.append([])
                whole.append(True)
                continue
            split, seeks[i], single = model._split_segments_by_timestamps(
                tokenizer, d.tokens, start / per_second, n, n / per_second, start
            )
            segments.append(split)
            whole.append(single)
        if options.word_timestamps and any(segments):
            # Each window's words are timed apart, after its own last word (as alone), from its
            # own rows of the encoder's output (on a GPU, the window encoded again).
            rows = np.asarray(encoded) if len(batch) > 1 and model.model.device == "cpu" else None
            for k, split in enumerate(segments):
                if not split:
                    continue
                if len(batch) == 1:
                    own = encoded
                elif rows is not None:
                    own = ctranslate2.StorageView.from_array(rows[k : k + 1])
                else:
                    own = model.encode(features[k : k + 1])
                model.add_word_timestamps([split], tokenizer, own, sizes[k], PREPEND, APPEND, spoken[batch[k]])
        for i, n, split, single, d, start in zip(batch, sizes, segments, whole, decoded, starts, strict=True):
            said = [w for s in split for w in s.get("words", [])]
            if said:
                spoken[i] = said[-1]["end"]
                if not single and said[-1]["end"] > start / per_second:
                    seeks[i] = round(said[-1]["end"] * per_second)
            if seeks[i] <= start:  # no way on found in the window: past it, so the loop ends
                seeks[i] = start + n
            for s in split:
                text = tokenizer.decode(s["tokens"])
                if s["start"] == s["end"] or not text.strip():
                    continue
                context[i] += s["tokens"]
                found[i].append(Segment(
                    start=float(s["start"]), end=float(s["end"]), text=text.strip(),
                    words=tuple(Word(w["word"].strip(), float(w["start"]), float(w["end"]), float(w["probability"]))
                                for w in s.get("words", [])),
                    avg_logprob=d.avg_logprob, no_speech_prob=d.no_speech_prob,
                ))  # fmt: skip

    while active := [i for i in range(len(mels)) if seeks[i] < ends[i]]:
        alike: dict[int, list[int]] = {}  # by how much earlier text each prompt keeps
        for i in active:
            alike.setdefault(min(KEPT, len(context[i])), []).append(i)
        for kept, same in alike.items():
            for first in range(0, len(same), batch_size):
                step(same[first : first + batch_size], kept)
    return found


def _load(path: str, device: str, compute_type: str, cpu_threads: int) -> Any:
    """A WhisperModel on ``device``; "auto" takes a usable GPU and falls back to the CPU."""
    def load(device: str) -> Any:
        kind = compute_type
        if kind == "default":
            kind = "int8" if device == "cpu" else "float16"
        try:
            return DeterministicWhisper(path, device=device, compute_type=kind, cpu_threads=cpu_threads)
        except ValueError as error:  # CTranslate2 reads CT2_FORCE_CPU_ISA as it loads a model
            forced = os.environ.get("CT2_FORCE_CPU_ISA")
            if forced is None or ("ISA" not in str(error) and "CPU does not support" not in str(error)):
                raise
            raise ModelError(
                f"CT2_FORCE_CPU_ISA={forced}: {error}; unset it to let CTranslate2 pick this CPU's kernels"
            ) from None

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
    """faster-whisper's model with a fallback that decodes again without sampling, and, on the
    CPU, the encoder on ``cpu_threads`` (0: every core) but the decoding loop on one thread.

    The encoder's big matrix products gain from more threads; the decoding loop's small ones,
    one token at a time, lose: on 2 cores (tiny.en, int8, beam 5, one 30 s window) the encoder
    takes 0.60-0.81 s on one thread and 0.34-0.45 s on two, the beam search 13-16 ms a token on
    one and 15-46 ms on two or more (``python bench/floor.py`` measures a call's parts). So the encoder
    runs in a second instance of the model with its own threads, the rest in one with a single
    thread, loaded when it is first needed: the bundled base that only tells a call's language
    never loads it. The encoder's output is the same, bit for bit, whatever its thread count, so
    the words are those of either instance alone."""

    def __init__(
        self, path: str, *, device: str, compute_type: str, cpu_threads: int, decode_threads: int | None = 1
    ) -> None:
        """``decode_threads``: the decoding loop's threads on the CPU; None: ``cpu_threads`` for
        everything in one instance, as faster-whisper has it."""
        threads = cpu_threads or len(os.sched_getaffinity(0))
        self._decoder: ctranslate2.models.Whisper | None = None
        self._decoder_options: dict[str, Any] | None = None
        if device == "cpu" and decode_threads is not None and threads > decode_threads:
            self._decoder_options = {"device": "cpu", "compute_type": compute_type, "intra_threads": decode_threads}
            cpu_threads = threads
        self._path = path
        super().__init__(path, device=device, compute_type=compute_type, cpu_threads=cpu_threads)

    @property
    def model(self) -> ctranslate2.models.Whisper:
        """The instance faster-whisper decodes with (``generate``, ``align``, ``detect_language``)."""
        if self._decoder is None:
            options = self._decoder_options
            self._decoder = self.encoder if options is None else ctranslate2.models.Whisper(self._path, **options)
        return self._decoder

    @model.setter
    def model(self, loaded: ctranslate2.models.Whisper) -> None:
        """WhisperModel.__init__ loads the model: that instance encodes."""
        self.encoder = loaded

    def encode(self, features: np.ndarray) -> ctranslate2.StorageView:
        if self._decoder_options is None:
            return super().encode(features)
        return self.encoder.encode(get_ctranslate2_storage(features[None] if features.ndim == 2 else features))

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


class Thresholds(Protocol):
    @property
    def compression_ratio_threshold(self) -> float | None: ...
    @property
    def log_prob_threshold(self) -> float | None: ...
    @property
    def no_speech_threshold(self) -> float | None: ...


@dataclass(frozen=True)
class Checks:
    """Whisper's thresholds, at faster-whisper's defaults."""

    compression_ratio_threshold: float = 2.4
    log_prob_threshold: float = -1.0
    no_speech_threshold: float = 0.6


CHECKS = Checks()
# The most earlier text a window's prompt keeps, in tokens (faster-whisper's: half the decoder's length, less one).
KEPT = 223
# Punctuation that joins the word after it, or before it, in word times (faster-whisper's defaults).
PREPEND, APPEND = "\"'“¿([{-", "\"'.。,，!！?？:：”)]}、"


@dataclass(frozen=True)
class _Decoded:
    """One window's decoding, with Whisper's checks of it."""

    tokens: list[int]
    avg_logprob: float
    no_speech_prob: float
    ratio: float

    @classmethod
    def of(cls, result: Any, tokenizer: Tokenizer) -> _Decoded:
        tokens = result.sequences_ids[0]
        text = tokenizer.decode(tokens).strip()  # as faster-whisper measures it
        avg = result.scores[0] * len(tokens) / (len(tokens) + 1)
        return cls(tokens, float(avg), float(result.no_speech_prob), get_compression_ratio(text))

    @property
    def stands(self) -> bool:
        return judge(self.ratio, self.avg_logprob, self.no_speech_prob, CHECKS)[0]

    @property
    def loops(self) -> bool:
        return judge(self.ratio, self.avg_logprob, self.no_speech_prob, CHECKS)[1]


def judge(ratio: float, avg_logprob: float, no_speech_prob: float, options: Thresholds) -> tuple[bool, bool]:
    """Whisper's checks of one decoding: whether it stands (not a loop and sure of itself, or
    silence), and whether it is a loop (its text compresses too well)."""
    limit = options.compression_ratio_threshold
    repetitive = limit is not None and ratio > limit
    unsure = options.log_prob_threshold is not None and avg_logprob < options.log_prob_threshold
    silent = unsure and options.no_speech_threshold is not None and no_speech_prob > options.no_speech_threshold
    return silent or not (repetitive or unsure), repetitive
