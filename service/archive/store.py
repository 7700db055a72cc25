"""Archive storage: items with provenance and their fingerprints, one per signal type.

Part of archive (fingerprint → **archive** → match). One data-access layer on
SQLAlchemy Core serves the embedded SQLite file (default) and PostgreSQL
(``FIRSTSEEN_DATABASE_URL=postgresql+psycopg://…``). Each signal type's
fingerprint of an item is one ``SignalRecord`` row in ``signals`` (see
``service.signals.base``): the store keeps the bytes and never reads them, so a
new signal type needs no table or migration of its own. A record's ``payload``
is one blob (loading a million frames is one scan, not a million rows); its
``detail`` is read only when asked for (a check's few candidates).

One ingest is one transaction: the item row and its records are written
together or not at all.
"""

from __future__ import annotations

import builtins  # ArchiveStore.list shadows the builtin inside the class
import datetime as dt
import json
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from service.dates import DATE_ORIGINS
from service.db.tables import audit, items, links, signals
from service.errors import BadInput, NotFound
from service.models import (
    LINK_FIELDS,
    ArchiveExtent,
    ArchiveItem,
    ArchiveMetadata,
    Claims,
    SignalRecord,
    check_link_field,
)

__all__ = ["EDITABLE", "MAX_ID", "ArchiveStore"]

log = logging.getLogger(__name__)


EDITABLE = ("title", "published", "location", "event", "source_url", "notes", "factcheck_url",
            "platform", "uploader")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _row_to_item(row: Any) -> ArchiveItem:
    m = row._mapping
    return ArchiveItem(
        id=m["id"], kind=m["kind"], title=m["title"], published=m["published"],
        location=m["location"], event=m["event"], source_url=m["source_url"], notes=m["notes"],
        factcheck_url=m["factcheck_url"], platform=m["platform"], uploader=m["uploader"],
        sha256=m["sha256"], duration=m["duration"], frame_count=m["frame_count"],
        added_at=m["added_at"], footage_id=m["footage_id"], date_origin=m["date_origin"],
        claimed_date=m["claimed_date"], claimed_location=m["claimed_location"], claimed_event=m["claimed_event"],
    )


MAX_ID = 2**31 - 1  # PostgreSQL's integer; larger numbers overflow the drivers instead of matching nothing


def _known_id(item_id: int) -> int:
    if not 0 < item_id <= MAX_ID:
        raise NotFound(f"no archive item {item_id}")
    return item_id


