"""Every upload keeps its own claim, apart from provenance; an editor's ClaimReview/MediaReview details per check.

A remembered check used to store the place and event it claimed in ``location``/``event``, the columns
an editor's provenance lives in, and dropped the date it claimed. The claim now has columns of its own
(``claimed_date``, ``claimed_location``, ``claimed_event``). Rows stored before this by a remembered check
(observed, not crawled) move their place and event there: nobody vouched for them. ``reviews`` holds what
an editor fills in to publish a check (article URL, claim text, who made it, where and when, a rating).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 13:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_date", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("claimed_location", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("claimed_event", sa.Text(), nullable=True))
    items = sa.table("items", sa.column("kind", sa.String), sa.column("origin", sa.String),
                     sa.column("location", sa.Text), sa.column("event", sa.Text),
                     sa.column("claimed_location", sa.Text), sa.column("claimed_event", sa.Text))
    remembered = (items.c.kind == "observed") & sa.or_(items.c.origin.is_(None), ~items.c.origin.like("crawl:%"))
    op.execute(items.update().where(remembered).values(
        claimed_location=items.c.location, claimed_event=items.c.event, location=None, event=None))
    op.create_table(
        "reviews",
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("editor", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("job_id"),
    )


def downgrade() -> None:
    op.drop_table("reviews")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("claimed_event")
        batch_op.drop_column("claimed_location")
        batch_op.drop_column("claimed_date")
