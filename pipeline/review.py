"""Reviews: a supervisor confirms or overrides a verdict and the score is recomputed; a manager disputes one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from callqa.errors import InputError
from pipeline.context import Context
from pipeline.process import analyse_call
from storage.models import Call, Report, ReportItem, Review, User


def latest_report(ctx: Context, call_id: int) -> Report:
    with ctx.sessions() as db:
        report_id = db.scalar(select(func.max(Report.id)).where(Report.call_id == call_id))
        if report_id is None:
            raise InputError(f"call {call_id}: not analysed yet, nothing to review")
        return db.get_one(Report, report_id)


def _report_with(ctx: Context, call_id: int, target: str) -> Report:
    """The call's newest report, which must have a verdict on ``target``."""
    report = latest_report(ctx, call_id)
    if target not in targets(report.data):
        raise InputError(f"target {target!r}: not a checkpoint or objection of this call's report")
    return report


def targets(report: dict[str, Any]) -> dict[str, str]:
    """What a reviewer can give a verdict on: ``checkpoint:ID`` and ``objection:TYPE``, with titles."""
    found = {f"checkpoint:{c['id']}": c["title"] for c in report["checkpoints"]}
    found |= {f"objection:{o['type']}": o["title"] for o in report["objections"]}
    return found


def review(
    ctx: Context, call_id: int, user: User, target: str, verdict: bool, comment: str
) -> Review:
    """Record a reviewer's verdict on ``target`` (checkpoint:ID or objection:TYPE); rescore with every
    verdict given so far on this report (the latest per target wins). Both scores are kept."""
    report = _report_with(ctx, call_id, target)
    with ctx.sessions() as db:
        earlier = db.scalars(
            select(Review)
            .where(Review.report_id == report.id, Review.kind == "review")
            .order_by(Review.id)
        )
        overrides = {r.target: bool(r.verdict) for r in earlier} | {target: verdict}
    before = report.reviewed_score if report.reviewed_score is not None else report.score
    after = analyse_call(ctx, call_id, report.script_id, overrides)
    with ctx.sessions.begin() as db:
        db.get_one(Report, report.id).reviewed_score = after
        kind, _, key = target.partition(":")
        db.execute(  # list filters and chips follow the reviewer's verdict
            update(ReportItem)
            .where(ReportItem.report_id == report.id, ReportItem.kind == kind, ReportItem.key == key)
            .values(ok=verdict)
        )
        call = db.get_one(Call, call_id)
        if call.report_id == report.id:
            call.score = after
        entry = Review(call_id=call_id, report_id=report.id, user_id=user.id, kind="review", target=target,
                       verdict=verdict, comment=comment, score_before=before, score_after=after)  # fmt: skip
        db.add(entry)
    return entry


def dispute(ctx: Context, call_id: int, user: User, target: str, comment: str) -> Review:
    """A manager disputes a verdict of their call; a reviewer then decides with ``review``."""
    report = _report_with(ctx, call_id, target)
    if not comment.strip():
        raise InputError("comment: say why the verdict is wrong")
    with ctx.sessions.begin() as db:
        entry = Review(call_id=call_id, report_id=report.id, user_id=user.id, kind="dispute", target=target,
                       verdict=None, comment=comment)  # fmt: skip
        db.add(entry)
    return entry
