"""Per-manager summaries: scores over time, checkpoint pass rates, objections handled."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from fastapi import APIRouter, HTTPException
from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

from api.deps import DbDep, UserDep
from callqa.storage.models import Call, Manager, ReportItem, User

router = APIRouter(tags=["managers"])


@router.get("/managers/{name}/summary")
def manager_summary(name: str, db: DbDep, user: UserDep) -> dict[str, Any]:
    """Calls and average score per day, pass rate per checkpoint (overall and per ISO week),
    objections handled; managers see their own."""
    return summary(db, visible_manager(db, user, name))


def visible_manager(db: Session, user: User, name: str) -> Manager:
    manager = db.scalar(select(Manager).where(Manager.name == name))
    if manager is None or (user.role == "manager" and user.manager_id != manager.id):
        raise HTTPException(404, "no such manager")
    return manager


def summary(db: Session, manager: Manager) -> dict[str, Any]:
    day = func.date(func.coalesce(Call.started_at, Call.created_at))  # SQLite and PostgreSQL alike
    days = db.execute(
        select(day, func.count(), func.avg(Call.score))
        .where(Call.manager_id == manager.id, Call.report_id.is_not(None))
        .group_by(day).order_by(day)
    )  # fmt: skip
    items = db.execute(  # the verdicts of each call's current report, per day
        select(day, ReportItem.kind, ReportItem.key, func.count(), func.sum(cast(ReportItem.ok, Integer)))
        .join(Call, Call.report_id == ReportItem.report_id)
        .where(Call.manager_id == manager.id)
        .group_by(day, ReportItem.kind, ReportItem.key)
    )  # fmt: skip
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    weekly: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for when, kind, key, count, ok in items:
        totals[kind, key][0] += count
        totals[kind, key][1] += ok or 0
        if kind == "checkpoint":
            iso = date.fromisoformat(str(when)).isocalendar()
            weekly[key][f"{iso.year}-W{iso.week:02d}"] = [count, ok or 0]
    rates: dict[str, dict[str, Any]] = {"checkpoint": {}, "objection": {}}
    for (kind, key), (count, ok) in sorted(totals.items()):
        rates[kind][key] = {"calls": count, "rate": round(ok / count, 3)}
    return {
        "manager": manager.name,
        "days": [{"date": str(d), "calls": n, "average_score": round(float(a), 1) if a is not None else None}
                 for d, n, a in days],
        "checkpoint_pass_rate": rates["checkpoint"],
        "checkpoint_weeks": {key: [{"week": w, "calls": n, "rate": round(ok / n, 3)}
                                   for w, (n, ok) in sorted(weeks.items())]
                             for key, weeks in sorted(weekly.items())},
        "objections_handled": rates["objection"],
    }  # fmt: skip


def team(db: Session) -> list[dict[str, Any]]:
    """Every manager: calls scored, average score, the latest call."""
    rows = db.execute(
        select(Manager.name, func.count(Call.id), func.avg(Call.score), func.max(Call.at))
        .outerjoin(Call, Call.manager_id == Manager.id)
        .group_by(Manager.id, Manager.name).order_by(Manager.name)
    )  # fmt: skip
    return [{"name": name, "calls": n, "average_score": float(avg) if avg is not None else None,
             "latest": latest} for name, n, avg, latest in rows]  # fmt: skip
