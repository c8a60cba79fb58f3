"""The revivable leads page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import DbDep, PageDep, audit, own_manager
from api.pages.templating import render
from storage.days import Day
from storage.leads import revivable

router = APIRouter()


@router.get("/leads", response_class=HTMLResponse)
def leads_page(
    request: Request,
    db: DbDep,
    session: PageDep,
    since: Day | None = None,
    until: Day | None = None,
) -> HTMLResponse:
    user = session.user
    audit(db, user, "view", request=request)
    leads = revivable(db, since, until, own_manager(user))
    return render(
        request, "leads.html", session, section="leads", leads=leads, since=since, until=until
    )
