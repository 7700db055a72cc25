"""Checks: submit a link or a file, poll its progress, read the report and its evidence."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from service.errors import BadInput
from service.http.api.deps import ReaderKey, ServicesDep
from service.http.api.routes._common import (
    ERROR_RESPONSES,
    POLL_EVERY_S,
    created,
    error_doc,
    job_of_kind,
    json_body,
    media_type,
    wait_for,
)
from service.http.api.schemas import (
    BatchCreated,
    BatchRequest,
    CheckRequest,
    CheckStatus,
    Claimed,
    JobCreated,
    job_error,
    public_report,
)
from service.http.services import check_job_quota, discard_upload, submit_check
from service.http.uploads import read_form
from service.jobs import Job
from service.report.evidence import evidence_count, evidence_jpeg
from service.timeline import report_timeline_png

# One event stream lasts at most this long; EventSource clients reconnect by themselves.
EVENTS_MAX_S = 600.0

__all__ = ["router"]

router = APIRouter(prefix="/checks", tags=["checks"], responses=ERROR_RESPONSES)

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200,
                                              description="Repeat a POST safely: the same key gets the same job.")]

CHECK_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": CheckRequest.model_json_schema()},
            "multipart/form-data": {"schema": {
                "type": "object", "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"},
                               **{k: v for k, v in Claimed.model_json_schema()["properties"].items()}},
            }},
        },
    }
}


@router.post("", status_code=202, response_model=JobCreated, openapi_extra=CHECK_BODY,
             responses={200: {"model": JobCreated, "description": "A repeat with the same `Idempotency-Key`: "
                                                                   "the job the first request made"},
                        415: error_doc("unsupported_media_type", "A body that is neither JSON nor multipart")},
             summary="Check a link (JSON) or an uploaded file (multipart)")
async def create_check(request: Request, response: Response, services: ServicesDep, key: ReaderKey,
                       idempotency_key: IdempotencyKey = None) -> JobCreated:
    claimed: Claimed
    if media_type(request) == "application/json":
        body = await json_body(request, CheckRequest)
        url, upload, claimed = body.url, None, body
    else:
        # Over the key's job quota is refused before a byte of the upload is stored.
        await run_in_threadpool(check_job_quota, services, key, 1, "check", idempotency_key)
        fields, upload = await read_form(request, services, key)
        try:
            claimed = Claimed.model_validate(fields)
        except ValidationError as exc:
            discard_upload(upload)
            raise RequestValidationError(exc.errors(include_url=False, include_context=False)) from None
        if upload is None:
            raise BadInput("multipart checks need a 'file' field with the video")
        url = None
    job, new = await run_in_threadpool(
        lambda: submit_check(services, key, url=url, upload=upload, claimed_date=claimed.claimed_date,
                             claimed_location=claimed.claimed_location, claimed_event=claimed.claimed_event,
                             remember=claimed.remember, idempotency=idempotency_key))
    if not new:
        response.status_code = 200
    return created(request, job)


@router.post("/batch", name="create_check_batch", status_code=202, response_model=BatchCreated,
             summary="Check many links, one job each")
def create_batch(request: Request, body: BatchRequest, services: ServicesDep, key: ReaderKey,
                 idempotency_key: IdempotencyKey = None) -> BatchCreated:
    from service.http.services import check_link

    for url in body.urls:  # refuse the whole batch before queueing any of it
        check_link(url, services.settings)
    check_job_quota(services, key, len(body.urls), "check", f"{idempotency_key}#0" if idempotency_key else None)
    jobs = []
    for n, url in enumerate(body.urls):
        job, _ = submit_check(services, key, url=url, claimed_date=body.claimed_date,
                              claimed_location=body.claimed_location, claimed_event=body.claimed_event,
                              remember=body.remember,
                              idempotency=f"{idempotency_key}#{n}" if idempotency_key else None)
        jobs.append(created(request, job))
    return BatchCreated(jobs=jobs)


def check_status(request: Request, job: Job) -> CheckStatus:
    report = job.report if job.state == "done" else None
    links: dict[str, Any] = {}
    if report is not None:
        links = {
            "evidence": [str(request.url_for("check_evidence", job_id=job.id, n=n).path)
                         for n in range(evidence_count(report))],
            "timeline_url": str(request.url_for("check_timeline", job_id=job.id).path),
            # A miss rates no claim: no ClaimReview is offered for it (service/reviews.py).
            "claimreview_url": str(request.url_for("check_claimreview", job_id=job.id).path)
            if report.verdict != "no_prior_match" else None,
        }
    return CheckStatus(id=job.id, status=job.state, progress=round(job.progress, 3), stage=job.stage,
                       created_at=job.created_at, started_at=job.started_at, finished_at=job.finished_at,
                       error=job_error(job), report=public_report(report) if report is not None else None, **links)


@router.get("/{job_id}", response_model=CheckStatus, name="get_check",
            summary="Status and progress of a check; its report once done")
async def get_check(request: Request, job_id: str, services: ServicesDep, _key: ReaderKey,
                    wait: Annotated[float, Query(ge=0, le=60, description="Long-poll: wait up to this many "
                                                 "seconds for the check to finish")] = 0) -> CheckStatus:
    job = await run_in_threadpool(job_of_kind, services, job_id, "check")
    if wait and not job.finished:
        job = await wait_for(services, job_id, wait)
    return check_status(request, job)


@router.get("/{job_id}/events", name="check_events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "`progress` events while it runs, then one `done` or `failed` "
                                            "event carrying the same JSON as GET /checks/{id}"}},
            summary="Progress as server-sent events until the check finishes")
async def check_events(request: Request, job_id: str, services: ServicesDep, _key: ReaderKey) -> StreamingResponse:
    job = await run_in_threadpool(job_of_kind, services, job_id, "check")

    async def events() -> AsyncIterator[str]:
        nonlocal job
        last: tuple[str, float, str] | None = None
        deadline = time.monotonic() + EVENTS_MAX_S
        while True:
            if job.finished:
                body = check_status(request, job).model_dump_json()
                yield f"event: {job.state}\ndata: {body}\n\n"
                return
            now = (job.state, round(job.progress, 3), job.stage)
            if now != last:
                last = now
                data = json.dumps({"status": now[0], "progress": now[1], "stage": now[2]})
                yield f"event: progress\ndata: {data}\n\n"
            if time.monotonic() > deadline or await request.is_disconnected():
                return  # the client reconnects (EventSource does) or polls
            await asyncio.sleep(POLL_EVERY_S)
            job = await run_in_threadpool(services.jobs.get, job_id)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.get("/{job_id}/evidence/{n}.jpg", name="check_evidence", response_class=Response,
            responses={200: {"content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
                             "description": "A JPEG"}},
            summary="Query frame and archive frame side by side for the n-th matched segment")
def check_evidence(job_id: str, n: int, services: ServicesDep, _key: ReaderKey) -> Response:
    job = job_of_kind(services, job_id, "check")
    return Response(evidence_jpeg(services.pipeline, job.report, n, job.id), media_type="image/jpeg",
                    headers={"Cache-Control": "private, max-age=86400"})


@router.get("/{job_id}/timeline.png", name="check_timeline", response_class=Response,
            responses={200: {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
                             "description": "A PNG"}},
            summary="Every known upload of the matched footage on a date axis")
def check_timeline(job_id: str, services: ServicesDep, _key: ReaderKey) -> Response:
    job = job_of_kind(services, job_id, "check")
    return Response(report_timeline_png(job.report), media_type="image/png")
