"""The whole pipeline end to end, per core: faster-whisper (the default) against openai-whisper.

    python bench/end_to_end.py                  # 6 development-set calls: stereo and mono, both renderings
    python bench/end_to_end.py --calls 12 --threads 2

Each engine runs in its own process with one CPU thread (CALLQA_THREADS=1, as a worker does: one
process per core; ``--threads``: as ``callqa batch`` does with every core), a fresh SQLite database and data folder, and the development set's FleetTrack
pack. One call warms the process up (models, language pipeline, sentence encoder, loaded once per
process, as in a worker); then the calls are put through ``callqa batch``'s own path (decode, VAD,
language, recognise, diarize where mono, analyse, store), timed from the first to the last stored.
``callqa batch`` recognises up to 8 calls side by side (``recognize_many``); faster-whisper also
runs one call at a time (``together=1``), as a worker does today. Reported per run: call-minutes
per hour per core, the real-time factor, and the WER of the stored transcripts against the
development set's reference turns; the cores the process kept busy (a mono call's diarizer runs
beside recognition, so a one-thread process uses a little more than its core) and call-minutes
per hour of CPU time, what a machine whose every core is busy gets; and the speed ratios. Both
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
# (label, engine, calls recognised side by side): the default, faster-whisper one call at a time, and the reference
RUNS = (("faster-whisper", "faster-whisper", 8), ("  one at a time", "faster-whisper", 1),
        ("openai-whisper", "openai-whisper", 8))  # fmt: skip


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


def child(engine: str, together: int, files: list[Path], warm: Path, pack: Path, work: Path) -> dict[str, float]:
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
    started, cpu = time.perf_counter(), time.process_time()
    summary = run_batch(ctx, work / "calls", script_id, together=together)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
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
    return {"seconds": seconds, "cpu": cpu, "audio": audio, "wer": errors / words}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=6)
    parser.add_argument("--devset", type=Path, default=DEVSET)
    parser.add_argument("--threads", type=int, default=1, help="CPU threads of each process (a worker: 1)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    files = calls(args.devset, args.calls)
    warm = args.devset / "fleettrack" / "d1_01.stereo.flac"
    pack = args.devset / "packs" / "fleettrack.yaml"
    if args.child:
        engine, together, work = args.child.split(",", 2)
        print(json.dumps(child(engine, int(together), files, warm, pack, Path(work))))
        return
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, engine, together in RUNS:
            work = Path(tmp) / f"{engine}-{together}"
            work.mkdir()
            env = {key: value for key, value in os.environ.items() if key != "CALLQA_DATABASE_URL"}
            env |= {"CALLQA_ENGINE": engine, "CALLQA_THREADS": str(args.threads), "CALLQA_DATA_DIR": str(work / "data")}
            out = subprocess.run([sys.executable, __file__, "--calls", str(args.calls), "--devset", str(args.devset),
                                  "--child", f"{engine},{together},{work}"], env=env, check=True, capture_output=True,
                                 text=True)  # fmt: skip
            results[label] = json.loads(out.stdout.strip().splitlines()[-1])
    minutes = results[RUNS[0][0]]["audio"] / 60
    print(f"{len(files)} calls, {minutes:.1f} call-minutes (stereo and mono, espeak-ng and Piper), {args.threads} thread(s) each:")
    for label, r in results.items():
        per_hour = r["audio"] / 60 / (r["seconds"] / 3600) / args.threads  # per core
        print(f"  {label:15s} {per_hour:7.0f} call-minutes per hour per core, RTF {r['seconds'] / r['audio']:.3f}, "
              f"WER {r['wer']:.3f}; {r['cpu'] / r['seconds']:.2f} cores busy, "
              f"{r['audio'] / 60 / (r['cpu'] / 3600):.0f} call-minutes per CPU-hour")
    seconds = {label: r["seconds"] for label, r in results.items()}
    print(f"  faster-whisper is {seconds['openai-whisper'] / seconds['faster-whisper']:.1f}x openai-whisper end to end, "
          f"{seconds['  one at a time'] / seconds['faster-whisper']:.2f}x itself one call at a time")


if __name__ == "__main__":
    main()
