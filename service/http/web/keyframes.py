"""The web form's keyframes page and the platform panel's rows: the fallback when the archive misses.

A page of its own, linked from the report: detecting the shots of a long video takes seconds, and the
report must not wait for it. Uses the web form's session (``service.http.web.routes``) and the same
``service.keyframes`` as the API.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from service.errors import FirstseenError, NotFound
from service.http.services import secret_key
from service.keyframes import NO_PUBLIC_URL, keyframe_jpeg_for, keyframes_for

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/checks/{job_id}/keyframes", response_class=HTMLResponse, name="web_keyframes")
async def keyframes_page(request: Request, job_id: str) -> Response:
    from service.http.web.routes import job_of_kind, logged_in, page

    services = request.app.state.services
    key = logged_in(request, services)
    try:
        job = job_of_kind(services, job_id, "check")
        report = job.report
        frames = await run_in_threadpool(keyframes_for, services.pipeline, job.id, report,
                                         secret_key(services.settings))
    except NotFound:
        return page(request, "error.html", key, status=404,
                     message="There is no such finished check. Open it from the list of recent checks.")
    except FirstseenError as exc:
        return page(request, "error.html", key, status=400,
                     message=f"The keyframes of this check could not be drawn: {exc}")
    return page(request, "keyframes.html", key, job=job, frames=frames, report=report,
                 public=services.settings.public_url is not None, no_public_url=NO_PUBLIC_URL)


@router.get("/checks/{job_id}/keyframes/{n}.jpg", name="web_keyframe")
def keyframe(request: Request, job_id: str, n: int) -> Response:
    from service.http.web.routes import job_of_kind, logged_in

    services = request.app.state.services
    logged_in(request, services)
    job = job_of_kind(services, job_id, "check")
    data = keyframe_jpeg_for(services.pipeline, job.id, job.report, n)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})
