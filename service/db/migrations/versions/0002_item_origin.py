"""Items remember what created them (a job, a crawl entry), so a re-run after a crash stores nothing twice.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 12:32:12.241396
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin", sa.String(length=120), nullable=True))
        batch_op.create_unique_constraint("uq_items_origin", ["origin"])


def downgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_constraint("uq_items_origin", type_="unique")
        batch_op.drop_column("origin")
