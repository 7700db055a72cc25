"""Keyframes for reverse image search: one frame from each shot of the checked video.

When the archive has no earlier copy, a fact-checker's next move (InVID-WeVerify's keyframes tool) is to
search the web for each shot's picture: Google Lens, Yandex, Bing and TinEye find older uploads the
archive never saw. Shots are cut with PySceneDetect's ``ContentDetector`` fed the frames of our own
guarded decoder (``service.decode.frames``: format whitelist, pixel limit), not a second, unguarded
opener; the keyframe of a shot is its middle frame, at full size.

Search engines fetch a picture by address, so the links exist only when the server has a public address
(``Settings.public_url``). Each keyframe then has a public, unguessable address: an HMAC of the check and
the frame under the server's secret key, so knowing one keyframe's address opens no other.

Used by the web report (a partial beside the evidence) and the API (``/checks/{id}/keyframes``); drawn
once per check and cached under ``home/keyframes/<check id>/``.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from service.errors import DecodeError, NotFound
from service.markup import http_link
from service.models import Report
from service.settings import Settings

if TYPE_CHECKING:
    from service.pipeline import Pipeline

__all__ = ["MAX_KEYFRAMES", "NO_PUBLIC_URL", "REVERSE_SEARCH", "Keyframe", "Shot", "checked_media", "detect_shots",
           "draw_ahead", "keyframe_jpeg", "keyframe_jpeg_for", "keyframes_for", "public_address", "public_token",
           "search_links", "shots_for"]

NO_PUBLIC_URL = ("This server has no public address (FIRSTSEEN_PUBLIC_URL), so search engines cannot fetch "
                 "the keyframes: download one and upload it to Google Lens, Yandex, Bing or TinEye yourself.")

log = logging.getLogger(__name__)

# At most this many keyframes per check: a long compilation's shots beyond it are merged into their
# neighbours' (evenly spaced), so a page stays readable and drawing them stays a few seconds.
MAX_KEYFRAMES = 24
# Frames are compared this wide (pixels) for cuts: PySceneDetect's own default downscale for SD video.
DETECT_WIDTH = 320
# A keyframe's longer side at most (full size for the usual 720p/1080p; engines match on far less).
KEYFRAME_MAX_SIDE = 1920

# (name, address with {} for the URL-encoded picture address): the engines InVID-WeVerify offers.
REVERSE_SEARCH: tuple[tuple[str, str], ...] = (
    ("Google Lens", "https://lens.google.com/uploadbyurl?url={}"),
    ("Yandex", "https://yandex.com/images/search?rpt=imageview&url={}"),
    ("Bing", "https://www.bing.com/images/search?view=detailv2&iss=sbi&q=imgurl:{}"),
    ("TinEye", "https://tineye.com/search?url={}"),
)


@dataclass(frozen=True)
class Shot:
    """Seconds ``start``–``end`` of the video are one shot; its keyframe is at ``time``."""

    start: float
    end: float

    @property
    def time(self) -> float:
        return round((self.start + self.end) / 2, 3)

    def to_dict(self) -> dict[str, float]:
        return {**asdict(self), "time": self.time}


def detect_shots(media: Path, max_pixels: int = 8192 * 8192,
                 progress: Callable[[float], None] | None = None) -> list[Shot]:
    """The shots of ``media`` in order (one for a video without cuts), at most ``MAX_KEYFRAMES``."""
    from scenedetect import ContentDetector
    from scenedetect.common import FrameTimecode

    from service.decode.frames import limit_pixels, open_media

    container = open_media(media)
    try:
        if not container.streams.video:
            raise DecodeError(f"{media.name} has no video stream")
        stream = container.streams.video[0]
        limit_pixels(stream, media, max_pixels)
        fps = float(stream.average_rate or 25)
        duration = float(container.duration or 0) / 1e6
        detector = ContentDetector()
        cuts: list[float] = []
        first: float | None = None
        last: Any = None
        end = 0.0
        for frame in container.decode(stream):
            if frame.time is None:
                continue
            t = float(frame.time)
            first = t if first is None else first
            height = max(2, round(DETECT_WIDTH * frame.height / max(1, frame.width) / 2) * 2)
            image = frame.to_ndarray(format="bgr24", width=DETECT_WIDTH, height=height)
            last = FrameTimecode(t, fps)
            cuts.extend(c.seconds for c in detector.process_frame(last, image))
            end = t + 1 / fps
            if progress is not None and duration:
                progress(min(1.0, t / duration))
        if last is not None:
            cuts.extend(c.seconds for c in detector.post_process(last))
    finally:
        container.close()
    if first is None:
        raise DecodeError(f"{media.name} has no frames")
    bounds = [first, *sorted(c for c in set(cuts) if first < c < end), end]
    shots = [Shot(round(a, 3), round(b, 3)) for a, b in zip(bounds, bounds[1:], strict=False)]
    if len(shots) > MAX_KEYFRAMES:  # keep evenly spaced boundaries
        step = len(shots) / MAX_KEYFRAMES
        keep = [shots[int(i * step)] for i in range(MAX_KEYFRAMES)]
        shots = [Shot(s.start, nxt.start) for s, nxt in zip(keep, keep[1:], strict=False)] + [
            Shot(keep[-1].start, shots[-1].end)]
    return shots


def keyframe_jpeg(media: Path, t: float) -> bytes:
    from service.decode.frames import grab_frame

    image = grab_frame(media, t, max_side=KEYFRAME_MAX_SIDE)
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def public_token(secret: str, job_id: str, n: int) -> str:
    """The unguessable part of keyframe ``n``'s public address: HMAC-SHA256 under the server's secret."""
    return hmac.new(secret.encode(), f"keyframe:{job_id}:{n}".encode(), hashlib.sha256).hexdigest()[:32]


def search_links(image_url: str) -> list[tuple[str, str]]:
    """(engine, address) to search the web for the picture at ``image_url``; none unless it is an http(s) URL.

    The picture's address is URL-encoded whole (``quote(safe="")``), so nothing in it can add a parameter
    to the engine's address or end it.
    """
    if not http_link(image_url):
        return []
    encoded = quote(image_url, safe="")
    return [(name, template.format(encoded)) for name, template in REVERSE_SEARCH]


# -- a finished check's keyframes ------------------------------------------
def _folder(settings: Settings, job_id: str) -> Path:
    if not job_id.isalnum():
        raise NotFound(f"no check {job_id}")
    return settings.home / "keyframes" / job_id


def checked_media(pipeline: Pipeline, job_id: str | None, report: Report) -> Path:
    """The checked video's file: the upload or download, else the archive's copy of a remembered one."""
    media = Path(report.source.media_path)
    if not media.is_file() and report.remembered_id:  # the upload was dropped: the archived copy
        with contextlib.suppress(NotFound):
            media = pipeline.archive.kept_media(report.remembered_id)
    if not media.is_file():
        raise NotFound(f"the checked video of {job_id or 'the report'} is no longer kept, and its pictures "
                       "were not drawn")
    return media


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def shots_for(pipeline: Pipeline, job_id: str, report: Report) -> list[Shot]:
    """The shots of a finished check's video (detected once, then read from the cache)."""
    cached = _folder(pipeline.settings, job_id) / "shots.json"
    if cached.is_file():
        return [Shot(s["start"], s["end"]) for s in json.loads(cached.read_text())]
    shots = detect_shots(checked_media(pipeline, job_id, report), pipeline.settings.max_pixels)
    _write(cached, json.dumps([s.to_dict() for s in shots]).encode())
    return shots


