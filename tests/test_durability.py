"""kill -9 for real: an ingest, a remembered check or the server killed mid-work leaves the
archive consistent, and a check job the server had accepted finishes after a restart."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from service.archive.video_record import video_fingerprint
from service.dates import parse_date
from service.db.engine import open_database
from service.db.tables import audit, items, signals
from service.settings import Settings
from service.signals.base import SignalRecord
from tests.conftest import Media
from tests.live_app import free_port, start_serve_process

EXE = str(Path(sys.executable).with_name("firstseen"))


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """90 s of moving picture: long enough to be killed while it is being fingerprinted or stored."""
    path = tmp_path_factory.mktemp("long") / "long.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=90",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


def _env(home: Path, database_url: str | None) -> dict[str, str]:
    env = {**os.environ, "FIRSTSEEN_HOME": str(home)}
    if database_url:
        env["FIRSTSEEN_DATABASE_URL"] = database_url
    return env


def assert_consistent(settings: Settings) -> int:
    """Every item has its whole fingerprint and its audit entry; SQLite's own check passes. Returns items."""
    engine = open_database(settings.resolved_database_url)
    try:
        with engine.connect() as c:
            item_rows = c.execute(sa.select(items.c.id, items.c.frame_count)).fetchall()
            fp_rows = {r.item_id: r for r in c.execute(sa.select(signals).where(signals.c.signal == "video-phash"))}
            added = {r.item_id for r in c.execute(sa.select(audit.c.item_id).where(audit.c.action == "add"))}
            if engine.dialect.name == "sqlite":
                assert c.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        assert {r.id for r in item_rows} == set(fp_rows) == added
        for r in item_rows:
            row = fp_rows[r.id]
            fp = video_fingerprint(SignalRecord(row.signal, row.version, row.payload, row.detail))
            assert fp.hashes.shape == (r.frame_count, len(fp.views))
            assert len(fp.times) == r.frame_count
        return len(item_rows)
    finally:
        engine.dispose()


