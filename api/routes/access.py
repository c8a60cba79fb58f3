"""The access log, for admins: who opened which call, played its audio, exported data; what
retention purged. There is no route to change it, and the database refuses to."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import Admin, DbDep
from storage.access import AccessQuery, read

router = APIRouter(tags=["access log"])


@router.get("/access-log")
def access_log(db: DbDep, _: Admin, q: Annotated[AccessQuery, Query()]) -> dict[str, Any]:
    """Entries, newest first; ``before`` the last id to page on."""
    items = read(db, q)
    return {"items": items, "next_before": items[-1]["id"] if len(items) == q.limit else None}
