"""The embedded default's worker process (service/jobs/process_queue.py): jobs run outside the caller's process,
a job that kills its worker every time fails after ``MAX_WORKER_DEATHS`` attempts instead of looping."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from service.jobs import JobStore
from service.jobs.process_queue import MAX_WORKER_DEATHS, ProcessQueue
from service.models import ArchiveItem
from service.pipeline import Pipeline
from service.settings import Settings
from tests.conftest import Media


@pytest.fixture(scope="module")
def slow_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 s of moving picture: seconds to fingerprint, long enough to be killed mid-job."""
    path = tmp_path_factory.mktemp("slow") / "slow.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=60",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


def _wait(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_jobs_run_in_a_worker_process_and_their_outcome_is_in_the_table(settings: Settings, media: Media) -> None:
    with Pipeline.from_settings(settings) as pipeline:
        jobs = JobStore(pipeline.store.engine)
        add, _ = jobs.create("archive_add", {"source": str(media.original),
                                             "meta": {"title": "A", "published": "2018-03-01"}})
        check, _ = jobs.create("check", {"source": str(media.excerpt_240p), "claims": {"date": "2021-03-11"},
                                         "remember": False})
        queue = ProcessQueue(settings)
        try:
            queue.enqueue(add.id)
            queue.enqueue(check.id)
            _wait(lambda: bool(queue.pids), 60, "no worker process started")
            assert os.getpid() not in queue.pids
            queue.join(120)
        finally:
            queue.stop()
        assert jobs.get(add.id).state == "done"
        report, added = jobs.get(check.id).report, jobs.get(add.id).result
        assert isinstance(added, ArchiveItem)
        assert report.verdict == "recycled" and report.matches[0].item.id == added.id
        assert queue.pids == []  # stopped with the queue


def test_a_job_that_kills_its_worker_every_time_fails_instead_of_looping(settings: Settings,
                                                                         slow_clip: Path) -> None:
    with Pipeline.from_settings(settings) as pipeline:
        jobs = JobStore(pipeline.store.engine)
        job, _ = jobs.create("archive_add", {"source": str(slow_clip), "meta": {"title": "slow"}})
        queue = ProcessQueue(settings, stop_grace_s=5)
        try:
            queue.enqueue(job.id)
            for attempt in range(1, MAX_WORKER_DEATHS + 1):
                _wait(lambda a=attempt: jobs.get(job.id).attempts == a and jobs.get(job.id).state == "running"
                      and bool(queue.pids), 60, f"attempt {attempt} never ran")
                os.kill(queue.pids[0], signal.SIGKILL)
            queue.join(60)
        finally:
            queue.stop()
        failed = jobs.get(job.id)
        assert failed.state == "failed" and failed.error_code == "internal", failed
        assert failed.attempts == MAX_WORKER_DEATHS and f"died {MAX_WORKER_DEATHS} times" in (failed.error or "")
        assert pipeline.store.count() == 0  # no attempt left half an item behind
