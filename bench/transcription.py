"""Transcription benchmark: both engines, the same weights, the same audio, one run.

    python bench/transcription.py                 # real-time factor, speed ratio, WER, peak memory
    python bench/transcription.py --long 60       # also a 60-minute call, to show memory stays flat

Each engine runs in its own process (so peak memory is its own); the model is
loaded and warmed up before timing. Real-time factor = processing time / audio time.
Targets on the 2-core machine: faster-whisper RTF <= 0.03, and >= 3x faster than openai-whisper.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

FIXTURES = ROOT / "tests" / "fixtures" / "audio"


def clips() -> list[tuple[Path, str]]:
    from conftest import HARVARD_TEXT, JFK_TEXT, SPEECH, reference

    def dialogue(name: str) -> str:
        return " ".join(t["text"] for t in reference(name)["turns"])

    return [
        (SPEECH / "osr_harvard72_8k.wav", HARVARD_TEXT),
        (SPEECH / "jfk.flac", JFK_TEXT),
        (FIXTURES / "outbound_en.stereo.wav", dialogue("outbound_en")),
        (FIXTURES / "inbound_en.8k.wav", dialogue("inbound_en")),
    ]


def run_engine(
    engine_name: str, cache: Path, long_call: Path | None, args: argparse.Namespace
) -> dict[str, float]:
    from conftest import wer

    from transcribe import RecognitionOptions, TranscribeOptions, load_engine
    from transcribe import transcribe_file as transcribe

    engine = load_engine(engine_name, args.model, cache_dir=cache, device=args.device)
    options = TranscribeOptions(recognition=RecognitionOptions(beam_size=args.beam_size))

    def transcribe_file(path: Path, engine):  # type: ignore[no-untyped-def]
        return transcribe(path, engine, options)

    transcribe_file(FIXTURES / "inbound_en.stereo.wav", engine)  # warm-up
    seconds = audio = errors = words = 0.0
    for path, text in clips():
        started = time.perf_counter()
        transcript = transcribe_file(path, engine)
        seconds += time.perf_counter() - started
        audio += transcript.duration
        n = len(text.split())
        errors += (
            wer(
                text, " ".join(u.text for u in sorted(transcript.utterances, key=lambda u: u.start))
            )
            * n
        )
        words += n
    result = {"seconds": seconds, "audio": audio, "wer": errors / words}
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if long_call is not None:
        started = time.perf_counter()
        transcript = transcribe_file(long_call, engine)
        result["long_seconds"] = time.perf_counter() - started
        result["long_audio"] = transcript.duration
        result["long_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def make_long_call(minutes: float, directory: Path) -> Path:
    """A stereo 16 kHz call of ``minutes``: the outbound dialogue over and over."""
    with wave.open(str(FIXTURES / "outbound_en.stereo.wav")) as w:
        params, frames = w.getparams(), w.readframes(w.getnframes())
    path = directory / "long_call.wav"
    repeats = int(minutes * 60 * params.framerate / params.nframes) + 1
    with wave.open(str(path), "wb") as out:
        out.setparams(params)
        for _ in range(repeats):
            out.writeframes(frames)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long", type=float, metavar="MINUTES", help="also transcribe a long call")
    parser.add_argument("--beam-size", type=int, default=5, help="beam width (default 5)")
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda or auto")
    parser.add_argument("--model", help="model name or path (default: the bundled tiny.en)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--long-path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_engine(args.child, args.cache, args.long_path, args)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        long_path = make_long_call(args.long, Path(tmp)) if args.long else None
        results = {}
        for engine in ("faster-whisper", "openai-whisper"):
            command = [
                sys.executable,
                __file__,
                "--child",
                engine,
                "--cache",
                tmp,
                "--beam-size",
                str(args.beam_size),
                "--device",
                args.device,
            ]
            if args.model:
                command += ["--model", args.model]
            if long_path:
                command += ["--long-path", str(long_path)]
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            results[engine] = json.loads(out.strip().splitlines()[-1])
    fast, ref = results["faster-whisper"], results["openai-whisper"]
    print(
        f"device {args.device}, beam size {args.beam_size}; audio: {fast['audio']:.1f} s in {len(clips())} recordings"
    )
    print(f"{'engine':16} {'RTF':>7} {'WER':>6} {'peak MB':>8}")
    for name, r in results.items():
        print(f"{name:16} {r['seconds'] / r['audio']:7.4f} {r['wer']:6.3f} {r['peak_mb']:8.0f}")
    print(f"speed ratio openai-whisper / faster-whisper: {ref['seconds'] / fast['seconds']:.2f}x")
    if args.long:
        for name, r in results.items():
            print(
                f"long call {r['long_audio'] / 60:.0f} min, {name}: RTF "
                f"{r['long_seconds'] / r['long_audio']:.4f}, peak MB {r['long_peak_mb']:.0f}"
            )


if __name__ == "__main__":
    main()
