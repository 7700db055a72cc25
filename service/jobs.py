"""Jobs: long work (checks, archive additions, crawls) run outside the request that asked for it.

A front end (API, web form) writes a job row and calls ``queue.enqueue(job_id)``;
a worker calls ``run_job(pipeline, job_id)``, which does the work through
``Pipeline`` and writes progress and the result back to the row. Front ends read
progress from the database only, so any queue works behind the ``JobQueue``
protocol: ``ProcessQueue`` (worker processes beside the API, the default;
service/worker_process.py) or ``RedisQueue`` (service/queue_redis.py).

    jobs = JobStore(engine)
    job = jobs.create("check", {"source": "https://…", "claims": {"date": "2021-03-11"}})
    queue.enqueue(job.id)            # a worker runs run_job(pipeline, job.id)
    jobs.get(job.id).state           # queued → running → done | failed

``run_job`` is idempotent: a job already done or failed is not redone, and a job
found ``running`` after a crash is re-run from scratch (an ingest is one
transaction, so a crashed attempt left nothing half-written).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from service.archive.schema import migrate
from service.archive.store import metadata
from service.errors import BadInput, Conflict, FirstseenError, NotFound, QuotaExceeded, TooLarge
from service.models import ArchiveItem, ArchiveMetadata, Claims, Segment
from service.settings import Settings

__all__ = [
    "Job",
    "JobKind",
    "JobQueue",
    "JobState",
    "JobStore",
    "error_code",
    "unremembered_check",
    "upload_folder",
    "evidence_count",
    "evidence_jpeg_for",
    "run_job",
    "timeline_png_for",
]

log = logging.getLogger(__name__)

JobKind = Literal["check", "archive_add", "crawl"]
JobState = Literal["queued", "running", "done", "failed"]
KINDS: tuple[str, ...] = ("check", "archive_add", "crawl")
UNFINISHED: tuple[str, ...] = ("queued", "running")

# Progress is written at most this often (plus on every stage change): a decode reports per frame.
PROGRESS_WRITE_EVERY_S = 0.3

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("state", sa.String(10), nullable=False, index=True),
    sa.Column("progress", sa.Float, nullable=False, default=0.0),
    sa.Column("stage", sa.String(40), nullable=False, default="queued"),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("result", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("error_code", sa.String(40)),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("owner", sa.String(200)),
    # Scoped by the caller (e.g. "key 3:abc"): the same key posting the same request twice gets one job.
    sa.Column("idempotency", sa.String(300), unique=True),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("started_at", sa.String(40)),
    sa.Column("finished_at", sa.String(40)),
    sa.Column("updated_at", sa.String(40), nullable=False),
)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Job:
    id: str
    kind: str
    state: JobState
    progress: float
    stage: str
    payload: dict[str, Any]
    result: Any
    error: str | None
    error_code: str | None
    attempts: int
    owner: str | None
    idempotency: str | None
    created_at: str
    started_at: str | None
    finished_at: str | None
    updated_at: str

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _row_to_job(row: Any) -> Job:
    m = dict(row._mapping)
    m["payload"] = json.loads(m["payload"])
    m["result"] = json.loads(m["result"]) if m["result"] is not None else None
    return Job(**m)


class JobStore:
    """The jobs table: create, read, and the state transitions a worker makes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        migrate(engine)  # creates or upgrades every table (service/archive/schema.py)

    def create(self, kind: str, payload: dict[str, Any], owner: str | None = None,
               idempotency: str | None = None) -> tuple[Job, bool]:
        """(job, created): with an idempotency key already used, the existing job and False."""
        if kind not in KINDS:
            raise BadInput(f"unknown job kind {kind!r}")
        if idempotency:
            existing = self.by_idempotency(idempotency)
            if existing is not None:
                return existing, False
        now = _now()
        job_id = uuid.uuid4().hex
        try:
            with self.engine.begin() as c:
                c.execute(jobs.insert().values(
                    id=job_id, kind=kind, state="queued", progress=0.0, stage="queued",
                    payload=json.dumps(payload), attempts=0, owner=owner, idempotency=idempotency,
                    created_at=now, updated_at=now,
                ))
        except sa.exc.IntegrityError:  # a concurrent request with the same idempotency key won
            existing = self.by_idempotency(idempotency) if idempotency else None
            if existing is None:
                raise
            return existing, False
        return self.get(job_id), True

    def by_idempotency(self, key: str) -> Job | None:
        with self.engine.connect() as c:
            row = c.execute(jobs.select().where(jobs.c.idempotency == key)).one_or_none()
        return _row_to_job(row) if row is not None else None

    def get(self, job_id: str) -> Job:
        with self.engine.connect() as c:
            row = c.execute(jobs.select().where(jobs.c.id == job_id)).one_or_none()
        if row is None:
            raise NotFound(f"no job {job_id}")
        return _row_to_job(row)

    def recent(self, kind: str | None = None, states: Iterable[str] | None = None, owner: str | None = None,
               limit: int = 100, offset: int = 0) -> list[Job]:
        """Newest first."""
        stmt = jobs.select().order_by(jobs.c.created_at.desc(), jobs.c.id).limit(limit).offset(offset)
        if kind:
            stmt = stmt.where(jobs.c.kind == kind)
        if owner:
            stmt = stmt.where(jobs.c.owner == owner)
        if states is not None:
            stmt = stmt.where(jobs.c.state.in_(list(states)))
        with self.engine.connect() as c:
            return [_row_to_job(r) for r in c.execute(stmt)]

    def count_unfinished(self, owner: str) -> int:
        """Jobs of ``owner`` queued or running (the per-key quota)."""
        stmt = sa.select(sa.func.count()).select_from(jobs).where(
            (jobs.c.owner == owner) & jobs.c.state.in_(UNFINISHED))
        with self.engine.connect() as c:
            return int(c.execute(stmt).scalar_one())

    def naming(self, text: str) -> list[Job]:
        """Jobs whose payload contains ``text`` (an upload folder's name), newest first."""
        like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = jobs.select().where(jobs.c.payload.like(like, escape="\\")).order_by(jobs.c.created_at.desc())
        with self.engine.connect() as c:
            return [_row_to_job(r) for r in c.execute(stmt)]

    def unfinished(self) -> list[str]:
        """Ids of jobs queued or left running (by a crashed worker), oldest first."""
        stmt = sa.select(jobs.c.id).where(jobs.c.state.in_(UNFINISHED)).order_by(jobs.c.created_at)
        with self.engine.connect() as c:
            return [r[0] for r in c.execute(stmt)]

    # -- transitions (the worker's side) ---------------------------------
    def start(self, job_id: str) -> bool:
        """queued/running → running, one more attempt; False when the job is already finished."""
        now = _now()
        with self.engine.begin() as c:
            n = c.execute(jobs.update().where((jobs.c.id == job_id) & jobs.c.state.in_(UNFINISHED)).values(
                state="running", attempts=jobs.c.attempts + 1, progress=0.0, stage="starting",
                started_at=now, updated_at=now, error=None, error_code=None,
            )).rowcount
        return bool(n)

    def progress(self, job_id: str, fraction: float, stage: str) -> None:
        with self.engine.begin() as c:
            c.execute(jobs.update().where((jobs.c.id == job_id) & (jobs.c.state == "running")).values(
                progress=max(0.0, min(1.0, float(fraction))), stage=stage[:40], updated_at=_now()))

    def finish(self, job_id: str, result: Any) -> None:
        now = _now()
        with self.engine.begin() as c:
            c.execute(jobs.update().where(jobs.c.id == job_id).values(
                state="done", progress=1.0, stage="done", result=json.dumps(result), finished_at=now,
                updated_at=now))

    def fail(self, job_id: str, message: str, code: str) -> None:
        now = _now()
        with self.engine.begin() as c:
            c.execute(jobs.update().where(jobs.c.id == job_id).values(
                state="failed", stage="failed", error=message, error_code=code, finished_at=now, updated_at=now))


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


