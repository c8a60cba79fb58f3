"""A call's reviews and disputes, oldest first."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Review


def reviews_of(db: Session, call_id: int) -> list[Review]:
    return list(db.scalars(select(Review).where(Review.call_id == call_id).order_by(Review.id)))
