"""Calls: list with filters, detail, audio with Range, upload."""

from __future__ import annotations

import functools
import re
import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import (
    APIRouter,
    BackgroundTasks,
    File,
    Form,
    HTTPException,
    Query,
    Request,
    UploadFile,
)
from fastapi.responses import FileResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from api.deps import (
    ContextDep,
    DbDep,
    Quality,
    RowId,
    UserDep,
    audit,
    deferred,
    exported,
    own_call,
    own_manager,
)
from api.routes import attachment
from api.routes.reviews import history
from callqa.errors import InputError
from pipeline.context import Context
from pipeline.metadata import CallInfo, MetadataError, json_object, parse
from pipeline.process import accept_recording, ask_two_voices
from pipeline.retention import hold as hold_call_for
from pipeline.scripts import resolve_script
from storage import FileStore
from storage.access import played_lately
from storage.calls import EXPORT_ROWS, CallQuery, calls_csv, search_calls
from storage.models import Call
from transcribe.audio import SUFFIXES, probe_audio
from transcribe.silence import silence

router = APIRouter(tags=["calls"])
PLAY_WINDOW = timedelta(minutes=10)
MEDIA = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".opus": "audio/ogg", ".oga": "audio/ogg",
         ".flac": "audio/flac", ".m4a": "audio/mp4", ".mp4": "audio/mp4", ".aac": "audio/aac",
         ".webm": "audio/webm"}  # fmt: skip
# Codecs that browsers play (FFmpeg's decoder names); others (GSM 6.10, AMR, WMA, G.729...) are
# played from a WAV copy.
PLAYABLE = frozenset({"pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_u8", "pcm_mulaw",
                      "pcm_alaw", "mp3", "mp3float", "aac", "opus", "vorbis", "flac"})  # fmt: skip


@router.get("/calls", response_model=None)
def list_calls(
    request: Request, db: DbDep, user: UserDep, filters: Annotated[CallQuery, Query()],
    format: Literal["json", "csv"] = "json",
) -> dict[str, Any] | Response:  # fmt: skip
    """Calls with their newest report's score (the reviewed one once reviewed); filters, sorting, pages.
    ``format=csv``: every call that matches (up to EXPORT_ROWS), not one page, for a spreadsheet."""
    if format == "csv":
        exported(db, user, request)
        found, _ = search_calls(db, filters, own_manager(user), limit=EXPORT_ROWS)
        base = str(request.base_url).rstrip("/")
        return attachment(calls_csv(db, found, base), "text/csv", "calls.csv")
    if filters.q:  # which calls hold a word: the query is logged, not what it found
        audit(db, user, "search", request=request)
    rows, total = search_calls(db, filters, own_manager(user))
    items = [
        {
            "id": call.id,
            "file": call.original_name,
            "manager": name,
            "score": call.score,
            "script": {"id": pack, "version": version} if pack else None,
            "duration": call.duration,
            "direction": call.direction,
            "started_at": call.started_at,
            "created_at": call.created_at,
            "outcome": call.outcome,
            "deal_id": call.deal_id,
            "review": call.review,
        }
        for call, name, pack, version, _ in rows
    ]
    return {"items": items, "total": total, "page": filters.page, "per_page": filters.per_page}


@router.get("/calls/{call_id}")
def call_detail(call_id: RowId, db: DbDep, user: UserDep) -> dict[str, Any]:
    """Metadata, transcript, every report (one per script version), jobs and review history of one call.
    Opening a call is recorded in the access log."""
    call = own_call(user, db.get(Call, call_id))
    audit(db, user, "open", call.id)
    return {
        "id": call.id, "file": call.original_name, "duration": call.duration,
        "manager": call.manager.name if call.manager else None, "direction": call.direction,
        "started_at": call.started_at, "created_at": call.created_at, "client_phone": call.client_phone,
        "deal_id": call.deal_id, "outcome": call.outcome,
        "transcript": call.transcript.data if call.transcript else None,
        # Each report as the machine made it, and as reviewed (mistakes and score follow the verdicts).
        "reports": [r.data | {"reviewed_score": r.reviewed_score, "reviewed": r.reviewed, "created_at": r.created_at}
                    for r in sorted(call.reports, key=lambda r: r.id)],
        "review": call.review,
        "jobs": [{"id": j.id, "kind": j.kind, "state": j.state, "error": j.error, "attempts": j.attempts,
                  "updated_at": j.updated_at} for j in call.jobs],
        "audio": None if call.audio_deleted_at else f"/api/calls/{call.id}/audio",
        "audio_deleted_at": call.audio_deleted_at, "redacted": bool(call.transcript and call.transcript.redacted),
        "hold": call.hold, "hold_reason": call.hold_reason,
        "reviews": history(call, db),
    }  # fmt: skip


