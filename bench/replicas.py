"""``python -m bench.replicas``: two API replicas and two workers on loopback, sharing PostgreSQL and Redis.

Past one machine (issue 15, part 3), measured on one: a fresh PostgreSQL database (created on
``--pg-admin-url``'s server, dropped afterwards) and a Redis namespace of the run's own (its keys deleted
afterwards), then, all as subprocesses with one ``FIRSTSEEN_HOME`` (uploads are files the workers read):

- two ``firstseen serve`` on their own loopback ports (with ``FIRSTSEEN_REDIS_URL`` set they run no job
  themselves: they enqueue on Redis, count the per-key rate in Redis and follow the archive's change feed);
- two ``firstseen worker`` consuming that queue.

The archive is seeded and the finished seed checks made through replica A; then ``--clients`` clients (bench.load's,
half on each replica, one reader key each, no think time) run twice for ``--duration`` seconds: reads only, then
with new checks among the requests (one in ``1/--check-share``). Afterwards every accepted check is polled, at the
replica that did *not* accept it, until it ends or ``--drain`` seconds passed: each must end ``done``. Each
worker's log says which jobs it completed, so the result shows both workers took part.

Prints one JSON line; ``main`` also writes ``docs/results/replicas.json`` and the block between
``<!-- replicas:begin`` and ``<!-- replicas:end -->`` in ``docs/benchmarks.md`` (appended if absent).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.load import (
    READS,
    STARTUP_TIMEOUT_S,
    Seeded,
    Server,
    Tally,
    _admin_key,
    _client,
    _firstseen,
    _free_port,
    _paragraph,
    _percentiles,
    _reader_keys,
    make_clips,
    seed,
)
from bench.markdown import replace_block

__all__ = ["ReplicaConfig", "run_replicas", "write_docs"]

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "docs" / "results" / "replicas.json"
BENCHMARKS = ROOT / "docs" / "benchmarks.md"
BEGIN = "<!-- replicas:begin (written by python -m bench.replicas) -->"
BEGIN_PREFIX = "<!-- replicas:begin"
END = "<!-- replicas:end -->"

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"
# High enough that no client reaches it (the clients have no think time); the Redis limiter still runs.
RATE_LIMIT_PER_MINUTE = 1_000_000
REPLICAS = 2
WORKERS = 2


@dataclass(frozen=True)
class ReplicaConfig:
    clients: int = 40
    duration_s: float = 20.0  # each of the two runs
    check_share: float = 0.02
    drain_s: float = 300.0
    max_requests: int = 20000
    sources: int = 3  # archive clips, and one seed check of each
    seed: int = 1
    pg_admin_url: str = PG_ADMIN_URL
    redis_url: str = REDIS_URL


@contextmanager
def _fresh_database(admin_url: str) -> Iterator[str]:
    import psycopg

    name = f"fs_replicas_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def _fresh_namespace(redis_url: str) -> Iterator[str]:
    import redis

    name = f"fs-replicas-{uuid.uuid4().hex[:10]}"
    try:
        yield name
    finally:
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(f"{name}:*"))
        if keys:
            client.delete(*keys)
        client.close()


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    for proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _wait_healthy(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"firstseen serve exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"firstseen serve did not answer in {STARTUP_TIMEOUT_S:.0f} s")
        time.sleep(0.2)


@contextmanager
def cluster(base: Path, database_url: str, redis_url: str, namespace: str) -> Iterator[tuple[list[Server], list[Path]]]:
    """Two ``firstseen serve`` and two ``firstseen worker`` on one database, Redis namespace and home."""
    home = base / "home"
    home.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRSTSEEN_")}
    env |= {"FIRSTSEEN_HOME": str(home), "FIRSTSEEN_DATABASE_URL": database_url, "FIRSTSEEN_REDIS_URL": redis_url,
            "FIRSTSEEN_REDIS_NAMESPACE": namespace, "FIRSTSEEN_RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT_PER_MINUTE),
            "FIRSTSEEN_ALLOW_HOSTS": "[]"}
    procs: list[subprocess.Popen[bytes]] = []
    servers: list[Server] = []
    worker_logs = [base / f"worker-{n}.log" for n in range(WORKERS)]
    try:
        for n in range(REPLICAS):
            port = _free_port()
            log = base / f"serve-{n}.log"
            with log.open("wb") as out:
                procs.append(subprocess.Popen([*_firstseen(), "serve", "--host", "127.0.0.1", "--port", str(port)],
                                              env=env, stdout=out, stderr=subprocess.STDOUT))
            servers.append(Server(f"http://127.0.0.1:{port}", env, log))
            _wait_healthy(procs[-1], servers[-1].url, log)  # one at a time: both would migrate the new database
        for log in worker_logs:
            with log.open("wb") as out:
                procs.append(subprocess.Popen([*_firstseen(), "worker"], env=env, stdout=out,
                                              stderr=subprocess.STDOUT))
        yield servers, worker_logs
    finally:
        _stop(procs)


def _phase(servers: list[Server], keys: list[str], seeded: Seeded, clips: list[tuple[str, bytes]],
           check_share: float, config: ReplicaConfig, rng: random.Random) -> tuple[list[Tally], float]:
    """Client i on replica i mod 2, all looping for ``duration_s``; (one tally per replica, seconds taken)."""
    tallies = [Tally() for _ in servers]
    started = time.monotonic()
    deadline = started + config.duration_s
    budget = [config.max_requests]

    async def load() -> None:
        await asyncio.gather(*(
            _client(servers[i % len(servers)].url, key, seeded, clips, check_share, deadline, budget,
                    tallies[i % len(servers)], random.Random(rng.random()))
            for i, key in enumerate(keys)))

    asyncio.run(load())
    return tallies, time.monotonic() - started


def _other_replica(status_url: str, servers: list[Server], accepted_by: int) -> str:
    """The same job's status as the replica that did not accept it answers it."""
    path = status_url.split("://", 1)[-1].split("/", 1)[-1]
    return f"{servers[(accepted_by + 1) % len(servers)].url}/{path}"


