from __future__ import annotations

from fastapi import APIRouter

from api.deps import DbDep
from storage.db import ping

router = APIRouter(tags=["health"])


@router.get("/health")
def health(db: DbDep) -> dict[str, str]:
    """Liveness and database reachability; needs no authentication."""
    ping(db)
    return {"status": "ok"}
