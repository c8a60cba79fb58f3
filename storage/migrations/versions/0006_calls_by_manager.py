"""calls by manager: an index for per-manager numbers

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_calls_manager_score", "calls", ["manager_id", "score", "at"])


def downgrade() -> None:
    op.drop_index("ix_calls_manager_score", table_name="calls")
