"""Dates with their precision and uncertainty.

Upload dates come in several precisions: a UTC ``timestamp`` from yt-dlp is exact;
yt-dlp's ``upload_date`` (YYYYMMDD) can be a day off because sites report it in
their own time zone; an archivist may only know the year or the month. A
``KnownDate`` keeps the interval of days it could be, so a comparison with a
claimed date can say "before", "after" or "too close to call".

A date is also only as good as whoever says it. Every archived date keeps its
origin (``DateOrigin``), and only a date the archive can stand behind
(``TRUSTED_DATE_ORIGINS``) can show that footage is older than claimed:

* ``curated``: an editor vouched for it (a curated item, or an editor's edit);
* ``platform``: a known platform's own upload time, read by its yt-dlp
  extractor from the platform's page or API (``PLATFORM_HOSTS``);
* ``source``: listed by a crawl source an editor registered (a feed's pubDate);
* ``claimed``: what a web page merely says (JSON-LD ``uploadDate``, ``og`` tags,
  ``Last-Modified``): anyone who controls the page controls it. It is shown,
  labelled, and never makes a verdict of ``recycled`` (docs/security.md).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from service.errors import BadInput

if TYPE_CHECKING:
    from service.models import ArchiveItem, SourceInfo

__all__ = [
    "DATE_ORIGINS",
    "PLATFORM_HOSTS",
    "TRUSTED_DATE_ORIGINS",
    "DateOrigin",
    "KnownDate",
    "fetched_date_origin",
    "origin_words",
    "parse_claimed_date",
    "refuse_future",
    "curated_first",
    "date_trusted",
    "humanize_days",
    "item_date",
    "sort_by_date",
    "source_date",
    "parse_date",
]

DateOrigin = Literal["curated", "platform", "source", "claimed"]
DATE_ORIGINS: tuple[str, ...] = ("curated", "platform", "source", "claimed")
TRUSTED_DATE_ORIGINS: frozenset[str] = frozenset({"curated", "platform", "source"})

# yt-dlp extractor key -> the hosts its pages live on. A date is the platform's only when both agree:
# the extractor of a platform that sets upload times itself (no backdating by the uploader), and a
# final page on that platform. The host check matters: a page's JSON-LD naming a YouTube video as its
# content makes yt-dlp report the YouTube extractor with the page's own uploadDate laid over
# YouTube's (a "url_transparent" result) -- but its webpage_url stays the page's. Generic, direct
# files and HTML5 embeds are never here; nor is Facebook, whose pages can backdate posts, nor any
# self-hostable software (PeerTube and the like), whose server is whoever runs it.
PLATFORM_HOSTS: dict[str, tuple[str, ...]] = {
    "Youtube": ("youtube.com", "youtu.be"),
    "Vimeo": ("vimeo.com",),
    "Twitter": ("twitter.com", "x.com"),
    "TikTok": ("tiktok.com",),
    "Instagram": ("instagram.com",),
    "TelegramEmbed": ("t.me", "telegram.me"),
    "Dailymotion": ("dailymotion.com",),
    "Reddit": ("reddit.com",),
    "VK": ("vk.com", "vkvideo.ru"),
    "Rumble": ("rumble.com",),
    "BiliBili": ("bilibili.com",),
    "Streamable": ("streamable.com",),
    "Weibo": ("weibo.com", "weibo.cn"),
    "Odnoklassniki": ("ok.ru",),
    "Bluesky": ("bsky.app",),
}

# yt-dlp's upload_date is in the site's local time; UTC±14 h at most.
UPLOAD_DATE_SLACK_DAYS = 1


@dataclass(frozen=True)
class KnownDate:
    """A date known to lie in ``[earliest, latest]`` (inclusive days)."""

    earliest: dt.date
    latest: dt.date
    text: str  # what we show: "2018-03-01", "2018-03", "2018", "2018-03-01 ±1 day"

    def before(self, other: KnownDate) -> bool:
        """True when this date is certainly before ``other``."""
        return self.latest < other.earliest

    def days_before(self, other: KnownDate) -> int:
        return (other.earliest - self.latest).days

    @classmethod
    def from_timestamp(cls, timestamp: float) -> KnownDate:
        day = dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).date()
        return cls(day, day, day.isoformat())

    @classmethod
    def from_upload_date(cls, yyyymmdd: str) -> KnownDate:
        day = dt.datetime.strptime(yyyymmdd, "%Y%m%d").date()
        slack = dt.timedelta(days=UPLOAD_DATE_SLACK_DAYS)
        return cls(day - slack, day + slack, f"{day.isoformat()} ±{UPLOAD_DATE_SLACK_DAYS} day")


def parse_date(text: str) -> KnownDate:
    """Parse ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` or ``YYYY-MM-DD ±N day(s)``."""
    raw = text.strip()
    slack = 0
    if "±" in raw:
        raw, _, rest = raw.partition("±")
        raw = raw.strip()
        try:
            slack = int(rest.split()[0])
        except (ValueError, IndexError):
            raise BadInput(f"cannot read date {text!r}: expected YYYY-MM-DD") from None
    try:
        parts = [int(p) for p in raw.split("-")]
        if len(parts) == 1 and len(raw) == 4:
            return KnownDate(dt.date(parts[0], 1, 1), dt.date(parts[0], 12, 31), raw)
        if len(parts) == 2:
            last = calendar.monthrange(parts[0], parts[1])[1]
            return KnownDate(dt.date(parts[0], parts[1], 1), dt.date(parts[0], parts[1], last), raw)
        if len(parts) == 3:
            day = dt.date(parts[0], parts[1], parts[2])
            delta = dt.timedelta(days=slack)
            return KnownDate(day - delta, day + delta, text.strip())
    except ValueError:
        pass
    raise BadInput(f"cannot read date {text!r}: expected YYYY, YYYY-MM or YYYY-MM-DD")


def parse_claimed_date(text: str, today: dt.date | None = None) -> KnownDate:
    """A date someone claims footage shows: as ``parse_date``, and refused when it is still to come.

    A claim "2031-05-01" cannot be true of footage that exists today; taken as given it would
    make every archived copy "years before the claimed date". Today is the UTC day.
    """
    return refuse_future(parse_date(text), today)


def refuse_future(known: KnownDate, today: dt.date | None = None) -> KnownDate:
    """``known`` itself, or ``BadInput`` when it is still to come (today is the UTC day)."""
    today = today or dt.datetime.now(dt.UTC).date()
    if known.earliest > today:
        raise BadInput(f"claimed date {known.text!r} is in the future (today is {today.isoformat()} UTC)")
    return known


def _on_host(url: str | None, hosts: tuple[str, ...]) -> bool:
    try:
        host = (urlsplit(url or "").hostname or "").lower().rstrip(".")
    except ValueError:
        return False
    return any(host == h or host.endswith("." + h) for h in hosts)


def fetched_date_origin(extractor: str | None, webpage_url: str | None) -> DateOrigin:
    """How much the date a fetched video came with is worth: ``platform`` or ``claimed``."""
    hosts = PLATFORM_HOSTS.get(extractor or "")
    return "platform" if hosts and _on_host(webpage_url, hosts) else "claimed"


def origin_words(origin: str | None, platform: str | None = None) -> str:
    """Who says a date, in a few words, for reports: "recorded by an editor", "Youtube's own upload date"."""
    if origin == "curated":
        return "recorded by an editor"
    if origin == "platform":
        return f"{platform or 'the platform'}'s own upload date"
    if origin == "source":
        return "listed by a crawl source an editor registered"
    return "claimed by a web page, not verified"


# --- dates of uploads and archive items ------------------------------------------
_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


def _count(n: int, unit: str) -> str:
    word = _WORDS[n] if 0 <= n < len(_WORDS) else str(n)
    return f"{word} {unit}{'' if n == 1 else 's'}"


def humanize_days(days: int) -> str:
    if days < 60:
        return _count(days, "day")
    if days < 730:
        return _count(round(days / 30.44), "month")
    return _count(round(days / 365.25), "year")


def source_date(source: SourceInfo) -> KnownDate | None:
    if source.timestamp is not None:
        return KnownDate.from_timestamp(source.timestamp)
    if source.upload_date:
        try:
            return KnownDate.from_upload_date(source.upload_date)
        except ValueError:
            return None
    return None


def item_date(item: ArchiveItem) -> KnownDate | None:
    if not item.published:
        return None
    try:
        return parse_date(item.published)
    except BadInput:
        return None


def date_trusted(item: ArchiveItem) -> bool:
    """The item has a date the archive can stand behind (an editor's, a platform's, a crawl source's)."""
    return item.date_origin in TRUSTED_DATE_ORIGINS and item_date(item) is not None


def curated_first(item: ArchiveItem) -> int:
    """0 for a curated item, 1 for an observed one: on the same day the editors' copy comes first."""
    return 0 if item.kind == "curated" else 1


def sort_by_date(items: Sequence[ArchiveItem]) -> list[ArchiveItem]:
    """Dated uploads oldest first (a curated one first on the same day), then undated ones by when we saw them."""
    def key(item: ArchiveItem) -> tuple[int, str, int, str]:
        d = item_date(item)
        if d is None:
            return (1, "", curated_first(item), item.added_at)
        return (0, d.earliest.isoformat(), curated_first(item), item.added_at)

    return sorted(items, key=key)
