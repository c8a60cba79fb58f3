"""Storage on both databases: SQLite (the embedded default) and the real PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select

from callqa.storage import StorageError, connect
from callqa.storage.models import Call, Manager


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

    from callqa.storage.models import Base

    sessions = connect(database)
    with sessions() as db:
        differences = compare_metadata(MigrationContext.configure(db.connection()), Base.metadata)
    assert differences == []  # a model change without its migration would show here


def test_an_unreachable_database_is_one_clear_error() -> None:
    with pytest.raises(StorageError, match=r"database postgresql\+psycopg://postgres@127.0.0.1:1/x: .*refused"):
        connect("postgresql://postgres@127.0.0.1:1/x")
