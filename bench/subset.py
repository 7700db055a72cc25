"""``python -m bench.subset``: the real-corpus figures of a chosen set of recordings, from a saved run.

The benchmark's own columns split by ``bench.real.HELD_OUT``. When a set of recordings must be reported
apart after the run (the recordings no threshold was looked at while tuning, say), this reads the raw
records of ``docs/results/accuracy-real.json`` and prints, per tool, recall on their copies and the
false matches of their hard negatives, counted as the benchmark counts them.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["figures", "main"]

ROOT = Path(__file__).resolve().parent.parent


def _false_match(record: dict[str, Any], tool: str) -> bool:
    """A content-differs negative matching anything; a static one matching another recording or unlabelled."""
    result = record.get(tool) or {}
    matched = result.get("matched") or []
    if record.get("scene") != "static":
        return bool(matched)
    own = record["recording"]
    if tool != "firstseen":
        return any(m != own for m in matched)
    return any(m["title"] != own or not m.get("static") for m in result.get("matches") or [])


def figures(records: Sequence[dict[str, Any]], recordings: set[str], tools: Sequence[str]) -> dict[str, Any]:
    mine = [r for r in records if r.get("recording") in recordings]
    positives = [r for r in mine if r.get("source")]
    negatives = [r for r in mine if r.get("negative")]
    out: dict[str, Any] = {"recordings": sorted(recordings), "copies": len(positives), "negatives": len(negatives)}
    for tool in tools:
        found = sum(1 for r in positives if (r.get(tool) or {}).get("top") == r["source"])
        out[tool] = {
            "recall": round(found / len(positives), 3) if positives else None,
            "found": found,
            "false_matches": sum(_false_match(r, tool) for r in negatives),
            "missed": sorted(r["query"] for r in positives if (r.get(tool) or {}).get("top") != r["source"]),
        }
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.subset", description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=ROOT / "docs" / "results" / "accuracy-real.json")
    parser.add_argument("--recordings", required=True, help="comma list of recording names")
    parser.add_argument("--tools", default="firstseen,vpdq")
    args = parser.parse_args(argv)
    records = json.loads(args.json.read_text())["raw"]["records"]
    print(json.dumps(figures(records, set(args.recordings.split(",")), args.tools.split(",")), indent=1))


if __name__ == "__main__":
    main()
