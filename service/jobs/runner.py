"""Running a job: ``run_job(pipeline, job_id)`` does the work of one row through ``Pipeline``.

Every queue's worker calls it (service/jobs/process_queue.py, service/jobs/redis_queue.py). It writes
progress and the outcome to the row, draws a finished check's pictures ahead (service/report/evidence.py)
and then removes the job's upload when nothing needs it any more.

``run_job`` is idempotent: a job already done or failed is not redone, and a job found ``running`` after a
crash is re-run from scratch (an ingest is one transaction, so a crashed attempt left nothing half-written).

Uploads: the front end that saved an uploaded file names the folder holding it in the payload
(``"upload": "<folder>"``); the runner deletes that folder and nothing else, and knows nothing of how
the HTTP layer lays its uploads out.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from service.errors import BadInput, Conflict, FirstseenError, NotFound, QuotaExceeded, TooLarge
from service.jobs.store import Job, JobResult, JobStore
from service.models import ArchiveMetadata, Claims, Report
from service.settings import Settings

if TYPE_CHECKING:
    from service.pipeline import Pipeline

__all__ = ["error_code", "run_job", "unremembered_check", "upload_folder"]

log = logging.getLogger(__name__)

# Progress is written at most this often (plus on every stage change): a decode reports per frame.
PROGRESS_WRITE_EVERY_S = 0.3


def error_code(exc: FirstseenError) -> str:
    """The short machine-readable name of a domain error, shared by job rows and API bodies."""
    if isinstance(exc, TooLarge):
        return "too_large"
    if isinstance(exc, BadInput):
        return "bad_input"
    if isinstance(exc, NotFound):
        return "not_found"
    if isinstance(exc, Conflict):
        return "conflict"
    if isinstance(exc, QuotaExceeded):
        return "quota_exceeded"
    return "error"


def _progress_writer(store: JobStore, job_id: str) -> Callable[[float, str], None]:
    last_at, last_stage = 0.0, ""

    def write(fraction: float, stage: str) -> None:
        nonlocal last_at, last_stage
        now = time.monotonic()
        if stage != last_stage or now - last_at >= PROGRESS_WRITE_EVERY_S:
            last_at, last_stage = now, stage
            store.progress(job_id, fraction, stage)

    return write


def run_job(pipeline: Pipeline, job_id: str) -> Job:
    """Do the work of one job with ``pipeline`` and record the outcome.

    A domain error (bad link, not a video, over a limit) fails the job with its message; anything
    else is a bug, logged with its traceback, and fails the job as ``internal``.
    """
    store = JobStore(pipeline.engine)
    if not store.start(job_id):
        return store.get(job_id)
    job = store.get(job_id)
    progress = _progress_writer(store, job_id)
    try:
        result = _work(pipeline, job, progress)
    except FirstseenError as exc:
        log.info("job %s (%s) failed: %s", job_id, job.kind, exc)
        store.fail(job_id, str(exc), error_code(exc))
    except Exception:
        log.exception("job %s (%s) crashed", job_id, job.kind)
        store.fail(job_id, "internal error while running the job", "internal")
    else:
        if isinstance(result, Report):  # drawn while the upload is still there; the job reads done only after
            from service.report.evidence import draw_ahead

            done = replace(job, state="done", result=result)
            draw_ahead(pipeline, job_id, result, upload_going=_deleted_at_end(pipeline.settings, done))
        store.finish(job_id, result)
    finished = store.get(job_id)
    _drop_upload(pipeline.settings, finished)  # after the outcome is stored: a crash before it re-runs with it
    return finished


def unremembered_check(job: Job) -> bool:
    """A finished check whose media went nowhere in the archive (kept only for its report, if at all)."""
    return job.kind == "check" and isinstance(job.result, Report) and job.result.remembered_id is None


def upload_folder(job: Job) -> Path | None:
    """The folder holding the job's uploaded file, if it was an upload: the one its payload names (jobs
    stored before the folder was named say ``"upload": true``: the folder of the uploaded file)."""
    named = job.payload.get("upload")
    if not named:
        return None
    return Path(named) if isinstance(named, str) else Path(job.payload["source"]).parent


def _deleted_at_end(settings: Settings, job: Job) -> bool:
    """The job's upload goes when it ends, its report kept without it."""
    return (upload_folder(job) is not None and unremembered_check(job)
            and settings.keep_unremembered_uploads_s <= 0)


def _drop_upload(settings: Settings, job: Job) -> None:
    """An uploaded file is kept only while something still needs it.

    A job failed by its input needs nothing; one failed by the server (``internal``: a crash, a worker
    process dying) keeps it for a retry (service/http/retry.py) until retention removes it
    (``retention.KEEP_FAILED_UPLOAD_S``); an archived or remembered upload has its own copy under ``home/media``;
    a check kept out of the archive keeps its upload ``keep_unremembered_uploads_s`` for its report
    (service/retention.py removes it then), by default not at all (its evidence pictures were drawn).
    """
    folder = upload_folder(job)
    if folder is None or (unremembered_check(job) and not _deleted_at_end(settings, job)):
        return
    if job.state == "failed" and job.error_code == "internal":
        return
    shutil.rmtree(folder, ignore_errors=True)


def _work(pipeline: Pipeline, job: Job, progress: Callable[[float, str], None]) -> JobResult:
    p = job.payload
    actor = p.get("actor") or "system"
    if job.kind == "check":
        claims = Claims.from_dict(p.get("claims", {}))
        return pipeline.check(p["source"], claims, remember=bool(p.get("remember", True)), progress=progress,
                              actor=actor, origin=f"job:{job.id}")
    if job.kind == "archive_add":
        meta = ArchiveMetadata(**p.get("meta", {}))
        return pipeline.archive_add(p["source"], meta, progress=progress, actor=actor, origin=f"job:{job.id}")
    if job.kind == "crawl":
        from service.crawl import crawl

        source_id = int(p["source_id"])
        return crawl(pipeline, source_id, progress=lambda done, total, _name: progress(
            done / total if total else 0.0, "crawl"))
    raise BadInput(f"unknown job kind {job.kind!r}")
