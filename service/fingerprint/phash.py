"""pHash, bit-compatible with ``imagehash.phash`` (hash_size=8, highfreq_factor=4).

Same recipe as imagehash: PIL greyscale, LANCZOS resize to 32×32, 2-D DCT-II,
top-left 8×8 coefficients, bit = coefficient > median, first bit most
significant. The DCT is one batched matrix product instead of two scipy calls
per image, which is what makes hashing ~20 views per frame cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from PIL import Image

from service.fingerprint.base import register

__all__ = ["PHasher", "phash_from_coefficients", "phash_from_resized"]

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
