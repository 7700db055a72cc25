"""Jobs: long work (checks, archive additions, crawls) run outside the request that asked for it.

    front end ─► store.py (JobStore.create: the row) ─► queues.py (JobQueue.enqueue: the id)
                       ▲                                      │  process_queue.py | redis_queue.py
                       └── runner.py (run_job: progress, result, failure) ◄─┘

A front end (API, web form) writes a job row and calls ``queue.enqueue(job_id)``; a worker calls
``run_job(pipeline, job_id)``, which does the work through ``Pipeline`` and writes progress and the
result back to the row. Front ends read progress from the database only, so any queue works behind the
``JobQueue`` protocol. A finished check's result is a ``Report`` (``job.report``), stored as
``Report.to_dict()``; what is drawn from it (evidence, timeline, reviews) lives in service/report/.

    jobs = JobStore(engine)
    job, _ = jobs.create("check", {"source": "https://…", "claims": {"date": "2021-03-11"}})
    queue.enqueue(job.id)            # a worker runs run_job(pipeline, job.id)
    jobs.get(job.id).state           # queued → running → done | failed

The queue backends (process_queue, redis_queue) are imported by ``queue_for`` only when chosen.
"""

from __future__ import annotations

from service.jobs.queues import JobQueue, queue_for, resume_unfinished
from service.jobs.runner import error_code, run_job, unremembered_check, upload_folder
from service.jobs.store import Job, JobKind, JobResult, JobState, JobStore

__all__ = ["Job", "JobKind", "JobQueue", "JobResult", "JobState", "JobStore", "error_code", "queue_for",
           "resume_unfinished", "run_job", "unremembered_check", "upload_folder"]
