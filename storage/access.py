"""The access log: who opened a call, played its audio, viewed a page of what calls hold (the
revivable leads, a draft's quotes), searched the calls' words (the query, not what it found),
exported data, held a call; what retention purged. Rows are only ever added (the database
refuses updates and deletes)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Literal, TypedDict, get_args

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.days import Day
from storage.models import AccessEntry, User, now

Action = Literal["open", "play", "view", "search", "export", "hold", "release", "purge"]
ACTIONS: tuple[str, ...] = get_args(Action)


class Entry(TypedDict):
    id: int
    at: str  # ISO 8601, UTC
    user: str  # "callqa" for retention
    action: str
    call_id: int | None
    detail: str


def record(
    db: Session, user: User | None, action: str, call_id: int | None = None, detail: str = ""
) -> None:
    """Add an entry (committed with ``db``'s transaction); ``user`` None is callqa itself."""
    assert action in ACTIONS, action
    db.add(AccessEntry(user_id=user.id if user else None, user_name=user.name if user else "callqa",
                       action=action, call_id=call_id, detail=detail))  # fmt: skip


def entries(
    db: Session,
    *,
    user: str | None = None,
    action: str | None = None,
    call_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    before: int | None = None,
) -> list[Entry]:
    """The newest entries first, filtered; ``before`` an id pages on."""
    query = select(AccessEntry).order_by(AccessEntry.id.desc()).limit(limit)
    for column, value in ((AccessEntry.user_name, user), (AccessEntry.action, action),
                          (AccessEntry.call_id, call_id)):  # fmt: skip
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(AccessEntry.at >= since)
    if until is not None:
        query = query.where(AccessEntry.at <= until)
    if before is not None:
        query = query.where(AccessEntry.id < before)
    return [_entry(e) for e in db.scalars(query)]


def _entry(e: AccessEntry) -> Entry:
    return {"id": e.id, "at": e.at.isoformat(timespec="seconds") + "Z", "user": e.user_name,
            "action": e.action, "call_id": e.call_id, "detail": e.detail}  # fmt: skip


def played_lately(db: Session, user: User, call_id: int, window: timedelta) -> bool:
    """Whether ``user`` played ``call_id`` within ``window``: that entry covers a player's
    further requests for ranges of it."""
    since = now() - window
    query = select(AccessEntry.id).where(
        AccessEntry.user_id == user.id, AccessEntry.call_id == call_id,
        AccessEntry.action == "play", AccessEntry.at >= since,
    ).limit(1)  # fmt: skip
    return db.scalar(query) is not None


class AccessQuery(BaseModel):
    """The access log's filters and page, for the API and the page."""

    user: str | None = Field(None, max_length=200, description="a user's name; callqa for retention")
    action: Action | None = None
    call_id: int | None = Field(None, ge=1, le=2_147_483_647)
    since: Day | None = Field(None, description="from this day on")
    until: Day | None = Field(None, description="up to and including this day")
    limit: int = Field(100, ge=1, le=1000)
    before: int | None = Field(None, ge=1, le=2_147_483_647, description="the next page: entries older than this id")


def read(db: Session, q: AccessQuery) -> list[Entry]:
    """The entries ``q`` asks for, newest first."""
    return entries(
        db, user=q.user, action=q.action, call_id=q.call_id, limit=q.limit, before=q.before,
        since=datetime.combine(q.since, time()) if q.since else None,
        until=datetime.combine(q.until, time.max) if q.until else None,
    )  # fmt: skip
