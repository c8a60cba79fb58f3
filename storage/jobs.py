"""Jobs, newest first."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Job


def recent_jobs(db: Session, state: str | None, limit: int) -> list[Job]:
    """The newest ``limit`` jobs, in ``state`` if given."""
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if state:
        query = query.where(Job.state == state)
    return list(db.scalars(query))
