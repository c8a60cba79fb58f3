"""Revivable lost leads, as JSON or as CSV for the CRM."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import DbDep, UserDep, exported, own_manager
from api.routes import attachment
from storage.days import Day
from storage.leads import revivable, row, to_csv

router = APIRouter(tags=["leads"])


@router.get("/leads/revivable", response_model=None)
def revivable_leads(
    request: Request,
    db: DbDep,
    user: UserDep,
    since: Day | None = None,
    until: Day | None = None,
    format: Literal["json", "csv"] = "json",
) -> dict[str, Any] | Response:
    """Lost calls with an unhandled objection or a manager who gave up at the first no, most
    revivable first; ``format=csv`` for the CRM. Managers get their own."""
    leads = revivable(db, since, until, own_manager(user))
    base = str(request.base_url).rstrip("/")
    exported(db, user, request)
    if format == "csv":
        return attachment(to_csv(leads, base), "text/csv", f"revivable-leads-{since or 'all'}.csv")
    return {"items": [row(lead, base) for lead in leads], "total": len(leads)}
