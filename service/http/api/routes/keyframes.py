"""Keyframes of a checked video for reverse image search: the list, each picture, and its public address.

``/api/v1/checks/{id}/keyframes`` lists the shots with their search links; ``…/keyframes/{n}.jpg`` is the
picture for key holders. ``/public/keyframes/{id}/{n}-{token}.jpg`` (no key, not in the API schema) is the
address search engines are sent to: it opens only with the HMAC token ``service.keyframes`` made for that
one picture, and only when ``Settings.public_url`` is set.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from service.errors import NotFound
from service.http.api.deps import ReaderKey, ServicesDep
from service.http.api.routes._common import ERROR_RESPONSES, job_of_kind
from service.http.api.schemas import KeyframeOut, KeyframesOut, SearchLink
from service.http.services import Services, secret_key
from service.jobs import Job
from service.keyframes import NO_PUBLIC_URL, keyframe_jpeg_for, keyframes_for, public_token

__all__ = ["public_router", "router"]

router = APIRouter(prefix="/checks", tags=["checks"], responses=ERROR_RESPONSES)
public_router = APIRouter(include_in_schema=False)

JPEG: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}, "description": "A JPEG"}}


def _listing(services: Services, job: Job) -> KeyframesOut:
    frames = keyframes_for(services.pipeline, job.id, job.report, secret_key(services.settings))
    public = services.settings.public_url is not None
    return KeyframesOut(public=public, note=None if public else NO_PUBLIC_URL, keyframes=[
        KeyframeOut(n=k.n, start=k.shot.start, end=k.shot.end, time=k.shot.time,
                    image_url=f"/api/v1/checks/{job.id}/keyframes/{k.n}.jpg", public_image_url=k.public_url,
                    search=[SearchLink.model_validate({"engine": e, "url": u}) for e, u in k.search])
        for k in frames])


@router.get("/{job_id}/keyframes", name="check_keyframes", response_model=KeyframesOut,
            summary="One keyframe per shot of the checked video, with reverse image search links")
async def check_keyframes(job_id: str, services: ServicesDep, _key: ReaderKey) -> KeyframesOut:
    job = await run_in_threadpool(job_of_kind, services, job_id, "check")
    return await run_in_threadpool(_listing, services, job)


@router.get("/{job_id}/keyframes/{n}.jpg", name="check_keyframe", response_class=Response, responses=JPEG,
            summary="The n-th keyframe at full size")
def check_keyframe(job_id: str, n: int, services: ServicesDep, _key: ReaderKey) -> Response:
    job = job_of_kind(services, job_id, "check")
    return Response(keyframe_jpeg_for(services.pipeline, job.id, job.report, n), media_type="image/jpeg",
                    headers={"Cache-Control": "private, max-age=86400"})


@public_router.get("/public/keyframes/{job_id}/{n}-{token}.jpg", name="public_keyframe")
def public_keyframe(request: Request, job_id: str, n: int, token: str) -> Response:
    services: Services = request.app.state.services
    expected = public_token(secret_key(services.settings), job_id, n)
    if not services.settings.public_url or not hmac.compare_digest(token.encode(), expected.encode()):
        raise NotFound("no such keyframe")
    job = job_of_kind(services, job_id, "check")
    return Response(keyframe_jpeg_for(services.pipeline, job.id, job.report, n), media_type="image/jpeg",
                    headers={"Cache-Control": "public, max-age=86400"})
