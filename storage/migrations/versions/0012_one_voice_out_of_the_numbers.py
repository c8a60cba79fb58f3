"""the numbers per day count calls heard as one voice apart: not in the score or the rates

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """The days are counted again by 0014, as the code counts them now."""


def downgrade() -> None:
    """The days lose the count the older code does not know (it would refuse to read them)."""
    days = sa.table("manager_days", sa.column("manager_id"), sa.column("day"), sa.column("numbers", sa.JSON()))
    bind = op.get_bind()
    for manager_id, day, numbers in bind.execute(sa.select(days)).all():
        numbers.pop("one_voice", None)
        numbers.pop("unreliable", None)  # 0014's downgrade writes the days as the code counts them now
        bind.execute(days.update().where(days.c.manager_id == manager_id, days.c.day == day).values(numbers=numbers))
