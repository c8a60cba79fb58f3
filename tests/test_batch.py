"""``callqa batch`` and ``callqa calls`` end to end: real recordings, both databases, bad input, reruns."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PATIENCE
from sqlalchemy import select

from pipeline.metadata import (
    CallInfo,
    MetadataError,
    manager_from_name,
    read_call_log,
    read_sidecar,
)
from storage import connect
from storage.models import Call, Job, Report, Transcript

CALLS = Path(__file__).parent / "fixtures" / "calls"


def callqa(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=PATIENCE, check=False)  # fmt: skip


@pytest.fixture
def day(tmp_path: Path) -> Path:
    """A day's folder as the PBX leaves it: calls in subfolders, a call log, a corrupt file, a link out."""
    folder = tmp_path / "2026-11-27"
    (folder / "office-b").mkdir(parents=True)
    (folder / "won_quick.8k.wav").write_bytes((CALLS / "won_quick.8k.wav").read_bytes())
    (folder / "office-b" / "lost_timing_ended.8k.wav").write_bytes((CALLS / "lost_timing_ended.8k.wav").read_bytes())
    (folder / "broken.wav").write_bytes(b"RIFF....WAVEfmt garbage")
    (folder / "silent.wav").write_bytes(b"")  # a recording that never started
    (folder / "outside.wav").symlink_to(CALLS / "won_honest.8k.wav")
    (folder / "calls.csv").write_text(
        "file,manager,direction,started_at,client_phone,deal_id,outcome\n"
        "won_quick.8k.wav,Daniel,outbound,2026-11-20T09:15:00,+44 20 7946 0000,D-17,Won\n"
        "office-b/lost_timing_ended.8k.wav,Emma,outbound,27/11/2026,,,lost\n"
    )
    return folder


def test_batch_stores_every_good_call_records_the_bad_one_and_reruns_skip(
    day: Path, database: str, tmp_path: Path, cache_dir: Path
) -> None:
    env = {"CALLQA_DATABASE_URL": database, "CALLQA_DATA_DIR": str(tmp_path / "data"),
           "CALLQA_CACHE_DIR": str(cache_dir)}  # fmt: skip
    result = callqa("batch", str(day), "--script", "b2b_outbound", "--json", env=env)
    assert result.returncode == 1, result.stderr  # one recording failed
    summary = json.loads(result.stdout)
    assert (summary["done"], summary["skipped"]) == (2, 0)
    assert summary["failed"] == [{"file": "broken.wav", "reason": summary["failed"][0]["reason"]},
                                 {"file": "silent.wav", "reason": "the file is empty (0 bytes)"}]  # fmt: skip
    assert "not a readable audio file" in summary["failed"][0]["reason"]
    assert summary["warnings"] == [
        f"{day / 'calls.csv'}:3: started_at: 27/11/2026: not a date and time (ISO 8601)",
        f"outside.wav: a link to {CALLS / 'won_honest.8k.wav'}, outside the folder: not followed",
    ]
    assert [w["file"] for w in summary["worst"]] == ["office-b/lost_timing_ended.8k.wav", "won_quick.8k.wav"]

    sessions = connect(database)
    with sessions() as db:
        calls = {c.original_name: c for c in db.scalars(select(Call))}
        assert set(calls) == {"won_quick.8k.wav", "office-b/lost_timing_ended.8k.wav"}  # the refused: reported only
        won = calls["won_quick.8k.wav"]
        assert won.manager is not None and won.manager.name == "Daniel"
        assert (won.direction, won.deal_id, won.outcome) == ("outbound", "D-17", "won")
        assert str(won.started_at) == "2026-11-20 09:15:00" and won.duration == pytest.approx(25.2, abs=0.3)
        assert (tmp_path / "data" / won.audio_key).read_bytes() == (CALLS / "won_quick.8k.wav").read_bytes()
        assert calls["office-b/lost_timing_ended.8k.wav"].manager is None  # its log row was bad
        assert db.scalar(select(Transcript).where(Transcript.call_id == won.id)) is not None
        scores = {r.call.original_name: r.score for r in db.scalars(select(Report))}
        assert scores["won_quick.8k.wav"] > 60 > scores["office-b/lost_timing_ended.8k.wav"]
        assert not list(db.scalars(select(Job).where(Job.state == "failed")))
    kept = [p.name for p in (tmp_path / "data").rglob("*") if p.is_file() and p.suffix == ".wav"]
    assert len(kept) == 2  # no copy of what was refused

    again = callqa("batch", str(day), "--script", "b2b_outbound", "--json", env=env)
    rerun = json.loads(again.stdout)
    assert (rerun["done"], rerun["skipped"], len(rerun["failed"])) == (0, 2, 2)  # still told
    with sessions() as db:
        assert len(list(db.scalars(select(Report)))) == 2  # nothing duplicated

    listed = callqa("calls", "--date", "2026-11-20", "--sort", "score", "--json", env=env)
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [r["file"] for r in rows] == ["won_quick.8k.wav"]  # the only call of that day (the others have no start time and were stored today)
    listed = callqa("calls", "--sort", "-score", env=env)
    assert listed.stdout.splitlines()[0].split()[1] == f"{scores['won_quick.8k.wav']:.1f}"
    assert "FAILED" not in listed.stdout


