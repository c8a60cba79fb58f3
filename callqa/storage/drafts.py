"""Mining a script draft from stored calls (see ``scripts_lib.draft``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from callqa.storage.models import Call, Manager, Report, Script
from scripts_lib.draft import Analysed, Group, mine


def analysed_calls(db: Session, pack_id: str, since: date | None = None, until: date | None = None) -> list[Analysed]:
    """Calls whose current report was scored with any version of the pack ``pack_id``."""
    query = (
        select(Call.id, Manager.name, Call.outcome, Call.score, Report.data)
        .join(Report, Report.id == Call.report_id)
        .join(Script, Script.id == Report.script_id)
        .outerjoin(Manager, Manager.id == Call.manager_id)
        .where(Script.pack_id == pack_id)
    )
    if since:
        query = query.where(Call.at >= datetime.combine(since, datetime.min.time()))
    if until:
        query = query.where(Call.at < datetime.combine(until + timedelta(days=1), datetime.min.time()))
    return [Analysed(i, name, outcome, score or 0.0, data) for i, name, outcome, score, data in db.execute(query)]


def mined(db: Session, pack_id: str, since: date | None = None, until: date | None = None) -> dict[str, list[Group]]:
    return mine(analysed_calls(db, pack_id, since, until))
