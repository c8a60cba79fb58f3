"""the numbers per day count calls with unreliable transcripts apart (a decoding loop, speech
unlike the script's language): not in the score or the rates

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to count again: reports stored before say nothing of their transcript's doubts, and
    a day's numbers without the count read as none."""


def downgrade() -> None:
    """The days lose the count the older code does not know (it would refuse to read them)."""
    days = sa.table("manager_days", sa.column("manager_id"), sa.column("day"), sa.column("pack"),
                    sa.column("numbers", sa.JSON()))  # fmt: skip
    bind = op.get_bind()
    for manager_id, day, pack, numbers in bind.execute(sa.select(days)).all():
        numbers.pop("unreliable", None)
        bind.execute(days.update().where(days.c.manager_id == manager_id, days.c.day == day, days.c.pack == pack)
                     .values(numbers=numbers))  # fmt: skip
