"""Mining a script draft from stored calls (see ``scripts_lib.draft``)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.calibrate import Labelled
from scripts_lib.draft import Analysed, Group, mine
from storage.days import after
from storage.models import Call, Manager, Report, Script
from storage.reviews import latest_verdicts


def analysed_calls(
    db: Session, pack_id: str, since: date | None = None, until: date | None = None, reviewed: bool = True
) -> list[Analysed]:
    """Calls whose current report was scored with any version of the pack ``pack_id``: each report
    as the reviewers have it (an objection they added is one the manager answered, or not), or
    as the machine made it (not ``reviewed``)."""
    query = (
        select(Call.id, Manager.name, Call.outcome, Call.score, Report.reviewed, Report.data)
        .join(Report, Report.id == Call.report_id)
        .join(Script, Script.id == Report.script_id)
        .outerjoin(Manager, Manager.id == Call.manager_id)
        .where(Script.pack_id == pack_id)
    )
    if since:
        query = query.where(Call.at >= datetime.combine(since, datetime.min.time()))
    if until:
        query = query.where(Call.at < after(until, "until"))
    return [Analysed(i, name, outcome, score or 0.0, (as_reviewed if reviewed else None) or data)
            for i, name, outcome, score, as_reviewed, data in db.execute(query)]  # fmt: skip


def mined(db: Session, pack_id: str, since: date | None = None, until: date | None = None) -> dict[str, list[Group]]:
    return mine(analysed_calls(db, pack_id, since, until))


def labelled_calls(db: Session, pack_id: str, since: date | None = None) -> list[Labelled]:
    """The pack's analysed calls with their outcome and their reviewers' latest verdicts."""
    calls = analysed_calls(db, pack_id, since, reviewed=False)  # the reviewers' verdicts are read apart
    reports = {c.call_id: db.scalar(select(Call.report_id).where(Call.id == c.call_id)) for c in calls}
    reviewed = latest_verdicts(db, [r for r in reports.values() if r])
    won = {"won": True, "lost": False}
    return [Labelled(c.report, won.get(c.outcome or ""), reviewed.get(reports[c.call_id] or 0, {})) for c in calls]
