"""Alembic environment: runs on the connection firstseen hands over (see service/archive/schema.py)."""

from __future__ import annotations

from alembic import context

from service.archive.store import metadata


def _all_tables() -> None:
    # Tables defined beside the code that uses them join the shared metadata on import.
    import service.archive.sources  # noqa: F401
    import service.auth  # noqa: F401
    import service.jobs.store  # noqa: F401


_all_tables()
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("firstseen runs migrations on its own connection: use service.archive.schema.migrate")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
