"""Every table of the database, on one ``metadata``: the ground floor every store builds on.

The archive (items, signals, links, audit), crawl sources (sources, seen_entries), access (api_keys,
web_sessions), jobs and reviews. ``service/db/migrations`` builds and changes them; ``tests/test_schema.py``
fails when a table or column here has no migration. Stores (``archive.store``, ``archive.sources``,
``auth``, ``jobs.store``, ``reviews``) read and write them; nothing else defines a table.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["api_keys", "audit", "items", "jobs", "links", "metadata", "reviews", "seen_entries", "signals",
           "sources", "web_sessions"]

metadata = sa.MetaData()

# --- items: service/archive/store.py
items = sa.Table(
    "items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False, default="curated"),
    sa.Column("title", sa.Text),
    sa.Column("published", sa.String(40)),
    # Who says ``published``: curated, platform, source or claimed (service/dates.py); NULL when undated.
    sa.Column("date_origin", sa.String(16)),
    sa.Column("location", sa.Text),
    sa.Column("event", sa.Text),
    # What the upload itself claimed (a remembered check's claims), apart from the provenance above.
    sa.Column("claimed_date", sa.String(40)),
    sa.Column("claimed_location", sa.Text),
    sa.Column("claimed_event", sa.Text),
    sa.Column("source_url", sa.Text),
    sa.Column("notes", sa.Text),
    sa.Column("factcheck_url", sa.Text),
    sa.Column("platform", sa.String(80)),
    sa.Column("uploader", sa.Text),
    sa.Column("sha256", sa.String(64), nullable=False, index=True),
    sa.Column("duration", sa.Float, nullable=False),
    sa.Column("frame_count", sa.Integer, nullable=False),
    sa.Column("added_at", sa.String(40), nullable=False),
    sa.Column("media_path", sa.Text),
    sa.Column("footage_id", sa.Integer, index=True),
    # What created the item when that can happen twice (a job re-run after a crash, a re-crawl):
    # "job:<id>", "crawl:<source>:<entry>". Unique, so the second attempt finds the first's item.
    sa.Column("origin", sa.String(120)),
    sa.UniqueConstraint("origin", name="uq_items_origin"),
    sqlite_autoincrement=True,  # a removed item's id is never given again (migration 0005)
)

# --- signals: service/archive/store.py
# Every signal type's fingerprint of an item (service/signals): one versioned record per (item, signal).
signals = sa.Table(
    "signals",
    metadata,
    sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("signal", sa.String(40), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),  # what the signal's index is built from
    sa.Column("detail", sa.LargeBinary),  # what only alignment reads, for a check's candidates
)

# --- links: service/archive/store.py
# Two uploads that share footage, with the seconds they share (JSON list of segments,
# "a" playing the role of the query). Components of this graph are footage clusters.
links = sa.Table(
    "links",
    metadata,
    sa.Column("item_a", sa.Integer, sa.ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("item_b", sa.Integer, sa.ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("segments", sa.Text, nullable=False),
)

# --- audit: service/archive/store.py
# Every change to the archive: who, when, what, and the item before/after (JSON).
audit = sa.Table(
    "audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("item_id", sa.Integer),
    sa.Column("before", sa.Text),
    sa.Column("after", sa.Text),
)

# --- sources: service/archive/sources.py
sources = sa.Table(
    "sources",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("url", sa.Text, nullable=False, unique=True),
    sa.Column("title", sa.Text),
    sa.Column("added_at", sa.String(40), nullable=False),
    sa.Column("last_crawled_at", sa.String(40)),
    sa.Column("last_status", sa.Text),
    sqlite_autoincrement=True,  # a removed source's id is never given again (migration 0005)
)

# --- seen_entries: service/archive/sources.py
seen_entries = sa.Table(
    "source_entries",
    metadata,
    sa.Column("source_id", sa.Integer, sa.ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("entry_key", sa.String(500), primary_key=True),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id", ondelete="SET NULL")),
    sa.Column("status", sa.String(20), nullable=False),  # added | failed
    sa.Column("seen_at", sa.String(40), nullable=False),
)

# --- api_keys: service/auth.py
api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(10), nullable=False),
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("prefix", sa.String(12), nullable=False),  # first characters, to tell keys apart in a list
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("revoked_at", sa.String(40)),
)

# --- web_sessions: service/auth.py
web_sessions = sa.Table(
    "web_sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),  # sha256 of the token in the cookie
    sa.Column("key_id", sa.Integer, sa.ForeignKey("api_keys.id"), nullable=False, index=True),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("expires_at", sa.String(40), nullable=False),  # same ISO format as _now(): compared as text
)

# --- jobs: service/jobs/store.py
jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("state", sa.String(10), nullable=False, index=True),
    sa.Column("progress", sa.Float, nullable=False, default=0.0),
    sa.Column("stage", sa.String(40), nullable=False, default="queued"),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("result", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("error_code", sa.String(40)),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("owner", sa.String(200)),
    # Scoped by the caller (e.g. "key 3:abc"): the same key posting the same request twice gets one job.
    sa.Column("idempotency", sa.String(300), unique=True),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("started_at", sa.String(40)),
    sa.Column("finished_at", sa.String(40)),
    sa.Column("updated_at", sa.String(40), nullable=False),
)

# --- reviews: service/reviews.py
reviews = sa.Table(
    "reviews",
    metadata,
    sa.Column("job_id", sa.String(32), primary_key=True),
    sa.Column("details", sa.Text, nullable=False),  # ReviewDetails as JSON
    sa.Column("editor", sa.String(200), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
)
