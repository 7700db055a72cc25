"""An archive item's or a crawl source's id is never given again once removed (SQLite AUTOINCREMENT).

Without AUTOINCREMENT, SQLite hands the next row max(id) + 1, so removing the newest item and adding
another reuses its id and the audit log reads add, update, remove, add for one id that names two
videos. PostgreSQL's sequences never go back, so only SQLite changes here.

SQLite cannot add AUTOINCREMENT to a table; the tables are built anew and their rows copied. The
parents (items, sources) are copied before their children (fingerprints, links, source_entries) are
rebuilt to point at the copies, and only then are the old tables dropped: with foreign keys on (which
cannot be turned off inside the migration's transaction), dropping a parent that still had children
would cascade. Renaming the new parents to the old names renames every reference to them too.
Ids removed before this migration are not reused either: the counter starts above the highest item id
the audit log ever saw.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 13:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

NEW = "__new"


def _items(name: str) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("published", sa.String(length=40), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("event", sa.Text(), nullable=True),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("factcheck_url", sa.Text(), nullable=True),
        sa.Column("platform", sa.String(length=80), nullable=True),
        sa.Column("uploader", sa.Text(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("frame_count", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.String(length=40), nullable=False),
        sa.Column("media_path", sa.Text(), nullable=True),
        sa.Column("footage_id", sa.Integer(), nullable=True),
        sa.Column("origin", sa.String(length=120), nullable=True),
        sa.Column("date_origin", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("origin", name="uq_items_origin"),
        sqlite_autoincrement=True,
    )


def _sources(name: str) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("added_at", sa.String(length=40), nullable=False),
        sa.Column("last_crawled_at", sa.String(length=40), nullable=True),
        sa.Column("last_status", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("url"),
        sqlite_autoincrement=True,
    )


def _children(items: str, sources: str) -> None:
    op.create_table(
        "fingerprints" + NEW,
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("hasher", sa.String(length=40), nullable=False),
        sa.Column("views", sa.Text(), nullable=False),
        sa.Column("times", sa.LargeBinary(), nullable=False),
        sa.Column("hashes", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], [f"{items}.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("item_id"),
    )
    op.create_table(
        "links" + NEW,
        sa.Column("item_a", sa.Integer(), nullable=False),
        sa.Column("item_b", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("segments", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["item_a"], [f"{items}.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["item_b"], [f"{items}.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("item_a", "item_b"),
    )
    op.create_table(
        "source_entries" + NEW,
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("entry_key", sa.String(length=500), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("seen_at", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], [f"{items}.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["source_id"], [f"{sources}.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("source_id", "entry_key"),
    )


PARENTS = ("items", "sources")
CHILDREN = ("fingerprints", "links", "source_entries")


def _copy(conn: sa.Connection, table: str) -> None:
    columns = ", ".join(f'"{c["name"]}"' for c in sa.inspect(conn).get_columns(table))
    conn.execute(sa.text(f'INSERT INTO "{table}{NEW}" ({columns}) SELECT {columns} FROM "{table}"'))


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":
        return  # PostgreSQL: SERIAL sequences never hand out an id twice
    _items("items" + NEW)
    _sources("sources" + NEW)
    for table in PARENTS:
        _copy(conn, table)
    _children("items" + NEW, "sources" + NEW)
    for table in CHILDREN:
        _copy(conn, table)
    for table in (*CHILDREN, *PARENTS):  # children first: no parent is dropped while something points at it
        op.drop_table(table)  # and its indexes with it
    for table in (*PARENTS, *CHILDREN):
        op.rename_table(table + NEW, table)
    op.create_index("ix_items_footage_id", "items", ["footage_id"], unique=False)
    op.create_index("ix_items_sha256", "items", ["sha256"], unique=False)
    # Start above every item id ever given, removed ones included (the audit log remembers them).
    highest = conn.execute(sa.text("SELECT MAX(item_id) FROM audit")).scalar()
    if highest is not None:
        conn.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = 'items'"))
        conn.execute(sa.text("INSERT INTO sqlite_sequence (name, seq) SELECT 'items', MAX(:h, COALESCE(MAX(id), 0)) "
                             "FROM items"), {"h": int(highest)})


def downgrade() -> None:
    """Nothing to undo: the rebuilt tables have the same columns, and AUTOINCREMENT is harmless to older code."""
