"""The fast index answers exactly like the reference scan, and every process sees archive changes."""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import pytest

import service.match.matcher as matcher_module
import service.match.search as search
from service.archive import mih_kernel
from service.archive.index import ExactIndex
from service.archive.mih import SPLITS, MultiIndexHashIndex
from service.fingerprint.views import ALL_VIEWS
from service.models import ArchiveMetadata, VideoFingerprint
from service.pipeline import Pipeline
from service.settings import Settings
from tests.conftest import Media


def _clustered_fingerprint(rng: np.random.Generator, frames: int) -> VideoFingerprint:
    """Footage-like hashes: runs of near-identical frames with occasional cuts."""
    hashes = np.zeros((frames, len(ALL_VIEWS)), dtype=np.uint64)
    current = rng.integers(0, 2**63, len(ALL_VIEWS), dtype=np.int64).astype(np.uint64)
    for i in range(frames):
        if rng.random() < 0.1:
            current = rng.integers(0, 2**63, len(ALL_VIEWS), dtype=np.int64).astype(np.uint64)
        flips = np.uint64(1) << rng.integers(0, 64, len(ALL_VIEWS)).astype(np.uint64)
        current = current ^ flips
        hashes[i] = current
    return VideoFingerprint("phash-8x8", ALL_VIEWS, np.arange(frames, dtype=np.float32) / 2, hashes, frames / 2)


# name: (pointer bits, layout, compiled scan); "runs-numpy" is the pure-numpy scan the compiled one must equal
LAYOUTS = {"runs": (21, "runs", True), "runs-numpy": (21, "runs", False), "slot-pointers": (21, "blocks", True),
           "block-pointers": (12, "blocks", True)}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("radius", [0, 5, 8, 14])
def test_multi_index_hashing_equals_exact_scan(radius: int, layout: str) -> None:
    pointer_bits, table_layout, compiled = LAYOUTS[layout]
    rng = np.random.default_rng(radius)
    exact = ExactIndex()
    fast = MultiIndexHashIndex(pointer_bits, table_layout, compiled)  # type: ignore[arg-type]
    fps = {i: _clustered_fingerprint(rng, 80) for i in range(1, 30)}
    blank = fps[7].hashes.copy()  # blank views are never stored or returned
    blank[::3, 1:] = 0
    blank[-5:] = 0
    fps[7] = VideoFingerprint("phash-8x8", ALL_VIEWS, fps[7].times, blank, fps[7].duration)
    for i, fp in fps.items():
        exact.add(i, fp)
        fast.add(i, fp)
    empty = VideoFingerprint("phash-8x8", ALL_VIEWS, fps[9].times, np.zeros_like(fps[9].hashes), fps[9].duration)
    exact.add(99, empty)  # an item without one informative hash is still an item
    fast.add(99, empty)
    fast.compact()  # most items in the tables, a few in the delta:
    assert fast.layout == table_layout
    if pointer_bits < 21:
        assert fast._shift > 0, "the archive must be big enough for block pointers"
    for i in range(30, 34):
        fps[i] = _clustered_fingerprint(rng, 40)
        exact.add(i, fps[i])
        fast.add(i, fps[i])
    exact.remove(3)
    fast.remove(3)
    queries = fps[5].hashes[::7, 0] ^ (np.uint64(1) << rng.integers(0, 64, 12).astype(np.uint64))
    queries = np.concatenate([queries, fps[31].hashes[::9, ALL_VIEWS.index("c80_11")], fps[3].hashes[:4, 0],
                              fps[7].hashes[1::3, 2], np.asarray([0b111, 1 << 40], dtype=np.uint64)])

    def as_set(h: object) -> set[tuple[int, ...]]:
        return set(zip(h.query_row.tolist(), h.item_id.tolist(), h.frame.tolist(), h.view.tolist(),
                       h.distance.tolist(), strict=True))

    assert fast.item_ids() == exact.item_ids()
    expected = as_set(exact.search(queries, radius))
    assert expected, "the query set must have neighbours"
    assert as_set(fast.search(queries, radius)) == expected
    assert 3 not in {k[1] for k in as_set(fast.search(queries, radius))}
    items = {5, 31, 3, 7}
    assert as_set(fast.search_items(queries, radius, items)) == as_set(exact.search_items(queries, radius, items))
    fast.compact()  # everything in the tables, removals folded in
    assert as_set(fast.search(queries, radius)) == expected
    assert fast.item_ids() == exact.item_ids()


