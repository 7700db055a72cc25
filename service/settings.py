"""Typed settings, built once by a front end (CLI entry, ``create_app``) and handed down.

Every knob is read from the environment with the ``FIRSTSEEN_`` prefix
(``FIRSTSEEN_HOME``, ``FIRSTSEEN_DATABASE_URL`` ...). Nothing here is built at
import time: tests construct their own ``Settings(home=tmp_path)``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "default_home"]


def default_home() -> Path:
    """Per-user data dir (XDG on Linux), where the embedded archive lives."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "firstseen"


def _public_url(value: str | None) -> str | None:
    from service.markup import is_http_url

    if not value:
        return None
    if not is_http_url(value):
        raise ValueError("public_url must be an http:// or https:// address")
    return value.rstrip("/")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FIRSTSEEN_", extra="ignore")

    home: Path = Field(default_factory=default_home)
    # None means the embedded SQLite file ``<home>/archive.sqlite3``.
    database_url: str | None = None

    # --- ingest limits (sensible for viral clips; raise for long broadcasts)
    max_duration_s: float = 3600.0
    max_download_bytes: int = 2 * 1024**3
    max_pixels: int = 8192 * 8192
    socket_timeout_s: float = 30.0
    # Hosts or CIDR networks exempt from the private-address guard (tests, intranets).
    allow_hosts: list[str] = Field(default_factory=list)

    # --- index: "auto" picks exact numpy below a million hashes, multi-index hashing above
    index_backend: Literal["auto", "exact", "mih"] = "auto"

    # --- signals (service/signals/registry.py): which kinds of evidence a check extracts and matches, by name
    # ("video-phash" ...); None: every registered type whose library is installed.
    signals: list[str] | None = None

    # --- decode
    sample_fps: float = 2.0
    # Wall-clock seconds one file may take to decode, then TooLarge. Not CPU time: FFmpeg decodes on
    # threads of its own (the calling thread sees a tenth of the work) and the process's CPU time
    # counts other jobs; wall time is what the next job in the queue waits.
    max_decode_s: float = 900.0

    # --- archive import: decompressed bytes one `firstseen archive import` file may hold
    max_import_bytes: int = 16 * 1024**3

    # --- service
    redis_url: str | None = None  # set: jobs go to Redis for `firstseen worker` processes (service/jobs/redis_queue.py)
    redis_namespace: str = "firstseen"  # prefix of every Redis key, so deployments can share one Redis
    # A worker silent this long counts as dead and its unfinished job goes back on the queue.
    worker_heartbeat_timeout_s: float = 10.0
    rate_limit_per_minute: int = 120
    max_upload_bytes: int = 512 * 1024**2
    secret_key: str | None = None
    # Send the web form's session cookie over HTTPS only: set it behind a TLS reverse proxy.
    secure_cookies: bool = False
    # The address the world reaches this server at (https://checks.example.org). Set, each keyframe gets a
    # public, unguessable address and reverse-image-search links (service/keyframes.py); unset, none do.
    public_url: Annotated[str | None, AfterValidator(_public_url)] = None

    # --- per-key quotas (0: no limit). A batch of checks fits in the default; more waits for some to finish.
    max_queued_jobs_per_key: int = 100  # jobs queued or running at once
    max_upload_bytes_per_key: int = 2 * 1024**3  # uploads on disk at once (waiting, running, kept for a report)

    # --- the organisation publishing fact checks: author of its ClaimReview and MediaReview (service/reviews.py)
    review_org_name: str | None = None
    review_org_url: str | None = None  # its home page
    review_org_logo: str | None = None  # an image URL

    # --- retention (service/retention.py; `firstseen prune`)
    # An upload checked without remembering it is deleted this long after its job ends (0: when it ends).
    keep_unremembered_uploads_s: float = 0.0
    keep_download_cache_s: float = 86400.0  # a downloaded video is deleted this long after it was fetched
    prune_every_s: float = 600.0  # how often `serve` and `worker` prune (0: only `firstseen prune`)

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def media_dir(self) -> Path:
        return self.home / "media"

    @property
    def evidence_dir(self) -> Path:
        return self.home / "evidence"

    @property
    def uploads_dir(self) -> Path:
        return self.home / "uploads"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'archive.sqlite3'}"

    def ensure_dirs(self) -> None:
        for path in (self.home, self.cache_dir, self.media_dir, self.evidence_dir):
            path.mkdir(parents=True, exist_ok=True)
