"""A team's own pushback models, and the reviewed calls they are refitted from."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.team_pushback import ReviewedCall
from storage.models import Call, Report, Script, TeamModel, Transcript
from storage.reviews import latest_verdicts


def reviewed_calls(db: Session, pack_id: str, since: date | None = None) -> list[ReviewedCall]:
    """The calls of pack ``pack_id`` whose current report a reviewer gave verdicts on."""
    query = (
        select(Report.id, Report.data, Report.reviewed, Transcript.data)
        .join(Call, Call.report_id == Report.id)
        .join(Script, Script.id == Report.script_id)
        .join(Transcript, Transcript.call_id == Call.id)
        .where(Script.pack_id == pack_id, Report.reviewed.is_not(None))
    )
    if since:
        query = query.where(Call.at >= datetime.combine(since, datetime.min.time()))
    rows = db.execute(query).all()
    verdicts = latest_verdicts(db, [report_id for report_id, *_ in rows])
    return [ReviewedCall(data, reviewed, verdicts.get(report_id, {}), transcript.get("utterances", []))
            for report_id, data, reviewed, transcript in rows]  # fmt: skip


def newest_model(db: Session, pack_id: str) -> TeamModel | None:
    """The team's newest pushback model for the pack, if it has one."""
    return db.scalar(select(TeamModel).where(TeamModel.pack_id == pack_id).order_by(TeamModel.id.desc()).limit(1))
