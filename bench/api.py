"""API and page latency with 100,000 stored calls: lists, the call detail, p50 and p95.

    python bench/api.py [--calls 100000] [--database URL]

Fills a fresh database (SQLite in a temporary folder by default) with calls,
transcripts, reports and their verdict rows, copied from one real analysed
call with varied managers, dates, scores and verdicts; then times requests
through the real app in-process, the JSON API and the signed-in pages. Target:
p95 under 100 ms for the filtered list and the call detail.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def fill(app, n: int) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import insert, select, update
    from test_analysis import NOISY_GOOD, report_of, transcript

    from storage import daily, search
    from storage.models import Call, Manager, Report, ReportItem, Review, Transcript, User
    from storage.users import add_user

    ctx = app.state.context
    from pipeline.process import report_items
    from pipeline.scripts import register_script

    script_id = register_script(ctx.sessions, "b2b_outbound")
    sample = report_of(NOISY_GOOD)
    data = sample.model_dump(mode="json")
    data.pop("transcript")
    text = transcript(NOISY_GOOD).to_dict()
    rng = random.Random(7)
    start = datetime(2026, 9, 1)
    with ctx.sessions.begin() as db:
        managers = [Manager(name=f"manager{i:02d}") for i in range(40)]
        db.add_all(managers)
        db.flush()
        manager_ids = [m.id for m in managers]
    add_user(ctx.sessions, "manager00", "manager", "bench-pass")
    with ctx.sessions() as db:
        manager_user = db.scalar(select(User.id).where(User.name == "manager00"))
    batch = 5000
    for first in range(0, n, batch):
        with ctx.sessions.begin() as db:
            rows = [{"content_hash": f"{i:064x}", "audio_key": f"audio/{i}.wav", "original_name": f"{i}.wav",
                     "duration": 300.0, "manager_id": rng.choice(manager_ids),
                     "started_at": start + timedelta(minutes=i * 2), "at": start + timedelta(minutes=i * 2),
                     "outcome": rng.choice(["won", "lost", None]), "created_at": start,
                     # a third reviewed, one in a hundred disputed (and half of those answered)
                     "review": (state := rng.choices(["none", "reviewed", "disputed", "answered"], [66, 33, 0.5, 0.5])[0]),
                     "waiting": state in ("none", "disputed")}
                    for i in range(first, min(n, first + batch))]  # fmt: skip
            db.execute(insert(Call), rows)
            ids = list(db.scalars(select(Call.id).where(Call.id > (first and first))))[-len(rows):]
            db.execute(insert(Transcript), [{"call_id": c, "engine": "x", "model": "x", "language": "en",
                                             "data": text, "created_at": start} for c in ids])  # fmt: skip
            for c in ids:  # the words index, with one rarer word per call: client<N>, N of 1000
                said = {"utterances": [*text["utterances"], {"text": f"client{c % 1000}"}]}
                search.index(db, c, said)
            reports = [{"call_id": c, "script_id": script_id, "score": rng.uniform(0, 100), "data": data,
                        "created_at": start} for c in ids]  # fmt: skip
            db.execute(insert(Report), reports)
            report_ids = list(db.scalars(select(Report.id).where(Report.call_id.in_(ids))))
            items = []
            for report_id in report_ids:
                for item in report_items(data):
                    ok = item.ok if rng.random() > 0.2 else not item.ok
                    items.append({"report_id": report_id, "kind": item.kind, "key": item.key, "ok": ok})
            db.execute(insert(ReportItem), items)
            for report_id, call_id, score in db.execute(
                select(Report.id, Report.call_id, Report.score).where(Report.call_id.in_(ids))
            ):
                db.execute(update(Call).where(Call.id == call_id).values(report_id=report_id, score=score))
            states = dict(db.execute(select(Call.id, Call.review).where(Call.id.in_(ids))).all())
            entries = []
            for report_id, call_id, score in db.execute(
                select(Report.id, Report.call_id, Report.score).where(Report.call_id.in_(ids))
            ):
                if states[call_id] in ("disputed", "answered"):
                    entries.append({"call_id": call_id, "report_id": report_id, "user_id": manager_user,
                                    "kind": "dispute", "target": "checkpoint:next_step", "comment": "I did agree a call back.",
                                    "created_at": start})  # fmt: skip
                if states[call_id] in ("reviewed", "answered"):
                    entries.append({"call_id": call_id, "report_id": report_id, "user_id": manager_user,
                                    "kind": "review", "target": "checkpoint:greeting", "verdict": True,
                                    "score_before": score, "score_after": score, "created_at": start})  # fmt: skip
            if entries:
                db.execute(insert(Review), entries)
    with ctx.sessions.begin() as db:  # the rows were written in bulk, past the numbers per day
        daily.rebuild(db)


def timed(client, url: str, headers: dict[str, str], repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--database", help="a database URL (default: SQLite in a temporary folder)")
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--keep", type=Path, help="a data folder to fill once and reuse on later runs")
    parser.add_argument("--only", default="", help="time only the requests whose name holds this")
    args = parser.parse_args()
    from fastapi.testclient import TestClient
    from sqlalchemy import func, select, text

    from api import create_app
    from callqa.settings import Settings
    from storage.models import Call
    from storage.users import add_user, set_password

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        env = {"CALLQA_DATA_DIR": str(folder)} | ({"CALLQA_DATABASE_URL": args.database} if args.database else {})
        app = create_app(Settings.from_env(env))
        with app.state.context.sessions() as db:  # a kept database (or a PostgreSQL one) filled before
            filled = bool(db.scalar(select(func.count()).select_from(Call)))
        started = time.perf_counter()
        if not filled:
            fill(app, args.calls)
            print(f"filled {args.calls} calls in {time.perf_counter() - started:.0f} s")
            engine = app.state.context.sessions.kw["bind"]
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                # The planner's statistics and the visibility map, as autovacuum keeps them.
                connection.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
        if filled:  # a new password gives a new token
            headers = {"Authorization": f"Bearer {set_password(app.state.context.sessions, 'bench', 'bench-pass')}"}
        else:
            headers = {"Authorization": f"Bearer {add_user(app.state.context.sessions, 'bench', 'quality', 'bench-pass')}"}
        gc.freeze()  # as callqa serve does once the app is built
        client = TestClient(app)
        client.post("/login", data={"name": "bench", "password": "bench-pass"})  # the pages' cookie
        urls = {
            "list, newest": "/api/calls",
            "list, one manager, worst first": "/api/calls?manager=manager07&sort=score",
            "list, failed next step, date range": "/api/calls?failed_checkpoint=next_step&date_from=2026-10-01&date_to=2026-10-31",
            "list, price unhandled, by score": "/api/calls?objection=price&handled=false&sort=-score&page=3",
            "list, a rare word (100 calls)": "/api/calls?q=client42",
            "list, two words in every call": "/api/calls?q=delivery%20cost",
            "call detail": f"/api/calls/{args.calls // 2}",
            "page: calls, failed next step, dates": "/calls?failed_checkpoint=next_step&date_from=2026-10-01&date_to=2026-10-31",
            "page: calls, price unhandled": "/calls?objection=price&handled=false&sort=-score&page=3",
            "page: call": f"/calls/{args.calls // 2}",
            "page: one manager's charts": "/managers/manager07",
            "page: the team": "/managers",
            "page: to review (the queue)": "/review",
            "page: to review, one manager": "/review?manager=manager07",
            "page: a sample, 3 per manager, a day": "/review?sample=3&date_from=2026-10-15",
            "page: disputes waiting": "/disputes",
            "page: numbers, a week": "/kpis?period=2026-W42",
        }
        for name, url in urls.items():
            if args.only not in name:
                continue
            times = timed(client, url, headers, args.repeat)
            p95 = statistics.quantiles(times, n=20)[-1]
            print(f"{name:38} p50 {statistics.median(times):6.1f} ms   p95 {p95:6.1f} ms")


if __name__ == "__main__":
    main()
