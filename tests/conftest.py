"""Shared fixtures: the real bundled Whisper models, loaded once per test session."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "audio"
SPEECH = Path(
    os.environ.get("CALLQA_SPEECH_DIR")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data" / "speech"
)
if not SPEECH.is_dir():
    raise RuntimeError(
        f"the real speech clips belong in {SPEECH}: shared/ beside the checkout, or set CALLQA_SPEECH_DIR"
    )
JFK_TEXT = (
    "And so my fellow Americans, ask not what your country can do for you, "
    "ask what you can do for your country."
)
HARVARD_TEXT = (
    "A gold ring will please most any girl. The long journey home took a year. She saw a cat "
    "in the neighbor's house. A pink shell was found on the sandy beach. Small children came "
    "to see him. The grass and bushes were wet with dew. The blind man counted his old coins. "
    "A severe storm tore down the barn. She called his name many times. When you hear the "
    "bell, come quickly."
)


def normalise(text: str) -> str:
    text = text.lower().replace("'", "")
    text = re.sub(r"\b200\b", "two hundred", text)
    text = re.sub(r"\b1st\b", "first", text)
    text = re.sub(r"\b10\b", "ten", text)
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def wer(reference: str, hypothesis: str) -> float:
    import jiwer

    return float(jiwer.wer(normalise(reference), normalise(hypothesis)))


def reference(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def encode(
    target: Path, container: str, codec: str, rate: int, channels: int,
    source: Path = FIXTURES / "outbound_en.stereo.wav",
) -> None:
    """Write a stereo fixture in another format with PyAV (no ffmpeg binary)."""
    import av
    import numpy as np

    from transcribe.audio import SAMPLE_RATE, decode_audio

    samples = decode_audio(source)
    if channels == 1:
        samples = samples.mean(axis=0, keepdims=True)
    with av.open(str(target), "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout="mono" if channels == 1 else "stereo")
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples), format="fltp", layout=stream.layout.name
        )
        frame.sample_rate = SAMPLE_RATE
        resampler = av.AudioResampler(
            format=stream.codec_context.format.name, layout=stream.layout.name, rate=rate
        )
        for piece in resampler.resample(frame) + resampler.resample(None):
            out.mux(stream.encode(piece))
        out.mux(stream.encode(None))


# Seconds a test's subprocess may take: a hung one still ends, and a loaded machine is no failure.
PATIENCE = 900
# Modules whose every test starts worker processes or a browser.
_SLOW_MODULES = {"test_browser", "test_workers"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``slow`` what hears audio with a Whisper model (asks for the model cache, directly or
    through a site of analysed calls) or starts a browser or workers: ``make test-fast`` leaves
    them out."""
    for item in items:
        if "cache_dir" in getattr(item, "fixturenames", ()) or item.module.__name__ in _SLOW_MODULES:  # type: ignore[attr-defined]
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("callqa-cache")


@pytest.fixture(scope="session")
def faster(cache_dir: Path):  # type: ignore[no-untyped-def]
    from transcribe import load_engine

    return load_engine("faster-whisper", cache_dir=cache_dir, device="cpu")


@pytest.fixture(scope="session")
def openai_engine(cache_dir: Path):  # type: ignore[no-untyped-def]
    from transcribe import load_engine

    return load_engine("openai-whisper", cache_dir=cache_dir, device="cpu")


@pytest.fixture(scope="session")
def encoder():  # type: ignore[no-untyped-def]
    from transcribe.diarize import BothEncoders

    return BothEncoders()


@pytest.fixture(scope="session")
def two_voices():  # type: ignore[no-untyped-def]
    """The diarizer as ``CALLQA_MONO_VOICES=two`` sets it up: a mono recording is never one voice.
    The espeak-ng voices of the test dialogues and golden calls are, turn by turn, as alike as
    one real speaker's turns (``bench/one_voice.py``): left to decide, the diarizer hears most as one."""
    from transcribe.diarize import BothEncoders

    return BothEncoders(one_voice=False)


PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each kind; the PostgreSQL one is dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'callqa.db'}"
        return
    name = f"callqa_test_{uuid.uuid4().hex[:12]}"
    try:
        yield create_database(name)
    finally:
        drop_database(name)


