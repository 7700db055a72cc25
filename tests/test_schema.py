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
from service.archive.store import ArchiveStore
from service.archive.video_record import video_fingerprint, video_record
from service.db.engine import create_db_engine
from service.db.schema import FIRST, HEAD, alembic_config, migrate
from service.db.tables import metadata
from service.models import ArchiveMetadata, VideoFingerprint
from service.settings import Settings
from service.signals.base import SignalRecord


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
        migrate(engine)
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
        migrate(engine)
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


def _item(n: int) -> tuple[ArchiveMetadata, list[SignalRecord]]:
    fp = VideoFingerprint(hasher="phash", views=("full",), times=np.array([0.0], dtype=np.float32),
                          hashes=np.array([[n + 1]], dtype=np.uint64), duration=1.0)
    return ArchiveMetadata(title=f"clip {n}"), [video_record(fp)]


_SIZE = {"duration": 1.0, "frame_count": 1}


def test_a_removed_items_id_is_never_given_again(settings: Settings) -> None:
    settings.ensure_dirs()
    engine = create_db_engine(settings.resolved_database_url)
    try:
        migrate(engine)
        store = ArchiveStore(engine)
        first = store.add(*_item(1), sha256="a" * 64, **_SIZE)
        newest = store.add(*_item(2), sha256="b" * 64, **_SIZE)
        store.remove(newest.id)  # the highest id: what SQLite without AUTOINCREMENT would hand out again
        again = store.add(*_item(3), sha256="c" * 64, **_SIZE)
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
        migrate(engine)
        store = ArchiveStore(engine)
        stored = list(store.signal_records("video-phash"))
        assert [item_id for item_id, _ in stored] == [1, 2]
        assert [video_fingerprint(r).hashes.tolist() for _, r in stored] == [[[1]], [[2]]]
        assert store.links_among([1, 2]) == [(2, 1, 0.9, "[]")]
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT item_id FROM source_entries")).scalar() == 2
        assert store.add(*_item(4), sha256="d" * 64, **_SIZE).id == 4
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []
    finally:
        engine.dispose()


def _old_fingerprint(conn: sa.Connection, item_id: int, backgrounds: bool) -> None:
    """An item with a fingerprint as 0007 stored it: views, times and hashes; optionally backgrounds."""
    views = "full,content,fg_full"
    conn.execute(sa.text("INSERT INTO items (id, kind, title, sha256, duration, frame_count, added_at) "
                         "VALUES (:n, 'curated', 'clip', 'x', 1.5, 3, '2026-01-01T00:00:00+00:00')"), {"n": item_id})
    conn.execute(sa.text("INSERT INTO fingerprints (item_id, hasher, views, times, hashes) "
                         "VALUES (:n, 'phash-8x8', :v, :t, :h)"),
                 {"n": item_id, "v": views, "t": np.array([0.0, 0.5, 1.0], "<f4").tobytes(),
                  "h": (np.arange(9, dtype="<u8") + 100 * item_id).tobytes()})
    if backgrounds:
        conn.execute(sa.text("INSERT INTO backgrounds (item_id, views, block_starts, coefficients) "
                             "VALUES (:n, 'full,content', :s, :c)"),
                     {"n": item_id, "s": np.array([0], "<i4").tobytes(),
                      "c": np.arange(2 * 64, dtype="<f4").tobytes()})


def test_fingerprints_and_backgrounds_become_video_signal_records_and_back(settings: Settings) -> None:
    """0008 moves every pHash fingerprint (and its backgrounds) into the signals table as a video-phash record,
    bit for bit; its downgrade moves them back."""
    settings.ensure_dirs()
    engine = create_db_engine(settings.resolved_database_url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0007")  # type: ignore[arg-type]
            _old_fingerprint(conn, 1, backgrounds=True)
            _old_fingerprint(conn, 2, backgrounds=False)
        migrate(engine)
        store = ArchiveStore(engine)
        stored = dict(store.signal_records())
        assert sorted(stored) == [1, 2]
        first, second = video_fingerprint(stored[1]), video_fingerprint(stored[2])
        assert first.views == second.views == ("full", "content", "fg_full")
        assert first.hashes.tolist() == (np.arange(9) + 100).reshape(3, 3).tolist()
        assert second.hashes.tolist() == (np.arange(9) + 200).reshape(3, 3).tolist()
        assert first.times.tolist() == [0.0, 0.5, 1.0] and first.duration == 1.5
        assert first.backgrounds is not None and second.backgrounds is None
        assert first.backgrounds.views == ("full", "content")
        assert first.backgrounds.coefficients.tolist() == np.arange(128, dtype=np.float32).reshape(1, 2, 64).tolist()
        without_detail = dict(store.signal_records("video-phash", [1], detail=False))
        assert without_detail[1].detail is None and without_detail[1].payload == stored[1].payload
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0007")  # type: ignore[arg-type]
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT item_id, views, hashes FROM fingerprints ORDER BY item_id")).all()
            bg = conn.execute(sa.text("SELECT item_id, views, coefficients FROM backgrounds")).all()
        assert [(r[0], r[1]) for r in rows] == [(1, "full,content,fg_full"), (2, "full,content,fg_full")]
        assert np.frombuffer(rows[1][2], "<u8").tolist() == (np.arange(9) + 200).tolist()
        assert [(r[0], r[1]) for r in bg] == [(1, "full,content")]
        assert np.frombuffer(bg[0][2], "<f4").tolist() == np.arange(128, dtype=np.float32).tolist()
    finally:
        engine.dispose()