def keyframe_jpeg_for(pipeline: Pipeline, job_id: str, report: Report, n: int) -> bytes:
    """Keyframe ``n`` of a finished check as a full-size JPEG (drawn once, then read from the cache)."""
    cached = _folder(pipeline.settings, job_id) / f"{n}.jpg"
    if cached.is_file():
        return cached.read_bytes()
    shots = shots_for(pipeline, job_id, report)
    if not 0 <= n < len(shots):
        raise NotFound(f"check {job_id} has no keyframe {n}")
    data = keyframe_jpeg(checked_media(pipeline, job_id, report), shots[n].time)
    _write(cached, data)
    return data


@dataclass(frozen=True)
class Keyframe:
    """Keyframe ``n`` of a check: its shot, its public address (None without ``public_url``), its searches."""

    n: int
    shot: Shot
    public_url: str | None
    search: list[tuple[str, str]]


def public_address(public_base: str, secret: str, job_id: str, n: int) -> str:
    return f"{public_base}/public/keyframes/{job_id}/{n}-{public_token(secret, job_id, n)}.jpg"


def keyframes_for(pipeline: Pipeline, job_id: str, report: Report, secret: str) -> list[Keyframe]:
    """Every keyframe of a finished check, with search links when the server has a public address."""
    base: str | None = pipeline.settings.public_url
    frames = []
    for n, shot in enumerate(shots_for(pipeline, job_id, report)):
        public = public_address(base, secret, job_id, n) if base else None
        frames.append(Keyframe(n, shot, public, search_links(public) if public else []))
    return frames


def draw_ahead(pipeline: Pipeline, job_id: str, report: Report) -> None:
    """Every keyframe of a check whose video is about to be deleted (its report keeps them)."""
    try:
        for n in range(len(shots_for(pipeline, job_id, report))):
            keyframe_jpeg_for(pipeline, job_id, report, n)
    except (DecodeError, NotFound, OSError) as exc:
        log.info("no keyframes for check %s: %s", job_id, exc)
    except Exception:  # a decoder's own error: the check is done; its keyframes page says what is missing
        log.warning("keyframes of check %s failed", job_id, exc_info=True)