# -- running a job ---------------------------------------------------------
def _progress_writer(store: JobStore, job_id: str) -> Callable[[float, str], None]:
    last_at, last_stage = 0.0, ""

    def write(fraction: float, stage: str) -> None:
        nonlocal last_at, last_stage
        now = time.monotonic()
        if stage != last_stage or now - last_at >= PROGRESS_WRITE_EVERY_S:
            last_at, last_stage = now, stage
            store.progress(job_id, fraction, stage)

    return write


def run_job(pipeline: Any, job_id: str) -> Job:
    """Do the work of one job with ``pipeline`` (a ``service.pipeline.Pipeline``) and record the outcome.

    A domain error (bad link, not a video, over a limit) fails the job with its message; anything
    else is a bug, logged with its traceback, and fails the job as ``internal``.
    """
    store = JobStore(pipeline.store.engine)
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
        # Drawn while the upload is still there; the job reads done only once they exist.
        _draw_evidence_ahead(pipeline, replace(job, state="done", result=result))
        store.finish(job_id, result)
    finished = store.get(job_id)
    _drop_upload(pipeline, finished)  # after the outcome is stored: a crash before it re-runs with the upload
    return finished


# An unremembered upload is deleted when its check ends: its evidence pictures are drawn first, at most this many.
EVIDENCE_DRAWN_AHEAD = 24


