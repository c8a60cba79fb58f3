"""The KPI table and its drop alerts on generated calls: five weeks of three managers, one of whom
slips in the last week. The calls are stored and analysed by the real pipeline (transcripts as
an 8 kHz recogniser writes them, so no audio is needed)."""

from __future__ import annotations

import csv
import io
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import analysed_calls, run_callqa
from fastapi.testclient import TestClient
from sqlalchemy import select
from test_analysis import NOISY_GOOD, transcript

# The same call going wrong: the price objection is dropped and no next step is agreed.
SLIPPED = [*NOISY_GOOD[:4], ("manager", 16.9, 18.0, "Okay, I see."),
           ("client", 18.5, 19.5, "Yes, goodbye."), ("manager", 20.0, 21.0, "Goodbye.")]  # fmt: skip
WEEKS = ["2026-W44", "2026-W45", "2026-W46", "2026-W47", "2026-W48"]


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Anna and Vera keep their level; Boris slips in W48 (5 of 6 calls go wrong, 4 deals lost)."""
    good, slipped = transcript(NOISY_GOOD).to_dict(), transcript(SLIPPED).to_dict()
    calls = []
    for name in ("Anna", "Boris", "Vera"):
        for week, label in enumerate(WEEKS):
            monday = datetime(2026, 10, 26) + timedelta(weeks=week)
            for i in range(6):
                bad = (name == "Boris" and label == "2026-W48" and i < 5) or (name == "Vera" and i == 0)
                at = monday + timedelta(days=i % 5, hours=9 + i)
                calls.append((name, at, "lost" if bad else "won", slipped if bad else good))
    return analysed_calls(tmp_path_factory.mktemp("kpis"), calls)


def test_a_manager_whose_numbers_fall_is_flagged(team: dict[str, str]) -> None:
    result = run_callqa(team, "report", "--week", "2026-W48", "--json")
    assert result.returncode == 1, result.stderr  # a drop: exit 1, for a cron job's mail
    rows = {r["manager"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert set(rows) == {"Anna", "Boris", "Vera"} and rows["Boris"]["calls"] == 6
    dropped = {d["what"] for d in rows["Boris"]["drops"]}
    assert {"average_score", "handled_share", "conversion", "pass_rate:next_step"} <= dropped
    assert rows["Anna"]["drops"] == [] and rows["Vera"]["drops"] == []  # steady, one bad call a week
    boris = rows["Boris"]
    assert boris["average_score"] < boris["trailing"]["average_score"] - 20
    assert boris["team"]["average_score"] > boris["average_score"]  # the others this week
    assert boris["next_steps"] == 1 and boris["conversion"] == pytest.approx(1 / 6, abs=0.001)
    assert rows["Anna"]["talk_minutes"] == 3.5 and rows["Anna"]["objections"] == 6

    earlier = run_callqa(team, "report", "--week", "2026-W47")
    assert earlier.returncode == 0 and "DROP" not in earlier.stdout and "Boris" in earlier.stdout
    sheet = run_callqa(team, "report", "--week", "2026-W48", "--csv", "-")
    table = list(csv.DictReader(io.StringIO(sheet.stdout)))
    assert [r["manager"] for r in table] == ["Anna", "Boris", "Vera"]
    assert "average_score" in table[1]["drops"] and table[1]["pass_rate:next_step"] == "0.167"
    bad = run_callqa(team, "report", "--week", "2026-W60")
    assert bad.returncode == 2 and "week 2026-W60: no such ISO week" in bad.stderr


def test_a_large_fall_that_is_not_flagged_says_why() -> None:
    """Dave's 57 against his own 95: with two calls far apart (20 and 94) the fall is within
    what chance gives; with one call there is too little to tell. Either way the table says so."""
    from analysis.kpi import Numbers, drops, unflagged

    def scored(*scores: float) -> Numbers:
        return Numbers(calls=len(scores), scored=len(scores), score_sum=sum(scores), score_squares=sum(x * x for x in scores))

    before = scored(93, 95, 97, 95)
    [why] = unflagged(scored(20, 94), before)
    assert drops(scored(20, 94), before) == []
    assert why["what"] == "average_score" and (why["before"], why["now"]) == (95, 57)
    assert why["z"] is not None and -2 < why["z"] and "within what chance gives" in why["why"]
    [alone] = unflagged(scored(57), before)
    assert alone["z"] is None and alone["why"].startswith("too few calls to be sure (1 scored call(s) now, 4 before")
    assert unflagged(scored(94, 96), before) == []  # no fall worth a word
    assert [d["what"] for d in drops(scored(50, 52), before)] == ["average_score"] and unflagged(scored(50, 52), before) == []


def test_the_kpi_table_over_the_api_and_the_page(team: dict[str, str]) -> None:
    from api import create_app
    from callqa.settings import Settings
    from storage.users import add_user

    app = create_app(Settings.from_env(team))
    head = add_user(app.state.context.sessions, "head-of-sales", "admin", "long-password")
    boris = add_user(app.state.context.sessions, "Boris", "manager")
    with TestClient(app) as client:
        latest = client.get("/api/kpis", headers={"Authorization": f"Bearer {head}"}).json()
        assert latest["period"] == "2026-W48" and len(latest["managers"]) == 3
        own = client.get("/api/kpis", params={"period": "2026-W48"}, headers={"Authorization": f"Bearer {boris}"}).json()
        assert [r["manager"] for r in own["managers"]] == ["Boris"]
        sheet = client.get("/api/kpis", params={"period": "2026-W48", "format": "csv"}, headers={"Authorization": f"Bearer {head}"})
        assert sheet.headers["content-type"].startswith("text/csv") and sheet.text.count("\n") == 4
        client.post("/login", data={"name": "head-of-sales", "password": "long-password"})
        page = client.get("/kpis", params={"period": "2026-W48"}).text
        assert 'role="alert"' in page and "Boris: average score fell from" in page and page.count('class="drop"') >= 4
        assert 'type="week" id="week" name="period" value="2026-W48"' in page and 'type="date" id="day"' in page
        nonsense = client.get("/kpis", params={"period": "nonsense"})  # said on the page, beside the pickers
        assert nonsense.status_code == 422 and 'aria-label="Main"' in nonsense.text and 'type="week"' in nonsense.text
        assert 'href="/kpis?period=2026-W47" rel="prev"' in page and 'href="/kpis?period=2026-W49" rel="next"' in page
        first = client.get("/kpis", params={"period": "2026-W44"}).text  # nothing before it to compare with
        assert "Boris: too little history to flag a drop: 6 scored call(s) now, 0 in the 0 period(s) before" in first
        # One definition of "objections handled": the numbers and the manager's weeks agree.
        weeks = client.get("/api/managers/Boris/summary", headers={"Authorization": f"Bearer {head}"}).json()["weeks"]
        [row] = [r for r in latest["managers"] if r["manager"] == "Boris"]
        assert (weeks[-1]["objections"], weeks[-1]["handled_share"]) == (row["objections"], row["handled_share"])
        side = client.get("/managers", params={"weeks": 8}).text  # the team side by side, all five weeks
        rows = {r.split("</a>")[0]: r for r in side.split('<th scope="row"><a href="/managers/')[1:]}
        anna, boris_row = rows['Anna">Anna'], rows['Boris">Boris']
        trend = boris_row.split('aria-label="Average score by week, Boris"')[1].split('points="')[1].split('"')[0]
        assert len(trend.split()) == 5  # one point a week
        assert "<td>100%</td>" in anna and "<td>83%</td>" in boris_row  # deals won: all; 25 of 30
        assert "<td>0 <small>of 30</small></td>" in boris_row  # reviewed
        assert 'class="drop"' not in anna and "team 8" in side  # pass rates against the team's
        boris_page = client.get("/managers/Boris").text  # his weeks, charted and listed
        assert 'aria-label="Deals won per week, %, Boris"' in boris_page and 'aria-label="Objections handled per week, %, Boris"' in boris_page
        won_chart = boris_page.split('aria-label="Deals won per week, %, Boris"')[1].split("</svg>")[0]
        assert won_chart.count("<circle") == 5 and "2026-W48: 16.7" in won_chart  # one point a week, the slip last
        assert boris_page.count('href="/kpis?period=2026-W') == 5


@pytest.mark.parametrize("database", ["postgresql", "sqlite"], indirect=True)
def test_the_numbers_of_a_day_follow_each_change_of_its_calls(database: str, tmp_path: Path) -> None:
    """The pages read each manager's numbers per day (storage.daily): two workers analysing calls
    of the same manager and day at once both count, and so do a review and the purge."""
    from analysis.kpi import Numbers
    from callqa.settings import Settings
    from pipeline.context import Context
    from pipeline.process import analyse_call
    from pipeline.retention import purge
    from pipeline.review import review
    from storage import daily
    from storage.kpis import kpi_table
    from storage.managers import team
    from storage.models import Call, ManagerDay, Script, User
    from storage.users import add_user

    good, slipped = transcript(NOISY_GOOD).to_dict(), transcript(SLIPPED).to_dict()
    day = datetime(2026, 11, 23, 9)
    calls = [("Boris", day + timedelta(minutes=10 * i), "won", slipped if i % 2 else good) for i in range(8)]
    calls.append(("Boris", day - timedelta(days=5), "lost", good))  # an older day, for the purge
    env = analysed_calls(tmp_path, calls, database, analyse=False)
    ctx = Context.from_settings(Settings.from_env(env | {"CALLQA_KEEP_REPORT_DAYS": "30"}))
    with ctx.sessions() as db:
        ids, script = list(db.scalars(select(Call.id).order_by(Call.id))), db.scalar(select(Script.id))
    with ThreadPoolExecutor(2) as pool:  # as two workers would, each in its own transaction
        list(pool.map(lambda call_id: analyse_call(ctx, call_id, script), ids))

    def numbers(period: str = "2026-11-23") -> dict[str, Any]:
        with ctx.sessions() as db:
            return {r["manager"]: r for r in kpi_table(db, period)}.get("Boris", {})

    assert (numbers()["calls"], numbers()["next_steps"]) == (8, 4)
    add_user(ctx.sessions, "olga", "quality")
    with ctx.sessions() as db:
        olga = db.scalars(select(User)).one()
    review(ctx, ids[1], olga, {"checkpoint:next_step": True}, "a call back was agreed")
    assert numbers()["next_steps"] == 5 and numbers()["average_score"] > 60
    with ctx.sessions() as db:
        assert team(db)[0]["reviewed"] == 1 and team(db)[0]["calls"] == 9

    # Two transactions on one manager's day at once: the second counts once the first has committed.
    first, second = ctx.sessions(), ctx.sessions()
    call = first.get_one(Call, ids[0])
    call.outcome = "lost"
    daily.refresh(first, call.manager_id, call.at)

    def other() -> None:
        with second.begin():
            call = second.get_one(Call, ids[2])
            call.outcome = "lost"
            daily.refresh(second, call.manager_id, call.at)

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(1.0)
    assert thread.is_alive()  # it waits for the first
    first.commit()
    thread.join(30)
    assert numbers()["conversion"] == 0.75  # 6 of 8: both changes count

    assert numbers("2026-11-18")["calls"] == 1
    assert purge(ctx, at=day + timedelta(days=27)).calls == [ids[-1]]  # only the older day is over 30 days
    assert numbers("2026-11-18") == {} and numbers()["calls"] == 8
    with ctx.sessions.begin() as db:  # what was kept in step is what counting afresh gives
        kept = {d.day: Numbers.from_json(d.numbers).row() for d in db.scalars(select(ManagerDay))}
        daily.rebuild(db)
        assert {d.day: Numbers.from_json(d.numbers).row() for d in db.scalars(select(ManagerDay))} == kept


def test_a_voicemail_or_a_looped_transcript_counts_as_a_call_but_not_in_the_managers_score(
    tmp_path: Path,
) -> None:
    """A call heard as one voice scores low (no client to answer) through no fault of the manager,
    and a transcript where the recogniser looped scores what it misheard: each counts in calls and
    talk time, and stays out of the score, the pass rates and the objections of the KPI table, the
    team page and the manager's page."""
    from api import create_app
    from callqa.settings import Settings
    from pipeline.context import Context
    from storage.managers import manager_named, summary
    from storage.managers import team as members
    from storage.users import add_user

    good = transcript(NOISY_GOOD).to_dict()
    said = [("manager", 0.5, 4.0, "Hi, this is Olga from Brightline. Please call me back.")]  # a voicemail
    alone = transcript(said).to_dict() | {"role_method": "single-speaker", "role_confidence": 0.5}
    looped = transcript([*NOISY_GOOD[:3], ("client", 13.3, 30.0, "We have a courier. " * 8), *NOISY_GOOD[4:]]).to_dict()
    day = datetime(2026, 11, 23, 9)
    calls = [("Anna", day + timedelta(hours=i), "won", said) for i, said in enumerate([good, good, alone, looped])]
    env = analysed_calls(tmp_path, calls)
    app = create_app(Settings.from_env(env))
    head = add_user(app.state.context.sessions, "head-of-sales", "admin", "long-password")
    with TestClient(app) as client:
        auth = {"Authorization": f"Bearer {head}"}
        [row] = client.get("/api/kpis", params={"period": "2026-W48"}, headers=auth).json()["managers"]
        voicemail = client.get("/api/calls", params={"one_voice": "true"}, headers=auth).json()["items"]
        [alone_score] = [c["score"] for c in voicemail]
        two = {c["file"]: c["score"] for c in client.get("/api/calls", params={"one_voice": "false"}, headers=auth).json()["items"]}
        [good_score] = {two["Anna-0.wav"], two["Anna-1.wav"]}
        assert two["Anna-3.wav"] != good_score  # the looped call, scored on what the recogniser wrote
        assert alone_score < good_score - 20  # what would have dragged Anna down
        assert (row["calls"], row["one_voice"], row["unreliable"], row["talk_minutes"]) == (4, 1, 1, 2.3)
        assert row["average_score"] == round(good_score, 1)
        assert row["pass_rate"]["next_step"] == 1.0 and row["objections"] == 2 and row["next_steps"] == 2
        sheet = client.get("/api/kpis", params={"period": "2026-W48", "format": "csv"}, headers=auth).text
        [line] = csv.DictReader(io.StringIO(sheet))
        assert (line["one_voice"], line["unreliable"]) == ("1", "1")
        client.post("/login", data={"name": "head-of-sales", "password": "long-password"})
        kpis = client.get("/kpis", params={"period": "2026-W48"}).text
        assert "(1 one voice)" in kpis and "(1 unreliable transcript)" in kpis
        page = client.get("/managers/Anna").text
        assert f"<td>2026-11-23</td><td>4</td><td>{round(good_score, 1)}</td>" in page
    ctx = Context.from_settings(Settings.from_env(env))
    with ctx.sessions() as db:
        anna = manager_named(db, "Anna")
        assert anna is not None
        numbers = summary(db, anna)
        [week] = numbers["weeks"]
        assert (week["calls"], week["average_score"], week["objections"]) == (4, round(good_score, 1), 2)
        assert numbers["checkpoint_pass_rate"]["next_step"] == {"calls": 2, "rate": 1.0}
        [member] = members(db)
        assert (member["calls"], member["average_score"], member["pass_rate"]["next_step"]["calls"]) == (4, round(good_score, 1), 2)
