"""What a failed job's page offers: try again with the same input, or go back to its form with what was entered.

``POST /jobs/{id}/retry`` (CSRF-checked; a check needs a reader key, an archive addition an editor key,
as ``POST /api/v1/jobs/{id}/retry`` does) queues a new job with the failed one's input and opens its
page. ``GET /jobs/{id}/again`` shows the check form or the archive's add form filled with what the
failed job was given (link, claims, provenance), so a mistyped link is corrected rather than retyped.
A file cannot be put back into a file input, so an upload whose file is gone says to choose it again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from service.errors import FirstseenError, NotFound
from service.http.retry import retry_job
from service.jobs import Job

if TYPE_CHECKING:
    from service.auth import ApiKey
    from service.http.services import Services

__all__ = ["entered_fields", "router"]

router = APIRouter(include_in_schema=False)


def entered_fields(job: Job) -> dict[str, str]:
    """The form fields a job was submitted with (no file: a file input cannot be refilled)."""
    p = job.payload
    fields: dict[str, Any] = {} if p.get("upload") else {"url": p.get("source", "")}
    if job.kind == "check":
        claims = p.get("claims") or {}
        fields.update({f"claimed_{k}": v for k, v in claims.items() if k in ("date", "location", "event")})
    else:
        fields.update(p.get("meta") or {})
    return {k: str(v) for k, v in fields.items() if v}


def _again_page(request: Request, services: Services, key: ApiKey, job: Job, error: str, status: int = 200) -> Response:
    from service.http.web.routes import page

    form = entered_fields(job)
    if job.kind == "check":
        return page(request, "index.html", key, status=status, error=error, recent=[], form=form)
    if not key.can("editor"):
        return page(request, "error.html", key, status=403, message="The archive page needs an editor key.")
    items = services.pipeline.archive.items(limit=50)
    return page(request, "archive.html", key, status=status, items=items, more=False, q="", added=None, offset=0,
                 error=error, form=form, removed=None)


def _failed_job(services: Services, job_id: str) -> Job | None:
    try:
        job = services.jobs.get(job_id)
    except NotFound:
        return None
    return job if job.kind in ("check", "archive_add") else None


@router.get("/jobs/{job_id}/again", response_class=HTMLResponse, name="web_job_again")
def again(request: Request, job_id: str) -> Response:
    from service.http.web.routes import logged_in, page, services_of

    services = services_of(request)
    key = logged_in(request, services)
    job = _failed_job(services, job_id)
    if job is None:
        return page(request, "error.html", key, status=404, message="There is no such job.")
    error = f"The earlier attempt failed: {job.error}" if job.state == "failed" and job.error else ""
    if job.payload.get("upload"):
        error = (error + " " if error else "") + "Choose the file again."
    return _again_page(request, services, key, job, error)


@router.post("/jobs/{job_id}/retry", name="web_retry_job")
async def retry(request: Request, job_id: str) -> Response:
    from service.http.errors import status_for
    from service.http.web.routes import logged_in, page, posted_form, services_of

    services = services_of(request)
    key = logged_in(request, services)
    try:
        await posted_form(request, services)
        job, _ = await run_in_threadpool(retry_job, services, key, job_id)
    except PermissionError as exc:
        return page(request, "error.html", key, status=403, message=str(exc))
    except NotFound:
        return page(request, "error.html", key, status=404, message="There is no such job.")
    except FirstseenError as exc:
        failed = _failed_job(services, job_id)
        if failed is None:
            return page(request, "error.html", key, status=status_for(exc), message=str(exc))
        return _again_page(request, services, key, failed, str(exc), status=status_for(exc))
    name = "web_check" if job.kind == "check" else "web_job"
    return RedirectResponse(request.url_for(name, job_id=job.id).path, status_code=303)
