"""Migrations and code agree: a table or column added without a migration fails here."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

import service.archive.sources  # noqa: F401  (their tables join the shared metadata)
import service.auth  # noqa: F401
import service.jobs  # noqa: F401
import service.reviews  # noqa: F401
from service.archive.schema import FIRST, HEAD, alembic_config, migrate
from service.archive.store import ArchiveStore, create_db_engine, metadata
from service.settings import Settings


def test_head_constant_is_the_newest_migration() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD  # type: ignore[arg-type]


def test_migrated_database_matches_the_code(settings: Settings) -> None:
    settings.ensure_dirs()
    engine = create_db_engine(settings.resolved_database_url)
    try:
        migrate(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
            version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        assert diff == [], f"schema differs from the migrations; add one with alembic: {diff}"
        assert version == HEAD
    finally:
        engine.dispose()


def test_archive_made_before_migrations_is_adopted_and_kept(settings: Settings) -> None:
    settings.ensure_dirs()
    engine = create_db_engine(settings.resolved_database_url)
    try:
        # An archive from before migrations: the first schema, no alembic_version table.
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), FIRST)  # type: ignore[arg-type]
            conn.execute(sa.text("DROP TABLE alembic_version"))
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO items (kind, title, sha256, duration, frame_count, added_at) "
                                 "VALUES ('curated', 'old', 'x', 1.0, 0, '2026-01-01T00:00:00+00:00')"))
        ArchiveStore(engine)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == HEAD
            assert conn.execute(sa.text("SELECT title FROM items")).scalar() == "old"
    finally:
        engine.dispose()


def test_a_remembered_checks_claimed_place_moves_out_of_provenance_on_upgrade(settings: Settings) -> None:
    settings.ensure_dirs()
    engine = create_db_engine(settings.resolved_database_url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0004")  # type: ignore[arg-type]
            for kind, origin, place in (("curated", None, "Idlib"), ("observed", "job:abc", "Kyiv"),
                                        ("observed", "crawl:1:ff", "Mosul")):
                conn.execute(sa.text(
                    "INSERT INTO items (kind, origin, location, event, sha256, duration, frame_count, added_at) "
                    "VALUES (:kind, :origin, :place, 'strike', 'x', 1.0, 0, '2026-01-01T00:00:00+00:00')"),
                    {"kind": kind, "origin": origin, "place": place})
        ArchiveStore(engine)
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT location, event, claimed_location, claimed_event FROM items "
                                        "ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [
            ("Idlib", "strike", None, None),  # an editor's provenance stays
            (None, None, "Kyiv", "strike"),  # a reader's check: its claim, not provenance
            ("Mosul", "strike", None, None),  # a crawl source's listing stays where it was
        ]
    finally:
        engine.dispose()
