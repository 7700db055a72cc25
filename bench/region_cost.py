"""``python -m bench.region_cost CLIP [CLIP ...]``: CPU seconds ``find_regions`` spends on these videos.

Decodes each clip as a check does (``sample_frames`` at 2 frames a second), runs ``find_regions`` once to warm
up, then three passes over all of them, and prints one JSON line: the ``service`` tree it imported and the mean
CPU seconds of a pass. To compare trees, run it with ``PYTHONPATH=<tree>`` for each, interleaved.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import service
from service.decode.frames import sample_frames
from service.decode.region import find_regions

__all__ = ["main"]

PASSES = 3


def main(argv: list[str] | None = None) -> None:
    clips = [Path(p) for p in (sys.argv[1:] if argv is None else argv)]
    if not clips:
        raise SystemExit("usage: python -m bench.region_cost CLIP [CLIP ...]")
    videos = [sample_frames(c, 2.0).frames for c in clips]
    find_regions(videos[0])
    started = time.process_time()
    for _ in range(PASSES):
        for frames in videos:
            find_regions(frames)
    print(json.dumps({"tree": service.__file__, "videos": len(videos),
                      "cpu_s_per_pass": round((time.process_time() - started) / PASSES, 3)}))


if __name__ == "__main__":
    main()
