from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from api.deps import DbDep

router = APIRouter(tags=["health"])


@router.get("/health")
def health(db: DbDep) -> dict[str, str]:
    """Liveness and database reachability; needs no authentication."""
    db.execute(text("SELECT 1"))
    return {"status": "ok"}
