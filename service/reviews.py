"""ClaimReview and MediaReview a fact-checking desk can publish, from a check and an editor's details.

After verdict (a finished check's report): the editor fills in what only a desk
knows -- the article's address, the claim in a few words, who made it, where and
when it appeared -- and picks a rating where the verdict does not imply one.
The rest comes from the report: the rating of ``recycled`` and ``misattributed``,
the earliest known upload as the original context, the organisation from
``Settings.review_org_*``.

    details = ReviewStore(engine).get(job.id)
    claim_review(job.report, details, Publisher.from_settings(settings))   # dict, or None
    media_review(job.report, details, Publisher.from_settings(settings))   # dict, or None
    missing(review)                                                       # what Google's guidelines still want

What is never offered: a review of a miss (``no_prior_match`` says nothing of the
claim, only that our archive does not hold the footage), nor of ``seen_before``
until an editor picks a rating. Text in them comes from users and fetched pages:
serialise with ``service.markup.json_for_html`` before it goes into a page.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, fields
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from service.dates import origin_words, parse_date
from service.db.tables import reviews
from service.errors import BadInput
from service.markup import http_link
from service.models import Report, check_link_field
from service.settings import Settings

__all__ = [
    "CLAIM_TEXT_SUGGESTED_MAX",
    "RATINGS",
    "Publisher",
    "ReviewDetails",
    "ReviewStore",
    "claim_review",
    "media_review",
    "missing",
    "rating_for",
    "review_body",
]

# Google's ClaimReview guidelines: keep claimReviewed under 75 characters (it wraps on phones).
CLAIM_TEXT_SUGGESTED_MAX = 75
MAX_FIELD_CHARS = 2000

# The desk's rating scale (ratingValue 1..5, worst to best), and its words (alternateName, what search shows).
RATINGS: dict[int, str] = {
    1: "False",
    2: "Misleading",
    3: "Unproven",
    4: "Mostly true",
    5: "True",
}
# The rating a verdict implies; seen_before and no_prior_match imply none.
VERDICT_RATINGS: dict[str, int] = {"recycled": 1, "misattributed": 2}
VERDICT_RATING_WORDS: dict[str, str] = {
    "recycled": "False: old footage, online before the claimed date",
    "misattributed": "Misleading: recorded at another place or event",
}

@dataclass(frozen=True)
class Publisher:
    """The organisation that publishes the fact check (ClaimReview/MediaReview ``author``)."""

    name: str | None = None
    url: str | None = None
    logo: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Publisher:
        return cls(settings.review_org_name, http_link(settings.review_org_url),
                   http_link(settings.review_org_logo))

    def author(self) -> dict[str, Any]:
        org: dict[str, Any] = {"@type": "Organization", "name": self.name or "firstseen"}
        if self.url:
            org["url"] = self.url
        if self.logo:
            org["logo"] = {"@type": "ImageObject", "url": self.logo}
        return org


@dataclass(frozen=True)
class ReviewDetails:
    """What an editor sets for one check. Every field optional; links http(s) only, dates as in the archive."""

    article_url: str | None = None  # the fact-check article that will carry the markup
    claim_text: str | None = None  # the claim in a few words (under CLAIM_TEXT_SUGGESTED_MAX suggested)
    claim_author: str | None = None  # who made the claim (a person, an account, an outlet)
    claim_url: str | None = None  # where the claim appeared
    claim_date: str | None = None  # when it appeared
    rating: int | None = None  # 1..5 on RATINGS; None: the verdict's
    context: str | None = None  # the original context in the editor's words (MediaReview)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
                raise BadInput(f"{f.name} is longer than {MAX_FIELD_CHARS} characters")
        check_link_field("article_url", self.article_url)
        check_link_field("claim_url", self.claim_url)
        if self.claim_date:
            try:
                parse_date(self.claim_date)
            except BadInput as exc:
                raise BadInput(f"claim_date: {exc}") from None
        if self.rating is not None and self.rating not in RATINGS:
            raise BadInput(f"rating must be one of {', '.join(map(str, RATINGS))}, not {self.rating!r}")

    @classmethod
    def from_form(cls, form: dict[str, str]) -> ReviewDetails:
        """From submitted text fields: blanks are None, the rating a number."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = (form.get(f.name) or "").strip()
            if f.name == "rating":
                if raw and not raw.isdigit():
                    raise BadInput(f"rating must be one of {', '.join(map(str, RATINGS))}, not {raw[:20]!r}")
                values[f.name] = int(raw) if raw else None
            else:
                values[f.name] = raw or None
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ReviewStore:
    """The editor's details per check (table ``reviews``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, job_id: str) -> ReviewDetails:
        with self.engine.connect() as c:
            raw = c.execute(sa.select(reviews.c.details).where(reviews.c.job_id == job_id)).scalar_one_or_none()
        if raw is None:
            return ReviewDetails()
        known = {f.name for f in fields(ReviewDetails)}
        return ReviewDetails(**{k: v for k, v in json.loads(raw).items() if k in known})

    def put(self, job_id: str, details: ReviewDetails, editor: str) -> None:
        values = {"details": json.dumps(details.to_dict()), "editor": editor[:200],
                  "updated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        with self.engine.begin() as c:
            if c.execute(reviews.update().where(reviews.c.job_id == job_id).values(**values)).rowcount == 0:
                c.execute(reviews.insert().values(job_id=job_id, **values))


def rating_for(verdict: str, details: ReviewDetails) -> tuple[int, str] | None:
    """(ratingValue, alternateName), or None when nothing can be rated yet.

    A miss is never rated: not finding footage says nothing of a claim. ``seen_before`` only with
    the editor's rating: matches that contradict nothing are not evidence either way.
    """
    if verdict == "no_prior_match":
        return None
    if details.rating is not None:
        return details.rating, RATINGS[details.rating]
    if verdict in VERDICT_RATINGS:
        return VERDICT_RATINGS[verdict], VERDICT_RATING_WORDS[verdict]
    return None


def _draft_claim(report: Report) -> str:
    """The claim as the check was given it, for the editor to shorten: "Video shows <event> in <place> on <date>"."""
    claims = report.claims
    if not (claims.event or claims.location or claims.date):
        return "Video shows new footage"
    return ("Video shows " + (claims.event or "events")
            + (f" in {claims.location}" if claims.location else "")
            + (f" on {claims.date_text}" if claims.date else ""))


def _appearance(report: Report, details: ReviewDetails) -> dict[str, Any]:
    """The checked video where the claim was seen: the editor's address, else the link that was checked."""
    source = report.source
    video: dict[str, Any] = {"@type": "VideoObject", "name": source.title or "the checked video"}
    url = http_link(details.claim_url) or http_link(source.webpage_url) or http_link(source.input)
    if url:
        video["url"] = url
        video["contentUrl"] = url
    if details.claim_date:
        video["uploadDate"] = details.claim_date
    if details.claim_author:
        video["creator"] = {"@type": "Person", "name": details.claim_author}
    return video


