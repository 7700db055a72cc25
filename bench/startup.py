"""``python -m bench.startup``: how fast the CLI starts, this tree against an earlier commit, in the same run.

Each tree (this one, and ``--before``'s ``service/`` unpacked with ``git archive`` into a temporary folder) runs
the same commands as a user would, as fresh processes with that tree first on ``PYTHONPATH``, interleaved so the
machine's load moves all alike: ``firstseen --help``, ``firstseen archive list --json`` on an empty home, and
``firstseen archive list`` on a small archive (``SMALL_ARCHIVE`` short generated clips, added by each tree's own
``archive add`` before timing starts). ``--before`` may be given more than once: each commit is its own tree.
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

from bench.markdown import replace_block

__all__ = ["measure", "write_docs"]

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "docs" / "results" / "startup.json"
BENCHMARKS = ROOT / "docs" / "benchmarks.md"
BEGIN = "<!-- startup:begin (written by python -m bench.startup) -->"
BEGIN_PREFIX = "<!-- startup:begin"
END = "<!-- startup:end -->"
# The commit before the CLI imported lazily (issue 15), and the one before small commands stopped building a
# Pipeline (issue 15, second part).
DEFAULT_BEFORE = ("8c57912", "21a3eb9")
SMALL_ARCHIVE = 5
# name -> (arguments, which home: the empty one or the small archive)
COMMANDS: dict[str, tuple[list[str], str]] = {
    "--help": (["--help"], "empty"),
    "archive list": (["archive", "list", "--json"], "empty"),
    f"archive list, {SMALL_ARCHIVE} items": (["archive", "list"], "small"),
}
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


def _clips(folder: Path) -> list[Path]:
    """``SMALL_ARCHIVE`` distinct 3-second clips (tests/media.py's generator)."""
    from tests.media import scene

    folder.mkdir()
    return [scene(folder / f"clip{i}.mp4", seed=100 + i, seconds=3.0, size=(320, 180)) for i in range(SMALL_ARCHIVE)]


def _imports_of_command_ms(args: list[str], env: dict[str, str], cwd: Path) -> float:
    """Everything a whole command imports by ``-X importtime`` (the sum of its top-level imports), in ms."""
    text = subprocess.run([sys.executable, "-X", "importtime", "-c", CLI, *args], env=env, cwd=cwd, check=True,
                          capture_output=True, text=True).stderr
    return sum(int(us) for us in re.findall(r"^import time:\s+\d+ \|\s*(\d+) \| \S", text, re.MULTILINE)) / 1000


def measure(before: tuple[str, ...] = DEFAULT_BEFORE, runs: int = 15) -> dict[str, Any]:
    """Median wall time of each command and the CLI module's import time, per tree."""
    load_average = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="firstseen-startup-") as tmp:
        trees = {ref: _unpack(ref, Path(tmp) / f"before-{ref}") for ref in before} | {"after": ROOT}
        homes = {(name, kind): Path(tmp) / f"home-{name}-{kind}" for name in trees for kind in ("empty", "small")}
        cwd = Path(tmp)
        clips = _clips(Path(tmp) / "clips")
        samples: dict[str, dict[str, list[float]]] = {n: {c: [] for c in COMMANDS} for n in trees}
        imports: dict[str, list[float]] = {n: [] for n in trees}
        command_imports: dict[str, list[float]] = {n: [] for n in trees}
        small_list = COMMANDS[f"archive list, {SMALL_ARCHIVE} items"][0]
        for name, tree in trees.items():  # fill the small archives, warm the page cache, create the databases
            for i, clip in enumerate(clips):
                _wall([sys.executable, "-c", CLI, "archive", "add", str(clip), "--title", f"clip {i}"],
                      _env(tree, homes[name, "small"]), cwd)
            for args, kind in COMMANDS.values():
                _wall([sys.executable, "-c", CLI, *args], _env(tree, homes[name, kind]), cwd)
        for _ in range(runs):
            for name, tree in trees.items():
                for command, (args, kind) in COMMANDS.items():
                    env = _env(tree, homes[name, kind])
                    samples[name][command].append(_wall([sys.executable, "-c", CLI, *args], env, cwd))
                imports[name].append(_import_ms(_env(tree, homes[name, "empty"]), cwd))
                command_imports[name].append(_imports_of_command_ms(small_list, _env(tree, homes[name, "small"]), cwd))
        python_alone = [_wall([sys.executable, "-c", "pass"], os.environ.copy(), cwd) for _ in range(runs)]
    result: dict[str, Any] = {"before_commits": list(before), "runs": runs, "load_average": round(load_average, 1),
                              "python_alone_ms": round(statistics.median(python_alone) * 1000, 1)}
    for name in trees:
        result[name] = {command: round(statistics.median(v) * 1000, 1) for command, v in samples[name].items()}
        result[name]["import service.cli"] = round(statistics.median(imports[name]), 1)
        result[name][f"imports of archive list, {SMALL_ARCHIVE} items"] = round(
            statistics.median(command_imports[name]), 1)
    result["ratio"] = {ref: {key: round(result["after"][key] / result[ref][key], 3) for key in result["after"]}
                       for ref in before}
    return result


