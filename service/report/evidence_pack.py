"""The evidence pack: for every matched segment, the checked and the archived frame at its start, middle and end.

A desk publishes a match only when a reader can see it: three pairs per segment at full size (not one
small composite), each side labelled in the page rather than burned into the picture, and, when the
checked upload is a mirrored copy, its frames flipped back so the two sides line up (the page toggles
between the upload as published and flipped back). Pictures are re-decoded from the media at the matched
seconds and cached under ``home/evidence/<check id>/``; for an upload deleted when its check ends
(``remember: false``), the checked side is drawn before it goes (``draw_ahead``).

Used by the web report (service/http/web/evidence.py), the PDF and zip export (service/report/export.py), the
API and the CLI.
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image, ImageOps

from service.errors import DecodeError, NotFound

__all__ = ["FRAME_MAX_SIDE", "POSITIONS", "FramePair", "PackSegment", "archive_time", "draw_ahead", "frame_jpeg",
           "pack_segments", "query_length"]

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
    match: dict[str, Any]
    segment: dict[str, Any]
    pairs: tuple[FramePair, ...]

    @property
    def flipped(self) -> bool:
        return bool(self.match.get("flipped"))


def _pairs(seg: dict[str, Any]) -> tuple[FramePair, ...]:
    q0, q1 = float(seg["query_start"]), float(seg["query_end"])
    inset = min(EDGE_INSET_S, (q1 - q0) / 4)
    speed = float(seg.get("speed") or 1.0)
    out = []
    for position, q_t in (("start", q0 + inset), ("middle", (q0 + q1) / 2), ("end", q1 - inset)):
        a_t = float(seg["archive_start"]) + (q_t - q0) * speed
        out.append(FramePair(position, round(q_t, 2), round(a_t, 2)))  # type: ignore[arg-type]
    return tuple(out)


def pack_segments(report: dict[str, Any]) -> list[PackSegment]:
    segments = [(m, s) for m in report["matches"] for s in m["segments"]]
    return [PackSegment(n, m, s, _pairs(s)) for n, (m, s) in enumerate(segments)]


def query_length(report: dict[str, Any]) -> float:
    """The checked video's length: its own (a site's, or the decoded length of an upload), else the furthest
    matched second (reports stored before uploads had a duration)."""
    own = report["source"].get("duration")
    if own:
        return float(own)
    return max([float(s["query_end"]) for m in report["matches"] for s in m["segments"]] or [1.0])


# -- pictures ----------------------------------------------------------------
def _checked_media(pipeline: Any, job_id: str, report: dict[str, Any]) -> Path:
    from service.keyframes import checked_media

    return checked_media(pipeline, job_id, report)


def _archive_media(pipeline: Any, archive_id: int) -> Path:
    path = pipeline.store.media_path(archive_id)
    if not path or not Path(path).is_file():
        raise NotFound(f"the media of archive item {archive_id} is no longer kept")
    return Path(path)


def _jpeg(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def _cached(pipeline: Any, job_id: str, name: str) -> Path:
    if not job_id.isalnum():
        raise NotFound(f"no check {job_id}")
    path: Path = pipeline.settings.evidence_dir / job_id / name
    return path


def _store(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def frame_jpeg(pipeline: Any, job_id: str, report: dict[str, Any], n: int, position: str, side: str) -> bytes:
    """One side of pair ``position`` of segment ``n`` as a JPEG: ``checked`` as uploaded, ``unmirrored``
    (the checked frame flipped back; the same as ``checked`` unless the match is mirrored) or ``archive``."""
    from service.decode.frames import grab_frame

    if position not in POSITIONS or side not in SIDES:
        raise NotFound(f"no evidence frame {position}/{side}")
    segments = pack_segments(report)
    if not 0 <= n < len(segments):
        raise NotFound(f"check {job_id} has no matched segment {n}")
    seg = segments[n]
    pair = next(p for p in seg.pairs if p.position == position)
    cached = _cached(pipeline, job_id, f"{n}-{position}-{side}.jpg")
    if cached.is_file():
        return cached.read_bytes()
    if side == "unmirrored":
        checked = Image.open(io.BytesIO(frame_jpeg(pipeline, job_id, report, n, position, "checked")))
        data = _jpeg(ImageOps.mirror(checked) if seg.flipped else checked)
    elif side == "checked":
        data = _jpeg(grab_frame(_checked_media(pipeline, job_id, report), pair.query_t, max_side=FRAME_MAX_SIDE))
    else:
        media = _archive_media(pipeline, int(seg.match["archive_id"]))
        if seg.match.get("transform", "full") in WHOLE_FRAME_TRANSFORMS:
            try:
                reference = Image.open(io.BytesIO(frame_jpeg(pipeline, job_id, report, n, position, "unmirrored")))
            except NotFound:  # the checked video is gone and its side was not drawn: the mapped second
                reference = None
        else:
            reference = None
        image, t = (_closest_frame(media, pair.archive_t, reference) if reference is not None
                    else (grab_frame(media, pair.archive_t, max_side=FRAME_MAX_SIDE), pair.archive_t))
        data = _jpeg(image)
        _store(cached.with_suffix(".json"), json.dumps({"archive_t": round(t, 2)}).encode())
    _store(cached, data)
    return data


def _small(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("L").resize(REFINE_SIZE, Image.Resampling.BOX), dtype=np.float32)


def _closest_frame(media: Path, t: float, reference: Image.Image) -> tuple[Image.Image, float]:
    """The archive's frame within ``REFINE_WINDOW_S`` of ``t`` most like ``reference``, and its second."""
    from service.decode.frames import _limit_pixels, _open

    target = _small(reference)
    container = _open(media)
    try:
        if not container.streams.video:
            raise DecodeError(f"{media.name} has no video stream")
        stream = container.streams.video[0]
        _limit_pixels(stream, media, FRAME_MAX_SIDE * FRAME_MAX_SIDE * 4)
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


def archive_time(pipeline: Any, job_id: str, seg: PackSegment, pair: FramePair) -> float:
    """The second the archive side of a pair shows: the refined one once drawn, else the mapped one."""
    sidecar = _cached(pipeline, job_id, f"{seg.n}-{pair.position}-archive.json")
    if sidecar.is_file():
        return float(json.loads(sidecar.read_text())["archive_t"])
    return pair.archive_t


def draw_ahead(pipeline: Any, job_id: str, report: dict[str, Any], max_segments: int = 24) -> None:
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
