"""Batch throughput: the same calls through 1 worker process, then 2, in one run.

    python bench/batch.py [--calls 10]

Each run gets a fresh SQLite database and data folder and its own Redis
database. Four calls warm the workers up (model and language pipeline loaded
once per process); the time is from enqueueing the rest until the last is
stored. Each worker process uses one CPU thread (CALLQA_THREADS). Target
on the 2-core machine: 2 workers >= 1.7x the calls per hour of 1.
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
CALLS = ROOT / "tests" / "fixtures" / "calls"


def run(calls: list[Path], warmup: list[Path], concurrency: int, work: Path) -> float:
    import redis
    from sqlalchemy import func, select

    from storage import connect
    from storage.models import Job

    folder, data = work / f"in{concurrency}", work / f"data{concurrency}"
    warm = work / f"warm{concurrency}"
    for target, files in ((folder, calls), (warm, warmup)):
        target.mkdir()
        for call in files:
            shutil.copy(call, target)
    url = f"redis://127.0.0.1:6379/{12 + concurrency}"
    redis.Redis.from_url(url).flushdb()
    env = {**os.environ, "CALLQA_DATA_DIR": str(data), "CALLQA_REDIS_URL": url,
           "CALLQA_CACHE_DIR": str(work / "cache")}  # fmt: skip
    log = (work / f"worker{concurrency}.log").open("wb")
    worker = subprocess.Popen([sys.executable, "-m", "cli", "worker", "--concurrency", str(concurrency)],
                              env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        while b"ready." not in (work / f"worker{concurrency}.log").read_bytes():
            time.sleep(0.2)
        # Warm-up: each worker process loads the model and the language pipeline once.
        batch = [sys.executable, "-m", "cli", "batch", "--script", "b2b_outbound", "--queue"]
        subprocess.run([*batch, str(warm)], env=env, check=True, capture_output=True)
        started = time.perf_counter()
        subprocess.run([*batch, "--no-wait", str(folder)], env=env, check=True, capture_output=True)
        sessions = connect(f"sqlite:///{data / 'callqa.db'}")
        while True:
            with sessions() as db:
                left = db.scalar(select(func.count()).select_from(Job).where(Job.state.in_(("queued", "running"))))
            if not left:
                return time.perf_counter() - started
            time.sleep(0.2)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait()
        redis.Redis.from_url(url).flushdb()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=17)
    args = parser.parse_args()
    every = sorted(CALLS.glob("*.8k.wav"))
    warmup, calls = every[:4], every[4 : 4 + args.calls]
    with tempfile.TemporaryDirectory() as tmp:
        one = run(calls, warmup, 1, Path(tmp))
        two = run(calls, warmup, 2, Path(tmp))
    print(f"{len(calls)} calls: 1 worker {one:.1f} s ({len(calls) * 3600 / one:.0f} calls/hour), "
          f"2 workers {two:.1f} s ({len(calls) * 3600 / two:.0f} calls/hour); speed-up {one / two:.2f}x (target 1.7)")


if __name__ == "__main__":
    main()
