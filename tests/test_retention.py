"""Retention with a simulated clock: what expired is gone from disk and the database, a call on
hold or under an open dispute is kept, every deletion is in the access log; `callqa purge`."""

from __future__ import annotations

import json
import wave
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import run_callqa

NOW = datetime(2026, 11, 28, 12, 0)
SAID = {"language": "en", "duration": 12.0, "engine": "x", "model": "x", "role_confidence": 1.0, "role_method": "channel",
        "utterances": [
            {"speaker": "manager", "channel": 0, "start": 0.5, "end": 4.0, "words": [],
             "text": "Good morning, my name is Daniel, I'm calling from Brightline Logistics."},
            {"speaker": "client", "channel": 1, "start": 4.5, "end": 7.0, "words": [], "text": "It is too expensive for us."},
            {"speaker": "manager", "channel": 0, "start": 7.5, "end": 11.5, "words": [],
             "text": "Could we meet on Thursday at ten to look at your prices? Goodbye."}]}  # fmt: skip
# Days before NOW, and whether the call is on hold.
AGES = {"fresh": (30, False), "old-audio": (100, False), "old-transcript": (400, False),
        "expired": (800, False), "held": (800, True)}  # fmt: skip


def store_calls(data: Path, database: str, **keep: int) -> tuple[Any, dict[str, int]]:
    """A Context with retention ``keep`` (days), and a call of each age in AGES with its own audio."""
    from callqa.settings import Settings
    from pipeline.context import Context
    from pipeline.metadata import CallInfo
    from pipeline.process import analyse_call, ingest
    from pipeline.scripts import register_script
    from storage import search
    from storage.models import Call, Transcript

    env = {"CALLQA_DATA_DIR": str(data), "CALLQA_DATABASE_URL": database,
           **{f"CALLQA_KEEP_{k.upper()}_DAYS": str(v) for k, v in keep.items()}}  # fmt: skip
    ctx = Context.from_settings(Settings.from_env(env))
    script = register_script(ctx.sessions, "b2b_outbound")
    ids = {}
    recordings = data.parent / "recordings"
    recordings.mkdir(exist_ok=True)
    for i, (name, (days, hold)) in enumerate(AGES.items()):
        audio = recordings / f"{name}.wav"
        with wave.open(str(audio), "wb") as w:
            w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
            w.writeframes(np.random.default_rng(i).integers(-900, 900, 8000 * 2, dtype="<i2").tobytes())
        call_id, _ = ingest(ctx, audio, audio.name, CallInfo(manager="Daniel", started_at=NOW - timedelta(days=days)))
        with ctx.sessions.begin() as db:
            db.add(Transcript(call_id=call_id, engine="x", model="x", language="en", data=SAID))
            db.get_one(Call, call_id).hold = hold
            search.index(db, call_id, SAID)
        analyse_call(ctx, call_id, script)
        ids[name] = call_id
    return ctx, ids


def test_purge_deletes_what_expired_keeps_what_is_held_and_logs_it(database: str, tmp_path: Path) -> None:
    from sqlalchemy import select

    from pipeline.retention import purge
    from storage import search
    from storage.access import entries
    from storage.models import Call, Report, Review, Transcript

    ctx, ids = store_calls(tmp_path / "data", database, audio=90, transcript=365, report=730)
    with ctx.sessions() as db:
        files = {name: ctx.store.open_path(db.get_one(Call, i).audio_key) for name, i in ids.items()}
    assert all(path.exists() for path in files.values())

    purged = purge(ctx, at=NOW)

    assert purged.calls == [ids["expired"]]
    assert purged.transcripts == [ids["old-transcript"]]
    assert purged.audio == [ids["old-audio"], ids["old-transcript"]]
    assert purged.held == [ids["held"]]
    gone = {"old-audio", "old-transcript", "expired"}
    assert {name for name, path in files.items() if not path.exists()} == gone
    with ctx.sessions() as db:
        calls = {c.id: c for c in db.scalars(select(Call))}
        assert set(calls) == set(ids.values()) - {ids["expired"]}
        assert db.scalar(select(Report).where(Report.call_id == ids["expired"])) is None
        assert calls[ids["old-audio"]].audio_deleted_at is not None and calls[ids["fresh"]].audio_deleted_at is None
        with_transcripts = set(db.scalars(select(Transcript.call_id)))
        assert with_transcripts == {ids["fresh"], ids["old-audio"], ids["held"]}
        found = set(db.scalars(select(Call.id).where(Call.id.in_(search.calls_with(search.dialect(db), "Brightline")))))
        assert found == with_transcripts
        # The expired transcript's words are gone from its report too; its verdicts and score stay.
        stripped = db.scalar(select(Report).where(Report.call_id == ids["old-transcript"]))
        assert stripped is not None and calls[ids["old-transcript"]].score == stripped.score
        assert "Brightline" not in json.dumps(stripped.data) and stripped.data["checkpoints"]
        assert "Brightline" in json.dumps(db.scalar(select(Report).where(Report.call_id == ids["held"])).data)  # type: ignore[union-attr]
        assert db.scalar(select(Review.id)) is None
        log = entries(db, action="purge")
    assert sorted((e["call_id"], e["detail"].split(":")[0]) for e in log) == sorted([
        (ids["expired"], "the call and its reports and reviews"),
        (ids["old-transcript"], "transcript and quotes"),
        (ids["old-audio"], f"audio {calls[ids['old-audio']].audio_key}"),
        (ids["old-transcript"], f"audio {calls[ids['old-transcript']].audio_key}"),
    ])  # fmt: skip
    assert all(e["user"] == "callqa" for e in log)

    assert purge(ctx, at=NOW).held == [ids["held"]]  # nothing more, the held call still kept
    with ctx.sessions.begin() as db:
        db.get_one(Call, ids["held"]).hold = False
    assert purge(ctx, at=NOW).calls == [ids["held"]]
    assert not files["held"].exists()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
