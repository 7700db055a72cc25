"""``python -m bench.startup``: how fast the CLI starts, this tree against an earlier commit, in the same run.

Each tree (this one, and ``--before``'s ``service/`` unpacked with ``git archive`` into a temporary folder) runs
the same commands as a user would, as fresh processes with that tree first on ``PYTHONPATH``, interleaved so the
machine's load moves both alike: ``firstseen --help`` and ``firstseen archive list --json`` on an empty home.
Each command runs ``--runs`` times per tree; the figure is the median wall time of a whole process (Python's own
start included). ``python -X importtime -c "import service.cli"`` gives the import cost of the CLI module itself.

Prints one JSON line; ``main`` also writes ``docs/results/startup.json`` and the block between
``<!-- startup:begin`` and ``<!-- startup:end -->`` in ``docs/benchmarks.md`` (appended if absent).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["measure", "write_docs"]

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "docs" / "results" / "startup.json"
BENCHMARKS = ROOT / "docs" / "benchmarks.md"
BEGIN = "<!-- startup:begin (written by python -m bench.startup) -->"
BEGIN_PREFIX = "<!-- startup:begin"
END = "<!-- startup:end -->"
# The commit before the CLI imported lazily (issue 15).
DEFAULT_BEFORE = "8c57912"
COMMANDS: dict[str, list[str]] = {"--help": ["--help"], "archive list": ["archive", "list", "--json"]}
CLI = "from service.cli import main; main()"


def _unpack(ref: str, dest: Path) -> Path:
    """``service/`` of commit ``ref`` under ``dest``."""
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "service"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def _env(tree: Path, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRSTSEEN_")}
    return env | {"PYTHONPATH": str(tree), "FIRSTSEEN_HOME": str(home)}


def _wall(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def _import_ms(env: dict[str, str], cwd: Path) -> float:
    """Cumulative microseconds of ``import service.cli`` by ``-X importtime``, in ms."""
    text = subprocess.run([sys.executable, "-X", "importtime", "-c", "import service.cli"], env=env, cwd=cwd,
                          check=True, capture_output=True, text=True).stderr
    found = re.search(r"\|\s*(\d+) \| service\.cli$", text, re.MULTILINE)
    if found is None:
        raise RuntimeError("no service.cli line in the -X importtime output")
    return int(found.group(1)) / 1000


def measure(before: str = DEFAULT_BEFORE, runs: int = 15) -> dict[str, Any]:
    """Median wall time of each command and the CLI module's import time, per tree."""
    load_average = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="firstseen-startup-") as tmp:
        trees = {"before": _unpack(before, Path(tmp) / "before"), "after": ROOT}
        homes = {name: Path(tmp) / f"home-{name}" for name in trees}
        cwd = Path(tmp)
        samples: dict[str, dict[str, list[float]]] = {n: {c: [] for c in COMMANDS} for n in trees}
        imports: dict[str, list[float]] = {n: [] for n in trees}
        for name, tree in trees.items():  # warm the page cache and create each home's database once
            for args in COMMANDS.values():
                _wall([sys.executable, "-c", CLI, *args], _env(tree, homes[name]), cwd)
        for _ in range(runs):
            for name, tree in trees.items():
                env = _env(tree, homes[name])
                for command, args in COMMANDS.items():
                    samples[name][command].append(_wall([sys.executable, "-c", CLI, *args], env, cwd))
                imports[name].append(_import_ms(env, cwd))
        python_alone = [_wall([sys.executable, "-c", "pass"], os.environ.copy(), cwd) for _ in range(runs)]
    result: dict[str, Any] = {"before_commit": before, "runs": runs, "load_average": round(load_average, 1),
                              "python_alone_ms": round(statistics.median(python_alone) * 1000, 1)}
    for name in trees:
        result[name] = {command: round(statistics.median(v) * 1000, 1) for command, v in samples[name].items()}
        result[name]["import service.cli"] = round(statistics.median(imports[name]), 1)
    result["ratio"] = {key: round(result["after"][key] / result["before"][key], 3) for key in result["after"]}
    return result


def _block(result: dict[str, Any], command: str) -> str:
    rows = "\n".join(f"| `{key}` | {result['before'][key]} | {result['after'][key]} | {result['ratio'][key]} |"
                     for key in result["after"])
    return f"""{BEGIN}
## CLI start-up (issue 15)

```sh
{command}
```

Medians of {result["runs"]} fresh processes per tree, interleaved in the same run (load average
{result["load_average"]} at the start); `before` is commit {result["before_commit"]}, when `service/cli.py` imported
settings, models, numpy and rich at the top. `import service.cli` is `python -X importtime`'s cumulative figure.
Python itself starts in {result["python_alone_ms"]} ms. `archive list` still builds a `Pipeline`, whose module
imports every stage (numpy, OpenCV, PyAV, yt-dlp): the CLI's own share of it is what went.

| command | before ms | after ms | after / before |
|---|---:|---:|---:|
{rows}
{END}"""


def write_docs(result: dict[str, Any], command: str, path: Path = BENCHMARKS) -> None:
    """Replace the start-up block of ``docs/benchmarks.md`` (append it if absent); nothing else changes."""
    block = _block(result, command)
    text = path.read_text() if path.is_file() else "# Benchmarks\n"
    start = text.find(BEGIN_PREFIX)
    end = text.find(END, start) if start >= 0 else -1
    if start >= 0 and end >= 0:
        text = text[:start] + block + text[end + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__.split("\n")[0])
    parser.add_argument("--before", default=DEFAULT_BEFORE, help="the commit to compare with")
    parser.add_argument("--runs", type=int, default=15, help="processes per command and tree")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/ alone")
    raw = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(raw)
    result = measure(args.before, args.runs)
    print(json.dumps(result))
    if not args.no_write:
        RESULT.parent.mkdir(parents=True, exist_ok=True)
        RESULT.write_text(json.dumps(result, indent=2) + "\n")
        write_docs(result, " ".join(["python -m bench.startup", *raw]))


if __name__ == "__main__":
    main()
