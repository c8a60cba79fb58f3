"""The revivable leads page."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import DbDep, PageDep, own_manager
from api.pages.templating import render
from storage.leads import revivable

router = APIRouter()


@router.get("/leads", response_class=HTMLResponse)
def leads_page(
    request: Request,
    db: DbDep,
    session: PageDep,
    since: date | None = None,
    until: date | None = None,
) -> HTMLResponse:
    user = session.user
    leads = revivable(db, since, until, own_manager(user))
    return render(
        request, "leads.html", session, section="leads", leads=leads, since=since, until=until
    )
