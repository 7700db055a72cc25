"""``firstseen bench index``: how fast the archive index answers at scale.

Builds a synthetic archive of N frame hashes shaped like real footage (videos
of consecutive near-identical frames: one bit flips per frame, a scene cut
every ~20 frames), then runs Q queries of 60 s (120 frames × 8 views): half are
edited copies of archived stretches (3–7 bits flipped per hash), half unrelated.
Each query runs the real two-stage search (``service.match.search``) and
temporal alignment. The exact numpy scan of the same stage-one probes runs in
the same process for the recall figure and its own latency.
"""

from __future__ import annotations

import json
import os
import resource
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from service.archive.index import Hits
from service.archive.mih import MultiIndexHashIndex
from service.fingerprint.views import ARCHIVE_VIEWS
from service.fingerprint.views import QUERY_VIEWS as PIPELINE_QUERY_VIEWS
from service.match.align import MAX_HAMMING, ArchiveMotion, align_item
from service.match.search import STAGE1_RADIUS, find_hits, probe_frames

__all__ = ["IndexBenchResult", "result_json", "run_index_bench"]

QUERY_FRAMES = 120  # 60 s at 2 fps
# A query has every view the pipeline searches (full, mirror, rotations, content, insets, windows),
# in the same column order, since align_item reads the view from the column.
QUERY_VIEWS = len(PIPELINE_QUERY_VIEWS)
# Views a typical query leaves empty: no picture-in-picture inset found (real clips give 10–12
# non-empty views of the 16; see docs/benchmarks.md). Empty views are not searched.
ABSENT_VIEWS = [i for i, v in enumerate(PIPELINE_QUERY_VIEWS) if v.startswith(("inset", "detail"))]
VIDEO_FRAMES = 600  # 5-minute archive videos


@dataclass(frozen=True)
class IndexBenchResult:
    frames: int
    queries: int
    p50_ms: float
    p95_ms: float
    p50_cpu_ms: float  # the same queries in CPU time of the querying thread (robust to a loaded machine)
    p95_cpu_ms: float
    recall: float  # share of the exact scan's stage-one hits the index also returns
    item_recall: float  # edited copies whose source video was matched
    false_matches: int  # unrelated queries that matched anything
    build_s: float
    rss_mb: float
    index_mb: float  # the index's arrays (codes included)
    raw_mb: float  # 8 bytes per stored hash
    exact_p50_ms: float
    exact_p95_ms: float
    exact_queries: int
    load_avg: float  # the machine's 1-minute load average at the end: wall times grow with it, CPU times less


def _clustered(rng: np.random.Generator, n: int) -> npt.NDArray[np.uint64]:
    flips = np.left_shift(np.uint64(1), rng.integers(0, 64, n).astype(np.uint64))
    cuts = rng.random(n) < 0.05
    flips[cuts] = rng.integers(0, 2**63, int(cuts.sum()), dtype=np.int64).astype(np.uint64)
    flips[::VIDEO_FRAMES] = rng.integers(0, 2**63, len(flips[::VIDEO_FRAMES]), dtype=np.int64).astype(np.uint64)
    return np.bitwise_xor.accumulate(flips)


