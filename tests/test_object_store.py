"""Recordings in an S3-compatible bucket (``CALLQA_AUDIO_STORE=s3://...``), against a real S3
HTTP server started here (moto's standalone server), not a mock of the client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import CALLS, PATIENCE, free_port
from fastapi.testclient import TestClient

BUCKET = "callqa-calls"


def s3_server(port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen([Path(sys.executable).with_name("moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + PATIENCE
    import httpx

    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return server
        except httpx.TransportError:
            assert server.poll() is None and time.monotonic() < deadline, "the S3 server did not start"
            time.sleep(0.2)


@pytest.fixture
def bucket(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An empty bucket on a running S3 server; the AWS settings that reach it, as a client reads
    them; the boto3 client, to look into the bucket as an administrator would."""
    import boto3

    port = free_port()
    server = s3_server(port)
    for name, value in {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "callqa",
                        "AWS_SECRET_ACCESS_KEY": "secret", "AWS_DEFAULT_REGION": "eu-west-1"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    try:
        yield client
    finally:
        server.terminate()
        server.wait(timeout=30)


def objects(client: Any) -> list[str]:
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", ()))


def test_a_recording_goes_through_the_bucket_from_upload_to_retention(
    bucket: Any, tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Upload, analysis, playback with Range and retention's delete, with the recording in the
    bucket alone: nothing of it is left in the data folder. A purge that cannot reach the bucket
    marks nothing deleted, and the next one deletes it."""
    from api import create_app
    from callqa.settings import Settings
    from pipeline.context import Context
    from pipeline.retention import purge
    from storage.objects import StoreError
    from storage.users import add_user

    data = tmp_path / "data"
    settings = Settings.from_env({"CALLQA_DATA_DIR": str(data), "CALLQA_CACHE_DIR": str(cache_dir),
                                  "CALLQA_SCRIPT": "b2b_outbound", "CALLQA_AUDIO_STORE": f"s3://{BUCKET}/team-a",
                                  "CALLQA_KEEP_AUDIO_DAYS": "30"})  # fmt: skip
    app = create_app(settings)
    token = add_user(app.state.context.sessions, "qa", "quality", "long-password")
    recording = (CALLS / "won_honest.8k.wav").read_bytes()
    with TestClient(app) as client:
        auth = {"Authorization": f"Bearer {token}"}
        sent = client.post("/api/calls", headers=auth, files={"file": ("0915.wav", recording, "audio/wav")},
                           data={"manager": "Daniel", "started_at": "2026-01-05T09:15:00+00:00"})  # fmt: skip
        assert sent.status_code == 202, sent.text
        call = sent.json()["call"]
        deadline = time.monotonic() + PATIENCE
        while not (detail := client.get(f"/api/calls/{call}", headers=auth).json())["reports"]:
            assert time.monotonic() < deadline, detail["jobs"]
            time.sleep(0.5)
        assert detail["jobs"][0]["state"] == "done" and detail["reports"][0]["score"] > 50
        [kept] = objects(bucket)
        assert kept.startswith("team-a/audio/") and kept.endswith(".wav")
        assert bucket.get_object(Bucket=BUCKET, Key=kept)["Body"].read() == recording
        assert not (data / "audio").exists()
        assert not any((data / "fetched").rglob("*.*")), "a fetched copy was left behind"

        part = client.get(f"/api/calls/{call}/audio", headers=auth | {"Range": "bytes=100-1099"})
        assert part.status_code == 206 and part.content == recording[100:1100]
        assert part.headers["content-range"] == f"bytes 100-1099/{len(recording)}"
        assert client.get(f"/api/calls/{call}/audio", headers=auth).content == recording
        beyond = client.get(f"/api/calls/{call}/audio", headers=auth | {"Range": f"bytes={len(recording)}-"})
        assert beyond.status_code == 416

        reachable = os.environ["AWS_ENDPOINT_URL"]
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens there
        cut_off = Context.from_settings(settings)
        monkeypatch.setenv("AWS_ENDPOINT_URL", reachable)
        with pytest.raises(StoreError, match=f"audio store s3://{BUCKET}/team-a: audio/"):
            purge(cut_off, at=datetime(2026, 3, 1, tzinfo=UTC))
        assert objects(bucket) == [kept] and client.get(f"/api/calls/{call}/audio", headers=auth).status_code == 200
        purged = purge(app.state.context, at=datetime(2026, 3, 1, tzinfo=UTC))
        assert purged.audio == [call] and objects(bucket) == []
        assert client.get(f"/api/calls/{call}/audio", headers=auth).status_code == 410


def test_an_upload_while_the_bucket_is_down_is_refused_and_nothing_is_kept(
    bucket: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api import create_app
    from callqa.settings import Settings
    from storage.users import add_user

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    settings = Settings.from_env({"CALLQA_DATA_DIR": str(tmp_path / "data"), "CALLQA_SCRIPT": "b2b_outbound",
                                  "CALLQA_AUDIO_STORE": f"s3://{BUCKET}"})  # fmt: skip
    app = create_app(settings)
    token = add_user(app.state.context.sessions, "qa", "quality", "long-password")
    with TestClient(app) as client:
        auth = {"Authorization": f"Bearer {token}"}
        sent = client.post("/api/calls", headers=auth,
                           files={"file": ("0915.wav", (CALLS / "won_honest.8k.wav").read_bytes(), "audio/wav")})
        assert sent.status_code == 503, sent.text
        assert sent.json()["error"].startswith(f"audio store s3://{BUCKET}: audio/")
        assert "Traceback" not in sent.text
        assert client.get("/api/calls", headers=auth).json()["total"] == 0


def test_a_killed_workers_fetched_copies_are_removed_when_the_store_is_opened_again(
    bucket: Any, tmp_path: Path
) -> None:
    from storage.objects import BucketStore

    scratch = tmp_path / "fetched"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True, timeout=PATIENCE).stdout.strip()  # fmt: skip
    (scratch / dead).mkdir(parents=True)
    (scratch / dead / "call.wav").write_bytes(b"half a recording")
    (scratch / str(os.getpid())).mkdir()
    BucketStore(f"s3://{BUCKET}", scratch)
    assert sorted(p.name for p in scratch.iterdir()) == [str(os.getpid())]  # the living keep theirs


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_two_workers_with_no_shared_folder_process_a_batch_through_the_bucket(
    bucket: Any, database: str, tmp_path: Path, cache_dir: Path
) -> None:
    """The batch and two real Celery workers, each with its own empty data folder, share only
    Redis, PostgreSQL and the bucket."""
    import redis
    from sqlalchemy import func, select
    from test_workers import folder_of, queue, start_worker, stop

    from storage import connect
    from storage.models import Report

    url = "redis://127.0.0.1:6379/12"  # a database of its own on the machine's Redis
    redis.Redis.from_url(url).flushdb()
    shared = {**os.environ, "CALLQA_DATABASE_URL": database, "CALLQA_CACHE_DIR": str(cache_dir),
              "CALLQA_REDIS_URL": url, "CALLQA_AUDIO_STORE": f"s3://{BUCKET}/shared"}  # fmt: skip
    env = {name: shared | {"CALLQA_DATA_DIR": str(tmp_path / name)} for name in ("batch", "first", "second")}
    folder = folder_of(tmp_path, ["won_quick", "lost_timing_ended", "won_price_handled"])
    workers = [start_worker(env[name], tmp_path / f"{name}.log") for name in ("first", "second")]
    try:
        summary = queue(folder, env["batch"])
    finally:
        for worker in workers:
            stop(worker)
        redis.Redis.from_url(url).flushdb()
    assert (summary["done"], summary["queued"], summary["failed"]) == (3, 0, []), summary
    with connect(database)() as db:
        assert db.scalar(select(func.count()).select_from(Report)) == 3
    assert len([k for k in objects(bucket) if k.startswith("shared/audio/")]) == 3
    for name in ("batch", "first", "second"):
        assert not (tmp_path / name / "audio").exists(), f"{name} kept a recording of its own"
        assert not any((tmp_path / name / "fetched").rglob("*.*")), f"{name} left a fetched copy"


def test_a_recording_missing_from_the_bucket_fails_its_call_alone(bucket: Any, tmp_path: Path, cache_dir: Path) -> None:
    """Recordings are heard a handful together; one whose object is gone fails with the reason,
    and the others of the handful are analysed."""
    from callqa.settings import Settings
    from pipeline.context import Context
    from pipeline.metadata import CallInfo
    from pipeline.process import ingest, process_calls
    from pipeline.scripts import register_script
    from storage.models import Call, Job

    settings = Settings.from_env({"CALLQA_DATA_DIR": str(tmp_path / "data"), "CALLQA_CACHE_DIR": str(cache_dir),
                                  "CALLQA_AUDIO_STORE": f"s3://{BUCKET}"})  # fmt: skip
    ctx = Context.from_settings(settings)
    script = register_script(ctx.sessions, "b2b_outbound")
    jobs = []
    for name in ("won_quick", "lost_timing_ended"):
        call_id, _ = ingest(ctx, CALLS / f"{name}.8k.wav", f"{name}.wav", CallInfo())
        with ctx.sessions.begin() as db:
            job = Job(call_id=call_id, kind="process", source=name, script_id=script)
            db.add(job)
            db.flush()
            jobs.append((call_id, job.id))
    with ctx.sessions() as db:
        gone = db.get_one(Call, jobs[0][0]).audio_key  # the first's (no prefix: the key is the name)
    assert len(objects(bucket)) == 2
    bucket.delete_object(Bucket=BUCKET, Key=gone)
    first, second = process_calls(ctx, jobs, script)
    assert isinstance(first, Exception) and str(first).endswith(f"{gone}: no such recording"), first
    assert isinstance(second, float) and second > 0


def test_a_batch_reads_a_days_recordings_and_their_call_log_from_a_bucket(
    bucket: Any, tmp_path: Path, cache_dir: Path
) -> None:
    """``callqa batch s3://BUCKET/PREFIX``: the recordings under the prefix, with calls.csv and
    sidecars from it; a rerun skips what is done, as for a folder."""
    day = "2026-12-07"
    for name in ("won_quick", "lost_timing_ended"):
        bucket.put_object(Bucket=BUCKET, Key=f"{day}/office-a/{name}.wav", Body=(CALLS / f"{name}.8k.wav").read_bytes())
    bucket.put_object(Bucket=BUCKET, Key=f"{day}/calls.csv", Body=b"file,manager,outcome\noffice-a/won_quick.wav,Daniel,won\n")
    bucket.put_object(Bucket=BUCKET, Key=f"{day}/office-a/lost_timing_ended.json", Body=b'{"manager": "Emma", "deal_id": 7}')
    bucket.put_object(Bucket=BUCKET, Key=f"{day}/office-a/won_quick.json", Body=b"{broken")  # the log still counts
    bucket.put_object(Bucket=BUCKET, Key=f"{day}/notes.txt", Body=b"not a recording")
    env = {**os.environ, "CALLQA_DATA_DIR": str(tmp_path / "data"), "CALLQA_CACHE_DIR": str(cache_dir)}

    def batch() -> dict[str, Any]:
        result = subprocess.run([sys.executable, "-m", "cli", "batch", f"s3://{BUCKET}/{day}/", "--script",
                                 "b2b_outbound", "--json"], env=env, capture_output=True, text=True,
                                timeout=PATIENCE, check=False)  # fmt: skip
        assert result.returncode == 0, result.stderr
        return dict(json.loads(result.stdout))

    first = batch()
    assert (first["done"], first["skipped"], first["failed"]) == (2, 0, []), first
    [warning] = first["warnings"]  # named where it is, not by the copy fetched to read it
    assert warning.startswith(f"s3://{BUCKET}/{day}/office-a/won_quick.json: not JSON"), warning
    assert batch()["skipped"] == 2
    calls = subprocess.run([sys.executable, "-m", "cli", "calls", "--json"], env=env, capture_output=True,
                           text=True, timeout=PATIENCE, check=True).stdout  # fmt: skip
    managers = {c["file"]: c["manager"] for c in map(json.loads, calls.splitlines())}
    assert managers == {"office-a/won_quick.wav": "Daniel", "office-a/lost_timing_ended.wav": "Emma"}
    assert not any((tmp_path / "data" / "fetched").rglob("*.*")), "a fetched copy was left behind"
