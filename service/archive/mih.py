"""Multi-index hashing: exact Hamming radius search without scanning everything.

Part of archive (the fast path beside ``ExactIndex``). The 64 bits are split
into three substrings (21, 21, 22 bits). If two hashes are within radius ``r``,
one substring differs in at most ``r // 3`` bits (pigeonhole), so probing every
key within that many flips of each query substring finds *every* neighbour —
the result equals the exact scan, it just touches ~10⁻⁴ of the archive.

Memory is at most 16 bytes per stored hash, twice the raw 8, plus fixed
bucket offsets (3 tables, 2²¹ + 2²¹ + 2²² uint32 = 32 MiB) and ~40 bytes per
archive item:

- ``codes``: every item's hashes, one view's frames after another, items
  concatenated: an item is one slice (stage two scans it), a slot's item,
  frame and view follow from its offset, and neighbouring slots are
  neighbouring frames, which look alike. Blank views stay as 0 and are never
  indexed or returned.
- the three tables, in one of two layouts, whichever fits the other 8 bytes:

  ``runs`` (footage): neighbouring frames share substrings, so table ``t``
  lists *runs* of up to 16 neighbouring slots with the same substring ``t``,
  7 bytes a run: a 32-bit word (24 bits of the run's first hash outside the
  substring, its *sketch*; the top of its first slot; its radius, the most
  bits any of its slots differs from the first) and the first slot's low 3
  bytes. A probe knows how many key bits it flipped, so a run is dropped on
  its word alone when those bits plus the sketch's distance minus the radius
  exceed the search radius (triangle inequality); the few left are checked
  on their first hash, then slot by slot. The bucket lists are read in key
  order and nothing else is read for a far run: at 100M synthetic footage
  hashes a query's stage one reads ~3M words, where the blocks layout
  compared every slot of 64-slot blocks. The scan is compiled (``mih_kernel``, numba; its cache
  misses overlap, where numpy's dozen passes over those words each paid for them); ``compiled=False``
  keeps the numpy scan as the reference. Footage gives ~0.37 runs per hash and table
  (7.7 B per hash); hashes that would need more than 8 B per hash get:

  ``blocks`` (any hashes, e.g. random ones that share nothing): one uint64
  per indexed hash holds the three tables' entries, 21 bits each. Table
  ``t`` lists slots sorted by substring ``t``; past 2²¹ slots an entry names
  a block of ``2**shift`` neighbouring slots (one cache line at 8) and the
  whole block is checked, which keeps the search exact but compares ~N² hashes
  as N grows past 2²⁴. (The runs layout also needs ≤ 2²⁸ slots.)

Built once from arrays (``build``); additions after that go to a small exact
delta, removals to a tombstone set, and ``compact`` folds both in.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Literal

import numpy as np
import numpy.typing as npt

from service.archive.index import ExactIndex, Hits
from service.archive.mih_kernel import scan_runs, warm_up
from service.models import VideoFingerprint

__all__ = ["MultiIndexHashIndex", "flip_masks"]

SPLITS = ((0, 21), (21, 21), (42, 22))  # (shift, bits) of each substring
POINTER_BITS = 21  # bits per table entry in the packed pointer word (3 × 21 ≤ 64)
# Runs layout. A run holds at most RUN_MAX neighbouring slots. Its 32-bit word is SKETCH_BITS bits of the
# first hash outside the table's substring, then the top 4 bits of its first slot, then its radius (the most
# bits any of its slots differs from the first; RUN_FAR: 15 or more, never skipped on the radius); the
# first slot's low 24 bits take 3 more bytes, read only for the runs the sketch keeps.
RUN_MAX = 16
RUN_FAR = 15
SKETCH_BITS = 24
RUN_BYTES = 7
MAX_RUN_SLOTS = 1 << 28  # a run's first slot in 28 bits
# The runs layout is used when the three tables' runs fit in TABLE_BYTES_PER_HASH per indexed hash, so
# codes + tables stay ≤ 16 B per hash.
TABLE_BYTES_PER_HASH = 8
Layout = Literal["auto", "runs", "blocks"]

# (item id, frames, archive view index of each column) for each item, in slot order
ItemSpec = tuple[int, int, Sequence[int]]


@lru_cache(maxsize=8)
def flip_masks(bits: int, max_flips: int) -> npt.NDArray[np.int64]:
    """All masks of ``bits`` bits with at most ``max_flips`` ones."""
    masks = [0]
    for k in range(1, max_flips + 1):
        masks.extend(sum(1 << i for i in combo) for combo in itertools.combinations(range(bits), k))
    return np.asarray(masks, dtype=np.int64)


def _dense(codes: npt.NDArray[np.uint64], frames: npt.NDArray[np.int64],
           views: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.uint64], int, list[int]]:
    """An item's non-blank hashes back in slot order (view-major, 0 for blanks), its frames and views."""
    if len(codes) == 0:
        return np.zeros(0, dtype=np.uint64), 0, []
    view_ids = np.unique(views)
    matrix = np.zeros((int(frames.max()) + 1, len(view_ids)), dtype=np.uint64)
    matrix[frames, np.searchsorted(view_ids, views)] = codes
    return matrix.T.reshape(-1), int(matrix.shape[0]), [int(v) for v in view_ids]