@router.get("/calls/{call_id}/audio", response_class=FileResponse, response_model=None)
def call_audio(
    call_id: RowId, request: Request, db: DbDep, user: UserDep, ctx: ContextDep
) -> Response:
    """The recording (its redacted copy when redaction is on); supports HTTP Range, so a player can
    seek. Every request is covered by a "play" in the access log: one is added unless this user
    played this call in the last PLAY_WINDOW (a player asks for many ranges), whatever the Range."""
    call = own_call(user, db.get(Call, call_id))
    if call.audio_deleted_at is not None:
        raise HTTPException(410, f"the recording was deleted on {call.audio_deleted_at:%Y-%m-%d} "
                                 "under the retention policy (CALLQA_KEEP_AUDIO_DAYS)")  # fmt: skip
    if not played_lately(db, user, call.id, PLAY_WINDOW):
        audit(db, user, "play", call.id)
    key = playable(ctx.store, call.audio_key)
    media = MEDIA.get(Path(key).suffix, "application/octet-stream")
    path = ctx.store.local(key)
    if path is not None:
        return FileResponse(path, media_type=media)
    return ranged(ctx.store, key, request.headers.get("range"), media)


def playable(store: FileStore, key: str) -> str:
    """The key of the recording at ``key``, or, in a codec browsers cannot play, of its WAV copy
    (made once, kept as ``KEY.play.wav``, deleted with the recording)."""
    if _plays_as_it_is(store, key):
        return key
    copy_key = f"{key}.play.wav"
    if not store.exists(copy_key):
        with tempfile.TemporaryDirectory() as tmp, store.fetch(key) as original:
            silence(original, Path(tmp) / "play.wav", ())  # nothing silenced: a plain WAV copy
            store.put(Path(tmp) / "play.wav", copy_key)
    return copy_key


@functools.lru_cache(maxsize=4096)
def _plays_as_it_is(store: FileStore, key: str) -> bool:
    """Whether browsers play the recording's codec. A key names its content, so the answer is
    kept: a player's many Range requests do not each fetch the recording from a bucket."""
    with store.fetch(key) as path:
        return probe_audio(path).codec in PLAYABLE


def ranged(store: FileStore, key: str, asked: str | None, media: str) -> Response:
    """What is kept at ``key``, streamed from the store: the one range asked for (RFC 9110),
    else the whole (asked for several ranges, or in other units, it may be sent whole)."""
    size = store.size(key)
    headers = {"Accept-Ranges": "bytes"}
    found = re.fullmatch(r"bytes=(\d*)-(\d*)", (asked or "").strip())
    if not found or not (found[1] or found[2]):
        return StreamingResponse(store.read(key, 0, size - 1), media_type=media,
                                 headers=headers | {"Content-Length": str(size)})  # fmt: skip
    if found[1]:
        start, end = int(found[1]), min(int(found[2]), size - 1) if found[2] else size - 1
    else:
        start, end = max(0, size - int(found[2])), size - 1
    if start >= size or start > end:
        return Response(status_code=416, headers=headers | {"Content-Range": f"bytes */{size}"})
    headers |= {"Content-Range": f"bytes {start}-{end}/{size}", "Content-Length": str(end - start + 1)}
    return StreamingResponse(store.read(key, start, end), status_code=206, media_type=media, headers=headers)


