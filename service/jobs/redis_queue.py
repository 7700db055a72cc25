"""Jobs on Redis through Dramatiq: the API enqueues, ``firstseen worker`` processes on any machine run them.

A queue behind ``service.jobs.queues.JobQueue`` like ``ProcessQueue`` (service/jobs/process_queue.py): the job
row in the shared database is the truth (state, progress, result); Redis carries only the
job id. ``RedisQueue`` implements the ``JobQueue`` protocol (``enqueue``);
``run_worker`` consumes the queue and calls ``run_job`` with a ``Pipeline`` per
worker thread.

Nothing is lost when a worker dies mid-job: Dramatiq's Redis broker keeps a
fetched message unacknowledged until the job returns, and any live worker moves
the unacknowledged messages of a worker whose heartbeat is older than
``heartbeat_timeout_s`` back onto the queue. Dramatiq only heartbeats while it
fetches, so each worker also heartbeats from a thread of its own (a busy worker
must not look dead) and runs that queue maintenance every beat (Dramatiq's
default runs it on 0.1 % of commands, minutes apart). ``run_job`` re-runs a
job a dead worker left ``running``. Two guards keep a job from running twice at
once: ``enqueue`` sends a job id only once until the job finishes (the API
re-enqueues unfinished jobs when it starts), and a worker holds a lease on the
job while running it, renewed by the heartbeat, so a second copy of a message
waits and retries instead of running beside the first.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import dramatiq
import redis
from dramatiq.brokers.redis import MAINTENANCE_SCALE, RedisBroker
from dramatiq.common import dq_name

from service.jobs.runner import run_job
from service.jobs.store import JobStore
from service.settings import Settings

if TYPE_CHECKING:
    from service.pipeline import Pipeline

__all__ = ["QUEUE_NAME", "RedisQueue", "run_worker"]

log = logging.getLogger(__name__)

QUEUE_NAME = "jobs"
ACTOR_NAME = "run_job"
# A job that raises (database or Redis unreachable) is retried this often, 1 s to 5 min apart.
MAX_RETRIES = 8
# Longest a job may run: a crawl of a long playlist, or a 1-hour video on a slow machine.
TIME_LIMIT_S = 6 * 3600
# How long an enqueued id blocks a second enqueue of the same job when nobody finishes it.
ENQUEUED_TTL_S = 7 * 86400


def _broker(settings: Settings, maintenance: bool = False) -> RedisBroker:
    if not settings.redis_url:
        raise ValueError("the Redis queue needs FIRSTSEEN_REDIS_URL")
    return RedisBroker(  # type: ignore[no-untyped-call]
        url=settings.redis_url,
        namespace=settings.redis_namespace,
        heartbeat_timeout=int(settings.worker_heartbeat_timeout_s * 1000),
        maintenance_chance=MAINTENANCE_SCALE if maintenance else 1000,
    )


def _enqueued_key(settings: Settings, job_id: str) -> str:
    return f"{settings.redis_namespace}:firstseen:enqueued:{job_id}"


def _lease_key(settings: Settings, job_id: str) -> str:
    return f"{settings.redis_namespace}:firstseen:running:{job_id}"


class RedisQueue:
    """``JobQueue`` for the API side: puts job ids on the Redis queue that ``firstseen worker`` consumes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.broker = _broker(settings)
        self.broker.declare_queue(QUEUE_NAME)

    def enqueue(self, job_id: str) -> None:
        key = _enqueued_key(self.settings, job_id)
        if not self.broker.client.set(key, "1", nx=True, ex=ENQUEUED_TTL_S):
            log.debug("job %s is already on the queue", job_id)
            return
        self.broker.enqueue(dramatiq.Message(queue_name=QUEUE_NAME, actor_name=ACTOR_NAME, args=(job_id,),
                                             kwargs={}, options={}))

    def stop(self) -> None:
        """Close the Redis connections (the API's shutdown calls this)."""
        self.broker.close()


