"""Two ``firstseen worker`` processes on real Redis and PostgreSQL: killing one mid-job loses nothing."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from service.jobs import JobStore, queue_for
from service.jobs.redis_queue import RedisQueue
from service.pipeline import Pipeline
from service.settings import Settings
from tests.conftest import PG_ADMIN_URL, Media, fresh_pg_database

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

REDIS_URL = os.environ.get("FIRSTSEEN_TEST_REDIS", "redis://127.0.0.1:6379/0")
HEARTBEAT_TIMEOUT_S = 3.0
DEADLINE_S = 150.0


@pytest.fixture
def shared(tmp_path: Path) -> Iterator[Settings]:
    """Settings every process shares: a fresh PostgreSQL database and a Redis namespace of this test's own."""
    namespace = f"fs-test-{uuid.uuid4().hex[:10]}"
    client = redis.Redis.from_url(REDIS_URL)
    with fresh_pg_database(PG_ADMIN_URL) as url:
        try:
            yield Settings(home=tmp_path / "home", database_url=url, redis_url=REDIS_URL,
                           redis_namespace=namespace, worker_heartbeat_timeout_s=HEARTBEAT_TIMEOUT_S)
        finally:
            keys = list(client.scan_iter(f"{namespace}:*"))
            if keys:
                client.delete(*keys)
            client.close()


def _start_worker(settings: Settings, log_path: Path, **extra_env: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FIRSTSEEN_HOME": str(settings.home), "FIRSTSEEN_DATABASE_URL": str(settings.database_url),
           "FIRSTSEEN_REDIS_URL": str(settings.redis_url), "FIRSTSEEN_REDIS_NAMESPACE": settings.redis_namespace,
           "FIRSTSEEN_WORKER_HEARTBEAT_TIMEOUT_S": str(settings.worker_heartbeat_timeout_s), **extra_env}
    firstseen = Path(sys.executable).with_name("firstseen")
    with log_path.open("wb") as log:
        return subprocess.Popen([str(firstseen), "worker"], env=env, stdout=log, stderr=subprocess.STDOUT)


def _stop(queue: RedisQueue, workers: list[subprocess.Popen[bytes]]) -> None:
    """Stop the queue, then each worker gracefully (killed after 30 s)."""
    queue.stop()
    for proc in workers:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in workers:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _started(log_path: Path) -> list[str]:
    return re.findall(r"running job (\w+)", log_path.read_text(errors="replace"))


def _completed(log_path: Path) -> list[str]:
    return re.findall(r"completed job (\w+): done", log_path.read_text(errors="replace"))


def test_killed_worker_loses_no_job_and_every_job_completes_once(shared: Settings, media: Media,
                                                                 tmp_path: Path) -> None:
    with Pipeline.from_settings(shared) as pipeline:  # the schema exists before the workers race to create it
        jobs = JobStore(pipeline.store.engine)
        logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
        workers = [_start_worker(shared, path) for path in logs]
        queue = queue_for(shared)  # what the API uses: Redis because redis_url is set
        assert isinstance(queue, RedisQueue)
        try:
            clips = [media.original, media.other, media.unrelated, media.reencode, media.excerpt_240p,
                     media.compilation]
            ids = [jobs.create("check", {"source": str(clip), "remember": True})[0].id for clip in clips]
            for job_id in ids:
                queue.enqueue(job_id)
                queue.enqueue(job_id)  # a second enqueue of a queued job is a no-op

            # SIGKILL worker A while it is in the middle of a job.
            victim, victim_log = workers[0], logs[0]
            started = time.monotonic()
            killed_job = None
            while killed_job is None:
                assert time.monotonic() - started < DEADLINE_S, "worker A never ran a job"
                for job_id in _started(victim_log):
                    job = jobs.get(job_id)
                    if job.state == "running" and job.progress > 0.05 and job_id not in _completed(victim_log):
                        victim.send_signal(signal.SIGKILL)
                        victim.wait(10)
                        killed_job = job_id
                        break
                time.sleep(0.02)

            while not all(jobs.get(job_id).finished for job_id in ids):
                assert time.monotonic() - started < DEADLINE_S, [jobs.get(i).state for i in ids]
                assert workers[1].poll() is None, logs[1].read_text()
                time.sleep(0.2)
        finally:
            _stop(queue, workers)

        assert [jobs.get(job_id).state for job_id in ids] == ["done"] * len(ids)
        completions = Counter(_completed(logs[0]) + _completed(logs[1]))
        assert completions == Counter(ids), completions  # each job completed exactly once
        assert killed_job not in _completed(logs[0])
        assert killed_job in _completed(logs[1])
        assert jobs.get(killed_job).attempts == 2
        observed = [item for item in pipeline.store.list() if item.kind == "observed"]
        assert len(observed) == len(ids), "each check is remembered once"
        assert workers[1].returncode == 0, logs[1].read_text()


