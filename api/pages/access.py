"""The access log page, for admins."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import AdminPage, DbDep
from api.pages.templating import render
from storage.access import ACTIONS, AccessQuery, read

router = APIRouter()


@router.get("/access-log", response_class=HTMLResponse)
def access_page(
    request: Request, db: DbDep, session: AdminPage, q: Annotated[AccessQuery, Query()]
) -> HTMLResponse:
    items = read(db, q)
    older = None
    if len(items) == q.limit:
        kept = {k: v for k, v in q.model_dump(exclude={"before"}).items() if v is not None}
        older = "/access-log?" + urlencode(kept | {"before": items[-1]["id"]})
    return render(request, "access.html", session, section="access", items=items, q=q, older=older,
                  actions=ACTIONS)  # fmt: skip
