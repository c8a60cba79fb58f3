"""The KPI table read from storage (see ``analysis.kpi``): the command line, the API and the page."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis.kpi import TRAILING, Numbers, Row, period_of, table
from callqa.errors import InputError
from storage import daily
from storage.csvtext import csv_text
from storage.days import AHEAD, check_day
from storage.models import Call, Manager

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def bounds(period: str) -> tuple[str, date, date]:
    """``2026-W48`` or ``2026-11-27``: the kind (week or day), its first and its last day."""
    if match := _WEEK.match(period):
        try:
            first = date.fromisocalendar(int(match[1]), int(match[2]), 1)
        except ValueError:
            raise InputError(f"week {period}: no such ISO week") from None
        return "week", check_day(first, "week"), first + timedelta(days=6)
    try:
        day = date.fromisoformat(period)
    except ValueError:
        raise InputError(f"period {period!r}: give a week as 2026-W48 or a day as 2026-11-27") from None
    return "day", check_day(day, "period"), day


def kpi_table(db: Session, period: str, manager_id: int | None = None, pack: str | None = None) -> list[Row]:
    """Every manager's numbers for ``period``, their trailing average, the team's, and drops; of the
    calls scored against script ``pack`` (None: every script's)."""
    kind, first, last = bounds(period)
    since = first - timedelta(weeks=TRAILING) if kind == "week" else first - timedelta(days=3 * TRAILING)
    by: dict[str, dict[str, Numbers]] = defaultdict(lambda: defaultdict(Numbers))
    for _, name, day, numbers, _ in daily.days(db, since, last, pack):
        by[name][period_of(day, kind)].merge(numbers)
    rows = table(by, period)
    if manager_id is not None:
        own = db.scalar(select(Manager.name).where(Manager.id == manager_id))
        rows = [r for r in rows if r["manager"] == own]
    return rows


def newest_call(db: Session) -> datetime:
    """When the newest call took place (now when there is none). A call stamped further ahead
    than a start may lie (one stored before starts were checked) is passed over."""
    newest = db.scalar(select(func.max(Call.at)).where(Call.at <= datetime.now() + AHEAD))
    return newest or datetime.now()


def latest_week(db: Session) -> str:
    """The ISO week of the newest call (this week when there is none)."""
    iso = newest_call(db).isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def to_csv(rows: list[Row]) -> str:
    """One row per manager: the numbers, the trailing and team averages of the score, pass rates
    per checkpoint, and the drops."""
    stages = sorted({k for r in rows for k in r["pass_rate"]})
    columns = ["manager", "period", "calls", "one_voice", "unreliable", "talk_minutes", "average_duration", "average_score",
               "trailing_score", "team_score", "objections", "handled_share", "stuck_seconds",
               "next_steps", "conversion", *(f"pass_rate:{s}" for s in stages), "drops"]  # fmt: skip
    return csv_text(columns, ({**r,
                               "trailing_score": r["trailing"]["average_score"] if r["trailing"] else None,
                               "team_score": r["team"]["average_score"] if r["team"] else None,
                               **{f"pass_rate:{s}": r["pass_rate"].get(s) for s in stages},
                               "drops": "; ".join(f"{d['what']} {d['before']} -> {d['now']}" for d in r["drops"])}
                              for r in rows))  # fmt: skip

