"""The archive: storage of items, fingerprints and provenance (SQLite or PostgreSQL), its index and exchange format."""
