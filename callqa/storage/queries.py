"""Reading stored calls back: the lists the command line (and later the API) show."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from callqa.storage.models import Call, Job, Manager, Report


def list_calls(
    sessions: sessionmaker[Session], day: date | None, manager: str | None, sort: str, limit: int
) -> list[dict[str, Any]]:
    """Calls with their newest report's score and their last job's error, filtered and sorted."""
    latest = (
        select(Report.call_id, func.max(Report.id).label("report_id"))
        .group_by(Report.call_id)
        .subquery()
    )
    last_job = (
        select(Job.call_id, func.max(Job.id).label("job_id")).group_by(Job.call_id).subquery()
    )
    query = (
        select(Call, Manager.name, Report.score, Job.state, Job.error)
        .outerjoin(Manager, Call.manager_id == Manager.id)
        .outerjoin(latest, latest.c.call_id == Call.id)
        .outerjoin(Report, Report.id == latest.c.report_id)
        .outerjoin(last_job, last_job.c.call_id == Call.id)
        .outerjoin(Job, Job.id == last_job.c.job_id)
    )
    if day is not None:
        start = datetime.combine(day, datetime.min.time())
        end = start + timedelta(days=1)
        query = query.where(
            or_(
                Call.started_at.between(start, end),
                Call.started_at.is_(None) & Call.created_at.between(start, end),
            )
        )
    if manager:
        query = query.where(Manager.name == manager)
    orders: dict[str, ColumnElement[Any]] = {
        "score": Report.score.asc().nulls_last(),
        "-score": Report.score.desc().nulls_last(),
        "time": Call.created_at.asc(),
    }
    order = orders[sort]
    query = query.order_by(order, Call.id).limit(limit)
    with sessions() as db:
        return [
            {
                "id": call.id,
                "file": call.original_name,
                "manager": name,
                "score": score,
                "state": state,
                "error": error,
                "duration": call.duration,
                "direction": call.direction,
                "started_at": call.started_at,
                "created_at": call.created_at,
                "deal_id": call.deal_id,
                "outcome": call.outcome,
            }
            for call, name, score, state, error in db.execute(query)
        ]