def test_a_call_in_another_language_is_named_its_transcript_kept_and_the_rest_done(
    tmp_path: Path, cache_dir: Path
) -> None:
    day = tmp_path / "day"
    day.mkdir()
    russian = Path(__file__).parent / "fixtures" / "audio" / "outbound_ru.8k.wav"
    (day / "ru.wav").write_bytes(russian.read_bytes())
    (day / "won_quick.8k.wav").write_bytes((CALLS / "won_quick.8k.wav").read_bytes())
    env = {"CALLQA_DATA_DIR": str(tmp_path / "data"), "CALLQA_CACHE_DIR": str(cache_dir)}
    result = callqa("batch", str(day), "--script", "b2b_outbound", "--json", env=env)
    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    assert summary["done"] == 1
    assert summary["failed"] == [{"file": "ru.wav", "reason": (
        "script b2b_outbound: it is for language 'en', the call is in 'ru': "
        "analyse it with a script in 'ru'")}]  # fmt: skip
    with connect(f"sqlite:///{tmp_path / 'data' / 'callqa.db'}")() as db:
        heard = {(t.language, t.model) for t in db.scalars(select(Transcript))}
    assert heard == {("ru", "base"), ("en", "tiny.en")}  # heard in its language, kept for a rerun


def test_recordings_go_through_in_handfuls_each_heard_as_alone(day: Path, tmp_path: Path, cache_dir: Path) -> None:
    """In-process, recordings are transcribed a handful at a time, their speech recognised side by
    side: with handfuls of two, the two good calls share one (the refused ones never get that far).
    Each good call is done, with the transcript it gets alone."""
    from callqa.settings import Settings
    from pipeline.batch import run_batch
    from pipeline.context import Context
    from pipeline.scripts import register_script
    from transcribe import transcribe_file

    env = {"CALLQA_DATA_DIR": str(tmp_path / "data"), "CALLQA_CACHE_DIR": str(cache_dir)}
    ctx = Context.from_settings(Settings.from_env(env))
    summary = run_batch(ctx, day, register_script(ctx.sessions, "b2b_outbound"), together=2)
    assert [name for name, _ in summary.done] == ["won_quick.8k.wav", "office-b/lost_timing_ended.8k.wav"]
    assert [name for name, _ in summary.failed] == ["broken.wav", "silent.wav"]
    engines = ctx.recognisers()
    with ctx.sessions() as db:
        for call in db.scalars(select(Call)):
            assert call.transcript is not None
            alone = transcribe_file(day / call.original_name, engines, encoder=engines.diarizer())
            stored = call.transcript.data
            assert [u["text"] for u in stored["utterances"]] == [u.text for u in alone.utterances]


