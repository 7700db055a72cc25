"""Retention: what firstseen keeps on disk that the archive does not need, and for how long.

Housekeeping beside the data flow, run by ``firstseen prune`` and every
``prune_every_s`` by ``firstseen serve`` and ``firstseen worker`` (``Pruner``):

* **uploads** (``home/uploads/k<key>-<id>/``): a job removes its own upload when it
  ends (``jobs._drop_upload``), except a check kept out of the archive, whose upload
  stays ``keep_unremembered_uploads_s`` after the job ends (default 0: not at all), and
  a job failed by the server (``internal``), whose upload stays ``KEEP_FAILED_UPLOAD_S`` for a retry.
  ``prune`` removes those when their time is up, and any upload no job names (a
  request that died between storing the file and queueing the job) once nothing
  has written to it for ``ORPHAN_UPLOAD_GRACE_S``. An upload of a job still queued
  or running is never touched.
* **the download cache** (``home/cache/downloads/<url key>/``): removed
  ``keep_download_cache_s`` after it was fetched (default a day), unless a queued or
  running job is about to read it.

Never removed: the media of archived items (``home/media``, and any file an item
names, wherever it lies), fingerprints, evidence pictures, the database.

    summary = prune(settings, engine)      # PruneSummary(uploads=2, cache_entries=5, bytes_freed=…)
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from service.archive.access import Archive
from service.jobs import Job, JobStore, unremembered_check, upload_folder
from service.settings import Settings

__all__ = ["ORPHAN_UPLOAD_GRACE_S", "PruneSummary", "Pruner", "prune"]

log = logging.getLogger(__name__)

# An upload no job names yet may still be arriving (a 512 MB body on a slow line) or about to be queued:
# it is left alone until nothing has written to it for this long.
ORPHAN_UPLOAD_GRACE_S = 3600.0
# A job failed by the server, not by its input (error code ``internal``), keeps its upload this long so
# that it can be retried with the same file (POST /api/v1/jobs/{id}/retry).
KEEP_FAILED_UPLOAD_S = 3600.0
# File times further ahead than this are not the kernel's: yt-dlp stamps a download with the server's
# Last-Modified, which a server can put in 2099 to keep its file forever.
CLOCK_SKEW_S = 60.0


@dataclass(frozen=True)
class PruneSummary:
    uploads: int  # upload folders removed
    cache_entries: int  # download cache entries removed
    bytes_freed: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _size(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*"):
        with contextlib.suppress(OSError):
            total += path.stat().st_size if path.is_file() else 0
    return total


def _last_write(folder: Path, now: float) -> float:
    """When anything in ``folder`` was last written, ignoring times set ahead of the clock."""
    times = [folder.stat().st_mtime]
    for path in folder.rglob("*"):
        with contextlib.suppress(OSError):
            times.append(path.stat().st_mtime)
    return max((t for t in times if t <= now + CLOCK_SKEW_S), default=0.0)


def _holds(folder: Path, kept: set[Path]) -> bool:
    return any(folder == p or folder in p.parents for p in kept)


def _remove(folder: Path) -> int:
    size = _size(folder)
    shutil.rmtree(folder, ignore_errors=True)
    return size


def _finished_at(job: Job) -> float:
    import datetime as dt

    stamp = job.finished_at or job.updated_at
    return dt.datetime.fromisoformat(stamp).timestamp()


def _upload_due(folder: Path, job: Job | None, settings: Settings, now: float) -> bool:
    if job is None:
        return now - _last_write(folder, now) > ORPHAN_UPLOAD_GRACE_S
    if not job.finished:
        return False
    if unremembered_check(job):
        return now - _finished_at(job) >= settings.keep_unremembered_uploads_s
    if job.state == "failed" and job.error_code == "internal":
        return now - _finished_at(job) >= KEEP_FAILED_UPLOAD_S
    return True  # failed, archived or remembered: its job should have removed it already


def _cache_keys_in_use(settings: Settings, jobs: Iterable[Job]) -> set[str]:
    """Cache entries a queued or running job will read (its link's entry)."""
    from service.ingest.downloader import LocalOrYtDlpDownloader, is_url

    downloader = LocalOrYtDlpDownloader(settings)  # its cache layout is its own: ask it where a link goes
    return {downloader._cache_dir_for(j.payload["source"]).name for j in jobs
            if isinstance(j.payload.get("source"), str) and is_url(j.payload["source"])}


def prune(settings: Settings, engine: Engine, now: float | None = None) -> PruneSummary:
    """Remove every upload and cache entry whose time is up (see the module docstring)."""
    now = time.time() if now is None else now
    jobs = JobStore(engine)
    kept = {Path(p).resolve() for p in Archive.open(engine).media_paths()}
    uploads = cache_entries = freed = 0

    if settings.uploads_dir.is_dir():
        for folder in sorted(settings.uploads_dir.iterdir()):
            if not folder.is_dir() or _holds(folder.resolve(), kept):
                continue
            named = [j for j in jobs.naming(folder.name) if upload_folder(j) == folder]
            if _upload_due(folder, named[0] if named else None, settings, now):
                freed += _remove(folder)
                uploads += 1

    downloads = settings.cache_dir / "downloads"
    if downloads.is_dir():
        unfinished = [jobs.get(job_id) for job_id in jobs.unfinished()]
        in_use = _cache_keys_in_use(settings, unfinished)
        for entry in sorted(downloads.iterdir()):
            if not entry.is_dir() or _holds(entry.resolve(), kept):
                continue
            if entry.name.removesuffix(".part") in in_use:
                continue
            if now - _last_write(entry, now) >= settings.keep_download_cache_s:
                freed += _remove(entry)
                cache_entries += 1

    summary = PruneSummary(uploads, cache_entries, freed)
    if uploads or cache_entries:
        log.info("pruned %d upload(s) and %d cached download(s), %d bytes", uploads, cache_entries, freed)
    return summary


class Pruner:
    """``prune`` every ``settings.prune_every_s`` in a daemon thread, for ``serve`` and ``worker``."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.settings.prune_every_s <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="firstseen-prune", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:  # once at start (what a crashed process left), then every prune_every_s
            try:
                prune(self.settings, self.engine)
            except Exception:  # a database outage must not end the timer; the next round tries again
                log.warning("pruning failed", exc_info=True)
            if self._stop.wait(self.settings.prune_every_s):
                return

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
