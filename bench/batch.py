"""Batch throughput: the same calls through 1 worker process, then 2, in one run.

    python bench/batch.py [--calls 10] [--devset 12]

The calls are the test fixtures' (5-60 s each), or with ``--devset N`` the first N
development-set recordings of ``bench/end_to_end.py`` (2-minute calls, stereo and mono
alternately, so mono calls are diarized), over which the fixed costs of each task and of
enqueueing weigh as they do on a day's calls.

Each run gets a fresh SQLite database and data folder and its own Redis
database. Four calls warm the workers up (model and language pipeline loaded
once per process); the time is from enqueueing the rest until the last is
stored. Each worker process uses one CPU thread (CALLQA_THREADS). Target
on the 2-core machine: 2 workers >= 1.8x the call-minutes per hour of 1 (issue 18).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import CALLS, create_database, drop_database
from end_to_end import DEVSET, stored_name
from end_to_end import calls as devset_calls


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (every process, every core): /proc/stat."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # less idle and iowait


def run(
    calls: list[Path], warmup: list[Path], concurrency: int, work: Path, postgres: bool = False
) -> tuple[float, float]:
    """Seconds from enqueueing ``calls`` until the last is stored, and the cores kept busy meanwhile."""
    import redis
    from sqlalchemy import func, select

    from storage import connect
    from storage.models import Job

    folder, data = work / f"in{concurrency}", work / f"data{concurrency}"
    warm = work / f"warm{concurrency}"
    for target, files in ((folder, calls), (warm, warmup)):
        target.mkdir()
        for call in files:
            shutil.copy(call, target / stored_name(call))
    url = f"redis://127.0.0.1:6379/{12 + concurrency}"
    redis.Redis.from_url(url).flushdb()
    database = f"sqlite:///{data / 'callqa.db'}"
    if postgres:  # a fresh database of its own on the machine's PostgreSQL
        drop_database(f"callqa_bench_{concurrency}", missing_ok=True)  # left by a run cut short
        database = create_database(f"callqa_bench_{concurrency}")
    env = {**os.environ, "CALLQA_DATA_DIR": str(data), "CALLQA_REDIS_URL": url,
           "CALLQA_CACHE_DIR": str(work / "cache"), "CALLQA_DATABASE_URL": database}  # fmt: skip
    log = (work / f"worker{concurrency}.log").open("wb")
    worker = subprocess.Popen([sys.executable, "-m", "cli", "worker", "--concurrency", str(concurrency)],
                              env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        while b"ready." not in (work / f"worker{concurrency}.log").read_bytes():
            time.sleep(0.2)
        # Warm-up: each worker process loads the model and the language pipeline once.
        batch = [sys.executable, "-m", "cli", "batch", "--script", "b2b_outbound", "--queue"]
        subprocess.run([*batch, str(warm)], env=env, check=True, capture_output=True)
        started, busy = time.perf_counter(), busy_seconds()
        subprocess.run([*batch, "--no-wait", str(folder)], env=env, check=True, capture_output=True)
        sessions = connect(database)
        while True:
            with sessions() as db:
                left = db.scalar(select(func.count()).select_from(Job).where(Job.state.in_(("queued", "running"))))
            if not left:
                took = time.perf_counter() - started
                return took, (busy_seconds() - busy) / took
            time.sleep(0.2)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait()
        redis.Redis.from_url(url).flushdb()
        if postgres:
            drop_database(f"callqa_bench_{concurrency}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=17)
    parser.add_argument("--devset", type=int, default=0, help="this many development-set calls instead")
    parser.add_argument("--postgres", action="store_true", help="store in PostgreSQL (127.0.0.1) rather than SQLite")
    args = parser.parse_args()
    every = sorted(CALLS.glob("*.8k.wav"))
    warmup, calls = every[:4], every[4 : 4 + args.calls]
    if args.devset:
        calls = devset_calls(DEVSET, args.devset)
        # Warm-up calls of both kinds, so that each worker process has loaded the diarizer too
        # (taken by name: mono, stereo, mono, stereo; the first two go one to each process, and
        # the second mono to the one that took the shorter stereo call).
        first = [DEVSET / "fleettrack" / "d1_01", DEVSET / "brightnest" / "d2_01"]
        warmup = [first[0].with_suffix(".stereo.flac"), first[0].with_suffix(".mono.flac"),
                  first[1].with_suffix(".mono.flac"), first[1].with_suffix(".stereo.flac")]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        (one, cores_one), (two, cores_two) = (run(calls, warmup, n, Path(tmp), args.postgres) for n in (1, 2))
    from transcribe.audio import check_decodable

    minutes = sum(check_decodable(c) for c in calls) / 60
    print(f"{len(calls)} calls, {minutes:.1f} call-minutes: 1 worker {one:.1f} s ({minutes * 3600 / one:.0f} "
          f"call-minutes/hour, {cores_one:.2f} cores busy), 2 workers {two:.1f} s ({minutes * 3600 / two:.0f}, "
          f"{cores_two:.2f} cores busy); speed-up {one / two:.2f}x (target 1.8)")


if __name__ == "__main__":
    main()
