"""The report page's "Publish" part: the editor's ClaimReview/MediaReview form, and the footage's uploads.

Beside ``routes.py`` (which renders the report and mounts this router): what a
check shows about every known upload of its footage (each with its own claim and
where its date came from), and the form an editor fills in to make the check's
ClaimReview and MediaReview publishable (``service.reviews``). A miss offers no
review at all; ``seen_before`` one only once an editor picks a rating.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from service.auth import ApiKey
from service.dates import origin_words
from service.errors import FirstseenError
from service.http.services import Services
from service.jobs import Job
from service.models import Report
from service.reviews import (
    CLAIM_TEXT_SUGGESTED_MAX,
    RATINGS,
    Publisher,
    ReviewDetails,
    ReviewStore,
    claim_review,
    media_review,
    missing,
    rating_for,
)

__all__ = ["footage_rows", "publish_view", "router"]

router = APIRouter(include_in_schema=False)


def footage_rows(report: Report) -> list[dict[str, Any]]:
    """Every known upload of the matched footage, oldest first, then this check: date, who says it, claim."""
    rows = []
    remembered = report.remembered_id
    for item in report.footage:
        if item.id == remembered:
            continue
        claim = [c for c in (item.claimed_event, item.claimed_location, item.claimed_date) if c]
        recorded = [c for c in (item.event, item.location) if c]
        rows.append({
            "id": item.id, "this_check": False, "title": item.title or f"archive item {item.id}",
            "date": item.published or item.claimed_date,
            "date_origin": origin_words(item.date_origin, item.platform) if item.published
            else "the date it claims" if item.claimed_date else None,
            "claim": ", ".join(claim), "recorded": ", ".join(recorded), "kind": item.kind,
        })
    claims, source = report.claims, report.source
    claim = [c for c in (claims.event, claims.location, claims.date_text) if c]
    rows.append({
        "id": remembered, "this_check": True, "title": source.title or "this check",
        "date": claims.date_text, "date_origin": "the date it claims" if claims.date else None,
        "claim": ", ".join(claim), "recorded": "", "kind": "this check",
    })
    return rows


def publish_view(request: Request, services: Services, job: Job, key: ApiKey,
                 error: str | None = None, details: ReviewDetails | None = None) -> dict[str, Any]:
    """What the report's upload table and publish section show."""
    report = job.report
    if details is None:
        details = ReviewStore(services.pipeline.engine).get(job.id)
    publisher = Publisher.from_settings(services.settings)
    claimreview = claim_review(report, details, publisher)
    mediareview = media_review(report, details, publisher)
    return {
        "uploads": footage_rows(report),
        "verdict": report.verdict,
        "details": details.to_dict(),
        "rated": rating_for(report.verdict, details) is not None,
        "ratings": RATINGS,
        "claim_max": CLAIM_TEXT_SUGGESTED_MAX,
        "can_edit": key.can("editor"),
        "action": request.url_for("web_check_review", job_id=job.id).path,
        "claimreview": claimreview,  # rendered with the json_for_html filter
        "mediareview": mediareview,
        "claimreview_missing": missing(claimreview),
        "mediareview_missing": missing(mediareview),
        "claim_too_long": bool(claimreview and len(claimreview["claimReviewed"]) > CLAIM_TEXT_SUGGESTED_MAX),
        "org_missing": not services.settings.review_org_name,
        "error": error,
    }


@router.post("/checks/{job_id}/review", name="web_check_review")
async def save_review(request: Request, job_id: str) -> Response:
    """An editor's details for the check's ClaimReview and MediaReview."""
    from service.http.web.routes import job_of_kind, logged_in, page, posted_form, report_view, services_of

    services = services_of(request)
    key = logged_in(request, services)
    if not key.can("editor"):
        return page(request, "error.html", key, status=403, message="Publishing a check needs an editor key.")
    job = await run_in_threadpool(job_of_kind, services, job_id, "check")
    if job.state != "done":
        return page(request, "error.html", key, status=409, message="The check has not finished yet.")
    fields: dict[str, str] = {}
    try:
        fields, _ = await posted_form(request, services)
        details = ReviewDetails.from_form(fields)
    except (PermissionError, FirstseenError) as exc:
        draft = ReviewDetails()
        view = report_view(request, job)
        return page(request, "report.html", key, status=400 if isinstance(exc, FirstseenError) else 403, job=job,
                     view=view, publish={**publish_view(request, services, job, key, str(exc), draft),
                                         "details": {**draft.to_dict(), **fields}})
    store = ReviewStore(services.pipeline.engine)
    await run_in_threadpool(store.put, job.id, details, key.actor)
    return RedirectResponse(request.url_for("web_check", job_id=job.id).path + "#publish", status_code=303)
