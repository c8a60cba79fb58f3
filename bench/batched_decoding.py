"""Batched decoding (issue 18, items 1 and 2): faster-whisper's own decoding of a call's speech,
30-second window after window with the previous text as context, against ways of decoding
several windows as one batch.

    python bench/batched_decoding.py [--calls 3] [--batch-size 8] [--join 1] [--ways sequential,...]

Each stereo call of the development set (``--calls`` of each folder: espeak-ng and Piper, both
products) is decoded and packed as ``callqa transcribe`` does it (both sides' speech end to end,
``transcribe.speech``); then every call is recognised by each way in turn, in one process (beam
5, word times, the default model and threads):

- ``sequential``: the engine as it ships (``FasterWhisperEngine.recognize``);
- ``sequential, no context`` and ``sequential over chunks``: the same without the previous
  text as the prompt, and over the chunks the batched ways decode (what each of those costs);
- ``batched``: faster-whisper's ``BatchedInferencePipeline`` over chunks of up to 30 s cut at
  the pauses Silero VAD finds, with callqa's fallback that decodes a looping or unsure chunk
  again without sampling;
- ``batched + redo``: the same, and a chunk that comes back with fewer than ``--rate`` words per
  second (the decoder stopped early) is decoded again sequentially;
- ``batched + seek``: the same chunks decoded side by side as Whisper decodes a recording,
  with timestamps, seeking on from the last whole segment (``lockstep``, each chunk apart);
- ``across calls``: the calls themselves decoded side by side, ``--batch-size`` at a time,
  each as the sequential decoder does it, with its own earlier text as context
  (``FasterWhisperEngine.recognize_many``);
- ``greedy first``: sequential, but each window decoded greedily first, and again with the
  beam (and the fallback) only where that is unsure (mean log-probability under ``--unsure``)
  or fails Whisper's checks.

With ``--join N``, N calls of a folder in a row are joined into one recording (real calls run
longer than the development set's 2 minutes: more of their windows follow a full prompt).

Reported per way: the recognition time over the calls' audio (RTF) and its ratio to sequential,
and the WER (substitutions, deletions, insertions) against the reference turns, per rendering. The
words are compared in the packed order (each side's speech in the order it was spoken), the same
for every way.
"""

from __future__ import annotations

import argparse
import bisect
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import jiwer
import numpy as np
from conftest import normalise
from faster_whisper import BatchedInferencePipeline, WhisperModel
from faster_whisper.transcribe import get_compression_ratio
from faster_whisper.vad import VadOptions, get_speech_timestamps

from analysis.evaluate import reference_transcript
from callqa.settings import Settings
from transcribe.audio import SAMPLE_RATE, stream_audio
from transcribe.engines.base import RecognitionOptions
from transcribe.engines.faster import FALLBACKS, FasterWhisperEngine, judge, lockstep
from transcribe.recognisers import Recognisers
from transcribe.speech import pack_speech

DEVSET = ROOT.parent / "shared" / "data" / "devset"
FOLDERS = ("fleettrack", "brightnest", "fleettrack_piper", "brightnest_piper")
OPTIONS = RecognitionOptions(language="en", vad=False)


class WithFallback(BatchedInferencePipeline):  # type: ignore[misc]
    """faster-whisper's batched decoding, with callqa's fallback: a chunk that loops or is unsure
    is decoded again (in one batch with the others that do) with the next of FALLBACKS."""

    def generate_segment_batched(self, features: np.ndarray, tokenizer: Any, options: Any) -> tuple[Any, list]:
        def failed(output: dict) -> tuple[bool, bool]:
            ratio = get_compression_ratio(tokenizer.decode(output["tokens"]))
            done, repetitive = judge(ratio, output["avg_logprob"], output["no_speech_prob"], options)
            return not done, repetitive

        encoded, outputs = super().generate_segment_batched(features, tokenizer, options)
        again = [i for i, output in enumerate(outputs) if failed(output)[0]]
        if again:
            _, second = super().generate_segment_batched(features[again], tokenizer, replace(options, **FALLBACKS[1]))
            for i, output in zip(again, second, strict=True):
                tried = [outputs[i], output]
                passed = [t for t in tried if not failed(t)[1]]
                outputs[i] = output if not failed(output)[0] else max(passed or tried, key=lambda t: t["avg_logprob"])
        return encoded, outputs


