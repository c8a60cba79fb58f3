"""Per-manager summaries: scores over time, checkpoint pass rates, objections handled."""

from __future__ import annotations

from fastapi import APIRouter, Query

from api.deps import DbDep, UserDep, visible_manager
from storage.managers import Summary, summary

router = APIRouter(tags=["managers"])


@router.get("/managers/{name:path}/summary", response_model=None)
def manager_summary(
    name: str, db: DbDep, user: UserDep,
    script: str | None = Query(None, max_length=100, description="only the calls scored against this script pack"),
) -> Summary:  # fmt: skip
    """Calls and average score per day, pass rate per checkpoint (overall and per ISO week),
    objections handled; managers see their own."""
    return summary(db, visible_manager(db, user, name), script)
