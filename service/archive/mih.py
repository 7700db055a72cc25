"""Multi-index hashing: exact Hamming radius search without scanning everything.

Part of archive (the fast path beside ``ExactIndex``). The 64 bits are split
into three substrings (21, 21, 22 bits). If two hashes are within radius ``r``,
one substring differs in at most ``r // 3`` bits (pigeonhole), so probing every
key within that many flips of each query substring finds *every* neighbour —
the result equals the exact scan, it just touches ~10⁻⁴ of the archive.

Memory per stored hash: 8 bytes of hash + 4 bytes of position per table
(int32, 3 tables) = 20 bytes, plus a fixed 3 × 2²² × 4 B = 48 MB of bucket
offsets. Built once from arrays (``build``); additions after that go to a
small exact delta, removals to a tombstone set, and ``compact`` folds both in.
"""

from __future__ import annotations

import itertools
import threading
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from service.archive.index import ExactIndex, Hits
from service.models import VideoFingerprint

__all__ = ["MultiIndexHashIndex", "flip_masks"]

SPLITS = ((0, 21), (21, 21), (42, 22))  # (shift, bits) of each substring


@lru_cache(maxsize=8)
def flip_masks(bits: int, max_flips: int) -> npt.NDArray[np.int64]:
    """All masks of ``bits`` bits with at most ``max_flips`` ones."""
    masks = [0]
    for k in range(1, max_flips + 1):
        masks.extend(sum(1 << i for i in combo) for combo in itertools.combinations(range(bits), k))
    return np.asarray(masks, dtype=np.int64)


