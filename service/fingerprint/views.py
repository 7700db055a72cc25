"""Views: which parts and orientations of each sampled frame get hashed.

Part of fingerprint (decode → **fingerprint**). pHash is neither flip- nor
rotation-invariant and dislikes crops, so instead of hoping for invariance we
hash the transformations recyclers apply:

* archive side (what a re-upload may have *kept* of the original): the frame,
  its moving/detailed content box, top and bottom 75% bands (banner or caption
  cut off), and a 3×3 grid of 80% and of 60% windows (crops, centre and off);
* query side (what a re-upload may have *done* to it): the frame, mirrored,
  rotated ±90°, the content box (9:16 blur fill, screen recording) and up to
  two picture-in-picture insets, each also mirrored; and a few of the archive
  windows (top/bottom 75%, the four 60% corners), compared only with the same
  window, for what a logo, caption or banner left uncovered.

Every video gets all views, so a checked video can later join the archive
without decoding again; the index stores archive views and queries with query
views. A hash of 0 means "no hash" (blank view).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from service.decode.frames import SampledVideo
from service.decode.region import Rect, Regions, find_regions
from service.fingerprint.base import Hasher
from service.models import VideoFingerprint

__all__ = ["ALL_VIEWS", "ARCHIVE_VIEWS", "MIRROR_VIEWS", "QUERY_VIEWS", "QUERY_WINDOWS", "fingerprint_video"]

# Frames (or views) whose luma standard deviation is below this carry no
# information: fades, title cards in one colour, black intros. Hashing them
# would make every blank intro match every other one.
BLANK_STD = 6.0

_GRID_80 = (0.0, 0.1, 0.2)
_GRID_60 = (0.0, 0.2, 0.4)
# name -> (x0, y0, x1, y1) as fractions of the bar-free frame
WINDOWS: dict[str, tuple[float, float, float, float]] = {
    "top75": (0.0, 0.0, 1.0, 0.75),
    "bottom75": (0.0, 0.25, 1.0, 1.0),
    **{f"c80_{i}{j}": (x, y, x + 0.8, y + 0.8) for j, y in enumerate(_GRID_80) for i, x in enumerate(_GRID_80)},
    **{f"c60_{i}{j}": (x, y, x + 0.6, y + 0.6) for j, y in enumerate(_GRID_60) for i, x in enumerate(_GRID_60)},
}

_TRANSFORM_VIEWS: tuple[str, ...] = (
    "full", "mirror", "rot90", "rot270",
    "content", "content_mirror",
    "inset0", "inset0_mirror", "inset1", "inset1_mirror",
)
# Windows the query hashes too, matched only against the *same* window of an
# archive frame (see ``service.match.align``): what is left of a picture when
# a logo, caption or banner covers one part of it. A banner or caption leaves
# top75 intact; a large logo leaves at least one 60% corner window intact.
QUERY_WINDOWS: tuple[str, ...] = ("top75", "bottom75", "c60_00", "c60_20", "c60_02", "c60_22")
QUERY_VIEWS: tuple[str, ...] = (*_TRANSFORM_VIEWS, *QUERY_WINDOWS)
ARCHIVE_VIEWS: tuple[str, ...] = ("full", "content", *WINDOWS)
ALL_VIEWS: tuple[str, ...] = tuple(dict.fromkeys(_TRANSFORM_VIEWS + ARCHIVE_VIEWS))
MIRROR_VIEWS = frozenset(v for v in ALL_VIEWS if v.endswith("mirror"))


def _crop(frame: npt.NDArray[np.uint8], rect: Rect) -> npt.NDArray[np.uint8]:
    return frame[rect.y0 : rect.y1, rect.x0 : rect.x1]


def _window(rect: Rect, frac: tuple[float, float, float, float]) -> Rect:
    x0, y0, x1, y1 = frac
    return Rect(
        rect.x0 + round(x0 * rect.w), rect.y0 + round(y0 * rect.h),
        rect.x0 + round(x1 * rect.w), rect.y0 + round(y1 * rect.h),
    )


def _frame_views(frame: npt.NDArray[np.uint8], regions: Regions) -> dict[str, npt.NDArray[np.uint8]]:
    full = _crop(frame, regions.full)
    views: dict[str, npt.NDArray[np.uint8]] = {
        "full": full,
        "mirror": full[:, ::-1],
        "rot90": np.rot90(full, 1),
        "rot270": np.rot90(full, -1),
    }
    if regions.content is not None:
        content = _crop(frame, regions.content)
        views["content"] = content
        views["content_mirror"] = content[:, ::-1]
    for k, inset in enumerate(regions.insets[:2]):
        img = _crop(frame, inset)
        views[f"inset{k}"] = img
        views[f"inset{k}_mirror"] = img[:, ::-1]
    for name, frac in WINDOWS.items():
        views[name] = _crop(frame, _window(regions.full, frac))
    return views


def fingerprint_video(
    video: SampledVideo,
    hasher: Hasher,
    progress: Callable[[float], None] | None = None,
) -> tuple[VideoFingerprint, Regions]:
    """Hash every view of every sampled frame; blank views get hash 0."""
    regions = find_regions(video.frames)
    column = {name: j for j, name in enumerate(ALL_VIEWS)}
    hashes = np.zeros((len(video.frames), len(ALL_VIEWS)), dtype=np.uint64)
    full_area = regions.full.area
    for i, frame in enumerate(video.frames):
        if float(_crop(frame, regions.full).std()) < BLANK_STD:
            continue  # the whole picture is blank: no view of it is evidence
        names: list[str] = []
        images: list[npt.NDArray[np.uint8]] = []
        for name, img in _frame_views(frame, regions).items():
            if img.size == 0 or img.size < 0.02 * full_area or float(img.std()) < BLANK_STD:
                continue
            names.append(name)
            images.append(img)
        for name, value in zip(names, hasher.hash_images(images), strict=True):
            hashes[i, column[name]] = value
        if progress is not None and i % 16 == 0:
            progress(i / len(video.frames))
    fingerprint = VideoFingerprint(
        hasher=hasher.name,
        views=ALL_VIEWS,
        times=video.times,
        hashes=hashes,
        duration=video.duration,
    )
    return fingerprint, regions
