"""the reviews that answer a dispute, indexed alone: over every review (most answer none) the
statistics called the index useless, and the disputes inbox read every review

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_reviews_answers", table_name="reviews")
    answered = sa.text("answers IS NOT NULL")
    op.create_index("ix_reviews_answered", "reviews", ["answers"], sqlite_where=answered, postgresql_where=answered)


def downgrade() -> None:
    op.drop_index("ix_reviews_answered", table_name="reviews")
    op.create_index("ix_reviews_answers", "reviews", ["answers"])
