"""Finding frame hits for a query: one exact pass, or two stages on a big archive.

Part of match (index → **search** → align). On a small archive every query hash
is searched at the full radius. On a big one that costs too much, so:

1. a few well-chosen query frames (informative, spread over time, not near
   duplicates of each other), all their views, are searched at a small radius
   (fast and exact with multi-index hashing) to find *candidate* archive items;
2. every query hash is then compared at the full radius with only those items'
   hashes, and temporal alignment runs on them alone.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from service.archive.index import HashIndex, Hits

__all__ = ["STAGE1_FRAMES", "STAGE1_RADIUS", "TWO_STAGE_MIN_HASHES", "find_hits", "probe_frames"]

# Frames probed in stage one; 24 frames × ~8 views is ~200 lookups.
STAGE1_FRAMES = 24
# Stage-one radius: with 3 substrings, 8 bits means ≤ 2 flipped bits per
# substring to probe, which keeps lookups cheap; matching copies have many
# frames under 8 even when heavy edits push some frames to 12–14.
STAGE1_RADIUS = 8
# Below this many archive hashes one exact full-radius pass is fast enough.
TWO_STAGE_MIN_HASHES = 1_000_000
# Frames whose hashes are this close are near duplicates: probing both wastes a slot.
NEAR_DUPLICATE_BITS = 4


def probe_frames(full_hashes: npt.NDArray[np.uint64], k: int = STAGE1_FRAMES) -> npt.NDArray[np.int64]:
    """Indices of up to ``k`` informative, mutually distinct frames spread over the video."""
    informative = np.flatnonzero(full_hashes)
    if len(informative) <= k:
        return informative
    chosen: list[int] = []
    # Walk an evenly spaced order first, then the rest, skipping near duplicates.
    spread = informative[np.linspace(0, len(informative) - 1, k).round().astype(int)]
    for idx in [*spread, *informative]:
        if len(chosen) >= k:
            break
        if idx in chosen:
            continue
        if chosen and np.bitwise_count(full_hashes[chosen] ^ full_hashes[idx]).min() <= NEAR_DUPLICATE_BITS:
            continue
        chosen.append(int(idx))
    return np.asarray(sorted(chosen), dtype=np.int64)


def find_hits(index: HashIndex, query: npt.NDArray[np.uint64], full_view: int, radius: int) -> Hits:
    """Hits for a query hash matrix ``(frames, views)``; ``query_row`` is ``frame * views + view``."""
    n_frames, n_views = query.shape
    flat = query.reshape(-1)
    rows = np.flatnonzero(flat)
    if len(rows) == 0:
        return Hits.empty()
    if len(index) < TWO_STAGE_MIN_HASHES:
        raw = index.search(flat[rows], radius)
        return Hits(rows[raw.query_row], raw.item_id, raw.frame, raw.view, raw.distance)
    frames = probe_frames(query[:, full_view])
    probe_rows = (frames[:, None] * n_views + np.arange(n_views)[None, :]).reshape(-1)
    probe_rows = probe_rows[flat[probe_rows] != 0]
    stage1 = index.search(flat[probe_rows], STAGE1_RADIUS)
    candidates = {int(i) for i in np.unique(stage1.item_id)}
    if not candidates:
        return Hits.empty()
    raw = index.search_items(flat[rows], radius, candidates)
    return Hits(rows[raw.query_row], raw.item_id, raw.frame, raw.view, raw.distance)
