"""Alembic environment: runs on the connection firstseen hands over (see service/db/schema.py)."""

from __future__ import annotations

from alembic import context

from service.db.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("firstseen runs migrations on its own connection: use service.db.schema.migrate")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
