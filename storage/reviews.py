"""A call's reviews and disputes, oldest first, and the review state they put it in."""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal, NamedTuple

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, aliased

from storage import daily
from storage.models import Call, Manager, Report, Review

# A call's review states: not reviewed; reviewed; a dispute waits for an answer; every dispute answered.
STATES = ("none", "reviewed", "disputed", "answered")
WAITING = ("none", "disputed")  # the states of the review queue


def reviews_of(db: Session, call_id: int) -> list[Review]:
    return list(db.scalars(select(Review).where(Review.call_id == call_id).order_by(Review.id)))


def locked_report(db: Session, report_id: int) -> Report:
    """The report, locked until the transaction ends, so that the reviews of a call are given one
    after another, each from the verdicts before it: a row lock on PostgreSQL; on SQLite, its one
    writer's lock, taken now by a write that changes nothing rather than at the first real write."""
    if db.get_bind().dialect.name == "sqlite":
        db.execute(update(Report).where(Report.id == report_id).values(id=Report.id))
    return db.get_one(Report, report_id, with_for_update=True, populate_existing=True)


def latest_verdicts(db: Session, report_ids: Collection[int]) -> dict[int, dict[str, bool]]:
    """Per report, the reviewers' latest verdict on each target they gave one on."""
    found: dict[int, dict[str, bool]] = {}
    rows = db.execute(
        select(Review.report_id, Review.target, Review.verdict)
        .where(Review.kind == "review", Review.report_id.in_(report_ids))
        .order_by(Review.id)
    )  # fmt: skip
    for report_id, target, verdict in rows:
        found.setdefault(report_id, {})[target] = bool(verdict)  # the latest wins
    return found


def open_disputes(entries: list[Review]) -> list[Review]:
    """Of a call's reviews and disputes (``reviews_of``), the disputes no review answers yet."""
    answered = {e.answers for e in entries if e.answers is not None}
    return [e for e in entries if e.kind == "dispute" and e.id not in answered]


def update_state(db: Session, call: Call) -> None:
    """The call's review state from its reviews and disputes, and whether it waits in the queue."""
    call.review = review_state(db, call)
    call.waiting = call.review in WAITING
    daily.refresh(db, call.manager_id, call.at)  # its score, and whether it counts as reviewed


def review_state(db: Session, call: Call) -> str:
    """One of STATES, from the call's reviews and disputes. A review counts only when it is of the
    call's current verdicts: once the call is analysed again (rescored), it waits for review
    again. A dispute stays open, whenever it was made, until a review answers it."""
    entries = reviews_of(db, call.id)
    if open_disputes(entries):
        return "disputed"
    report = db.get(Report, call.report_id) if call.report_id is not None else None
    current = [] if report is None else [e for e in entries if e.report_id == report.id and e.created_at >= report.created_at]
    if any(e.kind == "dispute" for e in current):
        return "answered"
    return "reviewed" if any(e.kind == "review" for e in current) else "none"


class Disputed(NamedTuple):
    dispute: Review
    call: Call
    manager: str | None
    answer: Review | None  # the review that answered it; None while open


def disputes(
    db: Session, state: Literal["open", "answered"] | None = None, manager_id: int | None = None,
    limit: int = 200,
) -> list[Disputed]:  # fmt: skip
    """Disputes, newest first, with their call and answer. ``state``: only open or answered ones;
    ``manager_id``: only on that manager's calls."""
    answer = aliased(Review)
    query = (
        select(Review, Call, Manager.name, answer)
        .join(Call, Call.id == Review.call_id)
        .outerjoin(Manager, Manager.id == Call.manager_id)
        .outerjoin(answer, answer.answers == Review.id)
        .where(Review.kind == "dispute")
        .order_by(Review.id.desc())
        .limit(limit)
    )
    if state == "open":
        query = query.where(answer.id.is_(None))
    elif state == "answered":
        query = query.where(answer.id.is_not(None))
    if manager_id is not None:
        query = query.where(Call.manager_id == manager_id)
    return [Disputed(*row) for row in db.execute(query)]


def open_dispute_count(db: Session, manager_id: int | None = None) -> int:
    """How many calls wait for an answer to a dispute (the navigation's badge)."""
    query = select(func.count(Call.id)).where(Call.review == "disputed")
    if manager_id is not None:
        query = query.where(Call.manager_id == manager_id)
    return db.scalar(query) or 0
