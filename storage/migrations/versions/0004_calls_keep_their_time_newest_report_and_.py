"""calls keep their time, newest report and score

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("report_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("score", sa.Double(), nullable=True))
    # Fill them for the calls stored before: when, newest report, its (reviewed) score.
    op.execute("UPDATE calls SET at = COALESCE(started_at, created_at)")
    op.execute(
        "UPDATE calls SET report_id = (SELECT MAX(id) FROM reports WHERE reports.call_id = calls.id)"
    )
    op.execute(
        "UPDATE calls SET score = (SELECT COALESCE(reviewed_score, score) FROM reports "
        "WHERE reports.id = calls.report_id)"
    )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.alter_column("at", nullable=False)
        batch_op.create_index(batch_op.f("ix_calls_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_calls_score"), ["score"], unique=False)
        batch_op.create_foreign_key(
            "fk_calls_report_id", "reports", ["report_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_constraint("fk_calls_report_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_calls_score"))
        batch_op.drop_index(batch_op.f("ix_calls_at"))
        batch_op.drop_column("score")
        batch_op.drop_column("report_id")
        batch_op.drop_column("at")