class ArchiveStore:
    """CRUD over items and fingerprints; every write is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- writes --------------------------------------------------------
    def add(
        self,
        meta: ArchiveMetadata,
        records: Sequence[SignalRecord],
        sha256: str,
        kind: str = "curated",
        media_path: str | None = None,
        conn: sa.Connection | None = None,
        actor: str = "system",
        added_at: str | None = None,
        origin: str | None = None,
        date_origin: str | None = None,
        claims: Claims | None = None,
        *,
        duration: float,
        frame_count: int,
    ) -> ArchiveItem:
        """Store a new item and its signal records; with an ``origin`` already stored, return that item instead.

        ``duration`` (s) and ``frame_count`` describe the media (``service.signals.base.Summary``).

        ``date_origin`` says who vouches for ``meta.published``; left out, a curated item's date is
        the editor's and an observed item's only claimed. ``claims`` is what the upload itself claimed
        (a remembered check's date, place and event), kept apart from provenance. Callers look an origin up before the
        expensive work; the unique constraint settles races.
        """
        if kind not in ("curated", "observed"):
            raise BadInput(f"unknown item kind {kind!r}")
        if date_origin is not None and date_origin not in DATE_ORIGINS:
            raise BadInput(f"unknown date origin {date_origin!r}: use one of {', '.join(DATE_ORIGINS)}")
        if not meta.published:
            date_origin = None
        elif date_origin is None:
            date_origin = "curated" if kind == "curated" else "claimed"
        values = {f: getattr(meta, f) for f in EDITABLE}
        values.update(
            kind=kind, sha256=sha256, duration=float(duration),
            frame_count=int(frame_count), added_at=added_at or _now(), media_path=media_path,
            origin=origin, date_origin=date_origin,
            claimed_date=claims.date_text if claims else None, claimed_location=claims.location if claims else None,
            claimed_event=claims.event if claims else None,
        )
        try:
            return self._insert(values, records, conn, actor)
        except sa.exc.IntegrityError:
            existing = self.find_by_origin(origin) if origin is not None and conn is None else None
            if existing is None:
                raise
            return existing  # a concurrent attempt with the same origin won

    def _insert(self, values: dict[str, Any], records: Sequence[SignalRecord], conn: sa.Connection | None,
                actor: str) -> ArchiveItem:
        names = [r.signal for r in records]
        if len(set(names)) != len(names):
            raise ValueError(f"one record per signal and item: {names}")
        with self._tx(conn) as c:
            item_id = c.execute(items.insert().values(**values).returning(items.c.id)).scalar_one()
            if records:
                c.execute(signals.insert(), [
                    {"item_id": item_id, "signal": r.signal, "version": r.version, "payload": r.payload,
                     "detail": r.detail} for r in records])
            row = c.execute(items.select().where(items.c.id == item_id)).one()
            item = _row_to_item(row)
            self._audit(c, actor, "add", item_id, None, item)
        return item

    @staticmethod
    def _audit(c: sa.Connection, actor: str, action: str, item_id: int | None,
               before: ArchiveItem | None, after: ArchiveItem | None) -> None:
        c.execute(audit.insert().values(
            at=_now(), actor=actor, action=action, item_id=item_id,
            before=json.dumps(before.to_dict()) if before else None,
            after=json.dumps(after.to_dict()) if after else None,
        ))

    def audit_log(self, limit: int = 200, offset: int = 0) -> list[dict[str, Any]]:
        stmt = audit.select().order_by(audit.c.id.desc()).limit(limit).offset(offset)
        with self.engine.connect() as c:
            return [{**r._mapping, "before": json.loads(r.before) if r.before else None,
                     "after": json.loads(r.after) if r.after else None} for r in c.execute(stmt)]

    def update(self, item_id: int, changes: dict[str, Any], actor: str = "system") -> ArchiveItem:
        _known_id(item_id)
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise BadInput(f"cannot edit field(s): {', '.join(sorted(unknown))}")
        for name in LINK_FIELDS:
            check_link_field(name, changes.get(name))
        values = dict(changes)
        if "published" in changes:  # an editor who sets a date vouches for it
            values["date_origin"] = "curated" if changes["published"] else None
        with self.engine.begin() as c:
            row = c.execute(items.select().where(items.c.id == item_id)).one_or_none()
            if row is None:
                raise NotFound(f"no archive item {item_id}")
            if changes:
                c.execute(items.update().where(items.c.id == item_id).values(**values))
                after = _row_to_item(c.execute(items.select().where(items.c.id == item_id)).one())
                self._audit(c, actor, "update", item_id, _row_to_item(row), after)
                return after
        return _row_to_item(row)

    def remove(self, item_id: int, actor: str = "system") -> ArchiveItem:
        _known_id(item_id)
        with self.engine.begin() as c:
            row = c.execute(items.select().where(items.c.id == item_id)).one_or_none()
            if row is None:
                raise NotFound(f"no archive item {item_id}")
            self._audit(c, actor, "remove", item_id, _row_to_item(row), None)
            c.execute(links.delete().where(sa.or_(links.c.item_a == item_id, links.c.item_b == item_id)))
            c.execute(signals.delete().where(signals.c.item_id == item_id))
            c.execute(items.delete().where(items.c.id == item_id))
            footage = row._mapping["footage_id"]
            if footage == item_id:
                self._recluster(c, item_id)
        return _row_to_item(row)

    def _recluster(self, c: sa.Connection, old_footage: int) -> None:
        """After removing a cluster's namesake, renumber its remaining members by their links."""
        members = [r[0] for r in c.execute(sa.select(items.c.id).where(items.c.footage_id == old_footage))]
        if not members:
            return
        c.execute(items.update().where(items.c.footage_id == old_footage).values(footage_id=None))
        edges = [(a, b) for a, b in c.execute(sa.select(links.c.item_a, links.c.item_b).where(
            links.c.item_a.in_(members) | links.c.item_b.in_(members)))]
        parent = {m: m for m in members}

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for a, b in edges:
            if a in parent and b in parent:
                ra, rb = find(a), find(b)
                parent[max(ra, rb)] = min(ra, rb)
        for m in members:
            c.execute(items.update().where(items.c.id == m).values(footage_id=find(m)))

    # -- footage clusters ----------------------------------------------
    def link(self, item_id: int, others: dict[int, tuple[float, str]]) -> int:
        """Record that ``item_id`` shares footage with ``others`` ({id: (score, segments JSON)});
        merge their clusters into one and return its footage id (the lowest member id)."""
        with self.engine.begin() as c:
            for other, (score, segments) in others.items():
                if other == item_id:
                    continue
                c.execute(links.delete().where((links.c.item_a == item_id) & (links.c.item_b == other)))
                c.execute(links.insert().values(item_a=item_id, item_b=other, score=score, segments=segments))
            ids = [item_id, *others]
            rows = c.execute(sa.select(items.c.id, items.c.footage_id).where(items.c.id.in_(ids))).all()
            clusters = {fid if fid is not None else iid for iid, fid in rows}
            members_of = sa.select(items.c.id).where(items.c.footage_id.in_(clusters))
            all_ids = set(ids) | {r[0] for r in c.execute(members_of)}
            target = min(all_ids)
            c.execute(items.update().where(items.c.id.in_(all_ids)).values(footage_id=target))
        return target

    def footage(self, footage_id: int) -> list[ArchiveItem]:
        with self.engine.connect() as c:
            rows = c.execute(items.select().where(items.c.footage_id == footage_id).order_by(items.c.id))
            return [_row_to_item(r) for r in rows]

    def links_among(self, item_ids: list[int]) -> list[tuple[int, int, float, str]]:
        with self.engine.connect() as c:
            stmt = sa.select(links.c.item_a, links.c.item_b, links.c.score, links.c.segments).where(
                links.c.item_a.in_(item_ids) & links.c.item_b.in_(item_ids))
            return [(a, b, s, j) for a, b, s, j in c.execute(stmt)]

    # -- reads ---------------------------------------------------------
    def get(self, item_id: int) -> ArchiveItem:
        _known_id(item_id)
        with self.engine.connect() as c:
            row = c.execute(items.select().where(items.c.id == item_id)).one_or_none()
        if row is None:
            raise NotFound(f"no archive item {item_id}")
        return _row_to_item(row)

    def media_path(self, item_id: int) -> str | None:
        if not 0 < item_id <= MAX_ID:
            return None
        with self.engine.connect() as c:
            value = c.execute(sa.select(items.c.media_path).where(items.c.id == item_id)).scalar()
        return str(value) if value else None

    def list(self, limit: int = 1000, offset: int = 0, q: str | None = None,
             kind: str | None = None) -> list[ArchiveItem]:
        limit, offset = max(0, min(limit, MAX_ID)), max(0, min(offset, MAX_ID))
        stmt = items.select().order_by(items.c.id).limit(limit).offset(offset)
        if kind:
            stmt = stmt.where(items.c.kind == kind)
        if q:
            like = f"%{q.lower()}%"
            stmt = stmt.where(sa.or_(*(sa.func.lower(items.c[f]).like(like)
                                       for f in ("title", "location", "event", "notes", "source_url"))))
        with self.engine.connect() as c:
            return [_row_to_item(r) for r in c.execute(stmt)]

    def media_paths(self) -> set[str]:
        """Every kept media file of an archived item (retention never removes these)."""
        with self.engine.connect() as c:
            rows = c.execute(sa.select(items.c.media_path).where(items.c.media_path.is_not(None)))
            return {str(r[0]) for r in rows}

    def item_ids(self) -> builtins.list[int]:
        with self.engine.connect() as c:
            return [r[0] for r in c.execute(sa.select(items.c.id))]

    def count(self) -> int:
        with self.engine.connect() as c:
            return int(c.execute(sa.select(sa.func.count()).select_from(items)).scalar_one())

    def extent(self) -> ArchiveExtent:
        """How much the archive holds: items, hours of footage, when the newest was added."""
        stmt = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(items.c.duration), 0.0),
                         sa.func.max(items.c.added_at))
        with self.engine.connect() as c:
            n, seconds, newest = c.execute(stmt).one()
        return ArchiveExtent(int(n), float(seconds) / 3600.0, str(newest)[:10] if newest else None)

    def find_by_origin(self, origin: str) -> ArchiveItem | None:
        with self.engine.connect() as c:
            row = c.execute(items.select().where(items.c.origin == origin)).one_or_none()
        return _row_to_item(row) if row is not None else None

    def find_by_sha256(self, sha256: str) -> builtins.list[ArchiveItem]:
        with self.engine.connect() as c:
            return [_row_to_item(r) for r in c.execute(items.select().where(items.c.sha256 == sha256))]

    def signal_records(self, signal: str | None = None, item_ids: builtins.list[int] | None = None,
                       detail: bool = True) -> Iterator[tuple[int, SignalRecord]]:
        """(item id, record) by item id, of one signal (None: every signal), of some items (None: all).

        ``detail=False`` leaves each record's detail out: what an index build reads."""
        columns = [signals.c.item_id, signals.c.signal, signals.c.version, signals.c.payload]
        if detail:
            columns.append(signals.c.detail)
        stmt = sa.select(*columns).order_by(signals.c.item_id, signals.c.signal)
        if signal is not None:
            stmt = stmt.where(signals.c.signal == signal)
        if item_ids is not None:
            stmt = stmt.where(signals.c.item_id.in_(item_ids))
        with self.engine.connect() as c:
            for row in c.execute(stmt):
                m = row._mapping
                yield m["item_id"], SignalRecord(
                    signal=m["signal"], version=m["version"], payload=bytes(m["payload"]),
                    detail=bytes(m["detail"]) if detail and m["detail"] is not None else None)

    def _tx(self, conn: sa.Connection | None) -> Any:
        if conn is not None:
            from contextlib import nullcontext

            return nullcontext(conn)
        return self.engine.begin()
