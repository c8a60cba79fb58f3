"""What one step of Whisper's decoding loop costs in CTranslate2 on this CPU (issue 18: the loop
is most of recognition's time, ``bench/floor.py``).

    python bench/decoder_step.py [--compute-types int8,int8_float32,float32] [--model tiny.en]

The Harvard clip of ``../shared/data/speech/`` (or ``CALLQA_SPEECH_DIR``) is cut into two 30 s
windows and encoded on every thread; the first window is then decoded on one thread (as the
engine decodes), with only the start-of-transcript token as the prompt and with ``--prompt``
tokens of earlier text, at beam 5 and greedy. A decode's fixed cost (the prompt, the cross-attention over the window) is
spread over its tokens, as in a call. Reported per compute type: the best of
4 decodes in milliseconds a token, and the encoder's time a window. ``CT2_FORCE_CPU_ISA`` and
``CT2_USE_MKL`` choose the kernels and the matrix library (``CT2_VERBOSE=1`` prints which).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import ctranslate2
import numpy as np
from conftest import SPEECH
from faster_whisper.feature_extractor import FeatureExtractor
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import get_ctranslate2_storage
from tokenizers import Tokenizer as HfTokenizer

from callqa.settings import Settings
from transcribe.audio import SAMPLE_RATE, stream_audio
from transcribe.models import resolve_model

WINDOW = 30 * SAMPLE_RATE
# Earlier text, as a call's prompt carries it: the test fixtures' dialogues (the cost of a step
# depends on the prompt's length, not its words).
EARLIER = [turn["text"] for name in ("inbound_en", "outbound_en")
           for turn in json.loads((ROOT / "tests" / "fixtures" / "audio" / f"{name}.json").read_text())["turns"]]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compute-types", default="int8,int8_float32,float32")
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--prompt", type=int, default=223, help="tokens of earlier text (223: the most the engine keeps)")
    args = parser.parse_args()
    path = str(resolve_model(args.model, cache_dir=Settings.from_env().cache_dir).path)
    audio = np.concatenate(list(stream_audio(str(SPEECH / "osr_harvard72_8k.wav"), block_seconds=3600.0)), axis=1)[0]
    features = FeatureExtractor()
    windows = [get_ctranslate2_storage(features(audio[i * WINDOW : (i + 1) * WINDOW], padding=WINDOW)[None, :, :3000])
               for i in range(2)]  # fmt: skip
    tokenizer = Tokenizer(HfTokenizer.from_file(os.path.join(path, "tokenizer.json")), False, task="transcribe")
    print(f"{args.model}, one thread decoding, {len(os.sched_getaffinity(0))} encoding:")
    for compute_type in args.compute_types.split(","):
        encoder = ctranslate2.models.Whisper(path, device="cpu", compute_type=compute_type, intra_threads=0)
        decoder = ctranslate2.models.Whisper(path, device="cpu", compute_type=compute_type, intra_threads=1)
        started = time.perf_counter()
        encoded = [encoder.encode(w) for w in windows]
        per_window = (time.perf_counter() - started) / 2
        said = tokenizer.encode(" " + " ".join(EARLIER))[-args.prompt :]
        prompts = {"no earlier text": [tokenizer.sot], f"{len(said)} tokens of earlier text": [tokenizer.sot_prev, *said, tokenizer.sot]}
        for name, prompt in prompts.items():
            for beam in (5, 1):
                best, tokens = float("inf"), 0
                for _ in range(4):
                    started = time.perf_counter()
                    tokens = len(decoder.generate(encoded[0], [prompt], beam_size=beam)[0].sequences_ids[0])
                    best = min(best, time.perf_counter() - started)
                print(f"  {compute_type:13s} {name:28s} beam {beam}: {1000 * best / tokens:5.2f} ms a token ({tokens} tokens)")
        print(f"  {compute_type:13s} encoder: {1000 * per_window:.0f} ms a 30 s window")


if __name__ == "__main__":
    main()
