"""The benchmark commands docs/benchmarks.md cites still measure this tree (not an older one's functions)."""

from __future__ import annotations

from pathlib import Path

from bench.throughput import STAGE_CALLS, measure_stages


def test_stage_timing_finds_every_stage_it_names(tmp_path: Path) -> None:
    """``python -m bench.throughput --stages``: each stage's functions are found and called in one
    ``archive add`` (a stage nobody called would be missing from the result, a renamed module an error)."""
    stages = measure_stages("360p", 1, cache=tmp_path)["stages"]
    for stage in STAGE_CALLS:
        assert stage in stages, f"{stage} was never called"
        assert stages[stage]["wall_s"] >= 0.0
    assert stages["decode (sample frames)"]["cpu_s"] > 0.0
    assert stages["total archive_add"]["wall_s"] >= stages["decode (sample frames)"]["wall_s"]
