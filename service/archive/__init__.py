"""The archive: storage of items, fingerprints and provenance (SQLite or PostgreSQL), its index and exchange format."""

__all__: list[str] = []  # nothing here: import the modules
