"""Per-manager summaries: scores over time, checkpoint pass rates, objections handled."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from sqlalchemy import Integer, cast, func, select

from api.deps import DbDep, UserDep
from callqa.storage.models import Call, Manager, Report, ReportItem

router = APIRouter(tags=["managers"])


@router.get("/managers/{name}/summary")
def manager_summary(name: str, db: DbDep, user: UserDep) -> dict[str, Any]:
    """Calls and average score per day, pass rate per checkpoint, objections handled; managers see their own."""
    manager = db.scalar(select(Manager).where(Manager.name == name))
    if manager is None or (user.role == "manager" and user.manager_id != manager.id):
        raise HTTPException(404, "no such manager")
    latest = (  # each call's current report
        select(Call.report_id.label("id")).where(
            Call.manager_id == manager.id, Call.report_id.is_not(None)
        )
    ).subquery()
    day = func.date(func.coalesce(Call.started_at, Call.created_at))  # SQLite and PostgreSQL alike
    days = db.execute(
        select(day, func.count(), func.avg(Report.score))
        .select_from(Report).join(latest, latest.c.id == Report.id).join(Call, Call.id == Report.call_id)
        .group_by(day).order_by(day)
    )  # fmt: skip
    items = db.execute(
        select(ReportItem.kind, ReportItem.key, func.count(), func.sum(cast(ReportItem.ok, Integer)))
        .join(latest, latest.c.id == ReportItem.report_id)
        .group_by(ReportItem.kind, ReportItem.key)
    )  # fmt: skip
    rates: dict[str, dict[str, Any]] = {"checkpoint": {}, "objection": {}}
    for kind, key, total, ok in items:
        rates[kind][key] = {"calls": total, "rate": round((ok or 0) / total, 3)}
    return {
        "manager": name,
        "days": [
            {
                "date": str(d),
                "calls": n,
                "average_score": round(float(a), 1) if a is not None else None,
            }
            for d, n, a in days
        ],
        "checkpoint_pass_rate": rates["checkpoint"],
        "objections_handled": rates["objection"],
    }
