"""Crawl sources (channels, playlists, feeds) and the entries already taken from them.

Part of archive. Like yt-dlp's download archive, ``seen`` remembers every entry
key a crawl has handled (fetched or failed permanently), so the next crawl
fetches only what is new.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from service.archive.store import MAX_ID
from service.db.tables import seen_entries, sources
from service.errors import Conflict, NotFound

__all__ = ["Source", "SourceStore"]

def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Source:
    id: int
    url: str
    title: str | None
    added_at: str
    last_crawled_at: str | None
    last_status: str | None
    entries_seen: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class SourceStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, url: str, title: str | None = None) -> Source:
        with self.engine.begin() as c:
            exists = c.execute(sa.select(sources.c.id).where(sources.c.url == url)).scalar()
            if exists is not None:
                raise Conflict(f"source {url} is already registered as {exists}")
            sid = c.execute(sources.insert().values(url=url, title=title, added_at=_now())
                            .returning(sources.c.id)).scalar_one()
        return self.get(sid)

    def get(self, source_id: int) -> Source:
        if not 0 < source_id <= MAX_ID:
            raise NotFound(f"no source {source_id}")
        with self.engine.connect() as c:
            row = c.execute(sources.select().where(sources.c.id == source_id)).one_or_none()
            if row is None:
                raise NotFound(f"no source {source_id}")
            n = c.execute(sa.select(sa.func.count()).select_from(seen_entries)
                          .where(seen_entries.c.source_id == source_id)).scalar_one()
        return Source(**row._mapping, entries_seen=int(n))

    def list(self) -> list[Source]:
        with self.engine.connect() as c:
            ids = [r[0] for r in c.execute(sa.select(sources.c.id).order_by(sources.c.id))]
        return [self.get(i) for i in ids]

    def remove(self, source_id: int) -> None:
        if not 0 < source_id <= MAX_ID:
            raise NotFound(f"no source {source_id}")
        with self.engine.begin() as c:
            c.execute(seen_entries.delete().where(seen_entries.c.source_id == source_id))
            if c.execute(sources.delete().where(sources.c.id == source_id)).rowcount == 0:
                raise NotFound(f"no source {source_id}")

    def seen_keys(self, source_id: int) -> set[str]:
        with self.engine.connect() as c:
            stmt = sa.select(seen_entries.c.entry_key).where(seen_entries.c.source_id == source_id)
            return {r[0] for r in c.execute(stmt)}

    def mark(self, source_id: int, key: str, status: str, item_id: int | None = None) -> None:
        with self.engine.begin() as c:
            c.execute(seen_entries.delete().where((seen_entries.c.source_id == source_id)
                                                  & (seen_entries.c.entry_key == key)))
            c.execute(seen_entries.insert().values(source_id=source_id, entry_key=key, item_id=item_id,
                                                   status=status, seen_at=_now()))

    def crawled(self, source_id: int, status: str, title: str | None = None) -> None:
        values: dict[str, Any] = {"last_crawled_at": _now(), "last_status": status}
        if title:
            values["title"] = title
        with self.engine.begin() as c:
            c.execute(sources.update().where(sources.c.id == source_id).values(**values))