@router.post("/calls", status_code=202)
def upload_call(
    ctx: ContextDep,
    user: Quality,
    background: BackgroundTasks,
    file: Annotated[UploadFile, File(description="the recording")],
    script: Annotated[
        str | None, Form(description="script pack id [default: CALLQA_SCRIPT]")
    ] = None,
    manager: Annotated[str | None, Form()] = None,
    direction: Annotated[Literal["inbound", "outbound"] | None, Form()] = None,
    started_at: Annotated[datetime | None, Form()] = None,
    client_phone: Annotated[str | None, Form()] = None,
    deal_id: Annotated[str | None, Form()] = None,
    outcome: Annotated[str | None, Form()] = None,
) -> dict[str, Any]:
    """Upload one recording with its metadata; it is processed in the background. A call id back.

    The file is decoded once before anything is stored: an empty, truncated, corrupt or
    over-long recording is refused with 422.
    """
    try:
        info = CallInfo(manager=manager, direction=direction, started_at=started_at, client_phone=client_phone,
                        deal_id=deal_id, outcome=outcome.lower() if outcome else None)  # fmt: skip
    except MetadataError as error:
        raise InputError(str(error)) from None
    return _accept(ctx, background, file, info, script)


@router.post("/webhook/recording", status_code=202)
def webhook(
    ctx: ContextDep,
    user: Quality,
    background: BackgroundTasks,
    file: Annotated[UploadFile, File(description="the recording")],
    metadata: Annotated[
        str,
        Form(
            description="JSON object: manager, direction, started_at, client_phone, "
            "deal_id, outcome"
        ),
    ] = "{}",
    script: Annotated[str | None, Form()] = None,
) -> dict[str, Any]:
    """For a PBX or CRM: a recording plus its metadata as one JSON field (the call-log fields)."""
    try:
        info = parse(json_object(metadata))
    except MetadataError as error:
        raise InputError(f"metadata: {error}") from None
    return _accept(ctx, background, file, info, script)


def _accept(
    ctx: Context, background: BackgroundTasks, file: UploadFile, info: CallInfo, script: str | None
) -> dict[str, Any]:
    name = Path(file.filename or "upload").name
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:  # what a batch takes from a folder
        raise InputError(f"file {name}: not a recording (expected one of {', '.join(sorted(SUFFIXES))})")
    script_name = script or ctx.settings.script
    if not script_name:
        raise InputError("script: missing (send the field, or set CALLQA_SCRIPT on the server)")
    with tempfile.TemporaryDirectory() as tmp:
        upload = Path(tmp) / f"upload{suffix}"
        with upload.open("wb") as out:
            shutil.copyfileobj(file.file, out, 1 << 20)  # its size is capped by api.security
        if upload.stat().st_size == 0:
            raise InputError(f"file {name}: empty")
        # The client's field names a pack; a path is only ever the server's own CALLQA_SCRIPT.
        script_id = resolve_script(ctx.sessions, script_name, paths=script is None)
        call_id, job_id = accept_recording(
            ctx, upload, name, info, script_id, deferred(background, ctx)
        )
    return {"call": call_id, "job": job_id, "status": "queued" if job_id else "already analysed"}


@router.post("/calls/{call_id}/two-voices", status_code=202)
def two_voices(call_id: RowId, background: BackgroundTasks, ctx: ContextDep, db: DbDep, user: Quality) -> dict[str, Any]:
    """A mono call heard as one voice (a voicemail, a monologue) where the reviewer hears a manager
    and a client: it is transcribed again as two voices and analysed again, by the workers or
    here after the response. Reviews of its old verdicts no longer count. 422 with the reason
    where it cannot be (heard as two already, not analysed yet, recording deleted)."""
    own_call(user, db.get(Call, call_id))
    script_id, job_id = ask_two_voices(ctx, call_id)
    deferred(background, ctx)(call_id, script_id, job_id, "two_voices")
    return {"call": call_id, "job": job_id, "status": "queued"}


class Hold(BaseModel):
    reason: str = Field(min_length=1, max_length=500, description="why: a dispute, a complaint")


@router.put("/calls/{call_id}/hold")
def hold_call(call_id: RowId, hold: Hold, db: DbDep, user: Quality) -> dict[str, Any]:
    """Keep the call from retention's purge until released (a dispute in progress)."""
    return hold_call_for(db, user, own_call(user, db.get(Call, call_id)), hold.reason)


@router.delete("/calls/{call_id}/hold")
def release_call(call_id: RowId, db: DbDep, user: Quality) -> dict[str, Any]:
    """Release a held call: retention applies to it again."""
    return hold_call_for(db, user, own_call(user, db.get(Call, call_id)), None)

