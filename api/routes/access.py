"""The access log, for admins: who opened which call, played its audio, exported data; what
retention purged. There is no route to change it, and the database refuses to."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import Admin, DbDep
from storage.access import Action, entries

router = APIRouter(tags=["access log"])


class AccessQuery(BaseModel):
    user: str | None = Field(None, max_length=200, description="a user's name; callqa for retention")
    action: Action | None = None
    call_id: int | None = Field(None, ge=1, le=2_147_483_647)
    since: date | None = Field(None, description="from this day on")
    until: date | None = Field(None, description="up to and including this day")
    limit: int = Field(100, ge=1, le=1000)
    before: int | None = Field(None, ge=1, le=2_147_483_647, description="the next page: entries older than this id")


def read(db: DbDep, q: AccessQuery) -> list[dict[str, Any]]:
    return entries(
        db, user=q.user, action=q.action, call_id=q.call_id, limit=q.limit, before=q.before,
        since=datetime.combine(q.since, time()) if q.since else None,
        until=datetime.combine(q.until, time.max) if q.until else None,
    )  # fmt: skip


@router.get("/access-log")
def access_log(db: DbDep, _: Admin, q: Annotated[AccessQuery, Query()]) -> dict[str, Any]:
    """Entries, newest first; ``before`` the last id to page on."""
    items = read(db, q)
    return {"items": items, "next_before": items[-1]["id"] if len(items) == q.limit else None}