def create_database(name: str) -> str:
    """A new, empty PostgreSQL database; its URL."""
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def drop_database(name: str, missing_ok: bool = False) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE {"IF EXISTS " if missing_ok else ""}"{name}" WITH (FORCE)')


@pytest.fixture(scope="session", autouse=True)
def _drop_site_templates() -> Iterator[None]:
    """The PostgreSQL databases that ``site`` copies from, dropped when the session ends."""
    yield
    for template, _, _ in _SITES.values():
        if template.startswith("postgresql"):
            drop_database(template.rsplit("/", 1)[1])


CALLS = Path(__file__).parent / "fixtures" / "calls"
PASSWORD = "correct-horse"


def site(
    database: str, data_dir: Path, cache_dir: Path, env: dict[str, str] | None = None,
    recordings: tuple[tuple[Path, str, str], ...] = (
        (CALLS / "won_quick.8k.wav", "Daniel", "won"), (CALLS / "lost_timing_ended.8k.wav", "Emma", "lost")),
) -> tuple[Any, dict[str, str]]:  # fmt: skip
    """The app over analysed ``recordings`` (path, manager, outcome): by default Daniel's won_quick
    and Emma's lost_timing_ended, with a user per role (password PASSWORD; the manager user is Emma);
    their API tokens. ``env`` adds settings.

    The first site of each kind of database, ``env`` and ``recordings`` is built for real (each call
    transcribed and analysed); later ones are copies of its database and data folder, so that
    a test pays for the recognition only where it is what the test is about."""
    from api import create_app

    key = (database.split(":", 1)[0], recordings, tuple(sorted((env or {}).items())))
    if key not in _SITES:
        _SITES[key] = _built_site(key[0], cache_dir, env or {}, recordings)
    template, folder, tokens = _SITES[key]
    _copy_site(template, folder, database, data_dir)
    return create_app(_site_settings(database, data_dir, cache_dir, env or {})), dict(tokens)


# (kind of database, recordings, settings) -> the template's database URL, data folder and tokens
_SITES: dict[tuple[Any, ...], tuple[str, Path, dict[str, str]]] = {}


def _site_settings(database: str, data_dir: Path, cache_dir: Path, env: dict[str, str]) -> Any:
    from callqa.settings import Settings

    return Settings.from_env({"CALLQA_DATABASE_URL": database, "CALLQA_DATA_DIR": str(data_dir),
                              "CALLQA_CACHE_DIR": str(cache_dir), "CALLQA_SCRIPT": "b2b_outbound",
                              "CALLQA_REDIS_URL": "redis://127.0.0.1:6379/15", **env})  # fmt: skip


def _built_site(
    kind: str, cache_dir: Path, env: dict[str, str], recordings: tuple[tuple[Path, str, str], ...]
) -> tuple[str, Path, dict[str, str]]:
    """A site built for real in a database and data folder of its own, kept until the session ends."""
    from pipeline.context import Context
    from pipeline.metadata import CallInfo
    from pipeline.process import accept_recording
    from pipeline.scripts import register_script
    from storage.users import add_user

    name = f"callqa_test_site_{uuid.uuid4().hex[:12]}"
    folder = cache_dir / "sites" / name
    database = f"sqlite:///{folder / 'callqa.db'}" if kind == "sqlite" else create_database(name)
    ctx = Context.from_settings(_site_settings(database, folder, cache_dir, env))
    script = register_script(ctx.sessions, "b2b_outbound")
    for path, manager, outcome in recordings:
        info = CallInfo(manager=manager, outcome=outcome)
        accept_recording(ctx, path, path.name.replace(".8k.wav", ".wav"), info, script)
    tokens = {role: add_user(ctx.sessions, f"{role}-user", role, PASSWORD) for role in ("admin", "quality", "trainer")}
    tokens["manager"] = add_user(ctx.sessions, "Emma", "manager", PASSWORD)
    ctx.sessions.kw["bind"].dispose()  # a PostgreSQL template must have no connections
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # with nothing stored yet, PostgreSQL's is empty
    return database, folder, tokens