def _drain(client: httpx.Client, urls: list[str], drain_s: float) -> tuple[Counter[str], float]:
    started = time.monotonic()
    latest = dict.fromkeys(urls, "queued")
    pending = list(urls)
    while pending:
        for url in pending:
            latest[url] = client.get(url).raise_for_status().json()["status"]
        pending = [u for u in pending if latest[u] in ("queued", "running")]
        if not pending or time.monotonic() - started > drain_s:
            break
        time.sleep(1.0)
    return Counter(latest.values()), time.monotonic() - started


def _reads(tallies: list[Tally]) -> list[float]:
    return [v for t in tallies for k in READS for v in t.latencies[k]]


def run_replicas(config: ReplicaConfig, work: Path | None = None) -> dict[str, Any]:
    """The whole run (database, namespace, clips, cluster, keys, seed, two phases, drain); the result."""
    load_average = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="firstseen-replicas-") as tmp, \
            _fresh_database(config.pg_admin_url) as database_url, _fresh_namespace(config.redis_url) as namespace:
        base = work or Path(tmp)
        setup_started = time.monotonic()
        originals, excerpts = make_clips(base / "clips", config.sources)
        clips = [(p.name, p.read_bytes()) for p in excerpts]
        with cluster(base, database_url, config.redis_url, namespace) as (servers, worker_logs):
            admin = _admin_key(servers[0])
            with httpx.Client(base_url=servers[0].url, headers={"Authorization": f"Bearer {admin}"},
                              timeout=90.0) as admin_client:
                seeded = seed(admin_client, originals, excerpts)
                keys = _reader_keys(admin_client, config.clients)
                setup_s = time.monotonic() - setup_started
                rng = random.Random(config.seed)
                quiet, quiet_s = _phase(servers, keys, seeded, clips, 0.0, config, random.Random(rng.random()))
                loaded, loaded_s = _phase(servers, keys, seeded, clips, config.check_share, config,
                                          random.Random(rng.random()))
                accepted = [(url, n) for n, t in enumerate(loaded) for url in t.new_checks]
                states, drained = _drain(admin_client, [_other_replica(u, servers, n) for u, n in accepted],
                                         config.drain_s)
            logs = [s.log.read_text(errors="replace") for s in servers]
            worker_texts = [p.read_text(errors="replace") for p in worker_logs]
    completed = [len(re.findall(r"completed job \S+: done", text)) for text in worker_texts]
    tracebacks = sum(text.count("Traceback (most recent call last)") for text in [*logs, *worker_texts])
    errors = Counter[str]()
    examples: list[str] = []
    for t in [*quiet, *loaded]:
        errors += t.errors
        examples += t.error_examples
    quiet_reads, loaded_reads = _percentiles(_reads(quiet)), _percentiles(_reads(loaded))
    requests = sum(t.requests for t in loaded)
    not_done = len(accepted) - states.get("done", 0)
    return {
        "replicas": REPLICAS,
        "workers": WORKERS,
        "clients": config.clients,
        "reads_without_checks": quiet_reads | {"requests_per_s": round(sum(t.requests for t in quiet) / quiet_s, 1)},
        "reads": loaded_reads | {"requests_per_s": round(requests / loaded_s, 1)},
        "p99_with_vs_without_checks": (round(loaded_reads["p99_ms"] / quiet_reads["p99_ms"], 2)  # type: ignore[operator]
                                       if loaded_reads["p99_ms"] and quiet_reads["p99_ms"] else None),
        "reads_by_replica": [_percentiles(_reads([t])) for t in loaded],
        "new_checks": {
            "submitted": sum(len(t.latencies["new_check"]) + t.errors.get("new_check", 0) for t in loaded),
            "accepted": len(accepted),
            "accepted_by_replica": [len(t.new_checks) for t in loaded],
            "upload_latency": _percentiles([v for t in loaded for v in t.latencies["new_check"]]),
            "states": dict(states),
            "all_done": not_done == 0,
            "waited_s": round(drained, 1),
            "completed_by_worker": completed,
        },
        "errors": sum(errors.values()) + not_done + tracebacks,
        "errors_by_kind": dict(errors) | ({"check_not_done": not_done} if not_done else {})
        | ({"traceback": tracebacks} if tracebacks else {}),
        "error_examples": examples[:10],
        "seed": {"archive_items": seeded.archive_items, "checks": len(seeded.check_urls)},
        "setup": {"database": "postgresql", "queue": "redis", "duration_s": config.duration_s,
                  "check_share": config.check_share, "drain_s": config.drain_s, "setup_s": round(setup_s, 1),
                  "rate_limit_per_minute": RATE_LIMIT_PER_MINUTE, "cpus": os.cpu_count(),
                  "load_average": round(load_average, 1), "python": platform.python_version()},
    }


