"""What the HTTP front ends share, built once by ``create_app``: pipeline, jobs, keys, queue.

The submission helpers here are the one place a check or an archive addition
becomes a job, for the API and the web form alike: inputs are validated before
anything is queued (a bad date or a refused link is a 400 at once, not a failed job),
and each key's share is held to its quotas: ``max_queued_jobs_per_key`` jobs
queued or running, ``max_upload_bytes_per_key`` bytes of uploads on disk (kept in
folders named ``k<key id>-…`` under ``home/uploads``, so they can be counted).
Over a quota is ``QuotaExceeded`` (HTTP 429), and nothing is written.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import shutil
import threading
import uuid
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import urlsplit

from service.auth import ApiKey, KeyStore
from service.dates import KnownDate, parse_claimed_date, parse_date
from service.errors import BadInput, FetchRefused, QuotaExceeded, TooLarge
from service.http.limits import HitLimiter
from service.jobs import Job, JobQueue, JobStore
from service.models import ArchiveMetadata, Claims
from service.settings import Settings

if TYPE_CHECKING:
    from service.pipeline import Pipeline

__all__ = ["check_job_quota", "check_link", "discard_upload", "read_date", "save_upload", "secret_key", "Services",
           "stored_upload_bytes", "submit_archive_add", "submit_check", "submit_crawl", "submit_job"]

COPY_CHUNK = 1024 * 1024


@dataclass
class Services:
    settings: Settings
    pipeline: Pipeline  # for reads and synchronous archive edits
    jobs: JobStore
    keys: KeyStore
    limiter: HitLimiter  # RateLimiter, or RedisRateLimiter shared by the replicas (service/limits_redis.py)
    queue: JobQueue
    # Removals update the pipeline's in-memory index, which is not safe for concurrent writers.
    archive_lock: threading.Lock = field(default_factory=threading.Lock)
    # Counting a key's jobs and adding one happen together, so parallel requests cannot pass the quota.
    submit_lock: AbstractContextManager[Any] = field(default_factory=threading.Lock)

    @property
    def uploads_dir(self) -> Path:
        return self.settings.uploads_dir


def secret_key(settings: Settings) -> str:
    """``Settings.secret_key``, else one generated once and kept in ``home/secret_key``."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.home / "secret_key"
    if not path.is_file():
        settings.home.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".secret_key.{uuid.uuid4().hex}")
        tmp.write_text(secrets.token_urlsafe(48))
        tmp.chmod(0o600)
        try:
            path.hardlink_to(tmp)  # atomic and never overwrites a key another process wrote first
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def check_link(url: str, settings: Settings) -> str:
    """Only http(s) links from outside callers (never a server path); the link-safety guard when present."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FetchRefused(f"only http(s) links can be checked, not {url[:100]!r}")
    try:
        from service.ingest.safety import check_url
    except ImportError:  # the guard also runs inside the downloader on every request
        return url
    check_url(url, settings.allow_hosts)
    return url


def read_date(text: str | None, what: str) -> KnownDate | None:
    """A form or body field's date, parsed once here at the edge; a claimed date still to come is refused.

    ``BadInput`` names the field, so the one-line error says which date could not be read.
    """
    if text is None or not text.strip():
        return None
    try:
        return parse_claimed_date(text) if what == "claimed_date" else parse_date(text)
    except BadInput as exc:
        raise BadInput(f"{what}: {exc}") from None


def _clean(text: str | None) -> str | None:
    return text.strip() or None if text else None


def _mb(n: int) -> str:
    return f"{n / 1e6:.0f} MB"


def stored_upload_bytes(services: Services, key: ApiKey) -> int:
    """Bytes of the key's uploads on disk: waiting for their job, being checked, or kept for a report."""
    total = 0
    for folder in services.uploads_dir.glob(f"k{key.id}-*"):
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):  # its job just ended
            for path in folder.iterdir():
                with contextlib.suppress(FileNotFoundError):
                    total += path.stat().st_size
    return total


def _over_quota(services: Services, used: int, size: int) -> None:
    quota = services.settings.max_upload_bytes_per_key
    if not quota or used + size <= quota:
        return
    if size > quota:
        raise TooLarge(f"upload is over this key's upload quota of {_mb(quota)}")
    raise QuotaExceeded(f"this key already has {_mb(used)} of uploads waiting or kept, and the quota is "
                        f"{_mb(quota)}; try again when its checks have finished")


def save_upload(services: Services, stream: BinaryIO, filename: str | None, key: ApiKey) -> Path:
    """Copy an uploaded file under ``home/uploads``, stopping as soon as it passes ``max_upload_bytes``
    or the key's upload quota; a refused upload leaves nothing behind."""
    limit = services.settings.max_upload_bytes
    quota = services.settings.max_upload_bytes_per_key
    used = stored_upload_bytes(services, key) if quota else 0
    _over_quota(services, used, 0)
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(filename or "").name).strip("._")[:100] or "upload.mp4"
    folder = services.uploads_dir / f"k{key.id}-{uuid.uuid4().hex}"
    folder.mkdir(parents=True)
    dest = folder / name
    size = 0
    try:
        with dest.open("wb") as out:
            while chunk := stream.read(COPY_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"upload is over the limit of {limit / 1e6:.0f} MB")
                _over_quota(services, used, size)
                out.write(chunk)
        if size == 0:
            raise BadInput("the uploaded file is empty")
        if quota:  # counted again with this one on disk: uploads of the same key arriving in parallel
            _over_quota(services, stored_upload_bytes(services, key) - size, size)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return dest


