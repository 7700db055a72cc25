"""Whole-archive export and import (``firstseen archive export FILE`` / ``import FILE``).

Part of archive. The format is JSON Lines, gzip-compressed when the file name
ends in ``.gz``; see docs/archive-format.md:

    {"format": "firstseen-archive", "version": 1, "exported_at": "...", "items": N, "links": M}
    {"type": "item", "id": 7, "kind": "curated", "title": ..., ..., "fingerprint":
        {"hasher": "phash-8x8", "views": [...], "times_f32le": "<base64>", "hashes_u64le": "<base64>"}}
    {"type": "link", "item_a": 7, "item_b": 3, "score": 0.93, "segments": [...]}

Import is one transaction: a bad line anywhere leaves the archive untouched.
Item ids are reassigned; links and footage clusters follow the new ids.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
import sqlalchemy as sa

from service.archive.store import EDITABLE, ArchiveStore, items, links
from service.errors import BadInput
from service.models import ArchiveMetadata, VideoFingerprint

__all__ = ["FORMAT", "export_archive", "import_archive"]

FORMAT = "firstseen-archive"
VERSION = 1


def _open(path: Path, mode: str, gz: bool | None = None) -> IO[str]:
    if path.suffix == ".gz" if gz is None else gz:
        return gzip.open(path, mode + "t", encoding="utf-8")  # type: ignore[return-value]
    return path.open(mode, encoding="utf-8")


def export_archive(store: ArchiveStore, path: Path) -> tuple[int, int]:
    """Write every item, its fingerprint and every footage link; returns (items, links)."""
    all_items = store.list(limit=10**9)
    with store.engine.connect() as c:
        link_rows = c.execute(sa.select(links)).fetchall()
    fps = {s.item_id: s.fingerprint for s in store.fingerprints()}
    tmp = path.with_name(path.name + ".tmp")
    with _open(tmp, "w", gz=path.suffix == ".gz") as fh:
        header = {"format": FORMAT, "version": VERSION, "items": len(all_items), "links": len(link_rows),
                  "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        fh.write(json.dumps(header) + "\n")
        for item in all_items:
            fp = fps[item.id]
            record = {"type": "item", **item.to_dict(), "fingerprint": {
                "hasher": fp.hasher, "views": list(fp.views), "duration": fp.duration,
                "times_f32le": base64.b64encode(np.asarray(fp.times, "<f4").tobytes()).decode(),
                "hashes_u64le": base64.b64encode(np.asarray(fp.hashes, "<u8").tobytes()).decode(),
            }}
            fh.write(json.dumps(record) + "\n")
        for row in link_rows:
            m = row._mapping
            fh.write(json.dumps({"type": "link", "item_a": m["item_a"], "item_b": m["item_b"],
                                 "score": m["score"], "segments": json.loads(m["segments"])}) + "\n")
    tmp.replace(path)
    return len(all_items), len(link_rows)


def _records(path: Path) -> Iterator[dict[str, Any]]:
    try:
        with _open(path, "r") as fh:
            for n, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise BadInput(f"{path.name} line {n} is not JSON: {exc.msg}") from None
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read {path.name}: {exc}") from None


def _fingerprint(raw: dict[str, Any]) -> VideoFingerprint:
    views = tuple(raw["views"])
    times = np.frombuffer(base64.b64decode(raw["times_f32le"]), dtype="<f4").astype(np.float32)
    hashes = np.frombuffer(base64.b64decode(raw["hashes_u64le"]), dtype="<u8").astype(np.uint64)
    if hashes.size != times.size * len(views):
        raise BadInput("fingerprint hashes do not match its times and views")
    return VideoFingerprint(raw["hasher"], views, times, hashes.reshape(-1, len(views)), float(raw["duration"]))


def import_archive(store: ArchiveStore, path: Path, actor: str = "import") -> tuple[int, int]:
    """Add everything in an export file in one transaction; returns (items, links) added."""
    if not path.is_file():
        raise BadInput(f"no such file: {path}")
    records = _records(path)
    header = next(records, None)
    if not header or header.get("format") != FORMAT:
        raise BadInput(f"{path.name} is not a firstseen archive export")
    if header.get("version") != VERSION:
        raise BadInput(f"{path.name} is format version {header.get('version')}, this firstseen reads {VERSION}")
    new_id: dict[int, int] = {}
    old_footage: dict[int, int | None] = {}
    added_links = 0
    with store.engine.begin() as c:
        for rec in records:
            try:
                if rec.get("type") == "item":
                    meta = ArchiveMetadata(**{k: rec.get(k) for k in EDITABLE})
                    # Exports made before dates kept their origin: the store's default for the kind.
                    item = store.add(meta, _fingerprint(rec["fingerprint"]), rec["sha256"], kind=rec["kind"],
                                     conn=c, actor=actor, added_at=rec.get("added_at"),
                                     date_origin=rec.get("date_origin"))
                    new_id[int(rec["id"])] = item.id
                    old_footage[item.id] = rec.get("footage_id")
                elif rec.get("type") == "link":
                    c.execute(links.insert().values(item_a=new_id[rec["item_a"]], item_b=new_id[rec["item_b"]],
                                                    score=float(rec["score"]), segments=json.dumps(rec["segments"])))
                    added_links += 1
                else:
                    raise BadInput(f"unknown record type {rec.get('type')!r}")
            except (KeyError, TypeError, ValueError) as exc:
                raise BadInput(f"{path.name}: malformed {rec.get('type', 'record')}: {exc}") from None
        for item_id, footage in old_footage.items():
            target = new_id.get(footage) if footage is not None else None
            if target is not None:
                c.execute(items.update().where(items.c.id == item_id).values(footage_id=target))
    return len(new_id), added_links