def _block(result: dict[str, Any], command: str) -> str:
    quiet, reads, checks, setup = (result["reads_without_checks"], result["reads"], result["new_checks"],
                                   result["setup"])
    rows = "\n".join(
        f"| {name} | {r['count']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} |"
        for name, r in (("reads, no checks running", quiet), ("**reads, checks running**", reads),
                        *((f"reads at replica {'AB'[n]}, checks running", r)
                          for n, r in enumerate(result["reads_by_replica"])),
                        ("new check (upload, 202)", checks["upload_latency"])))
    what = _paragraph(f"""
        `bench/replicas.py` starts two `firstseen serve` and two `firstseen worker` processes on 127.0.0.1 sharing
        one fresh PostgreSQL database, one Redis namespace and one `FIRSTSEEN_HOME`; the replicas enqueue checks on
        Redis and the workers run them. {result["clients"]} clients (bench.load's: asyncio + httpx in one process,
        one reader key each, no think time), half on each replica, read checks' reports, the archive list and
        evidence pictures for {setup["duration_s"]:.0f} s, then again with one request in
        {round(1 / setup["check_share"])} a new check of a small uploaded clip. Each accepted check is then polled
        at the replica that did not accept it until it ends. Client, replicas, workers, PostgreSQL and Redis share
        the machine's {setup["cpus"]} CPUs (load average {setup["load_average"]} when the run started).""")
    done = _paragraph(f"""
        New checks: {checks["accepted"]} of {checks["submitted"]} accepted ({checks["accepted_by_replica"][0]} at A,
        {checks["accepted_by_replica"][1]} at B); after {checks["waited_s"]} s of waiting their states were
        {json.dumps(checks["states"])}; the workers completed {checks["completed_by_worker"][0]} and
        {checks["completed_by_worker"][1]} jobs ({result["seed"]["archive_items"]} archive additions and
        {result["seed"]["checks"]} checks of the seed included).""")
    headline = _paragraph(f"""
        **Reads' p99 with checks running: {result["p99_with_vs_without_checks"]}× the run without; every accepted check
        done: {"yes" if checks["all_done"] else "NO"}; {result["errors"]} errors.** Reads a second:
        {quiet["requests_per_s"]} without checks, {reads["requests_per_s"]} with them (the workers take CPU from the
        replicas: one machine).""")
    return f"""{BEGIN}
## Two API replicas and two workers (issue 15)

```sh
{command}
```

{what}

{headline}

| request | count | p50 ms | p95 ms | p99 ms |
|---|---:|---:|---:|---:|
{rows}

{done}
{END}"""


def write_docs(result: dict[str, Any], command: str, path: Path = BENCHMARKS) -> None:
    """Replace the replicas block of ``docs/benchmarks.md`` (append it if absent); nothing else changes."""
    replace_block(path, _block(result, command), BEGIN_PREFIX, END)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.replicas", description=__doc__.split("\n")[0])
    defaults = ReplicaConfig()
    parser.add_argument("--clients", type=int, default=defaults.clients)
    parser.add_argument("--duration", type=float, default=defaults.duration_s, help="seconds of each run")
    parser.add_argument("--check-share", type=float, default=defaults.check_share,
                        help="share of requests that are new checks in the second run")
    parser.add_argument("--drain", type=float, default=defaults.drain_s,
                        help="seconds to wait for the new checks afterwards")
    parser.add_argument("--pg-admin-url", default=defaults.pg_admin_url,
                        help="a PostgreSQL database on the server to create the run's database on")
    parser.add_argument("--redis-url", default=defaults.redis_url)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/ alone")
    raw = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(raw)
    config = ReplicaConfig(clients=args.clients, duration_s=args.duration, check_share=args.check_share,
                           drain_s=args.drain, pg_admin_url=args.pg_admin_url, redis_url=args.redis_url)
    result = run_replicas(config)
    print(json.dumps(result))
    if not args.no_write:
        RESULT.parent.mkdir(parents=True, exist_ok=True)
        RESULT.write_text(json.dumps(result, indent=2) + "\n")
        write_docs(result, " ".join(["python -m bench.replicas", *raw]))
    if result["errors"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
