"""Reviews of a call's verdicts, and managers' disputes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import ContextDep, DbDep, ManagerUser, Quality, RowId, own_call
from pipeline.review import dispute, finish, review
from storage.models import Call, Review
from storage.reviews import reviews_of

router = APIRouter(tags=["reviews"])
Target = Field(
    pattern=r"^(checkpoint|objection|raised):[a-z][a-z0-9_]*$|^mistake:[a-z_]+(:[a-z0-9_]+)?@[0-9]+\.[0-9]$"
    r"|^added:[a-z][a-z0-9_]*@[0-9]{1,6}(\.[0-9]{1,2})?$",
    examples=["checkpoint:greeting", "raised:price", "mistake:interrupted_client@12.5", "added:price@74.9"],
)


class ReviewIn(BaseModel):
    target: str = Target
    verdict: bool = Field(
        description="checkpoint passed / objection handled / objection raised (a possible one counts, a found "
        "one is taken out) / the penalty was a mistake / an objection the machine missed, added at that "
        "moment (added:TYPE@SECONDS), was handled, as the reviewer sees it"
    )
    comment: str = Field(default="", max_length=4000)
    answers: int | None = Field(default=None, description="the dispute this review answers (default: "
                                "an open dispute of the same target, if any)")  # fmt: skip


class DisputeIn(BaseModel):
    target: str = Target
    comment: str = Field(min_length=1, max_length=4000)


def _out(entry: Review) -> dict[str, Any]:
    return {"id": entry.id, "kind": entry.kind, "target": entry.target, "verdict": entry.verdict,
            "comment": entry.comment, "score_before": entry.score_before, "score_after": entry.score_after,
            "answers": entry.answers, "created_at": entry.created_at}  # fmt: skip


@router.post("/calls/{call_id}/reviews", status_code=201)
def review_call(
    call_id: RowId, body: ReviewIn, db: DbDep, user: Quality, ctx: ContextDep
) -> dict[str, Any]:
    """Confirm or override one verdict; the score and mistakes follow, and the machine's are kept.
    A verdict on a disputed target answers the dispute."""
    own_call(user, db.get(Call, call_id))
    [entry] = review(ctx, call_id, user, {body.target: body.verdict}, body.comment, body.answers)
    return _out(entry)


@router.post("/calls/{call_id}/reviews/finish", status_code=201)
def finish_review(call_id: RowId, db: DbDep, user: Quality, ctx: ContextDep) -> list[dict[str, Any]]:
    """End the call's review: every verdict of the machine that no reviewer gave is confirmed as it
    stands, and the call is reviewed. The confirmations (none when every verdict was given). A
    dispute still open must be answered first (422)."""
    own_call(user, db.get(Call, call_id))
    return [_out(entry) for entry in finish(ctx, call_id, user)]


@router.post("/calls/{call_id}/disputes", status_code=201)
def dispute_call(
    call_id: RowId, body: DisputeIn, db: DbDep, user: ManagerUser, ctx: ContextDep
) -> dict[str, Any]:
    """A manager disputes a verdict on one of their own calls."""
    own_call(user, db.get(Call, call_id))
    return _out(dispute(ctx, call_id, user, body.target, body.comment))


def history(call: Call, db: DbDep) -> list[dict[str, Any]]:
    entries = reviews_of(db, call.id)
    return [_out(e) | {"user": e.user.name} for e in entries]
