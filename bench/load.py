"""``python -m bench.load``: 50 concurrent clients against ``firstseen serve`` on loopback, bounded in time.

What it does, all real: makes small clips with ffmpeg (lavfi sources, nothing downloaded), starts
``firstseen serve`` as a subprocess on 127.0.0.1 with a temporary ``FIRSTSEEN_HOME`` (embedded SQLite unless
``--database-url``; the default worker process beside the API), makes an admin key with ``firstseen keys create``
and one reader key per client through ``POST /api/v1/keys``, seeds a small archive (``POST /api/v1/archive``)
and a few finished checks of excerpts of it. One client alone reads for ``baseline_s`` seconds (what a read
costs unloaded); then ``--clients`` asyncio clients (httpx, one key each, no
think time) loop until ``--duration`` seconds or ``--requests`` requests, twice: reads only, then with new
checks among them (the reads' percentiles of both runs, and the ratio of their p99, are the result). Each request
is drawn at random:

- reads: a check's report (``GET /api/v1/checks/{id}``), the archive list (``GET /api/v1/archive``),
  an evidence picture (``GET /api/v1/checks/{id}/evidence/{n}.jpg``);
- in the second run, about one request in ``1/--check-share``: a new check, a small clip uploaded as multipart
  (``remember=false``, so the archive the reads see stays the same size).

An error is any answer other than 200 for a read or 202 for a new check (a 429 included), or a transport
error. The server's per-key rate limit is raised to ``RATE_LIMIT_PER_MINUTE`` for the run, because the
clients have no think time and would otherwise measure the limiter (120 a minute a key) instead of the
service. A traceback in the server's log is an error too. After the load, the new checks are polled for up
to ``--drain`` seconds: each must end ``done`` or still be ``queued``/``running``; a ``failed`` one is an error.

Prints one JSON line; ``main`` also writes ``docs/results/load.json`` and the block between
``<!-- load:begin`` and ``<!-- load:end -->`` in ``docs/benchmarks.md`` (appended if absent; nothing
else in that file is touched).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.markdown import replace_block

__all__ = ["LoadConfig", "make_clips", "run_load", "serve", "write_docs"]

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "docs" / "results" / "load.json"
BENCHMARKS = ROOT / "docs" / "benchmarks.md"
BEGIN = "<!-- load:begin (written by python -m bench.load) -->"
BEGIN_PREFIX = "<!-- load:begin"
END = "<!-- load:end -->"
DOC_WIDTH = 115

# High enough that no client of the run reaches it; the limiter still runs on every request.
RATE_LIMIT_PER_MINUTE = 1_000_000
STARTUP_TIMEOUT_S = 60.0
SEED_WAIT_S = 60
READS = ("check", "archive", "evidence")
# The archive: three lavfi sources of real motion; checks are re-encoded, downscaled excerpts of them.
SOURCES = {
    "testsrc2": "testsrc2=size=480x270:rate=25",
    "mandelbrot": "mandelbrot=size=480x270:rate=25",
    "life": "life=size=480x270:rate=25:seed=7:ratio=0.2:mold=5",
}
SOURCE_SECONDS = 8
EXCERPT = ("2", "4")  # start, length in seconds


@dataclass(frozen=True)
class LoadConfig:
    clients: int = 50
    duration_s: float = 30.0  # each of the two runs
    max_requests: int = 20000
    check_share: float = 0.05
    drain_s: float = 900.0  # every accepted check must end: one worker process runs them one after another
    baseline_s: float = 5.0  # one client, reads only, before the load
    sources: int = len(SOURCES)  # archive clips, and one seed check of each
    seed: int = 1
    database_url: str | None = None


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in (*READS, "new_check")})
    errors: Counter[str] = field(default_factory=Counter)
    error_examples: list[str] = field(default_factory=list)
    new_checks: list[str] = field(default_factory=list)
    requests: int = 0

    def error(self, kind: str, what: str) -> None:
        self.errors[kind] += 1
        if len(self.error_examples) < 10:
            self.error_examples.append(f"{kind}: {what[:300]}")


@dataclass(frozen=True)
class Seeded:
    check_urls: list[str]
    evidence_urls: list[str]
    archive_items: int


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-threads", "1", *args], check=True)


def make_clips(folder: Path, count: int = len(SOURCES)) -> tuple[list[Path], list[Path]]:
    """(archive clips, check clips): each check clip a 240p re-encoded excerpt of an archive clip."""
    folder.mkdir(parents=True, exist_ok=True)
    originals, excerpts = [], []
    for name, source in list(SOURCES.items())[:count]:
        original = folder / f"{name}.mp4"
        ffmpeg("-f", "lavfi", "-i", source, "-t", str(SOURCE_SECONDS), "-c:v", "libx264", "-preset", "veryfast",
               "-pix_fmt", "yuv420p", str(original))
        excerpt = folder / f"{name}-excerpt.mp4"
        ffmpeg("-ss", EXCERPT[0], "-i", str(original), "-t", EXCERPT[1], "-vf", "scale=-2:240", "-c:v", "libx264",
               "-preset", "veryfast", "-b:v", "200k", "-pix_fmt", "yuv420p", "-an", str(excerpt))
        originals.append(original)
        excerpts.append(excerpt)
    return originals, excerpts


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _firstseen() -> list[str]:
    script = Path(sys.executable).with_name("firstseen")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from service.cli import main; main()"]


@dataclass(frozen=True)
class Server:
    url: str
    env: dict[str, str]
    log: Path


@contextmanager
def serve(home: Path, database_url: str | None = None) -> Iterator[Server]:
    """``firstseen serve`` on a free loopback port with its own home; stopped (SIGINT, then SIGKILL) on exit."""
    env = {**os.environ, "FIRSTSEEN_HOME": str(home), "FIRSTSEEN_RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT_PER_MINUTE),
           "FIRSTSEEN_ALLOW_HOSTS": "[]"}
    env.pop("FIRSTSEEN_REDIS_URL", None)  # the in-process worker, as `firstseen serve` runs by default
    if database_url:
        env["FIRSTSEEN_DATABASE_URL"] = database_url
    else:
        env.pop("FIRSTSEEN_DATABASE_URL", None)
    home.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    log = home / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([*_firstseen(), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"firstseen serve exited with {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"firstseen serve did not answer in {STARTUP_TIMEOUT_S:.0f} s")
            time.sleep(0.2)
        yield Server(url, env, log)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def _admin_key(server: Server) -> str:
    out = subprocess.run([*_firstseen(), "keys", "create", "--role", "admin", "--name", "load admin", "--json"],
                         env=server.env, check=True, capture_output=True, text=True).stdout
    key: str = json.loads(out)["key"]
    return key


def _reader_keys(client: httpx.Client, n: int) -> list[str]:
    keys = []
    for i in range(n):
        r = client.post("/api/v1/keys", json={"role": "reader", "name": f"load client {i}"})
        r.raise_for_status()
        keys.append(r.json()["key"])
    return keys


def _wait_job(client: httpx.Client, status_url: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = client.get(status_url, params={"wait": 10}).raise_for_status().json()
        if body["status"] in ("done", "failed") or time.monotonic() > deadline:
            return body


def seed(client: httpx.Client, originals: list[Path], excerpts: list[Path]) -> Seeded:
    """The archive clips with provenance, then one finished check of each excerpt, its evidence viewed once."""
    for n, clip in enumerate(originals):
        r = client.post("/api/v1/archive", params={"wait": SEED_WAIT_S},
                        files={"file": (clip.name, clip.read_bytes(), "video/mp4")},
                        data={"title": f"Load source {clip.stem}", "published": f"201{n}-03-01", "location": "Idlib"})
        if r.status_code != 201:
            raise RuntimeError(f"seeding the archive failed: {r.status_code} {r.text[:300]}")
    checks, evidence = [], []
    for clip in excerpts:
        r = client.post("/api/v1/checks", files={"file": (clip.name, clip.read_bytes(), "video/mp4")},
                        data={"claimed_date": "2024-02-01", "remember": "false"})
        r.raise_for_status()
        body = _wait_job(client, r.json()["status_url"], SEED_WAIT_S)
        if body["status"] != "done":
            raise RuntimeError(f"a seed check did not finish: {json.dumps(body)[:500]}")
        checks.append(r.json()["status_url"])
        evidence.extend(body["evidence"])
    for url in evidence:  # rendered once and cached under home/evidence: the load reads cached pictures
        client.get(url).raise_for_status()
    if not evidence:
        raise RuntimeError("the seed checks matched nothing, so there is no evidence picture to read")
    items = client.get("/api/v1/archive").raise_for_status().json()["items"]
    return Seeded(checks, evidence, len(items))


async def _client(url: str, key: str, seeded: Seeded, clips: list[tuple[str, bytes]], check_share: float,
                  deadline: float, budget: list[int], tally: Tally, rng: random.Random) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60.0) as client:
        while time.monotonic() < deadline and budget[0] > 0:
            budget[0] -= 1
            tally.requests += 1
            roll = rng.random()
            kind = "new_check" if roll < check_share else rng.choice(READS)
            started = time.perf_counter()
            try:
                if kind == "new_check":
                    name, data = rng.choice(clips)
                    r = await client.post("/api/v1/checks", files={"file": (name, data, "video/mp4")},
                                          data={"claimed_date": "2024-02-01", "remember": "false"})
                    expected = 202
                elif kind == "check":
                    r = await client.get(rng.choice(seeded.check_urls))
                    expected = 200
                elif kind == "archive":
                    r = await client.get("/api/v1/archive", params={"limit": 20})
                    expected = 200
                else:
                    r = await client.get(rng.choice(seeded.evidence_urls))
                    expected = 200
                await r.aread()
            except httpx.HTTPError as exc:
                tally.error(kind, f"{type(exc).__name__}: {exc}")
                continue
            elapsed = time.perf_counter() - started
            if r.status_code != expected:
                tally.error(kind, f"{r.status_code} {r.text}")
                continue
            tally.latencies[kind].append(elapsed)
            if kind == "new_check":
                tally.new_checks.append(r.json()["status_url"])


def _percentiles(values: list[float]) -> dict[str, float | int | None]:
    if len(values) < 2:
        return {"count": len(values), "p50_ms": None, "p95_ms": None, "p99_ms": None}
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {"count": len(values), "p50_ms": round(q[49] * 1000, 1), "p95_ms": round(q[94] * 1000, 1),
            "p99_ms": round(q[98] * 1000, 1), "max_ms": round(max(values) * 1000, 1)}


def _drain(client: httpx.Client, status_urls: list[str], drain_s: float) -> tuple[Counter[str], float]:
    """Poll the new checks until none is queued or running, or ``drain_s`` passed; how many end in each state."""
    started = time.monotonic()
    latest = dict.fromkeys(status_urls, "queued")
    pending = list(status_urls)
    while pending:
        still = []
        for url in pending:
            latest[url] = client.get(url).raise_for_status().json()["status"]
            if latest[url] in ("queued", "running"):
                still.append(url)
        pending = still
        if pending and time.monotonic() - started < drain_s:
            time.sleep(1.0)
        else:
            break
    return Counter(latest.values()), time.monotonic() - started


def _phase(url: str, keys: list[str], seeded: Seeded, clips: list[tuple[str, bytes]], check_share: float,
           config: LoadConfig, rng: random.Random) -> tuple[Tally, float]:
    """Every client looping for ``duration_s`` or ``max_requests`` in all; (tally, seconds taken)."""
    tally = Tally()
    started = time.monotonic()
    deadline = started + config.duration_s
    budget = [config.max_requests]

    async def load() -> None:
        await asyncio.gather(*(_client(url, key, seeded, clips, check_share, deadline, budget, tally,
                                       random.Random(rng.random())) for key in keys))

    asyncio.run(load())
    return tally, time.monotonic() - started


def run_load(config: LoadConfig, work: Path | None = None) -> dict[str, Any]:
    """The whole run (clips, server, keys, seed, load, drain); the result as a dict."""
    with tempfile.TemporaryDirectory(prefix="firstseen-load-") as tmp:
        base = work or Path(tmp)
        setup_started = time.monotonic()
        load_average = os.getloadavg()[0]  # other work on the machine when the run starts
        originals, excerpts = make_clips(base / "clips", config.sources)
        clips = [(p.name, p.read_bytes()) for p in excerpts]
        with serve(base / "home", config.database_url) as server:
            admin = _admin_key(server)
            with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {admin}"},
                              timeout=90.0) as admin_client:
                seeded = seed(admin_client, originals, excerpts)
                keys = _reader_keys(admin_client, config.clients)
                setup_s = time.monotonic() - setup_started
                rng = random.Random(config.seed)
                # one client, reads only: what a read costs when nobody else is asking
                baseline = Tally()
                asyncio.run(_client(server.url, keys[0], seeded, clips, 0.0, time.monotonic() + config.baseline_s,
                                    [config.max_requests], baseline, random.Random(rng.random())))
                # the same clients, reads only, then with new checks among them: the cost of running checks
                quiet, quiet_s = _phase(server.url, keys, seeded, clips, 0.0, config, random.Random(rng.random()))
                tally, elapsed = _phase(server.url, keys, seeded, clips, config.check_share, config,
                                        random.Random(rng.random()))
                states, drained = _drain(admin_client, tally.new_checks, config.drain_s)
        tracebacks = server.log.read_text(errors="replace").count("Traceback (most recent call last)")
        reads = [v for k in READS for v in tally.latencies[k]]
        quiet_reads = _percentiles([v for k in READS for v in quiet.latencies[k]])
        loaded_reads = _percentiles(reads)
        failed = states.get("failed", 0)
        result: dict[str, Any] = {
            "clients": config.clients,
            "duration_s": round(elapsed, 1),
            "requests": tally.requests,
            "requests_per_s": round(tally.requests / elapsed, 1) if elapsed else None,
            "errors": sum((tally.errors + quiet.errors + baseline.errors).values()) + failed + tracebacks,
            "errors_by_kind": dict(tally.errors + quiet.errors + baseline.errors)
            | ({"check_failed": failed} if failed else {}) | ({"server_traceback": tracebacks} if tracebacks else {}),
            "error_examples": baseline.error_examples + quiet.error_examples + tally.error_examples,
            "reads": loaded_reads,
            "reads_without_checks": quiet_reads | {"requests_per_s": round(quiet.requests / quiet_s, 1)},
            "p99_with_vs_without_checks": (round(loaded_reads["p99_ms"] / quiet_reads["p99_ms"], 2)  # type: ignore[operator]
                                           if loaded_reads["p99_ms"] and quiet_reads["p99_ms"] else None),
            "reads_by_kind": {k: _percentiles(tally.latencies[k]) for k in READS},
            "baseline_reads": _percentiles([v for k in READS for v in baseline.latencies[k]]),
            "new_checks": {
                "submitted": len(tally.latencies["new_check"]) + tally.errors.get("new_check", 0),
                "accepted": len(tally.new_checks),
                "upload_latency": _percentiles(tally.latencies["new_check"]),
                "done": states.get("done", 0),
                "failed": failed,
                "still_queued": states.get("queued", 0),
                "still_running": states.get("running", 0),
                "waited_s": round(drained, 1),
            },
            "seed": {"archive_items": seeded.archive_items, "checks": len(seeded.check_urls),
                     "evidence_pictures": len(seeded.evidence_urls)},
            "setup": {"database": "postgresql" if config.database_url else "sqlite",
                      "worker": "1 worker process beside the API", "rate_limit_per_minute": RATE_LIMIT_PER_MINUTE,
                      "check_share": config.check_share, "max_requests": config.max_requests,
                      "drain_s": config.drain_s, "duration_s": config.duration_s, "baseline_s": config.baseline_s,
                      "setup_s": round(setup_s, 1),
                      "cpus": os.cpu_count(), "load_average": round(load_average, 1),
                      "python": platform.python_version()},
        }
        return result


def _paragraph(text: str) -> str:
    return textwrap.fill(" ".join(text.split()), width=DOC_WIDTH, break_on_hyphens=False)


def _block(result: dict[str, Any], command: str) -> str:
    reads, quiet, checks, setup = result["reads"], result["reads_without_checks"], result["new_checks"], result["setup"]
    rows = "\n".join(
        f"| {name} | {r['count']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} |"
        for name, r in (("reads, no checks running", quiet), ("**reads, checks running**", reads),
                        *((f"`{k}`, checks running", result["reads_by_kind"][k]) for k in READS),
                        ("new check (upload, 202)", checks["upload_latency"]),
                        ("reads, one client alone (before the load)", result["baseline_reads"])))
    database = "PostgreSQL" if setup["database"] == "postgresql" else "the embedded SQLite"
    mean_wait = result["clients"] / result["requests_per_s"] if result["requests_per_s"] else 0
    what = _paragraph(f"""
        `bench/load.py` starts `firstseen serve` on 127.0.0.1 with a temporary `FIRSTSEEN_HOME` ({database}, the
        default: {setup["worker"]}), seeds {result["seed"]["archive_items"]} archive clips and
        {result["seed"]["checks"]} finished checks of excerpts of them, then runs {result["clients"]} concurrent
        clients (asyncio + httpx in one process, one reader key each, no think time) twice, {setup["duration_s"]:.0f} s
        each: first reads only, then with new checks among the requests. Each request is drawn at random: a check's
        report (`check`, `GET /api/v1/checks/{{id}}`), the archive list (`archive`), an evidence JPEG (`evidence`;
        the seed checks' pictures were viewed once while seeding, so these are cached reads), or, in the second run,
        one request in {round(1 / setup["check_share"])}, a new check of a small uploaded clip (multipart,
        `remember=false`). An error is any answer other than 200 for a read or 202 for a new check, a transport
        error, a new check that ends `failed`, or a traceback in the server's log. The per-key rate limit is raised
        to {RATE_LIMIT_PER_MINUTE:,} a minute for the run: clients without think time would otherwise measure the
        limiter (120 a minute a key by default), and a 429 would count as an error. Before the load, one client
        alone reads for {setup["baseline_s"]:.0f} s (the table's last row).""")
    load = _paragraph(f"""
        Client, server and worker share the machine's {setup["cpus"]} CPUs, which other work was also using (load
        average {setup["load_average"]} when the run started). With {result["clients"]} clients and no think time,
        a request mostly waits its turn: {result["clients"]} clients at {result["requests_per_s"]} requests a second
        is {mean_wait:.2f} s per round trip on average (Little's law), so the percentiles measure the queue in front
        of one server process as much as the work of a read.""")
    queued = _paragraph(f"""
        New checks: {checks["accepted"]} of {checks["submitted"]} accepted with 202 and queued. After
        {result["duration_s"]} s of load and {checks["waited_s"]} s of waiting, {checks["done"]} were done,
        {checks["still_queued"]} still queued, {checks["still_running"]} running and {checks["failed"]} failed. The
        worker process fingerprints them in order, niced, so a surge lengthens the queue instead of failing requests
        or slowing reads.""")
    return f"""{BEGIN}
## Load (issues 6 and 15)

```sh
{command}    # ~5 min: setup, twice {setup["duration_s"]:.0f} s of load, then the queued checks
```

{what}

**Reads' p99 with checks running: {result["p99_with_vs_without_checks"]}× the run without checks.
{result["requests"]} requests with checks, {result["requests_per_s"]} a second, {result["errors"]} errors.**

| request | count | p50 ms | p95 ms | p99 ms |
|---|---:|---:|---:|---:|
{rows}

{load}

{queued}
{END}"""


def write_docs(result: dict[str, Any], command: str, path: Path = BENCHMARKS) -> None:
    """Replace the load block of ``docs/benchmarks.md`` (append it if absent); nothing else changes."""
    replace_block(path, _block(result, command), BEGIN_PREFIX, END)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n")[0])
    defaults = LoadConfig()
    parser.add_argument("--clients", type=int, default=defaults.clients)
    parser.add_argument("--duration", type=float, default=defaults.duration_s, help="seconds of load")
    parser.add_argument("--requests", type=int, default=defaults.max_requests, help="stop after this many")
    parser.add_argument("--check-share", type=float, default=defaults.check_share,
                        help="share of requests that are new checks")
    parser.add_argument("--drain", type=float, default=defaults.drain_s,
                        help="seconds to wait for the new checks afterwards")
    parser.add_argument("--database-url", default=None, help="PostgreSQL instead of the embedded SQLite")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/ alone")
    raw = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(raw)
    config = LoadConfig(clients=args.clients, duration_s=args.duration, max_requests=args.requests,
                        check_share=args.check_share, drain_s=args.drain, database_url=args.database_url)
    result = run_load(config)
    print(json.dumps(result))
    if not args.no_write:
        RESULT.parent.mkdir(parents=True, exist_ok=True)
        RESULT.write_text(json.dumps(result, indent=2) + "\n")
        shown = ["$DATABASE_URL" if prev == "--database-url" else a
                 for prev, a in zip(["", *raw], raw, strict=False)]
        write_docs(result, " ".join(["python -m bench.load", *shown]))
    if result["errors"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
