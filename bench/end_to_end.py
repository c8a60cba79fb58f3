"""The whole pipeline end to end, per core: faster-whisper (the default) against openai-whisper.

    python bench/end_to_end.py                  # 6 development-set calls: stereo and mono, both renderings
    python bench/end_to_end.py --calls 12

Each engine runs in its own process with one CPU thread (CALLQA_THREADS=1, as a worker does: one
process per core), a fresh SQLite database and data folder, and the development set's FleetTrack
pack. One call warms the process up (models, language pipeline, sentence encoder, loaded once per
process, as in a worker); then the calls are put through ``callqa batch``'s own path (decode, VAD,
language, recognise, diarize where mono, analyse, store), timed from the first to the last stored.
Reported per engine: call-minutes per hour per core, the real-time factor, and the WER of the
stored transcripts against the development set's reference turns; and the speed ratio. Both
engines run the same weights on the same audio in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

DEVSET = ROOT.parent / "shared" / "data" / "devset"
ENGINES = ("faster-whisper", "openai-whisper")


def calls(devset: Path, count: int) -> list[Path]:
    """``count`` recordings taken in turn from the four folders, stereo and mono alternately."""
    folders = ("fleettrack", "fleettrack_piper", "brightnest", "brightnest_piper")
    lists = [sorted((devset / f).glob("*.json")) for f in folders]
    chosen = []
    for i in range(count):
        labels = lists[i % len(lists)][i // len(lists) + 1]  # the first of each folder warms up
        chosen.append(labels.with_suffix(".stereo.flac" if i % 2 == 0 else ".mono.flac"))
    return chosen


def stored_name(path: Path) -> str:
    """A recording's name in the batch's folder: its own, with its folder's (d1_02-fleettrack_piper.mono.flac)."""
    return path.name.replace(".", f"-{path.parent.name}.", 1)


def child(engine: str, files: list[Path], warm: Path, pack: Path, work: Path) -> dict[str, float]:
    """Run in the engine's own process: the batch's time, its audio and its word errors."""
    from conftest import wer
    from sqlalchemy import select

    from analysis.evaluate import reference_transcript
    from callqa.settings import Settings
    from pipeline.batch import run_batch
    from pipeline.context import Context
    from pipeline.scripts import resolve_script
    from storage.models import Call, Transcript
    from transcribe.audio import check_decodable

    ctx = Context.from_settings(Settings.from_env())
    script_id = resolve_script(ctx.sessions, str(pack))
    for name, group in (("warm", [warm]), ("calls", files)):
        (work / name).mkdir()
        for path in group:
            shutil.copy(path, work / name / stored_name(path))
    run_batch(ctx, work / "warm", script_id)
    started = time.perf_counter()
    summary = run_batch(ctx, work / "calls", script_id)
    seconds = time.perf_counter() - started
    if summary.failed:
        raise SystemExit(f"{engine}: failed: {summary.failed}")
    errors = words = 0.0
    with ctx.sessions() as db:
        for path in files:
            call = db.scalar(select(Call).where(Call.original_name == stored_name(path)))
            assert call is not None
            stored = db.scalar(select(Transcript.data).where(Transcript.call_id == call.id))
            said = " ".join(u["text"] for u in stored["utterances"])
            turns = reference_transcript(path.with_name(path.name.split(".")[0] + ".json"), "en")
            reference = " ".join(u.text for u in turns.utterances)
            errors += wer(reference, said) * len(reference.split())
            words += len(reference.split())
    audio = sum(check_decodable(p) for p in files)
    return {"seconds": seconds, "audio": audio, "wer": errors / words}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=6)
    parser.add_argument("--devset", type=Path, default=DEVSET)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    files = calls(args.devset, args.calls)
    warm = args.devset / "fleettrack" / "d1_01.stereo.flac"
    pack = args.devset / "packs" / "fleettrack.yaml"
    if args.child:
        engine, work = args.child.split(",", 1)
        print(json.dumps(child(engine, files, warm, pack, Path(work))))
        return
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for engine in ENGINES:
            work = Path(tmp) / engine
            work.mkdir()
            env = {key: value for key, value in os.environ.items() if key != "CALLQA_DATABASE_URL"}
            env |= {"CALLQA_ENGINE": engine, "CALLQA_THREADS": "1", "CALLQA_DATA_DIR": str(work / "data")}
            out = subprocess.run([sys.executable, __file__, "--calls", str(args.calls), "--devset", str(args.devset),
                                  "--child", f"{engine},{work}"], env=env, check=True, capture_output=True, text=True)  # fmt: skip
            results[engine] = json.loads(out.stdout.strip().splitlines()[-1])
    minutes = results[ENGINES[0]]["audio"] / 60
    print(f"{len(files)} calls, {minutes:.1f} call-minutes (stereo and mono, espeak-ng and Piper), one thread each:")
    for engine, r in results.items():
        per_hour = r["audio"] / 60 / (r["seconds"] / 3600)
        print(f"  {engine:15s} {per_hour:7.0f} call-minutes per hour per core, RTF {r['seconds'] / r['audio']:.3f}, "
              f"WER {r['wer']:.3f}")
    ratio = results[ENGINES[1]]["seconds"] / results[ENGINES[0]]["seconds"]
    print(f"  faster-whisper is {ratio:.1f}x openai-whisper end to end")


if __name__ == "__main__":
    main()
