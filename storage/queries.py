"""Reading stored calls back: the lists the command line (and later the API) show."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, sessionmaker

from storage.models import Call, Job, Manager


def list_calls(
    sessions: sessionmaker[Session], day: date | None, manager: str | None, sort: str, limit: int
) -> list[dict[str, Any]]:
    """Calls with their current score and their last job's error, filtered and sorted."""
    last_job = (
        select(Job.call_id, func.max(Job.id).label("job_id")).group_by(Job.call_id).subquery()
    )
    query = (
        select(Call, Manager.name, Job.state, Job.error)
        .outerjoin(Manager, Call.manager_id == Manager.id)
        .outerjoin(last_job, last_job.c.call_id == Call.id)
        .outerjoin(Job, Job.id == last_job.c.job_id)
    )
    if day is not None:
        start = datetime.combine(day, datetime.min.time())
        query = query.where(Call.at >= start, Call.at < start + timedelta(days=1))
    if manager:
        query = query.where(Manager.name == manager)
    orders: dict[str, ColumnElement[Any]] = {
        "score": Call.score.asc().nulls_last(), "-score": Call.score.desc().nulls_last(), "time": Call.at.asc(),
    }  # fmt: skip
    query = query.order_by(orders[sort], Call.id).limit(limit)
    with sessions() as db:
        return [
            {
                "id": call.id,
                "file": call.original_name,
                "manager": name,
                "score": call.score,
                "state": state,
                "error": error,
                "duration": call.duration,
                "direction": call.direction,
                "started_at": call.started_at,
                "created_at": call.created_at,
                "deal_id": call.deal_id,
                "outcome": call.outcome,
            }
            for call, name, state, error in db.execute(query)
        ]
