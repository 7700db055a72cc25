"""pHash, bit-compatible with ``imagehash.phash`` (hash_size=8, highfreq_factor=4).

Same recipe as imagehash: PIL greyscale, LANCZOS resize to 32×32, 2-D DCT-II,
top-left 8×8 coefficients, bit = coefficient > median, first bit most
significant. The DCT is one batched matrix product instead of two scipy calls
per image, which is what makes hashing ~30 views per frame cheap.

The resize is PIL's own, but batched: PIL resamples in two separable passes
(rows to the new width, rounded to 8 bits, then columns to the new height), and
a pass only ever mixes pixels of one row (or one column). So the rows of every
frame's crop, stacked into one tall image, go through one horizontal pass, and
the crops' columns, laid side by side, through one vertical pass: the same
arithmetic on the same pixels as one ``resize`` per crop, hence the same bits,
at a fraction of the calls. ``PHasher.window_thumbnails`` also shares the
horizontal pass between windows cut from the same columns (the frame, its top
and bottom 75%, a column of the crop grid) and groups vertical passes by rows.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from PIL import Image

from service.fingerprint.base import Window, register

__all__ = ["PHasher", "lanczos_columns", "lanczos_rows", "phash_from_coefficients", "phash_from_resized",
           "resize32_stack"]

HASH_SIDE = 8
RESIZE_SIDE = HASH_SIDE * 4  # imagehash's highfreq_factor=4

# scipy.fftpack.dct type II, unnormalised: y[k] = 2 Σ x[n] cos(π k (2n+1) / 2N).
_n = np.arange(RESIZE_SIDE)
_DCT = (2.0 * np.cos(np.pi * np.outer(np.arange(HASH_SIDE), 2 * _n + 1) / (2 * RESIZE_SIDE)))
_WEIGHTS = (1 << np.arange(63, -1, -1, dtype=np.uint64)).astype(np.uint64)


def resize32(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
    """The exact 32×32 LANCZOS thumbnail imagehash hashes."""
    pil = Image.fromarray(np.ascontiguousarray(image), mode="L")
    return np.asarray(pil.resize((RESIZE_SIDE, RESIZE_SIDE), Image.Resampling.LANCZOS), dtype=np.float64)


def lanczos_rows(stack: npt.NDArray[np.uint8], width: int) -> npt.NDArray[np.uint8]:
    """PIL's horizontal LANCZOS pass of every row of a stack of equal-sized images, (m, h, w) → (m, h, width).

    One ``resize`` of the rows stacked into one image: PIL mixes only pixels of one row in this pass,
    with weights that depend on the widths alone, so each image's rows come out as from its own
    resize. An image already ``width`` wide is left alone, as PIL leaves it.
    """
    m, h, w = stack.shape
    if w == width or m * h == 0:
        return np.ascontiguousarray(stack)
    tall = Image.fromarray(np.ascontiguousarray(stack).reshape(m * h, w), mode="L")
    return np.asarray(tall.resize((width, m * h), Image.Resampling.LANCZOS), dtype=np.uint8).reshape(m, h, width)


def lanczos_columns(stack: npt.NDArray[np.uint8], height: int) -> npt.NDArray[np.uint8]:
    """PIL's vertical LANCZOS pass of every column of a stack of equal-sized images, (m, h, w) → (m, height, w)."""
    m, h, w = stack.shape
    if h == height or m * w == 0:
        return np.ascontiguousarray(stack)
    wide = Image.fromarray(np.ascontiguousarray(stack.transpose(1, 0, 2)).reshape(h, m * w), mode="L")
    out = np.asarray(wide.resize((m * w, height), Image.Resampling.LANCZOS), dtype=np.uint8)
    return np.ascontiguousarray(out.reshape(height, m, w).transpose(1, 0, 2))