def test_batch_refuses_a_missing_or_empty_folder(tmp_path: Path) -> None:
    env = {"CALLQA_DATA_DIR": str(tmp_path / "data")}
    missing = callqa("batch", str(tmp_path / "nope"), "--script", "b2b_outbound", env=env)
    assert missing.returncode == 2 and missing.stderr == f"callqa: {tmp_path / 'nope'}: no such folder\n"
    (tmp_path / "empty").mkdir()
    empty = callqa("batch", str(tmp_path / "empty"), "--script", "b2b_outbound", env=env)
    assert empty.returncode == 1 and empty.stderr == f"callqa: {tmp_path / 'empty'}: no recordings found\n"
    assert not (tmp_path / "data").exists()  # nothing made for nothing to do
    # A folder of links to the recordings' real place: the user is told why none is taken.
    (tmp_path / "links").mkdir()
    (tmp_path / "links" / "call.wav").symlink_to(CALLS / "won_quick.8k.wav")
    links = callqa("batch", str(tmp_path / "links"), "--script", "b2b_outbound", env=env)
    assert links.returncode == 1 and links.stderr == (
        f"callqa: {tmp_path / 'links'}: no recordings found (links are followed only inside it: "
        f"call.wav: a link to {CALLS / 'won_quick.8k.wav'}, outside the folder)\n"
    )
    no_script = callqa("batch", str(tmp_path / "empty"), env=env)
    assert no_script.returncode == 2 and "pass --script or set CALLQA_SCRIPT" in no_script.stderr


def test_call_logs_and_sidecars(tmp_path: Path) -> None:
    (tmp_path / "calls.jsonl").write_text(
        '{"file": "a.wav", "manager": "Anna", "direction": "Inbound"}\n'
        "not json\n"
        '{"file": "b.wav", "colour": "red"}\n'
    )
    log, problems = read_call_log(tmp_path)
    assert log == {"a.wav": CallInfo(manager="Anna", direction="inbound")}
    assert problems[0] == f"{tmp_path / 'calls.jsonl'}:2: not JSON (Expecting value)"
    assert problems[1].startswith(f"{tmp_path / 'calls.jsonl'}:3: colour: unknown field")
    (tmp_path / "calls.csv").write_text("name,manager\nx.wav,Bo\n")
    _, problems = read_call_log(tmp_path)
    assert f"{tmp_path / 'calls.csv'}:1: the header row needs a 'file' column" in problems

    (tmp_path / "c.json").write_text('{"manager": "Cy", "started_at": "2026-11-27T09:00:00+01:00"}')
    info = read_sidecar(tmp_path / "c.wav")
    assert info is not None and info.manager == "Cy" and info.started_at is not None
    (tmp_path / "d.json").write_text("[1]")
    with pytest.raises(MetadataError, match="d.json: not a JSON object"):
        read_sidecar(tmp_path / "d.wav")
    assert manager_from_name("anna/2026-11-27_0915.wav", r"^(?P<manager>[^/]+)/") == "anna"


