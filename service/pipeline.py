"""Orchestration: link → ingest → decode → fingerprint → archive/match → verdict.

Front ends (CLI, API, web, jobs) call this module and nothing below it. It
knows no HTTP and no argparse; it raises ``service.errors`` and reports
progress through a ``(fraction, stage)`` callback.

    pipeline = Pipeline.from_settings(Settings())
    item = pipeline.archive_add("original.mp4", ArchiveMetadata(title="Strike", published="2018-03-01"))
    report = pipeline.check("https://example.org/viral.mp4", Claims(date=parse_date("2021-03-11")))
    report.verdict  # "recycled"
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from service.archive.sources import Source, SourceStore
from service.archive.store import ArchiveStore
from service.dates import DateOrigin, fetched_date_origin, sort_by_date, source_date
from service.db.engine import open_database
from service.errors import BadInput, DecodeError, FirstseenError, TooLarge
from service.ingest.downloader import Downloader, LocalOrYtDlpDownloader, ProgressFn
from service.ingest.listing import list_source
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

__all__ = ["CrawlSummary", "Pipeline", "ProgressFn"]

log = logging.getLogger(__name__)


def _no_progress(_fraction: float, _stage: str) -> None:
    return None


@dataclass(frozen=True)
class CrawlSummary:
    source_id: int
    listed: int
    new: int
    added: tuple[int, ...]
    failed: tuple[tuple[str, str], ...]  # (url, reason)


MANIFEST_FIELDS = ("file", "title", "published", "location", "event", "source_url", "notes",
                   "factcheck_url", "platform", "uploader")


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

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> Pipeline:
        settings.ensure_dirs()
        store = ArchiveStore(open_database(settings.resolved_database_url))
        return cls(settings, store, **kwargs)

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
        item = self._store_new(info, fp, self._fill_from_source(meta, info), kind, matches, keep_media,
                               actor=actor, origin=origin)
        progress(1.0, "done")
        return item

    def _store_new(self, info: SourceInfo, fp: Fingerprints, meta: ArchiveMetadata, kind: str,
                   matches: Sequence[Match], keep_media: bool, actor: str = "system",
                   origin: str | None = None, date_origin: DateOrigin | None = None,
                   claims: Claims | None = None) -> ArchiveItem:
        """One transaction for the item and its hashes, then index it and link its footage."""
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
        """Add every file listed in a CSV or JSON manifest; the manifest is checked whole first."""
        rows = read_manifest(manifest)
        missing = [r["file"] for r in rows if not (folder / r["file"]).is_file()]
        if missing:
            raise BadInput(f"manifest lists files not in {folder}: {', '.join(missing[:5])}")
        metas = []  # a bad link in any row refuses the manifest before anything is added
        for row in rows:
            try:
                metas.append(ArchiveMetadata(**{k: row.get(k) or None for k in MANIFEST_FIELDS if k != "file"}))
            except BadInput as exc:
                raise BadInput(f"manifest row {row['file']}: {exc}") from None
        added: list[ArchiveItem] = []
        for i, (row, meta) in enumerate(zip(rows, metas, strict=True)):
            if progress:
                progress(i, len(rows), row["file"])
            added.append(self.archive_add(str(folder / row["file"]), meta))
        if progress:
            progress(len(rows), len(rows), "")
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
            remembered = self._store_new(info, fp, meta, "observed", matches, keep_media=True, actor=actor,
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

    def crawl(self, source_id: int, keep_media: bool = False,
              progress: Callable[[int, int, str], None] | None = None) -> CrawlSummary:
        """Fetch the source's entries not seen before; one failing entry never stops the crawl."""
        source = self.sources.get(source_id)
        try:
            listing = list_source(source.url, self.settings)
        except FirstseenError as exc:
            self.sources.crawled(source_id, f"listing failed: {exc}")
            return CrawlSummary(source_id, 0, 0, (), ((source.url, str(exc)),))
        seen = self.sources.seen_keys(source_id)
        new = [e for e in listing.entries if e.key not in seen]
        added: list[int] = []
        failed: list[tuple[str, str]] = []
        for n, entry in enumerate(new):
            if progress:
                progress(n, len(new), entry.title or entry.url)
            origin = crawl_origin(source_id, entry.key)
            try:
                if (done := self.store.find_by_origin(origin)) is not None:  # stored, then the crawl died
                    self.sources.mark(source_id, entry.key, "added", done.id)
                    added.append(done.id)
                    continue
                info = self.fetch(entry.url)
                fp = self.fingerprint(info)
                meta = ArchiveMetadata(
                    title=entry.title or info.title,
                    published=_published_from(replace(info, timestamp=entry.timestamp or info.timestamp,
                                                      upload_date=entry.upload_date or info.upload_date)),
                    source_url=http_link(entry.url), platform=listing.title or source.url,
                    uploader=entry.uploader or info.uploader,
                )
                # An editor registered the source: its listing dates count, a platform's as the platform's.
                platform = fetched_date_origin(info.extractor, info.webpage_url) == "platform"
                item = self._store_new(info, fp, meta, "observed", self.match(fp, sha256=info.sha256), keep_media,
                                       origin=origin, date_origin="platform" if platform else "source")
                self.sources.mark(source_id, entry.key, "added", item.id)
                added.append(item.id)
            except (DecodeError, TooLarge) as exc:  # the entry itself is unusable: don't retry it
                log.warning("skipping %s from source %d: %s", entry.url, source_id, exc)
                self.sources.mark(source_id, entry.key, "failed")
                failed.append((entry.url, str(exc)))
            except FirstseenError as exc:  # maybe transient: try again next crawl
                log.warning("could not fetch %s from source %d: %s", entry.url, source_id, exc)
                failed.append((entry.url, str(exc)))
            finally:
                if not keep_media:
                    self.downloader_cache_drop(entry.url)
        if progress:
            progress(len(new), len(new), "")
        self.sources.crawled(source_id, f"{len(added)} added, {len(failed)} failed", listing.title)
        return CrawlSummary(source_id, len(listing.entries), len(new), tuple(added), tuple(failed))

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


def crawl_origin(source_id: int, entry_key: str) -> str:
    """The origin of an item a crawl stores: bounded in length whatever the entry key (a URL) is."""
    return f"crawl:{source_id}:{hashlib.sha256(entry_key.encode()).hexdigest()[:32]}"


def _published_from(info: SourceInfo) -> str | None:
    known = source_date(info)
    return known.text if known else None


def read_manifest(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise BadInput(f"no such manifest: {path}")
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(path.read_text())
            rows = data["items"] if isinstance(data, dict) else data
        else:
            with path.open(newline="") as fh:
                rows = list(csv.DictReader(fh))
    except (json.JSONDecodeError, KeyError, csv.Error, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read manifest {path.name}: {exc}") from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise BadInput(f"manifest {path.name} must be a list of objects")
    for n, row in enumerate(rows, 1):
        if not row.get("file"):
            raise BadInput(f"manifest {path.name} row {n} has no 'file'")
        unknown = set(row) - set(MANIFEST_FIELDS)
        if unknown:
            raise BadInput(f"manifest {path.name} row {n} has unknown field(s): {', '.join(sorted(unknown))}")
    return rows
