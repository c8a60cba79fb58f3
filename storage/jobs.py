"""Jobs: the newest, and those a batch waits for."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Job, Report


def recent_jobs(db: Session, state: str | None, limit: int) -> list[Job]:
    """The newest ``limit`` jobs, in ``state`` if given."""
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if state:
        query = query.where(Job.state == state)
    return list(db.scalars(query))


def jobs_by_id(db: Session, ids: Iterable[int]) -> dict[int, Job]:
    return {job.id: job for job in db.scalars(select(Job).where(Job.id.in_(list(ids))))}


def score_of(db: Session, job: Job) -> float:
    """The score a finished job gave its call."""
    query = select(Report.score).where(Report.call_id == job.call_id, Report.script_id == job.script_id)
    return db.scalars(query).one()
