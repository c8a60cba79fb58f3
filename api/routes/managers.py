"""Per-manager summaries: scores over time, checkpoint pass rates, objections handled."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import DbDep, UserDep, visible_manager
from storage.managers import summary

router = APIRouter(tags=["managers"])


@router.get("/managers/{name}/summary")
def manager_summary(name: str, db: DbDep, user: UserDep) -> dict[str, Any]:
    """Calls and average score per day, pass rate per checkpoint (overall and per ISO week),
    objections handled; managers see their own."""
    return summary(db, visible_manager(db, user, name))