def unremembered_check(job: Job) -> bool:
    """A finished check whose media went nowhere in the archive (kept only for its report, if at all)."""
    return job.kind == "check" and job.state == "done" and not (job.result or {}).get("remembered_id")


def upload_folder(job: Job, uploads_dir: Path) -> Path | None:
    """The folder under ``uploads_dir`` holding the job's uploaded file, if it was an upload."""
    if not job.payload.get("upload"):
        return None
    folder = Path(job.payload["source"]).parent
    return folder if folder.parent == uploads_dir else None


def _deleted_at_end(settings: Settings, job: Job) -> bool:
    """The job's upload goes when it ends, its report kept without it."""
    return (upload_folder(job, settings.uploads_dir) is not None and unremembered_check(job)
            and settings.keep_unremembered_uploads_s <= 0)


def _draw_evidence_ahead(pipeline: Any, job: Job) -> None:
    """A finished check's evidence pack (service/report/evidence_pack.py), and, when its upload is about to be
    deleted, its keyframes and side-by-side pictures too (cached under home/evidence and home/keyframes)."""
    from service.keyframes import draw_ahead as draw_keyframes
    from service.report.evidence_pack import draw_ahead as draw_pack

    if job.kind == "check":
        draw_pack(pipeline, job.id, job.result, EVIDENCE_DRAWN_AHEAD)  # the evidence pack, for every check
    if not _deleted_at_end(pipeline.settings, job):
        return
    draw_keyframes(pipeline, job.id, job.result)  # the report's keyframes for reverse search, too
    for n in range(min(evidence_count(job), EVIDENCE_DRAWN_AHEAD)):
        try:
            evidence_jpeg_for(pipeline, job, n)
        except (FirstseenError, OSError) as exc:
            log.info("no evidence picture %d for job %s: %s", n, job.id, exc)


def _drop_upload(pipeline: Any, job: Job) -> None:
    """An uploaded file is kept only while something still needs it.

    A job failed by its input needs nothing; one failed by the server (``internal``: a crash, a worker
    process dying) keeps it for a retry (service/http/retry.py) until retention removes it
    (``retention.KEEP_FAILED_UPLOAD_S``); an archived or remembered upload has its own copy under ``home/media``;
    a check kept out of the archive keeps its upload ``keep_unremembered_uploads_s`` for its report
    (service/retention.py removes it then), by default not at all (its evidence pictures were drawn).
    """
    settings: Settings = pipeline.settings
    folder = upload_folder(job, settings.uploads_dir)
    if folder is None or (unremembered_check(job) and not _deleted_at_end(settings, job)):
        return
    if job.state == "failed" and job.error_code == "internal":
        return
    shutil.rmtree(folder, ignore_errors=True)


