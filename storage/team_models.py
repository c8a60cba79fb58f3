"""A team's own pushback models, and the reviewed calls they are refitted from."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis.team_pushback import ReviewedCall
from storage.models import Call, Report, Review, Script, TeamModel, Transcript


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
    found = []
    for report_id, data, reviewed, transcript in db.execute(query).all():
        verdicts: dict[str, bool] = {}
        rows = db.execute(
            select(Review.target, Review.verdict)
            .where(Review.report_id == report_id, Review.kind == "review")
            .order_by(Review.id)
        )  # fmt: skip
        for target, verdict in rows:
            verdicts[target] = bool(verdict)  # the latest wins
        found.append(ReviewedCall(data, reviewed, verdicts, transcript.get("utterances", [])))
    return found


def newest_model(db: Session, pack_id: str) -> TeamModel | None:
    """The team's newest pushback model for the pack, if it has one."""
    newest = db.scalar(select(func.max(TeamModel.id)).where(TeamModel.pack_id == pack_id))
    return db.get(TeamModel, newest) if newest is not None else None
