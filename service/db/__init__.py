"""The ground floor: every table (``tables.py``), opening the database (``engine.py``) and bringing its
schema up to date (``schema.py`` with the Alembic scripts in ``migrations/``). Stores above read and write
the tables; nothing else defines one or migrates."""

from __future__ import annotations

__all__: list[str] = []  # nothing here: import the modules