def _work(pipeline: Any, job: Job, progress: Callable[[float, str], None]) -> Any:
    p = job.payload
    actor = p.get("actor") or "system"
    if job.kind == "check":
        claims = Claims(**p.get("claims", {}))
        report = pipeline.check(p["source"], claims, remember=bool(p.get("remember", True)), progress=progress,
                                actor=actor, origin=f"job:{job.id}")
        return report.to_dict()
    if job.kind == "archive_add":
        meta = ArchiveMetadata(**p.get("meta", {}))
        item = pipeline.archive_add(p["source"], meta, progress=progress, actor=actor, origin=f"job:{job.id}")
        return item.to_dict()
    if job.kind == "crawl":
        source_id = int(p["source_id"])
        summary = pipeline.crawl(source_id, progress=lambda done, total, _name: progress(
            done / total if total else 0.0, "crawl"))
        return {"source_id": summary.source_id, "listed": summary.listed, "new": summary.new,
                "added": list(summary.added), "failed": [{"url": u, "reason": r} for u, r in summary.failed]}
    raise BadInput(f"unknown job kind {job.kind!r}")


# -- queues ----------------------------------------------------------------
class JobQueue(Protocol):
    """Where front ends hand a job to workers. They only ever call ``enqueue``."""

    def enqueue(self, job_id: str) -> None: ...


def resume_unfinished(store: JobStore, queue: JobQueue) -> list[str]:
    """Hand every queued job and every job a crashed worker left running back to the queue."""
    ids = store.unfinished()
    for job_id in ids:
        queue.enqueue(job_id)
    if ids:
        log.info("resuming %d unfinished job(s)", len(ids))
    return ids


# -- what a finished check can show ------------------------------------------
def _check_report(job: Job) -> dict[str, Any]:
    if job.kind != "check":
        raise NotFound(f"no check {job.id}")
    if job.state != "done":
        raise NotFound(f"check {job.id} is {job.state}, not done")
    report: dict[str, Any] = job.result
    return report


def _segments(report: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(match, segment) for every matched segment, in report order: evidence picture n is the n-th."""
    return [(m, s) for m in report["matches"] for s in m["segments"]]


def evidence_count(job: Job) -> int:
    return len(_segments(_check_report(job)))


def evidence_jpeg_for(pipeline: Any, job: Job, n: int) -> bytes:
    """Side-by-side frames of the n-th matched segment of a finished check (cached under home/evidence)."""
    report = _check_report(job)
    pairs = _segments(report)
    if not 0 <= n < len(pairs):
        raise NotFound(f"check {job.id} has no evidence picture {n}")
    cached: Path = pipeline.settings.evidence_dir / f"{job.id}-{n}.jpg"
    if cached.is_file():
        return cached.read_bytes()
    match, seg = pairs[n]
    query_media = Path(report["source"]["media_path"])
    if not query_media.is_file() and report.get("remembered_id"):  # the upload was dropped: use the kept copy
        kept = pipeline.store.media_path(report["remembered_id"])
        query_media = Path(kept) if kept else query_media
    archive_media = pipeline.store.media_path(match["archive_id"])
    if not query_media.is_file() or not archive_media or not Path(archive_media).is_file():
        raise NotFound(f"the media for evidence picture {n} of check {job.id} is no longer kept")
    import io

    from service.evidence import side_by_side

    image = side_by_side(query_media, Path(archive_media), Segment(**seg), bool(match["flipped"]),
                         archive_label=f"archive #{match['archive_id']}")
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=85)
    data = buf.getvalue()
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(cached)
    return data


def timeline_png_for(pipeline: Any, job: Job) -> bytes:
    """Every known upload of the matched footage by date, and the checked upload at its claimed date."""
    from service.timeline import checked_entry, entries_from_items, render_timeline_png

    report = _check_report(job)
    remembered = report.get("remembered_id")
    items = [ArchiveItem(**d) for d in report["footage"] if d["id"] != remembered]
    entries = entries_from_items(items)
    checked = checked_entry(report)
    if checked is not None:
        entries = sorted([*entries, checked], key=lambda e: e.day)
    return render_timeline_png(entries)

