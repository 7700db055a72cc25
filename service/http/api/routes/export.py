"""A finished check's evidence pack over the API: each frame pair's pictures, the PDF report, the zip."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from service.http.api.deps import ReaderKey, ServicesDep
from service.http.api.routes._common import ERROR_RESPONSES, job_of_kind
from service.http.services import Services
from service.models import Report
from service.pipeline import Pipeline
from service.report.evidence_pack import frame_jpeg
from service.report.export import evidence_zip, report_pdf

__all__ = ["router"]

router = APIRouter(prefix="/checks", tags=["checks"], responses=ERROR_RESPONSES)


def _binary(media: str, text: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {media: {"schema": {"type": "string", "format": "binary"}}}, "description": text}}


@router.get("/{job_id}/evidence/{n}/{position}/{side}.jpg", name="check_evidence_frame", response_class=Response,
            responses=_binary("image/jpeg", "A JPEG at full size"),
            summary="One side of a frame pair of the n-th matched segment: the checked video as uploaded, "
                    "flipped back (`unmirrored`, for a mirrored copy), or the archived upload")
def check_evidence_frame(job_id: str, n: int, position: Literal["start", "middle", "end"],
                         side: Literal["checked", "unmirrored", "archive"], services: ServicesDep,
                         _key: ReaderKey) -> Response:
    job = job_of_kind(services, job_id, "check")
    return Response(frame_jpeg(services.pipeline, job.id, job.report, n, position, side),
                    media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})


PackBuilder = Callable[[Pipeline, str, Report, str], bytes]  # (pipeline, job id, report, its web page) -> file


async def _pack(request: Request, job_id: str, services: Services, build: PackBuilder, media: str,
                extension: str) -> Response:
    """One finished check's export built off the event loop (PDF rendering and zipping take seconds)."""
    job = await run_in_threadpool(job_of_kind, services, job_id, "check")
    url = str(request.url_for("web_check", job_id=job.id))
    data = await run_in_threadpool(build, services.pipeline, job.id, job.report, url)
    return Response(data, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="firstseen-{job.id}.{extension}"'})


@router.get("/{job_id}/report.pdf", name="check_report_pdf", response_class=Response,
            responses=_binary("application/pdf", "The PDF report"),
            summary="The check as a PDF: verdict, frame pairs, timeline, provenance and date origins")
async def check_report_pdf(request: Request, job_id: str, services: ServicesDep, _key: ReaderKey) -> Response:
    return await _pack(request, job_id, services, report_pdf, "application/pdf", "pdf")


@router.get("/{job_id}/export.zip", name="check_export_zip", response_class=Response,
            responses=_binary("application/zip", "report.pdf, report.json, timeline.png, evidence/*.jpg"),
            summary="The whole evidence pack as a zip: the PDF, every picture and the report JSON")
async def check_export_zip(request: Request, job_id: str, services: ServicesDep, _key: ReaderKey) -> Response:
    return await _pack(request, job_id, services, evidence_zip, "application/zip", "zip")
