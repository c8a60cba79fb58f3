"""Redacting a stored call once it is analysed: its transcript, reports, search words, metadata and
audio (the spans silenced in a new copy; the original recording is deleted)."""

from __future__ import annotations

import logging
import re
import tempfile
from pathlib import Path

from sqlalchemy import select

from analysis.redact import Redaction, redact, redact_report
from pipeline.context import Context
from storage import search
from storage.models import Call, Job, Report, Transcript
from transcribe.silence import silence
from transcribe.transcript import Transcript as TranscriptValue

log = logging.getLogger(__name__)


def redact_call(ctx: Context, call_id: int) -> Redaction | None:
    """Redact the call unless done before; the redaction, or None if there was nothing to do."""
    with ctx.sessions() as db:
        call = db.get_one(Call, call_id)
        if call.transcript is None or call.transcript.redacted:
            return None
        keep = [call.manager.name] if call.manager else []
        data, old_key = call.transcript.data, call.audio_key
    redaction = redact(TranscriptValue.from_dict(data), keep)
    new_key = None
    if redaction.findings and call.audio_deleted_at is None:
        new_key = f"{Path(old_key).with_suffix('')}.redacted.wav"
        with tempfile.TemporaryDirectory() as tmp, ctx.store.fetch(old_key) as original:
            copy = Path(tmp) / "redacted.wav"
            silence(original, copy, redaction.spans(), max_duration=ctx.settings.max_duration)
            ctx.store.put(copy, new_key)
    stored = redaction.transcript.to_dict() | {
        "levels": data.get("levels"), "redactions": redaction.found()
    }
    with ctx.sessions.begin() as db:
        transcript = db.scalar(select(Transcript).where(Transcript.call_id == call_id))
        assert transcript is not None
        transcript.data, transcript.redacted = stored, True
        for report in db.scalars(select(Report).where(Report.call_id == call_id)):
            report.data = redact_report(report.data, redaction)
            report.reviewed = redact_report(report.reviewed, redaction) if report.reviewed else None
        search.index(db, call_id, stored)
        call = db.get_one(Call, call_id)
        call.original_name = scrub_name(call.original_name)
        call.client_phone = mask_phone(call.client_phone)
        for job in db.scalars(select(Job).where(Job.call_id == call_id)):
            job.source = scrub_name(job.source)
        if new_key:
            call.audio_key = new_key
    if new_key and new_key != old_key:
        ctx.store.delete(old_key)
    return redaction


def redact_failed(ctx: Context, call_id: int) -> None:
    """With redaction on, redact a call whose processing failed for good, so that its transcript
    does not stay readable in the meantime. The failure's own error is the one reported."""
    if not ctx.settings.redact:
        return
    try:
        redact_call(ctx, call_id)
    except Exception as error:  # noqa: BLE001 - the step's failure is what the job reports
        log.error("call %s: redaction after the failed analysis failed too: %s", call_id, error)


def scrub_name(name: str) -> str:
    """A recording's file name without the phone numbers or e-mail addresses in it (PBXs name
    files by caller: ``2026-11-01/+79161234567.wav``)."""
    name = re.sub(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", "EMAIL", name)
    return re.sub(r"\+?\d{7,}", "PHONE", name)


def mask_phone(phone: str | None) -> str | None:
    """All but the last two digits hidden: enough to tell numbers apart, not to call one."""
    if not phone:
        return phone
    return re.sub(r"\d(?=(?:\D*\d){2})", "•", phone)
