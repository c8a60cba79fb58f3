"""transcript words: full-text search (FTS5 on SQLite, tsvector + GIN on PostgreSQL), filled

Revision ID: 0007
Revises: 0006
"""

import json

import sqlalchemy as sa
from alembic import op

from storage import search

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    search.create(connection)
    ids = [
        row[0]
        for row in connection.execute(sa.text("SELECT call_id FROM transcripts ORDER BY call_id"))
    ]
    for first in range(0, len(ids), 500):  # a few hundred transcripts in memory at a time
        rows = connection.execute(
            sa.text("SELECT call_id, data FROM transcripts WHERE call_id >= :a AND call_id <= :b"),
            {"a": ids[first], "b": ids[min(first + 499, len(ids) - 1)]},
        )
        for call_id, data in rows.fetchall():
            search.index(connection, call_id, json.loads(data) if isinstance(data, str) else data)


def downgrade() -> None:
    search.drop(op.get_bind())
