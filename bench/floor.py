"""Where recognition time goes, and how far it is from the floor (issue 18: tiny.en RTF <= 0.015,
the floor about 0.01).

    python bench/floor.py [--calls 3] [--beam-size 5]

Each stereo call of the development set (``--calls`` of each folder) is decoded and packed as
``callqa transcribe`` packs it (both sides' speech end to end, ``transcribe.speech``), then
recognised by the default engine as the pipeline recognises it, with the CTranslate2 model's
``encode``, ``generate`` and ``align`` and the log-mel features timed as they are called.
Reported, as RTF over the calls' audio:

- recognition, whole, and its parts: features, the encoder (every window it runs over, fallbacks
  and seeks included), the decoding loop (``generate``: the beam search, and the fallback's
  decodes again), the word alignment, and the rest (Python: tokens, segments, seeking);
- the floor: the features once and the encoder once over each 30 s of packed speech, at the
  encoder's measured cost per window, with nothing decoded; no decoder can do better than that;
- the decoding loop's cost per token it emits, and how many windows the encoder ran over.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

import numpy as np

from callqa.settings import Settings
from transcribe.audio import SAMPLE_RATE, stream_audio
from transcribe.engines.base import RecognitionOptions
from transcribe.engines.faster import DeterministicWhisper, FasterWhisperEngine
from transcribe.models import model_for, resolve_model
from transcribe.recognisers import Recognisers
from transcribe.speech import pack_speech

DEVSET = ROOT.parent / "shared" / "data" / "devset"
FOLDERS = ("fleettrack", "brightnest", "fleettrack_piper", "brightnest_piper")
WINDOW = 30.0  # seconds of audio the Whisper encoder takes at once


class Timed:
    """``inner`` with the calls of ``names`` timed (seconds and count per name); ``tokens``: the
    tokens ``generate`` emitted, best hypothesis of each batch item."""

    def __init__(self, inner: Any, *names: str) -> None:
        self.inner, self.names = inner, names
        self.seconds: dict[str, float] = defaultdict(float)
        self.count: dict[str, int] = defaultdict(int)
        self.tokens = 0

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.inner, name)
        if name not in self.names:
            return found
        return lambda *args, **kwargs: self._run(name, found, args, kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("__call__", self.inner, args, kwargs)

    def _run(self, name: str, call: Any, args: Any, kwargs: Any) -> Any:
        started = time.perf_counter()
        result = call(*args, **kwargs)
        self.seconds[name] += time.perf_counter() - started
        self.count[name] += 1
        if name == "generate":
            self.tokens += sum(len(r.sequences_ids[0]) for r in result)
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3, help="stereo calls of each development-set folder")
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--devset", type=Path, default=DEVSET)
    args = parser.parse_args()
    settings = Settings.from_env()
    engine = Recognisers.from_settings(settings).for_language("en")
    if not isinstance(engine, FasterWhisperEngine):
        raise SystemExit("the faster-whisper engine is measured here (CALLQA_ENGINE=faster-whisper)")
    options = RecognitionOptions(language="en", vad=False, beam_size=args.beam_size)

    packed: list[np.ndarray] = []
    audio_seconds = 0.0
    for folder in FOLDERS:
        for path in sorted((args.devset / folder).glob("*.stereo.flac"))[: args.calls]:
            block = np.concatenate(list(stream_audio(str(path), block_seconds=3600.0)), axis=1)
            audio_seconds += block.shape[1] / SAMPLE_RATE
            packed.append(pack_speech([block[0], block[1]]).audio)
    shipped = engine._model
    # The way before: one instance of the model, the decoding loop on every thread as well.
    files = resolve_model(model_for(settings.model, "en"), cache_dir=settings.cache_dir)
    together = DeterministicWhisper(str(files.path), device="cpu", compute_type="int8", cpu_threads=settings.threads,
                                    decode_threads=None)  # fmt: skip
    for whisper in (shipped, together):  # warm-up
        engine._model = whisper
        engine.recognize(packed[0][: 10 * SAMPLE_RATE], options)
    split = shipped.encoder is not shipped.model
    model, features = Timed(shipped.model, "generate", "align"), Timed(shipped.feature_extractor)
    encoder = Timed(shipped.encoder, "encode")
    shipped._decoder, shipped.encoder, shipped.feature_extractor = model, encoder, features
    seconds = {"shipped": 0.0, "together": 0.0}
    same = 0
    for i, audio in enumerate(packed):
        words = {}
        for way in ("shipped", "together") if i % 2 else ("together", "shipped"):  # alternate: noise falls on both
            engine._model = shipped if way == "shipped" else together
            started = time.perf_counter()
            found = engine.recognize(audio, options)
            seconds[way] += time.perf_counter() - started
            words[way] = [w.word for segment in found.segments for w in segment.words]
        same += words["shipped"] == words["together"]
    shipped._decoder, shipped.encoder, shipped.feature_extractor = model.inner, encoder.inner, features.inner
    engine._model = shipped
    total = seconds["shipped"]

    per_window = encoder.seconds["encode"] / encoder.count["encode"]
    windows = sum(math.ceil(len(audio) / SAMPLE_RATE / WINDOW) for audio in packed)
    floor = features.seconds["__call__"] + windows * per_window
    parts = {
        "features": features.seconds["__call__"],
        "encoder": encoder.seconds["encode"],
        "decoding loop": model.seconds["generate"],
        "word alignment": model.seconds["align"],
    }
    parts["the rest (Python)"] = total - sum(parts.values())
    speech = sum(len(a) for a in packed) / SAMPLE_RATE
    threads = settings.threads or len(os.sched_getaffinity(0))
    print(f"{len(packed)} stereo calls, {audio_seconds:.0f} s of audio ({speech:.0f} s of packed speech), "
          f"{engine.model}, beam {args.beam_size}, {threads} threads:")  # fmt: skip
    print(f"  recognition, {'the encoder on ' + str(threads) + ' threads, the decoding loop on one' if split else 'as shipped'}:"
          f" RTF {total / audio_seconds:.4f}")  # fmt: skip
    for name, part in parts.items():
        print(f"    {name:20s} RTF {part / audio_seconds:.4f}  ({part / total:5.1%})")
    print(f"  recognition, everything on {settings.threads or 'the default'} threads (as before): RTF {seconds['together'] / audio_seconds:.4f} "
          f"({seconds['together'] / total:.2f}x the time); the same words on {same} of {len(packed)} calls")  # fmt: skip
    print(f"  floor (features, encoder once per {WINDOW:.0f} s) RTF {floor / audio_seconds:.4f}: "
          f"recognition is {total / floor:.1f}x the floor")  # fmt: skip
    print(f"  encoder: {encoder.count['encode']} windows run ({windows} would cover the speech once), "
          f"{per_window * 1000:.0f} ms each; decoding loop: {model.tokens} tokens, "
          f"{model.seconds['generate'] / max(model.tokens, 1) * 1000:.1f} ms per token")  # fmt: skip


if __name__ == "__main__":
    main()
