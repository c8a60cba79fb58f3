"""Each manager's numbers per day and script pack, kept in step with the calls.

The Numbers and team pages add up a few rows per manager and day (``manager_days``) instead of
reading every report of the period. Whatever changes a call's numbers (its analysis, a review, a
dispute, the purge) calls ``refresh`` for the call's manager and day, in the same transaction:
the day is counted again from its calls, so it cannot drift from them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from analysis.kpi import CallFacts, Numbers
from storage.models import Call, Manager, ManagerDay, Report, Script


def refresh(db: Session, manager_id: int | None, at: datetime) -> None:
    """Count the manager's day of ``at`` again from its analysed calls, per script pack (none:
    the rows go)."""
    if manager_id is None:
        return
    # One refresh of a manager at a time (PostgreSQL): the second counts after the first commits.
    # NO KEY UPDATE, so that storing a new call of the manager (a key share) is not held up.
    db.execute(select(Manager.id).where(Manager.id == manager_id).with_for_update(key_share=True))
    day = at.date()
    start = datetime.combine(day, datetime.min.time())
    query = _calls().where(Call.manager_id == manager_id, Call.at >= start, Call.at < start + timedelta(days=1))
    db.execute(delete(ManagerDay).where(ManagerDay.manager_id == manager_id, ManagerDay.day == day))
    _store(db, _count(db, query))


def rebuild(db: Session) -> int:
    """Count every manager's every day again (after a bulk load, or a migration): the rows written."""
    db.execute(delete(ManagerDay))
    return _store(db, _count(db, _calls()))


Counted = dict[tuple[int, date, str], tuple[Numbers, datetime]]


def _count(db: Session, query: Select[Any]) -> Counted:
    by: Counted = {}
    for manager_id, pack, call in _facts(db, query):
        numbers, latest = by.get((manager_id, call.at.date(), pack), (Numbers(), call.at))
        numbers.add(call)
        by[manager_id, call.at.date(), pack] = numbers, max(latest, call.at)
    return by


def _store(db: Session, counted: Counted) -> int:
    db.add_all(ManagerDay(manager_id=m, day=d, pack=p, numbers=n.to_json(), latest=latest)
               for (m, d, p), (n, latest) in counted.items())  # fmt: skip
    db.flush()
    return len(counted)


def days(
    db: Session, first: date, last: date, pack: str | None = None
) -> Iterator[tuple[int, str, date, Numbers, datetime]]:
    """Each manager's stored days from ``first`` to ``last`` (of script ``pack`` only; None: every
    script's, a day once per script): id, name, day, numbers, last call."""
    query = (
        select(ManagerDay.manager_id, Manager.name, ManagerDay.day, ManagerDay.numbers, ManagerDay.latest)
        .join(Manager, Manager.id == ManagerDay.manager_id)
        .where(ManagerDay.day >= first, ManagerDay.day <= last)
    )  # fmt: skip
    if pack is not None:
        query = query.where(ManagerDay.pack == pack)
    for manager_id, name, day, numbers, latest in db.execute(query):
        yield manager_id, name, day, Numbers.from_json(numbers), latest


def packs(db: Session, manager_id: int | None = None) -> list[str]:
    """The script packs that have numbers (of ``manager_id``'s calls only), the most used first
    (by days of a manager's calls: one row each, counted without reading the numbers)."""
    used = func.count()
    query = select(ManagerDay.pack, used).group_by(ManagerDay.pack).order_by(used.desc(), ManagerDay.pack)
    if manager_id is not None:
        query = query.where(ManagerDay.manager_id == manager_id)
    return list(db.scalars(query))


def _calls() -> Select[Any]:
    """Every analysed call of a manager, with what its numbers need (the report as reviewed) and
    the script pack it was scored against."""
    return (
        select(Call.manager_id, Script.pack_id, Manager.name, Call.at, Call.duration, Call.score, Call.outcome,
               Call.review, Report.reviewed, Report.data)
        .join(Manager, Manager.id == Call.manager_id)
        .join(Report, Report.id == Call.report_id)
        .join(Script, Script.id == Report.script_id)
        .where(Call.score.is_not(None))
    )  # fmt: skip


def _facts(db: Session, query: Select[Any]) -> Iterator[tuple[int, str, CallFacts]]:
    for manager_id, pack, name, at, duration, score, outcome, review, reviewed, data in db.execute(query):
        yield manager_id, pack, CallFacts(name, at, duration or 0.0, score, outcome, reviewed or data, review != "none")
