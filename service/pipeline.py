"""Orchestration: link → ingest → decode → fingerprint → archive/match → verdict.

Front ends (CLI, API, web, jobs) call this module and nothing below it: the use
cases here (check, archive_add, archive_import, archive_remove, add_source),
``pipeline.archive`` for reading and editing rows (``archive/access.py``),
``service.crawl.crawl(pipeline, source_id)`` for crawls, and ``pipeline.engine``
for the stores that live beside the archive (jobs, reviews, keys). It knows no
HTTP and no argparse; it raises ``service.errors`` and reports progress through
a ``(fraction, stage)`` callback. Manifests are parsed in ``archive/manifest.py``.

    pipeline = Pipeline.from_settings(Settings())
    item = pipeline.archive_add("original.mp4", ArchiveMetadata(title="Strike", published="2018-03-01"))
    report = pipeline.check("https://example.org/viral.mp4", Claims(date=parse_date("2021-03-11")))
    report.verdict  # "recycled"
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from service.archive.access import Archive
from service.archive.manifest import read_manifest
from service.archive.sources import Source, SourceStore
from service.archive.store import ArchiveStore
from service.dates import DateOrigin, fetched_date_origin, sort_by_date, source_date
from service.db.engine import open_database
from service.ingest.downloader import Downloader, LocalOrYtDlpDownloader, ProgressFn
from service.markup import http_link
from service.match.matcher import Fingerprints, Matcher
from service.match.verdict import decide, footage_history
from service.models import (
    ArchiveItem,
    ArchiveMetadata,
    Claims,
    Match,
    Report,
    SourceInfo,
)
from service.settings import Settings
from service.signals.base import SignalIndex

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = ["Pipeline", "ProgressFn"]

log = logging.getLogger(__name__)


def _no_progress(_fraction: float, _stage: str) -> None:
    return None


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        store: ArchiveStore,
        downloader: Downloader | None = None,
        matcher: Matcher | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.downloader = downloader or LocalOrYtDlpDownloader(settings)
        # Every turned-on signal type's index and the matching over them (service/match/matcher.py).
        self.matcher = matcher or Matcher(settings, store)
        self.sources = SourceStore(store.engine)
        self._archive = Archive(store, self.sources)

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> Pipeline:
        settings.ensure_dirs()
        store = ArchiveStore(open_database(settings.resolved_database_url))
        return cls(settings, store, **kwargs)

    @property
    def archive(self) -> Archive:
        """What front ends read and edit: items, footage, the audit log, crawl sources (``archive/access.py``)."""
        return self._archive

    @property
    def engine(self) -> Engine:
        """The archive's database, for the stores that live beside it (jobs, reviews, keys)."""
        return self.store.engine

    def close(self) -> None:
        """Release database connections (the engine's pool)."""
        self.store.engine.dispose()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def index(self) -> SignalIndex[Any]:
        """The first signal type's index (the video's), built from the store on first use."""
        return self.matcher.index()

    # -- stages --------------------------------------------------------
    def fetch(self, source: str, progress: ProgressFn = _no_progress) -> SourceInfo:
        progress(0.0, "download" if "://" in source else "read file")  # an upload is not downloaded
        info = self.downloader.fetch(source, progress=lambda f, s: progress(0.3 * f, s))
        if info.extractor is None:  # a file, not a page: what its container says about itself
            from service.decode.container import container_info

            own = container_info(Path(info.media_path))
            info = dataclasses.replace(info, duration=info.duration or own.duration, container=own.tags)
        return info

    def fingerprint(self, info: SourceInfo, progress: ProgressFn = _no_progress) -> Fingerprints:
        """Every turned-on signal type's fingerprint of the fetched media."""
        return self.matcher.extract(Path(info.media_path), lambda f, name: progress(0.3 + 0.6 * f, name))

    def match(self, fps: Fingerprints, exclude: Sequence[int] = (), sha256: str | None = None) -> list[Match]:
        """Every archive item the fingerprints match, best first; a byte-identical file (``sha256``) always."""
        return self.matcher.match(fps, exclude, sha256)

    # -- use cases -----------------------------------------------------
    def archive_add(self, source: str, meta: ArchiveMetadata, kind: str = "curated",
                    progress: ProgressFn = _no_progress, keep_media: bool = True,
                    actor: str = "system", origin: str | None = None) -> ArchiveItem:
        """Fingerprint and store ``source``; an ``origin`` seen before returns the item it made."""
        if origin is not None and (done := self.store.find_by_origin(origin)) is not None:
            return done
        info = self.fetch(source, progress)
        fp = self.fingerprint(info, progress)
        progress(0.9, "match")
        matches = self.match(fp, sha256=info.sha256)
        item = self.remember(info, fp, self._fill_from_source(meta, info), kind, matches, keep_media,
                               actor=actor, origin=origin)
        progress(1.0, "done")
        return item

    def remember(self, info: SourceInfo, fp: Fingerprints, meta: ArchiveMetadata, kind: str,
                 matches: Sequence[Match], keep_media: bool, actor: str = "system",
                 origin: str | None = None, date_origin: DateOrigin | None = None,
                 claims: Claims | None = None) -> ArchiveItem:
        """Store fetched, fingerprinted media: one transaction for the item and its records, then index it and
        link its footage (``matches``). Used by ``archive_add``, ``check(remember=True)`` and ``crawl.py``."""
        media_path = self._keep_media(info) if keep_media else None
        item = self.store.add(meta, self.matcher.records(fp), info.sha256, kind=kind, media_path=media_path,
                              actor=actor, origin=origin, date_origin=date_origin, claims=claims,
                              duration=fp.summary.duration, frame_count=fp.summary.frames)
        self.matcher.add(item.id, fp)
        if matches:
            self._link(item.id, matches)
            item = self.store.get(item.id)
        return item

    def _link(self, item_id: int, matches: Sequence[Match]) -> None:
        self.store.link(item_id, {
            m.item.id: (m.score, json.dumps([seg.to_dict() for seg in m.segments])) for m in matches
        })

    def relatives(self, matches: Sequence[Match]) -> list[ArchiveItem]:
        """Every upload in the footage clusters of ``matches`` (the matches included)."""
        seen: dict[int, ArchiveItem] = {}
        for footage_id in sorted({m.item.footage_id or m.item.id for m in matches}):
            for item in self.store.footage(footage_id):
                seen[item.id] = item
        for m in matches:
            seen.setdefault(m.item.id, m.item)
        return list(seen.values())

    def archive_remove(self, item_id: int, actor: str = "system") -> ArchiveItem:
        item = self.store.remove(item_id, actor=actor)
        self.matcher.remove(item_id)
        return item

    def archive_import(self, folder: Path, manifest: Path,
                       progress: Callable[[int, int, str], None] | None = None) -> list[ArchiveItem]:
        """Add every file listed in a CSV or JSON manifest (``archive/manifest.py``), checked whole first."""
        entries = read_manifest(folder, manifest)
        added: list[ArchiveItem] = []
        for i, entry in enumerate(entries):
            if progress:
                progress(i, len(entries), entry.path.name)
            added.append(self.archive_add(str(entry.path), entry.meta))
        if progress:
            progress(len(entries), len(entries), "")
        return added

    def check(self, source: str, claims: Claims | None = None, remember: bool = False,
              progress: ProgressFn = _no_progress, actor: str = "system", origin: str | None = None) -> Report:
        """Match ``source`` and decide; ``origin`` names the attempt so a re-run remembers the upload once."""
        claims = claims or Claims()
        info = self.fetch(source, progress)
        fp = self.fingerprint(info, progress)
        if info.duration is None:  # an upload, or a site that did not say: the decoded length
            info = dataclasses.replace(info, duration=round(fp.duration, 3))
        progress(0.92, "match")
        # A crashed earlier attempt of this very check may have remembered the upload already:
        # that copy is the upload itself, not prior evidence.
        earlier_attempt = self.store.find_by_origin(origin) if origin is not None else None
        matches = self.match(fp, exclude=[earlier_attempt.id] if earlier_attempt else (), sha256=info.sha256)
        footage = self.relatives(matches)
        searched = self.store.extent()  # before this upload is remembered: what the check looked through
        verdict, earliest, explanation = decide(matches, claims, info, footage, searched)
        remembered: int | None = None
        if remember and earlier_attempt is not None:
            remembered = earlier_attempt.id  # stored, indexed and linked by that attempt
        elif remember:
            meta = ArchiveMetadata(
                title=info.title, published=_published_from(info),
                source_url=http_link(info.webpage_url) or http_link(info.input),
                platform=info.extractor, uploader=info.uploader or info.channel,
            )
            # A reader's check vouches for nothing: its date is the platform's, or only what the page claims;
            # the date, place and event it was checked against are the upload's claim, never provenance.
            remembered = self.remember(info, fp, meta, "observed", matches, keep_media=True, actor=actor,
                                         origin=origin,
                                         date_origin=fetched_date_origin(info.extractor, info.webpage_url),
                                         claims=claims).id
        progress(1.0, "done")
        return Report(verdict=verdict, explanation=explanation, source=info, claims=claims,
                      earliest=earliest, matches=tuple(matches), remembered_id=remembered,
                      footage=tuple(sort_by_date(footage)), searched=searched,
                      history=footage_history(matches, footage))

    def add_source(self, url: str) -> Source:
        from service.ingest.safety import check_url

        check_url(url, self.settings.allow_hosts)
        return self.sources.add(url)

    def downloader_cache_drop(self, url: str) -> None:
        drop = getattr(self.downloader, "drop_cached", None)
        if drop is not None:
            drop(url)

    # -- helpers -------------------------------------------------------
    def _fill_from_source(self, meta: ArchiveMetadata, info: SourceInfo) -> ArchiveMetadata:
        return replace(
            meta,
            title=meta.title or info.title,
            published=meta.published or _published_from(info),
            source_url=meta.source_url or http_link(info.webpage_url),  # a page may name any address
            platform=meta.platform or info.extractor,
            uploader=meta.uploader or info.uploader or info.channel,
        )

    def _keep_media(self, info: SourceInfo) -> str:
        """A copy of the media under FIRSTSEEN_HOME for evidence pictures later."""
        src = Path(info.media_path)
        dest = self.settings.media_dir / f"{info.sha256}{src.suffix.lower() or '.mp4'}"
        if not dest.exists():
            self.settings.media_dir.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_suffix(dest.suffix + ".tmp")
            shutil.copyfile(src, tmp)
            tmp.replace(dest)
        return str(dest)


def _published_from(info: SourceInfo) -> str | None:
    known = source_date(info)
    return known.text if known else None
