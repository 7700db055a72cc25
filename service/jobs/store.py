"""The jobs table: a job's row is the truth about it — state, progress, and its typed result.

A front end writes the row (``JobStore.create``) and hands its id to a queue (service/jobs/queues.py); a
worker moves it through ``start`` → ``progress`` → ``finish`` | ``fail`` (service/jobs/runner.py). A
finished check's result is stored as ``Report.to_dict()`` and read back as a ``Report``
(``Report.from_dict``, which also reads reports stored by earlier versions); an archive addition's as an
``ArchiveItem``; a crawl's as a ``CrawlSummary``.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from service.crawl import CrawlSummary
from service.db.tables import jobs
from service.errors import BadInput, NotFound
from service.models import ArchiveItem, Report

__all__ = ["Job", "JobKind", "JobResult", "JobState", "JobStore", "crawl_summary_dict"]

JobKind = Literal["check", "archive_add", "crawl"]
JobState = Literal["queued", "running", "done", "failed"]
KINDS: tuple[str, ...] = ("check", "archive_add", "crawl")
UNFINISHED: tuple[str, ...] = ("queued", "running")

# What a finished job produced, by kind: check, archive_add, crawl.
JobResult = Report | ArchiveItem | CrawlSummary

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
    result: JobResult | None  # None until done
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

    @property
    def report(self) -> Report:
        """A finished check's report; NotFound for any other job (a route's 404)."""
        if self.kind != "check":
            raise NotFound(f"no check {self.id}")
        if self.state != "done" or not isinstance(self.result, Report):
            raise NotFound(f"check {self.id} is {self.state}, not done")
        return self.result

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "result": _result_dict(self.result)}


def _result_dict(result: JobResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    if isinstance(result, CrawlSummary):
        return crawl_summary_dict(result)
    return result.to_dict()


def crawl_summary_dict(summary: CrawlSummary) -> dict[str, Any]:
    return {"source_id": summary.source_id, "listed": summary.listed, "new": summary.new,
            "added": list(summary.added), "failed": [{"url": u, "reason": r} for u, r in summary.failed]}


def _crawl_summary(d: dict[str, Any]) -> CrawlSummary:
    return CrawlSummary(int(d["source_id"]), int(d["listed"]), int(d["new"]), tuple(int(i) for i in d["added"]),
                        tuple((str(f["url"]), str(f["reason"])) for f in d["failed"]))


def _read_result(kind: str, stored: str | None) -> JobResult | None:
    if stored is None:
        return None
    d = json.loads(stored)
    if kind == "check":
        return Report.from_dict(d)
    if kind == "archive_add":
        return ArchiveItem.from_dict(d)
    return _crawl_summary(d)


def _row_to_job(row: Any) -> Job:
    m = dict(row._mapping)
    m["payload"] = json.loads(m["payload"])
    m["result"] = _read_result(m["kind"], m["result"])
    return Job(**m)


class JobStore:
    """The jobs table: create, read, and the state transitions a worker makes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

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

    def finish(self, job_id: str, result: JobResult) -> None:
        now = _now()
        with self.engine.begin() as c:
            c.execute(jobs.update().where(jobs.c.id == job_id).values(
                state="done", progress=1.0, stage="done", result=json.dumps(_result_dict(result)), finished_at=now,
                updated_at=now))

    def fail(self, job_id: str, message: str, code: str) -> None:
        now = _now()
        with self.engine.begin() as c:
            c.execute(jobs.update().where(jobs.c.id == job_id).values(
                state="failed", stage="failed", error=message, error_code=code, finished_at=now, updated_at=now))
