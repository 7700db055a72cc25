"""Retrying a failed job with the same input: one helper for the API and the web form.

A retry is a new job (the failed one stays as the record of what went wrong) whose payload is the
failed job's, owned by whoever asked, with ``retry_of`` naming the failed job. Asking again while
that retry is queued or running answers with it instead of queueing another. A check needs a
reader key, an archive addition an editor key (the roles that may submit them). An uploaded file
is used again if it is still on the server; it is not once the failed job removed it, and the
message says to choose the file again.
"""

from __future__ import annotations

from pathlib import Path

from service.auth import ApiKey
from service.errors import Conflict
from service.http.services import Services, submit_job
from service.jobs import Job

__all__ = ["RETRY_ROLES", "retry_job", "retryable"]

# The kinds of job that can be retried, and the role each needs (as to submit it).
RETRY_ROLES = {"check": "reader", "archive_add": "editor"}


def retryable(job: Job) -> bool:
    """A failed check or archive addition whose input is still there (a link, or an upload still on disk)."""
    if job.state != "failed" or job.kind not in RETRY_ROLES:
        return False
    return not job.payload.get("upload") or Path(job.payload["source"]).is_file()


def retry_job(services: Services, key: ApiKey, job_id: str) -> tuple[Job, bool]:
    """(the retry, created): NotFound for no such job, PermissionError below the job's role, Conflict when
    the job did not fail, cannot be retried or its uploaded file is gone."""
    failed = services.jobs.get(job_id)
    role = RETRY_ROLES.get(failed.kind)
    if role is None:
        raise Conflict(f"a {failed.kind} job is not retried here; start it again")
    if not key.can(role):
        raise PermissionError(f"retrying this job needs an {role} key" if role[0] in "aeiou"
                              else f"retrying this job needs a {role} key")
    if failed.state != "failed":
        raise Conflict(f"job {failed.id} is {failed.state}; only a failed job can be retried")
    running = [j for j in services.jobs.naming(failed.id)
               if j.payload.get("retry_of") == failed.id and not j.finished]
    if running:
        return running[0], False
    if not retryable(failed):
        raise Conflict("the uploaded file was not kept after the job failed; choose the file again")
    payload = {**failed.payload, "actor": key.actor, "retry_of": failed.id}
    return submit_job(services, failed.kind, payload, key, None)
