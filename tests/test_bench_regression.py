"""The core of the accuracy benchmark as a regression guard: the hardest edits still find their source.

A few sources (generated scenes with a panning and a fixed camera, and the real
``bikes.mp4``) × the edits that defeat frame hashes most (mirror, 60% crop,
9:16 repost, 90° rotation, 40% picture-in-picture, large logo, 1.5× speed),
rendered with ffmpeg into the session's temp folder, checked through the real
pipeline. Hard negatives (the same camera and place, other moment, other
objects) must match nothing. The full benchmark is ``python -m bench.accuracy``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.accuracy import build_queries, evaluate, summarise

HARD_EDITS = ("hflip", "crop60_centre", "vertical_9x16", "rot90", "pip40", "logo_large", "speed_1.5")
# Recall floor over the 21 edited copies; the full benchmark runs at ≥ 0.97.
RECALL_FLOOR = 0.85


@pytest.fixture(scope="module")
def bench_result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    cache: Path = tmp_path_factory.mktemp("bench")
    clips, queries = build_queries(cache, small=True, edits=HARD_EDITS, workers=2,
                                   negative_edits=("plain", "hflip"))
    raw = evaluate(clips, queries, ["firstseen"], cache, progress=False)
    return summarise(raw)


def test_hardest_edits_find_their_source(bench_result: dict[str, Any]) -> None:
    overall = bench_result["overall"]["firstseen"]
    per_edit = {e: v["firstseen"]["recall"] for e, v in bench_result["per_edit"].items()}
    assert bench_result["positives"] == 3 * len(HARD_EDITS)
    assert overall["recall"] >= RECALL_FLOOR, per_edit
    assert overall["wrong_top"] == 0, per_edit


def test_hard_negatives_match_nothing(bench_result: dict[str, Any]) -> None:
    assert bench_result["negatives_hard"] == 4
    assert bench_result["overall"]["firstseen"]["false_matches_hard_negative"] == 0, bench_result["false_matches"]


def test_found_copies_are_placed_in_time(bench_result: dict[str, Any]) -> None:
    for edit, entry in bench_result["per_edit"].items():
        fs = entry["firstseen"]
        assert fs["mislocated"] == 0, edit
        if fs["segment_error_median_s"] is not None:
            assert fs["segment_error_median_s"] <= 2.0, (edit, fs)