def test_two_stage_query_finds_the_same_matches(settings: Settings, media: Media,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    with Pipeline.from_settings(settings) as p:
        p.archive_add(str(media.original), ArchiveMetadata(title="A"))
        p.archive_add(str(media.other), ArchiveMetadata(title="B"))
        one_pass = {q: p.check(str(q), remember=False) for q in (media.excerpt_240p, media.compilation)}
    monkeypatch.setattr(search, "TWO_STAGE_MIN_HASHES", 0)
    with Pipeline.from_settings(settings.model_copy(update={"index_backend": "mih"})) as p:
        for q, report in one_pass.items():
            staged = p.check(str(q), remember=False)
            assert [m.item.id for m in staged.matches] == [m.item.id for m in report.matches]
            assert staged.matches[0].segments == report.matches[0].segments


def test_other_processes_see_additions_and_never_return_removed_items(settings: Settings, media: Media,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matcher_module, "INDEX_SYNC_S", 0.2)
    with Pipeline.from_settings(settings) as writer, Pipeline.from_settings(settings) as reader:
        assert reader.check(str(media.reencode), remember=False).verdict == "no_prior_match"
        item = writer.archive_add(str(media.original), ArchiveMetadata(title="A"))
        time.sleep(0.3)
        assert [m.item.id for m in reader.check(str(media.reencode), remember=False).matches] == [item.id]
        writer.archive_remove(item.id)
        assert reader.check(str(media.reencode), remember=False).matches == ()


@pytest.mark.parametrize("pointer_bits", [21, 12], ids=["slot-pointers", "block-pointers"])
def test_index_memory_is_at_most_twice_the_raw_hashes_plus_fixed_offsets(pointer_bits: int) -> None:
    """Random hashes share no substrings with their neighbours: the runs would not fit, blocks do."""
    rng = np.random.default_rng(1)
    frames, views = 20_000, 3
    codes = rng.integers(1, 2**63, frames * views, dtype=np.int64).astype(np.uint64)  # nothing to share
    items = [(i, 1000, (0, 1, 2)) for i in range(frames // 1000)]
    index = MultiIndexHashIndex(pointer_bits)
    index.build(codes, items)
    assert index.layout == "blocks"
    fixed = sum(((1 << bits) + 1) * 4 for _, bits in SPLITS)
    assert index.nbytes() <= 2 * codes.nbytes + fixed + 64 * len(items)
    hits = index.search(codes[::997], 0)
    assert sorted(hits.frame.tolist()) == sorted((np.arange(0, len(codes), 997) % 1000).tolist())


def test_footage_like_archive_gets_runs_within_the_memory_bound_and_stays_exact_at_100m_occupancy(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The layout 100M footage hashes get, at the bucket occupancy they get, on a small archive.

    At 100M footage hashes each 21-bit bucket lists ~17 runs. Here the hashes are confined to 2**11 values
    of each substring (the other bits zero), so 120,000 hashes crowd the buckets as densely, with runs,
    sketches and radii built as at full size; results must equal the exact scan.
    """
    rng = np.random.default_rng(3)
    frames = 120_000
    flips = np.left_shift(np.uint64(1), rng.choice([*range(0, 11), *range(21, 32), *range(42, 53)], frames)
                          .astype(np.uint64))
    flips[rng.random(frames) < 0.5] = 0  # a still moment: the frame hashes as the one before
    cuts = rng.random(frames) < 0.05
    dense = np.uint64(sum(((1 << 11) - 1) << s for s, _ in SPLITS))
    flips[cuts] = rng.integers(0, 2**63, int(cuts.sum()), dtype=np.int64).astype(np.uint64) & dense
    codes = np.bitwise_xor.accumulate(flips)
    codes[codes == 0] = 1
    codes[7::13] = 0  # blank views end runs
    items = [(i, 600, (0,)) for i in range(frames // 600)]
    index = MultiIndexHashIndex()
    index.build(codes, items)
    assert index.layout == "runs"
    runs_per_bucket = len(index._run_words[0]) / (1 << 11)
    assert runs_per_bucket > 10, "as crowded as 100M hashes' buckets"
    fixed = sum(((1 << bits) + 1) * 4 for _, bits in SPLITS)
    assert index.nbytes() <= 2 * int(np.count_nonzero(codes)) * 8 + fixed + 64 * len(items)
    stored = codes[codes != 0]
    queries = stored[rng.integers(0, len(stored), 120)] ^ (
        np.uint64(1) << rng.integers(0, 64, (120, 6)).astype(np.uint64)).sum(axis=1, dtype=np.uint64)
    queries = np.concatenate([queries, rng.integers(1, 2**63, 40, dtype=np.int64).astype(np.uint64) & dense])
    monkeypatch.setattr(mih_kernel, "FIRST_CAP", 16)  # the compiled scan outgrows its first buffer and reruns
    for radius in (5, 8):
        d = np.bitwise_count(queries[:, None] ^ codes[None, :])
        r, c = np.nonzero((d <= radius) & (codes != 0)[None, :])
        expected = set(zip(r.tolist(), c.tolist(), d[r, c].tolist(), strict=True))
        for compiled in (True, False):  # the compiled scan and the numpy one it must equal
            index.compiled = compiled
            hits = index.search(queries, radius)
            got = set(zip(hits.query_row.tolist(), (hits.item_id * 600 + hits.frame).tolist(),
                          hits.distance.tolist(), strict=True))
            assert len(expected) > len(queries) and got == expected


def test_bench_index_prints_its_figures_as_one_json_line(cli: Any) -> None:
    result = cli("bench", "index", "--frames", "30000", "--queries", "4", "--exact-queries", "2", "--json")
    assert result.exit_code == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["recall"] == 1.0 and figures["item_recall"] == 1.0 and figures["false_matches"] == 0
    assert figures["raw_mb"] == round(30000 * 8 / 2**20, 1)
    for key in ("p50_ms", "p95_ms", "p50_cpu_ms", "build_s", "rss_mb", "index_mb", "exact_p95_ms"):
        assert figures[key] > 0
