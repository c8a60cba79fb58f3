"""Jobs: the state of each piece of work, and why it failed."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query

from api.deps import DbDep, RowId, Staff
from storage.jobs import recent_jobs
from storage.models import Job

router = APIRouter(tags=["jobs"])


def _out(job: Job) -> dict[str, Any]:
    return {"id": job.id, "call": job.call_id, "kind": job.kind, "source": job.source, "state": job.state,
            "error": job.error, "attempts": job.attempts, "created_at": job.created_at,
            "updated_at": job.updated_at}  # fmt: skip


@router.get("/jobs")
def list_jobs(
    db: DbDep,
    user: Staff,
    state: Literal["queued", "running", "done", "failed"] | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> list[dict[str, Any]]:
    """The newest jobs, optionally in one state (failed ones carry the reason)."""
    return [_out(j) for j in recent_jobs(db, state, limit)]


@router.get("/jobs/{job_id}")
def get_job(job_id: RowId, db: DbDep, user: Staff) -> dict[str, Any]:
    job = db.get(Job, job_id)
    if job is None:
        raise HTTPException(404, "no such job")
    return _out(job)
