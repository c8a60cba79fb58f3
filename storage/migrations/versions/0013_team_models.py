"""a team's own pushback model per script pack, refitted from its reviewed calls

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "team_models",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("pack_id", sa.String(100), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("trained_on", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_team_models_pack_id", "team_models", ["pack_id"])


def downgrade() -> None:
    op.drop_index("ix_team_models_pack_id", "team_models")
    op.drop_table("team_models")
