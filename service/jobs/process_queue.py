"""Jobs in worker processes beside the API: the embedded default behind ``firstseen serve``.

A queue behind ``service.jobs.queues.JobQueue`` like ``RedisQueue``, minus Redis. ``ProcessQueue``
implements the ``JobQueue`` protocol (``enqueue``); each of its ``workers`` slots
is a thread in the API process that hands job ids, one at a time, to a child
process of its own, which calls ``run_job`` with its own ``Pipeline``: the code
path of ``firstseen worker``. Decoding and hashing run in the child, so the
API's event loop never waits for a GIL held by a check, and the child runs niced
(``WORKER_NICE``) so a read takes a core before a fingerprint does.

    queue = ProcessQueue(settings, workers=1)
    queue.enqueue(job.id)        # the child runs run_job(pipeline, job.id)

The job row stays the truth: the child writes progress and the outcome there,
the API reads them from there. Nothing is lost when a child dies mid-job (killed,
out of memory): its slot starts a new child and hands it the same job, which
``run_job`` re-runs from scratch (an ingest is one transaction). A job that has
killed its worker ``MAX_WORKER_DEATHS`` times is failed instead of retried for
ever. When the API process itself dies, its children die with it
(``PR_SET_PDEATHSIG`` on Linux) and the next ``serve`` resumes the job from the table.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import queue as queue_mod
import signal
import sys
import threading
import time
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from service.settings import Settings

__all__ = ["MAX_WORKER_DEATHS", "ProcessQueue", "WORKER_NICE"]

log = logging.getLogger(__name__)

# The worker's niceness: decoding yields a core to the API's requests on a busy machine.
WORKER_NICE = 10
# A job whose worker process died this many times while running it fails instead of being retried.
MAX_WORKER_DEATHS = 3
# How often a slot looks whether its child is still alive while a job runs.
POLL_S = 0.5
# A child that does not exit this long after it was asked to is killed (its job resumes on the next start).
STOP_GRACE_S = 30.0

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when the thread that started it ends (the API process exits)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _child_main(settings: Settings, conn: Connection, log_level: int) -> None:
    """A worker process: run each job id the slot sends, answer with it when done; ``None`` ends it."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the API decides
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICE)
    logging.basicConfig(level=log_level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    from service.jobs.runner import run_job
    from service.pipeline import Pipeline

    pipeline = Pipeline.from_settings(settings)
    try:
        while True:
            try:
                job_id = conn.recv()
            except EOFError:  # the API is gone
                return
            if job_id is None:
                return
            try:
                job = run_job(pipeline, job_id)
                log.info("completed job %s: %s (attempt %d)", job_id, job.state, job.attempts)
            except Exception:  # a database outage must not end the worker
                log.exception("worker could not run job %s", job_id)
            conn.send(job_id)
    finally:
        pipeline.close()


class _Slot:
    """One child process and the thread in the API process that feeds it."""

    def __init__(self, owner: ProcessQueue, n: int) -> None:
        self.owner = owner
        self.n = n
        self.proc: BaseProcess | None = None
        self.conn: Connection | None = None
        self.thread = threading.Thread(target=self._loop, name=f"firstseen-worker-slot-{n}", daemon=True)

    def _spawn(self) -> None:
        ctx = multiprocessing.get_context("spawn")  # no copy of the API's threads and sockets
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_child_main, name=f"firstseen-worker-{self.n}",
                           args=(self.owner.settings, child, logging.getLogger().getEffectiveLevel()))
        proc.start()
        child.close()
        self.proc, self.conn = proc, parent
        log.info("worker process %d started (pid %s)", self.n, proc.pid)

    def _alive(self) -> bool:
        return self.proc is not None and self.proc.is_alive()

    def _run(self, job_id: str) -> bool:
        """Hand ``job_id`` to the child and wait for it; False when the child died first."""
        if not self._alive():
            self._spawn()
        assert self.conn is not None and self.proc is not None
        try:
            self.conn.send(job_id)
            while not self.conn.poll(POLL_S):
                if not self.proc.is_alive():
                    return False
            self.conn.recv()
        except (EOFError, OSError):
            return False
        return True

    def _loop(self) -> None:
        try:
            while True:
                job_id = self.owner._queue.get()
                try:
                    if job_id is None:
                        return
                    while not self._run(job_id):
                        exitcode = self.proc.exitcode if self.proc is not None else None
                        log.warning("worker process %d died (exit code %s) while running job %s", self.n,
                                    exitcode, job_id)
                        self._reap()
                        if not self.owner._retry_after_death(job_id):
                            break
                except Exception:  # no process could be started: the job stays queued for the next start
                    log.exception("could not hand job %s to a worker process", job_id)
                    self._reap()
                finally:
                    self.owner._queue.task_done()
        finally:
            self._stop_child()

    def _reap(self) -> None:
        if self.conn is not None:
            self.conn.close()
        if self.proc is not None:
            self.proc.join(5)
        self.proc = self.conn = None

    def _stop_child(self) -> None:
        if self.proc is None:
            return
        if self.conn is not None:
            with contextlib.suppress(OSError):
                self.conn.send(None)
        self.proc.join(self.owner.stop_grace_s)
        if self.proc.is_alive():
            log.warning("worker process %d did not stop in %.0f s: killed; its job resumes on the next start",
                        self.n, self.owner.stop_grace_s)
            self.proc.kill()
            self.proc.join(5)
        self._reap()


