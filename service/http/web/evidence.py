"""The web report's evidence pack: frame pairs, both videos side by side, and the one-click export.

Routes (the web form's session, like the report): each frame of the pack
(``/checks/{id}/frames/{n}/{position}/{side}.jpg``), the checked video and the matched archive uploads as
media for the side-by-side players (``/checks/{id}/media/…``, with range requests so a browser can seek),
and the export: ``/checks/{id}/export.pdf`` and ``/checks/{id}/export.zip``. ``pack_view`` gives the report
template what it shows per segment; the players and the un-mirror toggle are in ``static/evidence.js``.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from service.errors import NotFound
from service.http.services import Services
from service.jobs import Job
from service.keyframes import checked_media
from service.models import Report
from service.report.evidence_pack import archive_time, pack_segments
from service.report.export import evidence_zip, report_pdf

__all__ = ["pack_view", "router"]

router = APIRouter(include_in_schema=False)


def _fmt(seconds: float) -> str:
    m, s = divmod(max(0.0, seconds), 60)
    return f"{int(m)}:{s:04.1f}"


def pack_view(request: Request, job: Job) -> list[dict[str, Any]]:
    """Per matched segment: its three pairs (picture addresses, plain labels) and the players' seconds."""
    pipeline = request.app.state.services.pipeline
    views = []
    for seg in pack_segments(job.report):
        archive_id = seg.archive_id

        def frame(position: str, side: str, n: int = seg.n) -> str:
            return str(request.url_for("web_frame", job_id=job.id, n=n, position=position, side=side).path)

        pairs = [{
            "position": p.position,
            "checked_label": f"Checked video at {_fmt(p.query_t)}",
            "archive_label": f"Archive #{archive_id} at {_fmt(archive_time(pipeline, job.id, seg, p))}",
            "checked_url": frame(p.position, "checked"),
            "unmirrored_url": frame(p.position, "unmirrored"),
            "archive_url": frame(p.position, "archive"),
        } for p in seg.pairs]
        views.append({
            "n": seg.n, "flipped": seg.flipped, "archive_id": archive_id, "pairs": pairs,
            "query_start": seg.segment.query_start, "archive_start": seg.segment.archive_start,
            "speed": seg.segment.speed or 1.0,
            "checked_media": str(request.url_for("web_checked_media", job_id=job.id).path),
            "archive_media": str(request.url_for("web_archive_media", job_id=job.id, item_id=archive_id).path),
        })
    return views


def _finished(request: Request, job_id: str) -> tuple[Services, Job, Report]:
    from service.http.web.routes import job_of_kind, logged_in

    services: Services = request.app.state.services
    logged_in(request, services)
    job = job_of_kind(services, job_id, "check")
    return services, job, job.report


def _video(path: Path) -> FileResponse:
    kind = mimetypes.guess_type(path.name)[0] or "video/mp4"
    return FileResponse(path, media_type=kind if kind.startswith("video/") else "video/mp4",
                        headers={"Cache-Control": "private, max-age=3600"})


@router.get("/checks/{job_id}/frames/{n}/{position}/{side}.jpg", name="web_frame")
def frame(request: Request, job_id: str, n: int, position: str, side: str) -> Response:
    from service.report.evidence_pack import frame_jpeg

    services, job, report = _finished(request, job_id)
    return Response(frame_jpeg(services.pipeline, job.id, report, n, position, side), media_type="image/jpeg",
                    headers={"Cache-Control": "private, max-age=86400"})


@router.get("/checks/{job_id}/media/checked", name="web_checked_media")
def checked_video(request: Request, job_id: str) -> FileResponse:
    services, job, report = _finished(request, job_id)
    return _video(checked_media(services.pipeline, job.id, report))


@router.get("/checks/{job_id}/media/archive/{item_id}", name="web_archive_media")
def archive_video(request: Request, job_id: str, item_id: int) -> FileResponse:
    services, job, report = _finished(request, job_id)
    if item_id not in {m.item.id for m in report.matches}:
        raise NotFound(f"archive item {item_id} is not a match of check {job_id}")
    return _video(services.pipeline.archive.kept_media(item_id))


@router.get("/checks/{job_id}/export.pdf", name="web_export_pdf")
async def export_pdf(request: Request, job_id: str) -> Response:
    services, job, report = _finished(request, job_id)
    url = str(request.url_for("web_check", job_id=job.id))
    data = await run_in_threadpool(report_pdf, services.pipeline, job.id, report, url)
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="firstseen-{job.id}.pdf"'})


@router.get("/checks/{job_id}/export.zip", name="web_export_zip")
async def export_zip(request: Request, job_id: str) -> Response:
    services, job, report = _finished(request, job_id)
    url = str(request.url_for("web_check", job_id=job.id))
    data = await run_in_threadpool(evidence_zip, services.pipeline, job.id, report, url)
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="firstseen-{job.id}.zip"'})
