"""Content regions: where the footage actually is inside the frame.

Part of decode (decode → **region** → fingerprint). Re-uploads wrap footage in
things that are not the footage: black letterbox/pillarbox bars, the blurred
fill of a vertical 9:16 repost, the static chrome of a screen recording, a news
banner, or a whole other video around a picture-in-picture inset. Hashing the
wrapped frame would hash the wrapper, so we look at the whole sampled video
(wrappers are constant in time, footage is not) and return candidate
rectangles; the fingerprint stage hashes each of them.

* ``bars``: rows/columns that are dark in *every* sampled frame (temporal max),
  so a dark scene is never mistaken for a bar.
* ``content``: the box of pixels that both move (temporal activity) and carry
  detail (Laplacian energy): drops blurred fills, static UI chrome and banners.
* ``insets``: rectangles outlined by edges that persist over time (temporal
  median of gradients), i.e. a picture-in-picture border.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Rect", "Regions", "find_regions"]

# Luma (0-255) under which a row/column is a bar in every frame; limited-range
# black is 16 and compression noise lifts it a little.
BAR_MAX_LUMA = 40
# At most this many frames feed the region statistics (evenly spread).
REGION_SAMPLE_FRAMES = 64
# A detected box must differ from its parent by this share of a side to count.
MIN_TRIM = 0.06
# Persistent-edge strength (mean |gradient| in luma levels, temporal median).
EDGE_MIN = 10.0
# Share of a rectangle's perimeter that persistent edges must cover.
INSET_SIDE_COVER = 0.75


@dataclass(frozen=True)
class Rect:
    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def w(self) -> int:
        return self.x1 - self.x0

    @property
    def h(self) -> int:
        return self.y1 - self.y0

    @property
    def area(self) -> int:
        return max(0, self.w) * max(0, self.h)

    def iou(self, other: Rect) -> float:
        ix = max(0, min(self.x1, other.x1) - max(self.x0, other.x0))
        iy = max(0, min(self.y1, other.y1) - max(self.y0, other.y0))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union else 0.0


@dataclass(frozen=True)
class Regions:
    full: Rect  # frame minus black bars
    content: Rect | None  # moving, detailed part when clearly smaller than ``full``
    insets: tuple[Rect, ...]  # picture-in-picture candidates, best first


def _subsample(frames: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    if len(frames) <= REGION_SAMPLE_FRAMES:
        return frames
    idx = np.linspace(0, len(frames) - 1, REGION_SAMPLE_FRAMES).round().astype(int)
    return frames[idx]


def _span(mask: npt.NDArray[np.bool_]) -> tuple[int, int] | None:
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return None
    return int(idx[0]), int(idx[-1]) + 1


def _bars(frames: npt.NDArray[np.uint8]) -> Rect:
    h, w = frames.shape[1:]
    tmax = frames.max(axis=0)
    rows = _span(np.percentile(tmax, 90, axis=1) > BAR_MAX_LUMA)
    cols = _span(np.percentile(tmax, 90, axis=0) > BAR_MAX_LUMA)
    if rows is None or cols is None:
        return Rect(0, 0, w, h)
    rect = Rect(cols[0], rows[0], cols[1], rows[1])
    if rect.w < 0.3 * w or rect.h < 0.3 * h:
        return Rect(0, 0, w, h)
    return rect


def _content(frames: npt.NDArray[np.float32], full: Rect) -> Rect | None:
    if len(frames) < 3:
        return None
    sub = frames[:, full.y0 : full.y1, full.x0 : full.x1]
    activity = np.abs(np.diff(sub, axis=0)).mean(axis=0)
    lap = np.abs(
        4 * sub[:, 1:-1, 1:-1] - sub[:, :-2, 1:-1] - sub[:, 2:, 1:-1] - sub[:, 1:-1, :-2] - sub[:, 1:-1, 2:]
    ).mean(axis=0)
    activity = activity[1:-1, 1:-1]
    a_ref = np.percentile(activity, 90)
    s_ref = np.percentile(lap, 90)
    if a_ref < 1.0 or s_ref < 1.0:
        return None  # a still or blank video: nothing to learn from motion
    score = np.minimum(activity / a_ref, 1.0) * np.minimum(lap / s_ref, 1.0)
    rows = score.mean(axis=1)
    cols = score.mean(axis=0)
    r = _span(rows >= 0.3 * rows.max())
    c = _span(cols >= 0.3 * cols.max())
    if r is None or c is None:
        return None
    rect = Rect(full.x0 + c[0] + 1, full.y0 + r[0] + 1, full.x0 + c[1] + 1, full.y0 + r[1] + 1)
    trimmed = (full.w - rect.w) / full.w >= MIN_TRIM or (full.h - rect.h) / full.h >= MIN_TRIM
    if not trimmed or rect.w < 0.25 * full.w or rect.h < 0.25 * full.h:
        return None
    return rect


def _runs(edge: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Longest run of True along axis 0 for every column: (length, start)."""
    n, m = edge.shape
    best_len = np.zeros(m, dtype=np.int64)
    best_start = np.zeros(m, dtype=np.int64)
    cur = np.zeros(m, dtype=np.int64)
    for i in range(n):
        cur = np.where(edge[i], cur + 1, 0)
        better = cur > best_len
        best_len = np.where(better, cur, best_len)
        best_start = np.where(better, i - cur + 1, best_start)
    return best_len, best_start


