"""Pydantic models of the API's requests and responses: the only place pydantic meets the domain.

A finished check's ``report`` is the job's ``Report`` as ``Report.to_dict()`` (the JSON of
``firstseen check --json``) read into ``ReportOut`` here, which types every field for OpenAPI and leaves
out what only the server may see: where the media lies on its disk (``source.media_path``) and an
upload's server path (``source.input`` becomes the uploaded file's name).
``tests/test_openapi_client.py`` reads it through a generated client.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from service.crawl import CrawlSummary
from service.jobs import Job
from service.markup import is_http_url
from service.models import ArchiveItem, Report

__all__ = ["ArchiveItemOut", "ArchivePage", "ArchivePatch", "ArchiveRequest", "AuditEntry", "BatchCreated",
           "BatchRequest", "CheckRequest", "CheckStatus", "Claimed", "ClaimReviewOut", "CrawlResult", "ErrorBody",
           "FootageLink", "FootageOut", "Health", "job_error", "job_result", "JobCreated", "JobStatus", "KeyCreate",
           "KeyCreated", "KeyframeOut", "KeyframesOut", "KeyOut", "MatchOut", "MediaReviewOut", "public_report",
           "ReportOut", "ReviewIn", "SearchedOut", "SearchLink", "SegmentOut", "SignalMatchOut", "SourceCreate",
           "SourceOut"]

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
    result: ReportOut | ArchiveItemOut | CrawlResult | None = Field(
        default=None, description="Once done: a check's report, the added archive item, or a crawl's summary")
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
    report: ReportOut | None = Field(default=None, description="Once done: the report, as `firstseen check --json` "
                                                               "less server paths")
    evidence: list[str] = Field(default_factory=list, description="URLs of the side-by-side pictures, one per "
                                                                  "matched segment (operation `check_evidence`)")
    timeline_url: str | None = Field(default=None, description="Operation `check_timeline`")
    claimreview_url: str | None = Field(default=None, description="Operation `check_claimreview`")


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
    claimed_date: str | None = Field(default=None, description="What this upload claimed (a remembered check), "
                                                               "apart from provenance an editor vouched for")
    claimed_location: str | None = None
    claimed_event: str | None = None


class SearchedOut(BaseModel):
    """How much archive a check searched: a miss is "not in our archive", never an all-clear."""

    items: int
    hours: float
    newest: str | None = Field(description="When the newest item was added (ISO date)")
    text: str


class ReportSource(BaseModel):
    """The checked video: what its site says about it, never where the server keeps it."""

    kind: Literal["link", "upload"] = Field(description="A link the server fetched, or a file sent to it")
    input: str = Field(description="The link as given, or the uploaded file's name")
    sha256: str
    size_bytes: int
    extractor: str | None = Field(default=None, description="yt-dlp's extractor (the platform); none for uploads")
    video_id: str | None = None
    webpage_url: str | None = None
    title: str | None = None
    uploader: str | None = None
    channel: str | None = None
    upload_date: str | None = Field(default=None, description="YYYYMMDD as the site reported it")
    timestamp: float | None = Field(default=None, description="Upload time, UTC seconds since 1970")
    description: str | None = None
    duration: float | None = Field(default=None, description="Seconds")
    container: dict[str, str] | None = Field(default=None, description="An uploaded file's own container tags "
                                             "(creation_time, location, make, model …): its claims, not evidence")


class ReportClaims(BaseModel):
    date: str | None = None
    location: str | None = None
    event: str | None = None


class SegmentOut(BaseModel):
    """Seconds ``query_start``–``query_end`` of the checked video show ``archive_start``–``archive_end``."""

    query_start: float
    query_end: float
    archive_start: float
    archive_end: float
    speed: float = Field(description="Archive seconds per checked second")
    frames: int
    mean_distance: float


class MatchEvidenceOut(BaseModel):
    basis: Literal["identical_file", "moving_content", "appearance", "static_scene", "sound"]
    frames_matched: int
    frames_compared: int
    foreground_matched: int
    foreground_compared: int
    query_share: float
    short: bool
    weak: bool


class SignalMatchOut(BaseModel):
    """What one signal type (the picture's pHash views, an audio fingerprint ...) found for the match."""

    signal: str = Field(description="The signal type's name, e.g. video-phash")
    medium: Literal["video", "audio"]
    score: float
    coverage: float
    transform: str
    flipped: bool
    segments: list[SegmentOut]
    evidence: MatchEvidenceOut


class MatchOut(BaseModel):
    archive_id: int
    kind: Literal["curated", "observed"]
    title: str | None
    published: str | None
    date_origin: Literal["curated", "platform", "source", "claimed"] | None = None
    location: str | None
    event: str | None
    source_url: str | None
    factcheck_url: str | None
    platform: str | None
    uploader: str | None
    score: float
    coverage: float
    flipped: bool
    transform: str
    segments: list[SegmentOut]
    evidence: MatchEvidenceOut | None = None
    signals: list[SignalMatchOut] = Field(default_factory=list, description="Each signal type's own match; the "
                                          "fields above are the first one's (the video's where it matched)")
    differs: list[Literal["video", "audio"]] = Field(default_factory=list, description="Media both videos have "
                                                     "whose signal was compared and did not match")


class ReportOut(BaseModel):
    verdict: Literal["recycled", "misattributed", "seen_before", "no_prior_match"]
    explanation: str
    history: str = Field(default="", description="How the matched footage's uploads and their claims changed, "
                                                  "oldest first (empty when there is none to tell)")
    source: ReportSource
    claims: ReportClaims
    earliest: MatchOut | None
    matches: list[MatchOut]
    footage: list[ArchiveItemOut] = Field(description="Every known upload of the matched footage, oldest first")
    checked_at: str
    remembered_id: int | None = Field(description="The archive item the checked upload was kept as, if it was")
    searched: SearchedOut | None = Field(default=None, description="What the check searched (None: older reports)")


def public_report(report: Report) -> ReportOut:
    """A check's ``Report`` as clients see it: typed, without the server's paths (service/report/public.py)."""
    from service.report.public import public_report as without_paths

    return ReportOut.model_validate(without_paths(report))


class CrawlFailure(BaseModel):
    url: str
    reason: str


class CrawlResult(BaseModel):
    source_id: int
    listed: int
    new: int
    added: list[int]
    failed: list[CrawlFailure]


def job_result(job: Job) -> ReportOut | ArchiveItemOut | CrawlResult | None:
    """A finished job's result, typed by its kind (None until done)."""
    result = job.result if job.state == "done" else None
    if isinstance(result, Report):
        return public_report(result)
    if isinstance(result, ArchiveItem):
        return ArchiveItemOut.model_validate(result.to_dict())
    if isinstance(result, CrawlSummary):
        from service.jobs.store import crawl_summary_dict

        return CrawlResult.model_validate(crawl_summary_dict(result))
    return None


class SearchLink(BaseModel):
    engine: Literal["Google Lens", "Yandex", "Bing", "TinEye"]
    url: str


class KeyframeOut(BaseModel):
    """One shot of the checked video and its middle frame, to search the web for."""

    n: int
    start: float = Field(description="The shot's first second")
    end: float
    time: float = Field(description="The keyframe's second (the shot's middle)")
    image_url: str = Field(description="Full-size JPEG, with this API's key (operation `check_keyframe`)")
    public_image_url: str | None = Field(description="The same JPEG at an unguessable address anyone may fetch; "
                                                     "only when the server has `FIRSTSEEN_PUBLIC_URL`")
    search: list[SearchLink] = Field(description="Reverse image search of `public_image_url`; empty without it")


class KeyframesOut(BaseModel):
    public: bool = Field(description="Whether the server has a public address search engines can fetch from")
    note: str | None = Field(description="What to do when it has none")
    keyframes: list[KeyframeOut]


class AuditEntry(BaseModel):
    id: int
    at: str
    actor: str
    action: str
    item_id: int | None
    before: dict[str, Any] | None = Field(description="The item before the change")
    after: dict[str, Any] | None = Field(description="The item after the change")


class Health(BaseModel):
    status: Literal["ok"]
    archive_items: int


class ClaimReviewOut(BaseModel):
    """schema.org ClaimReview JSON-LD (keys as schema.org spells them, ``@context`` and ``@type`` included)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    context: str = Field(alias="@context")
    type: str = Field(alias="@type")
    url: str | None = None  # the fact-check article, once an editor gives it
    datePublished: str  # noqa: N815 -- schema.org's name
    claimReviewed: str  # noqa: N815
    reviewBody: str | None = None  # noqa: N815
    author: dict[str, Any]
    reviewRating: dict[str, Any]  # noqa: N815
    itemReviewed: dict[str, Any]  # noqa: N815


class MediaReviewOut(BaseModel):
    """schema.org MediaReview JSON-LD (keys as schema.org spells them, ``@context`` and ``@type`` included)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    context: str = Field(alias="@context")
    type: str = Field(alias="@type")
    url: str | None = None
    datePublished: str | None = None  # noqa: N815 -- schema.org's name
    author: dict[str, Any]
    mediaAuthenticityCategory: str | None = None  # noqa: N815
    itemReviewed: dict[str, Any]  # noqa: N815


class ArchivePage(BaseModel):
    items: list[ArchiveItemOut]
    limit: int
    offset: int
    next_offset: int | None


class FootageLink(BaseModel):
    """Upload ``item`` shows, in ``segments``, the seconds of upload ``shares_with`` (``item`` as the query)."""

    item: int
    shares_with: int
    segments: list[SegmentOut]


class FootageOut(BaseModel):
    footage_id: int
    uploads: list[ArchiveItemOut]
    links: list[FootageLink]


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
