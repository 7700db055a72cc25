"""Crawls: a registered source's new uploads fetched, fingerprinted, matched and remembered.

Beside ``pipeline.py`` (orchestration): a source (channel, playlist, page of ``<video>``s, RSS/Atom feed) is
listed by ``ingest/listing.py``; each entry has a stable key, and the source's seen keys
(``archive/sources.py``) make a re-crawl take only new ones. Each new entry goes through the pipeline's
stages and is stored as an ``observed`` item linked to the uploads it shares footage with. One failing
entry never stops the crawl: an unusable one (not a video, too large) is not tried again, any other
failure is tried again next crawl. The CLI's ``crawl``/``watch`` and the ``crawl`` job call ``crawl``.

    summary = crawl(pipeline, source_id)
    summary.added  # archive ids of the new uploads
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from service.dates import fetched_date_origin, source_date
from service.errors import DecodeError, FirstseenError, TooLarge
from service.ingest.listing import list_source
from service.markup import http_link
from service.models import ArchiveMetadata

if TYPE_CHECKING:
    from service.pipeline import Pipeline

__all__ = ["CrawlSummary", "crawl", "crawl_origin"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CrawlSummary:
    source_id: int
    listed: int
    new: int
    added: tuple[int, ...]
    failed: tuple[tuple[str, str], ...]  # (url, reason)


def crawl_origin(source_id: int, entry_key: str) -> str:
    """The origin of an item a crawl stores: bounded in length whatever the entry key (a URL) is."""
    return f"crawl:{source_id}:{hashlib.sha256(entry_key.encode()).hexdigest()[:32]}"


def crawl(pipeline: Pipeline, source_id: int, keep_media: bool = False,
          progress: Callable[[int, int, str], None] | None = None) -> CrawlSummary:
    """Fetch the source's entries not seen before; one failing entry never stops the crawl."""
    sources = pipeline.sources
    source = sources.get(source_id)
    try:
        listing = list_source(source.url, pipeline.settings)
    except FirstseenError as exc:
        sources.crawled(source_id, f"listing failed: {exc}")
        return CrawlSummary(source_id, 0, 0, (), ((source.url, str(exc)),))
    seen = sources.seen_keys(source_id)
    new = [e for e in listing.entries if e.key not in seen]
    added: list[int] = []
    failed: list[tuple[str, str]] = []
    for n, entry in enumerate(new):
        if progress:
            progress(n, len(new), entry.title or entry.url)
        origin = crawl_origin(source_id, entry.key)
        try:
            if (done := pipeline.store.find_by_origin(origin)) is not None:  # stored, then the crawl died
                sources.mark(source_id, entry.key, "added", done.id)
                added.append(done.id)
                continue
            info = pipeline.fetch(entry.url)
            fp = pipeline.fingerprint(info)
            listed = source_date(replace(info, timestamp=entry.timestamp or info.timestamp,
                                         upload_date=entry.upload_date or info.upload_date))
            meta = ArchiveMetadata(
                title=entry.title or info.title, published=listed.text if listed else None,
                source_url=http_link(entry.url), platform=listing.title or source.url,
                uploader=entry.uploader or info.uploader,
            )
            # An editor registered the source: its listing dates count, a platform's as the platform's.
            platform = fetched_date_origin(info.extractor, info.webpage_url) == "platform"
            item = pipeline.remember(info, fp, meta, "observed", pipeline.match(fp, sha256=info.sha256), keep_media,
                                     origin=origin, date_origin="platform" if platform else "source")
            sources.mark(source_id, entry.key, "added", item.id)
            added.append(item.id)
        except (DecodeError, TooLarge) as exc:  # the entry itself is unusable: don't retry it
            log.warning("skipping %s from source %d: %s", entry.url, source_id, exc)
            sources.mark(source_id, entry.key, "failed")
            failed.append((entry.url, str(exc)))
        except FirstseenError as exc:  # maybe transient: try again next crawl
            log.warning("could not fetch %s from source %d: %s", entry.url, source_id, exc)
            failed.append((entry.url, str(exc)))
        finally:
            if not keep_media:
                pipeline.downloader_cache_drop(entry.url)
    if progress:
        progress(len(new), len(new), "")
    sources.crawled(source_id, f"{len(added)} added, {len(failed)} failed", listing.title)
    return CrawlSummary(source_id, len(listing.entries), len(new), tuple(added), tuple(failed))
