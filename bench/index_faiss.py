"""``python -m bench.index_faiss``: firstseen's multi-index beside faiss's binary indexes, same hashes, same run.

Builds the synthetic clustered archive of ``firstseen bench index`` once, then indexes it with
``MultiIndexHashIndex`` (service/archive/mih.py, exact) and with faiss (``pip install faiss-cpu``, one
thread like numpy): ``IndexBinaryMultiHash`` (3 tables of 21 bits, 2 flips: the same probing as ours),
``IndexBinaryHash`` (one 21-bit table, 2 flips) and, below ``--hnsw-max`` hashes, ``IndexBinaryHNSW``
(k-nearest search, ``--hnsw-k`` neighbours, kept within the radius). Each answers the same stage-one
queries (24 frames × 10 views, half of them edited copies of archived frames) at radius ``STAGE1_RADIUS``.
Recall is against firstseen's index, which equals the exact scan (tests/test_index.py). Memory is the
index's own arrays (``nbytes``) for firstseen's, and the serialized index (``serialize_index_binary``,
codes and tables without a hash map's overhead in memory) for faiss's.

Prints one JSON line per index and archive size.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from service.archive.mih import MultiIndexHashIndex
from service.benchmark import VIDEO_FRAMES, _clustered
from service.match.search import STAGE1_FRAMES, STAGE1_RADIUS

PROBE_VIEWS = 10
Pairs = set[tuple[int, int]]


def _queries(rng: np.random.Generator, codes: npt.NDArray[np.uint64], n: int) -> list[npt.NDArray[np.uint64]]:
    out = []
    for _ in range(n):
        probes = rng.integers(1, 2**63, STAGE1_FRAMES * PROBE_VIEWS, dtype=np.int64).astype(np.uint64)
        picks = rng.integers(0, len(codes), len(probes) // 2)
        flips = np.zeros(len(picks), dtype=np.uint64)
        for _k in range(5):  # 3–5 distinct bits: within the radius, as an edited copy's frames are
            flips |= np.left_shift(np.uint64(1), rng.integers(0, 64, len(picks)).astype(np.uint64))
        probes[: len(picks)] = codes[picks] ^ flips
        out.append(probes)
    return out


def _timed(queries: list[npt.NDArray[np.uint64]], run: Callable[[npt.NDArray[np.uint64]], Pairs]
           ) -> tuple[list[Pairs], list[float]]:
    found, times = [], []
    for q in queries:
        t = time.perf_counter()
        found.append(run(q))
        times.append((time.perf_counter() - t) * 1000)
    return found, times


def _row(name: str, frames: int, build_s: float, mem_mb: float, times: list[float], found: list[Pairs],
         truth: list[Pairs]) -> dict[str, object]:
    expected = sum(len(t) for t in truth)
    got = sum(len(t & f) for t, f in zip(truth, found, strict=True))
    return {"index": name, "frames": frames, "p50_ms": round(float(np.percentile(times, 50)), 1),
            "p95_ms": round(float(np.percentile(times, 95)), 1),
            "recall": round(got / expected, 4) if expected else 1.0,
            "build_s": round(build_s, 1), "memory_mb": round(mem_mb, 1),
            "bytes_per_hash": round(mem_mb * 2**20 / frames, 1)}


def compare(frames: int, queries: int, hnsw_max: int, hnsw_k: int, seed: int = 7) -> list[dict[str, object]]:
    import faiss

    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(seed)
    codes = _clustered(rng, frames)
    qs = _queries(rng, codes, queries)
    rows = []

    t = time.perf_counter()
    mih = MultiIndexHashIndex()
    mih.build(codes, [(i, min(VIDEO_FRAMES, frames - s), (0,)) for i, s in enumerate(range(0, frames, VIDEO_FRAMES))])
    build_s = time.perf_counter() - t

    def ours(q: npt.NDArray[np.uint64]) -> Pairs:
        hits = mih.search(q, STAGE1_RADIUS)
        return set(zip(hits.query_row.tolist(), (hits.item_id * VIDEO_FRAMES + hits.frame).tolist(), strict=True))

    truth, times = _timed(qs, ours)
    rows.append(_row(f"firstseen MultiIndexHashIndex ({mih.layout})", frames, build_s, mih.nbytes() / 2**20, times,
                     truth, truth))
    as_bytes = codes.view(np.uint8).reshape(-1, 8)

    def faiss_range(index: object) -> Callable[[npt.NDArray[np.uint64]], Pairs]:
        def run(q: npt.NDArray[np.uint64]) -> Pairs:
            lims, _d, ids = index.range_search(q.view(np.uint8).reshape(-1, 8), STAGE1_RADIUS + 1)  # type: ignore[attr-defined]
            rows_ = np.repeat(np.arange(len(q)), np.diff(lims.astype(np.int64)))
            return set(zip(rows_.tolist(), ids.tolist(), strict=True))
        return run

    for name, make in (("faiss IndexBinaryMultiHash(3 × 21 bits, nflip 2)",
                        lambda: faiss.IndexBinaryMultiHash(64, 3, 21)),
                       ("faiss IndexBinaryHash(21 bits, nflip 2)", lambda: faiss.IndexBinaryHash(64, 21))):
        t = time.perf_counter()
        index = make()
        index.nflip = 2
        index.add(as_bytes)
        build_s = time.perf_counter() - t
        mem = faiss.serialize_index_binary(index).nbytes / 2**20
        found, times = _timed(qs, faiss_range(index))
        rows.append(_row(name, frames, build_s, mem, times, found, truth))
        del index

    if frames <= hnsw_max:
        t = time.perf_counter()
        hnsw = faiss.IndexBinaryHNSW(64, 16)
        hnsw.add(as_bytes)
        build_s = time.perf_counter() - t
        mem = faiss.serialize_index_binary(hnsw).nbytes / 2**20

        def knn(q: npt.NDArray[np.uint64]) -> Pairs:
            d, ids = hnsw.search(q.view(np.uint8).reshape(-1, 8), hnsw_k)
            r, c = np.nonzero((d <= STAGE1_RADIUS) & (ids >= 0))
            return set(zip(r.tolist(), ids[r, c].tolist(), strict=True))

        found, times = _timed(qs, knn)
        rows.append(_row(f"faiss IndexBinaryHNSW(M 16, k {hnsw_k})", frames, build_s, mem, times, found, truth))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.index_faiss", description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--hnsw-max", type=int, default=1_000_000, help="HNSW only up to this many hashes (slow build)")
    parser.add_argument("--hnsw-k", type=int, default=64)
    args = parser.parse_args()
    for frames in args.frames:
        for row in compare(frames, args.queries, args.hnsw_max, args.hnsw_k):
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
