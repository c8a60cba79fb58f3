"""The work on one call, the same in-process and in a Celery worker: store, transcribe, analyse, save.

Each step is idempotent: a call already stored (same content hash) is found
again, a transcript already made is not made again, and a report is replaced
for its (call, script version).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from analysis import analyze
from analysis.pushback import PushbackModel
from callqa.errors import AudioError, CallqaError, InputError
from pipeline.calls import Call as LoadedCall
from pipeline.calls import load_calls
from pipeline.context import Context, Dispatch
from pipeline.jobs import job_state
from pipeline.metadata import CallInfo
from pipeline.redaction import redact_call, redact_failed
from pipeline.scripts import resolve_script
from storage import audio_key, content_hash, search
from storage.managers import manager_for
from storage.models import Call, Job, Report, ReportItem, Script, Transcript, now
from storage.reviews import update_state
from storage.scripts import stored_pack
from storage.team_models import newest_model
from transcribe import RecognitionOptions, TranscribeOptions
from transcribe.audio import check_decodable
from transcribe.transcript import Transcript as TranscriptValue

NAME_LENGTH = 500  # characters of a recording's name as given (Call.original_name)
# Calls whose speech is recognised side by side, at most (``transcribe_calls``).
TOGETHER = 8


class Stored(NamedTuple):
    call_id: int
    new: bool  # False: the same recording was stored before


class Accepted(NamedTuple):
    call_id: int
    job_id: int | None  # None: this recording was already analysed with the script


class Rescored(NamedTuple):
    scores: dict[int, float]  # by call id
    failed: list[tuple[int, str]]  # (call id, reason)


def report_items(report: dict[str, Any]) -> list[ReportItem]:
    """The verdicts of a report as rows: each checkpoint, each objection type (its last raise),
    each verdict still unsure (kind ``unsure``, key its review target: ``raised:TYPE`` for a
    possible objection), a recording heard as one voice (kind ``voices``, key ``one``) and a
    transcript in doubt (kind ``transcript``, key ``unreliable``), so that a list can find the
    calls with verdicts to hear, the voicemails, or the calls the numbers leave out."""
    items = [
        ReportItem(kind="checkpoint", key=c["id"], ok=c["passed"]) for c in report["checkpoints"]
    ]
    last = {o["type"]: o["handled"] for o in report["objections"]}
    items += [ReportItem(kind="objection", key=k, ok=v) for k, v in last.items()]
    items += [ReportItem(kind="voices", key="one", ok=False)] if report.get("one_voice") else []
    items += [ReportItem(kind="transcript", key="unreliable", ok=False)] if report.get("unreliable") else []
    return items + [ReportItem(kind="unsure", key=target, ok=False) for target in sorted(unsure_targets(report))]


def unsure_targets(report: dict[str, Any]) -> set[str]:
    """The review targets whose verdict the report marks unsure: ``checkpoint:ID``,
    ``objection:TYPE`` (the last time it was raised) and ``raised:TYPE`` (a possible objection)."""
    last = {o["type"]: o for o in report["objections"]}
    found = {f"checkpoint:{c['id']}" for c in report["checkpoints"] if c.get("unsure")}
    found |= {f"objection:{t}" for t, o in last.items() if o.get("unsure")}
    return found | {f"raised:{o['type']}" for o in report.get("possible_objections", []) if o.get("unsure")}


def rescore_all(ctx: Context, name: str) -> Rescored:
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
    return Rescored(done, failed)


def ingest(
    ctx: Context, path: Path, relative: str, info: CallInfo, digest: str | None = None
) -> Stored:
    """Keep a recording as a call, once per content: (call id, whether it is new). A recording that
    cannot be used (empty, not audio, truncated or corrupt, over the length limit) is refused with
    AudioError naming it ``relative``, and nothing is kept. When storing the call fails, the file
    copied for it is deleted again: no recording without its call."""
    if len(relative) > NAME_LENGTH:
        raise InputError(f"{relative[:60]}...: a file name longer than {NAME_LENGTH} characters")
    try:
        check_decodable(path, max_duration=ctx.settings.max_duration)
    except AudioError as error:
        raise AudioError(relative, error.reason) from None
    digest = digest or content_hash(path)
    key, copied = audio_key(digest, path.suffix), False
    try:
        with ctx.sessions.begin() as db:
            existing = db.scalar(select(Call).where(Call.content_hash == digest))
            if existing is not None:
                return Stored(existing.id, False)
            copied = ctx.store.put(path, key)
            call = Call(
                content_hash=digest, audio_key=key, original_name=relative,
                manager=manager_for(db, info.manager) if info.manager else None, direction=info.direction, started_at=info.started_at,
                client_phone=info.client_phone, deal_id=info.deal_id, outcome=info.outcome,
                at=info.started_at or now(),
            )  # fmt: skip
            db.add(call)
            db.flush()
            stored = Stored(call.id, True)
    except BaseException:
        if copied:
            ctx.store.delete(key)
        raise
    return stored


def process_call(ctx: Context, call_id: int, script_id: int, job_id: int | None = None) -> float:
    """Transcribe (unless done before), analyse against the script version and save; the score.

    The job, if given, is marked running, then done or failed with the reason.
    """
    score = process_calls(ctx, [(call_id, job_id)], script_id)[0]
    if isinstance(score, Exception):
        raise score
    return score


def process_calls(
    ctx: Context, calls: Sequence[tuple[int, int | None]], script_id: int
) -> list[float | Exception]:
    """``process_call`` for several (call, job) at once, their speech recognised side by side
    (``transcribe_calls``); for each, its score or the error that stopped it (its job failed
    with it)."""
    for _, job_id in calls:
        with job_state(ctx, job_id, finish=False):
            pass  # running, one attempt more
    try:
        errors = transcribe_calls(ctx, [call_id for call_id, _ in calls], script_id)
    except Exception as error:  # noqa: BLE001 - not one recording's fault: every job fails with it
        errors = {call_id: error for call_id, _ in calls}
    results: list[float | Exception] = []
    for call_id, job_id in calls:
        try:
            with job_state(ctx, job_id, first=False):
                if (stopped := errors[call_id]) is not None:
                    raise stopped
                try:
                    results.append(analyse_call(ctx, call_id, script_id))
                except Exception:
                    redact_failed(ctx, call_id)
                    raise
        except Exception as error:  # noqa: BLE001 - the call's job holds it; the others go on
            results.append(error)
    return results


def transcribe_call(ctx: Context, call_id: int, script_id: int) -> None:
    """Transcribe the call's recording and store it, unless stored already. The language is
    CALLQA_LANGUAGE where set; else the script's, unless Whisper is sure the speech is in another
    (then the analysis refuses the call, naming both languages)."""
    if (error := transcribe_calls(ctx, [call_id], script_id)[call_id]) is not None:
        raise error


def transcribe_calls(
    ctx: Context, call_ids: Sequence[int], script_id: int, two_voices: bool = False
) -> dict[int, Exception | None]:
    """``transcribe_call`` for several calls at once, their speech recognised side by side
    (``pipeline.calls.load_calls``: each gets the very words it gets alone); per call, None or
    the error that stopped it (an InputError names the call's recording by its stored name).
    ``two_voices``: transcribe them again, mono ones as two voices, replacing what is stored."""
    todo: dict[int, tuple[str, TranscribeOptions]] = {}
    with ctx.sessions() as db:
        language = db.get_one(Script, script_id).language
        for call_id in call_ids:
            call = db.get_one(Call, call_id)
            if call.transcript is None or two_voices:
                todo[call_id] = (call.audio_key, TranscribeOptions(
                    recognition=RecognitionOptions(language=ctx.settings.language),
                    expected_language=language,
                    manager_channel=ctx.settings.manager_channel_for(call.original_name),  # type: ignore[arg-type]
                    max_duration=ctx.settings.max_duration,
                    two_voices=two_voices,
                ))  # fmt: skip
    engines = ctx.recognisers()
    errors: dict[int, Exception | None] = dict.fromkeys(call_ids)
    with ExitStack() as fetched:  # each recording as a local file while it is heard
        paths: dict[int, Path] = {}
        for call_id, (key, _) in todo.items():
            try:
                paths[call_id] = fetched.enter_context(ctx.store.fetch(key))
            except InputError as error:  # not there: this call fails, the others go on
                errors[call_id] = error
        loaded = load_calls(list(paths.values()), engines, [todo[i][1] for i in paths], engines.diarizer())
    for (call_id, audio), heard in zip(paths.items(), loaded, strict=True):
        if isinstance(heard, InputError):  # the job names the call
            errors[call_id] = InputError(str(heard).replace(f"{audio}: ", ""))
        elif isinstance(heard, CallqaError):
            errors[call_id] = heard
        else:
            _store_transcript(ctx, call_id, heard, again=two_voices)
    return errors


def _store_transcript(ctx: Context, call_id: int, loaded: LoadedCall, again: bool = False) -> None:
    """Store the call's transcript; ``again``: in place of the one stored (in one transaction,
    so the old one stays if this fails)."""
    data = json.loads(loaded.transcript.to_json()) | {"levels": loaded.levels}
    try:
        with ctx.sessions.begin() as db:
            if again:
                db.execute(delete(Transcript).where(Transcript.call_id == call_id))
            db.add(Transcript(call_id=call_id, engine=loaded.transcript.engine, model=loaded.transcript.model,
                              language=loaded.transcript.language, data=data))  # fmt: skip
            db.get_one(Call, call_id).duration = loaded.transcript.duration
            search.index(db, call_id, data)
    except IntegrityError:
        pass  # another worker stored it first: one transcript per call


def analysed(
    ctx: Context, call_id: int, script_id: int, overrides: Mapping[str, bool] | None = None
) -> dict[str, Any]:
    """The stored transcript analysed against the script version, with reviewers' ``overrides``
    (see ``analysis.analyze``): the CallReport as JSON, transcript left out. Nothing is stored."""
    with ctx.sessions() as db:
        call = db.get_one(Call, call_id)
        if call.transcript is None:
            raise InputError(f"call {call_id}: not transcribed yet")
        stored = call.transcript.data
        pack = stored_pack(db, script_id)
        team = newest_model(db, pack.id)  # refitted from the team's reviewed calls
        pushback = PushbackModel.load(team.data, f"team model {team.id} of {pack.id}") if team else None
    report = analyze(
        TranscriptValue.from_dict(stored), pack, levels=stored.get("levels"), overrides=overrides,
        pushback=pushback,
    )
    data = report.model_dump(mode="json")
    data.pop("transcript")  # kept once, in the transcripts table
    return data


def analyse_call(ctx: Context, call_id: int, script_id: int) -> float:
    """Analyse the stored transcript against the script version; store (or replace) the report."""
    data = analysed(ctx, call_id, script_id)
    score = float(data["score"])
    for _ in range(2):  # a second try if another worker inserted the same report meanwhile
        try:
            with ctx.sessions.begin() as db:
                query = select(Report).where(
                    Report.call_id == call_id, Report.script_id == script_id
                )
                existing = db.scalar(query)
                if existing is None:
                    existing = Report(call_id=call_id, script_id=script_id, score=score, data=data)
                    db.add(existing)
                else:
                    existing.score, existing.data, existing.created_at = score, data, now()
                    existing.reviewed_score = existing.reviewed = None  # reviews were of the old verdicts
                existing.items = report_items(data)
                db.flush()
                call = db.get_one(Call, call_id)
                call.report_id, call.score = existing.id, score  # the newest analysis is current
                update_state(db, call)  # reviews of the old verdicts no longer count
            break
        except IntegrityError:
            continue
    if ctx.settings.redact:  # after the analysis, so the score is that of the call as heard
        redact_call(ctx, call_id)
    return score


def ask_two_voices(ctx: Context, call_id: int) -> tuple[int, int]:
    """A job to hear a call heard as one voice again as two (``hear_as_two``): the script version
    it was analysed with, and the job's id. An InputError says why the call cannot be."""
    with ctx.sessions.begin() as db:
        call = db.get_one(Call, call_id)
        if call.transcript is None or call.report_id is None:
            raise InputError(f"call {call_id} has not been transcribed and analysed yet")
        if not _one_voice(call):
            raise InputError(f"call {call_id} was not heard as one voice: its two speakers are already apart")
        if call.audio_deleted_at is not None:
            raise InputError(f"call {call_id}: its recording was deleted ({call.audio_deleted_at:%Y-%m-%d}, retention)")
        waiting = select(Job.id).where(Job.call_id == call_id, Job.kind == "two_voices", Job.state.in_(("queued", "running")))
        if (running := db.scalar(waiting)) is not None:
            raise InputError(f"call {call_id} is being heard again as two voices already (job {running})")
        script_id = db.get_one(Report, call.report_id).script_id
        job = Job(call_id=call_id, kind="two_voices", source=call.original_name, script_id=script_id)
        db.add(job)
        db.flush()
        return script_id, job.id


