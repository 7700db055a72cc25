"""Matching over every signal type: extract each, keep one index per type in step with the archive, and
turn each type's aligned hits into ``Match`` objects.

Part of match (signals → **matcher** → verdict). ``Pipeline`` owns one ``Matcher``; the matcher knows
no signal's value type, only the ``SignalType`` contract (``service.signals.base``):

    matcher = Matcher(settings, store)          # the types Settings.signals turns on
    fps = matcher.extract(path, progress)       # Fingerprints: one per type that found its signal
    records = matcher.records(fps)              # what the store keeps, one per type
    matcher.add(item.id, fps)                   # ... after store.add
    matches = matcher.match(fps, sha256=...)    # every archive item shown, best first

A ``Match``'s own fields (score, segments, transform, evidence) are those of the first type in registry
order that matched the item; ``Match.signals`` holds each type's ``SignalMatch``, and ``Match.differs``
the media compared on both sides that did not match (the same picture with another soundtrack).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from service.archive.changes import ChangeFeed
from service.archive.store import ArchiveStore
from service.errors import BadInput, NotFound
from service.models import Match, MatchEvidence, Medium, Segment, SignalMatch
from service.settings import Settings
from service.signals.base import SignalIndex, SignalRecord, Summary
from service.signals.registry import AnySignalType, signal_types

__all__ = ["INDEX_SYNC_S", "STORED_CACHE_ITEMS", "Fingerprints", "Matcher"]

log = logging.getLogger(__name__)

# How stale a process's view of the archive may get: how often a check reads the change feed
# (one indexed read of the few newest audit rows; service/archive/changes.py).
INDEX_SYNC_S = 0.25
# Candidate items whose whole stored fingerprints (foreground hashes, backgrounds ...) stay in memory
# between checks, per signal type.
STORED_CACHE_ITEMS = 256


@dataclass(frozen=True, eq=False)
class Fingerprints:
    """A media file's fingerprint per signal type; a type that found no such signal (no audio track) is absent."""

    by_signal: Mapping[str, Any]
    summary: Summary  # of the first type that found its signal: the item's duration and frame count

    @property
    def duration(self) -> float:
        return self.summary.duration

    def get(self, signal: str) -> Any | None:
        return self.by_signal.get(signal)