@pytest.mark.slow
def test_ingest_and_remembered_check_killed_at_any_moment_leave_the_archive_consistent(
        home: Path, settings: Settings, database_url: str | None, media: Media, long_clip: Path) -> None:
    env = _env(home, database_url)
    subprocess.run([EXE, "archive", "add", str(media.original), "--title", "A"], env=env, check=True,
                   capture_output=True, timeout=180)
    killed = 0
    items_before = assert_consistent(settings)
    for delay in (0.5, 1.5, 3.0, 5.0, 8.0):
        for args in (["archive", "add", str(long_clip), "--title", "long"],
                     ["check", str(long_clip), "--claimed-date", "2024-01-01"]):
            proc = subprocess.Popen([EXE, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                killed += 1
            proc.wait(60)
            n = assert_consistent(settings)
            # Each process adds one item (an ingest, or a check remembering its upload) or, killed, none:
            # never a part of one.
            assert n in (items_before, items_before + 1)
            if proc.returncode == 0:
                assert n == items_before + 1
            items_before = n
    assert killed >= 4, "the machine was too fast for the kills to land mid-work"
    # After all that, the archive works: the long clip can be added and found.
    done = subprocess.run([EXE, "archive", "add", str(long_clip), "--title", "long", "--json"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = subprocess.run([EXE, "check", str(media.excerpt_240p), "--no-remember", "--json"], env=env,
                            capture_output=True, text=True, timeout=180)
    assert json.loads(report.stdout)["matches"][0]["title"] == "A"
    assert_consistent(settings)


@pytest.mark.slow
def test_server_killed_mid_check_resumes_the_job_after_restart(
        home: Path, settings: Settings, database_url: str | None, media: Media, long_clip: Path) -> None:
    env = _env(home, database_url)
    subprocess.run([EXE, "archive", "add", str(long_clip), "--title", "long", "--published", "2018-03-01"],
                   env=env, check=True, capture_output=True, timeout=300)
    key = json.loads(subprocess.run([EXE, "keys", "create", "--role", "reader", "--json"], env=env, check=True,
                                    capture_output=True, text=True).stdout)["key"]
    auth = {"Authorization": f"Bearer {key}"}
    port = free_port()
    server = start_serve_process(env, port, home.parent / "serve.log")
    try:
        with long_clip.open("rb") as fh:
            r = httpx.post(f"http://127.0.0.1:{port}/api/v1/checks", headers=auth, timeout=120,
                           files={"file": ("long.mp4", fh, "video/mp4")}, data={"claimed_date": "2023-05-01"})
        assert r.status_code == 202, r.text
        status_url = r.json()["status_url"]
        deadline = time.monotonic() + 60
        while httpx.get(f"http://127.0.0.1:{port}{status_url}", headers=auth).json()["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(30)
    assert_consistent(settings)

    port = free_port()
    server = start_serve_process(env, port, home.parent / "serve.log")
    try:
        deadline = time.monotonic() + 240
        while True:
            body = httpx.get(f"http://127.0.0.1:{port}{status_url}", headers=auth, params={"wait": 5},
                             timeout=30).json()
            if body["status"] in ("done", "failed"):
                break
            assert time.monotonic() < deadline, body
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    assert body["status"] == "done", body
    assert body["report"]["verdict"] == "recycled"
    assert assert_consistent(settings) == 2  # the check was remembered exactly once


def _worker_processes(pid: int) -> list[int]:
    """Process ids of the job workers ``pid`` started (Linux /proc; multiprocessing's helpers left out)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            with contextlib.suppress(FileNotFoundError):
                if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                    found.append(int(child))
    return found


@pytest.mark.slow
def test_worker_process_killed_mid_check_loses_nothing_and_the_api_keeps_answering(
        home: Path, settings: Settings, database_url: str | None, media: Media, long_clip: Path) -> None:
    env = _env(home, database_url)
    subprocess.run([EXE, "archive", "add", str(long_clip), "--title", "long", "--published", "2018-03-01"],
                   env=env, check=True, capture_output=True, timeout=300)
    key = json.loads(subprocess.run([EXE, "keys", "create", "--role", "reader", "--json"], env=env, check=True,
                                    capture_output=True, text=True).stdout)["key"]
    auth = {"Authorization": f"Bearer {key}"}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_serve_process(env, port, home.parent / "serve.log")
    try:
        with long_clip.open("rb") as fh:
            r = httpx.post(f"{base}/api/v1/checks", headers=auth, timeout=120,
                           files={"file": ("long.mp4", fh, "video/mp4")}, data={"claimed_date": "2023-05-01"})
        assert r.status_code == 202, r.text
        status_url = r.json()["status_url"]
        deadline = time.monotonic() + 60
        while httpx.get(f"{base}{status_url}", headers=auth).json()["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        # The check runs in a child of the server, not in the server's own process.
        workers = _worker_processes(server.pid)
        assert len(workers) == 1, workers
        os.kill(workers[0], signal.SIGKILL)
        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200  # the API never went down
        deadline = time.monotonic() + 240
        while True:
            body = httpx.get(f"{base}{status_url}", headers=auth, params={"wait": 5}, timeout=30).json()
            if body["status"] in ("done", "failed"):
                break
            assert time.monotonic() < deadline, body
        replacement = _worker_processes(server.pid)
        assert replacement and workers[0] not in replacement  # a new worker process took the job over
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
    assert body["status"] == "done", body
    assert body["report"]["verdict"] == "recycled"
    assert assert_consistent(settings) == 2  # the check was remembered exactly once
    engine = open_database(settings.resolved_database_url)
    try:
        from service.jobs import JobStore

        assert JobStore(engine).get(status_url.rsplit("/", 1)[1]).attempts == 2
    finally:
        engine.dispose()
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in replacement):  # no worker outlives the server
        assert time.monotonic() < deadline, replacement
        time.sleep(0.1)


def test_a_job_rerun_after_it_stored_but_before_it_finished_stores_nothing_twice(
        settings: Settings, media: Media) -> None:
    from service.jobs import JobStore, run_job
    from service.models import ArchiveItem, ArchiveMetadata, Claims
    from service.pipeline import Pipeline

    with Pipeline.from_settings(settings) as pipeline:
        pipeline.archive_add(str(media.original), ArchiveMetadata(title="A", published="2018-03-01"))
        jobs = JobStore(pipeline.store.engine)
        check, _ = jobs.create("check", {"source": str(media.excerpt_240p), "claims": {"date": "2021-03-11"},
                                         "remember": True})
        add, _ = jobs.create("archive_add", {"source": str(media.other), "meta": {"title": "B"}})
        # The crashed attempts: each stored its item, then the process died before the job was marked done.
        for job in (check, add):
            assert jobs.start(job.id)
        first_check = pipeline.check(str(media.excerpt_240p), Claims(date=parse_date("2021-03-11")), remember=True,
                                     origin=f"job:{check.id}")
        first_add = pipeline.archive_add(str(media.other), ArchiveMetadata(title="B"), origin=f"job:{add.id}")
        assert pipeline.store.count() == 3

        redone_check, redone_add = run_job(pipeline, check.id), run_job(pipeline, add.id)
        assert redone_check.state == redone_add.state == "done"
        assert pipeline.store.count() == 3
        report = redone_check.report
        assert report.remembered_id == first_check.remembered_id
        # The earlier attempt's copy is the upload itself, not prior evidence.
        assert [m.item.id for m in report.matches] == [1] and report.verdict == "recycled"
        assert isinstance(redone_add.result, ArchiveItem) and redone_add.result.id == first_add.id
    assert_consistent(settings)
