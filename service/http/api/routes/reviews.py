"""A check's ClaimReview and MediaReview: the editor's details (GET/PUT ``review``) and the JSON-LD they make.

Beside ``checks.py`` under ``/checks/{id}``. The JSON-LD is pasted into articles inside
``<script type="application/ld+json">``, so it is served through ``json_for_html``: nothing in
it can end that block. A check that cannot rate its claim (a miss; ``seen_before`` before an
editor picks a rating) has none: 404 with the reason.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from service.errors import Conflict, NotFound
from service.http.api.deps import EditorKey, ReaderKey, ServicesDep
from service.http.api.routes._common import ERROR_RESPONSES, job_of_kind, json_body
from service.http.api.schemas import ClaimReviewOut, MediaReviewOut, ReviewIn
from service.http.services import Services
from service.jobs import Job
from service.markup import json_for_html
from service.reviews import Publisher, ReviewDetails, ReviewStore, claim_review, media_review, missing

__all__ = ["router"]

router = APIRouter(prefix="/checks", tags=["checks"], responses=ERROR_RESPONSES)


def _done_check(services: Services, job_id: str) -> Job:
    job = job_of_kind(services, job_id, "check")
    if job.state != "done":
        raise Conflict(f"check {job_id} is {job.state}, not done")
    return job


def _reviews(services: Services, job: Job) -> tuple[ReviewDetails, dict[str, Any] | None, dict[str, Any] | None]:
    details = ReviewStore(services.pipeline.engine).get(job.id)
    publisher = Publisher.from_settings(services.settings)
    return details, claim_review(job.report, details, publisher), media_review(job.report, details, publisher)


def _unrated(job: Job, what: str) -> NotFound:
    if job.report.verdict == "no_prior_match":
        return NotFound(f"no {what} for check {job.id}: the video is not in our archive, which rates no claim")
    return NotFound(f"no {what} for check {job.id} yet: an editor picks a rating first (PUT .../review)")


class JsonLdResponse(Response):
    media_type = "application/ld+json"


@router.get("/{job_id}/claimreview", name="check_claimreview", response_class=JsonLdResponse,
            responses={200: {"model": ClaimReviewOut, "description": "ClaimReview JSON-LD"}},
            summary="The check as schema.org ClaimReview JSON-LD")
def check_claimreview(job_id: str, services: ServicesDep, _key: ReaderKey) -> Response:
    job = _done_check(services, job_id)
    _details, review, _media = _reviews(services, job)
    if review is None:
        raise _unrated(job, "ClaimReview")
    return JsonLdResponse(json_for_html(review))


@router.get("/{job_id}/mediareview", name="check_mediareview", response_class=JsonLdResponse,
            responses={200: {"model": MediaReviewOut, "description": "MediaReview JSON-LD"}},
            summary="The checked video as schema.org MediaReview JSON-LD")
def check_mediareview(job_id: str, services: ServicesDep, _key: ReaderKey) -> Response:
    job = _done_check(services, job_id)
    _details, _claim, review = _reviews(services, job)
    if review is None:
        raise _unrated(job, "MediaReview")
    return JsonLdResponse(json_for_html(review))


def _review_body(services: Services, job: Job) -> dict[str, Any]:
    details, claim, media = _reviews(services, job)
    return {"details": details.to_dict(), "claimreview_missing": missing(claim) if claim else None,
            "mediareview_missing": missing(media) if media else None}


@router.get("/{job_id}/review", name="get_check_review", summary="The editor's details for publishing the check")
def get_review(job_id: str, services: ServicesDep, _key: ReaderKey) -> dict[str, Any]:
    return _review_body(services, _done_check(services, job_id))


@router.put("/{job_id}/review", name="put_check_review",
            summary="Set the article URL, claim, claimant, appearance and rating of the check's reviews")
async def put_review(request: Request, job_id: str, services: ServicesDep, key: EditorKey) -> dict[str, Any]:
    body = await json_body(request, ReviewIn)
    job = await run_in_threadpool(_done_check, services, job_id)
    details = ReviewDetails(**body.model_dump())
    await run_in_threadpool(ReviewStore(services.pipeline.engine).put, job.id, details, key.actor)
    return await run_in_threadpool(_review_body, services, job)
