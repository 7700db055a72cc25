"""Any job by id (archive additions, crawls, checks): state, progress, and its result once done."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from service.http.api.deps import ReaderKey, ServicesDep
from service.http.api.routes._common import ERROR_RESPONSES, created, error_doc, wait_for
from service.http.api.schemas import JobCreated, JobStatus, job_error, job_result
from service.http.errors import ApiError
from service.http.retry import retry_job
from service.jobs import Job

__all__ = ["job_status", "router"]

router = APIRouter(prefix="/jobs", tags=["jobs"], responses=ERROR_RESPONSES)


def job_status(job: Job) -> JobStatus:
    return JobStatus(id=job.id, kind=job.kind, status=job.state, progress=round(job.progress, 3), stage=job.stage,
                     attempts=job.attempts, created_at=job.created_at, started_at=job.started_at,
                     finished_at=job.finished_at, error=job_error(job),
                     result=job_result(job))


@router.get("/{job_id}", response_model=JobStatus, name="get_job", summary="State and progress of any job")
async def get_job(job_id: str, services: ServicesDep, _key: ReaderKey,
                  wait: Annotated[float, Query(ge=0, le=60, description="Long-poll seconds")] = 0) -> JobStatus:
    job = await run_in_threadpool(services.jobs.get, job_id)
    if wait and not job.finished:
        job = await wait_for(services, job_id, wait)
    return job_status(job)


@router.post("/{job_id}/retry", name="retry_job", status_code=202, response_model=JobCreated,
             responses={200: {"model": JobCreated, "description": "A retry of this job is already queued or "
                                                                   "running: that one"},
                        409: error_doc("conflict", "The job did not fail, or its uploaded file is gone")},
             summary="Run a failed check or archive addition again with the same input")
async def retry(job_id: str, request: Request, response: Response, services: ServicesDep,
                key: ReaderKey) -> JobCreated:
    """A new job with the failed one's input (link or kept upload, claims, provenance); a check needs a
    reader key, an archive addition an editor key. The failed job stays as it was."""
    try:
        job, new = await run_in_threadpool(retry_job, services, key, job_id)
    except PermissionError as exc:
        raise ApiError(403, "forbidden", str(exc)) from None
    if not new:
        response.status_code = 200
    return created(request, job)
