"""What the HTTP front ends share, built once by ``create_app``: pipeline, jobs, keys, queue.

The submission helpers here are the one place a check or an archive addition
becomes a job, for the API and the web form alike: inputs are validated before
anything is queued (a bad date or a refused link is a 400 at once, not a failed job).
"""

from __future__ import annotations

import re
import secrets
import shutil
import threading
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from service.auth import ApiKey, KeyStore, RateLimiter
from service.dates import parse_date
from service.errors import BadInput, FetchRefused, TooLarge
from service.jobs import Job, JobQueue, JobStore
from service.models import ArchiveMetadata, Claims
from service.settings import Settings

__all__ = ["Services", "check_link", "discard_upload", "save_upload", "secret_key", "submit_archive_add",
           "submit_check"]

COPY_CHUNK = 1024 * 1024


@dataclass
class Services:
    settings: Settings
    pipeline: Any  # service.pipeline.Pipeline, for reads and synchronous archive edits
    jobs: JobStore
    keys: KeyStore
    limiter: RateLimiter
    queue: JobQueue
    # Removals update the pipeline's in-memory index, which is not safe for concurrent writers.
    archive_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def uploads_dir(self) -> Path:
        return self.settings.home / "uploads"


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


def _check_date(text: str | None, what: str) -> str | None:
    if text is None or not text.strip():
        return None
    try:
        parse_date(text)
    except BadInput as exc:
        raise BadInput(f"{what}: {exc}") from None
    return text.strip()


def _clean(text: str | None) -> str | None:
    return text.strip() or None if text else None


def save_upload(services: Services, stream: BinaryIO, filename: str | None) -> Path:
    """Copy an uploaded file under ``home/uploads``, stopping as soon as it passes ``max_upload_bytes``."""
    limit = services.settings.max_upload_bytes
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(filename or "").name).strip("._")[:100] or "upload.mp4"
    folder = services.uploads_dir / uuid.uuid4().hex
    folder.mkdir(parents=True)
    dest = folder / name
    size = 0
    try:
        with dest.open("wb") as out:
            while chunk := stream.read(COPY_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"upload is over the limit of {limit / 1e6:.0f} MB")
                out.write(chunk)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    if size == 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise BadInput("the uploaded file is empty")
    return dest


def discard_upload(path: Path | None) -> None:
    """Remove a saved upload that no job will use (the request was refused after it arrived)."""
    if path is not None and path.parent.parent.name == "uploads":
        shutil.rmtree(path.parent, ignore_errors=True)


def submit_check(services: Services, key: ApiKey, *, url: str | None = None, upload: Path | None = None,
                 claimed_date: str | None = None, claimed_location: str | None = None,
                 claimed_event: str | None = None, remember: bool = True,
                 idempotency: str | None = None) -> tuple[Job, bool]:
    """Queue a check of a link or an uploaded file; (job, created). A refused request keeps no upload."""
    try:
        if (url is None) == (upload is None):
            raise BadInput("give either a link (url) or a file, not both or neither")
        source = str(upload) if upload is not None else check_link(url or "", services.settings)
        claims = Claims(date=_check_date(claimed_date, "claimed_date"), location=_clean(claimed_location),
                        event=_clean(claimed_event))
        payload = {"source": source, "claims": asdict(claims), "remember": remember, "actor": key.actor,
                   "upload": upload is not None}
        job, created = _submit(services, "check", payload, key, idempotency)
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
        _check_date(meta.published, "published")
        fields = {k: _clean(v) for k, v in asdict(meta).items()}
        payload = {"source": source, "meta": fields, "actor": key.actor, "upload": upload is not None}
        job, created = _submit(services, "archive_add", payload, key, idempotency)
    except BaseException:
        discard_upload(upload)
        raise
    if not created:
        discard_upload(upload)
    return job, created


def submit_crawl(services: Services, key: ApiKey, source_id: int) -> tuple[Job, bool]:
    services.pipeline.sources.get(source_id)  # NotFound before queueing
    return _submit(services, "crawl", {"source_id": source_id, "actor": key.actor}, key, None)


def _submit(services: Services, kind: str, payload: dict[str, Any], key: ApiKey,
            idempotency: str | None) -> tuple[Job, bool]:
    scoped = f"key {key.id}:{kind}:{idempotency[:200]}" if idempotency else None
    job, created = services.jobs.create(kind, payload, owner=key.actor, idempotency=scoped)
    if created:
        services.queue.enqueue(job.id)
    return job, created