def test_a_disputed_call_is_kept_until_a_reviewer_answers(database: str, tmp_path: Path) -> None:
    from sqlalchemy import select

    from pipeline.retention import purge
    from pipeline.review import dispute, review
    from storage.models import User
    from storage.users import add_user

    ctx, ids = store_calls(tmp_path / "data", database, report=730)
    for name, role in (("Daniel", "manager"), ("Olga", "quality")):
        add_user(ctx.sessions, name, role, "password")
    with ctx.sessions() as db:
        daniel, olga = (db.scalars(select(User).where(User.name == n)).one() for n in ("Daniel", "Olga"))
    dispute(ctx, ids["expired"], daniel, "checkpoint:farewell", "I said goodbye at the end.")
    spared = purge(ctx, at=NOW)
    assert spared.calls == [] and spared.held == [ids["expired"], ids["held"]]
    review(ctx, ids["expired"], olga, {"checkpoint:greeting": True})  # another verdict: still open
    assert purge(ctx, at=NOW).calls == []
    review(ctx, ids["expired"], olga, {"checkpoint:farewell": True}, "He did.")
    assert purge(ctx, at=NOW).calls == [ids["expired"]]


def test_purge_on_the_command_line_can_say_first_what_it_would_delete(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store_calls(data, f"sqlite:///{data / 'callqa.db'}")
    env = {"CALLQA_DATA_DIR": str(data), "CALLQA_KEEP_AUDIO_DAYS": "90"}
    nothing = run_callqa({"CALLQA_DATA_DIR": str(data)}, "purge")
    assert nothing.returncode == 2 and "CALLQA_KEEP_AUDIO_DAYS" in nothing.stderr
    dry = run_callqa(env, "purge", "--as-of", "2026-11-28", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    planned = json.loads(dry.stdout)
    assert len(planned["audio"]) == 3 and planned["held"] and planned["dry_run"] is True
    assert len(list((data / "audio").rglob("*.wav"))) == 5
    done = run_callqa(env, "purge", "--as-of", "2026-11-28")
    assert done.returncode == 0 and "deleted: audio of 3 calls" in done.stdout
    assert len(list((data / "audio").rglob("*.wav"))) == 2


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_purged_recording_is_gone_from_the_api_with_the_reason(database: str, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from api import create_app
    from callqa.settings import Settings
    from pipeline.retention import purge
    from storage.users import add_user

    ctx, ids = store_calls(tmp_path / "data", database, audio=90)
    purge(ctx, at=NOW)
    app = create_app(Settings.from_env({"CALLQA_DATA_DIR": str(tmp_path / "data"), "CALLQA_DATABASE_URL": database}))
    token = add_user(app.state.context.sessions, "q", "quality")
    client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    gone = client.get(f"/api/calls/{ids['old-audio']}/audio")
    assert gone.status_code == 410 and "retention" in gone.json()["error"]
    assert client.get(f"/api/calls/{ids['old-audio']}").json()["audio"] is None
    assert client.get(f"/api/calls/{ids['fresh']}/audio").status_code == 200


def test_a_gsm_recording_plays_from_a_wav_copy_that_is_purged_with_it(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from api import create_app
    from callqa.settings import Settings
    from pipeline.metadata import CallInfo
    from pipeline.process import ingest
    from pipeline.retention import purge
    from storage.users import add_user
    from transcribe.audio import probe_audio

    data = tmp_path / "data"
    app = create_app(Settings.from_env({"CALLQA_DATA_DIR": str(data), "CALLQA_KEEP_AUDIO_DAYS": "90"}))
    ctx = app.state.context
    gsm = Path(__file__).parent / "fixtures" / "audio" / "outbound_en.gsm.wav"
    call_id, _ = ingest(ctx, gsm, gsm.name, CallInfo(started_at=NOW - timedelta(days=100)))
    client = TestClient(app, headers={"Authorization": f"Bearer {add_user(ctx.sessions, 'q', 'quality')}"})
    whole = client.get(f"/api/calls/{call_id}/audio")
    assert whole.status_code == 200 and whole.headers["content-type"] == "audio/wav"
    (tmp_path / "played.wav").write_bytes(whole.content)
    assert probe_audio(tmp_path / "played.wav").codec == "pcm_mulaw"  # browsers play it; GSM they don't
    part = client.get(f"/api/calls/{call_id}/audio", headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == whole.content[1000:2000]
    assert sorted(p.name.partition(".")[2] for p in (data / "audio").rglob("*.wav")) == ["wav", "wav.play.wav"]
    assert purge(ctx, at=NOW).audio == [call_id]
    assert not list((data / "audio").rglob("*.wav"))  # the copy went with the recording


def test_workers_with_beat_purge_daily_once_retention_is_set(tmp_path: Path) -> None:
    from callqa.settings import Settings
    from worker.tasks import _schedule, app

    assert "purge" not in _schedule(Settings(cache_dir=tmp_path))
    daily = _schedule(Settings(cache_dir=tmp_path, keep_audio_days=90))["purge"]
    assert daily == {"task": "callqa.purge", "schedule": 86400.0} and "callqa.purge" in app.tasks
