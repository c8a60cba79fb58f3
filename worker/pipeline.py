"""The work on one call, the same in-process and in a Celery worker: store, transcribe, analyse, save.

Each step is idempotent: a call already stored (same content hash) is found
again, a transcript already made is not made again, and a report is replaced
for its (call, script version).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from callqa.errors import InputError
from callqa.settings import Settings
from callqa.storage import FileStore, audio_key, content_hash
from callqa.storage.models import Call, Job, Manager, Report, Script, Transcript, now
from worker.metadata import CallInfo

if TYPE_CHECKING:
    from scripts_lib.schema import ScriptPack
    from transcribe.engines import Engine


@dataclass
class Context:
    """What a worker process sets up once: the database, the file store, the settings, the model."""

    sessions: sessionmaker[Session]
    store: FileStore
    settings: Settings
    _engines: dict[str, Any] = field(default_factory=dict)

    def engine(self, language: str) -> tuple[Engine, Any]:
        """The Whisper engine (and mono diarizer) for a language, loaded on first use."""
        from transcribe import load_engine
        from transcribe.diarize import ResemblyzerEncoder

        s = self.settings
        model = s.model or "tiny.en"
        if language != "en" and model == "tiny.en":
            model = "base"  # the bundled multilingual model
        if model not in self._engines:
            engine = load_engine(s.engine, model, cache_dir=s.cache_dir, device=s.device)
            self._engines[model] = (engine, ResemblyzerEncoder())
        return self._engines[model]  # type: ignore[no-any-return]


def register_script(sessions: sessionmaker[Session], name: str) -> int:
    """Store the pack ``name`` (bundled id or YAML path) as a script version; its id.

    A version is stored once; the same id and version with other content is refused.
    """
    from scripts_lib import find_pack, load_pack

    pack = load_pack(name)
    source = find_pack(name).read_text(encoding="utf-8")
    with sessions.begin() as db:
        stored = db.scalar(
            select(Script).where(Script.pack_id == pack.id, Script.version == pack.version)
        )
        if stored is None:
            stored = Script(pack_id=pack.id, version=pack.version, title=pack.title,
                            language=pack.language, source=source)  # fmt: skip
            db.add(stored)
            db.flush()
        elif load_pack_text(stored.source) != pack:
            raise InputError(
                f"script {pack.id} v{pack.version} is already stored with other content: raise its version"
            )
        return stored.id


def load_pack_text(source: str) -> ScriptPack:
    import tempfile

    from scripts_lib import load_pack

    with tempfile.NamedTemporaryFile("w", suffix=".yaml", encoding="utf-8") as f:
        f.write(source)
        f.flush()
        return load_pack(f.name)


def ingest(
    ctx: Context, path: Path, relative: str, info: CallInfo, digest: str | None = None
) -> tuple[int, bool]:
    """Keep a recording as a call, once per content: (call id, whether it is new)."""
    digest = digest or content_hash(path)
    with ctx.sessions.begin() as db:
        existing = db.scalar(select(Call).where(Call.content_hash == digest))
        if existing is not None:
            return existing.id, False
        key = audio_key(digest, path.suffix)
        ctx.store.put(path, key)
        call = Call(
            content_hash=digest, audio_key=key, original_name=relative,
            manager=_manager(db, info.manager), direction=info.direction, started_at=info.started_at,
            client_phone=info.client_phone, deal_id=info.deal_id, outcome=info.outcome,
        )  # fmt: skip
        db.add(call)
        db.flush()
        return call.id, True


def process_call(ctx: Context, call_id: int, script_id: int, job_id: int | None = None) -> float:
    """Transcribe (unless done before), analyse against the script version and save; the score.

    The job, if given, is marked running, then done or failed with the reason.
    """
    from analysis import analyze
    from callqa.calls import load_call
    from transcribe import RecognitionOptions, TranscribeOptions
    from transcribe.transcript import Transcript as TranscriptValue

    _set_job(ctx, job_id, "running")
    name = ""
    try:
        with ctx.sessions() as db:
            call = db.get_one(Call, call_id)
            script = db.get_one(Script, script_id)
            pack = load_pack_text(script.source)
            stored = call.transcript.data if call.transcript else None
            audio = ctx.store.open_path(call.audio_key)
            name = call.original_name
        levels = None
        if stored is None:
            options = TranscribeOptions(
                recognition=RecognitionOptions(language=pack.language),
                manager_channel=ctx.settings.manager_channel_for(name),  # type: ignore[arg-type]
                max_duration=ctx.settings.max_duration,
            )
            engine, encoder = ctx.engine(pack.language)
            try:
                loaded = load_call(audio, engine, options, encoder)
            except InputError as error:
                raise InputError(str(error).replace(str(audio), name)) from None
            transcript, levels = loaded.transcript, loaded.levels
        else:
            transcript = TranscriptValue.from_dict(stored)
            levels = stored.get("levels")
        report = analyze(transcript, pack, levels=levels)
        _save(ctx, call_id, script_id, transcript, levels, report.model_dump(mode="json"))
    except Exception as error:
        _set_job(ctx, job_id, "failed", str(error).removeprefix(f"{name}: "))  # the job names the file
        raise
    _set_job(ctx, job_id, "done")
    return report.score


def _save(
    ctx: Context, call_id: int, script_id: int, transcript: Any, levels: Any, report: dict[str, Any]
) -> None:
    report.pop("transcript", None)  # kept once, in the transcripts table
    with ctx.sessions.begin() as db:
        call = db.get_one(Call, call_id)
        if call.transcript is None:
            data = json.loads(transcript.to_json()) | {"levels": levels}
            db.add(Transcript(call_id=call_id, engine=transcript.engine, model=transcript.model,
                              language=transcript.language, data=data))  # fmt: skip
            call.duration = transcript.duration
        stored = db.scalar(
            select(Report).where(Report.call_id == call_id, Report.script_id == script_id)
        )
        if stored is None:
            db.add(Report(call_id=call_id, script_id=script_id, score=report["score"], data=report))
        else:
            stored.score, stored.data, stored.created_at = report["score"], report, now()


def _manager(db: Session, name: str | None) -> Manager | None:
    if not name:
        return None
    manager = db.scalar(select(Manager).where(Manager.name == name))
    if manager is None:
        manager = Manager(name=name)
        db.add(manager)
    return manager


def _set_job(ctx: Context, job_id: int | None, state: str, error: str | None = None) -> None:
    if job_id is None:
        return
    with ctx.sessions.begin() as db:
        job = db.get_one(Job, job_id)
        job.state, job.error = state, error
        if state == "running":
            job.attempts += 1
