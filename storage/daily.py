"""Each manager's numbers per day, kept in step with the calls.

The Numbers and team pages add up a few rows per manager and day (``manager_days``) instead of
reading every report of the period. Whatever changes a call's numbers (its analysis, a review, a
dispute, the purge) calls ``refresh`` for the call's manager and day, in the same transaction:
the day is counted again from its calls, so it cannot drift from them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from analysis.kpi import CallFacts, Numbers
from storage.models import Call, Manager, ManagerDay, Report


def refresh(db: Session, manager_id: int | None, at: datetime) -> None:
    """Count the manager's day of ``at`` again from its analysed calls (none: the row goes)."""
    if manager_id is None:
        return
    # One refresh of a manager at a time (PostgreSQL): the second counts after the first commits.
    # NO KEY UPDATE, so that storing a new call of the manager (a key share) is not held up.
    db.execute(select(Manager.id).where(Manager.id == manager_id).with_for_update(key_share=True))
    day = at.date()
    start = datetime.combine(day, datetime.min.time())
    query = _calls().where(Call.manager_id == manager_id, Call.at >= start, Call.at < start + timedelta(days=1))
    numbers, latest = Numbers(), None
    for _, call in _facts(db, query):
        numbers.add(call)
        latest = max(latest or call.at, call.at)
    db.execute(delete(ManagerDay).where(ManagerDay.manager_id == manager_id, ManagerDay.day == day))
    if latest is not None:
        db.add(ManagerDay(manager_id=manager_id, day=day, numbers=numbers.to_json(), latest=latest))
    db.flush()


def rebuild(db: Session) -> int:
    """Count every manager's every day again (after a bulk load, or a migration): the rows written."""
    db.execute(delete(ManagerDay))
    by: dict[tuple[int, date], tuple[Numbers, datetime]] = {}
    for manager_id, call in _facts(db, _calls()):
        numbers, latest = by.get((manager_id, call.at.date()), (Numbers(), call.at))
        numbers.add(call)
        by[manager_id, call.at.date()] = numbers, max(latest, call.at)
    db.add_all(ManagerDay(manager_id=m, day=d, numbers=n.to_json(), latest=latest) for (m, d), (n, latest) in by.items())
    db.flush()
    return len(by)


def days(db: Session, first: date, last: date) -> Iterator[tuple[int, str, date, Numbers, datetime]]:
    """Each manager's stored days from ``first`` to ``last``: id, name, day, numbers, last call."""
    rows = db.execute(
        select(ManagerDay.manager_id, Manager.name, ManagerDay.day, ManagerDay.numbers, ManagerDay.latest)
        .join(Manager, Manager.id == ManagerDay.manager_id)
        .where(ManagerDay.day >= first, ManagerDay.day <= last)
    )  # fmt: skip
    for manager_id, name, day, numbers, latest in rows:
        yield manager_id, name, day, Numbers.from_json(numbers), latest


def _calls() -> Select[Any]:
    """Every analysed call of a manager, with what its numbers need (the report as reviewed)."""
    return (
        select(Call.manager_id, Manager.name, Call.at, Call.duration, Call.score, Call.outcome, Call.review,
               Report.reviewed, Report.data)
        .join(Manager, Manager.id == Call.manager_id)
        .join(Report, Report.id == Call.report_id)
        .where(Call.score.is_not(None))
    )  # fmt: skip


def _facts(db: Session, query: Select[Any]) -> Iterator[tuple[int, CallFacts]]:
    for manager_id, name, at, duration, score, outcome, review, reviewed, data in db.execute(query):
        yield manager_id, CallFacts(name, at, duration or 0.0, score, outcome, reviewed or data, review != "none")