def hear_as_two(ctx: Context, call_id: int, script_id: int, job_id: int | None = None) -> float:
    """A mono call the diarizer heard as one voice, where a reviewer heard a manager and a
    client: transcribed again as two voices and analysed again against the script version; the
    new score. The old transcript stays until the new one is stored. As after any new analysis,
    reviews of the old verdicts no longer count (they stay in the call's history).

    A second attempt (a retry after a database error, or a redelivery after a worker died)
    that finds the two-voice transcript stored already only analyses."""
    with job_state(ctx, job_id):
        with ctx.sessions() as db:
            again = _one_voice(db.get_one(Call, call_id))
        if again and (error := transcribe_calls(ctx, [call_id], script_id, two_voices=True)[call_id]) is not None:
            raise error
        return analyse_call(ctx, call_id, script_id)


def _one_voice(call: Call) -> bool:
    return call.transcript is not None and call.transcript.data.get("role_method") == "single-speaker"


def accept_recording(
    ctx: Context,
    recording: Path,
    name: str,
    info: CallInfo,
    script_id: int,
    dispatch: Dispatch | None = None,
) -> Accepted:
    """A recording pushed by a PBX or CRM: stored once, then queued (``dispatch``) or processed here.

    Returns (call id, job id); the job id is None when this content was already analysed with
    the script. A recording that cannot be used is refused with AudioError, and nothing is kept.
    """
    call_id, _ = ingest(ctx, recording, name, info)
    with ctx.sessions.begin() as db:
        done = db.scalar(
            select(Report.id).where(Report.call_id == call_id, Report.script_id == script_id)
        )
        if done is not None:
            return Accepted(call_id, None)
        job = Job(call_id=call_id, kind="process", source=name, script_id=script_id)
        db.add(job)
        db.flush()
        job_id = job.id
    if dispatch is not None:
        dispatch(call_id, script_id, job_id)
    else:
        process_call(ctx, call_id, script_id, job_id)
    return Accepted(call_id, job_id)
