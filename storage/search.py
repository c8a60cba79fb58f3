"""Words search in transcripts: SQLite's FTS5, or PostgreSQL's tsvector with a GIN index.

One row per call, the text of all its utterances. Both sides fold case and match whole words
in any language (no stemming: "ship" does not find "shipping"); every word asked for must occur.
The table lives outside the ORM, since its definition differs per database (migration 0007).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

TABLE = "transcript_words"
_WORD = re.compile(r"\w+")


def create(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text(
            f"CREATE TABLE {TABLE} (call_id integer PRIMARY KEY REFERENCES calls(id) ON DELETE CASCADE, "
            "body text NOT NULL, doc tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED)"
        ))  # fmt: skip
        connection.execute(text(f"CREATE INDEX ix_{TABLE}_doc ON {TABLE} USING gin (doc)"))
    else:
        connection.execute(text(
            f"CREATE VIRTUAL TABLE {TABLE} USING fts5(body, tokenize = 'unicode61 remove_diacritics 2')"
        ))  # fmt: skip


def drop(connection: Connection) -> None:
    connection.execute(text(f"DROP TABLE {TABLE}"))


def body(transcript: dict[str, Any]) -> str:
    return "\n".join(u["text"] for u in transcript.get("utterances", ()))


def index(db: Session | Connection, call_id: int, transcript: dict[str, Any]) -> None:
    """Make the call findable by the words of its transcript (again, if it had some)."""
    if dialect(db) == "postgresql":
        db.execute(text(f"INSERT INTO {TABLE} (call_id, body) VALUES (:id, :body) "
                        "ON CONFLICT (call_id) DO UPDATE SET body = excluded.body"),
                   {"id": call_id, "body": body(transcript)})  # fmt: skip
        return
    db.execute(text(f"DELETE FROM {TABLE} WHERE rowid = :id"), {"id": call_id})
    db.execute(text(f"INSERT INTO {TABLE} (rowid, body) VALUES (:id, :body)"),
               {"id": call_id, "body": body(transcript)})  # fmt: skip


def dialect(db: Session | Connection) -> str:
    return (db.get_bind() if isinstance(db, Session) else db).dialect.name


def words(query: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(query)][:20]


def calls_with(dialect: str, query: str) -> Any:
    """A subquery of the ids of calls whose transcripts hold every word of ``query``."""
    found = words(query)
    if dialect == "postgresql":
        return text(
            f"SELECT call_id FROM {TABLE} WHERE doc @@ plainto_tsquery('simple', :q)"
        ).bindparams(q=" ".join(found))
    return text(f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH :q").bindparams(
        q=" ".join(f'"{w}"' for w in found)
    )


def forget(db: Session | Connection, call_id: int) -> None:
    """The call is no longer findable by its words (its transcript is gone)."""
    column = "call_id" if dialect(db) == "postgresql" else "rowid"
    db.execute(text(f"DELETE FROM {TABLE} WHERE {column} = :id"), {"id": call_id})