class MultiIndexHashIndex:
    """Exact radius search by multi-index hashing; same contract as ``ExactIndex``."""

    # Rebuild the main tables when the delta grows past this many hashes.
    DELTA_LIMIT = 200_000

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._codes = np.zeros(0, dtype=np.uint64)
        self._item_of = np.zeros(0, dtype=np.int32)  # item id per stored hash
        self._where = np.zeros(0, dtype=np.int32)  # frame * 64 + view per stored hash
        self._tables: list[tuple[npt.NDArray[np.int32], npt.NDArray[np.int64]]] = []
        self._ranges: dict[int, tuple[int, int]] = {}  # item id -> its slice of the main arrays
        self._delta = ExactIndex()
        self._delta_items: set[int] = set()
        self._removed: set[int] = set()

    def __len__(self) -> int:
        return int(len(self._codes)) + len(self._delta)

    # -- building ------------------------------------------------------
    def build(self, codes: npt.NDArray[np.uint64], item_of: npt.NDArray[np.int32],
              where: npt.NDArray[np.int32]) -> None:
        """(Re)build the tables from flat arrays of hashes and their owners.

        Each item's hashes must be contiguous (stage two scans an item's slice).
        """
        ranges: dict[int, tuple[int, int]] = {}
        if len(item_of):
            cuts = np.flatnonzero(np.diff(item_of)) + 1
            starts = np.concatenate([[0], cuts])
            ends = np.concatenate([cuts, [len(item_of)]])
            ranges = {int(item_of[a]): (int(a), int(b)) for a, b in zip(starts, ends, strict=True)}
        tables = []
        for shift, bits in SPLITS:
            keys = ((codes >> np.uint64(shift)) & np.uint64((1 << bits) - 1)).astype(np.int64)
            order = np.argsort(keys, kind="stable").astype(np.int32)
            offsets = np.zeros((1 << bits) + 1, dtype=np.int64)
            np.cumsum(np.bincount(keys, minlength=1 << bits), out=offsets[1:])
            tables.append((order, offsets))
        with self._lock:
            self._codes, self._item_of, self._where, self._tables = codes, item_of, where, tables
            self._ranges = ranges

    def add(self, item_id: int, fingerprint: VideoFingerprint) -> None:
        with self._lock:
            if item_id in self._ranges:
                self._removed.add(item_id)  # re-added: the delta copy wins
            else:
                self._removed.discard(item_id)
            self._delta.add(item_id, fingerprint)
            self._delta_items.add(item_id)
            if len(self._delta) > self.DELTA_LIMIT:
                self.compact()

    def remove(self, item_id: int) -> None:
        with self._lock:
            self._removed.add(item_id)
            self._delta.remove(item_id)
            self._delta_items.discard(item_id)

    def compact(self) -> None:
        """Fold additions and removals into freshly built tables."""
        with self._lock:
            codes, items, where = [], [], []
            for item_id, (a, b) in self._ranges.items():
                if item_id not in self._removed:
                    codes.append(self._codes[a:b])
                    items.append(self._item_of[a:b])
                    where.append(self._where[a:b])
            for item_id, (c, frames, views) in self._delta.parts().items():
                codes.append(c)
                items.append(np.full(len(c), item_id, dtype=np.int32))
                where.append((frames * 64 + views).astype(np.int32))
            if codes:
                self.build(np.concatenate(codes), np.concatenate(items), np.concatenate(where))
            else:
                self.build(np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32))
            self._delta = ExactIndex()
            self._delta_items.clear()
            self._removed.clear()

    # -- searching -----------------------------------------------------
    def _candidates(self, hashes: npt.NDArray[np.uint64], radius: int) -> tuple[npt.NDArray[np.int64],
                                                                                  npt.NDArray[np.int64]]:
        rows_all, pos_all = [], []
        for (shift, bits), (order, offsets) in zip(SPLITS, self._tables, strict=True):
            flips = radius // len(SPLITS)
            masks = flip_masks(bits, flips)
            keys = ((hashes >> np.uint64(shift)) & np.uint64((1 << bits) - 1)).astype(np.int64)
            probes = (keys[:, None] ^ masks[None, :]).reshape(-1)
            starts, ends = offsets[probes], offsets[probes + 1]
            counts = ends - starts
            nonzero = counts > 0
            if not nonzero.any():
                continue
            starts, counts = starts[nonzero], counts[nonzero]
            probe_rows = np.repeat(np.arange(len(hashes)), len(masks))[nonzero]
            total = int(counts.sum())
            # positions starts[i] .. starts[i]+counts[i]-1 for every probe, flattened
            base = np.repeat(starts - np.cumsum(counts) + counts, counts)
            flat = base + np.arange(total)
            rows_all.append(np.repeat(probe_rows, counts))
            pos_all.append(order[flat].astype(np.int64))
        if not rows_all:
            z = np.zeros(0, dtype=np.int64)
            return z, z
        return np.concatenate(rows_all), np.concatenate(pos_all)

    def item_ids(self) -> set[int]:
        with self._lock:
            return (set(self._ranges) - self._removed) | self._delta_items

    def search_items(self, hashes: npt.NDArray[np.uint64], radius: int, item_ids: set[int]) -> Hits:
        """Exact scan of only these items' hashes (stage two of a two-stage query)."""
        with self._lock:
            parts = [self._delta.search_items(hashes, radius, item_ids)]
            for item_id in sorted(item_ids):
                if item_id in self._removed or item_id in self._delta_items or item_id not in self._ranges:
                    continue
                a, b = self._ranges[item_id]
                d = np.bitwise_count(hashes[:, None] ^ self._codes[None, a:b])
                r, c = np.nonzero(d <= radius)
                where = self._where[a + c].astype(np.int64)
                parts.append(Hits(r.astype(np.int64), np.full(len(r), item_id, dtype=np.int64),
                                  where // 64, where % 64, d[r, c].astype(np.int64)))
        return Hits(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                      ("query_row", "item_id", "frame", "view", "distance")))

    def search(self, hashes: npt.NDArray[np.uint64], radius: int) -> Hits:
        with self._lock:
            parts = [self._delta.search(hashes, radius)]
            if len(self._codes) and len(hashes):
                rows, pos = self._candidates(hashes, radius)
                dist = np.bitwise_count(self._codes[pos] ^ hashes[rows]).astype(np.int64)
                ok = dist <= radius
                rows, pos, dist = rows[ok], pos[ok], dist[ok]
                # a neighbour close in several substrings was found once per substring
                _, first = np.unique(rows * (len(self._codes) + 1) + pos, return_index=True)
                rows, pos, dist = rows[first], pos[first], dist[first]
                item = self._item_of[pos].astype(np.int64)
                live = ~np.isin(item, list(self._removed | self._delta_items)) if (
                    self._removed or self._delta_items) else np.ones(len(item), dtype=bool)
                where = self._where[pos][live].astype(np.int64)
                parts.append(Hits(rows[live], item[live], where // 64, where % 64, dist[live]))
        return Hits(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                      ("query_row", "item_id", "frame", "view", "distance")))
