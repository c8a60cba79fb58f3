"""Per manager: the team's list, and one manager's numbers over time (days, ISO weeks, pass rates)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any, TypedDict

from sqlalchemy import Integer, case, cast, func, select
from sqlalchemy.orm import Session

from analysis.kpi import Numbers
from storage import daily
from storage.calls import unscored
from storage.models import Call, Manager, ManagerDay, Report, ReportItem, Script


class Member(TypedDict):
    name: str
    calls: int
    average_score: float | None
    latest: datetime | None  # the newest call
    weekly_scores: list[float]  # the average score per ISO week, oldest first
    pass_rate: dict[str, Rate]  # per checkpoint
    objections: int  # objection types raised, once per call
    handled_share: float | None
    conversion: float | None  # won of won and lost
    reviewed: int  # calls a reviewer has looked at


class Day(TypedDict):
    date: str
    calls: int
    average_score: float | None


class Week(TypedDict):
    period: str  # 2026-W48
    calls: int
    talk_minutes: float
    average_score: float | None  # None: every call of the week was heard as one voice
    objections: int
    handled_share: float | None
    next_steps: int
    conversion: float | None


class Rate(TypedDict):
    calls: int
    rate: float


class WeekRate(Rate):
    week: str


class Summary(TypedDict):
    """One manager's numbers over time, by day and ISO week, and pass rates per item."""

    manager: str
    days: list[Day]
    weeks: list[Week]
    checkpoint_pass_rate: dict[str, Rate]
    checkpoint_weeks: dict[str, list[WeekRate]]
    objections_handled: dict[str, Rate]


def manager_named(db: Session, name: str) -> Manager | None:
    return db.scalar(select(Manager).where(Manager.name == name))


def manager_for(db: Session, name: str) -> Manager:
    """The manager of that name, added when new."""
    manager = manager_named(db, name)
    if manager is None:
        manager = Manager(name=name)
        db.add(manager)
    return manager


def manager_names(db: Session) -> list[str]:
    return list(db.scalars(select(Manager.name).order_by(Manager.name)))


def summary(db: Session, manager: Manager, pack: str | None = None) -> Summary:
    """The manager's numbers per day and week, of the calls scored against script ``pack`` (None:
    every script's). Calls heard as one voice or with a transcript in doubt count as calls, but not
    in the scores or the rates (``analysis.kpi``)."""
    day = func.date(func.coalesce(Call.started_at, Call.created_at))  # SQLite and PostgreSQL alike
    won = func.sum(case((Call.outcome == "won", 1), else_=0))
    decided = func.sum(case((Call.outcome.in_(("won", "lost")), 1), else_=0))
    apart = unscored(Call.report_id)
    score = case((apart, None), else_=Call.score)
    mine = [Call.manager_id == manager.id, Call.report_id.is_not(None)]
    if pack is not None:
        mine.append(Call.report_id.in_(select(Report.id).join(Script, Script.id == Report.script_id)
                                       .where(Script.pack_id == pack)))  # fmt: skip
    days = list(db.execute(
        select(day, func.count(), func.avg(score), func.sum(Call.duration), won, decided, func.count(score))
        .where(*mine)
        .group_by(day).order_by(day)
    ))  # fmt: skip
    items = db.execute(  # the verdicts of each call's current report, per day
        select(day, ReportItem.kind, ReportItem.key, func.count(), func.sum(cast(ReportItem.ok, Integer)))
        .join(Call, Call.report_id == ReportItem.report_id)
        .where(*mine, ReportItem.kind.in_(("checkpoint", "objection")), ~apart)
        .group_by(day, ReportItem.kind, ReportItem.key)
    )  # fmt: skip
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    weekly: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for when, kind, key, count, ok in items:
        totals[kind, key][0] += count
        totals[kind, key][1] += ok or 0
        name = key if kind == "checkpoint" else "objection:*"  # objections per week, all types together
        weekly[name][_week(when)][0] += count
        weekly[name][_week(when)][1] += ok or 0
    rates: dict[str, dict[str, Rate]] = {"checkpoint": {}, "objection": {}}
    for (kind, key), (count, ok) in sorted(totals.items()):
        rates[kind][key] = {"calls": count, "rate": round(ok / count, 3)}
    objections = weekly.pop("objection:*", {})
    return {
        "manager": manager.name,
        "days": [{"date": str(d), "calls": n, "average_score": round(float(a), 1) if a is not None else None}
                 for d, n, a, *_ in days],
        "weeks": _weeks(days, objections, weekly.get("next_step", {})),
        "checkpoint_pass_rate": rates["checkpoint"],
        "checkpoint_weeks": {key: [{"week": w, "calls": n, "rate": round(ok / n, 3)}
                                   for w, (n, ok) in sorted(weeks.items())]
                             for key, weeks in sorted(weekly.items())},
        "objections_handled": rates["objection"],
    }  # fmt: skip