def discard_upload(path: Path | None) -> None:
    """Remove a saved upload that no job will use (the request was refused after it arrived)."""
    if path is not None and path.parent.parent.name == "uploads":
        shutil.rmtree(path.parent, ignore_errors=True)


def _upload_folder(upload: Path | None) -> str | None:
    """What a job's payload says of its upload: the folder ``save_upload`` made for it (the job's runner
    deletes it when nothing needs it any more), None for a link."""
    return str(upload.parent) if upload is not None else None


def submit_check(services: Services, key: ApiKey, *, url: str | None = None, upload: Path | None = None,
                 claimed_date: str | None = None, claimed_location: str | None = None,
                 claimed_event: str | None = None, remember: bool = True,
                 idempotency: str | None = None) -> tuple[Job, bool]:
    """Queue a check of a link or an uploaded file; (job, created). A refused request keeps no upload."""
    try:
        if (url is None) == (upload is None):
            raise BadInput("give either a link (url) or a file, not both or neither")
        claims = Claims(date=read_date(claimed_date, "claimed_date"), location=_clean(claimed_location),
                        event=_clean(claimed_event))  # a bad or future date: refused before the link is looked up
        source = str(upload) if upload is not None else check_link(url or "", services.settings)
        payload = {"source": source, "claims": claims.to_dict(), "remember": remember, "actor": key.actor,
                   "upload": _upload_folder(upload)}
        job, created = submit_job(services, "check", payload, key, idempotency)
    except BaseException:
        discard_upload(upload)
        raise
    if not created:
        discard_upload(upload)  # a repeated request: the first one's upload is the job's
    return job, created


def submit_archive_add(services: Services, key: ApiKey, meta: ArchiveMetadata, *, url: str | None = None,
                       upload: Path | None = None, idempotency: str | None = None) -> tuple[Job, bool]:
    """Queue fingerprinting a link or an uploaded file into the archive with its provenance."""
    try:
        if (url is None) == (upload is None):
            raise BadInput("give either a link (url) or a file, not both or neither")
        source = str(upload) if upload is not None else check_link(url or "", services.settings)
        read_date(meta.published, "published")
        fields = {k: _clean(v) for k, v in asdict(meta).items()}
        payload = {"source": source, "meta": fields, "actor": key.actor, "upload": _upload_folder(upload)}
        job, created = submit_job(services, "archive_add", payload, key, idempotency)
    except BaseException:
        discard_upload(upload)
        raise
    if not created:
        discard_upload(upload)
    return job, created


def submit_crawl(services: Services, key: ApiKey, source_id: int) -> tuple[Job, bool]:
    services.pipeline.archive.source(source_id)  # NotFound before queueing
    return submit_job(services, "crawl", {"source_id": source_id, "actor": key.actor}, key, None)


def check_job_quota(services: Services, key: ApiKey, new_jobs: int = 1, kind: str | None = None,
                    idempotency: str | None = None) -> None:
    """QuotaExceeded when ``new_jobs`` more would put the key over ``max_queued_jobs_per_key``.

    Asked before a request's body is read, too, so an upload over the quota is never stored; a repeat of
    an ``idempotency`` key already used adds no job and passes.
    """
    limit = services.settings.max_queued_jobs_per_key
    if not limit:
        return
    scoped = _scoped(key, kind, idempotency) if kind else None
    if scoped and services.jobs.by_idempotency(scoped) is not None:
        return
    unfinished = services.jobs.count_unfinished(key.actor)
    if unfinished + new_jobs > limit:
        asked = f"{new_jobs} more would pass" if new_jobs > 1 else "the quota is"
        raise QuotaExceeded(f"this key has {unfinished} job(s) queued or running and {asked} {limit}; "
                            "try again when some have finished")


def _scoped(key: ApiKey, kind: str, idempotency: str | None) -> str | None:
    return f"key {key.id}:{kind}:{idempotency[:200]}" if idempotency else None


def submit_job(services: Services, kind: str, payload: dict[str, Any], key: ApiKey,
            idempotency: str | None) -> tuple[Job, bool]:
    scoped = _scoped(key, kind, idempotency)
    with services.submit_lock:
        existing = services.jobs.by_idempotency(scoped) if scoped else None
        if existing is not None:  # a repeat adds nothing, whatever the quota
            return existing, False
        check_job_quota(services, key)
        job, created = services.jobs.create(kind, payload, owner=key.actor, idempotency=scoped)
    if created:
        services.queue.enqueue(job.id)
    return job, created
