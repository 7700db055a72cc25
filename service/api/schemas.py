"""Pydantic models of the API's requests and responses: the only place pydantic meets the domain.

A finished check's ``report`` is ``Report.to_dict()`` unchanged, the same JSON as
``firstseen check --json``; it is typed loosely here so the two can never drift.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from service.jobs import Job
from service.markup import is_http_url

__all__ = [
    "ArchiveItemOut", "ArchivePage", "ArchivePatch", "ArchiveRequest", "BatchCreated", "BatchRequest",
    "CheckRequest", "CheckStatus", "ErrorBody", "JobCreated", "JobStatus", "KeyCreate", "KeyCreated", "KeyOut",
    "SourceCreate", "SourceOut",
]

Text = Field(default=None, max_length=2000)


def _http_only(value: str | None) -> str | None:
    if value and not is_http_url(value):
        raise ValueError("must be an http:// or https:// link")
    return value


# A provenance link: shown as a link on the report and the archive page, so nothing but http(s).
Link = Annotated[str | None, Field(max_length=2000, description="An http:// or https:// address",
                                   examples=["https://example.org/v/1"]), AfterValidator(_http_only)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class Claimed(_In):
    claimed_date: str | None = Field(default=None, max_length=40, examples=["2021-03-11"])
    claimed_location: str | None = Field(default=None, max_length=300, examples=["Kyiv"])
    claimed_event: str | None = Field(default=None, max_length=300)
    remember: bool = Field(default=True, description="Keep the checked upload in the archive as 'observed'.")


class CheckRequest(Claimed):
    url: str = Field(max_length=2000, examples=["https://example.org/viral.mp4"])


class BatchRequest(Claimed):
    urls: list[str] = Field(min_length=1, max_length=100)


class JobCreated(BaseModel):
    id: str
    kind: str
    status: str
    status_url: str


class BatchCreated(BaseModel):
    jobs: list[JobCreated]


class JobError(BaseModel):
    code: str
    message: str


class JobStatus(BaseModel):
    id: str
    kind: str
    status: Literal["queued", "running", "done", "failed"]
    progress: float
    stage: str
    attempts: int
    created_at: str
    started_at: str | None
    finished_at: str | None
    error: JobError | None = None
    result: Any = None
    status_url: str | None = None


class CheckStatus(BaseModel):
    id: str
    status: Literal["queued", "running", "done", "failed"]
    progress: float
    stage: str
    created_at: str
    started_at: str | None
    finished_at: str | None
    error: JobError | None = None
    report: dict[str, Any] | None = Field(default=None, description="Report.to_dict(): as `firstseen check --json`")
    evidence: list[str] = Field(default_factory=list, description="URLs of the side-by-side pictures")
    timeline_url: str | None = None
    claimreview_url: str | None = None


class ReviewIn(_In):
    """What an editor sets to make a check's ClaimReview and MediaReview publishable (service/reviews.py)."""

    article_url: str | None = Field(default=None, max_length=2000, description="The fact-check article")
    claim_text: str | None = Field(default=None, max_length=2000,
                                   description="The claim in a few words (75 characters or fewer suggested)")
    claim_author: str | None = Field(default=None, max_length=2000, description="Who made the claim")
    claim_url: str | None = Field(default=None, max_length=2000, description="Where the claim appeared")
    claim_date: str | None = Field(default=None, max_length=40, description="When it appeared: YYYY[-MM[-DD]]")
    rating: int | None = Field(default=None, ge=1, le=5, description="1 False … 5 True; none: the verdict's")
    context: str | None = Field(default=None, max_length=2000, description="The original context, in words")


class ArchiveRequest(_In):
    url: str = Field(max_length=2000)
    title: str | None = Text
    published: str | None = Field(default=None, max_length=40, examples=["2018-03-01"])
    location: str | None = Text
    event: str | None = Text
    source_url: Link = None
    notes: str | None = Field(default=None, max_length=10000)
    factcheck_url: Link = None


class ArchivePatch(_In):
    title: str | None = Text
    published: str | None = Field(default=None, max_length=40)
    location: str | None = Text
    event: str | None = Text
    source_url: Link = None
    notes: str | None = Field(default=None, max_length=10000)
    factcheck_url: Link = None
    platform: str | None = Field(default=None, max_length=80)
    uploader: str | None = Text


class ArchiveItemOut(BaseModel):
    id: int
    kind: str
    title: str | None
    published: str | None
    location: str | None
    event: str | None
    source_url: str | None
    notes: str | None
    factcheck_url: str | None
    platform: str | None
    uploader: str | None
    sha256: str
    duration: float
    frame_count: int
    added_at: str
    footage_id: int | None
    date_origin: Literal["curated", "platform", "source", "claimed"] | None = Field(
        default=None, description="Who says `published`: an editor, the platform, a registered crawl source, or "
                                  "only a web page (`claimed`: shown, never enough to call footage recycled)")


class ArchivePage(BaseModel):
    items: list[ArchiveItemOut]
    limit: int
    offset: int
    next_offset: int | None


class FootageOut(BaseModel):
    footage_id: int
    uploads: list[ArchiveItemOut]
    links: list[dict[str, Any]]


class SourceCreate(_In):
    url: str = Field(max_length=2000)


class SourceOut(BaseModel):
    id: int
    url: str
    title: str | None
    added_at: str
    last_crawled_at: str | None
    last_status: str | None
    entries_seen: int


class KeyCreate(_In):
    role: Literal["reader", "editor", "admin"]
    name: str | None = Field(default=None, max_length=200)


class KeyOut(BaseModel):
    id: int
    name: str
    role: str
    prefix: str
    created_at: str
    revoked_at: str | None


class KeyCreated(KeyOut):
    key: str = Field(description="Shown once; only its hash is stored.")


def job_error(job: Job) -> JobError | None:
    return JobError(code=job.error_code or "error", message=job.error or "") if job.state == "failed" else None
