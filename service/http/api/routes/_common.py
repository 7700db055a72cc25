"""Helpers the routers share: job status bodies, long-polling, body parsing by content type."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any, TypeVar

from fastapi import Path, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from service.errors import NotFound
from service.http.api.schemas import ErrorBody, JobCreated
from service.http.errors import ApiError
from service.http.services import Services
from service.jobs import Job

__all__ = ["ERROR_RESPONSES", "MAX_DB_INT", "MAX_WAIT_S", "POLL_EVERY_S", "created", "DbId", "error_doc",
           "job_of_kind", "json_body", "media_type", "Offset", "status_url", "wait_for"]

M = TypeVar("M", bound=BaseModel)

MAX_WAIT_S = 60.0
POLL_EVERY_S = 0.25

# The largest id or offset both stores can take (PostgreSQL's INTEGER); a larger one is a 422 at the edge
# instead of an overflow inside the database driver (a 500 schemathesis found).
MAX_DB_INT = 2**31 - 1
DbId = Annotated[int, Path(ge=1, le=MAX_DB_INT)]
Offset = Annotated[int, Query(ge=0, le=MAX_DB_INT)]


def error_doc(code: str, text: str) -> dict[str, Any]:
    """OpenAPI ``responses`` entry for an error: the ``{"error": {"code", "message"}}`` schema and an example."""
    return {"model": ErrorBody, "description": text,
            "content": {"application/json": {"example": {"error": {"code": code, "message": "…"}}}}}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: error_doc(code, text)
    for status, code, text in (
        (400, "bad_input", "Bad input: unreadable video, refused or unreachable link, bad date"),
        (401, "unauthorized", "No API key, or an unknown or revoked one"),
        (403, "forbidden", "The key's role may not do this"),
        (404, "not_found", "No such object"),
        (413, "too_large", "Over an upload, size or duration limit"),
        (422, "validation_error", "The request does not have the documented shape"),
        (429, "rate_limited", "Too many requests for this key (see Retry-After), or `quota_exceeded`: the key "
                              "already has its most jobs queued or running, or upload bytes on disk"),
    )
}


def status_url(request: Request, job: Job) -> str:
    if job.kind == "check":
        return str(request.url_for("get_check", job_id=job.id).path)
    return str(request.url_for("get_job", job_id=job.id).path)


def created(request: Request, job: Job) -> JobCreated:
    return JobCreated(id=job.id, kind=job.kind, status=job.state, status_url=status_url(request, job))


async def wait_for(services: Services, job_id: str, wait: float) -> Job:
    """The job, once finished or after ``wait`` seconds (long-poll), whichever comes first."""
    deadline = time.monotonic() + max(0.0, min(wait, MAX_WAIT_S))
    while True:
        job = await run_in_threadpool(services.jobs.get, job_id)
        if job.finished or time.monotonic() >= deadline:
            return job
        await asyncio.sleep(POLL_EVERY_S)


def job_of_kind(services: Services, job_id: str, kind: str) -> Job:
    job = services.jobs.get(job_id)
    if job.kind != kind:
        raise NotFound(f"no {kind.replace('_', ' ')} job {job_id}")
    return job


async def json_body(request: Request, model: type[M]) -> M:
    raw = await request.body()
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_context=False)) from None


def media_type(request: Request) -> str:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in ("application/json", "multipart/form-data"):
        return ctype
    raise ApiError(415, "unsupported_media_type", "send application/json or multipart/form-data")