def _original(report: Report) -> dict[str, Any] | None:
    """The earliest known upload, as a VideoObject; a date only a web page claims is left out."""
    if report.earliest is None:
        return None
    earliest = report.earliest.item
    video: dict[str, Any] = {"@type": "VideoObject", "name": earliest.title or f"archive item {earliest.id}"}
    if url := http_link(earliest.source_url):
        video["url"] = url
    if earliest.published and earliest.date_origin not in (None, "claimed"):
        video["uploadDate"] = earliest.published
    return video


def original_context(report: Report, details: ReviewDetails) -> str | None:
    """Where and when the footage really comes from: the editor's words, else the earliest upload's record."""
    if details.context:
        return details.context
    if report.earliest is None:
        return None
    earliest = report.earliest.item
    bits = [f"First known upload: {earliest.title or 'archive item ' + str(earliest.id)}"]
    if earliest.published and earliest.date_origin not in (None, "claimed"):
        who = origin_words(earliest.date_origin, earliest.platform)
        bits.append(f"online on {earliest.published} ({who})")
    if earliest.location:
        bits.append(f"recorded in {earliest.location}")
    if earliest.event:
        bits.append(f"showing {earliest.event}")
    return ", ".join(bits) + "."


def review_body(report: Report) -> str:
    """The verdict's explanation and, when there is one, the footage's history, as one text."""
    return f"{report.explanation} History: {report.history}" if report.history else report.explanation


