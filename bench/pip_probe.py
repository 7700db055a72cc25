"""``python -m bench.pip_probe``: the real corpus's picture-in-picture copies, one line each — found or not, and
how well the region finder placed the inset (IoU of each inset candidate with the true inset).

With ``--true-inset`` the true inset is given to the matcher as the first inset candidate (the others follow):
what the matcher would do with a perfect region finder, so a miss is told apart as the finder's or the
matcher's. It archives the real corpus's window sources in a fresh archive (as ``bench.accuracy`` does) and
checks the copies through the public pipeline; on the same code its found/missed equal ``python -m
bench.accuracy --corpus real --edits pip60,pip40`` on these copies. Renders come from ``--cache`` (made there if
missing).
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

import service.fingerprint.views as views
from bench.accuracy import FirstseenTool, build_real_queries
from bench.edits import PIP_LAYOUTS
from bench.real import FOOTAGE
from service.decode.region import Rect, Regions, find_regions

__all__ = ["main"]


def _size(path: Path) -> tuple[int, int]:
    cap = cv2.VideoCapture(str(path))
    try:
        return int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    finally:
        cap.release()


@dataclass
class _Probe:
    """The copy being checked: its true inset (960 px wide picture) and what the region finder gave."""

    give_true: bool
    true: Rect | None = None
    scaled: Rect | None = None
    regions: Regions | None = None

    def start(self, true: Rect) -> None:
        self.true, self.scaled, self.regions = true, None, None

    def find_regions(self, frames: npt.NDArray[np.uint8]) -> Regions:
        found = find_regions(frames)
        if self.true is None or self.regions is not None:
            return found  # an archived source, or a second call for the same copy
        k = frames.shape[2] / 960  # the copies are 960 px wide; the decoder shrinks them
        t = self.true
        self.scaled = Rect(round(t.x0 * k), round(t.y0 * k), round(t.x1 * k), round(t.y1 * k))
        self.regions = found
        return replace(found, insets=(self.scaled, *found.insets)) if self.give_true else found

    def ious(self) -> list[float]:
        if self.regions is None or self.scaled is None:
            return []
        return [round(self.scaled.iou(r), 2) for r in self.regions.insets]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pip_probe", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=Path(".bench-cache"))
    parser.add_argument("--footage", type=Path, default=FOOTAGE)
    parser.add_argument("--split", choices=("tuned", "heldout", "all"), default="tuned")
    parser.add_argument("--edits", default="pip60,pip40", help="comma list of pip60, pip40")
    parser.add_argument("--sources", default=None, help="comma list of recording names (default: all)")
    parser.add_argument("--true-inset", action="store_true", help="give the matcher the true inset first")
    args = parser.parse_args(argv)
    edits = [e for e in args.edits.split(",") if e in PIP_LAYOUTS]
    if not edits:
        parser.error("--edits: pip60 and/or pip40")
    sources = args.sources.split(",") if args.sources else None
    corpus, queries = build_real_queries(args.cache, sources, args.split, edits, 1, args.footage)
    copies = [q for q in queries["window"] if q.edit in edits and q.source]
    probe = _Probe(args.true_inset)
    # The one place the probe reaches inside: which regions the fingerprint stage hashes.
    setattr(views, "find_regions", probe.find_regions)  # noqa: B010 (a module attribute, replaced on purpose)
    found_count = 0
    with tempfile.TemporaryDirectory(prefix="firstseen-pip-probe-") as home:
        tool = FirstseenTool(Path(home))
        for clip in corpus.window_sources.values():
            tool.add(clip.name, clip.path)
        for q in copies:
            assert q.source is not None
            width, height = _size(corpus.window_sources[q.source].path)
            probe.start(Rect(*PIP_LAYOUTS[q.edit].footage(width, height)))
            result, _matches, _verdict = tool.query(q.path)
            ok = result.top == q.source
            found_count += ok
            print(f"{'found ' if ok else 'MISSED'} {q.name:45s} insets IoU {probe.ious()}", flush=True)
        tool.close()
    print(f"{found_count} of {len(copies)} found{' (true inset given first)' if args.true_inset else ''}")


if __name__ == "__main__":
    main()
