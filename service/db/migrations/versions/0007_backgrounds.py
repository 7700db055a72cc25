"""Archive items keep what stays still in their video (per view, per stretch of one shot), so a short
check's frames can be compared with a recording on what moves against *its* background.

Items stored before this have none; they are matched as before (their own foreground hashes).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 14:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "backgrounds",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("views", sa.Text(), nullable=False),
        sa.Column("block_starts", sa.LargeBinary(), nullable=False),
        sa.Column("coefficients", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("item_id"),
    )


def downgrade() -> None:
    op.drop_table("backgrounds")