def chunks_of(audio: np.ndarray) -> list[tuple[float, float]]:
    """The speech cut at pauses (Silero VAD, as faster-whisper's batched pipeline cuts it), joined
    into chunks of up to 30 s."""
    options = VadOptions(min_silence_duration_ms=160, max_speech_duration_s=30)
    found: list[tuple[float, float]] = []
    for span in get_speech_timestamps(audio, options):
        start, end = span["start"] / SAMPLE_RATE, span["end"] / SAMPLE_RATE
        if found and end - found[-1][0] <= 30:
            found[-1] = (found[-1][0], end)
        else:
            found.append((start, end))
    return found


def batched(engine: FasterWhisperEngine, audio: np.ndarray, batch_size: int, rate: float | None) -> list[str]:
    """The words of ``audio`` decoded in batches of chunks; with ``rate``, a chunk with fewer words
    per second is decoded again sequentially."""
    model = engine._model
    chunks = chunks_of(audio)
    segments, _ = WithFallback(model).transcribe(
        audio, language="en", beam_size=5, word_timestamps=True, batch_size=batch_size,
        clip_timestamps=[{"start": a, "end": b} for a, b in chunks],
    )  # fmt: skip
    starts = [a for a, _ in chunks]
    by_chunk: dict[int, list[str]] = defaultdict(list)
    for segment in segments:
        by_chunk[max(0, bisect.bisect_right(starts, segment.start + 0.05) - 1)] += [w.word for w in segment.words]
    words: list[str] = []
    for i, (start, end) in enumerate(chunks):
        if rate is not None and len(by_chunk[i]) < rate * (end - start):
            piece = audio[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
            again, _ = model.transcribe(piece, language="en", beam_size=5, word_timestamps=True)
            by_chunk[i] = [w.word for s in again for w in s.words]
        words += by_chunk[i]
    return words


def batched_seek(engine: FasterWhisperEngine, audio: np.ndarray, batch_size: int) -> list[str]:
    """One call's chunks (cut at pauses) decoded side by side, each as a recording of its own
    (``transcribe.engines.faster.lockstep``)."""
    mel = engine._model.feature_extractor(audio)
    rate = engine._model.frames_per_second
    pieces = [mel[:, round(a * rate) : round(b * rate) + 1] for a, b in chunks_of(audio)]
    found = lockstep(engine._model, pieces, OPTIONS, batch_size)
    return [w.word for segments in found for s in segments for w in s.words]


def across_calls(engine: FasterWhisperEngine, audios: list[np.ndarray], batch_size: int) -> list[list[str]]:
    """Several calls decoded side by side, each whole as the sequential decoder does (``recognize_many``)."""
    return [[w.word for s in r.segments for w in s.words] for r in engine.recognize_many(audios, OPTIONS, batch_size)]


def sequential(engine: FasterWhisperEngine, audio: np.ndarray) -> list[str]:
    return [w.word for s in engine.recognize(audio, OPTIONS).segments for w in s.words]


def greedy_first(engine: FasterWhisperEngine, audio: np.ndarray, unsure: float) -> list[str]:
    """``sequential`` with each window decoded greedily, and with the beam where that is unsure."""
    model = engine._model

    def decode(encoded: Any, prompt: list[int], tokenizer: Any, options: Any) -> tuple[Any, float, float, float]:
        greedy = replace(options, temperatures=[0.0], beam_size=1)
        result, avg, _, ratio = WhisperModel.generate_with_fallback(model, encoded, prompt, tokenizer, greedy)
        done, repetitive = judge(float(ratio), float(avg), result.no_speech_prob, options)
        if done and not repetitive and avg >= unsure:
            return result, float(avg), 0.0, float(ratio)
        return type(model).generate_with_fallback(model, encoded, prompt, tokenizer, options)  # type: ignore[no-any-return]

    model.generate_with_fallback = decode  # this instance only, for this call
    try:
        return sequential(engine, audio)
    finally:
        del model.generate_with_fallback


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3, help="stereo calls of each development-set folder")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--rate", type=float, default=1.2, help="words per second under which a chunk is redone")
    parser.add_argument("--devset", type=Path, default=DEVSET)
    parser.add_argument("--join", type=int, default=1, help="calls of a folder joined into one (longer calls)")
    parser.add_argument("--ways", help="the ways to measure (comma-separated; default: all)")
    parser.add_argument("--unsure", type=float, default=-0.7, help="greedy first: the mean log-probability under which the beam decodes again")
    args = parser.parse_args()
    engine = Recognisers.from_settings(Settings.from_env()).for_language("en")
    if not isinstance(engine, FasterWhisperEngine):
        raise SystemExit("the faster-whisper engine is measured here (CALLQA_ENGINE=faster-whisper)")
    model = engine._model

    def each(recognise: Callable[[np.ndarray], list[str]]) -> Callable[[list[np.ndarray]], list[list[str]]]:
        return lambda audios: [recognise(audio) for audio in audios]

    def whole(audio: np.ndarray, **options: Any) -> list[str]:
        segments, _ = model.transcribe(audio, language="en", beam_size=5, word_timestamps=True, **options)
        return [w.word for segment in segments for w in segment.words]

    ways: dict[str, Callable[[list[np.ndarray]], list[list[str]]]] = {
        "sequential": each(lambda audio: sequential(engine, audio)),
        "sequential, no context": each(lambda audio: whole(audio, condition_on_previous_text=False)),
        "sequential over chunks": each(
            lambda audio: whole(audio, clip_timestamps=[t for span in chunks_of(audio) for t in span])
        ),
        "batched": each(lambda audio: batched(engine, audio, args.batch_size, None)),
        "batched + redo": each(lambda audio: batched(engine, audio, args.batch_size, args.rate)),
        "batched + seek": each(lambda audio: batched_seek(engine, audio, args.batch_size)),
        "across calls": lambda audios: across_calls(engine, audios, args.batch_size),
        "greedy first": each(lambda audio: greedy_first(engine, audio, args.unsure)),
    }
    calls: list[tuple[np.ndarray, str, str, int]] = []  # (packed speech, reference words, rendering, calls joined)
    audio_seconds = 0.0
    for folder in FOLDERS:
        for path in sorted((args.devset / folder).glob("*.stereo.flac"))[: args.calls]:
            block = np.concatenate(list(stream_audio(str(path), block_seconds=3600.0)), axis=1)
            audio_seconds += block.shape[1] / SAMPLE_RATE
            turns = reference_transcript(path.with_name(path.name.split(".")[0] + ".json"), "en").utterances
            rendering = "Piper" if folder.endswith("_piper") else "espeak-ng"
            packed, said = pack_speech([block[0], block[1]]).audio, normalise(" ".join(t.text for t in turns))
            if calls and calls[-1][3] < args.join and calls[-1][2] == rendering:
                previous = calls[-1]
                calls[-1] = (np.concatenate([previous[0], packed]), f"{previous[1]} {said}", rendering, previous[3] + 1)
            else:
                calls.append((packed, said, rendering, 1))
    seconds: dict[str, float] = {}
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    if args.ways:
        ways = {way: ways[way] for way in args.ways.split(",")}
    for way, recognise in ways.items():
        started = time.perf_counter()
        found_words = recognise([audio for audio, *_ in calls])
        seconds[way] = time.perf_counter() - started
        for (_, reference, rendering, _), words in zip(calls, found_words, strict=True):
            found = jiwer.process_words(reference, normalise(" ".join(words)))
            tally = counts[(way, rendering)]
            for k, n in enumerate((found.substitutions, found.deletions, found.insertions, len(reference.split()))):
                tally[k] += n
    print(f"{audio_seconds:.0f} s of stereo calls ({len(calls)} recordings), beam 5, batch {args.batch_size}:")
    for way in ways:
        wers = []
        for rendering in ("espeak-ng", "Piper"):
            s, d, i, n = counts[(way, rendering)]
            wers.append(f"{rendering} WER {(s + d + i) / n:.3f} (sub {s / n:.3f} del {d / n:.3f} ins {i / n:.3f})")
        print(f"  {way:22s} RTF {seconds[way] / audio_seconds:.4f} ({seconds['sequential'] / seconds[way]:.2f}x)  "
              + "  ".join(wers))  # fmt: skip


if __name__ == "__main__":
    main()
