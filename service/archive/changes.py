"""The archive's change feed: which items other processes added or removed since we last looked.

Every addition and removal writes its ``audit`` row in the same transaction as the
item (service/archive/store.py), so the audit log, read by id from a cursor, is a
change feed on SQLite and PostgreSQL alike. A process's in-memory index
(``Matcher.sync``, service/match/matcher.py) asks ``ChangeFeed.since_last()`` before a check: one
indexed range read of a few small rows, instead of every item id of the archive.

On PostgreSQL ids come from a sequence, and a transaction can commit after one that
took a later id; so each read also looks ``LOOKBACK_IDS`` ids behind the cursor and
reports only the rows it has not reported before.

    feed = ChangeFeed(engine)
    feed.start()               # the cursor at the newest change, before the index is built
    ...
    feed.since_last()          # ItemChanges(added={7}, removed={3})
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from service.db.tables import audit

__all__ = ["LOOKBACK_IDS", "ChangeFeed", "ItemChanges"]

# Audit ids re-read behind the cursor: commits this many ids out of order are still seen.
LOOKBACK_IDS = 200


@dataclass(frozen=True)
class ItemChanges:
    added: frozenset[int] = field(default_factory=frozenset)
    removed: frozenset[int] = field(default_factory=frozenset)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)


class ChangeFeed:
    """Item additions and removals from the audit log, each reported once."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.cursor = 0  # the highest audit id read
        self._seen: set[int] = set()  # ids read in the look-back window

    def _rows(self, after: int) -> list[sa.Row[tuple[int, str, int | None]]]:
        stmt = (sa.select(audit.c.id, audit.c.action, audit.c.item_id)
                .where((audit.c.id > after) & audit.c.action.in_(("add", "remove"))).order_by(audit.c.id))
        with self.engine.connect() as c:
            return list(c.execute(stmt))

    def start(self) -> None:
        """Report only what happens from now on (what is already visible is in the index about to be built)."""
        with self.engine.connect() as c:
            self.cursor = int(c.execute(sa.select(sa.func.coalesce(sa.func.max(audit.c.id), 0))).scalar_one())
        self._seen = {row.id for row in self._rows(self.cursor - LOOKBACK_IDS)}

    def since_last(self) -> ItemChanges:
        """Items added or removed since the last call (or ``start``)."""
        added: set[int] = set()
        removed: set[int] = set()
        for row in self._rows(self.cursor - LOOKBACK_IDS):
            if row.id in self._seen:
                continue
            self._seen.add(row.id)
            self.cursor = max(self.cursor, row.id)
            if row.item_id is not None:
                (added if row.action == "add" else removed).add(row.item_id)
        self._seen = {i for i in self._seen if i > self.cursor - LOOKBACK_IDS}
        return ItemChanges(frozenset(added), frozenset(removed))
