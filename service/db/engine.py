"""Opening the database: the engine for a URL (SQLite file or PostgreSQL), migrated once.

    engine = open_database(settings.resolved_database_url)   # what front ends and workers call
    ArchiveStore(engine); JobStore(engine); KeyStore(engine)  # stores only read and write tables

``open_database`` is the one place the schema is brought up to date (``service.db.schema.migrate``);
``create_db_engine`` alone is for tools that manage the schema themselves (the migration tests).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from service.db.schema import migrate

__all__ = ["create_db_engine", "open_database"]


def open_database(url: str) -> Engine:
    """An engine on ``url`` whose tables exist at the newest schema (created or upgraded in place)."""
    engine = create_db_engine(url)
    migrate(engine)
    return engine


def create_db_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True)
