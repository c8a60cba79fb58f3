"""The team page and a manager's page: scores and checkpoint pass rates over time, recent calls."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from api.deps import DbDep, PageDep, StaffPage, own_manager, visible_manager
from api.pages import charts
from api.pages.calls import script_choice
from api.pages.templating import render
from storage.calls import CallQuery, search_calls
from storage.kpis import newest_call
from storage.managers import summary, team, team_rates

router = APIRouter()


@router.get("/managers", response_class=HTMLResponse)
def team_page(
    request: Request, db: DbDep, session: StaffPage, weeks: Annotated[int, Query(ge=1, le=104)] = 4,
    script: Annotated[str | None, Query(max_length=100)] = None,
) -> HTMLResponse:  # fmt: skip
    """The managers side by side over the last ``weeks`` weeks (to the newest call), within one
    script: ``script``, or the most used (by days of calls)."""
    choice = script_choice(db, script)
    newest = newest_call(db)
    members = team(db, (newest - timedelta(weeks=weeks)).date(), choice.pack)
    trends = {m["name"]: charts.sparkline([s / 100 for s in m["weekly_scores"]], f"Average score by week, {m['name']}")
              for m in members}  # fmt: skip
    return render(request, "managers.html", session, section="managers", team=members, weeks=weeks, trends=trends,
                  rates=team_rates(members), titles=choice.checkpoints, choice=choice)  # fmt: skip


@router.get("/managers/{name:path}", response_class=HTMLResponse)
def manager_page(
    name: str, request: Request, db: DbDep, session: PageDep, script: Annotated[str | None, Query(max_length=100)] = None
) -> HTMLResponse:
    """One manager's numbers over time, of one script's calls (``script``, or the one they used on
    the most days), and their recent calls."""
    manager = visible_manager(db, session.user, name)
    choice = script_choice(db, script, manager.id)
    numbers = summary(db, manager, choice.pack if len(choice.packs) > 1 else None)  # one: no filter to pay for
    titles = choice.checkpoints
    days = [
        (d["date"], d["average_score"]) for d in numbers["days"] if d["average_score"] is not None
    ]
    rates = [(titles.get(key, key), r["rate"], r["calls"])
             for key, r in numbers["checkpoint_pass_rate"].items()]  # fmt: skip
    weeks = {titles.get(key, key): (charts.sparkline([w["rate"] for w in series], f"{titles.get(key, key)} by week"), series)
             for key, series in numbers["checkpoint_weeks"].items()}  # fmt: skip
    recent, total = search_calls(db, CallQuery(manager=name, per_page=20), own_manager(session.user))
    kpi_weeks = numbers["weeks"]

    def per_week(key: Literal["handled_share", "conversion"], label: str) -> Markup:
        points = [(w["period"], 100 * v) for w in kpi_weeks if (v := w[key]) is not None]
        return charts.score_line(points, f"{label} per week, %, {manager.name}")

    return render(request, "manager.html", session, section="managers", manager_name=manager.name, numbers=numbers,
                  score_chart=charts.score_line(days, f"Average score per day, {manager.name}"),
                  rate_chart=charts.rate_bars(rates, f"Checkpoint pass rates, {manager.name}"),
                  weeks=weeks, recent=recent, total=total, kpi_weeks=kpi_weeks,
                  handled_chart=per_week("handled_share", "Objections handled"),
                  conversion_chart=per_week("conversion", "Deals won"), objection_titles=choice.objections, choice=choice)  # fmt: skip
