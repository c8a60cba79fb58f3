"""The KPI table per manager for a week or a day, with drops flagged; JSON or CSV."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import DbDep, UserDep, exported, own_manager
from api.routes import attachment
from storage.kpis import kpi_table, latest_week, to_csv

router = APIRouter(tags=["kpis"])


@router.get("/kpis", response_model=None)
def kpis(
    request: Request,
    db: DbDep,
    user: UserDep,
    period: str | None = Query(
        None, max_length=10, description="2026-W48 or 2026-11-27 [default: the newest call's week]"
    ),
    format: Literal["json", "csv"] = "json",
    script: str | None = Query(None, max_length=100, description="only the calls scored against this script pack"),
) -> dict[str, Any] | Response:
    """Each manager's calls, talk time, score, pass rates, objections handled, time stuck, next
    steps and conversion, against their last four periods and the team. Managers get their own.
    With two products, ask per ``script``: a team's average across scripts mixes their checkpoints."""
    period = period or latest_week(db)
    rows = kpi_table(db, period, own_manager(user), script)
    if format == "csv":
        exported(db, user, request)
        return attachment(to_csv(rows), "text/csv", f"kpis-{period}.csv")
    return {"period": period, "managers": rows}