def _block(result: dict[str, Any], command: str) -> str:
    refs = result["before_commits"]
    header = "| command | " + " | ".join(f"{ref} ms" for ref in refs) + " | after ms | " + " | ".join(
        f"after / {ref}" for ref in refs) + " |"
    rule = "|---|" + "---:|" * (2 * len(refs) + 1)
    rows = "\n".join(
        f"| `{key}` | " + " | ".join(str(result[ref][key]) for ref in refs) + f" | {result['after'][key]} | "
        + " | ".join(str(result["ratio"][ref][key]) for ref in refs) + " |"
        for key in result["after"])
    return f"""{BEGIN}
## CLI start-up (issue 15)

```sh
{command}
```

Medians of {result["runs"]} fresh processes per tree, interleaved in the same run (load average
{result["load_average"]} at the start). 8c57912 is the commit before `service/cli.py` imported settings, models,
numpy and rich in the command bodies; 21a3eb9 the one before commands that only read the archive (`archive list`,
`show`, `audit`, `export`, `footage show`, `sources list`, `prune`, `report`'s JSON) opened the store without
building a `Pipeline`, whose module imports every stage (OpenCV, PyAV, yt-dlp, the index). What `archive list`
still imports it uses: SQLAlchemy, the archive's models (numpy), pydantic-settings and rich's table.
`import service.cli` is `python -X importtime`'s cumulative figure for that module, `imports of archive list`
the sum of every top-level import `python -X importtime` reports for the whole command. Python itself starts in
{result["python_alone_ms"]} ms.

{header}
{rule}
{rows}
{END}"""


def write_docs(result: dict[str, Any], command: str, path: Path = BENCHMARKS) -> None:
    """Replace the start-up block of ``docs/benchmarks.md`` (append it if absent); nothing else changes."""
    replace_block(path, _block(result, command), BEGIN_PREFIX, END)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__.split("\n")[0])
    parser.add_argument("--before", action="append", help="a commit to compare with (repeatable; default "
                        + " and ".join(DEFAULT_BEFORE) + ")")
    parser.add_argument("--runs", type=int, default=15, help="processes per command and tree")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/ alone")
    raw = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(raw)
    result = measure(tuple(args.before or DEFAULT_BEFORE), args.runs)
    print(json.dumps(result))
    if not args.no_write:
        RESULT.parent.mkdir(parents=True, exist_ok=True)
        RESULT.write_text(json.dumps(result, indent=2) + "\n")
        write_docs(result, " ".join(["python -m bench.startup", *raw]))


if __name__ == "__main__":
    main()