def claim_review(report: Report, details: ReviewDetails, publisher: Publisher) -> dict[str, Any] | None:
    """schema.org ClaimReview for the check, or None when the check cannot rate the claim (``rating_for``)."""
    rating = rating_for(report.verdict, details)
    if rating is None:
        return None
    value, words = rating
    claim: dict[str, Any] = {"@type": "Claim", "appearance": _appearance(report, details)}
    if details.claim_author:
        claim["author"] = {"@type": "Person", "name": details.claim_author}
    if details.claim_date:
        claim["datePublished"] = details.claim_date  # when the claim was made, not the date it claims
    if details.claim_url:
        claim["firstAppearance"] = {"@type": "CreativeWork", "url": http_link(details.claim_url)}
    review: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "datePublished": report.checked_at[:10],  # the day of the review: stable, whenever it is copied
        "claimReviewed": details.claim_text or _draft_claim(report),
        "author": publisher.author(),
        "reviewBody": review_body(report),
        "reviewRating": {"@type": "Rating", "ratingValue": value, "bestRating": 5, "worstRating": 1,
                         "alternateName": words, "name": words},
        "itemReviewed": claim,
    }
    if url := http_link(details.article_url):
        review["url"] = url
    return review


def _authenticity(value: int) -> str | None:
    """schema.org MediaManipulationRatingEnumeration for a rating: false or misleading footage here is genuine
    footage shown out of its context (recycled, misattributed); footage rated true is original; unproven, none."""
    if value <= 2:
        return "DecontextualizedContent"
    if value >= 4:
        return "OriginalMediaContent"
    return None


def media_review(report: Report, details: ReviewDetails, publisher: Publisher) -> dict[str, Any] | None:
    """schema.org MediaReview of the checked video, or None when there is no rating or no category for it."""
    rating = rating_for(report.verdict, details)
    if rating is None:
        return None
    category = _authenticity(rating[0])
    if category is None:
        return None
    item: dict[str, Any] = {"@type": "MediaReviewItem", "mediaItemAppearance": [_appearance(report, details)]}
    if details.claim_author:
        item["creator"] = {"@type": "Person", "name": details.claim_author}
    review: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "MediaReview",
        "datePublished": report.checked_at[:10],  # the day of the review: stable, whenever it is copied
        "author": publisher.author(),
        "mediaAuthenticityCategory": category,
        "itemReviewed": item,
    }
    if url := http_link(details.article_url):
        review["url"] = url
    if context := original_context(report, details):
        review["originalMediaContextDescription"] = context
    original = _original(report)
    if original and original.get("url"):
        review["originalMediaLink"] = original["url"]
    return review


# Google's guidelines, as the fields a published review must or should carry (tests check against them).
CLAIMREVIEW_REQUIRED = ("claimReviewed", "reviewRating", "reviewRating.alternateName", "url")
CLAIMREVIEW_RECOMMENDED = ("author", "author.name", "datePublished", "itemReviewed", "itemReviewed.appearance",
                           "itemReviewed.author", "itemReviewed.datePublished", "itemReviewed.firstAppearance",
                           "reviewRating.ratingValue", "reviewRating.bestRating", "reviewRating.worstRating",
                           "reviewRating.name")
MEDIAREVIEW_REQUIRED = ("author", "author.name", "datePublished", "itemReviewed", "itemReviewed.mediaItemAppearance",
                        "mediaAuthenticityCategory", "url")
MEDIAREVIEW_RECOMMENDED = ("originalMediaContextDescription", "originalMediaLink", "itemReviewed.creator",
                           "author.url")


def _has(doc: dict[str, Any], path: str) -> bool:
    node: Any = doc
    for part in path.split("."):
        if isinstance(node, list):
            node = node[0] if node else None
        if not isinstance(node, dict) or node.get(part) in (None, "", [], {}):
            return False
        node = node[part]
    return True


def missing(review: dict[str, Any] | None) -> dict[str, list[str]]:
    """{"required": [...], "recommended": [...]}: the guideline fields ``review`` lacks (all, for no review)."""
    if review is None:
        return {"required": [], "recommended": []}
    required, recommended = ((CLAIMREVIEW_REQUIRED, CLAIMREVIEW_RECOMMENDED) if review.get("@type") == "ClaimReview"
                             else (MEDIAREVIEW_REQUIRED, MEDIAREVIEW_RECOMMENDED))
    return {"required": [p for p in required if not _has(review, p)],
            "recommended": [p for p in recommended if not _has(review, p)]}