class ProcessQueue:
    """``JobQueue`` of ``workers`` child processes, each running one job at a time.

    One worker (the default) keeps jobs in submission order (an archive addition before
    the check that relies on it) and, on two cores, leaves one for the web server.
    """

    def __init__(self, settings: Settings, workers: int = 1, stop_grace_s: float = STOP_GRACE_S) -> None:
        self.settings = settings
        self.workers = max(1, workers)
        self.stop_grace_s = stop_grace_s
        self._queue: queue_mod.Queue[str | None] = queue_mod.Queue()
        self._slots: list[_Slot] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._slots:
                return
            self._slots = [_Slot(self, n) for n in range(self.workers)]
            for slot in self._slots:
                slot.thread.start()

    def enqueue(self, job_id: str) -> None:
        self.start()
        self._queue.put(job_id)

    @property
    def pids(self) -> list[int]:
        """Process ids of the live worker processes."""
        return [s.proc.pid for s in self._slots if s.proc is not None and s.proc.pid is not None and s._alive()]

    def _retry_after_death(self, job_id: str) -> bool:
        """True to hand the job to a new child; after MAX_WORKER_DEATHS attempts it fails instead."""
        from service.db.engine import open_database
        from service.jobs.store import JobStore

        engine = open_database(self.settings.resolved_database_url)
        try:
            jobs = JobStore(engine)
            job = jobs.get(job_id)
            if job.finished:
                return False
            if job.attempts >= MAX_WORKER_DEATHS:
                jobs.fail(job_id, f"the worker process died {job.attempts} times while running this job",
                          "internal")
                log.warning("job %s failed: its worker process died %d times", job_id, job.attempts)
                return False
            return True
        except Exception:  # the database is unreachable: the job stays unfinished and resumes on the next start
            log.exception("could not look up job %s after its worker died", job_id)
            return False
        finally:
            engine.dispose()

    def join(self, timeout: float | None = None) -> None:
        """Wait until every enqueued job has been run (tests, shutdown)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if deadline is not None and time.monotonic() > deadline:
                return
            time.sleep(0.05)

    def stop(self, timeout: float = STOP_GRACE_S) -> None:
        """Let each child finish its job (killed after ``stop_grace_s``), then end the slots."""
        with self._lock:
            slots, self._slots = self._slots, []
        while True:  # jobs not yet handed to a child stay queued in the table; the next start resumes them
            try:
                self._queue.get_nowait()
            except queue_mod.Empty:
                break
            self._queue.task_done()
        for _ in slots:
            self._queue.put(None)
        for slot in slots:
            slot.thread.join(timeout + self.stop_grace_s)

