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
* ``insets``: picture-in-picture candidates: rectangles outlined by frame
  lines that keep their place and sign over time, rectangles outlined where
  neighbouring pixels stop moving together (a borderless inset, even of a still
  fixed camera, over other moving footage), rectangles that move differently
  from the picture around them, and rectangular areas whose pixels move
  together but not with the footage around them. Candidates of one inset lend
  each other their sides: each side goes where two videos meet most clearly,
  and a side that the lines beside it run on past goes out to where they end.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
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
# Rows/columns whose mean detail (Laplacian) is over this share of the sharpest row's belong to
# the footage: a 9:16 repost's blurred fill stays under a twentieth of it, a studio backdrop
# in the footage over a sixth (chosen on the tuned real footage's 9:16 reposts).
DETAIL_SHARE = 0.15
# A pixel whose luma varies over time by less than this (std, luma levels) is
# still: compression noise on a static overlay stays under it, footage does not.
ACTIVE_STD = 3.0
# Neighbouring moving pixels whose luma series correlate less than this (in
# absolute value: a shaking camera moves fine texture in and out of phase)
# belong to different pictures; within one picture neighbours correlate at 0.6–1.
BOUNDARY_CORR = 0.3
# The wider pixel gap compared across a boundary a thin frame blurred.
BOUNDARY_GAP = 2
# Time-averaged signed gradient (luma levels) of an inset's frame line, and the
# share of each side of a rectangle such lines must cover.
FRAME_EDGE = 12.0
INSET_SIDE_COVER = 0.75
INSET_WEAK_SIDE = 0.3
# A frame nested in another, keeping this share of its area and NESTED_COVER of its line coverage,
# is the footage's own frame (see ``_innermost``).
NESTED_AREA = 0.6
NESTED_COVER = 0.9
# Share of its bounding box a coherent moving area must fill to be an inset
# (a rectangle, not the irregular patch a moving object leaves).
INSET_FILL = 0.7
# Borderless insets by motion: each pair of consecutive sampled frames is
# explained by a few global shifts (no motion, and the strongest peaks of their
# phase correlation); a pixel belongs to the shift that best predicts it.
# Fine noise-like texture, which defeats pixel correlation, predicts very well.
MOTION_PAIRS = 8  # frame pairs examined, evenly spread (bounds the cost: ~6 ms a pair at 256 px)
MOTION_PEAKS = 3  # phase-correlation peaks tried as shifts, besides no motion
MOTION_BLUR_PX = 5  # box over which prediction errors are averaged
# A pixel is assigned when its best shift's error (luma levels) is under this share of the
# second best's, and the second best is wrong by at least MOTION_MIN_ERROR: flat areas stay unassigned.
MOTION_DECIDE_RATIO = 0.6
MOTION_MIN_ERROR = 4.0
MOTION_OPEN_PX = 5  # opening that removes specks from a shift's area
HOLE_OPEN_PX = 7  # opening of what a shift does *not* explain (the inset inside moving surroundings)
# Rows/columns of a candidate area less than this share full are trimmed (protrusions, bridges).
MOTION_TRIM = 0.5
# The blur widens an unexplained hole by about this much (px) on each side.
HOLE_GROW_PX = 1
# Share of examined pairs (and at least MOTION_MIN_VOTES) that must find the same rectangle.
MOTION_AGREE = 0.3
MOTION_MIN_VOTES = 3
MOTION_SAME_RECT_IOU = 0.7
# A box this close to the content box is the same picture, hashed once, as content (an inset: on its outline).
SAME_AS_CONTENT_IOU = 0.9
# A line this close to the picture's border (px at 256 wide) is where the picture ends, not an inset's side: a
# dark or blended last row runs the whole width, so a rectangle closed by it is outlined as completely as the
# inset and takes in the strip of footage below the inset (real cdnet_highway and grandma as pip insets).
EDGE_ROWS = 3
# Candidates this close (IoU) are one inset: its sides are taken from whichever finder places each on a clearer
# boundary between videos (``_fused``), by at least FUSE_MARGIN of the side's length; and only one of them is
# hashed. Chosen on the real footage's tuned pip copies (0.1 also fused a calm strip of footage into a box).
SAME_INSET_IOU = 0.7
FUSE_MARGIN = 0.2
# A side that the boundary lines of both sides beside it run on past, together, by this share of the picture
# is a line inside the inset (a cloud's edge in a still sky): it moves to where they end (``_run_on``).
RUN_ON_SHARE = 0.05
# How far past where they end a side is looked for on a still seam, as a share of the picture, and the least
# step (luma levels, time-averaged, along the side) that is a seam.
RUN_ON_REACH = 0.1
LINE_APART = 4  # px outside a side line (past the maps' dilation and wider gap) where texture would show
SEAM_MIN = 0.5
# Borderless insets by their outline: a side is a straight run of boundary pixels (``_boundaries``)
# covering this share of its length; three sides must, the fourth at least CUT_WEAK_SIDE
# (an inset's edge over a flat, still sky has no boundary to see).
CUT_SIDE_COVER = 0.75
CUT_WEAK_SIDE = 0.3
CUT_KEEP = 4  # best-outlined rectangles kept
CUT_SETTLE_PX = 3  # how far a line is looked for around where the dilated map found it
CUT_BAND_SHARE = 0.8  # share of the strongest coverage that is still the same line


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
    # Sharp part when clearly smaller than ``full`` and unlike ``content``: a fixed camera's footage
    # inside a blurred 9:16 fill, where only a small part of the footage moves.
    detail: Rect | None = None


