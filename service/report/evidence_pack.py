"""The evidence pack: for every matched segment, the checked and the archived frame at its start, middle and end.

A desk publishes a match only when a reader can see it: three pairs per segment at full size (not one
small composite), each side labelled in the page rather than burned into the picture, and, when the
checked upload is a mirrored copy, its frames flipped back so the two sides line up (the page toggles
between the upload as published and flipped back). Pictures are re-decoded from the media at the matched
seconds and cached under ``home/evidence/<check id>/``; for an upload deleted when its check ends
(``remember: false``), the checked side is drawn before it goes (``draw_ahead``).

Used by the web report (service/http/web/evidence.py), the PDF and zip export (service/report/export.py), the
API and the CLI. Every evidence picture — these frames and the side-by-side pictures of
service/report/evidence.py — is cut by ``frame_image`` from the media and JPEG-encoded once (``jpeg``).
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from PIL import Image, ImageOps

from service.errors import DecodeError, NotFound
from service.models import Match, Report, Segment

if TYPE_CHECKING:
    from service.pipeline import Pipeline

__all__ = ["FRAME_MAX_SIDE", "POSITIONS", "FramePair", "PackSegment", "archive_time", "draw_ahead", "frame_image",
           "frame_jpeg", "jpeg", "pack_segments", "query_length"]

log = logging.getLogger(__name__)

Position = Literal["start", "middle", "end"]
Side = Literal["checked", "unmirrored", "archive"]
POSITIONS: tuple[Position, ...] = ("start", "middle", "end")
SIDES: tuple[Side, ...] = ("checked", "unmirrored", "archive")
# Frames are cut this far inside a segment's ends: the first and last matched frames, not a neighbour shot's.
EDGE_INSET_S = 0.25
# A frame's longer side at most: full size for up to 720p, enough to read a sign or a number plate.
FRAME_MAX_SIDE = 1280
# The archive's frame of a pair is the one within this many seconds of the mapped second that looks most
# like the checked frame: segment ends are known to a sampled frame (0.5 s at 2 fps), and a pair a few
# frames apart shows a moving scene visibly shifted.
REFINE_WINDOW_S = 0.5
REFINE_SIZE = (32, 18)  # pixels compared when picking it (grey): coarse, so re-encoding does not matter
# Transforms under which the checked frame is the archived frame as a whole (else no refinement: a crop or
# an inset would be compared with the full picture).
WHOLE_FRAME_TRANSFORMS = ("full", "mirror")


@dataclass(frozen=True)
class FramePair:
    position: Position
    query_t: float  # seconds into the checked video
    archive_t: float  # seconds into the archived upload


@dataclass(frozen=True)
class PackSegment:
    """Matched segment ``n`` (report order: match by match, segment by segment) and its three frame pairs."""

    n: int
    match: Match
    segment: Segment
    pairs: tuple[FramePair, ...]

    @property
    def flipped(self) -> bool:
        return self.match.flipped

    @property
    def archive_id(self) -> int:
        return self.match.item.id

    def pair(self, position: str) -> FramePair:
        return next(p for p in self.pairs if p.position == position)


def _pairs(seg: Segment) -> tuple[FramePair, ...]:
    q0, q1 = seg.query_start, seg.query_end
    inset = min(EDGE_INSET_S, (q1 - q0) / 4)
    speed = seg.speed or 1.0
    out = []
    for position, q_t in (("start", q0 + inset), ("middle", (q0 + q1) / 2), ("end", q1 - inset)):
        a_t = seg.archive_start + (q_t - q0) * speed
        out.append(FramePair(position, round(q_t, 2), round(a_t, 2)))  # type: ignore[arg-type]
    return tuple(out)


def pack_segments(report: Report) -> list[PackSegment]:
    """Every matched segment in report order: segment ``n`` is evidence picture ``n`` everywhere."""
    segments = [(m, s) for m in report.matches for s in m.segments]
    return [PackSegment(n, m, s, _pairs(s)) for n, (m, s) in enumerate(segments)]


def query_length(report: Report) -> float:
    """The checked video's length: its own (a site's, or the decoded length of an upload), else the furthest
    matched second (reports stored before uploads had a duration)."""
    if report.source.duration:
        return float(report.source.duration)
    return max([s.query_end for m in report.matches for s in m.segments] or [1.0])


# -- pictures ----------------------------------------------------------------
def _checked_media(pipeline: Pipeline, job_id: str | None, report: Report) -> Path:
    from service.keyframes import checked_media

    return checked_media(pipeline, job_id, report)


def _archive_media(pipeline: Pipeline, archive_id: int) -> Path:
    return pipeline.archive.kept_media(archive_id)


def jpeg(image: Image.Image) -> bytes:
    """The one JPEG encoder of evidence pictures: each is encoded once, from frames decoded from the media."""
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def _cached(pipeline: Pipeline, job_id: str, name: str) -> Path:
    if not job_id.isalnum():
        raise NotFound(f"no check {job_id}")
    path: Path = pipeline.settings.evidence_dir / job_id / name
    return path


def _store(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _segment(report: Report, n: int, what: str) -> PackSegment:
    segments = pack_segments(report)
    if not 0 <= n < len(segments):
        raise NotFound(f"{what} has no matched segment {n}")
    return segments[n]


def frame_image(pipeline: Pipeline, report: Report, n: int, position: str, side: str,
                job_id: str | None = None) -> tuple[Image.Image, float]:
    """One side of pair ``position`` of segment ``n``, decoded from the media, and the second it shows:
    ``checked`` as uploaded, ``unmirrored`` (the checked frame flipped back; the same as ``checked`` unless
    the match is mirrored) or ``archive`` (the archive's frame nearest the mapped second that looks most
    like the checked one). ``job_id`` names the check's cache, whose checked side stands in for a deleted
    upload when the archive's frame is picked."""
    from service.decode.frames import grab_frame

    if position not in POSITIONS or side not in SIDES:
        raise NotFound(f"no evidence frame {position}/{side}")
    seg = _segment(report, n, f"check {job_id}" if job_id else "the report")
    pair = seg.pair(position)
    if side != "archive":
        image = grab_frame(_checked_media(pipeline, job_id, report), pair.query_t, max_side=FRAME_MAX_SIDE)
        return (ImageOps.mirror(image) if side == "unmirrored" and seg.flipped else image), pair.query_t
    media = _archive_media(pipeline, seg.archive_id)
    reference: Image.Image | None = None
    if seg.match.transform in WHOLE_FRAME_TRANSFORMS:
        try:
            reference = frame_image(pipeline, report, n, position, "unmirrored", job_id)[0]
        except NotFound:  # the checked video is gone: its drawn side if any (compared, never re-encoded)
            drawn = _cached(pipeline, job_id, f"{n}-{position}-unmirrored.jpg") if job_id else None
            reference = Image.open(drawn) if drawn is not None and drawn.is_file() else None
    if reference is None:
        return grab_frame(media, pair.archive_t, max_side=FRAME_MAX_SIDE), pair.archive_t
    return _closest_frame(media, pair.archive_t, reference)


