"""Crawl sources (channels, playlists, feeds) for editors; a crawl runs as a job."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from service.http.api.deps import EditorKey, ServicesDep
from service.http.api.routes._common import ERROR_RESPONSES, DbId, created, error_doc
from service.http.api.schemas import JobCreated, SourceCreate, SourceOut
from service.http.services import check_link, submit_crawl

__all__ = ["router"]

router = APIRouter(prefix="/sources", tags=["sources"], responses=ERROR_RESPONSES)


@router.get("", response_model=list[SourceOut], summary="Crawl sources and how their last crawl went")
def list_sources(services: ServicesDep, _key: EditorKey) -> list[SourceOut]:
    return [SourceOut(**s.to_dict()) for s in services.pipeline.archive.sources()]


@router.post("", status_code=201, response_model=SourceOut, summary="Register a channel, playlist or feed",
             responses={409: error_doc("conflict", "The source is already registered")})
def add_source(body: SourceCreate, services: ServicesDep, _key: EditorKey) -> SourceOut:
    url = check_link(body.url, services.settings)
    return SourceOut(**services.pipeline.add_source(url).to_dict())


@router.delete("/{source_id}", status_code=204, response_class=Response, summary="Stop crawling a source")
def remove_source(source_id: DbId, services: ServicesDep, _key: EditorKey) -> Response:
    services.pipeline.archive.remove_source(source_id)
    return Response(status_code=204)


@router.post("/{source_id}/crawl", status_code=202, response_model=JobCreated,
             summary="Fetch the source's new uploads into the archive (a job)")
def crawl_source(request: Request, source_id: DbId, services: ServicesDep, key: EditorKey) -> JobCreated:
    job, _ = submit_crawl(services, key, source_id)
    return created(request, job)
