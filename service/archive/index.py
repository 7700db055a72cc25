"""Hamming search over the archive's frame hashes.

Part of archive (fingerprint → **index** → match). ``HashIndex`` is the one
interface; ``ExactIndex`` is the numpy reference (XOR + popcount over every
stored hash). The multi-index hashing fast path (``mih.py``) implements the
same contract and is tested against this one. Only archive-side views are indexed (see
``service.fingerprint.views``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from service.fingerprint.views import ARCHIVE_VIEWS
from service.models import VideoFingerprint

__all__ = ["ExactIndex", "HashIndex", "Hits"]


@dataclass(frozen=True, eq=False)
class Hits:
    """Parallel arrays, one entry per (query hash, archive hash) pair within the radius."""

    query_row: npt.NDArray[np.int64]  # index into the queried hash array
    item_id: npt.NDArray[np.int64]
    frame: npt.NDArray[np.int64]  # archive frame index within its item
    view: npt.NDArray[np.int64]  # index into ARCHIVE_VIEWS
    distance: npt.NDArray[np.int64]

    @classmethod
    def empty(cls) -> Hits:
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z, z, z, z)

    def __len__(self) -> int:
        return int(self.query_row.shape[0])


class HashIndex(Protocol):
    def add(self, item_id: int, fingerprint: VideoFingerprint) -> None: ...
    def remove(self, item_id: int) -> None: ...
    def search(self, hashes: npt.NDArray[np.uint64], radius: int) -> Hits: ...
    def search_items(self, hashes: npt.NDArray[np.uint64], radius: int, item_ids: set[int]) -> Hits: ...
    def item_ids(self) -> set[int]: ...
    def __len__(self) -> int: ...


def archive_entries(fingerprint: VideoFingerprint) -> tuple[npt.NDArray[np.uint64],
                                                             npt.NDArray[np.int64],
                                                             npt.NDArray[np.int64]]:
    """Non-blank archive-view hashes of a fingerprint with their frame and view indices."""
    cols = [fingerprint.views.index(v) for v in ARCHIVE_VIEWS if v in fingerprint.views]
    view_ids = [ARCHIVE_VIEWS.index(fingerprint.views[c]) for c in cols]
    block = fingerprint.hashes[:, cols]
    frame_idx, col_idx = np.nonzero(block)
    return (
        block[frame_idx, col_idx].astype(np.uint64),
        frame_idx.astype(np.int64),
        np.asarray(view_ids, dtype=np.int64)[col_idx],
    )


class ExactIndex:
    """Reference index: brute-force popcount over all stored hashes."""

    # Query hashes compared per numpy pass; bounds the temporary matrix.
    CHUNK_BYTES = 64 * 1024 * 1024

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parts: dict[int, tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64], npt.NDArray[np.int64]]] = {}
        self._packed: tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64],
                            npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None

    def __len__(self) -> int:
        return sum(len(p[0]) for p in self._parts.values())

    def add(self, item_id: int, fingerprint: VideoFingerprint) -> None:
        with self._lock:
            self._parts[item_id] = archive_entries(fingerprint)
            self._packed = None

    def remove(self, item_id: int) -> None:
        with self._lock:
            self._parts.pop(item_id, None)
            self._packed = None

    def item_ids(self) -> set[int]:
        with self._lock:
            return set(self._parts)

    def parts(self) -> dict[int, tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
        with self._lock:
            return dict(self._parts)

    def search_items(self, hashes: npt.NDArray[np.uint64], radius: int, item_ids: set[int]) -> Hits:
        with self._lock:
            parts = {i: self._parts[i] for i in item_ids if i in self._parts}
        found = []
        for item_id, (codes, frames, views) in sorted(parts.items()):
            d = np.bitwise_count(hashes[:, None] ^ codes[None, :])
            r, c = np.nonzero(d <= radius)
            found.append(Hits(r.astype(np.int64), np.full(len(r), item_id, dtype=np.int64), frames[c], views[c],
                              d[r, c].astype(np.int64)))
        if not found:
            return Hits.empty()
        return Hits(*(np.concatenate([getattr(p, f) for p in found]) for f in
                      ("query_row", "item_id", "frame", "view", "distance")))

    def _pack(self) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64],
                             npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        with self._lock:
            if self._packed is None:
                if not self._parts:
                    z = np.zeros(0, dtype=np.int64)
                    self._packed = (np.zeros(0, dtype=np.uint64), z, z, z)
                else:
                    ids = list(self._parts)
                    self._packed = (
                        np.concatenate([self._parts[i][0] for i in ids]),
                        np.concatenate([np.full(len(self._parts[i][0]), i, dtype=np.int64) for i in ids]),
                        np.concatenate([self._parts[i][1] for i in ids]),
                        np.concatenate([self._parts[i][2] for i in ids]),
                    )
            return self._packed

    def search(self, hashes: npt.NDArray[np.uint64], radius: int) -> Hits:
        stored, item_ids, frames, views = self._pack()
        if len(stored) == 0 or len(hashes) == 0:
            return Hits.empty()
        step = max(1, self.CHUNK_BYTES // max(1, len(stored)))
        rows: list[npt.NDArray[np.int64]] = []
        cols: list[npt.NDArray[np.int64]] = []
        dists: list[npt.NDArray[np.int64]] = []
        for start in range(0, len(hashes), step):
            chunk = hashes[start : start + step]
            d = np.bitwise_count(np.bitwise_xor(chunk[:, None], stored[None, :]))
            r, c = np.nonzero(d <= radius)
            rows.append(r + start)
            cols.append(c)
            dists.append(d[r, c].astype(np.int64))
        col = np.concatenate(cols)
        return Hits(
            query_row=np.concatenate(rows).astype(np.int64),
            item_id=item_ids[col],
            frame=frames[col],
            view=views[col],
            distance=np.concatenate(dists),
        )
