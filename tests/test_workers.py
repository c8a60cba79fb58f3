"""Real Celery worker processes on the real Redis, with PostgreSQL: the queue, and a worker killed mid-call."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PATIENCE, broken_script, in_fresh_process, served
from sqlalchemy import func, select

from storage import connect
from storage.models import Call, Job, Report, Script, Transcript

CALLS = Path(__file__).parent / "fixtures" / "calls"
AUDIO = Path(__file__).parent / "fixtures" / "audio"
PII = Path(__file__).parent / "fixtures" / "pii"
REDIS_DB = 11  # a database of its own on the machine's Redis


@pytest.fixture
def env(database: str, tmp_path: Path, cache_dir: Path) -> Iterator[dict[str, str]]:
    import redis

    url = f"redis://127.0.0.1:6379/{REDIS_DB}"
    redis.Redis.from_url(url).flushdb()
    yield {**os.environ, "CALLQA_DATABASE_URL": database, "CALLQA_DATA_DIR": str(tmp_path / "data"),
           "CALLQA_CACHE_DIR": str(cache_dir), "CALLQA_REDIS_URL": url,
           "CALLQA_VISIBILITY_TIMEOUT": "30"}  # fmt: skip
    redis.Redis.from_url(url).flushdb()


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "worker", "--concurrency", "1"],
        env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while b"ready." not in log.read_bytes():
        assert process.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)
    return process


def stop(process: subprocess.Popen[bytes], sig: signal.Signals = signal.SIGTERM) -> None:
    os.killpg(process.pid, sig)  # the worker and its pool processes
    process.wait(timeout=60)


def queue(folder: Path, env: dict[str, str], *flags: str, script: str = "b2b_outbound") -> dict[str, object]:
    """``callqa batch FOLDER --queue --json`` and its summary."""
    result = subprocess.run(
        [sys.executable, "-m", "cli", "batch", str(folder), "--script", script, "--queue", "--json",
         *flags], env=env, capture_output=True, text=True, timeout=PATIENCE, check=False,
    )  # fmt: skip
    assert result.stdout, result.stderr
    return dict(json.loads(result.stdout))


def folder_of(tmp_path: Path, names: list[str]) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in names:
        (folder / f"{name}.8k.wav").write_bytes((CALLS / f"{name}.8k.wav").read_bytes())
    return folder


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_batch_through_the_queue(env: dict[str, str], tmp_path: Path) -> None:
    folder = folder_of(tmp_path, ["won_quick", "lost_timing_ended"])
    (folder / "bad.wav").write_bytes(b"not audio at all")
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        summary = queue(folder, env)
    finally:
        stop(worker)
    assert (summary["done"], summary["queued"]) == (2, 0)
    assert summary["failed"] == [{"file": "bad.wav", "reason": summary["failed"][0]["reason"]}]
    assert "not a readable audio file" in summary["failed"][0]["reason"]
    log = (tmp_path / "worker.log").read_text()
    assert log.count("Retry in") == 0  # bad input is not retried


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_a_worker_killed_mid_call_loses_nothing_and_duplicates_nothing(
    env: dict[str, str], database: str, tmp_path: Path
) -> None:
    folder = folder_of(tmp_path, ["won_price_handled", "won_quick", "lost_timing_ended"])
    first = start_worker(env, tmp_path / "first.log")
    assert queue(folder, env, "--no-wait")["queued"] == 3
    sessions = connect(database)
    deadline = time.monotonic() + 60
    while True:  # kill the worker while it transcribes the first call
        with sessions() as db:
            if db.scalar(select(func.count()).select_from(Job).where(Job.state == "running")):
                break
        assert time.monotonic() < deadline, (tmp_path / "first.log").read_text()
        time.sleep(0.1)
    stop(first, signal.SIGKILL)
    second = start_worker(env, tmp_path / "second.log")
    try:
        deadline = time.monotonic() + 240
        while True:
            with sessions() as db:
                states = list(db.scalars(select(Job.state)))
            if states.count("done") == 3:
                break
            assert time.monotonic() < deadline and "failed" not in states, (tmp_path / "second.log").read_text()
            time.sleep(0.5)
    finally:
        stop(second)
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(Transcript)) == 3
        assert db.scalar(select(func.count()).select_from(Report)) == 3
        attempts = sorted(db.scalars(select(Job.attempts)))
    assert attempts == [1, 1, 2]  # the killed call was delivered again, the others once


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_flower_sees_the_workers_and_their_tasks(env: dict[str, str], tmp_path: Path) -> None:
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    worker = start_worker(env, tmp_path / "worker.log")
    flower = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "worker.tasks", "flower", f"--port={port}", "--address=127.0.0.1"],
        env={**env, "FLOWER_UNAUTHENTICATED_API": "true"},  # a local test; deployments set --basic-auth
        stdout=(tmp_path / "flower.log").open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while b"Visit me at" not in (tmp_path / "flower.log").read_bytes():
            assert flower.poll() is None and time.monotonic() < deadline, (tmp_path / "flower.log").read_text()
            time.sleep(0.2)
        time.sleep(1)  # connected to the broker's event stream
        folder = folder_of(tmp_path, ["won_quick"])
        assert queue(folder, env)["done"] == 1
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/tasks") as response:
                    tasks = json.loads(response.read())
                if {t["name"] for t in tasks.values() if t["state"] == "SUCCESS"} >= {"callqa.transcribe", "callqa.analyse"}:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "flower.log").read_text()
            time.sleep(0.5)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/workers?refresh=1") as response:
            assert any(name.startswith("callqa-") for name in json.loads(response.read()))
    finally:
        stop(flower)
        stop(worker)


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_a_call_over_the_time_limit_fails_with_the_reason(env: dict[str, str], tmp_path: Path) -> None:
    """The limit is set where the workers run; ``callqa batch --queue`` runs with the default hour.
    Transcription (models loaded, 51 s of speech recognised on one thread) takes several times
    the limit, so it is the step struck: before, it ran under the sender's hour and only the
    analysis step, about as long as the limit, sometimes failed."""
    folder = folder_of(tmp_path, ["won_price_handled"])
    worker = start_worker({**env, "CALLQA_TASK_TIME_LIMIT": "1.5"}, tmp_path / "worker.log")
    try:
        summary = queue(folder, env)
    finally:
        stop(worker)
    assert summary["failed"] == [{"file": "won_price_handled.8k.wav",
                                  "reason": "took longer than the time limit of 1.5 s (CALLQA_TASK_TIME_LIMIT)"}]  # fmt: skip
    sessions = connect(env["CALLQA_DATABASE_URL"])
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(Call)) == 1  # the recording is kept, to run again
        assert db.scalar(select(func.count()).select_from(Transcript)) == 0


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_a_call_heard_as_one_voice_is_heard_again_as_two_by_the_workers(env: dict[str, str], tmp_path: Path) -> None:
    """What ``callqa serve`` does when a reviewer hears two voices and a worker answers: the job
    goes to the queue, and a worker transcribes the call again as two voices and analyses it."""
    from callqa.errors import InputError
    from callqa.settings import Settings
    from pipeline.context import Context
    from pipeline.process import ask_two_voices
    from worker.tasks import queue_for

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "outbound.wav").write_bytes((AUDIO / "outbound_en.mono.wav").read_bytes())
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        assert queue(folder, env)["done"] == 1
        settings = Settings.from_env(env)
        ctx = Context.from_settings(settings)
        with ctx.sessions() as db:
            call = db.scalars(select(Call)).one()
            assert call.transcript is not None and call.transcript.data["role_method"] == "single-speaker"
        script_id, job_id = ask_two_voices(ctx, call.id)
        with pytest.raises(InputError, match=rf"^call {call.id} is being heard again as two voices already \(job {job_id}\)$"):
            ask_two_voices(ctx, call.id)  # asked twice: one job
        dispatch = queue_for(settings)
        assert dispatch is not None
        dispatch(call.id, script_id, job_id, "two_voices")
        deadline = time.monotonic() + 120
        while (job := _job(ctx, job_id)).state not in ("done", "failed"):
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
            time.sleep(0.5)
    finally:
        stop(worker)
    assert (job.state, job.error) == ("done", None)
    with ctx.sessions() as db:
        call = db.get_one(Call, call.id)
        assert call.transcript is not None and call.transcript.data["role_method"] == "diarization"
        assert {u["speaker"] for u in call.transcript.data["utterances"]} == {"manager", "client"}
        assert not db.get_one(Report, call.report_id).data["one_voice"]


def _job(ctx: Any, job_id: int) -> Job:
    with ctx.sessions() as db:
        return db.get_one(Job, job_id)


def test_a_time_limit_a_library_reraised_as_its_own_error_is_still_the_time_limit() -> None:
    """The soft limit strikes wherever the task is; srsly, read while spaCy is first imported,
    turns it into "Invalid YAML: SoftTimeLimitExceeded()", which a supervisor cannot act on."""
    import srsly
    from celery.exceptions import SoftTimeLimitExceeded

    from callqa.errors import InputError
    from worker.tasks import _time_limit

    class Struck:  # a YAML stream whose reading is interrupted by the limit
        def read(self, size: int = -1) -> str:
            raise SoftTimeLimitExceeded()

    over = r"^took longer than the time limit of [0-9.]+ s \(CALLQA_TASK_TIME_LIMIT\)$"
    with pytest.raises(InputError, match=over), _time_limit():
        srsly.yaml_loads(Struck())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Invalid YAML"), _time_limit():  # a real error stays itself
        srsly.yaml_loads("a: [")


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_an_upload_goes_to_the_workers_when_one_answers(env: dict[str, str], database: str, tmp_path: Path) -> None:
    import httpx

    from storage.users import add_user

    token = add_user(connect(database), "ops", "admin")
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        with served(env, tmp_path / "serve.log") as url, \
                httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as client:
            audio = (CALLS / "won_quick.8k.wav").read_bytes()
            sent = client.post("/api/calls", files={"file": ("won_quick.wav", audio, "audio/wav")},
                               data={"script": "b2b_outbound", "manager": "Daniel"})  # fmt: skip
            assert sent.status_code == 202, sent.text
            deadline = time.monotonic() + 120
            while (job := client.get(f"/api/jobs/{sent.json()['job']}").json())["state"] != "done":
                assert job["state"] != "failed" and time.monotonic() < deadline, job
                time.sleep(0.5)
    finally:
        stop(worker)
    log = (tmp_path / "worker.log").read_text()
    assert "callqa.transcribe" in log and "callqa.analyse" in log  # the worker did it, not the server


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_with_redaction_on_a_call_whose_analysis_fails_is_redacted_all_the_same(
    env: dict[str, str], database: str, tmp_path: Path
) -> None:
    sessions = connect(database)
    script = broken_script(sessions)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "pii_order.wav").write_bytes((PII / "pii_order.wav").read_bytes())
    with sessions() as db:
        version = db.get_one(Script, script).version
    env = {**env, "CALLQA_REDACT": "1"}
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        summary = queue(folder, env, script=f"b2b_outbound@{version}")
    finally:
        stop(worker)
    [failed] = summary["failed"]  # type: ignore[misc]
    assert failed["file"] == "pii_order.wav" and "not valid YAML" in failed["reason"]
    with sessions() as db:
        call = db.scalars(select(Call)).one()
        assert call.transcript is not None and call.transcript.redacted  # by the failure handler
        text = json.dumps(call.transcript.data).lower()
        assert "[phone]" in text and "connor" not in text and "gmail" not in text
        assert call.audio_key.endswith(".redacted.wav")


POOLS = """
import json, threadpoolctl
from worker.tasks import context
context().recognisers()  # the worker's engines and diarizer, as its first call loads them
import torch  # loaded after, as a mono call's diarizer loads them
from sklearn.cluster import KMeans
KMeans(n_clusters=2, n_init=1).fit(__import__("numpy").random.rand(50, 4))
print(json.dumps([(p["internal_api"], p["num_threads"]) for p in threadpoolctl.threadpool_info()]
                 + [("torch", torch.get_num_threads())]))
"""


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_worker_keeps_every_thread_pool_of_its_process_to_one_thread(env: dict[str, str]) -> None:
    """One worker process per core: its recognition has one thread, and so must numpy's OpenBLAS
    and the OpenMP of scikit-learn and PyTorch, loaded before the engines or after them. Left a
    thread per core, they spun on the other worker's core (one worker kept 1.20 cores busy, and
    two gave 1.60x one's calls an hour instead of 1.71-1.77x: ``bench/batch.py``)."""
    env = {k: v for k, v in env.items() if not k.endswith("_NUM_THREADS") and k != "CALLQA_THREADS"}
    pools = json.loads(in_fresh_process(POOLS, env))
    assert {api for api, _ in pools} >= {"openblas", "openmp", "torch"}, pools
    assert all(threads == 1 for _, threads in pools), pools