def _copy_site(template: str, folder: Path, database: str, data_dir: Path) -> None:
    """The template's data folder and database copied into ``data_dir`` and ``database``."""
    import shutil
    import sqlite3

    shutil.copytree(folder, data_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns("callqa.db*"))
    if template.startswith("sqlite"):
        target = Path(database.removeprefix("sqlite:///"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch(mode=0o600)  # as callqa makes its database: private
        source, copy = sqlite3.connect(folder / "callqa.db"), sqlite3.connect(target)
        with contextlib.closing(source), contextlib.closing(copy):
            source.backup(copy)
        return
    import psycopg

    name = database.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}"')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template.rsplit("/", 1)[1]}"')


def broken_script(sessions: Any) -> int:
    """The bundled b2b_outbound pack stored, then its text spoilt in the database: every analysis
    against it fails for good (transcription still works). Its id."""
    from sqlalchemy import update

    from pipeline.scripts import register_script
    from storage.models import Script

    script = register_script(sessions, "b2b_outbound")
    with sessions.begin() as db:
        db.execute(update(Script).where(Script.id == script).values(source="id: ["))
    return script


def analysed_calls(
    data_dir: Path, calls: list[tuple[str, Any, str, dict[str, Any]]], database: str | None = None,
    analyse: bool = True,
) -> dict[str, str]:  # fmt: skip
    """Store calls given as (manager, time, outcome, Transcript JSON), without audio, and analyse them
    (unless not ``analyse``) with the real pipeline and the bundled b2b_outbound pack, in ``database``
    (default: SQLite in ``data_dir``); the environment that reaches them."""
    from callqa.settings import Settings
    from pipeline.context import Context
    from pipeline.process import analyse_call
    from pipeline.scripts import register_script
    from storage.models import Call, Manager, Transcript

    env = {"CALLQA_DATA_DIR": str(data_dir)} | ({"CALLQA_DATABASE_URL": database} if database else {})
    ctx = Context.from_settings(Settings.from_env(env))
    script = register_script(ctx.sessions, "b2b_outbound")
    ids = []
    with ctx.sessions.begin() as db:
        managers: dict[str, Manager] = {}
        for i, (name, at, outcome, said) in enumerate(calls):
            manager = managers.setdefault(name, Manager(name=name))
            call = Call(content_hash=f"{i:064x}", audio_key="-", original_name=f"{name}-{i}.wav", duration=35.0,
                        manager=manager, at=at, started_at=at, outcome=outcome,
                        transcript=Transcript(engine="x", model="x", language="en", data=said))  # fmt: skip
            db.add(call)
            db.flush()
            ids.append(call.id)
    for call_id in ids if analyse else []:
        analyse_call(ctx, call_id, script)
    return {**os.environ, **env}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def in_thread(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on a free local port, in a thread of this process; its address."""
    import threading

    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@contextlib.contextmanager
def served(env: dict[str, str], log: Path) -> Iterator[str]:
    """``callqa serve`` on a free port with ``env`` added to this environment, until it answers;
    its base URL. Stopped on leaving."""
    import httpx

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port)], env={**os.environ, **env},
                              stdout=log.open("wb"), stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/health")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, log.read_text()
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def run_callqa(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli", *args], env=env, capture_output=True,
                          text=True, timeout=PATIENCE, check=False)  # fmt: skip


def in_fresh_process(code: str, env: dict[str, str] | None = None) -> str:
    """The last line ``code`` prints, run by Python in a process of its own: for what a process
    sets once, such as its thread counts. Where the code fails, so does the test, with its stderr."""
    found = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                           timeout=PATIENCE, check=False)  # fmt: skip
    assert found.returncode == 0, found.stderr[-2000:]
    return found.stdout.strip().splitlines()[-1]


# Mono recordings of two real voices, for the diarizer's tests and benchmark (bench/diarization.py).
Span = tuple[float, float, str]  # start, end, speaker


def read_mono(path: Path) -> np.ndarray:
    from transcribe.audio import SAMPLE_RATE, stream_audio

    blocks = list(stream_audio(str(path), block_seconds=600.0))
    audio = np.concatenate([b.mean(axis=0) for b in blocks]) if blocks else np.zeros(0, np.float32)
    assert SAMPLE_RATE == 16000
    return audio.astype(np.float32)


def write_8k(path: Path, audio: np.ndarray) -> Path:
    """16 kHz float audio as an 8 kHz 16-bit WAV: the telephone's rate."""
    from scipy.signal import resample_poly

    low = np.clip(resample_poly(audio, 1, 2), -1, 1)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes((low * 32767).astype("<i2").tobytes())
    return path


def phrases(audio: np.ndarray) -> list[np.ndarray]:
    """The stretches of speech between pauses of 0.3 s."""
    from transcribe.speech import speech_spans

    return [audio[a:b] for a, b in speech_spans(audio, min_silence_ms=300, pad_ms=60)]


def interleaved(a: np.ndarray, b: np.ndarray, gap: float = 0.25) -> tuple[np.ndarray, list[Span]]:
    """The phrases of two recordings taken in turns (A, B, A, B...), ``gap`` seconds apart."""
    pieces: list[np.ndarray] = []
    spans: list[Span] = []
    at = 0.5
    silence = np.zeros(int(gap * 16000), np.float32)
    lead = np.zeros(8000, np.float32)
    for pair in itertools.zip_longest(phrases(a), phrases(b)):
        for speaker, phrase in zip("AB", pair, strict=True):
            if phrase is None:
                continue
            spans.append((at, at + len(phrase) / 16000, speaker))
            pieces += [phrase, silence]
            at += (len(phrase) + len(silence)) / 16000
    return np.concatenate([lead, *pieces, lead]), spans


def overlapped(a: np.ndarray, b: np.ndarray, overlap: float) -> tuple[np.ndarray, list[Span]]:
    """The phrases of two recordings in turns (A, B, A, B...), each starting ``overlap`` seconds
    (at most half of the shorter phrase) before the other speaker's ends: every change of
    speaker an interruption, of known times. Phrases of one speaker in a row (the other has
    none left) follow each other 0.25 s apart."""
    pairs = itertools.zip_longest(phrases(a), phrases(b))
    taken = [(p, s) for pair in pairs for p, s in zip(pair, "AB", strict=True) if p is not None]
    spans: list[Span] = []
    for phrase, speaker in taken:
        if not spans:
            start = 0.5
        elif spans[-1][2] == speaker:
            start = spans[-1][1] + 0.25
        else:
            start = spans[-1][1] - min(overlap, (spans[-1][1] - spans[-1][0]) / 2, len(phrase) / 32000)
        spans.append((start, start + len(phrase) / 16000, speaker))
    out = np.zeros(int((spans[-1][1] + 0.5) * 16000) + len(taken), np.float32)
    for (phrase, _), (start, _, _) in zip(taken, spans, strict=True):
        out[int(start * 16000) : int(start * 16000) + len(phrase)] += phrase
    return out, spans


def interruptions(transcript, reference: list[Span]) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """(found, known, made up): the reference's overlaps of two speakers of 0.5 s or more (an
    interruption, as the analysis counts one), those the transcript's turns overlap over, and
    the transcript's overlaps of 0.5 s that match none of them."""
    from analysis.metrics import INTERRUPTION

    known = [(max(a1, a2), min(b1, b2)) for (a1, b1, s1), (a2, b2, s2) in itertools.combinations(reference, 2)
             if s1 != s2 and min(b1, b2) - max(a1, a2) >= INTERRUPTION]  # fmt: skip
    found = [(o.start, o.end) for o in transcript.overlaps(INTERRUPTION)]
    hit = sum(any(a < d and c < b for c, d in found) for a, b in known)
    return hit, len(known), sum(not any(a < d and c < b for a, b in known) for c, d in found)


def speaker_at(reference: list[Span], time: float) -> str | None:
    """The one speaker at ``time``; None in silence or overlap."""
    speaking = {s for a, b, s in reference if a <= time <= b}
    return speaking.pop() if len(speaking) == 1 else None


def attribution(transcript, reference: list[Span]) -> float:  # type: ignore[no-untyped-def]
    """Share of recognised words given the right speaker, under the better mapping of roles."""
    pairs = [(u.speaker, speaker_at(reference, (w.start + w.end) / 2)) for u in transcript.utterances for w in u.words]
    pairs = [(role, who) for role, who in pairs if who is not None]
    speakers = sorted({who for _, who in pairs})
    if not pairs:
        return float("nan")
    best = 0
    for order in itertools.permutations(speakers, len(speakers)):
        mapping = dict(zip(("manager", "client"), order, strict=False))
        best = max(best, sum(mapping.get(role) == who for role, who in pairs))
    return best / len(pairs)
