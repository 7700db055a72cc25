"""The hasher interface, the registry of hashers, and hashes as values.

A ``Hasher`` turns greyscale images into 64-bit hashes compared by Hamming
distance. Adding a hash family (PDQ, a learned descriptor) means one class and
one ``register`` line; ingest, the archive and matching only see ``uint64``
arrays tagged with the hasher's ``name``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from service.errors import BadInput

__all__ = ["FrameHash", "Hasher", "Turn", "Window", "WindowHasher", "available_hashers", "get_hasher", "hamming",
           "register"]


class Hasher(Protocol):
    name: ClassVar[str]  # algorithm and parameters, e.g. "phash-8x8"
    bits: ClassVar[int]

    def thumbnails(self, images: Sequence[npt.NDArray[np.uint8]]) -> npt.NDArray[np.float32]:
        """The small fixed-size images the hash is computed from, shape (n, side, side)."""
        ...

    def hash_thumbnails(self, thumbs: npt.NDArray[np.float32]) -> npt.NDArray[np.uint64]:
        """One hash per thumbnail; also applied to foreground residuals (thumbnail minus background)."""
        ...

    def coefficients(self, thumbs: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """What the hash is a threshold of, one row per thumbnail; linear in the thumbnail, so a
        background kept as coefficients can be subtracted from a frame's later."""
        ...

    def hash_coefficients(self, coefficients: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.uint64]:
        """One hash per coefficient row (``hash_thumbnails`` of the thumbnails they came from)."""
        ...

    def hash_images(self, images: Sequence[npt.NDArray[np.uint8]]) -> npt.NDArray[np.uint64]:
        """One hash per greyscale image (any size)."""
        ...


Turn = Literal["", "mirror", "rot90", "rot270"]


@dataclass(frozen=True)
class Window:
    """A part of a frame, ``frame[y0:y1, x0:x1]``, and how it is turned before it is hashed:
    mirrored left-right (``[:, ::-1]``) or rotated a quarter turn (``np.rot90`` by 1 or -1)."""

    x0: int
    y0: int
    x1: int
    y1: int
    turn: Turn = ""

    def cut(self, frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        """The window of one frame, as the reference path hashes it."""
        img = frame[self.y0 : self.y1, self.x0 : self.x1]
        if self.turn == "mirror":
            return img[:, ::-1]
        if self.turn == "rot90":
            return np.rot90(img, 1)
        if self.turn == "rot270":
            return np.rot90(img, -1)
        return img


@runtime_checkable
class WindowHasher(Protocol):
    """A hasher that can make the thumbnails of many windows of many frames at once, sharing work
    between them; exactly ``thumbnails`` of each ``Window.cut`` of each frame."""

    def window_thumbnails(self, frames: npt.NDArray[np.uint8], windows: Sequence[Window]) -> npt.NDArray[np.float32]:
        """Shape (frames, windows, side, side)."""
        ...


_REGISTRY: dict[str, type[Hasher]] = {}


def register(cls: type[Hasher]) -> type[Hasher]:
    """Class decorator; names are checked unique so two hashers never share stored data."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"hasher name {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def available_hashers() -> list[str]:
    return sorted(_REGISTRY)


def get_hasher(name: str) -> Hasher:
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise BadInput(f"unknown hasher {name!r}; available: {', '.join(available_hashers())}") from None


def hamming(a: npt.NDArray[np.uint64], b: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint8]:
    """Element-wise Hamming distance of 64-bit hashes (broadcasting)."""
    return np.bitwise_count(np.bitwise_xor(a, b))


@dataclass(frozen=True)
class FrameHash:
    """One hash as a value: canonical hex, parsing with validation, distance."""

    value: int
    algorithm: str = "phash-8x8"
    bits: int = 64

    def __post_init__(self) -> None:
        if not 0 <= self.value < (1 << self.bits):
            raise BadInput(f"hash value out of range for {self.bits} bits")

    def hex(self) -> str:
        return f"{self.value:0{self.bits // 4}x}"

    @classmethod
    def from_hex(cls, text: str, algorithm: str = "phash-8x8", bits: int = 64) -> FrameHash:
        if len(text) != bits // 4:
            raise BadInput(f"expected {bits // 4} hex digits, got {len(text)}: {text!r}")
        try:
            return cls(int(text, 16), algorithm, bits)
        except ValueError:
            raise BadInput(f"not a hex hash: {text!r}") from None

    def distance(self, other: FrameHash) -> int:
        if other.algorithm != self.algorithm:
            raise BadInput(f"cannot compare {self.algorithm} with {other.algorithm}")
        return (self.value ^ other.value).bit_count()

    def __sub__(self, other: FrameHash) -> int:  # imagehash's ``a - b``
        return self.distance(other)
