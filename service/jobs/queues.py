"""Where front ends hand a job to workers: the ``JobQueue`` protocol and the two queues behind it.

Front ends only ever call ``enqueue(job_id)``; the job row is the truth (service/jobs/store.py), so any
queue that gets the id to a worker calling ``run_job`` (service/jobs/runner.py) will do:

- ``ProcessQueue`` (service/jobs/process_queue.py): worker processes beside the API, the embedded default;
- ``RedisQueue`` (service/jobs/redis_queue.py): ids on Redis for ``firstseen worker`` processes on any
  machine, chosen when ``Settings.redis_url`` is set.

A new backend is one class with ``enqueue`` (and ``stop`` for shutdown) and a line in ``queue_for``.
"""

from __future__ import annotations

import logging
from typing import Protocol

from service.jobs.store import JobStore
from service.settings import Settings

__all__ = ["JobQueue", "queue_for", "resume_unfinished"]

log = logging.getLogger(__name__)


class JobQueue(Protocol):
    """Where front ends hand a job to workers. They only ever call ``enqueue``."""

    def enqueue(self, job_id: str) -> None: ...


def queue_for(settings: Settings, workers: int = 1) -> JobQueue:
    """The queue a front end hands jobs to: Redis when ``redis_url`` is set, else worker processes beside it."""
    if settings.redis_url:
        from service.jobs.redis_queue import RedisQueue

        return RedisQueue(settings)
    from service.jobs.process_queue import ProcessQueue

    return ProcessQueue(settings, workers=workers)


def resume_unfinished(store: JobStore, queue: JobQueue) -> list[str]:
    """Hand every queued job and every job a crashed worker left running back to the queue."""
    ids = store.unfinished()
    for job_id in ids:
        queue.enqueue(job_id)
    if ids:
        log.info("resuming %d unfinished job(s)", len(ids))
    return ids
