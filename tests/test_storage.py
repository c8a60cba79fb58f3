"""Storage on both databases: SQLite (the embedded default) and the real PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import inspect, select

from storage import StorageError, connect
from storage.models import Call, Manager


def test_a_new_database_gets_every_table_and_reopening_changes_nothing(database: str) -> None:
    sessions = connect(database)
    with sessions() as db:
        tables = set(inspect(db.get_bind()).get_table_names())
    assert {"calls", "transcripts", "reports", "managers", "scripts", "jobs", "alembic_version"} <= tables
    with sessions.begin() as db:
        db.add(Call(content_hash="ab" * 32, audio_key="audio/ab/x.wav", original_name="x.wav",
                    manager=Manager(name="Anna")))  # fmt: skip
    again = connect(database)  # migrating an up-to-date schema keeps the data
    with again() as db:
        call = db.scalar(select(Call))
        assert call is not None and call.manager is not None and call.manager.name == "Anna"


def test_the_migrations_build_exactly_the_models_schema(database: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from storage.models import Base, outside_the_orm

    sessions = connect(database)
    with sessions() as db:
        context = MigrationContext.configure(db.connection(), opts={"include_name": outside_the_orm})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []  # a model change without its migration would show here


def test_upgrading_makes_stored_transcripts_searchable(database: str) -> None:
    from sqlalchemy import create_engine

    from storage import search
    from storage.db import migrate
    from storage.models import Transcript

    if database.startswith("sqlite:///"):
        Path(database.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(database.replace("postgresql://", "postgresql+psycopg://"))
    migrate(engine, "0006")  # a database from before the search index
    # The tables as they were then: only the columns given.
    calls = sa.table("calls", *map(sa.column, ("id", "content_hash", "audio_key", "original_name", "created_at", "at")))
    transcripts = sa.table("transcripts", *map(sa.column, ("call_id", "engine", "model", "language", "created_at")),
                           sa.column("data", Transcript.__table__.c.data.type))  # fmt: skip
    with engine.begin() as connection:
        connection.execute(calls.insert(), {"content_hash": "cd" * 32, "audio_key": "a", "original_name": "x.wav",
                                                     "created_at": datetime(2026, 11, 2), "at": datetime(2026, 11, 2)})  # fmt: skip
        call_id = connection.scalar(select(calls.c.id))
        utterances = [{"speaker": "client", "text": "Our courier is too expensive."}]
        connection.execute(transcripts.insert(), {"call_id": call_id, "engine": "x", "model": "x", "language": "en",
                                                           "data": {"utterances": utterances}, "created_at": datetime(2026, 11, 2)})  # fmt: skip
    engine.dispose()
    sessions = connect(database)
    with sessions() as db:
        dialect = search.dialect(db)
        assert list(db.scalars(select(Call.id).where(Call.id.in_(search.calls_with(dialect, "EXPENSIVE courier"))))) == [call_id]
        assert list(db.scalars(select(Call.id).where(Call.id.in_(search.calls_with(dialect, "cheap courier"))))) == []


def test_upgrading_counts_the_numbers_of_the_calls_stored_before(database: str) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session
    from test_analysis import NOISY_GOOD, report_of

    from storage.db import migrate
    from storage.kpis import kpi_table
    from storage.models import Report, Script

    if database.startswith("sqlite:///"):
        Path(database.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(database.replace("postgresql://", "postgresql+psycopg://"))
    migrate(engine, "0010")  # a database from before the numbers per day
    data = report_of(NOISY_GOOD).model_dump(mode="json")
    with Session(engine) as db, db.begin():
        script = Script(pack_id="b2b_outbound", version=1, title="x", language="en", source="x")
        anna = Manager(name="Anna")
        for i, outcome in enumerate(["won", "lost", "won"]):
            call = Call(content_hash=f"{i:064x}", audio_key="-", original_name=f"{i}.wav", manager=anna,
                        at=datetime(2026, 11, 23, 9 + i), duration=60.0, outcome=outcome, score=data["score"])  # fmt: skip
            db.add(Report(call=call, script=script, score=data["score"], data=data))
            db.flush()
            call.report_id = db.scalar(select(Report.id).where(Report.call_id == call.id))
    engine.dispose()
    with connect(database)() as db:
        [row] = kpi_table(db, "2026-W48")
    assert (row["manager"], row["calls"], row["talk_minutes"], row["conversion"]) == ("Anna", 3, 3.0, 0.667)


def test_upgrading_takes_voicemails_out_of_the_stored_scores(database: str) -> None:
    """Days counted before calls heard as one voice were left out of the scores are counted again
    (0014, per script), and going back leaves days the older code can read (one per manager and day)."""
    from alembic import command, config
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session
    from test_analysis import NOISY_GOOD, report_of

    from analysis.kpi import CallFacts, Numbers
    from storage.db import MIGRATIONS, migrate
    from storage.kpis import kpi_table
    from storage.models import ManagerDay, Report, Script

    if database.startswith("sqlite:///"):
        Path(database.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(database.replace("postgresql://", "postgresql+psycopg://"))
    migrate(engine, "0011")
    good = report_of(NOISY_GOOD).model_dump(mode="json")
    voicemail = report_of([("manager", 0.5, 4.0, "Hi, this is Olga. Please call me back.")]).model_dump(mode="json")
    voicemail |= {"one_voice": True}
    old = Numbers()  # the day as the code before 0012 counted it: the voicemail's score in the average
    with Session(engine) as db, db.begin():
        script = Script(pack_id="b2b_outbound", version=1, title="x", language="en", source="x")
        anna = Manager(name="Anna")
        for i, data in enumerate([good, good, voicemail]):
            at = datetime(2026, 11, 23, 9 + i)
            call = Call(content_hash=f"{i:064x}", audio_key="-", original_name=f"{i}.wav", manager=anna, at=at,
                        duration=60.0, score=data["score"])  # fmt: skip
            db.add(Report(call=call, script=script, score=data["score"], data=data))
            db.flush()
            call.report_id = db.scalar(select(Report.id).where(Report.call_id == call.id))
            old.add(CallFacts("Anna", at, 60.0, data["score"], None, data | {"one_voice": False}))
        stale = old.to_json()
        del stale["one_voice"]
        days = sa.table("manager_days", sa.column("manager_id"), sa.column("day"), sa.column("numbers", sa.JSON()),
                        sa.column("latest"))  # as 0011 made it: one row per manager and day  # fmt: skip
        db.execute(days.insert().values(manager_id=anna.id, day=datetime(2026, 11, 23).date(), numbers=stale, latest=at))
    assert old.average_score is not None and old.average_score < good["score"] - 10
    engine.dispose()
    with connect(database)() as db:
        [row] = kpi_table(db, "2026-W48")
    assert (row["calls"], row["one_voice"], row["average_score"]) == (3, 1, good["score"])
    setup = config.Config()
    setup.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        setup.attributes["connection"] = connection
        command.downgrade(setup, "0011")
        [numbers] = connection.scalars(sa.select(ManagerDay.numbers))
    engine.dispose()
    assert not {"one_voice", "unreliable"} & set(numbers) and numbers["calls"] == 3 and numbers["scored"] == 2


def test_an_unreachable_database_is_one_clear_error() -> None:
    with pytest.raises(StorageError, match=r"database postgresql\+psycopg://postgres@127.0.0.1:1/x: .*refused"):
        connect("postgresql://postgres@127.0.0.1:1/x")


def test_a_review_sample_takes_each_managers_day_in_score_bands(database: str) -> None:
    from datetime import date

    from storage.sampling import sample

    sessions = connect(database)
    with sessions.begin() as db:
        anna, boris = Manager(name="Anna"), Manager(name="Boris")
        at = [(anna, datetime(2026, 11, 30, 8 + i), 10.0 * i) for i in range(9)]
        at += [(boris, datetime(2026, 11, 30, 9), 55.0), (boris, datetime(2026, 11, 30, 10), 65.0),
               (boris, datetime(2026, 11, 29, 9), 75.0), (boris, datetime(2026, 11, 28, 9), 85.0)]  # fmt: skip
        calls = [Call(content_hash=f"{i:064x}", audio_key="-", original_name=f"{i}.wav", manager=who, at=when,
                      score=score) for i, (who, when, score) in enumerate(at)]  # fmt: skip
        db.add_all([*calls, Call(content_hash="f" * 64, audio_key="-", original_name="unscored.wav", manager=anna,
                                 at=datetime(2026, 11, 30, 12))])  # fmt: skip
    with sessions() as db:
        chosen = sample(db, date(2026, 11, 29), date(2026, 11, 30), 3)
        scores = {call.original_name: call.score for call in db.scalars(select(Call).where(Call.id.in_(chosen)))}
        assert chosen == sample(db, date(2026, 11, 29), date(2026, 11, 30), 3)  # the same sample when reopened
    annas = sorted(s for name, s in scores.items() if int(name.removesuffix(".wav")) < 9)
    # One from each third of Anna's day, worst to best; all of Boris's calls on the two days.
    assert len(annas) == 3 and annas[0] < 30 <= annas[1] < 60 <= annas[2]
    assert sorted(s for name, s in scores.items() if int(name.removesuffix(".wav")) >= 9) == [55.0, 65.0, 75.0]
    assert [scores[n] for n in sorted(scores, key=lambda n: scores[n])] == sorted(scores.values())
