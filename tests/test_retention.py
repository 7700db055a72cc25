"""What firstseen keeps, and what one key may hold (issue 11, items 6 and 11).

Retention: an upload checked without remembering it is gone when its job ends; ``firstseen prune`` (and the
timer in ``serve`` and ``worker``) removes cached downloads older than the setting, keeps newer ones, and never
an archived item's media. Quotas: a key over its queued jobs or its stored upload bytes is answered 429 (413
for one upload larger than the whole quota) with the JSON error body, through the real app, and nothing is
written.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from service.auth import KeyStore
from service.db.tables import items, jobs
from service.http import create_app
from service.jobs import JobStore
from service.models import ArchiveMetadata
from service.pipeline import Pipeline
from service.retention import ORPHAN_UPLOAD_GRACE_S, prune
from service.settings import Settings
from tests.conftest import LoopbackServer, Media, database_for_test
from tests.live_app import csrf_token, run_uvicorn, serve, web_login

DAY_S = 86400.0


def _age(path: Path, seconds: float) -> None:
    """Make ``path`` and everything in it look last written ``seconds`` ago."""
    stamp = time.time() - seconds
    for p in [*path.rglob("*"), path]:
        os.utime(p, (stamp, stamp))


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# -- uploads -------------------------------------------------------------------------------------------------
def test_an_unremembered_upload_check_leaves_no_upload_after_its_job_and_its_evidence_stays(
        tmp_path: Path, media: Media) -> None:
    with database_for_test() as db, serve(tmp_path / "home", db, rate_limit_per_minute=100_000) as live:
        with live.client("editor") as ed:
            added = ed.post("/api/v1/archive", params={"wait": 60},
                            files={"file": ("original.mp4", media.original.read_bytes())},
                            data={"title": "Convoy ambush", "published": "2018-03-01"})
            assert added.status_code == 201, added.text
        with live.client("reader") as rd:
            r = rd.post("/api/v1/checks", files={"file": ("viral.mp4", media.excerpt_240p.read_bytes())},
                        data={"claimed_date": "2021-03-11", "remember": "false"})
            done = live.wait_job(rd, r.json()["status_url"])
            assert done["status"] == "done" and done["report"]["remembered_id"] is None
            deadline = time.monotonic() + 5  # removed right after the outcome is stored
            while _files(live.settings.uploads_dir):
                assert time.monotonic() < deadline, "the upload outlived its job"
                time.sleep(0.05)
            picture = rd.get(done["evidence"][0])  # drawn before the upload went
            assert picture.status_code == 200 and picture.headers["content-type"] == "image/jpeg"


def test_with_a_retention_time_the_upload_stays_for_its_report_then_prune_removes_it(
        settings: Settings, media: Media) -> None:
    from service.jobs import run_job

    kept = settings.model_copy(update={"keep_unremembered_uploads_s": 3600.0})
    folder = kept.uploads_dir / f"k1-{uuid.uuid4().hex}"
    folder.mkdir(parents=True)
    upload = folder / "viral.mp4"
    shutil.copy(media.excerpt_240p, upload)
    with Pipeline.from_settings(kept) as pipeline:
        job, _ = JobStore(pipeline.store.engine).create("check", {"source": str(upload), "remember": False,
                                                                   "upload": True})
        assert run_job(pipeline, job.id).state == "done"
        assert upload.is_file()
        assert prune(kept, pipeline.store.engine).uploads == 0  # within its hour
        assert upload.is_file()
        assert prune(kept, pipeline.store.engine, now=time.time() + 3601).uploads == 1
        assert not folder.exists()


def test_prune_removes_an_upload_no_job_names_only_when_nothing_writes_to_it_and_never_a_queued_jobs(
        settings: Settings, media: Media) -> None:
    settings.ensure_dirs()
    with Pipeline.from_settings(settings) as pipeline:
        engine = pipeline.store.engine
        orphan, arriving, queued = (settings.uploads_dir / f"k1-{uuid.uuid4().hex}" for _ in range(3))
        for folder in (orphan, arriving, queued):
            folder.mkdir(parents=True)
            shutil.copy(media.excerpt_240p, folder / "clip.mp4")
        JobStore(engine).create("check", {"source": str(queued / "clip.mp4"), "upload": True, "remember": False})
        _age(orphan, ORPHAN_UPLOAD_GRACE_S + 60)
        _age(queued, 30 * DAY_S)
        assert prune(settings, engine).uploads == 1
        assert not orphan.exists() and arriving.exists() and queued.exists()


# -- the download cache --------------------------------------------------------------------------------------
def _download(cli: Any, server: LoopbackServer, media: Path, name: str, settings: Settings) -> Path:
    shutil.copy(media, server.root / name)
    res = cli("check", server.url(name), "--no-remember", "--json")
    assert res.exit_code == 0, res.stderr
    entry = Path(res.json()["source"]["media_path"]).parent
    assert entry.parent == settings.cache_dir / "downloads"
    return entry


def test_prune_removes_cache_entries_older_than_the_setting_and_keeps_newer_ones(
        cli: Any, web_server: LoopbackServer, media: Media, settings: Settings) -> None:
    old = _download(cli, web_server, media.original, "old.mp4", settings)
    stamped = _download(cli, web_server, media.other, "stamped.mp4", settings)
    new = _download(cli, web_server, media.unrelated, "new.mp4", settings)
    _age(old, DAY_S + 60)
    _age(stamped, DAY_S + 60)
    # A server's Last-Modified of 2099 stamps its file in 2099: that must not keep it in the cache forever.
    far = time.time() + 70 * 365 * DAY_S
    for media_file in stamped.glob("media.*"):
        os.utime(media_file, (far, far))
    res = cli("prune", "--json")
    assert res.exit_code == 0, res.stderr
    assert res.json()["cache_entries"] == 2 and res.json()["bytes_freed"] > 0
    assert not old.exists() and not stamped.exists()
    assert _files(new), "a download younger than a day stays"
    served = len(web_server.requests)
    assert cli("check", web_server.url("new.mp4"), "--no-remember", "--json").exit_code == 0
    assert len(web_server.requests) == served  # still answered from the cache


def test_prune_never_removes_media_of_archived_items(cli: Any, web_server: LoopbackServer, media: Media,
                                                    settings: Settings) -> None:
    with Pipeline.from_settings(settings) as pipeline:
        archived = pipeline.archive_add(str(media.original), ArchiveMetadata(title="Convoy"))
        kept_copy = Path(str(pipeline.store.media_path(archived.id)))
    # An item whose media lies in the cache (an archive made before media was copied under home/media),
    # and one whose media lies in an upload folder no job names.
    legacy = _download(cli, web_server, media.other, "legacy.mp4", settings)
    orphan = settings.uploads_dir / "legacy-upload"
    orphan.mkdir(parents=True)
    shutil.copy(media.unrelated, orphan / "clip.mp4")
    with Pipeline.from_settings(settings) as pipeline:
        for path in (next(legacy.glob("media.*")), orphan / "clip.mp4"):
            item = pipeline.archive_add(str(media.reencode), ArchiveMetadata(title=path.name))
            with pipeline.store.engine.begin() as c:
                c.execute(items.update().where(items.c.id == item.id).values(media_path=str(path)))
    for folder in (legacy, orphan, kept_copy.parent):
        _age(folder, 400 * DAY_S)
    with Pipeline.from_settings(settings) as pipeline:  # an engine of its own, disposed after
        summary = prune(settings, pipeline.store.engine)
    assert (summary.uploads, summary.cache_entries) == (0, 0)
    assert kept_copy.is_file() and _files(legacy) and _files(orphan)


def _stale_download(home: Path, media: Media, key: str) -> Path:
    """A cached download a minute older than the cache is kept."""
    stale = home / "cache" / "downloads" / key
    stale.mkdir(parents=True)
    shutil.copy(media.original, stale / "media.mp4")
    _age(stale, DAY_S + 60)
    return stale


def test_serve_prunes_on_its_timer(tmp_path: Path, media: Media) -> None:
    home = tmp_path / "home"
    stale = _stale_download(home, media, "0" * 32)
    with database_for_test() as db, serve(home, db, prune_every_s=0.2):
        deadline = time.monotonic() + 20
        while stale.exists():
            assert time.monotonic() < deadline, "serve did not prune the stale download"
            time.sleep(0.1)


@pytest.mark.redis
def test_worker_prunes_on_its_timer(tmp_path: Path, media: Media) -> None:
    home = tmp_path / "home"
    stale = _stale_download(home, media, "1" * 32)
    env = {**os.environ, "FIRSTSEEN_HOME": str(home), "FIRSTSEEN_PRUNE_EVERY_S": "0.2",
           "FIRSTSEEN_REDIS_URL": os.environ.get("FIRSTSEEN_TEST_REDIS", "redis://127.0.0.1:6379/0"),
           "FIRSTSEEN_REDIS_NAMESPACE": f"fs-test-{uuid.uuid4().hex[:10]}"}
    env.pop("FIRSTSEEN_DATABASE_URL", None)
    with database_for_test() as db:
        if db:
            env["FIRSTSEEN_DATABASE_URL"] = db
        worker = subprocess.Popen([str(Path(sys.executable).with_name("firstseen")), "worker"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while stale.exists():
                assert worker.poll() is None and time.monotonic() < deadline, "the worker did not prune"
                time.sleep(0.1)
        finally:
            worker.send_signal(signal.SIGTERM)
            _out, err = worker.communicate(timeout=60)
    assert b"Traceback" not in err, err.decode(errors="replace")


# -- per-key quotas through the real app ------------------------------------------------------------------------
class Parked:
    """A queue no worker reads: every job stays queued, as behind a busy worker."""

    def enqueue(self, job_id: str) -> None:
        return None


@dataclass
class QuotaApp:
    url: str
    settings: Settings
    keys: dict[str, str]
    engine: sa.Engine

    def client(self, role: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.keys[role]}"}, timeout=30)

    def job_count(self) -> int:
        with self.engine.connect() as c:
            return int(c.execute(sa.select(sa.func.count()).select_from(jobs)).scalar_one())


@contextmanager
def quota_app(home: Path, **limits: Any) -> Iterator[QuotaApp]:
    with database_for_test() as db:
        settings = Settings(home=home, database_url=db, allow_hosts=["127.0.0.0/8"], rate_limit_per_minute=100_000,
                            **limits)
        app = create_app(settings, queue=Parked())
        engine = app.state.services.pipeline.store.engine
        store = KeyStore(engine)
        keys = {role: store.create(role, name=f"quota {role}")[1] for role in ("reader", "editor")}
        keys["second reader"] = store.create("reader", name="another desk")[1]
        with run_uvicorn(app) as url:
            yield QuotaApp(url, settings, keys, engine)


def _refused(r: httpx.Response, status: int, code: str) -> str:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    message: str = body["error"]["message"]
    return message


def test_a_key_over_its_queued_jobs_gets_429_and_no_job_or_upload_is_written(tmp_path: Path,
                                                                           media: Media) -> None:
    with quota_app(tmp_path / "home", max_queued_jobs_per_key=2) as app:
        link = {"url": "http://127.0.0.1:9/clip.mp4", "remember": False}
        with app.client("reader") as rd:
            assert rd.post("/api/v1/checks", json=link).status_code == 202
            first_upload = rd.post("/api/v1/checks", files={"file": ("a.mp4", media.excerpt_240p.read_bytes())})
            assert first_upload.status_code == 202
            jobs_before, uploads_before = app.job_count(), _files(app.settings.uploads_dir)

            message = _refused(rd.post("/api/v1/checks", json=link), 429, "quota_exceeded")
            assert "2 job(s) queued or running" in message and "try again" in message
            _refused(rd.post("/api/v1/checks", files={"file": ("b.mp4", media.excerpt_240p.read_bytes())}),
                     429, "quota_exceeded")
            _refused(rd.post("/api/v1/checks/batch", json={"urls": [link["url"]]}), 429, "quota_exceeded")
            assert app.job_count() == jobs_before and _files(app.settings.uploads_dir) == uploads_before
        with app.client("second reader") as other:  # the quota is per key
            assert other.post("/api/v1/checks", json=link).status_code == 202
        with app.client("editor") as ed:
            r = ed.post("/api/v1/archive", files={"file": ("o.mp4", media.original.read_bytes())},
                        data={"title": "x"})
            assert r.status_code == 202
            web_login(ed, app.keys["editor"])
            ed.headers.pop("Authorization")
            assert ed.post("/check", data={"csrf": csrf_token(ed.get("/").text), "url": link["url"]}).status_code \
                == 303
            page = ed.post("/check", data={"csrf": csrf_token(ed.get("/").text), "url": link["url"]})
            assert page.status_code == 429 and "queued or running" in page.text


def test_a_repeated_request_is_answered_even_at_the_quota(tmp_path: Path) -> None:
    with quota_app(tmp_path / "home", max_queued_jobs_per_key=1) as app, app.client("reader") as rd:
        link = {"url": "http://127.0.0.1:9/clip.mp4"}
        first = rd.post("/api/v1/checks", json=link, headers={"Idempotency-Key": "same"})
        again = rd.post("/api/v1/checks", json=link, headers={"Idempotency-Key": "same"})
        assert (first.status_code, again.status_code) == (202, 200) and first.json()["id"] == again.json()["id"]


def test_a_key_over_its_stored_upload_bytes_gets_429_413_for_one_larger_than_the_quota(tmp_path: Path,
                                                                                     media: Media) -> None:
    clip = media.excerpt_240p.read_bytes()
    with quota_app(tmp_path / "home", max_upload_bytes_per_key=len(clip) * 3 // 2) as app:
        with app.client("reader") as rd:
            assert rd.post("/api/v1/checks", files={"file": ("a.mp4", clip)}).status_code == 202
            stored = _files(app.settings.uploads_dir)
            assert len(stored) == 1 and stored[0].parent.name.startswith("k")  # held for its queued job

            message = _refused(rd.post("/api/v1/checks", files={"file": ("b.mp4", clip)}), 429, "quota_exceeded")
            assert "of uploads waiting or kept" in message and "quota" in message
            big = media.original.read_bytes() * 4
            assert len(big) > len(clip) * 3 // 2
            _refused(rd.post("/api/v1/checks", files={"file": ("big.mp4", big)}), 413, "too_large")
            assert _files(app.settings.uploads_dir) == stored  # nothing refused was written
        with app.client("second reader") as other:
            assert other.post("/api/v1/checks", files={"file": ("c.mp4", clip)}).status_code == 202


def test_the_login_form_never_stores_a_file(tmp_path: Path, media: Media) -> None:
    """Anyone may post the login form: a file sent with it must not land on the server's disk."""
    with quota_app(tmp_path / "home") as app, httpx.Client(base_url=app.url, timeout=30) as anon:
        token = csrf_token(anon.get("/").text)
        r = anon.post("/login", data={"csrf": token, "key": "fs_wrong"},
                      files={"file": ("fill.mp4", media.original.read_bytes())})
        assert r.status_code == 401
        assert _files(app.settings.uploads_dir) == []


def test_quota_settings_are_documented() -> None:
    doc = (Path(__file__).parents[1] / "docs" / "thresholds.md").read_text()
    for name in ("max_queued_jobs_per_key", "max_upload_bytes_per_key", "keep_unremembered_uploads_s",
                 "keep_download_cache_s", "prune_every_s"):
        assert f"FIRSTSEEN_{name.upper()}" in doc, name