def _week(day: Any) -> str:
    iso = date.fromisoformat(str(day)).isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def _weeks(days: list[Any], objections: dict[str, list[int]], next_steps: dict[str, list[int]]) -> list[Week]:
    """Key numbers per ISO week: calls, talk, score, objection types handled, next steps, deals won."""
    # calls, seconds, score sum, won, decided, scored
    sums: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0, 0, 0])
    for d, n, average, seconds, won, decided, scored in days:
        week = sums[_week(d)]
        week[0] += n
        week[1] += float(seconds or 0)
        week[2] += float(average or 0) * scored
        week[3] += won or 0
        week[4] += decided or 0
        week[5] += scored
    return [{"period": w, "calls": int(n), "talk_minutes": round(seconds / 60, 1),
             "average_score": round(score / scored, 1) if scored else None,
             "objections": objections.get(w, [0, 0])[0],
             "handled_share": round(objections[w][1] / objections[w][0], 3) if objections.get(w, [0])[0] else None,
             "next_steps": next_steps.get(w, [0, 0])[1],
             "conversion": round(won / decided, 3) if decided else None}
            for w, (n, seconds, score, won, decided, scored) in sorted(sums.items())]  # fmt: skip


def team(db: Session, since: date = date.min, pack: str | None = None) -> list[Member]:
    """Every manager side by side, over the days from ``since`` (of the calls scored against script
    ``pack``; None: every script's): calls scored, average score and
    its weekly averages, pass rate per checkpoint, objection types handled (each counted once per
    call, as the score does), deals won of those decided, calls reviewed."""
    managers = select(Manager.id, Manager.name).order_by(Manager.name)
    if pack is not None:  # those who sell it
        managers = managers.where(Manager.id.in_(select(ManagerDay.manager_id).where(ManagerDay.pack == pack)))
    names = dict(db.execute(managers).all())
    weeks: dict[int, dict[str, Numbers]] = {manager_id: defaultdict(Numbers) for manager_id in names}
    latest: dict[int, datetime] = {}
    for manager_id, _, day, numbers, last in daily.days(db, since, date.max, pack):
        weeks[manager_id][_week(day)].merge(numbers)
        latest[manager_id] = max(latest.get(manager_id, last), last)
    members = []
    for manager_id, name in names.items():
        total = Numbers()
        for numbers in weeks[manager_id].values():
            total.merge(numbers)
        row = total.row()
        members.append(Member(
            name=name, calls=total.calls, average_score=row["average_score"], latest=latest.get(manager_id),
            weekly_scores=[round(n.score_sum / n.scored, 1) for _, n in sorted(weeks[manager_id].items()) if n.scored],
            pass_rate={key: {"calls": n, "rate": round(ok / n, 3)} for key, (ok, n) in sorted(total.passed.items()) if n},
            objections=total.objections, handled_share=row["handled_share"], conversion=row["conversion"],
            reviewed=total.reviewed,
        ))  # fmt: skip
    return members


def team_rates(members: list[Member]) -> dict[str, float]:
    """The whole team's pass rate per checkpoint, from its members' rates."""
    sums: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    for m in members:
        for key, r in m["pass_rate"].items():
            sums[key][0] += r["calls"]
            sums[key][1] += r["rate"] * r["calls"]
    return {key: round(ok / n, 3) for key, (n, ok) in sorted(sums.items()) if n}
