"""A job's state as it runs: running (one attempt more), then done, or failed with the reason."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import select

from pipeline.context import Context
from storage.models import Job


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
