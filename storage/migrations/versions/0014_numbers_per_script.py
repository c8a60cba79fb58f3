"""each manager's numbers per day and script pack: the team and Numbers pages compare managers
within a script, never across

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _table(*pack: sa.Column[str]) -> None:
    op.create_table(
        "manager_days",
        sa.Column("manager_id", sa.Integer(), sa.ForeignKey("managers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        *pack,
        sa.Column("numbers", sa.JSON(), nullable=False),
        sa.Column("latest", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_manager_days_day", "manager_days", ["day"])


def upgrade() -> None:
    op.drop_table("manager_days")
    _table(sa.Column("pack", sa.String(100), primary_key=True))
    from storage import daily  # the days so far, counted per script as the pages count them

    with Session(bind=op.get_bind(), join_transaction_mode="create_savepoint") as db:
        daily.rebuild(db)
        db.commit()


def downgrade() -> None:
    """One row per manager and day again: each day's scripts added up."""
    from analysis.kpi import Numbers

    old = sa.table("manager_days", sa.column("manager_id"), sa.column("day"), sa.column("numbers", sa.JSON()),
                   sa.column("latest", sa.DateTime()))  # fmt: skip
    bind = op.get_bind()
    merged: dict[tuple[int, object], tuple[Numbers, object]] = {}
    for manager_id, day, numbers, latest in bind.execute(sa.select(old)).all():
        total, last = merged.get((manager_id, day), (Numbers(), latest))
        total.merge(Numbers.from_json(numbers))
        merged[manager_id, day] = total, max(last, latest)
    op.drop_table("manager_days")
    _table()
    if merged:
        bind.execute(old.insert(), [{"manager_id": m, "day": d, "numbers": n.to_json(), "latest": latest}
                                    for (m, d), (n, latest) in merged.items()])  # fmt: skip