class Matcher:
    """The registered signal types' indexes over one archive, and matching against them."""

    def __init__(self, settings: Settings, store: ArchiveStore,
                 types: Sequence[AnySignalType] | None = None) -> None:
        self.settings = settings
        self.store = store
        self.types: tuple[AnySignalType, ...] = tuple(types) if types is not None else signal_types(settings)
        self._indexes: dict[str, SignalIndex[Any]] | None = None
        self._lock = threading.Lock()
        self._stored: OrderedDict[tuple[str, int], Any] = OrderedDict()
        self._stored_lock = threading.Lock()
        self._synced_at = 0.0
        self._changes = ChangeFeed(store.engine)

    # -- extraction ----------------------------------------------------
    def extract(self, path: Path, progress: Callable[[float, str], None] | None = None) -> Fingerprints:
        """Every type's fingerprint of ``path`` (``progress``: fraction of all of them, stage name);
        ``BadInput`` when no type found anything (a blank video without sound)."""
        found: dict[str, Any] = {}
        summary: Summary | None = None
        share = 1.0 / len(self.types)
        for n, signal in enumerate(self.types):
            def stage(f: float, name: str, n: int = n) -> None:
                if progress is not None:
                    progress((n + max(0.0, min(1.0, f))) * share, name)

            fp = signal.extract(path, stage)
            if fp is None:
                continue
            found[signal.name] = fp
            summary = summary or signal.summary(fp)
        if summary is None:
            raise BadInput(f"{path.name} has no informative frames (blank video)")
        return Fingerprints(found, summary)

    def records(self, fps: Fingerprints) -> list[SignalRecord]:
        return [t.to_record(fps.by_signal[t.name]) for t in self.types if t.name in fps.by_signal]

    # -- indexes -------------------------------------------------------
    def index(self, signal: str | None = None) -> SignalIndex[Any]:
        """One type's index (None: the first type's), all built from the store on first use."""
        indexes = self._built()
        return indexes[signal or self.types[0].name]

    def _built(self) -> dict[str, SignalIndex[Any]]:
        with self._lock:
            if self._indexes is None:
                self._changes.start()  # before reading: a change made meanwhile is applied by the next sync
                built: dict[str, SignalIndex[Any]] = {}
                for t in self.types:
                    entries = [(item_id, fp) for item_id, record in self.store.signal_records(t.name, detail=False)
                               if (fp := _read(t, item_id, record)) is not None]
                    built[t.name] = t.build_index(entries)
                self._indexes = built
                self._synced_at = time.monotonic()
            return self._indexes

    def sync(self) -> None:
        """Pick up items other processes added or removed (at most every INDEX_SYNC_S), from the change feed."""
        indexes = self._built()
        if time.monotonic() - self._synced_at < INDEX_SYNC_S:
            return
        self._synced_at = time.monotonic()
        changes = self._changes.since_last()
        if not changes:
            return
        for t in self.types:
            index = indexes[t.name]
            known = index.item_ids()
            # A removed id is dropped even when it came back (SQLite may reuse the highest id): re-read below.
            for gone in changes.removed & known:
                index.remove(gone)
            new = sorted((changes.added | changes.removed) - (known - changes.removed))
            if new:  # records of items still stored; an item added and removed since reads as nothing
                for item_id, record in self.store.signal_records(t.name, new, detail=False):
                    if (fp := _read(t, item_id, record)) is not None:
                        index.add(item_id, fp)
        for gone in changes.removed:
            self._forget(gone)

    def add(self, item_id: int, fps: Fingerprints) -> None:
        """Index a newly stored item's fingerprints."""
        indexes = self._built()
        for t in self.types:
            fp = fps.get(t.name)
            if fp is not None:
                indexes[t.name].add(item_id, fp)

    def remove(self, item_id: int) -> None:
        for index in self._built().values():
            index.remove(item_id)
        self._forget(item_id)

    def _forget(self, item_id: int) -> None:
        with self._stored_lock:
            for t in self.types:
                self._stored.pop((t.name, item_id), None)

    def _stored_fingerprint(self, signal: AnySignalType, item_id: int) -> Any | None:
        """An archive item's whole fingerprint of one type (detail included), read for the few candidates of a
        check (not held in memory for the whole archive), with a small cache for repeated checks."""
        key = (signal.name, item_id)
        with self._stored_lock:
            if key in self._stored:
                self._stored.move_to_end(key)
                return self._stored[key]
        fp = next((_read(signal, i, r) for i, r in self.store.signal_records(signal.name, [item_id])), None)
        with self._stored_lock:
            self._stored[key] = fp
            while len(self._stored) > STORED_CACHE_ITEMS * len(self.types):
                self._stored.popitem(last=False)
        return fp

    # -- matching ------------------------------------------------------
    def match(self, fps: Fingerprints, exclude: Sequence[int] = (), sha256: str | None = None) -> list[Match]:
        """Every archive item the fingerprints match, best first; a byte-identical file (``sha256``) always."""
        self.sync()
        indexes = self._built()
        found: dict[int, list[SignalMatch]] = {}
        compared: dict[str, set[int]] = {}  # signal -> items in its index, for the types the query has
        for t in self.types:
            query = fps.get(t.name)
            if query is None:
                continue
            index = indexes[t.name]
            present = index.item_ids()
            compared[t.name] = present
            for item_id, hits in t.search(index, query).items():
                if item_id in exclude or item_id not in present:
                    continue
                aligned = t.align(query, item_id, hits, index, partial(self._stored_fingerprint, t, item_id))
                if aligned is not None:
                    found.setdefault(item_id, []).append(aligned)
        matches: list[Match] = []
        for item_id in sorted(found):
            try:
                item = self.store.get(item_id)
            except NotFound:  # removed by another process since our index last synced
                continue
            signals = tuple(found[item_id])
            first = signals[0]
            media = {s.medium for s in signals}
            differs: list[Medium] = []
            for t in self.types:
                if t.medium not in media and t.medium not in differs and item_id in compared.get(t.name, ()):
                    differs.append(t.medium)
            matches.append(Match(
                item=item, score=first.score, coverage=first.coverage, flipped=first.flipped,
                transform=first.transform, segments=first.segments, evidence=first.evidence,
                signals=signals, differs=tuple(differs),
            ))
        if sha256 is not None:
            matches = self._with_identical_files(matches, fps, sha256, exclude)
        matches.sort(key=lambda m: (m.evidence is None or m.evidence.basis != "identical_file",
                                    -(m.score * sum(s.frames for s in m.segments)), m.item.id))
        return matches

    def _with_identical_files(self, matches: list[Match], fps: Fingerprints, sha256: str,
                              exclude: Sequence[int]) -> list[Match]:
        """Archived files with the same bytes are the same footage whatever the signals say (a static
        scene, a clip too short to align): mark those matched, add those missed, whole length."""
        found = {m.item.id: m for m in matches}
        informative = fps.summary.informative
        for item in self.store.find_by_sha256(sha256):
            if item.id in exclude:
                continue
            evidence = MatchEvidence(basis="identical_file", frames_matched=informative,
                                     frames_compared=informative, foreground_matched=0, foreground_compared=0,
                                     query_share=1.0, short=False)
            if item.id in found:
                found[item.id] = replace(found[item.id], evidence=evidence)
                continue
            whole = Segment(query_start=0.0, query_end=fps.duration, archive_start=0.0, archive_end=item.duration,
                            speed=1.0, frames=informative, mean_distance=0.0)
            found[item.id] = Match(item=item, score=1.0, coverage=1.0, flipped=False, transform="identical file",
                                   segments=(whole,), evidence=evidence)
        return list(found.values())


def _read(signal: AnySignalType, item_id: int, record: SignalRecord) -> Any | None:
    """A stored record as its type's fingerprint; None (and a warning) for one the type cannot read
    (another version, or damaged), so one bad row never stops the index from being built."""
    try:
        return signal.from_record(record)
    except BadInput as exc:
        log.warning("archive item %d: %s record not read: %s", item_id, signal.name, exc)
        return None
