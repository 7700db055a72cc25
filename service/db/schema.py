"""Database schema versions: Alembic migrations, applied once when the database is opened.

Part of db (``engine.open_database`` calls ``migrate``). Every table lives on one SQLAlchemy
``metadata`` in ``tables.py``; ``migrations/versions/`` holds the scripts that build and change it, so an
archive made by an older firstseen is upgraded in place, on SQLite and
PostgreSQL alike. ``tests/test_schema.py`` fails when a table or column is added
to the code without a migration.

    migrate(engine)          # idempotent; cheap after the first call per engine
"""

from __future__ import annotations

import threading
import weakref
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

__all__ = ["HEAD", "MIGRATIONS", "alembic_config", "migrate"]

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest revision in migrations/versions (tests/test_schema.py checks it): a database already
# there is recognised with one query, without loading Alembic.
HEAD = "0008"
FIRST = "0001"  # what archives made before migrations existed (tables, no alembic_version) already have
PG_LOCK_KEY = 0x66697273  # "firs": serialises migrations of processes starting together

_done: weakref.WeakSet[Engine] = weakref.WeakSet()
_lock = threading.Lock()


def alembic_config(connection: sa.Connection | None = None) -> object:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema (creating it when empty)."""
    with _lock:
        if engine in _done:
            return
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_LOCK_KEY})
            if _current(conn) != HEAD:
                _upgrade(conn)
        _done.add(engine)


def _current(conn: sa.Connection) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def _upgrade(conn: sa.Connection) -> None:
    from alembic import command

    config = alembic_config(conn)
    if _current(conn) is None and sa.inspect(conn).has_table("items"):
        command.stamp(config, FIRST)  # type: ignore[arg-type]
    command.upgrade(config, "head")  # type: ignore[arg-type]