class _Runner:
    """The actor's body in a worker process: one pipeline per thread, a lease per running job."""

    def __init__(self, settings: Settings, client: redis.Redis, owner: str,
                 pipeline_factory: Callable[[Settings], Pipeline]) -> None:
        self.settings = settings
        self.client = client
        self.owner = owner
        self.factory = pipeline_factory
        self.lease_ms = int(settings.worker_heartbeat_timeout_s * 1000)
        self.running: set[str] = set()
        self.pipelines: list[Pipeline] = []
        self._local = threading.local()
        self._lock = threading.Lock()

    def _pipeline(self) -> Pipeline:
        pipeline: Pipeline | None = getattr(self._local, "pipeline", None)
        if pipeline is None:
            pipeline = self._local.pipeline = self.factory(self.settings)
            with self._lock:
                self.pipelines.append(pipeline)
        return pipeline

    def __call__(self, job_id: str) -> None:
        lease = _lease_key(self.settings, job_id)
        if not self.client.set(lease, self.owner, nx=True, px=self.lease_ms):
            raise dramatiq.Retry(f"job {job_id} is running on another worker", delay=self.lease_ms)
        with self._lock:
            self.running.add(job_id)
        try:
            pipeline = self._pipeline()
            if JobStore(pipeline.engine).get(job_id).finished:
                log.info("job %s was already finished", job_id)
            else:
                log.info("running job %s", job_id)
                job = run_job(pipeline, job_id)
                log.info("completed job %s: %s (attempt %d)", job_id, job.state, job.attempts)
            self.client.delete(_enqueued_key(self.settings, job_id))
        finally:
            with self._lock:
                self.running.discard(job_id)
            if self.client.get(lease) == self.owner.encode():
                self.client.delete(lease)

    def renew(self) -> None:
        with self._lock:
            running = list(self.running)
        for job_id in running:
            self.client.pexpire(_lease_key(self.settings, job_id), self.lease_ms)


def _default_pipeline(settings: Settings) -> Pipeline:
    from service.pipeline import Pipeline

    return Pipeline.from_settings(settings)


def run_worker(settings: Settings, threads: int = 1, stop: threading.Event | None = None,
               pipeline_factory: Callable[[Settings], Pipeline] = _default_pipeline) -> None:
    """Consume jobs until ``stop`` is set (or SIGTERM/SIGINT when called from the main thread)."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    broker = _broker(settings)
    runner = _Runner(settings, broker.client, broker.broker_id, pipeline_factory)
    dramatiq.actor(broker=broker, actor_name=ACTOR_NAME, queue_name=QUEUE_NAME, max_retries=MAX_RETRIES,
                   min_backoff=1000, max_backoff=300_000, time_limit=TIME_LIMIT_S * 1000)(runner)
    worker = dramatiq.Worker(broker, worker_threads=threads)
    worker.queue_prefetch = threads  # hold no job another idle worker could run now
    beating = threading.Event()
    heart = threading.Thread(target=_heartbeat, args=(settings, broker.broker_id, runner, beating),
                             name="firstseen-heartbeat", daemon=True)
    heart.start()
    from service.db.engine import open_database
    from service.retention import Pruner

    prune_engine = open_database(settings.resolved_database_url)
    pruner = Pruner(settings, prune_engine)  # this machine's uploads and download cache
    pruner.start()
    worker.start()
    log.info("worker %s consuming %s:%s with %d thread(s)", broker.broker_id, settings.redis_namespace,
             QUEUE_NAME, threads)
    try:
        stop.wait()
    finally:
        worker.stop(timeout=TIME_LIMIT_S * 1000)  # lets running jobs finish, still heartbeating
        pruner.stop()
        prune_engine.dispose()
        beating.set()
        heart.join()
        for pipeline in runner.pipelines:
            pipeline.close()
        broker.close()


def _heartbeat(settings: Settings, broker_id: str, runner: _Runner, done: threading.Event) -> None:
    """Beat under the worker's broker id, run queue maintenance every beat, renew the job leases."""
    beat = _broker(settings, maintenance=True)
    beat.broker_id = broker_id
    try:
        while not done.wait(settings.worker_heartbeat_timeout_s / 4):
            try:
                for queue in (QUEUE_NAME, dq_name(QUEUE_NAME)):
                    beat.do_qsize(queue)
                runner.renew()
            except redis.RedisError as exc:
                log.warning("heartbeat to Redis failed: %s", exc)
    finally:
        beat.close()
