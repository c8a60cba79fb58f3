"""The work on one call, the same in-process and in a Celery worker: store, transcribe, analyse, save.

Each step is idempotent: a call already stored (same content hash) is found
again, a transcript already made is not made again, and a report is replaced
for its (call, script version).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from callqa.errors import InputError
from callqa.settings import Settings
from callqa.storage import FileStore, audio_key, content_hash, search
from callqa.storage.models import Call, Job, Manager, Report, ReportItem, Script, Transcript, now
from scripts_lib import parse_pack
from worker.metadata import CallInfo

if TYPE_CHECKING:
    from transcribe.diarize import SpeakerEncoder
    from transcribe.recognisers import Recognisers


@dataclass
class Context:
    """What a worker process sets up once: the database, the file store, the settings, the model."""

    sessions: sessionmaker[Session]
    store: FileStore
    settings: Settings
    _recognisers: tuple[Recognisers, SpeakerEncoder] | None = None  # loaded on first need

    @classmethod
    def from_settings(cls, settings: Settings) -> Context:
        """Open the configured database (migrated) and file store."""
        from callqa.storage import DirectoryStore, connect

        return cls(connect(settings.database), DirectoryStore(settings.data_dir), settings)

    def recognisers(self) -> tuple[Recognisers, SpeakerEncoder]:
        """The Whisper engines (each model loaded on first use) and the mono diarizer."""
        if self._recognisers is None:
            from transcribe.diarize import ResemblyzerEncoder
            from transcribe.recognisers import Recognisers

            self._recognisers = (Recognisers.from_settings(self.settings), ResemblyzerEncoder())
        return self._recognisers


def register_script(sessions: sessionmaker[Session], name: str) -> int:
    """Store the pack ``name`` (bundled id or YAML path) as a script version; its id.

    A version is stored once; the same id and version with other content is refused.
    """
    from scripts_lib import find_pack, load_pack

    load_pack(name)  # errors name the file and line
    return store_script(sessions, find_pack(name).read_text(encoding="utf-8"), name)


def store_script(sessions: sessionmaker[Session], source: str, name: str = "<pack>") -> int:
    """Store a pack's YAML text as a script version (validated; errors name ``name``); its id."""
    pack = parse_pack(source, name)
    with sessions.begin() as db:
        stored = db.scalar(
            select(Script).where(Script.pack_id == pack.id, Script.version == pack.version)
        )
        if stored is None:
            stored = Script(pack_id=pack.id, version=pack.version, title=pack.title,
                            language=pack.language, source=source)  # fmt: skip
            db.add(stored)
            db.flush()
        elif parse_pack(stored.source) != pack:
            raise InputError(
                f"script {pack.id} v{pack.version} is already stored with other content: raise its version"
            )
        return stored.id


def report_items(report: dict[str, Any]) -> list[ReportItem]:
    """The verdicts of a report as rows: each checkpoint, and each objection type (its last raise)."""
    items = [
        ReportItem(kind="checkpoint", key=c["id"], ok=c["passed"]) for c in report["checkpoints"]
    ]
    last = {o["type"]: o["handled"] for o in report["objections"]}
    return items + [ReportItem(kind="objection", key=k, ok=v) for k, v in last.items()]


def resolve_script(sessions: sessionmaker[Session], name: str) -> int:
    """``ID@VERSION``: a stored version; a stored ``ID`` that is no bundled pack or file: its
    newest stored version; anything else: a pack to store (see ``register_script``)."""
    from scripts_lib import bundled_packs

    if "@" not in name and not Path(name).exists() and name not in bundled_packs():
        with sessions() as db:
            newest = db.scalar(
                select(Script.id).where(Script.pack_id == name).order_by(Script.version.desc()).limit(1)
            )
        if newest is not None:
            return newest
    if "@" in name and not Path(name).exists():
        pack_id, _, version = name.rpartition("@")
        with sessions() as db:
            found = db.scalar(
                select(Script.id).where(Script.pack_id == pack_id, Script.version == int(version))
            ) if version.isdigit() else None  # fmt: skip
        if found is None:
            raise InputError(
                f"script {name}: no such stored version (give ID@VERSION, or a pack file)"
            )
        return found
    return register_script(sessions, name)


def rescore_all(ctx: Context, name: str) -> tuple[dict[int, float], list[tuple[int, str]]]:
    """Analyse every stored transcript against the script ``name``: scores by call, and failures."""
    script_id = resolve_script(ctx.sessions, name)
    with ctx.sessions() as db:
        calls = list(db.scalars(select(Transcript.call_id).order_by(Transcript.call_id)))
    done, failed = {}, []
    for call_id in calls:
        try:
            done[call_id] = analyse_call(ctx, call_id, script_id)
        except InputError as error:
            failed.append((call_id, str(error)))
    return done, failed


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
            at=info.started_at or now(),
        )  # fmt: skip
        db.add(call)
        db.flush()
        return call.id, True


def process_call(ctx: Context, call_id: int, script_id: int, job_id: int | None = None) -> float:
    """Transcribe (unless done before), analyse against the script version and save; the score.

    The job, if given, is marked running, then done or failed with the reason.
    """
    with job_state(ctx, job_id):
        transcribe_call(ctx, call_id, script_id)
        try:
            return analyse_call(ctx, call_id, script_id)
        except Exception:
            from worker.redaction import redact_failed

            redact_failed(ctx, call_id)
            raise


