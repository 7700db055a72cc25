"""Listing a source: the videos on a channel, playlist, user page or feed.

Part of ingest, for crawling. yt-dlp enumerates the source without downloading
(``extract_flat``); each entry gets a stable key (the site's id, a feed item's
guid, or the media URL — never its position on the page, which shifts when
something new is posted) so a later crawl knows what it has already taken.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from yt_dlp.utils import unsmuggle_url

from service.errors import FetchFailed, FirstseenError
from service.settings import Settings

__all__ = ["ListedEntry", "SourceListing", "list_source"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ListedEntry:
    key: str
    url: str
    title: str | None = None
    timestamp: float | None = None
    upload_date: str | None = None
    uploader: str | None = None


@dataclass(frozen=True)
class SourceListing:
    title: str | None
    entries: tuple[ListedEntry, ...]


def _entry(raw: dict[str, Any], channel: str | None) -> ListedEntry | None:
    url = raw.get("url") or raw.get("webpage_url")
    if not url:
        return None
    url, smuggled = unsmuggle_url(url, {})
    if (smuggled or {}).get("force_videoid"):  # a feed item's guid
        key = str(smuggled["force_videoid"])
    elif raw.get("ie_key") and raw.get("id"):  # a site's own video id
        key = f"{raw['ie_key']}:{raw['id']}"
    else:  # media embedded in a page: its URL, not its position on the page
        key = url
    return ListedEntry(
        key=key, url=url, title=raw.get("title"), timestamp=raw.get("timestamp"),
        upload_date=raw.get("upload_date"), uploader=raw.get("uploader") or raw.get("channel") or channel,
    )


def list_source(url: str, settings: Settings, max_items: int = 500) -> SourceListing:
    """Enumerate ``url`` (newest entries as the site orders them), at most ``max_items``."""
    from service.ingest.downloader import YtDlpLogger, clean_message
    from service.ingest.safety import check_url, guarded_youtube_dl, release_responses, unwrap_refusal

    check_url(url, settings.allow_hosts)
    params = {
        "extract_flat": "in_playlist",
        "playlistend": max_items,
        "quiet": True,
        "no_warnings": True,
        "logger": YtDlpLogger(),
        "socket_timeout": settings.socket_timeout_s,
        "cachedir": False,
    }
    try:
        with guarded_youtube_dl(params, settings.allow_hosts, max_body_bytes=settings.max_download_bytes) as ydl:
            raw = ydl.extract_info(url, download=False)
            info = ydl.sanitize_info(raw) if raw else {}
    except FirstseenError:
        raise
    except Exception as exc:
        release_responses(exc)
        refusal = unwrap_refusal(exc)
        if refusal is not None:
            raise refusal from None
        raise FetchFailed(f"could not list {url}: {clean_message(exc)}") from None
    channel = info.get("uploader") or info.get("channel") or info.get("title")
    if info.get("_type") not in ("playlist", "multi_video"):
        single = _entry({**info, "url": info.get("webpage_url") or url}, channel)
        return SourceListing(info.get("title"), (single,) if single else ())
    entries = [e for raw_entry in info.get("entries") or [] if raw_entry and (e := _entry(raw_entry, channel))]
    return SourceListing(info.get("title"), tuple(entries[:max_items]))
