"""Evidence pictures of a finished check: matched segment ``n`` as one side-by-side picture, and the
pictures a job draws ahead.

The side-by-side picture (the checked frame left, the archive's right, at the middle of the segment,
labelled with their seconds) is composed from the evidence pack's frames (``frame_image`` in
service/report/evidence_pack.py: decoded from the media, the archive's frame the one most like the checked
frame) and JPEG-encoded once. Segment ``n`` counts matches then segments in report order, the same ``n``
as the pack's, the API's ``/evidence/{n}.jpg`` and ``firstseen check --evidence DIR``'s files.

Used by the API, the web report and the CLI; ``draw_ahead`` by the job runner (service/jobs/runner.py).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw

from service.errors import DecodeError, FirstseenError, NotFound
from service.models import Report
from service.report.evidence_pack import draw_ahead as draw_pack
from service.report.evidence_pack import frame_image, jpeg, pack_segments

if TYPE_CHECKING:
    from service.pipeline import Pipeline

__all__ = ["EVIDENCE_DRAWN_AHEAD", "draw_ahead", "evidence_count", "evidence_jpeg", "side_by_side"]

log = logging.getLogger(__name__)

PANEL_HEIGHT = 240
LABEL_HEIGHT = 22
# An unremembered upload is deleted when its check ends: its evidence pictures are drawn first, at most this many.
EVIDENCE_DRAWN_AHEAD = 24


def _fit(image: Image.Image, height: int) -> Image.Image:
    scale = height / image.height
    return image.convert("RGB").resize((max(2, round(image.width * scale)), height), Image.Resampling.BILINEAR)


def side_by_side(checked: Image.Image, archive: Image.Image, checked_label: str, archive_label: str) -> Image.Image:
    """``checked`` left, ``archive`` right, both ``PANEL_HEIGHT`` high, each labelled above."""
    left, right = _fit(checked, PANEL_HEIGHT), _fit(archive, PANEL_HEIGHT)
    gap = 8
    canvas = Image.new("RGB", (left.width + right.width + gap, PANEL_HEIGHT + LABEL_HEIGHT), "white")
    canvas.paste(left, (0, LABEL_HEIGHT))
    canvas.paste(right, (left.width + gap, LABEL_HEIGHT))
    draw = ImageDraw.Draw(canvas)
    draw.text((4, 4), checked_label, fill="black")
    draw.text((left.width + gap + 4, 4), archive_label, fill="black")
    return canvas


def evidence_count(report: Report) -> int:
    return len(pack_segments(report))


def _evidence_image(pipeline: Pipeline, report: Report, n: int, job_id: str | None) -> Image.Image:
    seg = pack_segments(report)[n]
    checked, q_t = frame_image(pipeline, report, n, "middle", "checked", job_id)
    archive, a_t = frame_image(pipeline, report, n, "middle", "archive", job_id)
    note = " (mirrored)" if seg.flipped else ""
    return side_by_side(checked, archive, f"checked video @ {q_t:.1f} s",
                        f"archive #{seg.archive_id} @ {a_t:.1f} s{note}")


def evidence_jpeg(pipeline: Pipeline, report: Report, n: int, job_id: str | None = None) -> bytes:
    """Side-by-side frames of the n-th matched segment; a check's (``job_id``) cached under home/evidence."""
    if not 0 <= n < evidence_count(report):
        raise NotFound(f"{f'check {job_id}' if job_id else 'the report'} has no evidence picture {n}")
    cached = pipeline.settings.evidence_dir / f"{job_id}-{n}.jpg" if job_id else None
    if cached is not None and cached.is_file():
        return cached.read_bytes()
    try:
        data = jpeg(_evidence_image(pipeline, report, n, job_id))
    except NotFound:
        raise NotFound(f"the media for evidence picture {n} of {f'check {job_id}' if job_id else 'the report'} "
                       "is no longer kept") from None
    if cached is not None:
        _write(cached, data)
    return data


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def draw_ahead(pipeline: Pipeline, job_id: str, report: Report, upload_going: bool) -> None:
    """A finished check's evidence pack, and, when its upload is about to be deleted (``upload_going``), its
    keyframes and side-by-side pictures too (cached under home/evidence and home/keyframes)."""
    from service.keyframes import draw_ahead as draw_keyframes

    draw_pack(pipeline, job_id, report, EVIDENCE_DRAWN_AHEAD)  # the evidence pack, for every check
    if not upload_going:
        return
    draw_keyframes(pipeline, job_id, report)  # the report's keyframes for reverse search, too
    for n in range(min(evidence_count(report), EVIDENCE_DRAWN_AHEAD)):
        try:
            evidence_jpeg(pipeline, report, n, job_id)
        except (FirstseenError, DecodeError, OSError) as exc:
            log.info("no evidence picture %d for job %s: %s", n, job_id, exc)
