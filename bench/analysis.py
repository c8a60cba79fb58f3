"""Analysis benchmark: milliseconds of analysis per minute of call, on a long realistic transcript.

    python bench/analysis.py            # a 10-minute call
    python bench/analysis.py --minutes 60

The call is the hand-written noisy transcript of tests/test_analysis.py repeated
back to back. The pack is compiled, spaCy and the sentence encoder loaded before
timing (once per process in real use); the encoder's and the pushback model's load
times are printed on their own, and the same call is timed comparing wording only
(no sentence vectors) in the same run. Targets: <= 100 ms per minute of call (the
pushback model included); the encoder loads in <= 2 s, the pushback model in <= 1 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def long_call(minutes: float):  # type: ignore[no-untyped-def]
    from test_analysis import NOISY_GOOD, transcript

    length = max(end for _, _, end, _ in NOISY_GOOD) + 1.0
    turns = []
    for i in range(int(minutes * 60 / length) + 1):
        turns += [(s, a + i * length, b + i * length, t) for s, a, b, t in NOISY_GOOD]
    return transcript(turns)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from analysis.analyze import analyze
    from analysis.pushback import shipped_model
    from analysis.semantic import bundled_encoder
    from scripts_lib import load_pack

    started = time.perf_counter()
    bundled_encoder()
    print(f"sentence encoder loaded in {time.perf_counter() - started:.2f} s (target <= 2)")
    started = time.perf_counter()
    shipped_model()
    print(f"pushback model loaded in {time.perf_counter() - started:.3f} s (target <= 1)")
    pack = load_pack("b2b_outbound")
    call = long_call(args.minutes)
    minutes = call.duration / 60
    for label, encoder in (("by meaning (default)", "bundled"), ("wording only", None)):
        analyze(long_call(1), pack, encoder=encoder)  # warm-up: spaCy, scikit-learn, the compiled pack
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            analyze(call, pack, encoder=encoder)
            times.append(time.perf_counter() - started)
        best, median = min(times), statistics.median(times)
        print(f"{label}: {minutes:.1f} min call, {len(call.utterances)} utterances: "
              f"best {best * 1000:.0f} ms, median {median * 1000:.0f} ms; "
              f"{median * 1000 / minutes:.1f} ms per minute of call (target <= 100)")


if __name__ == "__main__":
    main()
