"""Opening the database: SQLite by default, PostgreSQL by URL, always migrated to the latest schema."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from callqa.errors import CallqaError
from storage.files import private_folder

MIGRATIONS = Path(__file__).parent / "migrations"


class StorageError(CallqaError):
    """The database cannot be reached or used; the message says which and why."""


def connect(url: str) -> sessionmaker[Session]:
    """A session factory for ``url``, with the schema migrated to the latest version."""
    engine = _engine(url)
    try:
        migrate(engine)
    except OperationalError as error:
        raise StorageError(f"database {engine.url.render_as_string()}: {error.orig}") from None
    return sessionmaker(engine, expire_on_commit=False)


def ping(db: Session) -> None:
    """Raise unless the database answers."""
    db.execute(text("SELECT 1"))


def _engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        private_folder(path.parent)
        if str(path) != ":memory:" and not path.exists():  # SQLite gives its journal and WAL files the database's mode
            path.touch(mode=0o600)
            path.chmod(0o600)
        engine = create_engine(url, connect_args={"timeout": 30}, json_serializer=_json)

        @event.listens_for(engine, "connect")
        def _pragmas(connection, _record):  # type: ignore[no-untyped-def]
            # WAL lets the batch write while others read; foreign keys are off by default in SQLite.
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA foreign_keys=ON")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, json_serializer=_json)


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)  # readable, and searchable as text, in every language


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to the latest Alembic revision (a new database gets every table)."""
    # lazy: Alembic takes 0.7 s to import: only when the database is migrated
    from alembic import command, config

    setup = config.Config()
    setup.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        setup.attributes["connection"] = connection
        command.upgrade(setup, revision)
