"""The KPI table page: every manager's numbers for a week or a day, drops flagged."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from analysis.kpi import neighbours
from api.deps import DbDep, PageDep, own_manager
from api.pages.calls import script_choice
from api.pages.templating import render
from callqa.errors import InputError
from storage.kpis import kpi_table, latest_week

router = APIRouter()


@router.get("/kpis", response_class=HTMLResponse)
def kpi_page(
    request: Request, db: DbDep, session: PageDep, period: str | None = Query(None, max_length=10),
    script: str | None = Query(None, max_length=100),
) -> HTMLResponse:  # fmt: skip
    """The numbers of one script's calls (``script``, or the most used). A bad period
    is said above the period pickers, on the page itself (422)."""
    user = session.user
    choice = script_choice(db, script, own_manager(user))
    period = period or latest_week(db)
    try:
        rows = kpi_table(db, period, own_manager(user), choice.pack)
        before, later = neighbours(period)
    except InputError as error:
        return render(request, "kpis.html", session, 422, section="kpis", period=period, rows=[], stages=[],
                      titles={}, before=None, later=None, error=str(error), choice=choice)  # fmt: skip
    stages = sorted({k for r in rows for k in r["pass_rate"]})
    return render(request, "kpis.html", session, section="kpis", period=period, rows=rows, stages=stages,
                  titles=choice.checkpoints, before=before, later=later, choice=choice)  # fmt: skip
