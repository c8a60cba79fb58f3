"""Random samples for reviewing: how a quality department measures the machine on its own calls."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.days import after
from storage.models import Call


def sample(
    db: Session, first: date, last: date, per_day: int, manager_id: int | None = None
) -> list[int]:
    """``per_day`` calls per manager per day between ``first`` and ``last``, stratified by score:
    each manager's scored calls of a day, in score order, cut into ``per_day`` equal bands, one call
    from each. The choice within a band is random but fixed (a hash of the call's id), so the
    sample stays the same when the page is opened again. Call ids, worst first."""
    query = select(Call.id, Call.manager_id, Call.at, Call.score).where(
        Call.at >= datetime.combine(first, time.min), Call.at < after(last, "date_to"), Call.score.is_not(None)
    )
    if manager_id is not None:
        query = query.where(Call.manager_id == manager_id)
    days: dict[tuple[int | None, date], list[tuple[float, int]]] = defaultdict(list)
    for call_id, manager, at, score in db.execute(query):
        days[(manager, at.date())].append((score or 0.0, call_id))  # scored: the query says so
    chosen = []
    for calls in days.values():
        calls.sort()
        bands = min(per_day, len(calls))
        for band in range(bands):
            members = calls[band * len(calls) // bands : (band + 1) * len(calls) // bands]
            chosen.append(min(members, key=lambda c: hashlib.sha256(str(c[1]).encode()).digest()))
    return [call_id for _, call_id in sorted(chosen)]