@contextlib.contextmanager
def job_state(
    ctx: Context, job_id: int | None, first: bool = True, finish: bool = True
) -> Iterator[None]:
    """Mark the job running (an attempt more, if this is its ``first`` step); failed with the reason
    on an error; done at the end if ``finish``."""
    _set_job(ctx, job_id, "running", attempt=first)
    try:
        yield
    except Exception as error:
        _set_job(ctx, job_id, "failed", str(error))
        raise
    if finish:
        _set_job(ctx, job_id, "done")


def transcribe_call(ctx: Context, call_id: int, script_id: int) -> None:
    """Transcribe the call's recording and store it, unless stored already. The language is told
    from the speech, the script's unless the call is clearly in another (then the analysis
    refuses the call, naming both languages)."""
    from callqa.calls import load_call
    from transcribe import TranscribeOptions

    with ctx.sessions() as db:
        call = db.get_one(Call, call_id)
        if call.transcript is not None:
            return
        language = db.get_one(Script, script_id).language
        audio, name = ctx.store.open_path(call.audio_key), call.original_name
    options = TranscribeOptions(
        expected_language=language,
        manager_channel=ctx.settings.manager_channel_for(name),  # type: ignore[arg-type]
        max_duration=ctx.settings.max_duration,
    )
    engine, encoder = ctx.recognisers()
    try:
        loaded = load_call(audio, engine, options, encoder)
    except InputError as error:
        raise InputError(str(error).replace(f"{audio}: ", "")) from None  # the job names the call
    data = json.loads(loaded.transcript.to_json()) | {"levels": loaded.levels}
    try:
        with ctx.sessions.begin() as db:
            db.add(Transcript(call_id=call_id, engine=loaded.transcript.engine, model=loaded.transcript.model,
                              language=loaded.transcript.language, data=data))  # fmt: skip
            db.get_one(Call, call_id).duration = loaded.transcript.duration
            search.index(db, call_id, data)
    except IntegrityError:
        pass  # another worker stored it first: one transcript per call


def analyse_call(
    ctx: Context, call_id: int, script_id: int, overrides: dict[str, bool] | None = None
) -> float:
    """Analyse the stored transcript against the script version; store (or replace) the report.

    With reviewers' ``overrides``, the result is the reviewed score; the stored report is untouched.
    """
    from analysis import analyze
    from transcribe.transcript import Transcript as TranscriptValue

    with ctx.sessions() as db:
        call = db.get_one(Call, call_id)
        if call.transcript is None:
            raise InputError(f"call {call_id}: not transcribed yet")
        stored = call.transcript.data
        pack = parse_pack(db.get_one(Script, script_id).source)
    report = analyze(
        TranscriptValue.from_dict(stored), pack, levels=stored.get("levels"), overrides=overrides
    )
    if overrides:
        return report.score
    data = report.model_dump(mode="json")
    data.pop("transcript")  # kept once, in the transcripts table
    for _ in range(2):  # a second try if another worker inserted the same report meanwhile
        try:
            with ctx.sessions.begin() as db:
                query = select(Report).where(
                    Report.call_id == call_id, Report.script_id == script_id
                )
                existing = db.scalar(query)
                if existing is None:
                    existing = Report(
                        call_id=call_id, script_id=script_id, score=report.score, data=data
                    )
                    db.add(existing)
                else:
                    existing.score, existing.data, existing.created_at = report.score, data, now()
                    existing.reviewed_score = None  # reviews were of the old verdicts
                existing.items = report_items(data)
                db.flush()
                call = db.get_one(Call, call_id)
                call.report_id, call.score = (
                    existing.id,
                    report.score,
                )  # the newest analysis is current
            break
        except IntegrityError:
            continue
    if ctx.settings.redact:  # after the analysis, so the score is that of the call as heard
        from worker.redaction import redact_call

        redact_call(ctx, call_id)
    return report.score


def _manager(db: Session, name: str | None) -> Manager | None:
    if not name:
        return None
    manager = db.scalar(select(Manager).where(Manager.name == name))
    if manager is None:
        manager = Manager(name=name)
        db.add(manager)
    return manager


def fail_job(ctx: Context, job_id: int, reason: str) -> None:
    """Fail the job with ``reason`` unless it has already finished (done, or failed with its own)."""
    with ctx.sessions() as db:
        state = db.scalar(select(Job.state).where(Job.id == job_id))
    if state not in ("done", "failed"):
        _set_job(ctx, job_id, "failed", reason)


def _set_job(
    ctx: Context, job_id: int | None, state: str, error: str | None = None, attempt: bool = False
) -> None:
    if job_id is None:
        return
    with ctx.sessions.begin() as db:
        job = db.get_one(Job, job_id)
        job.state, job.error = state, error
        job.attempts += attempt


def accept_recording(
    ctx: Context,
    recording: Path,
    name: str,
    info: CallInfo,
    script_id: int,
    dispatch: Callable[[int, int, int], None] | None = None,
) -> tuple[int, int | None]:
    """A recording pushed by a PBX or CRM: stored once, then queued (``dispatch``) or processed here.

    Returns (call id, job id); the job id is None when this content was already analysed with
    the script. Bad audio is stored as a failed job, and InputError is raised with the reason.
    """
    call_id, _ = ingest(ctx, recording, name, info)
    with ctx.sessions.begin() as db:
        done = db.scalar(
            select(Report.id).where(Report.call_id == call_id, Report.script_id == script_id)
        )
        if done is not None:
            return call_id, None
        job = Job(call_id=call_id, kind="process", source=name, script_id=script_id)
        db.add(job)
        db.flush()
        job_id = job.id
    if dispatch is not None:
        dispatch(call_id, script_id, job_id)
    else:
        process_call(ctx, call_id, script_id, job_id)
    return call_id, job_id