def _peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        return int(next(line.split()[1] for line in fh if line.startswith("VmHWM:"))) / 1024


def test_pixel_and_decode_cost_attacks_leave_other_checks_running(shared: Settings, media: Media,
                                                                  tmp_path: Path) -> None:
    """Issue 11: a 16000x16000 frame after 64x64 ones, and a file that takes longer to decode than the
    per-job limit, each refused with its one-line error while the other worker checks everyone else's
    clips; no worker passes 500 MB."""
    from tests.test_limits import _jpeg, _mjpeg_mkv

    bomb = _mjpeg_mkv(tmp_path / "bomb.mkv", [_jpeg(64, 64)] * 10 + [_jpeg(16000, 16000)] * 3, 64, 64)
    vtest = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")  # 79.5 s of 768x576
    assert vtest.is_file(), "scripts/system-deps.sh test installs Debian's opencv-doc"
    slow = tmp_path / "slow.mkv"  # the same recording 8 times over: 10.6 min of 768x576, seconds to decode
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-stream_loop", "7", "-i", str(vtest), "-c", "copy", str(slow)],
                   check=True)
    with Pipeline.from_settings(shared) as pipeline:
        jobs = JobStore(pipeline.store.engine)
        logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
        # 0.6 s: the slow file needs several times that on an idle machine, the small clips a fraction of it
        workers = [_start_worker(shared, path, FIRSTSEEN_MAX_DECODE_S="0.6") for path in logs]
        queue = queue_for(shared)
        assert isinstance(queue, RedisQueue)
        try:
            # Both workers consume before any job is queued: which worker gets which job is then up to the
            # queue, not to which one finished importing first (a loaded machine started one seconds later).
            started = time.monotonic()
            while not all("consuming" in p.read_text(errors="replace") for p in logs):
                assert time.monotonic() - started < DEADLINE_S, [p.read_text() for p in logs]
                assert all(w.poll() is None for w in workers), [p.read_text() for p in logs]
                time.sleep(0.2)
            attacks = [jobs.create("check", {"source": str(p), "remember": False})[0].id for p in (bomb, slow)]
            others = [jobs.create("check", {"source": str(p), "remember": False})[0].id
                      for p in (media.original, media.other, media.reencode, media.flipped)]
            for job_id in [*attacks, *others]:
                queue.enqueue(job_id)
            started = time.monotonic()
            while not all(jobs.get(job_id).finished for job_id in [*attacks, *others]):
                assert time.monotonic() - started < DEADLINE_S, [jobs.get(i).state for i in [*attacks, *others]]
                assert all(w.poll() is None for w in workers), [p.read_text() for p in logs]
                time.sleep(0.2)
            peaks = [_peak_rss_mb(w.pid) for w in workers]
        finally:
            _stop(queue, workers)
        assert max(peaks) < 500, peaks
        bomb_job, slow_job = (jobs.get(i) for i in attacks)
        assert bomb_job.state == "failed" and "over the limit" in (bomb_job.error or ""), bomb_job.error
        assert slow_job.state == "failed" and "to decode" in (slow_job.error or ""), slow_job.error
        assert [jobs.get(i).state for i in others] == ["done"] * len(others)
        # Both workers took jobs and neither died; which one ran the clean checks is the queue's to decide (on a
        # loaded machine the worker that met the slow file may still be decoding it when the other has run all four).
        ran = [re.findall(r"completed job (\w+): (?:done|failed)", path.read_text(errors="replace")) for path in logs]
        assert all(ran), ["each worker ran jobs of its own", ran]
        assert set(sum(ran, [])) == {*attacks, *others}, ran