def frame_jpeg(pipeline: Pipeline, job_id: str, report: Report, n: int, position: str, side: str) -> bytes:
    """``frame_image`` as a JPEG, drawn once per check and then read from ``home/evidence/<check id>/``."""
    if position not in POSITIONS or side not in SIDES:
        raise NotFound(f"no evidence frame {position}/{side}")
    _segment(report, n, f"check {job_id}")
    cached = _cached(pipeline, job_id, f"{n}-{position}-{side}.jpg")
    if cached.is_file():
        return cached.read_bytes()
    image, t = frame_image(pipeline, report, n, position, side, job_id)
    data = jpeg(image)
    if side == "archive":
        _store(cached.with_suffix(".json"), json.dumps({"archive_t": round(t, 2)}).encode())
    _store(cached, data)
    return data


def _small(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("L").resize(REFINE_SIZE, Image.Resampling.BOX), dtype=np.float32)


def _closest_frame(media: Path, t: float, reference: Image.Image) -> tuple[Image.Image, float]:
    """The archive's frame within ``REFINE_WINDOW_S`` of ``t`` most like ``reference``, and its second."""
    from service.decode.frames import limit_pixels, open_media

    target = _small(reference)
    container = open_media(media)
    try:
        if not container.streams.video:
            raise DecodeError(f"{media.name} has no video stream")
        stream = container.streams.video[0]
        limit_pixels(stream, media, FRAME_MAX_SIDE * FRAME_MAX_SIDE * 4)
        base = stream.time_base or Fraction(1, 1000)
        start = max(0.0, t - REFINE_WINDOW_S)
        container.seek(int(start / base) + (stream.start_time or 0), stream=stream, backward=True, any_frame=False)
        best: tuple[float, Any, float] | None = None
        for frame in container.decode(stream):
            if frame.time is None or frame.time < start:
                continue
            if frame.time > t + REFINE_WINDOW_S:
                break
            score = float(np.abs(_small(frame.to_image()) - target).mean())  # type: ignore[no-untyped-call]
            if best is None or score < best[0]:
                best = (score, frame, float(frame.time))
        if best is None:
            raise DecodeError(f"no frame near {t:.1f} s in {media.name}")
        image: Image.Image = best[1].to_image()
    finally:
        container.close()
    scale = FRAME_MAX_SIDE / max(image.size)
    if scale < 1.0:
        image = image.resize((max(2, round(image.width * scale)), max(2, round(image.height * scale))),
                             Image.Resampling.BILINEAR)
    return image, best[2]


def archive_time(pipeline: Pipeline, job_id: str, seg: PackSegment, pair: FramePair) -> float:
    """The second the archive side of a pair shows: the refined one once drawn, else the mapped one."""
    sidecar = _cached(pipeline, job_id, f"{seg.n}-{pair.position}-archive.json")
    if sidecar.is_file():
        return float(json.loads(sidecar.read_text())["archive_t"])
    return pair.archive_t


def draw_ahead(pipeline: Pipeline, job_id: str, report: Report, max_segments: int = 24) -> None:
    """Every picture of the first ``max_segments`` segments, by the job, so the report page opens with them
    (and with the archive's refined seconds in its labels), and while an upload about to be deleted exists."""
    for seg in pack_segments(report)[:max_segments]:
        for pair in seg.pairs:
            for side in SIDES:
                try:
                    frame_jpeg(pipeline, job_id, report, seg.n, pair.position, side)
                except (DecodeError, NotFound, OSError) as exc:
                    log.info("evidence frame %d/%s/%s of check %s not drawn ahead: %s", seg.n, pair.position,
                             side, job_id, exc)
                except Exception:  # a decoder's own error: the check is done; its page draws what it can
                    log.warning("evidence frame %d/%s/%s of check %s failed", seg.n, pair.position, side, job_id,
                                exc_info=True)