def test_rescore_with_a_new_script_version_reuses_the_transcripts(tmp_path: Path) -> None:
    from datetime import datetime

    from conftest import analysed_calls
    from test_analysis import NOISY_GOOD, transcript

    # A call stored with its transcript and no recording: rescoring reads only the transcript.
    env = analysed_calls(tmp_path / "data", [("Daniel", datetime(2026, 11, 27, 10), "won", transcript(NOISY_GOOD).to_dict())])

    from scripts_lib import find_pack

    bundled = find_pack("b2b_outbound").read_text()
    v2 = tmp_path / "b2b_outbound_v2.yaml"
    v2.write_text(bundled.replace("version: 1", "version: 2").replace("checkpoints_share: 0.8", "checkpoints_share: 0.5"))
    result = callqa("rescore", "--script", str(v2), "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["rescored"] == 1

    sessions = connect(f"sqlite:///{tmp_path / 'data' / 'callqa.db'}")
    with sessions() as db:
        reports = {r.script.version: r for r in db.scalars(select(Report))}
        assert set(reports) == {1, 2} and len(list(db.scalars(select(Transcript)))) == 1
        assert reports[2].data["script"] == {"id": "b2b_outbound", "version": 2, "title": reports[2].script.title}
    assert callqa("rescore", "--script", "b2b_outbound@1", env=env).stdout.startswith("rescored 1 calls")
    missing = callqa("rescore", "--script", "b2b_outbound@7", env=env)
    assert missing.returncode == 2 and "b2b_outbound@7: no such stored version" in missing.stderr
    v2.write_text(v2.read_text().replace("checkpoints_share: 0.5", "checkpoints_share: 0.6"))
    changed = callqa("rescore", "--script", str(v2), env=env)
    assert changed.returncode == 2 and "v2 is already stored with other content: raise its version" in changed.stderr


def test_a_pack_stored_from_a_file_is_found_by_its_id_at_its_newest_version(tmp_path: Path) -> None:
    from callqa.errors import InputError
    from pipeline.scripts import register_script, resolve_script

    sessions = connect(f"sqlite:///{tmp_path / 'callqa.db'}")
    source = (Path(__file__).parents[1] / "scripts_lib" / "packs" / "b2b_outbound.yaml").read_text()
    first, second = tmp_path / "v1.yaml", tmp_path / "v2.yaml"
    first.write_text(source.replace("id: b2b_outbound", "id: our_pack"))
    second.write_text(first.read_text().replace("version: 1", "version: 2"))
    v1, v2 = register_script(sessions, str(first)), register_script(sessions, str(second))
    assert v1 != v2
    assert resolve_script(sessions, "our_pack") == v2  # as callqa mine --script our_pack reads it
    assert resolve_script(sessions, "our_pack@1") == v1
    with pytest.raises(InputError, match="no such script pack"):
        resolve_script(sessions, "their_pack")


def test_the_beat_scan_enqueues_only_new_recordings(tmp_path: Path, cache_dir: Path) -> None:
    from callqa.settings import Settings
    from pipeline.batch import enqueue_folder
    from pipeline.context import Context
    from pipeline.scripts import register_script

    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "a.wav").write_bytes((CALLS / "won_quick.8k.wav").read_bytes())
    settings = Settings.from_env({"CALLQA_DATA_DIR": str(tmp_path / "data"), "CALLQA_CACHE_DIR": str(cache_dir)})
    ctx = Context.from_settings(settings)
    sessions = ctx.sessions
    script_id = register_script(sessions, "b2b_outbound")
    sent: list[tuple[int, int, int]] = []
    first = enqueue_folder(ctx, incoming, script_id, lambda *ids: sent.append(ids))
    assert [name for name, _ in first.queued] == ["a.wav"] and len(sent) == 1
    (incoming / "b.wav").write_bytes((CALLS / "lost_timing_ended.8k.wav").read_bytes())
    second = enqueue_folder(ctx, incoming, script_id, lambda *ids: sent.append(ids))
    assert [name for name, _ in second.queued] == ["b.wav"] and second.skipped == ["a.wav"]  # a.wav is queued


def test_a_pushed_recording_is_stored_once_and_processed_or_queued(tmp_path: Path, cache_dir: Path) -> None:
    from callqa.errors import InputError
    from callqa.settings import Settings
    from pipeline.context import Context
    from pipeline.process import accept_recording
    from pipeline.scripts import register_script

    settings = Settings.from_env({"CALLQA_DATA_DIR": str(tmp_path / "data"), "CALLQA_CACHE_DIR": str(cache_dir)})
    ctx = Context.from_settings(settings)
    sessions = ctx.sessions
    script_id = register_script(sessions, "b2b_outbound")
    upload = tmp_path / "upload.wav"
    upload.write_bytes((CALLS / "won_quick.8k.wav").read_bytes())
    info = CallInfo(manager="Daniel", outcome="won")
    call_id, job_id = accept_recording(ctx, upload, "pbx/0915.wav", info, script_id)
    with sessions() as db:
        job = db.get_one(Job, job_id)
        assert job.state == "done" and job.call is not None and job.call.original_name == "pbx/0915.wav"
    assert accept_recording(ctx, upload, "again.wav", info, script_id) == (call_id, None)

    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF0000WAVE")
    with pytest.raises(InputError, match="^pbx/bad.wav: not a readable audio file"):
        accept_recording(ctx, bad, "pbx/bad.wav", CallInfo(), script_id)
    with sessions() as db:  # refused, not kept
        assert db.scalar(select(Call).where(Call.original_name == "pbx/bad.wav")) is None

    other = tmp_path / "other.wav"
    other.write_bytes((CALLS / "lost_timing_ended.8k.wav").read_bytes())
    sent: list[tuple[int, int, int]] = []
    call, job = accept_recording(ctx, other, "pbx/1000.wav", CallInfo(), script_id, lambda *ids: sent.append(ids))
    assert sent == [(call, script_id, job)]
