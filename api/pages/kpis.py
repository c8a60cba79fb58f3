"""The KPI table page: every manager's numbers for a week or a day, drops flagged."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from analysis.kpi import neighbours
from api.deps import DbDep, PageDep, own_manager
from api.pages.calls import merged_titles
from api.pages.templating import render
from storage.kpis import kpi_table, latest_week

router = APIRouter()


@router.get("/kpis", response_class=HTMLResponse)
def kpi_page(
    request: Request, db: DbDep, session: PageDep, period: str | None = Query(None, max_length=10)
) -> HTMLResponse:
    user = session.user
    period = period or latest_week(db)
    rows = kpi_table(db, period, own_manager(user))
    stages = sorted({k for r in rows for k in r["pass_rate"]})
    before, later = neighbours(period)
    return render(request, "kpis.html", session, section="kpis", period=period, rows=rows, stages=stages,
                  titles=merged_titles(db, "checkpoints"), before=before, later=later)  # fmt: skip
