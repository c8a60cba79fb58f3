"""the review queue: each call's review state, the report as reviewed, answers to disputes

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("review", sa.String(10), nullable=False, server_default="none"))
        batch.add_column(sa.Column("waiting", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.create_index("ix_calls_review", ["review"])
        batch.create_index("ix_calls_waiting_score", ["waiting", "score"])
        batch.create_index("ix_calls_manager_waiting", ["manager_id", "waiting", "score"])
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("reviewed", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=True))
    with op.batch_alter_table("reviews") as batch:
        batch.add_column(sa.Column("answers", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_reviews_answers", "reviews", ["answers"], ["id"], ondelete="SET NULL")
        batch.create_index("ix_reviews_answers", ["answers"])
    # The history so far: a review answered the latest earlier dispute of its target, and each
    # call's state follows (storage.reviews.review_state).
    op.execute(
        "UPDATE reviews SET answers = (SELECT max(d.id) FROM reviews d WHERE d.call_id = reviews.call_id"
        " AND d.kind = 'dispute' AND d.target = reviews.target AND d.id < reviews.id) WHERE kind = 'review'"
    )
    op.execute("UPDATE calls SET review = 'reviewed' WHERE id IN (SELECT call_id FROM reviews WHERE kind = 'review')")
    op.execute("UPDATE calls SET review = 'answered' WHERE id IN (SELECT call_id FROM reviews WHERE kind = 'dispute')")
    op.execute(
        "UPDATE calls SET review = 'disputed' WHERE id IN (SELECT d.call_id FROM reviews d WHERE d.kind = 'dispute'"
        " AND NOT EXISTS (SELECT 1 FROM reviews a WHERE a.answers = d.id))"
    )
    op.execute("UPDATE calls SET waiting = (review IN ('none', 'disputed'))")


def downgrade() -> None:
    with op.batch_alter_table("reviews") as batch:
        batch.drop_index("ix_reviews_answers")
        batch.drop_constraint("fk_reviews_answers", type_="foreignkey")
        batch.drop_column("answers")
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("reviewed")
    with op.batch_alter_table("calls") as batch:
        batch.drop_index("ix_calls_manager_waiting")
        batch.drop_index("ix_calls_waiting_score")
        batch.drop_index("ix_calls_review")
        batch.drop_column("waiting")
        batch.drop_column("review")
