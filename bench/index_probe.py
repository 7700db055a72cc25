"""``python -m bench.index_probe``: where stage one's cost goes as the archive grows (issue 15, part 4).

For each archive size and pointer width it builds the multi-index (``service/archive/mih.py``) over the
synthetic clustered hashes of ``firstseen bench index`` and runs stage-one probes (24 frames × 10 views of a
query, radius ``STAGE1_RADIUS``), reporting per query: bucket entries read (the tables' candidates), the
slots those entries make the search compare (entries × the block size ``2**shift``), and the wall time of
``index.search``. Bucket occupancy is reported per table. Narrow ``--pointer-bits`` emulate, on a small archive,
the block size a big one gets: at 100M hashes the packed 21-bit entries address blocks of 64 slots.

Prints one JSON line per configuration.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from service.archive.mih import SPLITS, MultiIndexHashIndex, flip_masks
from service.benchmark import VIDEO_FRAMES, _clustered
from service.match.search import STAGE1_FRAMES, STAGE1_RADIUS

PROBE_VIEWS = 10  # non-empty views of a typical query


def probe(frames: int, pointer_bits: int, queries: int, seed: int = 7) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    codes = _clustered(rng, frames)
    items = [(i, min(VIDEO_FRAMES, frames - start), (0,)) for i, start in enumerate(range(0, frames, VIDEO_FRAMES))]
    index = MultiIndexHashIndex(pointer_bits, "blocks")  # the layout this probe diagnoses
    index.build(codes, items)
    shift = index._shift
    occupancy = []
    for offsets in index._offsets:
        sizes = np.diff(offsets.astype(np.int64))
        occupancy.append({"mean": round(float(sizes.mean()), 2), "p99": int(np.percentile(sizes, 99)),
                          "max": int(sizes.max())})
    flips = STAGE1_RADIUS // len(SPLITS)
    entries, times = [], []
    for _ in range(queries):
        probes = rng.integers(1, 2**63, STAGE1_FRAMES * PROBE_VIEWS, dtype=np.int64).astype(np.uint64)
        # half the probes are edited copies of archived frames, as in a matching query
        picks = rng.integers(0, frames, len(probes) // 2)
        probes[: len(picks)] = codes[picks] ^ np.uint64(0b1011)
        read = 0
        for (sub_shift, bits), offsets in zip(SPLITS, index._offsets, strict=True):
            keys = ((probes >> np.uint64(sub_shift)) & np.uint64((1 << bits) - 1)).astype(np.int64)
            keyed = (keys[:, None] ^ flip_masks(bits, flips)[None, :]).reshape(-1)
            read += int((offsets[keyed + 1].astype(np.int64) - offsets[keyed].astype(np.int64)).sum())
        entries.append(read)
        t = time.perf_counter()
        index.search(probes, STAGE1_RADIUS)
        times.append((time.perf_counter() - t) * 1000)
    return {"frames": frames, "pointer_bits": pointer_bits, "block_slots": 1 << shift,
            "bucket_entries_per_table": occupancy,
            "entries_read_per_query": int(np.median(entries)),
            "slots_compared_per_query": int(np.median(entries)) << shift,
            "stage1_p50_ms": round(float(np.percentile(times, 50)), 1),
            "stage1_p95_ms": round(float(np.percentile(times, 95)), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.index_probe", description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--pointer-bits", type=int, nargs="+", default=[21])
    parser.add_argument("--queries", type=int, default=20)
    args = parser.parse_args()
    for frames in args.frames:
        for bits in args.pointer_bits:
            print(json.dumps(probe(frames, bits, args.queries)), flush=True)


if __name__ == "__main__":
    main()
