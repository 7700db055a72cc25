"""Views: which parts and orientations of each sampled frame get hashed.

Part of fingerprint (decode → **fingerprint**). pHash is neither flip- nor
rotation-invariant and dislikes crops, so instead of hoping for invariance we
hash the transformations recyclers apply:

* archive side (what a re-upload may have *kept* of the original): the frame,
  its moving/detailed content box, top and bottom 75% bands (banner or caption
  cut off), and a 3×3 grid of 80% and of 60% windows (crops, centre and off);
* query side (what a re-upload may have *done* to it): the frame, mirrored,
  rotated ±90°, the content box (9:16 blur fill, screen recording), the
  sharp box (a fixed camera inside a 9:16 blur fill, where little moves) and up to
  two picture-in-picture insets, each also mirrored; and a few of the archive
  windows (top/bottom 75%, the four 60% corners), compared only with the same
  window, for what a logo, caption or banner left uncovered.

Every video gets all views, so a checked video can later join the archive
without decoding again; the index stores archive views and queries with query
views. A hash of 0 means "no hash" (blank view).

Each view also gets a *foreground* hash (column ``fg_<view>``): the hash of
its thumbnail minus the per-pixel temporal median of that view's thumbnails
(the background). On a fixed camera the background is the same at every
moment, so the plain hash says "this place" and only the foreground hash says
"this moment": people, vehicles, smoke. A static overlay (caption, logo,
blurred fill) belongs to the background and drops out. The foreground hashes
are stored, not indexed: matching uses them to verify a candidate alignment
(``service.match.align``). Where nothing moves the foreground hash is 0.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import cv2
import numpy as np
import numpy.typing as npt

from service.decode.frames import SampledVideo
from service.decode.region import Rect, Regions, find_regions
from service.fingerprint.base import Hasher, Window, WindowHasher
from service.models import Backgrounds, VideoFingerprint

__all__ = ["ALL_VIEWS", "ARCHIVE_VIEWS", "FG_PREFIX", "FG_VIEWS", "FINGERPRINT_VIEWS", "MIRROR_VIEWS", "QUERY_VIEWS",
           "QUERY_WINDOWS", "fingerprint_video", "view_thumbnails", "view_thumbnails_reference", "view_windows"]

# Frames (or views) whose luma standard deviation is below this carry no
# information: fades, title cards in one colour, black intros. Hashing them
# would make every blank intro match every other one.
BLANK_STD = 6.0

_GRID_80 = (0.0, 0.1, 0.2)
_GRID_70 = (0.0, 0.15, 0.3)
_GRID_60 = (0.0, 0.2, 0.4)
# Foreground hashes: the background is the per-pixel median of a view's thumbnails over a block of
# this many sampled frames (30 s at 2 fps: long enough that a passer-by is not background, short
# enough that daylight and a new shot are), and needs at least FG_MIN_FRAMES frames.
FG_BLOCK_FRAMES = 60
FG_MIN_FRAMES = 4
# A residual whose std (thumbnail luma levels) is under this is compression noise: nothing moves.
# Chosen on the real footage's tuned part: the empty bridge sequences sit at 0.5–2.3, a talking
# head at 3–9, pedestrians at 11–15.
FG_MIN_STD = 3.0
FG_PREFIX = "fg_"
# Frames whose view thumbnails are made together (whole blocks, at least one): batching amortises the
# resize calls over many frames; 240 frames of ~30 views are ~30 MB of thumbnails.
THUMB_CHUNK_FRAMES = 240
# A new shot starts where the mean absolute change of 16×16 thumbnails between two samples (0.5 s
# apart) passes this (luma levels): a fixed camera changes it by 1–6 (a waved pamphlet filling the
# picture by up to 26), a cut between two recordings by 30–60; a fast pan passes it too and gets no
# foreground (its background is not one picture anyway).
CUT_SIDE = 16
SHOT_CUT_LUMA = 30.0
# name -> (x0, y0, x1, y1) as fractions of the bar-free frame
WINDOWS: dict[str, tuple[float, float, float, float]] = {
    "top75": (0.0, 0.0, 1.0, 0.75),
    "bottom75": (0.0, 0.25, 1.0, 1.0),
    **{f"c80_{i}{j}": (x, y, x + 0.8, y + 0.8) for j, y in enumerate(_GRID_80) for i, x in enumerate(_GRID_80)},
    # 70%: the centre and the corners, between the 80% and 60% grids a crop's scale otherwise falls between
    **{f"c70_{i}{j}": (x, y, x + 0.7, y + 0.7) for j, y in enumerate(_GRID_70) for i, x in enumerate(_GRID_70)
       if i == j == 1 or (i != 1 and j != 1)},
    **{f"c60_{i}{j}": (x, y, x + 0.6, y + 0.6) for j, y in enumerate(_GRID_60) for i, x in enumerate(_GRID_60)},
}

_TRANSFORM_VIEWS: tuple[str, ...] = (
    "full", "mirror", "rot90", "rot270",
    "content", "content_mirror", "detail", "detail_mirror",
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
FG_VIEWS: tuple[str, ...] = tuple(FG_PREFIX + v for v in ALL_VIEWS)
# The columns of every fingerprint: each view's hash, then each view's foreground hash.
FINGERPRINT_VIEWS: tuple[str, ...] = ALL_VIEWS + FG_VIEWS


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
    if regions.detail is not None:
        detail = _crop(frame, regions.detail)
        views["detail"] = detail
        views["detail_mirror"] = detail[:, ::-1]
    for k, inset in enumerate(regions.insets[:2]):
        img = _crop(frame, inset)
        views[f"inset{k}"] = img
        views[f"inset{k}_mirror"] = img[:, ::-1]
    for name, frac in WINDOWS.items():
        views[name] = _crop(frame, _window(regions.full, frac))
    return views


def view_windows(regions: Regions) -> dict[str, Window]:
    """Every view ``_frame_views`` cuts, as a window of the frame (the same pixels, the same turn)."""
    full = regions.full
    windows: dict[str, Window] = {
        "full": Window(full.x0, full.y0, full.x1, full.y1),
        "mirror": Window(full.x0, full.y0, full.x1, full.y1, "mirror"),
        "rot90": Window(full.x0, full.y0, full.x1, full.y1, "rot90"),
        "rot270": Window(full.x0, full.y0, full.x1, full.y1, "rot270"),
    }
    boxes = {"content": regions.content, "detail": regions.detail,
             **{f"inset{k}": inset for k, inset in enumerate(regions.insets[:2])}}
    for name, box in boxes.items():
        if box is not None:
            windows[name] = Window(box.x0, box.y0, box.x1, box.y1)
            windows[f"{name}_mirror"] = Window(box.x0, box.y0, box.x1, box.y1, "mirror")
    for name, frac in WINDOWS.items():
        r = _window(full, frac)
        windows[name] = Window(r.x0, r.y0, r.x1, r.y1)
    return windows


def _hashable(win: Window, full_area: int) -> bool:
    """Big enough to be evidence: a view under 2% of the picture is too small to say anything."""
    area = max(0, win.x1 - win.x0) * max(0, win.y1 - win.y0)
    return area > 0 and area >= 0.02 * full_area


def _informative(frames: npt.NDArray[np.uint8], windows: list[Window]) -> npt.NDArray[np.bool_]:
    """(frame, window): the window's luma std is at least BLANK_STD, as ``float(view.std())`` decides it.

    Sums and sums of squares over each window from integral images, exactly (integers under 2**53
    held in float64); numpy's own
    std is asked only where the exact variance is so close to BLANK_STD² that rounding could decide.
    """
    m = len(frames)
    total = np.empty((m, frames.shape[1] + 1, frames.shape[2] + 1), dtype=np.float64)
    squares = np.empty_like(total)
    for i, frame in enumerate(frames):
        total[i], squares[i] = cv2.integral2(frame, sdepth=cv2.CV_64F, sqdepth=cv2.CV_64F)
    out = np.zeros((m, len(windows)), dtype=bool)
    limit = BLANK_STD * BLANK_STD
    for k, w in enumerate(windows):
        n = (w.x1 - w.x0) * (w.y1 - w.y0)
        s = total[:, w.y1, w.x1] - total[:, w.y0, w.x1] - total[:, w.y1, w.x0] + total[:, w.y0, w.x0]
        q = squares[:, w.y1, w.x1] - squares[:, w.y0, w.x1] - squares[:, w.y1, w.x0] + squares[:, w.y0, w.x0]
        variance = (n * q - s * s) / float(n * n)
        out[:, k] = variance >= limit
        for near in np.flatnonzero(np.abs(variance - limit) <= 1e-6 * limit):
            out[near, k] = not float(w.cut(frames[near]).std()) < BLANK_STD
    return out


def view_thumbnails(
    frames: npt.NDArray[np.uint8], regions: Regions, hasher: Hasher
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
    """Thumbnails of every view of every frame, (frames, ALL_VIEWS, side, side), and which are hashed.

    A view is hashed when its frame's picture is not blank and the view itself is not blank or tiny;
    the thumbnails of the others are zeros. Exactly ``view_thumbnails_reference``, batched.
    """
    if not isinstance(hasher, WindowHasher):
        return view_thumbnails_reference(frames, regions, hasher)
    column = {name: j for j, name in enumerate(ALL_VIEWS)}
    windows = {name: w for name, w in view_windows(regions).items() if _hashable(w, regions.full.area)}
    cols = [column[name] for name in windows]
    informative = _informative(frames, list(windows.values()))
    informative &= informative[:, list(windows).index("full"), None]  # a blank picture has no views
    small = hasher.window_thumbnails(frames, list(windows.values()))
    thumbs = np.zeros((len(frames), len(ALL_VIEWS), *small.shape[2:]), dtype=np.float32)
    present = np.zeros((len(frames), len(ALL_VIEWS)), dtype=bool)
    thumbs[:, cols] = np.where(informative[:, :, None, None], small, 0.0)
    present[:, cols] = informative
    return thumbs, present


def view_thumbnails_reference(
    frames: npt.NDArray[np.uint8], regions: Regions, hasher: Hasher
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
    """``view_thumbnails`` one view of one frame at a time: what the batched path must equal."""
    column = {name: j for j, name in enumerate(ALL_VIEWS)}
    full_area = regions.full.area
    thumbs: npt.NDArray[np.float32] | None = None
    present = np.zeros((len(frames), len(ALL_VIEWS)), dtype=bool)
    for i, frame in enumerate(frames):
        if float(_crop(frame, regions.full).std()) < BLANK_STD:
            continue  # the whole picture is blank: no view of it is evidence
        names: list[str] = []
        images: list[npt.NDArray[np.uint8]] = []
        for name, img in _frame_views(frame, regions).items():
            if img.size == 0 or img.size < 0.02 * full_area or float(img.std()) < BLANK_STD:
                continue
            names.append(name)
            images.append(img)
        small = hasher.thumbnails(images)
        if thumbs is None:
            thumbs = np.zeros((len(frames), len(ALL_VIEWS), *small.shape[1:]), dtype=np.float32)
        cols = [column[name] for name in names]
        thumbs[i, cols] = small
        present[i, cols] = True
    if thumbs is None:
        side = hasher.thumbnails([np.zeros((8, 8), dtype=np.uint8)]).shape[1:]
        thumbs = np.zeros((len(frames), len(ALL_VIEWS), *side), dtype=np.float32)
    return thumbs, present


def _cut_strength(frames: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """Mean absolute change of 16×16 thumbnails between consecutive samples (luma levels), one per pair."""
    small = np.stack([cv2.resize(f, (CUT_SIDE, CUT_SIDE), interpolation=cv2.INTER_AREA) for f in frames])
    change: npt.NDArray[np.float32] = np.abs(np.diff(small.astype(np.float32), axis=0)).mean(axis=(1, 2))
    return change


def _shot_cuts(frames: npt.NDArray[np.uint8], insets: tuple[Rect, ...] = (),
               picture_change: npt.NDArray[np.float32] | None = None) -> list[int]:
    """Indices where a new shot starts: the picture changes more between two samples than any camera
    motion of one shot does (a compilation's cuts), so each shot gets its own background.

    With ``insets``, a cut inside any of them counts too (``_inset_foreground``); ``picture_change``
    is the frames' ``_cut_strength`` when the caller has it already."""
    if len(frames) < 2:
        return []
    change = _cut_strength(frames) if picture_change is None else picture_change
    for inset in insets:
        change = np.maximum(change, _cut_strength(frames[:, inset.y0 : inset.y1, inset.x0 : inset.x1]))
    # Strongest first, none within FG_MIN_FRAMES of another or of either end: a shot shorter than that
    # would get no foreground at all, and a run of "cuts" that close is a person moving close to the
    # camera (stepping in, bowing), which a 9:16 repost's enlarged fill makes look stronger still.
    kept: list[int] = []
    for i in np.argsort(-change, kind="stable"):
        cut = int(i) + 1
        if change[i] <= SHOT_CUT_LUMA:
            break
        if FG_MIN_FRAMES <= cut <= len(frames) - FG_MIN_FRAMES and all(abs(cut - k) >= FG_MIN_FRAMES for k in kept):
            kept.append(cut)
    return sorted(kept)


def _blocks(frames: npt.NDArray[np.uint8], insets: tuple[Rect, ...] = (),
            picture_change: npt.NDArray[np.float32] | None = None) -> list[tuple[int, int]]:
    """Consecutive frame ranges of one shot each, split further into about FG_BLOCK_FRAMES."""
    n = len(frames)
    edges = [0, *_shot_cuts(frames, insets, picture_change), n]
    out: list[tuple[int, int]] = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        count = max(1, round((b - a) / FG_BLOCK_FRAMES))
        cuts = np.linspace(a, b, count + 1).round().astype(int)
        out += [(int(x), int(y)) for x, y in zip(cuts[:-1], cuts[1:], strict=True) if y > x]
    return out


def _foreground(thumbs: npt.NDArray[np.float32], present: npt.NDArray[np.bool_],
                hasher: Hasher) -> tuple[npt.NDArray[np.uint64], dict[int, npt.NDArray[np.float32]]]:
    """One block's foreground hashes, (frames, views), 0 where nothing moves or the view is absent, and
    each view's background (the per-pixel median thumbnail) where it has FG_MIN_FRAMES frames.

    Views hashed in the same frames share one median, one residual and one hash call (the same
    arithmetic per view as one at a time: the median and std are per pixel and per row)."""
    fg = np.zeros(present.shape, dtype=np.uint64)
    medians: dict[int, npt.NDArray[np.float32]] = {}
    groups: dict[bytes, list[int]] = defaultdict(list)
    for view in range(present.shape[1]):
        if int(present[:, view].sum()) >= FG_MIN_FRAMES:
            groups[present[:, view].tobytes()].append(view)
    for views in groups.values():
        frames = np.flatnonzero(present[:, views[0]])
        stack = thumbs[frames][:, views]  # (frames, views, side, side)
        background = np.median(stack, axis=0)
        residual = stack - background
        moving = residual.reshape(len(frames), len(views), -1).std(axis=2) >= FG_MIN_STD
        at_f, at_v = np.nonzero(moving)
        if len(at_f):
            fg[frames[at_f], np.asarray(views)[at_v]] = hasher.hash_thumbnails(residual[at_f, at_v])
        for j, view in enumerate(views):
            medians[view] = background[j]
    return fg, medians


def _inset_blocks(frames: npt.NDArray[np.uint8], regions: Regions, hasher: Hasher, blocks: list[tuple[int, int]],
                  picture_change: npt.NDArray[np.float32] | None) -> dict[int, list[tuple[int, int]]]:
    """Inset ``k``'s blocks, cut where the inset cuts too, for each inset whose blocks differ from the picture's.

    A compilation shown as a picture-in-picture changes the whole picture at its cuts by less than
    SHOT_CUT_LUMA, so the picture's blocks span the inset's shots and its median mixes them (real
    intros_ntsc as pip60 and pip40). Only the inset's own views take its cuts: an inset found in a
    single recording (a monitor in a studio, a waved pamphlet) would otherwise cut the other views'
    backgrounds where the archived original, with no inset found, is not cut."""
    if not isinstance(hasher, WindowHasher):
        return {}
    own = {k: _blocks(frames, (inset,), picture_change) for k, inset in enumerate(regions.insets[:2])}
    return {k: b for k, b in own.items() if b != blocks}


def _inset_views(k: int) -> tuple[str, str]:
    """Inset ``k``'s own views: the ones that take its cuts."""
    return f"inset{k}", f"inset{k}_mirror"


def _inset_foreground(hashes: npt.NDArray[np.uint64], frames: npt.NDArray[np.uint8], regions: Regions,
                      hasher: Hasher, k: int, own: list[tuple[int, int]]) -> None:
    """Inset ``k``'s foreground hashes over its own blocks (``_inset_blocks``)."""
    if not isinstance(hasher, WindowHasher):
        return  # _inset_blocks gives no blocks then
    windows = view_windows(regions)
    wins = [windows[name] for name in _inset_views(k)]
    cols = [ALL_VIEWS.index(name) for name in _inset_views(k)]
    fg_cols = [len(ALL_VIEWS) + c for c in cols]
    for start, stop in own:
        present = hashes[start:stop, cols] != 0  # the views hashed (0: blank or absent)
        thumbs = hasher.window_thumbnails(frames[start:stop], wins)
        hashes[start:stop, fg_cols] = _foreground(thumbs, present, hasher)[0]


def fingerprint_video(
    video: SampledVideo,
    hasher: Hasher,
    progress: Callable[[float], None] | None = None,
) -> tuple[VideoFingerprint, Regions]:
    """Hash every view of every sampled frame, and its foreground; blank views get hash 0.

    Also kept: each block's background per archive view (as the hasher's coefficients, stored with an
    archive item) and each frame's coefficients per query view (in memory, for matching a check).
    """
    regions = find_regions(video.frames)
    n_views = len(ALL_VIEWS)
    column = {name: j for j, name in enumerate(ALL_VIEWS)}
    archive_cols = [column[v] for v in ARCHIVE_VIEWS]
    query_cols = [column[v] for v in QUERY_VIEWS]
    n = len(video.frames)
    hashes = np.zeros((n, len(FINGERPRINT_VIEWS)), dtype=np.uint64)
    picture_change = _cut_strength(video.frames) if n >= 2 else None  # computed once: insets' cuts add to it
    blocks = _blocks(video.frames, picture_change=picture_change)
    inset_blocks = _inset_blocks(video.frames, regions, hasher, blocks, picture_change)
    # Views whose foreground is taken over their inset's own blocks instead of the picture's.
    own_cols = [column[name] for k in inset_blocks for name in _inset_views(k)]
    n_coef = 0
    backgrounds: npt.NDArray[np.float32] | None = None
    query_coefficients: npt.NDArray[np.float32] | None = None
    # Thumbnails a chunk of whole blocks at a time (batched across frames, a long video's never all in
    # memory together); backgrounds one block at a time.
    chunk_start, chunk_stop = 0, 0
    chunk_thumbs: npt.NDArray[np.float32] | None = None
    chunk_present: npt.NDArray[np.bool_] | None = None
    for b, (start, stop) in enumerate(blocks):
        if chunk_thumbs is None or chunk_present is None or stop > chunk_stop:
            chunk_start, chunk_stop = start, stop
            for _, later in blocks[b + 1 :]:
                if later - chunk_start > THUMB_CHUNK_FRAMES:
                    break
                chunk_stop = later
            chunk_thumbs, chunk_present = view_thumbnails(video.frames[chunk_start:chunk_stop], regions, hasher)
            if progress is not None:
                progress(chunk_stop / n)
        thumbs = chunk_thumbs[start - chunk_start : stop - chunk_start]
        present = chunk_present[start - chunk_start : stop - chunk_start]
        if not present[:, column["full"]].any():
            continue  # every picture of the block is blank
        at_frame, at_view = np.nonzero(present)
        # One DCT per thumbnail: the hashes are thresholds of the coefficients kept for matching.
        coefficients = hasher.coefficients(thumbs[at_frame, at_view])
        hashes[start + at_frame, at_view] = hasher.hash_coefficients(coefficients)
        if query_coefficients is None or backgrounds is None:
            n_coef = coefficients.shape[1]
            query_coefficients = np.zeros((n, len(QUERY_VIEWS), n_coef), dtype=np.float32)
            backgrounds = np.zeros((len(blocks), len(ARCHIVE_VIEWS), n_coef), dtype=np.float32)
        full_coef = np.zeros((stop - start, n_views, n_coef), dtype=np.float32)
        full_coef[at_frame, at_view] = coefficients
        query_coefficients[start:stop] = full_coef[:, query_cols]
        fg_present = present
        if own_cols:
            fg_present = present.copy()
            fg_present[:, own_cols] = False
        fg, medians = _foreground(thumbs, fg_present, hasher)
        hashes[start:stop, n_views:] = fg
        kept = [view for view in medians if view in archive_cols]
        if kept:
            coef = hasher.coefficients(np.stack([medians[view] for view in kept]))
            for view, row in zip(kept, coef, strict=True):
                backgrounds[b, archive_cols.index(view)] = row
    for k, own in inset_blocks.items():
        _inset_foreground(hashes, video.frames, regions, hasher, k, own)
    fingerprint = VideoFingerprint(
        hasher=hasher.name,
        views=FINGERPRINT_VIEWS,
        times=video.times,
        hashes=hashes,
        duration=video.duration,
        backgrounds=None if backgrounds is None else Backgrounds(
            views=ARCHIVE_VIEWS, block_starts=np.array([a for a, _ in blocks], dtype=np.int32),
            coefficients=backgrounds),
        query_coefficients=query_coefficients,
    )
    return fingerprint, regions
