"""The archive: editors add (a job), edit and remove footage with its provenance; readers list and read."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from service.dates import parse_date
from service.errors import BadInput
from service.http.api.deps import EditorKey, ReaderKey, ServicesDep
from service.http.api.routes._common import (
    ERROR_RESPONSES,
    DbId,
    Offset,
    error_doc,
    json_body,
    media_type,
    status_url,
    wait_for,
)
from service.http.api.routes.jobs import job_status
from service.http.api.schemas import (
    ArchiveItemOut,
    ArchivePage,
    ArchivePatch,
    ArchiveRequest,
    FootageLink,
    FootageOut,
    JobStatus,
    SegmentOut,
)
from service.http.services import check_job_quota, discard_upload, submit_archive_add
from service.http.uploads import read_form
from service.models import ArchiveMetadata

__all__ = ["router"]

router = APIRouter(tags=["archive"], responses=ERROR_RESPONSES)

META_FIELDS = ("title", "published", "location", "event", "source_url", "notes", "factcheck_url")

ARCHIVE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": ArchiveRequest.model_json_schema()},
            "multipart/form-data": {"schema": {
                "type": "object", "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"},
                               **{f: {"type": "string"} for f in META_FIELDS}},
            }},
        },
    }
}


@router.post("/archive", name="add_archive_item", status_code=202, response_model=JobStatus, openapi_extra=ARCHIVE_BODY,
             responses={201: {"model": JobStatus, "description": "Added within `wait` seconds"},
                        415: error_doc("unsupported_media_type", "A body that is neither JSON nor multipart")},
             summary="Add footage (a link as JSON, or a multipart file) with its provenance")
async def add_item(request: Request, response: Response, services: ServicesDep, key: EditorKey,
                   wait: Annotated[float, Query(ge=0, le=60, description="Wait up to this many seconds for the "
                                                "item to be added (then 201 with it in `result`)")] = 0,
                   idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
                   ) -> JobStatus:
    if media_type(request) == "application/json":
        body = await json_body(request, ArchiveRequest)
        url, upload = body.url, None
        meta = ArchiveMetadata(**body.model_dump(include=set(META_FIELDS)))
    else:
        await run_in_threadpool(check_job_quota, services, key, 1, "archive_add", idempotency_key)
        fields, upload = await read_form(request, services, key)
        unknown = set(fields) - set(META_FIELDS)
        if unknown:
            discard_upload(upload)
            raise BadInput(f"unknown form field(s): {', '.join(sorted(unknown))}")
        if upload is None:
            raise BadInput("multipart archive additions need a 'file' field with the video")
        try:
            checked = ArchivePatch.model_validate(fields)
        except ValidationError as exc:
            discard_upload(upload)
            raise RequestValidationError(exc.errors(include_url=False, include_context=False)) from None
        url, meta = None, ArchiveMetadata(**checked.model_dump(include=set(META_FIELDS)))
    job, _new = await run_in_threadpool(
        lambda: submit_archive_add(services, key, meta, url=url, upload=upload, idempotency=idempotency_key))
    if wait:
        job = await wait_for(services, job.id, wait)
    if job.state == "done":
        response.status_code = 201
    body_out = job_status(job)
    body_out.status_url = status_url(request, job)
    return body_out


@router.get("/archive", name="list_archive", response_model=ArchivePage,
            summary="List archived footage, paged and filtered")
def list_items(services: ServicesDep, _key: ReaderKey,
               limit: Annotated[int, Query(ge=1, le=500)] = 50,
               offset: Offset = 0,
               q: Annotated[str | None, Query(max_length=200, description="Search title, place, event, notes")] = None,
               kind: Annotated[str | None, Query(pattern="^(curated|observed)$")] = None) -> ArchivePage:
    items = services.pipeline.archive.items(q=q, kind=kind, limit=limit + 1, offset=offset)
    more = len(items) > limit
    return ArchivePage(items=[ArchiveItemOut(**i.to_dict()) for i in items[:limit]], limit=limit, offset=offset,
                       next_offset=offset + limit if more else None)


@router.get("/archive/{item_id}", name="get_archive_item", response_model=ArchiveItemOut, summary="One archive item")
def get_item(item_id: DbId, services: ServicesDep, _key: ReaderKey) -> ArchiveItemOut:
    return ArchiveItemOut(**services.pipeline.archive.item(item_id).to_dict())


@router.patch("/archive/{item_id}", name="update_archive_item", response_model=ArchiveItemOut,
              summary="Correct an item's provenance")
def update_item(item_id: DbId, body: ArchivePatch, services: ServicesDep, key: EditorKey) -> ArchiveItemOut:
    changes = body.model_dump(exclude_unset=True)
    if changes.get("published"):
        parse_date(changes["published"])
    item = services.pipeline.archive.update_item(item_id, changes, actor=key.actor)
    return ArchiveItemOut(**item.to_dict())


@router.delete("/archive/{item_id}", name="remove_archive_item", response_model=ArchiveItemOut,
               summary="Remove an item and its fingerprints")
def delete_item(item_id: DbId, services: ServicesDep, key: EditorKey) -> ArchiveItemOut:
    with services.archive_lock:
        removed = services.pipeline.archive_remove(item_id, actor=key.actor)
    return ArchiveItemOut(**removed.to_dict())


@router.get("/footage/{item_id}", name="get_footage", response_model=FootageOut,
            summary="Every known upload of the footage an item belongs to, oldest first")
def get_footage(item_id: DbId, services: ServicesDep, _key: ReaderKey) -> FootageOut:
    view = services.pipeline.archive.footage(item_id)
    return FootageOut(
        footage_id=view.footage_id,
        uploads=[ArchiveItemOut(**m.to_dict()) for m in view.members],
        links=[FootageLink(item=link.item, shares_with=link.shares_with,
                           segments=[SegmentOut(**s.to_dict()) for s in link.segments]) for link in view.links],
    )