@functools.lru_cache(maxsize=4096)
def rows_first(height: int, width: int) -> bool:
    """Whether PIL resizes a ``width`` × ``height`` image to 32×32 rows first (else columns first).

    PIL picks the order of its two passes by the image's shape, and the 8-bit rounding between them
    makes the order show in the result; asked of PIL itself, once per shape, on a random picture
    (where the two orders differ in about a hundred pixels).
    """
    if height == RESIZE_SIDE or width == RESIZE_SIDE:
        return True  # one pass only
    probe = np.random.default_rng(height * 65536 + width).integers(0, 256, (1, height, width), dtype=np.uint8)
    direct = resize32(probe[0])
    if np.array_equal(lanczos_columns(lanczos_rows(probe, RESIZE_SIDE), RESIZE_SIDE)[0], direct):
        return True
    if np.array_equal(lanczos_rows(lanczos_columns(probe, RESIZE_SIDE), RESIZE_SIDE)[0], direct):
        return False
    raise RuntimeError(f"PIL's LANCZOS resize of {width}x{height} is neither pass order; resize32_stack needs updating")


def resize32_stack(stack: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """``resize32`` of every image of a stack of equal-sized images, bit for bit, (m, h, w) → (m, 32, 32)."""
    if rows_first(*stack.shape[1:]):
        return lanczos_columns(lanczos_rows(stack, RESIZE_SIDE), RESIZE_SIDE)
    return lanczos_rows(lanczos_columns(stack, RESIZE_SIDE), RESIZE_SIDE)


def window_thumbnails(frames: npt.NDArray[np.uint8], windows: Sequence[Window]) -> npt.NDArray[np.uint8]:
    """``resize32`` of every window of every frame, bit for bit, (m, h, w) → (m, len(windows), 32, 32).

    A window resized rows first shares its horizontal pass with the windows cut from the same columns
    (and turned the same way), over the rows any of them needs; then windows of the same rows share
    one vertical pass. A window resized columns first, the other way round.
    """
    m = len(frames)
    out = np.zeros((m, len(windows), RESIZE_SIDE, RESIZE_SIDE), dtype=np.uint8)
    by_columns: dict[tuple[int, int, bool], list[int]] = defaultdict(list)
    by_rows: dict[tuple[int, int], list[int]] = defaultdict(list)
    for k, win in enumerate(windows):
        if win.x1 <= win.x0 or win.y1 <= win.y0:
            continue
        if win.turn in ("rot90", "rot270"):
            stack = frames[:, win.y0 : win.y1, win.x0 : win.x1]
            out[:, k] = resize32_stack(np.rot90(stack, 1 if win.turn == "rot90" else -1, axes=(1, 2)))
        elif rows_first(win.y1 - win.y0, win.x1 - win.x0):
            by_columns[(win.x0, win.x1, win.turn == "mirror")].append(k)
        else:
            by_rows[(win.y0, win.y1)].append(k)
    # Rows first: the horizontal pass once per column range, over the rows its windows span; then the
    # vertical pass once per row range, over the columns of all its windows side by side.
    second: dict[tuple[int, int], list[tuple[int, npt.NDArray[np.uint8]]]] = defaultdict(list)
    for (x0, x1, mirror), members in by_columns.items():
        top = min(windows[k].y0 for k in members)
        bottom = max(windows[k].y1 for k in members)
        part = frames[:, top:bottom, x0:x1]
        rows = lanczos_rows(part[:, :, ::-1] if mirror else part, RESIZE_SIDE)
        for k in members:
            second[(windows[k].y0, windows[k].y1)].append((k, rows[:, windows[k].y0 - top : windows[k].y1 - top]))
    for parts in second.values():
        done = lanczos_columns(np.concatenate([p for _, p in parts], axis=2), RESIZE_SIDE)
        for j, (k, _) in enumerate(parts):
            out[:, k] = done[:, :, j * RESIZE_SIDE : (j + 1) * RESIZE_SIDE]
    # Columns first: the vertical pass once per row range, over the columns its windows span; then the
    # horizontal pass once per width, over the rows of all its windows stacked.
    second.clear()
    for (y0, y1), members in by_rows.items():
        left = min(windows[k].x0 for k in members)
        right = max(windows[k].x1 for k in members)
        cols = lanczos_columns(frames[:, y0:y1, left:right], RESIZE_SIDE)
        for k in members:
            win = windows[k]
            part = cols[:, :, win.x0 - left : win.x1 - left]
            second[(win.x1 - win.x0, 0)].append((k, part[:, :, ::-1] if win.turn == "mirror" else part))
    for parts in second.values():
        done = lanczos_rows(np.concatenate([p for _, p in parts], axis=1), RESIZE_SIDE)
        for j, (k, _) in enumerate(parts):
            out[:, k] = done[:, j * RESIZE_SIDE : (j + 1) * RESIZE_SIDE]
    return out


def lowfreq(thumbs: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The 8×8 low-frequency DCT coefficients the hash thresholds, shape (n, 32, 32) → (n, 64).

    Linear in the thumbnail: the coefficients of ``a - b`` are those of ``a`` minus those of ``b``,
    so a residual against a background kept as coefficients needs no pixels.
    """
    low = _DCT @ thumbs @ _DCT.T  # (n, 8, 8): only the coefficients we keep
    return np.asarray(low.reshape(len(thumbs), -1), dtype=np.float64)


def phash_from_coefficients(flat: npt.NDArray[np.floating]) -> npt.NDArray[np.uint64]:
    """Hashes of low-frequency coefficient rows (n, 64): bit = coefficient > the row's median."""
    if len(flat) == 0:
        return np.zeros(0, dtype=np.uint64)
    bits = flat > np.median(flat, axis=1, keepdims=True)
    hashes: npt.NDArray[np.uint64] = (bits.astype(np.uint64) * _WEIGHTS).sum(axis=1, dtype=np.uint64)
    return hashes


def phash_from_resized(thumbs: npt.NDArray[np.float64]) -> npt.NDArray[np.uint64]:
    """Hashes of a stack of 32×32 thumbnails, shape (n, 32, 32) → (n,)."""
    if len(thumbs) == 0:
        return np.zeros(0, dtype=np.uint64)
    flat = lowfreq(thumbs)
    bits = flat > np.median(flat, axis=1, keepdims=True)
    hashes: npt.NDArray[np.uint64] = (bits.astype(np.uint64) * _WEIGHTS).sum(axis=1, dtype=np.uint64)
    return hashes


@register
class PHasher:
    name: ClassVar[str] = "phash-8x8"
    bits: ClassVar[int] = 64

    def thumbnails(self, images: Sequence[npt.NDArray[np.uint8]]) -> npt.NDArray[np.float32]:
        """The 32×32 thumbnails the hash is taken of, shape (n, 32, 32)."""
        if not images:
            return np.zeros((0, RESIZE_SIDE, RESIZE_SIDE), dtype=np.float32)
        return np.stack([resize32(img) for img in images]).astype(np.float32)

    def hash_thumbnails(self, thumbs: npt.NDArray[np.float32]) -> npt.NDArray[np.uint64]:
        """Hashes of thumbnails, or of any linear combination of them (a foreground residual)."""
        return phash_from_resized(np.asarray(thumbs, dtype=np.float64))

    def coefficients(self, thumbs: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """What the hash thresholds, per thumbnail (n, 64); linear in the thumbnail. In float64, so
        ``hash_coefficients`` of them is bit for bit ``hash_thumbnails`` of the thumbnails."""
        if len(thumbs) == 0:
            return np.zeros((0, HASH_SIDE * HASH_SIDE), dtype=np.float64)
        return lowfreq(np.asarray(thumbs, dtype=np.float64))

    def hash_coefficients(self, coefficients: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.uint64]:
        """Hashes of coefficient rows, e.g. a frame's minus a background's."""
        return phash_from_coefficients(np.asarray(coefficients, dtype=np.float64))

    def hash_images(self, images: Sequence[npt.NDArray[np.uint8]]) -> npt.NDArray[np.uint64]:
        return self.hash_thumbnails(self.thumbnails(images))

    def window_thumbnails(self, frames: npt.NDArray[np.uint8], windows: Sequence[Window]) -> npt.NDArray[np.float32]:
        """``thumbnails`` of every window of every frame at once, (m, len(windows), 32, 32), bit for bit."""
        return window_thumbnails(frames, windows).astype(np.float32)
