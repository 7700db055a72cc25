"""Past one machine: API replicas share the per-key rate limit through Redis, and a process's index follows
what other processes add through the archive's change feed, not by re-reading every item id."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from service.pipeline import Pipeline
from service.settings import Settings
from tests.conftest import Media
from tests.live_app import free_port, start_serve_process

EXE = str(Path(sys.executable).with_name("firstseen"))
REDIS_URL = os.environ.get("FIRSTSEEN_TEST_REDIS", "redis://127.0.0.1:6379/0")
PER_MINUTE = 6


def _env(home: Path, database_url: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRSTSEEN_")}
    env |= {"FIRSTSEEN_HOME": str(home), **extra}
    if database_url:
        env["FIRSTSEEN_DATABASE_URL"] = database_url
    return env


@pytest.fixture
def namespace() -> Iterator[str]:
    """A Redis namespace of this test's own, emptied afterwards."""
    name = f"fs-test-{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{name}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.mark.redis
def test_two_api_processes_sharing_redis_allow_one_key_its_rate_once_not_twice(
        home: Path, database_url: str | None, namespace: str) -> None:
    env = _env(home, database_url, FIRSTSEEN_REDIS_URL=REDIS_URL, FIRSTSEEN_REDIS_NAMESPACE=namespace,
               FIRSTSEEN_RATE_LIMIT_PER_MINUTE=str(PER_MINUTE))
    key = json.loads(subprocess.run([EXE, "keys", "create", "--role", "reader", "--json"], env=env, check=True,
                                    capture_output=True, text=True).stdout)["key"]
    servers = []
    try:
        for n in range(2):
            port = free_port()
            servers.append((start_serve_process(env, port, home.parent / f"serve-{n}.log"),
                            f"http://127.0.0.1:{port}"))
        answers: Counter[int] = Counter()
        retry_after = []
        for n in range(3 * PER_MINUTE):  # alternating between the replicas
            r = httpx.get(f"{servers[n % 2][1]}/api/v1/archive", headers={"Authorization": f"Bearer {key}"},
                          timeout=30)
            answers[r.status_code] += 1
            if r.status_code == 429:
                assert r.json()["error"]["code"] == "rate_limited", r.text
                retry_after.append(int(r.headers["Retry-After"]))
        assert answers == {200: PER_MINUTE, 429: 2 * PER_MINUTE}, answers
        assert all(1 <= s <= 60 for s in retry_after)
    finally:
        for proc, _url in servers:
            proc.send_signal(signal.SIGTERM)
        for proc, _url in servers:
            proc.wait(60)


def test_an_item_another_process_adds_is_found_within_a_second_without_rereading_every_id(
        home: Path, database_url: str | None, settings: Settings, media: Media) -> None:
    env = _env(home, database_url)
    with Pipeline.from_settings(settings) as reader:
        assert reader.check(str(media.reencode), remember=False).verdict == "no_prior_match"  # index built
        # The check's matching stage on its own: decoding the query takes longer than the second measured.
        query = reader.fingerprint(reader.fetch(str(media.reencode)))

        def full_reread() -> list[int]:
            raise AssertionError("the index re-read every item id")

        reader.store.item_ids = full_reread  # type: ignore[method-assign]
        added = json.loads(subprocess.run([EXE, "archive", "add", str(media.original), "--title", "A", "--json"],
                                          env=env, check=True, capture_output=True, text=True,
                                          timeout=300).stdout)
        committed = time.monotonic()
        found: list[int] = []
        while not found and time.monotonic() - committed < 1.0:
            found = [m.item.id for m in reader.match(query)]
        assert found == [added["id"]], "not found within 1 s of the other process's addition"
        # A removal made elsewhere is followed the same way.
        subprocess.run([EXE, "archive", "remove", str(added["id"])], env=env, check=True, capture_output=True,
                       timeout=120)
        removed = time.monotonic()
        while found and time.monotonic() - removed < 1.0:
            found = [m.item.id for m in reader.match(query)]
        assert found == [] and reader.index.item_ids() == set()


@pytest.mark.redis
def test_two_api_processes_hold_one_keys_upload_quota_once_not_twice(
        home: Path, database_url: str | None, namespace: str, media: Media) -> None:
    # Replicas behind one queue share the uploads folder (the workers read the files from it), so the quota
    # counted over that folder is one count for all of them. No worker runs here: uploads stay waiting.
    clip = media.reencode.read_bytes()
    env = _env(home, database_url, FIRSTSEEN_REDIS_URL=REDIS_URL, FIRSTSEEN_REDIS_NAMESPACE=namespace,
               FIRSTSEEN_MAX_UPLOAD_BYTES_PER_KEY=str(len(clip) * 3 // 2))
    keys = [json.loads(subprocess.run([EXE, "keys", "create", "--role", "reader", "--json"], env=env, check=True,
                                      capture_output=True, text=True).stdout)["key"] for _ in range(2)]
    servers = []
    try:
        for n in range(2):
            port = free_port()
            servers.append((start_serve_process(env, port, home.parent / f"serve-{n}.log"),
                            f"http://127.0.0.1:{port}"))

        def upload(replica: int, key: str) -> httpx.Response:
            return httpx.post(f"{servers[replica][1]}/api/v1/checks", headers={"Authorization": f"Bearer {key}"},
                              files={"file": ("clip.mp4", clip, "video/mp4")}, data={"remember": "false"},
                              timeout=60)

        assert upload(0, keys[0]).status_code == 202
        refused = upload(1, keys[0])  # the other replica: the first upload is still waiting for a worker
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "quota_exceeded", refused.text
        assert upload(1, keys[1]).status_code == 202  # another key's quota is its own
        assert len(list((home / "uploads").glob("k*-*"))) == 2  # nothing of the refused upload was kept
    finally:
        for proc, _url in servers:
            proc.send_signal(signal.SIGTERM)
        for proc, _url in servers:
            proc.wait(60)