def _edit(rng: np.random.Generator, hashes: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    out = hashes.copy()
    for k in range(len(out)):
        for bit in rng.choice(64, int(rng.integers(3, 8)), replace=False):
            out[k] ^= np.uint64(1) << np.uint64(bit)
    return out


# Archive hashes the exact scan compares per pass: 8 MB, so its temporaries stay in the heap and cache.
EXACT_CHUNK = 1 << 20


def _exact_scan(codes: npt.NDArray[np.uint64], probes: npt.NDArray[np.uint64], radius: int) -> set[tuple[int, int]]:
    found: set[tuple[int, int]] = set()
    for start in range(0, len(codes), EXACT_CHUNK):
        chunk = codes[start : start + EXACT_CHUNK]
        for row, h in enumerate(probes):
            pos = np.flatnonzero(np.bitwise_count(chunk ^ h) <= radius)
            found.update((row, start + int(p)) for p in pos)
    return found


def run_index_bench(frames: int, queries: int, exact_queries: int = 10, seed: int = 7,
                    log: Callable[[str], None] = print) -> IndexBenchResult:
    rng = np.random.default_rng(seed)
    log(f"generating {frames:,} clustered frame hashes …")
    codes = _clustered(rng, frames)
    times = (np.arange(VIDEO_FRAMES) / 2).astype(np.float32)
    # one view per frame: item i is frames i*VIDEO_FRAMES … (the last one may be shorter)
    items = [(i, min(VIDEO_FRAMES, frames - start), (0,)) for i, start in enumerate(range(0, frames, VIDEO_FRAMES))]
    index = MultiIndexHashIndex()
    t0 = time.perf_counter()
    index.build(codes, items)
    build_s = time.perf_counter() - t0
    log(f"built in {build_s:.1f} s")

    latencies: list[float] = []
    cpu_latencies: list[float] = []  # this thread's CPU time: what the query costs, whatever else the machine runs
    exact_latencies: list[float] = []
    for_exact: list[tuple[npt.NDArray[np.uint64], Hits]] = []
    found = expected = 0
    item_hits = edited = false_matches = 0
    qtimes = (np.arange(QUERY_FRAMES) / 2).astype(np.float32)
    for q in range(queries):
        query = rng.integers(0, 2**63, (QUERY_FRAMES, QUERY_VIEWS), dtype=np.int64).astype(np.uint64)
        query[:, ABSENT_VIEWS] = 0
        source = None
        if q % 2 == 0:
            source = int(rng.integers(0, frames // VIDEO_FRAMES))
            start = source * VIDEO_FRAMES + int(rng.integers(0, VIDEO_FRAMES - QUERY_FRAMES))
            query[:, 0] = _edit(rng, codes[start : start + QUERY_FRAMES])
            edited += 1
        t, cpu = time.perf_counter(), time.thread_time()
        hits = find_hits(index, query, 0, MAX_HAMMING)  # the pipeline's own two-stage search
        matched: list[int] = []
        for item in np.unique(hits.item_id).tolist():
            sel = hits.item_id == item
            sub = Hits(hits.query_row[sel], hits.item_id[sel], hits.frame[sel], hits.view[sel], hits.distance[sel])
            # Random hashes stand for both signals: each frame's hash is also its foreground hash.
            start_frame = item * VIDEO_FRAMES
            archive_fg = np.zeros((VIDEO_FRAMES, len(ARCHIVE_VIEWS)), dtype=np.uint64)
            stored = codes[start_frame : start_frame + VIDEO_FRAMES]
            archive_fg[: len(stored), 0] = stored
            if align_item(item, sub, qtimes, times, np.ones(QUERY_FRAMES, bool), 0.5, 60.0, query,
                          ArchiveMotion(archive_fg[: max(1, len(stored))])) is not None:
                matched.append(item)
        latencies.append((time.perf_counter() - t) * 1000)
        cpu_latencies.append((time.thread_time() - cpu) * 1000)
        if source is not None:
            item_hits += source in matched
        else:
            false_matches += bool(matched)
        if q < exact_queries:  # stage one again, untimed, to compare with the exact scan below
            probes = query[probe_frames(query[:, 0])].reshape(-1)
            probes = probes[probes != 0]
            for_exact.append((probes, index.search(probes, STAGE1_RADIUS)))
        if (q + 1) % 10 == 0:
            log(f"{q + 1}/{queries} queries, p95 so far {np.percentile(latencies, 95):.1f} ms")
    # after the timed queries, so the exact scan's passes over the whole archive don't evict their data
    for probes, stage1 in for_exact:
        t = time.perf_counter()
        truth = _exact_scan(codes, probes, STAGE1_RADIUS)
        exact_latencies.append((time.perf_counter() - t) * 1000)
        got = set(zip(stage1.query_row.tolist(), (stage1.item_id * VIDEO_FRAMES + stage1.frame).tolist(), strict=True))
        expected += len(truth)
        found += len(truth & got)

    index_bytes = index.nbytes()
    return IndexBenchResult(
        frames=frames, queries=queries,
        p50_ms=round(float(np.percentile(latencies, 50)), 2),
        p95_ms=round(float(np.percentile(latencies, 95)), 2),
        p50_cpu_ms=round(float(np.percentile(cpu_latencies, 50)), 2),
        p95_cpu_ms=round(float(np.percentile(cpu_latencies, 95)), 2),
        recall=round(found / expected, 4) if expected else 1.0,
        item_recall=round(item_hits / edited, 4) if edited else 1.0,
        false_matches=false_matches,
        build_s=round(build_s, 2),
        rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        index_mb=round(index_bytes / 2**20, 1),
        raw_mb=round(int(np.count_nonzero(codes)) * 8 / 2**20, 1),
        exact_p50_ms=round(float(np.percentile(exact_latencies, 50)), 2) if exact_latencies else 0.0,
        exact_p95_ms=round(float(np.percentile(exact_latencies, 95)), 2) if exact_latencies else 0.0,
        exact_queries=len(exact_latencies),
        load_avg=round(os.getloadavg()[0], 2),
    )


def result_json(result: IndexBenchResult) -> str:
    return json.dumps(asdict(result))
