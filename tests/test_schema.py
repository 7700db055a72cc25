"""Migrations and code agree: a table or column added without a migration fails here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
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
from service.models import ArchiveMetadata, VideoFingerprint
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


def _item(n: int) -> tuple[ArchiveMetadata, VideoFingerprint]:
    fp = VideoFingerprint(hasher="phash", views=("full",), times=np.array([0.0], dtype=np.float32),
                          hashes=np.array([[n + 1]], dtype=np.uint64), duration=1.0)
    return ArchiveMetadata(title=f"clip {n}"), fp


def test_a_removed_items_id_is_never_given_again(settings: Settings) -> None:
    settings.ensure_dirs()
    engine = create_db_engine(settings.resolved_database_url)
    try:
        store = ArchiveStore(engine)
        first = store.add(*_item(1), sha256="a" * 64)
        newest = store.add(*_item(2), sha256="b" * 64)
        store.remove(newest.id)  # the highest id: what SQLite without AUTOINCREMENT would hand out again
        again = store.add(*_item(3), sha256="c" * 64)
        assert again.id > newest.id > first.id
        log = [(e["action"], e["item_id"]) for e in reversed(store.audit_log())]
        assert log == [("add", first.id), ("add", newest.id), ("remove", newest.id), ("add", again.id)]
    finally:
        engine.dispose()


def test_ids_removed_before_the_autoincrement_migration_stay_retired(tmp_path: Path) -> None:
    """A SQLite archive at 0004 whose newest item was removed: after 0005 neither that id nor any earlier one
    returns, and the items, their fingerprints, links and crawl entries survive the rebuild. (SQLite only:
    the migration changes nothing on PostgreSQL, whose sequences never went back.)"""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'archive.sqlite3'}")
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0004")  # type: ignore[arg-type]
        with engine.begin() as conn:
            for n in (1, 2, 3):
                conn.execute(sa.text("INSERT INTO items (id, kind, title, sha256, duration, frame_count, added_at) "
                                     "VALUES (:n, 'curated', :t, 'x', 1.0, 1, '2026-01-01T00:00:00+00:00')"),
                             {"n": n, "t": f"clip {n}"})
                conn.execute(sa.text("INSERT INTO fingerprints (item_id, hasher, views, times, hashes) "
                                     "VALUES (:n, 'phash', 'full', :t, :h)"),
                             {"n": n, "t": np.zeros(1, "<f4").tobytes(), "h": np.full(1, n, "<u8").tobytes()})
                conn.execute(sa.text("INSERT INTO audit (at, actor, action, item_id) VALUES ('t', 'x', 'add', :n)"),
                             {"n": n})
            conn.execute(sa.text("INSERT INTO links (item_a, item_b, score, segments) VALUES (2, 1, 0.9, '[]')"))
            conn.execute(sa.text("INSERT INTO sources (id, url, added_at) VALUES (1, 'https://example.org/c', 't')"))
            conn.execute(sa.text("INSERT INTO source_entries (source_id, entry_key, item_id, status, seen_at) "
                                 "VALUES (1, 'e', 2, 'added', 't')"))
            conn.execute(sa.text("INSERT INTO audit (at, actor, action, item_id) VALUES ('t', 'x', 'remove', 3)"))
            conn.execute(sa.text("DELETE FROM items WHERE id = 3"))
        store = ArchiveStore(engine)  # migrates to HEAD
        assert [s.item_id for s in store.fingerprints()] == [1, 2]
        assert store.links_among([1, 2]) == [(2, 1, 0.9, "[]")]
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT item_id FROM source_entries")).scalar() == 2
        assert store.add(*_item(4), sha256="d" * 64).id == 4
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []
    finally:
        engine.dispose()