def _sketch(codes: npt.NDArray[np.uint64], sub_shift: int, bits: int) -> npt.NDArray[np.uint64]:
    """SKETCH_BITS bits of each hash just above substring ``(sub_shift, bits)``, wrapping round: none of the key."""
    rot = (sub_shift + bits) % 64
    if rot:
        codes = (codes >> np.uint64(rot)) | (codes << np.uint64(64 - rot))
    return codes & np.uint64((1 << SKETCH_BITS) - 1)


def _runs(codes: npt.NDArray[np.uint64], sub_shift: int, bits: int) -> tuple[npt.NDArray[np.int64],
                                                                              npt.NDArray[np.int64],
                                                                              npt.NDArray[np.uint32]]:
    """Runs of neighbouring non-blank slots sharing substring ``(sub_shift, bits)``: key, first slot, word."""
    if len(codes) == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z, np.zeros(0, dtype=np.uint32)
    keys = ((codes >> np.uint64(sub_shift)) & np.uint64((1 << bits) - 1)).astype(np.int64)
    keys[codes == 0] = -1  # a blank slot ends a run and starts none
    change = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
    lengths = np.diff(np.append(change, len(codes)))
    live = keys[change] >= 0
    first, lengths = change[live], lengths[live]
    del change, live
    pieces = -(-lengths // RUN_MAX)  # runs longer than RUN_MAX are cut into pieces
    if int(pieces.max(initial=1)) > 1:
        piece = np.arange(int(pieces.sum())) - np.repeat(np.cumsum(pieces) - pieces, pieces)
        first = np.repeat(first, pieces) + piece * RUN_MAX
        lengths = np.minimum(np.repeat(lengths, pieces) - piece * RUN_MAX, RUN_MAX)
        del piece
    run_keys = keys[first]
    del keys
    # runs cover the non-blank slots in order: each slot's distance to its run's first hash, max per run
    heads = codes[first]
    d = np.bitwise_count(codes[codes != 0] ^ np.repeat(heads, lengths))
    radius = np.maximum.reduceat(d, np.cumsum(lengths) - lengths)
    del d
    word = ((_sketch(heads, sub_shift, bits) << np.uint64(8)) | ((first >> 24) << 4).astype(np.uint64)
            | np.minimum(radius, RUN_FAR).astype(np.uint64)).astype(np.uint32)
    return run_keys, first, word


def _expand(starts: npt.NDArray[np.int64], counts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """``starts[i] .. starts[i] + counts[i] - 1`` for every i, concatenated."""
    total = int(counts.sum())
    return np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)


class MultiIndexHashIndex:
    """Exact radius search by multi-index hashing; same contract as ``ExactIndex``."""

    # Rebuild the main tables when the delta grows past this many hashes.
    DELTA_LIMIT = 200_000

    def __init__(self, pointer_bits: int = POINTER_BITS, layout: Layout = "auto", compiled: bool = True) -> None:
        """``layout`` picks the tables' layout (``auto``: runs when they fit, see the module docstring);
        ``pointer_bits`` below 21 only to test block pointers on a small archive; ``compiled=False`` scans
        the runs with numpy alone (the reference the compiled scan is tested against)."""
        self.compiled = compiled
        if not 1 <= pointer_bits <= POINTER_BITS:
            raise ValueError(f"pointer_bits must be 1..{POINTER_BITS}")
        self._pointer_bits = pointer_bits
        self._layout_wanted = layout
        self.layout: Literal["runs", "blocks"] = "blocks"  # the layout of the tables built last
        self._lock = threading.RLock()
        self._codes = np.zeros(0, dtype=np.uint64)
        self._pointers = np.zeros(0, dtype=np.uint64)  # blocks layout
        self._run_words: list[npt.NDArray[np.uint32]] = []  # runs layout, per table: sketch, slot's top, radius
        self._run_low: list[npt.NDArray[np.uint8]] = []  # and the first slot's low 3 bytes
        self._offsets: list[npt.NDArray[np.uint32]] = []
        self._shift = 0  # table entries point at blocks of 2**shift slots
        self._indexed = 0
        # per item, in slot order: id, first slot (plus an end sentinel), frames, view indices
        self._item_ids = np.zeros(0, dtype=np.int64)
        self._starts = np.zeros(1, dtype=np.int64)
        self._frames = np.ones(0, dtype=np.int64)
        self._view_table = np.zeros((0, 1), dtype=np.int8)
        self._ranges: dict[int, tuple[int, int]] = {}  # item id -> its slice of the main arrays
        self._delta = ExactIndex()
        self._delta_items: set[int] = set()
        self._removed: set[int] = set()

    def __len__(self) -> int:
        return self._indexed + len(self._delta)

    def nbytes(self) -> int:
        """Bytes held by the main tables (the delta is bounded by ``DELTA_LIMIT``)."""
        return int(self._codes.nbytes + self._pointers.nbytes + sum(o.nbytes for o in self._offsets)
                   + sum(a.nbytes for a in self._run_words) + sum(a.nbytes for a in self._run_low)
                   + self._item_ids.nbytes + self._starts.nbytes + self._frames.nbytes + self._view_table.nbytes)

    # -- building ------------------------------------------------------
    def build(self, codes: npt.NDArray[np.uint64], items: Sequence[ItemSpec]) -> None:
        """(Re)build the tables.

        ``codes`` is every item's (views × frames) hash matrix flattened and concatenated in the order
        of ``items``; 0 marks a blank view. ``codes`` is kept, not copied.
        """
        widths = np.asarray([len(views) for _, _, views in items], dtype=np.int64)
        n_frames = np.asarray([frames for _, frames, _ in items], dtype=np.int64)
        sizes = n_frames * widths
        starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        if starts[-1] != len(codes):
            raise ValueError(f"items describe {starts[-1]} slots, codes has {len(codes)}")
        if len(codes) > MAX_RUN_SLOTS and self._layout_wanted == "runs":
            raise ValueError(f"the runs layout addresses at most {MAX_RUN_SLOTS} slots")
        view_table = np.full((len(items), max([1, *widths.tolist()])), -1, dtype=np.int8)
        for row, (_, _, views) in enumerate(items):
            view_table[row, : len(views)] = views
        indexed = int(np.count_nonzero(codes))
        run_words: list[npt.NDArray[np.uint32]] = []
        run_low: list[npt.NDArray[np.uint8]] = []
        offsets: list[npt.NDArray[np.uint32]] = []
        pointers = np.zeros(0, dtype=np.uint64)
        shift = 0
        layout: Literal["runs", "blocks"] = "runs" if self._layout_wanted != "blocks" else "blocks"
        if layout == "runs":
            budget = TABLE_BYTES_PER_HASH * indexed
            for sub_shift, bits in SPLITS:
                keys, first, word = _runs(codes, sub_shift, bits)
                if self._layout_wanted == "auto" and (
                        len(codes) > MAX_RUN_SLOTS
                        or RUN_BYTES * (len(first) + sum(len(w) for w in run_words)) > budget):
                    layout = "blocks"  # the hashes share too few substrings with their neighbours
                    break
                # sort runs by key (np.sort of key << 32 | run: several times faster than a stable argsort)
                order = np.sort((keys.astype(np.uint64) << np.uint64(32)) | np.arange(len(keys), dtype=np.uint64))
                order = (order & np.uint64(0xFFFFFFFF)).astype(np.int64)
                table_offsets = np.zeros((1 << bits) + 1, dtype=np.uint32)
                np.cumsum(np.bincount(keys, minlength=1 << bits), out=table_offsets[1:])
                run_words.append(word[order])
                low = first[order]
                run_low.append(np.stack([low & 0xFF, (low >> 8) & 0xFF, (low >> 16) & 0xFF], axis=1).astype(np.uint8))
                offsets.append(table_offsets)
                del keys, first, word, order, low
        if layout == "blocks":
            run_words, run_low = [], []
            pointers, offsets, shift, codes = self._build_blocks(codes)
        item_ids = np.asarray([item_id for item_id, _, _ in items], dtype=np.int64)
        ranges = {int(i): (int(a), int(b)) for i, a, b in zip(item_ids, starts[:-1], starts[1:], strict=True)}
        if layout == "runs" and self.compiled:
            warm_up()  # compile (or load the cached machine code) now, not in the first query
        with self._lock:
            self._codes, self._pointers, self._offsets, self._shift = codes, pointers, offsets, shift
            self._run_words, self._run_low, self.layout = run_words, run_low, layout
            self._indexed = indexed
            self._item_ids, self._starts, self._frames, self._view_table = item_ids, starts, n_frames, view_table
            self._ranges = ranges

    def _build_blocks(self, codes: npt.NDArray[np.uint64]) -> tuple[npt.NDArray[np.uint64],
                                                                      list[npt.NDArray[np.uint32]], int,
                                                                      npt.NDArray[np.uint64]]:
        """Packed pointer word, offsets, block shift and the codes padded to whole blocks."""
        slots = np.flatnonzero(codes)
        shift = max(0, int(len(codes) - 1).bit_length() - self._pointer_bits)
        entries, offsets = [], []
        for sub_shift, bits in SPLITS:
            keys = ((codes[slots] >> np.uint64(sub_shift)) & np.uint64((1 << bits) - 1)).astype(np.int64)
            order = np.argsort(keys, kind="stable")
            keys, blocks = keys[order], (slots[order] >> shift).astype(np.uint32)
            del order
            if shift:  # neighbouring frames often share a key and a block: list each pair once
                first = np.ones(len(keys), dtype=bool)
                first[1:] = (keys[1:] != keys[:-1]) | (blocks[1:] != blocks[:-1])
                keys, blocks = keys[first], blocks[first]
            table_offsets = np.zeros((1 << bits) + 1, dtype=np.uint32)
            np.cumsum(np.bincount(keys, minlength=1 << bits), out=table_offsets[1:])
            entries.append(blocks)
            offsets.append(table_offsets)
            del keys
        pointers = np.zeros(max(len(e) for e in entries), dtype=np.uint64)
        for t, blocks in enumerate(entries):
            pointers[: len(blocks)] |= blocks.astype(np.uint64) << np.uint64(self._pointer_bits * t)
        del entries
        block = 1 << shift
        if len(codes) % block:  # whole blocks, so a probe never reads past the end
            codes = np.concatenate([codes, np.zeros(block - len(codes) % block, dtype=np.uint64)])
        return pointers, offsets, shift, codes
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
            blocks: list[npt.NDArray[np.uint64]] = []
            items: list[ItemSpec] = []
            for row, item_id in enumerate(self._item_ids.tolist()):
                if item_id in self._removed:
                    continue
                a, b = self._ranges[item_id]
                frames = int(self._frames[row])
                width = (b - a) // frames if frames else 0
                blocks.append(self._codes[a:b])
                items.append((item_id, frames, self._view_table[row, :width].tolist()))
            for item_id, (c, frame_idx, views) in self._delta.parts().items():
                dense, n_frames, view_ids = _dense(c, frame_idx, views)  # no frames: kept as an empty item
                blocks.append(dense)
                items.append((item_id, n_frames, view_ids))
            self.build(np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.uint64), items)
            self._delta = ExactIndex()
            self._delta_items.clear()
            self._removed.clear()

    # -- searching -----------------------------------------------------
    def _buckets(self, hashes: npt.NDArray[np.uint64], radius: int, t: int) -> tuple[
            npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Table ``t``'s probes in key order: query row, mask index, bucket start and entry count of each."""
        shift, bits = SPLITS[t]
        masks = flip_masks(bits, radius // len(SPLITS))
        keys = ((hashes >> np.uint64(shift)) & np.uint64((1 << bits) - 1)).astype(np.int64)
        probes = (keys[:, None] ^ masks[None, :]).reshape(-1)
        # buckets in key order: the table is read front to back, not at random
        order = np.argsort(probes)
        probes = probes[order]
        starts = np.take(self._offsets[t], probes).astype(np.int64)
        counts = np.take(self._offsets[t], probes + 1).astype(np.int64) - starts
        return order // len(masks), order % len(masks), starts, counts

    def _candidates(self, hashes: npt.NDArray[np.uint64], radius: int) -> tuple[npt.NDArray[np.int64],
                                                                                  npt.NDArray[np.int64]]:
        """Blocks layout: (query row, block) pairs that may hold a neighbour, from all three tables."""
        rows_all, blocks_all = [], []
        mask = np.uint64((1 << self._pointer_bits) - 1)
        for t in range(len(SPLITS)):
            probe_rows, _, starts, counts = self._buckets(hashes, radius, t)
            rows, flat = np.repeat(probe_rows, counts), _expand(starts, counts)
            entries = np.take(self._pointers, flat)
            rows_all.append(rows)
            # fields are < 2**21, so the uint64 result is viewed as int64 indices without a copy
            blocks_all.append(((entries >> np.uint64(self._pointer_bits * t)) & mask).view(np.int64))
        return np.concatenate(rows_all), np.concatenate(blocks_all)

    def _search_blocks(self, hashes: npt.NDArray[np.uint64], radius: int) -> tuple[npt.NDArray[np.int64],
                                                                                    npt.NDArray[np.int64],
                                                                                    npt.NDArray[np.int64]]:
        """(query row, slot, distance) of every neighbour, once per table that finds it."""
        rows, blocks = self._candidates(hashes, radius)
        width = 1 << self._shift
        # every slot of every candidate block: one cache line of codes per block at 8 slots
        stored = np.take(self._codes.reshape(-1, width), blocks, axis=0)  # np.take: 3× faster than []
        d = np.bitwise_count(np.bitwise_xor(stored, hashes[rows][:, None], out=stored)).reshape(-1)
        hit = np.flatnonzero(d <= radius)
        r = hit >> self._shift
        return rows[r], blocks[r] * width + (hit & (width - 1)), d[hit].astype(np.int64)

    def _search_runs_compiled(self, hashes: npt.NDArray[np.uint64], radius: int) -> tuple[
            npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """``_search_runs_numpy``'s result from the compiled scan (``mih_kernel``): one pass over the words."""
        rows_all, pos_all, dist_all = [], [], []
        allowance = np.append(np.arange(RUN_FAR, dtype=np.int64), np.int64(64))
        for t, (sub_shift, bits) in enumerate(SPLITS):
            masks = flip_masks(bits, radius // len(SPLITS))
            keys = ((hashes >> np.uint64(sub_shift)) & np.uint64((1 << bits) - 1)).astype(np.int64)
            probes = (keys[:, None] ^ masks[None, :]).reshape(-1)
            # buckets in key order, so the table is read front to back: np.sort of key << 32 | probe
            # (several times faster than argsort)
            packed = np.sort((probes.astype(np.uint64) << np.uint64(32)) | np.arange(len(probes), dtype=np.uint64))
            order = (packed & np.uint64(0xFFFFFFFF)).astype(np.int64)
            left = radius - np.bitwise_count(masks).astype(np.int64)
            rows, pos, dist = scan_runs(self._codes, self._run_words[t], self._run_low[t], self._offsets[t],
                                        (packed >> np.uint64(32)).astype(np.int64), order // len(masks),
                                        left[order % len(masks)],
                                        _sketch(hashes, sub_shift, bits), hashes, radius, RUN_MAX, allowance)
            rows_all.append(rows)
            pos_all.append(pos)
            dist_all.append(dist)
        return np.concatenate(rows_all), np.concatenate(pos_all), np.concatenate(dist_all)

    def _search_runs_numpy(self, hashes: npt.NDArray[np.uint64], radius: int) -> tuple[npt.NDArray[np.int64],
                                                                                        npt.NDArray[np.int64],
                                                                                        npt.NDArray[np.int64]]:
        """(query row, slot, distance) of every neighbour, once per table that finds it.

        A run's slots share its key, so a slot differs from the query in exactly the probe's flipped key bits
        plus bits outside the key. Outside the key, on the sketch's bits, the slot is at least the query's
        distance to the first hash's sketch minus the run's radius (triangle inequality). Runs that cannot
        come within ``radius`` are dropped on that word alone; the rest are checked on the first hash, then
        slot by slot.
        """
        rows_all, pos_all, dist_all = [], [], []
        window = np.arange(RUN_MAX, dtype=np.int64)
        # a run's radius as a bit allowance; RUN_FAR: any distance
        allowance = np.append(np.arange(RUN_FAR, dtype=np.uint32), np.uint32(64))
        for t, (sub_shift, bits) in enumerate(SPLITS):
            rows, mask_idx, starts, counts = self._buckets(hashes, radius, t)
            flipped = np.bitwise_count(flip_masks(bits, radius // len(SPLITS))).astype(np.uint32)[mask_idx]
            # per probe: the query's sketch and the bits left outside the key, in one word like a run's
            probe_word = (_sketch(hashes, sub_shift, bits).astype(np.uint32)[rows] << np.uint32(8)
                          | (radius - flipped))
            flat = _expand(starts, counts)
            word = np.take(self._run_words[t], flat)
            probe_word = np.repeat(probe_word, counts)
            # sketch distance ≤ bits left + the run's radius
            keep = np.flatnonzero(np.bitwise_count((word ^ probe_word) >> np.uint32(8))
                                  <= (probe_word & np.uint32(0xFF)) + np.take(allowance, word & np.uint32(RUN_FAR)))
            probe = np.searchsorted(np.cumsum(counts), keep, side="right")
            rows, flat, word = rows[probe], flat[keep], word[keep]
            spread = np.take(allowance, word & np.uint32(RUN_FAR)).astype(np.int64)
            low = self._run_low[t][flat].astype(np.int64)
            first = (((word >> np.uint32(4)) & np.uint32(15)).astype(np.int64) << 24
                     | low[:, 0] | low[:, 1] << 8 | low[:, 2] << 16)
            d_first = np.bitwise_count(np.take(self._codes, first) ^ np.take(hashes, rows)).astype(np.int64)
            keep = np.flatnonzero(d_first - spread <= radius)
            # the run is at most RUN_MAX slots from its first; a slot past it is checked all the same
            pos = np.minimum(first[keep, None] + window[None, :], len(self._codes) - 1).reshape(-1)
            rows = np.repeat(rows[keep], RUN_MAX)
            dist = np.bitwise_count(np.take(self._codes, pos) ^ np.take(hashes, rows))
            hit = np.flatnonzero(dist <= radius)
            rows_all.append(rows[hit])
            pos_all.append(pos[hit])
            dist_all.append(dist[hit].astype(np.int64))
        return np.concatenate(rows_all), np.concatenate(pos_all), np.concatenate(dist_all)

    def _locate(self, slots: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64],
                                                             npt.NDArray[np.int64]]:
        """Item id, frame and view index of each slot."""
        row = np.searchsorted(self._starts, slots, side="right") - 1
        offset = slots - self._starts[row]
        frames = self._frames[row]
        return self._item_ids[row], offset % frames, self._view_table[row, offset // frames].astype(np.int64)

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
                stored = self._codes[a:b]
                d = np.bitwise_count(hashes[:, None] ^ stored[None, :])
                r, c = np.nonzero((d <= radius) & (stored != 0)[None, :])
                _, frame, view = self._locate(c.astype(np.int64) + a)
                parts.append(Hits(r.astype(np.int64), np.full(len(r), item_id, dtype=np.int64),
                                  frame, view, d[r, c].astype(np.int64)))
        return Hits(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                      ("query_row", "item_id", "frame", "view", "distance")))

    def search(self, hashes: npt.NDArray[np.uint64], radius: int) -> Hits:
        with self._lock:
            parts = [self._delta.search(hashes, radius)]
            if self._indexed and len(hashes):
                search = self._search_blocks
                if self.layout == "runs":
                    search = self._search_runs_compiled if self.compiled else self._search_runs_numpy
                rows, pos, dist = search(hashes, radius)
                ok = self._codes[pos] != 0
                rows, pos, dist = rows[ok], pos[ok], dist[ok]
                # a neighbour close in several substrings was found once per substring
                _, unique = np.unique(rows * len(self._codes) + pos, return_index=True)
                rows, pos, dist = rows[unique], pos[unique], dist[unique]
                item, frame, view = self._locate(pos)
                dropped = self._removed | self._delta_items
                live = ~np.isin(item, list(dropped)) if dropped else np.ones(len(item), dtype=bool)
                parts.append(Hits(rows[live], item[live], frame[live], view[live], dist[live]))
        return Hits(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                      ("query_row", "item_id", "frame", "view", "distance")))