def _line_candidates(strength: npt.NDArray[np.float32], min_len: int, keep: int) -> list[int]:
    """Positions (columns of ``strength``) holding a long persistent edge, strongest first."""
    lengths, _ = _runs(strength > EDGE_MIN)
    order = np.argsort(-lengths, kind="stable")
    picked: list[int] = []
    for pos in order:
        if lengths[pos] < min_len or len(picked) >= keep:
            break
        if all(abs(int(pos) - p) > 2 for p in picked):
            picked.append(int(pos))
    return picked


def _insets(frames: npt.NDArray[np.float32], full: Rect, max_insets: int = 2) -> tuple[Rect, ...]:
    sub = frames[:, full.y0 : full.y1, full.x0 : full.x1]
    if len(sub) < 4:
        return ()
    h, w = sub.shape[1:]
    # Gradient between pixel i and i+1; the median over time keeps only edges
    # that are there in most frames (an inset's border), not moving content.
    gx = np.median(np.abs(np.diff(sub, axis=2)), axis=0)  # (h, w-1): vertical lines
    gy = np.median(np.abs(np.diff(sub, axis=1)), axis=0)  # (h-1, w): horizontal lines
    vlines = _line_candidates(gx, int(0.15 * h), 10)
    hlines = _line_candidates(gy.T, int(0.15 * w), 10)
    found: list[tuple[float, Rect]] = []
    for i, xa in enumerate(sorted(vlines)):
        for xb in sorted(vlines)[i + 1 :]:
            if xb - xa < 0.2 * w:
                continue
            for j, ya in enumerate(sorted(hlines)):
                for yb in sorted(hlines)[j + 1 :]:
                    if yb - ya < 0.2 * h:
                        continue
                    left = (gx[ya:yb, xa] > EDGE_MIN).mean()
                    right = (gx[ya:yb, xb] > EDGE_MIN).mean()
                    top = (gy[ya, xa:xb] > EDGE_MIN).mean()
                    bottom = (gy[yb, xa:xb] > EDGE_MIN).mean()
                    cover = min(left, right, top, bottom)
                    if cover < INSET_SIDE_COVER:
                        continue
                    rect = Rect(full.x0 + xa + 1, full.y0 + ya + 1, full.x0 + xb + 1, full.y0 + yb + 1)
                    if rect.area > 0.85 * full.area:
                        continue
                    found.append((float(cover) * rect.area, rect))
    found.sort(key=lambda item: -item[0])
    picked: list[Rect] = []
    for _, rect in found:
        if all(rect.iou(p) < 0.7 for p in picked):
            picked.append(rect)
        if len(picked) >= max_insets:
            break
    return tuple(picked)


def find_regions(frames: npt.NDArray[np.uint8]) -> Regions:
    """Candidate footage rectangles for a video, from its sampled greyscale frames."""
    sample = _subsample(frames)
    full = _bars(sample)
    as_float = sample.astype(np.float32)
    content = _content(as_float, full)
    insets = tuple(r for r in _insets(as_float, full) if content is None or r.iou(content) < 0.9)
    return Regions(full=full, content=content, insets=insets)