def _subsample(frames: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    if len(frames) <= REGION_SAMPLE_FRAMES:
        return frames
    idx = np.linspace(0, len(frames) - 1, REGION_SAMPLE_FRAMES).round().astype(int)
    return np.asarray(frames[idx], dtype=np.uint8)


def _span(mask: npt.NDArray[np.bool_]) -> tuple[int, int] | None:
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return None
    return int(idx[0]), int(idx[-1]) + 1


def _bars(frames: npt.NDArray[np.uint8] | npt.NDArray[np.float32]) -> Rect:
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


def _inner_box(full: Rect, r: tuple[int, int], c: tuple[int, int]) -> Rect | None:
    """The box of row span ``r`` and column span ``c`` (of the Laplacian's trimmed grid) inside ``full``,
    when it trims ``full`` clearly and keeps at least a quarter of each side."""
    rect = Rect(full.x0 + c[0] + 1, full.y0 + r[0] + 1, full.x0 + c[1] + 1, full.y0 + r[1] + 1)
    trimmed = (full.w - rect.w) / full.w >= MIN_TRIM or (full.h - rect.h) / full.h >= MIN_TRIM
    if not trimmed or rect.w < 0.25 * full.w or rect.h < 0.25 * full.h:
        return None
    return rect


def _detail_energy(sub: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Mean absolute Laplacian over time per pixel (the border trimmed): how sharp the picture is there."""
    lap = np.abs(
        4 * sub[:, 1:-1, 1:-1] - sub[:, :-2, 1:-1] - sub[:, 2:, 1:-1] - sub[:, 1:-1, :-2] - sub[:, 1:-1, 2:]
    ).mean(axis=0)
    return np.asarray(lap, dtype=np.float32)


def _content(frames: npt.NDArray[np.float32], full: Rect, lap: npt.NDArray[np.float32]) -> Rect | None:
    """``lap``: ``_detail_energy`` of the frames' ``full`` part."""
    if len(frames) < 3:
        return None
    sub = frames[:, full.y0 : full.y1, full.x0 : full.x1]
    activity = np.abs(np.diff(sub, axis=0)).mean(axis=0)
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
    return _inner_box(full, r, c)


def _detail(lap: npt.NDArray[np.float32], full: Rect) -> Rect | None:
    """The box of rows and columns with sharp detail, moving or not (blurred fills have none);
    ``lap``: ``_detail_energy`` of the frames' ``full`` part."""
    rows = lap.mean(axis=1)
    if rows.max() < 1.0:
        return None
    r = _span(rows >= DETAIL_SHARE * rows.max())
    if r is None:
        return None
    cols = lap[r[0] : r[1]].mean(axis=0)  # within the sharp rows, so a fill above and below does not dilute
    c = _span(cols >= DETAIL_SHARE * cols.max())
    if c is None:
        return None
    return _inner_box(full, r, c)


def _boundaries(sub: npt.NDArray[np.float32]) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Where neighbouring pixels stop belonging to the same video: (between columns, between rows).

    Two pixels of one picture rise and fall together over time (neighbours in a
    natural image are correlated, and motion moves them together); a pixel of
    an inset and its neighbour in the footage around it do not. A moving pixel
    next to a still one (an inset's frame, a player's chrome) is a boundary too;
    two still pixels never are. Persistent gradients (the old test) also fire on
    straight lines in a slowly panning background, which this does not.
    """
    centred = sub - sub.mean(axis=0)
    spread = np.sqrt((centred**2).sum(axis=0))
    moving = spread / np.sqrt(len(sub)) > ACTIVE_STD
    norm = spread + 1e-6

    def cut(axis: int, gap: int) -> npt.NDArray[np.bool_]:
        """Boundary between pixels ``gap`` apart along ``axis``, marked on every pixel pair between them."""
        n = centred.shape[axis + 1]
        a = [slice(None), slice(None)]
        b = [slice(None), slice(None)]
        a[axis], b[axis] = slice(0, n - gap), slice(gap, n)
        ta, tb = tuple(a), tuple(b)
        corr = (centred[(slice(None), *ta)] * centred[(slice(None), *tb)]).sum(axis=0) / (norm[ta] * norm[tb])
        ma, mb = moving[ta], moving[tb]
        edge = (ma & mb & (np.abs(corr) < BOUNDARY_CORR)) | (ma ^ mb)
        out = np.zeros(centred.shape[1:], dtype=bool)
        for k in range(gap):
            sl = [slice(None), slice(None)]
            sl[axis] = slice(k, k + n - gap)
            out[tuple(sl)] |= edge
        return out

    # Wider gaps too: a thin inset frame, scaled down and smoothed, blends into a
    # band that correlates with both sides, but the pixels either side of it do not.
    return cut(1, 1) | cut(1, BOUNDARY_GAP), cut(0, 1) | cut(0, BOUNDARY_GAP)


Cuts = tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]  # ``_boundaries``: (between columns, between rows)
Covers = tuple[float, float, float, float]  # share of a rectangle's left, right, top, bottom side on an edge
Outlines = list[tuple[tuple[int, int, int, int], Covers]]  # ``_outlined``: (x0, y0, x1, y1) and each side's cover


def _coherent_insets(sub: npt.NDArray[np.float32], full: Rect, cuts: Cuts) -> list[tuple[float, Rect]]:
    """Moving, coherent, rectangular areas cut off from the rest of the picture (a borderless inset)."""
    h, w = sub.shape[1:]
    vcut, hcut = cuts
    cut = vcut | hcut
    coherent = (sub.std(axis=0) > ACTIVE_STD) & ~cut
    # One pixel of erosion breaks the thin bridges noise leaves across a boundary.
    coherent = cv2.erode(coherent.astype(np.uint8), np.ones((3, 3), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(coherent, connectivity=4)
    found: list[tuple[float, Rect]] = []
    for k in range(1, count):
        x, y, bw, bh, area = (int(v) for v in stats[k])
        fill = area / float(bw * bh)
        if bw < 0.2 * w or bh < 0.2 * h or fill < INSET_FILL:
            continue
        # Grow back the eroded pixel and the boundary pixel around the component.
        rect = Rect(full.x0 + max(0, x - 2), full.y0 + max(0, y - 2),
                    full.x0 + min(w, x + bw + 2), full.y0 + min(h, y + bh + 2))
        if rect.area > 0.85 * full.area:
            continue
        found.append((fill * rect.area, rect))
    return found


def _cut_insets(cuts: Cuts, full: Rect) -> list[tuple[float, Rect]]:
    """Rectangles outlined by boundaries between pictures (a borderless inset, however little moves in it).

    Where the inset meets the footage around it, neighbouring pixels stop rising and falling
    together in every frame pair, so the boundary map draws the inset's outline as straight lines,
    while what moves inside either picture leaves ragged patches. Unlike ``_coherent_insets`` it
    needs no motion inside the inset (a fixed camera's footage over a car's view of the road).
    """
    raw_v, raw_h = cuts
    h, w = raw_v.shape
    vcut, hcut = _joined(raw_v, raw_h)
    found: list[tuple[float, tuple[int, int, int, int], Covers]] = []
    outlined, _ = _outlined(vcut, hcut, w, h, 0.3, CUT_SIDE_COVER, CUT_WEAK_SIDE)
    for (xa, ya, xb, yb), covers in outlined:
        if (xb - xa) * (yb - ya) > 0.85 * w * h:
            continue
        # Outline seen minus outline missing: a rectangle reaching past a true corner along a
        # line of the other picture pays for the uncovered length.
        lengths = (yb - ya, yb - ya, xb - xa, xb - xa)
        score = float(sum((2 * c - 1) * n for c, n in zip(covers, lengths, strict=True)))
        found.append((score, (xa, ya, xb, yb), covers))
    out: list[tuple[float, Rect]] = []
    for score, box, seen in sorted(found, reverse=True)[:CUT_KEEP]:
        xa, ya, xb, yb = _extend_weak_side(box, seen, vcut, hcut, CUT_SIDE_COVER)
        # Settled, a side still keeps out of the picture's edge rows (see EDGE_ROWS).
        x0, x1 = (min(max(_settle(raw_v[ya:yb].mean(axis=0), x), EDGE_ROWS + 1), w - EDGE_ROWS - 1) for x in (xa, xb))
        y0, y1 = (min(max(_settle(raw_h[:, xa:xb].mean(axis=1), y), EDGE_ROWS + 1), h - EDGE_ROWS - 1)
                  for y in (ya, yb))
        rect = Rect(full.x0 + x0, full.y0 + y0, full.x0 + x1, full.y0 + y1)
        if all(rect != r for _, r in out):
            out.append((score, rect))
    return out


def _joined(vedge: npt.NDArray[np.bool_], hedge: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.bool_],
                                                                                 npt.NDArray[np.bool_]]:
    """Edge maps whose lines hold together: one pixel of wobble across a line, and gaps of a few pixels
    along it, still make a line."""
    vline = cv2.morphologyEx(cv2.dilate(vedge.astype(np.uint8), np.ones((1, 3), np.uint8)), cv2.MORPH_CLOSE,
                             np.ones((5, 1), np.uint8)).astype(bool)
    hline = cv2.morphologyEx(cv2.dilate(hedge.astype(np.uint8), np.ones((3, 1), np.uint8)), cv2.MORPH_CLOSE,
                             np.ones((1, 5), np.uint8)).astype(bool)
    return vline, hline


def _extend_weak_side(box: tuple[int, int, int, int], seen: Covers, vedge: npt.NDArray[np.bool_],
                      hedge: npt.NDArray[np.bool_], side_cover: float) -> tuple[int, int, int, int]:
    """A side without a line of its own (over a flat, still background of the same tone) moved to where the
    two lines beside it end (``_weak_side_end``)."""
    xa, ya, xb, yb = box
    h, w = vedge.shape
    if seen[2] < side_cover and ya > 0:
        ya = _weak_side_end(vedge[:, xa], vedge[:, xb], hedge[:, xa:xb], ya - 1, -1, side_cover)
    if seen[3] < side_cover and yb < h - 1:
        yb = _weak_side_end(vedge[:, xa], vedge[:, xb], hedge[:, xa:xb], yb + 1, 1, side_cover)
    if seen[0] < side_cover and xa > 0:
        xa = _weak_side_end(hedge[ya], hedge[yb], vedge[ya:yb].T, xa - 1, -1, side_cover)
    if seen[1] < side_cover and xb < w - 1:
        xb = _weak_side_end(hedge[ya], hedge[yb], vedge[ya:yb].T, xb + 1, 1, side_cover)
    return xa, ya, xb, yb


def _weak_side_end(line_a: npt.NDArray[np.bool_], line_b: npt.NDArray[np.bool_], across: npt.NDArray[np.bool_],
                   at: int, outward: int, side_cover: float) -> int:
    """Where a weak side next to index ``at`` of the two lines beside it moves, outward (-1 towards index 0,
    +1 away): where they end together; or, where one of them runs on past that and a line of the side's own
    (a row of ``across``, which holds the side's map along the side's length) covers ``side_cover`` there, the
    nearest such line. The bottom line of real akiyo as a pip60 inset fades over the footage below it a sixth
    of the way before the corner, while the top line and the left side's own line run on to it."""
    first, past = _run_around(line_a & line_b, at)
    end = first if outward < 0 else past - 1
    if end == (at + 1 if outward < 0 else at - 1):
        return end  # no run at ``at``: the side stays
    ends = [_run_around(line, at) for line in (line_a, line_b)]
    reach = min(f for f, _ in ends) if outward < 0 else max(p for _, p in ends) - 1
    beyond = range(end - 1, reach - 1, -1) if outward < 0 else range(end + 1, reach + 1)
    n = len(line_a)
    own = [k for k in beyond if EDGE_ROWS <= k < n - EDGE_ROWS and float(across[k].mean()) >= side_cover]
    return own[0] if own else end


def _settle(cover: npt.NDArray[np.float64], pos: int) -> int:
    """Where a boundary line found near ``pos`` really is: the middle of the band of its strongest
    coverage within CUT_SETTLE_PX (the wider gaps and the dilation widen a line to 3–5 px), as the
    index of the first pixel past it."""
    lo, hi = max(0, pos - CUT_SETTLE_PX), min(len(cover), pos + CUT_SETTLE_PX + 1)
    near = cover[lo:hi]
    if near.max() < CUT_WEAK_SIDE:
        return pos  # no line here (a side found where the lines beside it end)
    strong = near >= CUT_BAND_SHARE * near.max()
    left = right = int(np.argmax(near))
    # The run of strong coverage around the peak, so a second line nearby does not pull the middle.
    while left > 0 and strong[left - 1]:
        left -= 1
    while right < len(near) - 1 and strong[right + 1]:
        right += 1
    return lo + (left + right) // 2 + 1


def _shift_hypotheses(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> list[tuple[float, float]]:
    """No motion plus the strongest peaks of the phase correlation of two frames, with sub-pixel centroids."""
    fa = cv2.dft(a - a.mean(), flags=cv2.DFT_COMPLEX_OUTPUT)
    fb = cv2.dft(b - b.mean(), flags=cv2.DFT_COMPLEX_OUTPUT)
    cross = cv2.mulSpectrums(fb, fa, 0, conjB=True)
    cross /= np.sqrt((cross**2).sum(axis=2, keepdims=True)) + 1e-3
    surface = np.fft.fftshift(cv2.idft(cross, flags=cv2.DFT_REAL_OUTPUT | cv2.DFT_SCALE))
    h, w = surface.shape
    work = surface.copy()
    shifts = [(0.0, 0.0)]
    for _ in range(MOTION_PEAKS):
        y, x = np.unravel_index(int(np.argmax(work)), work.shape)
        ys, xs = slice(max(0, y - 1), min(h, y + 2)), slice(max(0, x - 1), min(w, x + 2))
        patch = np.clip(surface[ys, xs], 0, None)
        gy, gx = np.mgrid[ys, xs]
        total = float(patch.sum()) + 1e-9
        shifts.append((float((gx * patch).sum()) / total - w // 2, float((gy * patch).sum()) / total - h // 2))
        work[ys, xs] = -np.inf
    return shifts


def _shift_error(
    a: npt.NDArray[np.float32], b: npt.NDArray[np.float32], dx: float, dy: float
) -> npt.NDArray[np.float32]:
    """How badly shifting ``a`` by (dx, dy) predicts ``b``, per pixel.

    The lower of the forward and backward errors: content entering a moving
    picture at one side is new in one direction only, so the inset's edges stay explained.
    """
    h, w = a.shape
    box = (MOTION_BLUR_PX, MOTION_BLUR_PX)
    fwd = cv2.warpAffine(a, np.array([[1, 0, dx], [0, 1, dy]], dtype=np.float32), (w, h), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)
    bwd = cv2.warpAffine(b, np.array([[1, 0, -dx], [0, 1, -dy]], dtype=np.float32), (w, h), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)
    err: npt.NDArray[np.float32] = np.minimum(cv2.blur(np.abs(b - fwd), box), cv2.blur(np.abs(a - bwd), box))
    return err


def _rect_area(mask: npt.NDArray[np.uint8]) -> tuple[int, int, int, int, int] | None:
    """The largest inset-shaped component of ``mask``: (x0, y0, x1, y1, area), protrusions trimmed."""
    h, w = mask.shape
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
    best: tuple[int, int, int, int, int] | None = None
    for k in range(1, count):
        x, y, bw, bh, area = (int(v) for v in stats[k])
        if bw < 0.2 * w or bh < 0.2 * h or area < INSET_FILL * bw * bh or bw * bh > 0.85 * w * h:
            continue
        comp = labels[y : y + bh, x : x + bw] == k
        cols = np.flatnonzero(comp.mean(axis=0) >= MOTION_TRIM)
        rows = np.flatnonzero(comp.mean(axis=1) >= MOTION_TRIM)
        if cols.size == 0 or rows.size == 0:
            continue
        x0, x1, y0, y1 = x + int(cols[0]), x + int(cols[-1]) + 1, y + int(rows[0]), y + int(rows[-1]) + 1
        if x1 - x0 < 0.2 * w or y1 - y0 < 0.2 * h:
            continue
        if best is None or area > best[4]:
            best = (x0, y0, x1, y1, area)
    return best


def _pair_inset(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> tuple[int, int, int, int] | None:
    """The rectangle one frame pair shows moving apart from its surroundings, if any."""
    shifts = _shift_hypotheses(a, b)
    # Best and second-best error and the best shift per pixel (elementwise: cheaper than sort/argmin on a stack).
    best = _shift_error(a, b, *shifts[0])
    second = np.full_like(best, np.inf)
    owner = np.zeros(best.shape, dtype=np.uint8)
    for k, (dx, dy) in enumerate(shifts[1:], start=1):
        err = _shift_error(a, b, dx, dy)
        better = err < best
        second = np.where(better, best, np.minimum(second, err))
        owner[better] = k
        best = np.where(better, err, best)
    decided = (best < MOTION_DECIDE_RATIO * second) & (second > MOTION_MIN_ERROR)
    found: tuple[int, int, int, int, int] | None = None
    min_share = 0.2 * 0.2 * INSET_FILL  # smallest inset area, as a share of the frame
    for k in range(len(shifts)):
        mine = decided & (owner == k)
        if mine.mean() < min_share:
            continue
        area = np.asarray(cv2.morphologyEx(mine.astype(np.uint8), cv2.MORPH_OPEN,
                                           np.ones((MOTION_OPEN_PX, MOTION_OPEN_PX), np.uint8)), dtype=np.uint8)
        cands = [_rect_area(area)]
        if area.mean() > 0.2:
            # The inset as the hole in the surroundings' motion: its own pixels may split between
            # shifts or stay unassigned (objects moving inside it, flat areas).
            kernel = np.ones((HOLE_OPEN_PX, HOLE_OPEN_PX), np.uint8)
            hole = np.asarray(cv2.morphologyEx(1 - area, cv2.MORPH_OPEN, kernel), dtype=np.uint8)
            r = _rect_area(hole)
            if r is not None:
                g = HOLE_GROW_PX
                cands.append((r[0] + g, r[1] + g, r[2] - g, r[3] - g, r[4]))
        for c in cands:
            if c is not None and (found is None or c[4] > found[4]):
                found = c
    return None if found is None else found[:4]


def _motion_insets(frames: npt.NDArray[np.uint8], full: Rect) -> list[tuple[float, Rect]]:
    """A borderless inset over other moving footage: the rectangle most frame pairs show moving on its own.

    ``frames`` are all sampled frames, not the region subsample: a pair must be
    consecutive samples (0.5 s apart) for one shift to carry a picture over.
    """
    if len(frames) < 2:
        return []
    pairs = np.unique(np.linspace(0, len(frames) - 2, min(MOTION_PAIRS, len(frames) - 1)).round().astype(int))

    def plane(t: int) -> npt.NDArray[np.float32]:
        # cv2 wants contiguous planes; the bar-free part of a frame is a strided crop.
        return np.ascontiguousarray(frames[t, full.y0 : full.y1, full.x0 : full.x1], dtype=np.float32)

    rects = [r for t in pairs if (r := _pair_inset(plane(t), plane(t + 1))) is not None]
    if not rects:
        return []
    boxes = [Rect(*r) for r in rects]
    middle = Rect(*(int(v) for v in np.median(np.array(rects), axis=0)))
    agree = [r for r, box in zip(rects, boxes, strict=True) if box.iou(middle) >= MOTION_SAME_RECT_IOU]
    if len(agree) < max(MOTION_MIN_VOTES, MOTION_AGREE * len(pairs)):
        return []
    x0, y0, x1, y1 = (int(round(v)) for v in np.median(np.array(agree), axis=0))
    rect = Rect(full.x0 + x0, full.y0 + y0, full.x0 + x1, full.y0 + y1)
    return [(len(agree) / len(pairs) * rect.area, rect)]


def _runs(edge: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """Longest run of True along axis 0, for every column."""
    best = np.zeros(edge.shape[1], dtype=np.int64)
    cur = np.zeros(edge.shape[1], dtype=np.int64)
    for row in edge:
        cur = np.where(row, cur + 1, 0)
        best = np.maximum(best, cur)
    return best


def _lines(edge: npt.NDArray[np.bool_], min_len: int, keep: int) -> list[int]:
    """Columns of ``edge`` holding a long straight edge, longest first, at least 3 px apart."""
    lengths = _runs(edge)
    picked: list[int] = []
    for pos in np.argsort(-lengths, kind="stable"):
        if lengths[pos] < min_len or len(picked) >= keep:
            break
        if all(abs(int(pos) - p) > 2 for p in picked):
            picked.append(int(pos))
    return picked


def _outlined(vedge: npt.NDArray[np.bool_], hedge: npt.NDArray[np.bool_], w: int, h: int, min_len: float,
              side_cover: float, weak_side: float, guess_fourth: bool = False) -> tuple[Outlines, Outlines]:
    """Rectangles whose sides lie on long straight edges: (x0, y0, x1, y1) on the edge maps' grid and each side's
    coverage (left, right, top, bottom); and, second, the guessed ones.

    ``vedge`` marks edges between columns, ``hedge`` between rows (each picture's own rule); a line runs at least
    ``min_len`` of the picture, sides are a fifth of it apart or more, three sides are covered ``side_cover`` and
    the fourth ``weak_side`` (it may fade where the footage meets a background of its own tone). With
    ``guess_fourth``, where no rectangle is outlined so, rectangles whose fourth side has no line at all are
    guessed.
    """
    vlines = sorted(x for x in _lines(vedge, int(min_len * h), 12) if EDGE_ROWS <= x < vedge.shape[1] - EDGE_ROWS)
    hlines = sorted(y for y in _lines(hedge.T, int(min_len * w), 12) if EDGE_ROWS <= y < hedge.shape[0] - EDGE_ROWS)
    # Running sums along each line, so a side's coverage is two look-ups.
    vsum = np.vstack([np.zeros((1, vedge.shape[1]), np.int64), np.cumsum(vedge, axis=0)])
    hsum = np.hstack([np.zeros((hedge.shape[0], 1), np.int64), np.cumsum(hedge, axis=1)])
    found: Outlines = []
    for i, xa in enumerate(vlines):
        for xb in vlines[i + 1 :]:
            if xb - xa < 0.2 * w:
                continue
            for j, ya in enumerate(hlines):
                for yb in hlines[j + 1 :]:
                    if yb - ya < 0.2 * h:
                        continue
                    covers = _covers((xa, ya, xb, yb), vsum, hsum)
                    weakest, second = sorted(covers)[:2]
                    if second >= side_cover and weakest >= weak_side:
                        found.append(((xa, ya, xb, yb), covers))
    guessed: Outlines = []
    if found or not guess_fourth:
        return found, guessed
    # One side with no line at all (a frame over a background of its own tone all along it) ends where the two
    # lines beside it end, taken on the joined maps.
    vjoin, hjoin = _joined(vedge, hedge)
    beside_vertical = _ending_together(vlines, hlines, vjoin, h, w)
    beside_horizontal = [(x0, ya, x1, yb) for ya, x0, yb, x1 in _ending_together(hlines, vlines, hjoin.T, w, h)]
    for box in dict.fromkeys(beside_vertical + beside_horizontal):
        covers = _covers(box, vsum, hsum)
        if sorted(covers)[1] >= side_cover:
            guessed.append((box, covers))
    return found, guessed


def _covers(box: tuple[int, int, int, int], vsum: npt.NDArray[np.int64], hsum: npt.NDArray[np.int64]) -> Covers:
    """Share of each side of ``box`` on an edge, from the edge maps' running sums along their lines."""
    xa, ya, xb, yb = box
    return (float(vsum[yb, xa] - vsum[ya, xa]) / (yb - ya), float(vsum[yb, xb] - vsum[ya, xb]) / (yb - ya),
            float(hsum[ya, xb] - hsum[ya, xa]) / (xb - xa), float(hsum[yb, xb] - hsum[yb, xa]) / (xb - xa))


def _run_around(joint: npt.NDArray[np.bool_], at: int) -> tuple[int, int]:
    """The run of True in ``joint`` holding index ``at``: (first, one past the last). If ``at`` is False, the empty
    run beside it, (at + 1, at): a side moved to either end stays where it was."""
    if not joint[at]:
        return at + 1, at
    before = np.flatnonzero(~joint[:at])
    after = np.flatnonzero(~joint[at:])
    return (int(before[-1]) + 1 if len(before) else 0), (at + int(after[0]) if len(after) else len(joint))


def _ending_together(pair_lines: list[int], cross_lines: list[int], join: npt.NDArray[np.bool_], length: int,
                     span: int) -> list[tuple[int, int, int, int]]:
    """Rectangles (a, lo, b, hi) with sides on two lines a and b of ``join`` (a column each, ``length`` long), one
    end on a crossing line and the other where a and b end together; written for vertical pairs (x0, y0, x1, y1),
    and for horizontal ones on the transposed map."""
    out: list[tuple[int, int, int, int]] = []
    for i, a in enumerate(pair_lines):
        for b in pair_lines[i + 1 :]:
            if b - a < 0.2 * span:
                continue
            joint = join[:, a] & join[:, b]
            for c in cross_lines:
                first, _ = _run_around(joint, max(0, c - 1))  # c as the far end: the lines run up to it
                _, last = _run_around(joint, min(length - 1, c + 1))  # c as the near end: they run on from it
                end = min(last - 1, length - 2)  # the lines' last pixel; the crossing map has one row fewer
                out += [(a, first, b, c)] if c - first >= 0.2 * length else []
                out += [(a, c, b, end)] if end - c >= 0.2 * length else []
    return out


def _framed_insets(sub: npt.NDArray[np.float32],
                   full: Rect) -> tuple[list[tuple[float, Rect]], list[tuple[float, Rect]]]:
    """Rectangles outlined by edges that keep their place *and sign* over time (an inset's frame); and, second,
    where none is, frames with one side guessed (``_outlined``'s ``guess_fourth``).

    A static frame line is brighter (or darker) than both sides in every frame;
    moving texture, however busy, flips the sign of its gradients as it moves,
    so its time-averaged signed gradient stays near zero.
    """
    h, w = sub.shape[1:]
    gx = np.diff(sub, axis=2)  # (n, h, w-1)
    gy = np.diff(sub, axis=1)  # (n, h-1, w)
    vedge = (np.abs(gx.mean(axis=0)) >= FRAME_EDGE) & (np.abs(gx.mean(axis=0)) >= gx.std(axis=0))
    hedge = (np.abs(gy.mean(axis=0)) >= FRAME_EDGE) & (np.abs(gy.mean(axis=0)) >= gy.std(axis=0))
    vline, hline = _joined(vedge, hedge)  # where a weak side is extended to

    def framed(outlines: Outlines) -> list[tuple[float, Rect]]:
        found: list[tuple[float, Rect]] = []
        for box, covers in outlines:
            xa, ya, xb, yb = _extend_weak_side(box, covers, vline, hline, INSET_SIDE_COVER)
            # Inside the frame line: skip the line's own (blended) pixels.
            rect = Rect(full.x0 + xa + 2, full.y0 + ya + 2, full.x0 + xb, full.y0 + yb)
            if rect.area <= 0.85 * full.area:
                found.append((float(np.mean(covers)) * rect.area, rect))
        return _innermost(found)

    outlined, guessed = _outlined(vedge, hedge, w, h, 0.15, INSET_SIDE_COVER, INSET_WEAK_SIDE, guess_fourth=True)
    return framed(outlined), framed(guessed)


def _innermost(found: list[tuple[float, Rect]]) -> list[tuple[float, Rect]]:
    """Each framed rectangle preceded by the best-outlined frame nested in it.

    A screen recording's player is several frames in one (the window with its title bar, the
    video area in it), and the footage's own frame is the one outlined most completely; a line
    that only passes by (the title bar's edge) leaves gaps. Nested frames keep NESTED_AREA of the
    area; among those whose lines cover at least NESTED_COVER of the outer's, the most complete
    outline wins, the smallest on a tie. A nested rectangle that differs from the outer one on one side
    only must be outlined more completely: a still line of the footage (a road's edge seen by a fixed
    camera) closes a rectangle with three of the frame's sides as completely as the frame does (real
    cdnet_highway as pip40 took its right side from the road's edge).
    """
    found = sorted(found, key=lambda item: -item[0])
    out: list[tuple[float, Rect]] = []
    for score, rect in found:
        cover = score / rect.area
        family = [(round(s / r.area, 2), -r.area, r) for s, r in found
                  if r.x0 >= rect.x0 and r.y0 >= rect.y0 and r.x1 <= rect.x1 and r.y1 <= rect.y1
                  and r.area >= NESTED_AREA * rect.area and s / r.area >= NESTED_COVER * cover
                  and (r == rect or _sides_apart(r, rect) >= 2 or round(s / r.area, 2) > round(cover, 2))]
        best = max(family, key=lambda item: (item[0], item[1]))[2]
        if best != rect:
            out.append((score, best))
        out.append((score, rect))
    return out


def _sides_apart(a: Rect, b: Rect, px: int = 2) -> int:
    """How many sides of ``a`` lie more than ``px`` from the same side of ``b``."""
    return sum(abs(p - q) > px for p, q in ((a.x0, b.x0), (a.y0, b.y0), (a.x1, b.x1), (a.y1, b.y1)))


def _trim_bars(frames: npt.NDArray[np.float32], rect: Rect) -> Rect:
    """``rect`` without the black bars inside it (a 4:3 video pillarboxed in a player window)."""
    inner = _bars(frames[:, rect.y0 : rect.y1, rect.x0 : rect.x1])
    return Rect(rect.x0 + inner.x0, rect.y0 + inner.y0, rect.x0 + inner.x1, rect.y0 + inner.y1)


def _boundary_cover(cuts: Cuts, full: Rect, rect: Rect, side: int, pos: int) -> float:
    """Share of ``rect``'s ``side`` (0 left, 1 top, 2 right, 3 bottom), placed at ``pos``, on a boundary between
    videos (``_boundaries``), on the best-covered of the line and the two before it (``_side_line``)."""
    vcut, hcut = cuts
    x0, y0, x1, y1 = rect.x0 - full.x0, rect.y0 - full.y0, rect.x1 - full.x0, rect.y1 - full.y0
    if side in (0, 2):
        edge, p, lo, hi = vcut, pos - full.x0, y0, y1
    else:
        edge, p, lo, hi = hcut.T, pos - full.y0, x0, x1
    line = _side_line(edge, p, lo, hi)
    return 0.0 if line is None else float(edge[lo:hi, line].mean())


def _side_line(edge: npt.NDArray[np.bool_], pos: int, lo: int, hi: int) -> int | None:
    """The column of ``edge`` at ``pos`` or the two before it (a framed side starts inside its line, a cut one
    one pixel past it) most covered over rows [lo, hi); None where there is none."""
    cols = [c for c in range(pos - 2, pos + 1) if 0 <= c < edge.shape[1]]
    return max(cols, key=lambda c: (float(edge[lo:hi, c].mean()), c)) if cols and hi > lo else None


def _thin(out_a: npt.NDArray[np.bool_], out_b: npt.NDArray[np.bool_], a: int, b: int) -> bool:
    """Two side lines are lines over [a, b), not a texture drawing boundaries everywhere: the map's lines
    LINE_APART outside them are clear there."""
    return max(float(out_a[a:b].mean()), float(out_b[a:b].mean())) < 0.5


def _run_on(rect: Rect, joined: Cuts, seams: Cuts, full: Rect) -> Rect:
    """``rect`` with each side that the boundary lines of the two sides beside it run on past together moved to
    where they end, or to the still seam just past that.

    Where an inset meets the footage around it the boundary map draws its sides, and they end at its
    corners. A side they run on past is a line inside the inset (the frame finder closed on a cloud's edge in
    real bridge_far's still sky). Lines that run on to the picture's border are the footage's own, not an
    inset's. Where the inset's side lies in a flat, still area (still sky over still sky) its side lines fade
    before its corners; the side is then the row (column) within RUN_ON_REACH past their end where the
    time-averaged picture steps most (``seams``: its signed differences between columns, between rows)."""
    vj, hj = joined
    h, w = vj.shape
    x0, y0, x1, y1 = rect.x0 - full.x0, rect.y0 - full.y0, rect.x1 - full.x0, rect.y1 - full.y0
    if not (0 < x0 < x1 <= w and 0 < y0 < y1 <= h):
        return rect
    xl, xr = _side_line(vj, x0, y0, y1), _side_line(vj, x1, y0, y1)
    yt, yb = _side_line(hj.T, y0, x0, x1), _side_line(hj.T, y1, x0, x1)
    if xl is None or xr is None or yt is None or yb is None:
        return rect
    sides = [x0, y0, x1, y1]
    # Per axis: the two side lines, the seam map across the sides it moves, the span they run over; and beside
    # each line, outside the rectangle, the map's line that must stay clear where they run on.
    outside = (vj[:, max(0, xl - LINE_APART)], vj[:, min(w - 2, xr + LINE_APART)],
               hj[max(0, yt - LINE_APART)], hj[min(h - 2, yb + LINE_APART)])
    for axis, (line_a, line_b, out_a, out_b), seam, (lo, hi), n in (
            (1, (vj[:, xl], vj[:, xr], *outside[:2]), seams[1], (x0, x1), h),
            (0, (hj[yt], hj[yb], *outside[2:]), seams[0].T, (y0, y1), w)):
        near, far = sides[axis], sides[axis + 2]
        first, past = _run_around(line_a & line_b, (near + far) // 2)
        if first > near or past < far:
            continue  # the side lines do not run the rectangle's whole length
        beside, reach = int(RUN_ON_SHARE * n), int(RUN_ON_REACH * n)
        step = np.abs(seam[:, lo:hi].mean(axis=1))  # seam[k]: between lines k and k + 1
        if near - first > beside and first > EDGE_ROWS and _thin(out_a, out_b, first, near):
            out = step[max(0, first - reach - 1) : first]
            sides[axis] = first - len(out) + int(np.argmax(out)) + 1 if out.size and out.max() >= SEAM_MIN else first
        if past - far > beside and past < n - EDGE_ROWS and _thin(out_a, out_b, far, past):
            out = step[past - 1 : min(len(step), past + reach)]
            sides[axis + 2] = past + int(np.argmax(out)) if out.size and out.max() >= SEAM_MIN else past
    return Rect(full.x0 + sides[0], full.y0 + sides[1], full.x0 + sides[2], full.y0 + sides[3])


def _fused(found: list[Rect], cuts: Cuts, sub: npt.NDArray[np.float32], full: Rect) -> Iterator[Rect]:
    """The candidates in order, each preceded by a copy whose every side is moved to where a candidate of the same
    inset (IoU SAME_INSET_IOU) from any finder has that side on a clearer boundary between videos, and before
    that by the copy with its sides run on (``_run_on``).

    Each finder is right about some sides: the frame finder places a side on a still line inside the footage
    (the top of a painting on a wall under a white frame on a white sky, real silent as pip40), the cut finder
    one in footage beside the inset that moves on its own. An inset's side is where two
    videos meet, so per side the candidate whose line is a boundary wins, by FUSE_MARGIN. Lazily: a player
    window's page outlines hundreds of rectangles, and only the first few are ever picked."""
    if not found:
        return
    given: set[Rect] = set()
    joined = _joined(*cuts)
    mean = sub.mean(axis=0)  # the time-averaged picture's steps, where a side in still sky over still sky lies
    seams = (np.diff(mean, axis=1), np.diff(mean, axis=0))
    for rect in found:
        peers = [(r.x0, r.y0, r.x1, r.y1) for r in found if r.iou(rect) >= SAME_INSET_IOU]
        sides = [rect.x0, rect.y0, rect.x1, rect.y1]
        for side in range(4):
            own = _boundary_cover(cuts, full, rect, side, sides[side])
            for pos in dict.fromkeys(p[side] for p in peers):  # in the candidates' order, each once
                cover = _boundary_cover(cuts, full, rect, side, pos)
                if cover >= own + FUSE_MARGIN:
                    own, sides[side] = cover, pos
        fused = Rect(*sides)
        for out in (_run_on(fused, joined, seams, full), fused, rect):
            if out not in given and out.area > 0:
                given.add(out)
                yield out


def _insets(
    frames: npt.NDArray[np.float32], every: npt.NDArray[np.uint8], full: Rect, max_insets: int = 2
) -> tuple[Rect, ...]:
    """Picture-in-picture candidates, best first: framed ones, then borderless moving and coherent ones, then
    frames with one side guessed; each with its sides first taken from its peers where they sit on clearer
    boundaries between videos (``_fused``)."""
    sub = frames[:, full.y0 : full.y1, full.x0 : full.x1]
    if len(sub) < 4:
        return ()
    framed, guessed = _framed_insets(sub, full)
    found = sorted(framed, key=lambda item: -item[0])
    cuts = _boundaries(sub)
    found += sorted(_cut_insets(cuts, full), key=lambda item: -item[0])
    found += _motion_insets(every, full)
    found += sorted(_coherent_insets(sub, full, cuts), key=lambda item: -item[0])
    # Last, as a side placed without a line is a guess: a frame one of whose sides is invisible all
    # along (real foreman as a framed 40% inset, its top under a sky of the frame's tone).
    found += sorted(guessed, key=lambda item: -item[0])
    picked: list[Rect] = []
    for candidate in _fused([r for _, r in found], cuts, sub, full):
        rect = _trim_bars(frames, candidate)
        if all(rect.iou(p) < SAME_INSET_IOU for p in picked):
            picked.append(rect)
        if len(picked) >= max_insets:
            break
    return tuple(picked)


def find_regions(frames: npt.NDArray[np.uint8]) -> Regions:
    """Candidate footage rectangles for a video, from its sampled greyscale frames."""
    sample = _subsample(frames)
    full = _bars(sample)
    as_float = sample.astype(np.float32)
    lap = _detail_energy(as_float[:, full.y0 : full.y1, full.x0 : full.x1])  # computed once, used twice
    content = _content(as_float, full, lap)
    found = _insets(as_float, frames, full)
    if content is not None:
        # An outlined rectangle that is the content box says where its edges really are: the motion and
        # detail that place the box fade at a picture's calm edges (real bowing as pip60: the content box's
        # IoU with the true inset 0.87 before, 0.91 on the outline).
        content = next((r for r in found if r.iou(content) >= SAME_AS_CONTENT_IOU), content)
    insets = tuple(r for r in found if content is None or r.iou(content) < SAME_AS_CONTENT_IOU)
    detail = _detail(lap, full)
    if detail is not None and content is not None and detail.iou(content) >= SAME_AS_CONTENT_IOU:
        detail = None
    return Regions(full=full, content=content, insets=insets, detail=detail)
