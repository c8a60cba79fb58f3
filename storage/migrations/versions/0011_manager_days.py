"""each manager's numbers per day, for the Numbers and team pages

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "manager_days",
        sa.Column("manager_id", sa.Integer(), sa.ForeignKey("managers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("numbers", sa.JSON(), nullable=False),
        sa.Column("latest", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_manager_days_day", "manager_days", ["day"])
    # The days so far are counted by 0014, as the code counts them now (a count here, by today's
    # code, would write columns this table does not have yet).


def downgrade() -> None:
    op.drop_table("manager_days")
