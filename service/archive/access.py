"""What the front ends may do with the archive: read items, their footage and the audit log, edit provenance,
manage crawl sources — the one door to ``ArchiveStore`` and ``SourceStore`` from above.

Part of archive. ``Pipeline.archive`` is one of these, over the pipeline's own stores; a command that only
reads rows (``firstseen archive list``, ``footage show``) builds one from the database alone, so it never
imports the pipeline's stages (yt-dlp, PyAV, the index). Whatever changes the index (adding or removing an
item) goes through ``Pipeline``, not through here.

    archive = Archive.open(open_database(settings.resolved_database_url))
    view = archive.footage(item_id)   # every upload of the footage, oldest first, and what each shares
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from service.archive.sources import Source, SourceStore
from service.archive.store import ArchiveStore
from service.dates import sort_by_date
from service.errors import NotFound
from service.models import ArchiveItem, Segment

__all__ = ["Archive", "AuditEntry", "FootageLink", "FootageView"]


@dataclass(frozen=True)
class AuditEntry:
    """One change to the archive: who made it, when, and the item before and after (``ArchiveItem.to_dict``)."""

    id: int
    at: str
    actor: str
    action: str
    item_id: int | None
    before: dict[str, object] | None
    after: dict[str, object] | None

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "at": self.at, "actor": self.actor, "action": self.action, "item_id": self.item_id,
                "before": self.before, "after": self.after}


@dataclass(frozen=True)
class FootageLink:
    """Upload ``item`` shows, in ``segments``, the seconds of upload ``shares_with`` (``item`` as the query)."""

    item: int
    shares_with: int
    score: float
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class FootageView:
    """Every known upload of one piece of footage, oldest first, and the links that join them."""

    footage_id: int
    members: tuple[ArchiveItem, ...]
    links: tuple[FootageLink, ...]

    def shared_by(self, item_id: int) -> tuple[FootageLink, ...]:
        """The links where ``item_id`` is the query side."""
        return tuple(link for link in self.links if link.item == item_id)


class Archive:
    """Items, footage, the audit log and crawl sources, for front ends; every call is its own transaction."""

    def __init__(self, store: ArchiveStore, sources: SourceStore | None = None) -> None:
        self._store = store
        self._sources = sources if sources is not None else SourceStore(store.engine)

    @classmethod
    def open(cls, engine: Engine) -> Archive:
        """The archive of an open (migrated) database, without a pipeline."""
        return cls(ArchiveStore(engine))

    @property
    def engine(self) -> Engine:
        """The database the archive lives in, for the stores beside it (jobs, reviews, keys)."""
        return self._store.engine

    # -- items ---------------------------------------------------------
    def item(self, item_id: int) -> ArchiveItem:
        """NotFound when there is no such item."""
        return self._store.get(item_id)

    def items(self, q: str | None = None, kind: str | None = None, limit: int = 1000,
              offset: int = 0) -> list[ArchiveItem]:
        """Items by id, those whose title, place, event, notes or source contain ``q``, of one ``kind``."""
        return self._store.list(limit=limit, offset=offset, q=q, kind=kind)

    def count(self) -> int:
        return self._store.count()

    def update_item(self, item_id: int, changes: dict[str, str | None], actor: str = "system") -> ArchiveItem:
        """Correct an item's provenance (``store.EDITABLE`` fields); recorded in the audit log."""
        return self._store.update(item_id, changes, actor=actor)

    def kept_media(self, item_id: int) -> Path:
        """The item's media file; NotFound when it was not kept or is gone."""
        path = self._store.media_path(item_id)
        if not path or not Path(path).is_file():
            raise NotFound(f"the media of archive item {item_id} is no longer kept")
        return Path(path)

    def media_paths(self) -> set[str]:
        """Every kept media file of an archived item (retention never removes these)."""
        return self._store.media_paths()

    def footage(self, item_id: int) -> FootageView:
        """The footage ``item_id`` belongs to (NotFound when there is no such item)."""
        item = self._store.get(item_id)
        members = sort_by_date(self._store.footage(item.footage_id) if item.footage_id else [item])
        links = tuple(
            FootageLink(a, b, score, tuple(Segment.from_dict(s) for s in json.loads(segments)))
            for a, b, score, segments in self._store.links_among([m.id for m in members])
        )
        return FootageView(members[0].footage_id or members[0].id, tuple(members), links)

    def audit_log(self, limit: int = 200, offset: int = 0) -> list[AuditEntry]:
        """Changes, newest first."""
        return [AuditEntry(id=e["id"], at=e["at"], actor=e["actor"], action=e["action"], item_id=e["item_id"],
                           before=e["before"], after=e["after"])
                for e in self._store.audit_log(limit=limit, offset=offset)]

    # -- the whole archive as one file -----------------------------------
    def export_to(self, path: Path) -> tuple[int, int]:
        """Write every item, its records and every footage link (``exchange.py``); returns (items, links)."""
        from service.archive.exchange import export_archive  # numpy: time a command that only reads rows saves

        return export_archive(self._store, path)

    def import_from(self, path: Path, *, max_bytes: int, actor: str = "import") -> tuple[int, int]:
        """Restore an export file in one transaction; returns (items, links) added."""
        from service.archive.exchange import import_archive

        return import_archive(self._store, path, actor, max_bytes=max_bytes)

    # -- crawl sources -------------------------------------------------
    def sources(self) -> list[Source]:
        return self._sources.list()

    def source(self, source_id: int) -> Source:
        """NotFound when there is no such source."""
        return self._sources.get(source_id)

    def remove_source(self, source_id: int) -> None:
        """Stop crawling a source; what it added stays."""
        self._sources.remove(source_id)
