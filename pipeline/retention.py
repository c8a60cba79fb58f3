"""Retention: what has been kept longer than the settings allow is deleted, and the deletion is
recorded in the access log. Ages count from when the call happened (``Call.at``).

- ``keep_audio_days``: the recording (the file; the call page says when it went);
- ``keep_transcript_days``: the transcript, its search words, and the quotes in the reports
  (verdicts, times and scores stay);
- ``keep_report_days``: the whole call: reports, reviews, jobs, metadata.

A call on hold (``Call.hold``, set by a reviewer) or with a dispute that no review has answered
yet is skipped until released or answered. Run daily by Celery beat (``callqa.purge``) or by
``callqa purge``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from analysis.redact import strip_quotes
from pipeline.context import Context
from storage import access, daily, search
from storage.models import Call, Report, Transcript, User, now


@dataclass
class Purged:
    """The ids of the calls each thing was deleted from, and the held calls that were spared."""

    audio: list[int] = field(default_factory=list)
    transcripts: list[int] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)


def purge(ctx: Context, at: datetime | None = None, dry_run: bool = False) -> Purged:
    """Delete what has expired by ``at`` (UTC, naive; default now); ``dry_run`` only says what."""
    at = at or now()
    s = ctx.settings
    purged = Purged()
    for days, kind in ((s.keep_report_days, "calls"), (s.keep_transcript_days, "transcripts"),
                       (s.keep_audio_days, "audio")):  # fmt: skip
        if days:
            _expire(ctx, kind, at - timedelta(days=days), purged, dry_run)
    purged.held = sorted(set(purged.held))
    return purged


def _expire(ctx: Context, kind: str, before: datetime, purged: Purged, dry_run: bool) -> None:
    query = select(Call.id, or_(Call.hold, Call.review == "disputed")).where(Call.at < before).order_by(Call.id)
    if kind == "audio":
        query = query.where(Call.audio_deleted_at.is_(None))
    if kind == "transcripts":
        query = query.where(Call.transcript.has())
    with ctx.sessions() as db:
        rows = db.execute(query).all()
    purged.held += [call_id for call_id, hold in rows if hold]
    expired = [call_id for call_id, hold in rows if not hold]
    getattr(purged, kind).extend(expired)
    if dry_run:
        return
    for call_id in expired:  # one transaction each: a long purge is never all or nothing
        {"calls": _call, "transcripts": _transcript, "audio": _audio}[kind](ctx, call_id, before)


def _audio(ctx: Context, call_id: int, before: datetime) -> None:
    with ctx.sessions.begin() as db:
        call = db.get_one(Call, call_id)
        # Deleted before the call says so: a delete that fails (a bucket out of reach) leaves the
        # call as it was, for the next purge to try again.
        ctx.store.delete(call.audio_key)
        call.audio_deleted_at = now()
        access.record(db, None, "purge", call_id, f"audio {call.audio_key}: the call was before "
                      f"{before:%Y-%m-%d} (CALLQA_KEEP_AUDIO_DAYS)")  # fmt: skip


def _transcript(ctx: Context, call_id: int, before: datetime) -> None:
    with ctx.sessions.begin() as db:
        db.execute(delete(Transcript).where(Transcript.call_id == call_id))
        search.forget(db, call_id)
        for report in db.scalars(select(Report).where(Report.call_id == call_id)):
            report.data = strip_quotes(report.data)
            report.reviewed = strip_quotes(report.reviewed) if report.reviewed else None
        access.record(db, None, "purge", call_id, f"transcript and quotes: the call was before "
                      f"{before:%Y-%m-%d} (CALLQA_KEEP_TRANSCRIPT_DAYS)")  # fmt: skip


def _call(ctx: Context, call_id: int, before: datetime) -> None:
    with ctx.sessions.begin() as db:
        call = db.get_one(Call, call_id)
        if call.audio_deleted_at is None:  # first, as for the audio alone: no row lost before its file
            ctx.store.delete(call.audio_key)
        search.forget(db, call_id)
        db.execute(delete(Call).where(Call.id == call_id))  # the database cascades to the rest
        daily.refresh(db, call.manager_id, call.at)
        access.record(db, None, "purge", call_id, f"the call and its reports and reviews: it was "
                      f"before {before:%Y-%m-%d} (CALLQA_KEEP_REPORT_DAYS)")  # fmt: skip


def hold(db: Session, user: User, call: Call, reason: str | None) -> dict[str, Any]:
    """Keep the call from the purge (``reason``: why), or release it (None); in the access log."""
    call.hold, call.hold_reason = reason is not None, reason
    access.record(db, user, "hold" if reason else "release", call.id, reason or "")
    db.commit()
    return {"id": call.id, "hold": call.hold, "hold_reason": call.hold_reason}
