"""Whole-archive export and import (``firstseen archive export FILE`` / ``import FILE``).

Part of archive. The format is JSON Lines, gzip-compressed when the file name
ends in ``.gz``; see docs/archive-format.md:

    {"format": "firstseen-archive", "version": 1, "exported_at": "...", "items": N, "links": M}
    {"type": "item", "id": 7, "kind": "curated", "title": ..., ..., "fingerprint":
        {"hasher": "phash-8x8", "views": [...], "times_f32le": "<base64>", "hashes_u64le": "<base64>"}}
    {"type": "link", "item_a": 7, "item_b": 3, "score": 0.93, "segments": [...]}

Import is one transaction: a bad line anywhere leaves the archive untouched.
Item ids are reassigned; links and footage clusters follow the new ids.

An export file may come from anywhere, so import trusts nothing in it: lines are
read in bounded steps and one longer than ``MAX_LINE_BYTES`` is refused before
it is held in memory (a 1 MB gzip can inflate to a gibibyte on one line); the
whole file may inflate to at most ``Settings.max_import_bytes``; every record
must be a JSON object whose fields have the types an export writes. Each
refusal is one ``BadInput`` line.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
import sqlalchemy as sa

from service.archive.store import EDITABLE, ArchiveStore, items, links
from service.errors import BadInput
from service.models import ArchiveMetadata, Backgrounds, Claims, VideoFingerprint

__all__ = ["FORMAT", "MAX_LINE_BYTES", "export_archive", "import_archive"]

FORMAT = "firstseen-archive"
VERSION = 1
# The longest line import reads, newline included: twice the longest an export writes (an item with
# DecodeLimits.max_frames = 20,000 sampled frames × 74 views of 8-byte hashes is 16 MB of base64).
# Parsing such a line costs about five times its size in memory.
MAX_LINE_BYTES = 32 * 1024**2
# What an upload itself claimed (exports made before these were kept have none).
CLAIM_FIELDS = ("claimed_date", "claimed_location", "claimed_event")


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
            fingerprint: dict[str, Any] = {
                "hasher": fp.hasher, "views": list(fp.views), "duration": fp.duration,
                "times_f32le": base64.b64encode(np.asarray(fp.times, "<f4").tobytes()).decode(),
                "hashes_u64le": base64.b64encode(np.asarray(fp.hashes, "<u8").tobytes()).decode(),
            }
            bg = store.backgrounds(item.id)
            if bg is not None:
                fingerprint["backgrounds"] = {
                    "views": list(bg.views),
                    "block_starts_i32le": base64.b64encode(np.asarray(bg.block_starts, "<i4").tobytes()).decode(),
                    "coefficients_f32le": base64.b64encode(np.asarray(bg.coefficients, "<f4").tobytes()).decode(),
                }
            record = {"type": "item", **item.to_dict(), "fingerprint": fingerprint}
            fh.write(json.dumps(record) + "\n")
        for row in link_rows:
            m = row._mapping
            fh.write(json.dumps({"type": "link", "item_a": m["item_a"], "item_b": m["item_b"],
                                 "score": m["score"], "segments": json.loads(m["segments"])}) + "\n")
    tmp.replace(path)
    return len(all_items), len(link_rows)


def _records(path: Path, max_bytes: int) -> Iterator[dict[str, Any]]:
    """The JSON objects of ``path``, line by line, none longer than MAX_LINE_BYTES, ``max_bytes`` in all."""
    total = 0
    try:
        with gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb") as fh:
            for n, line in enumerate(iter(lambda: fh.readline(MAX_LINE_BYTES + 1), b""), 1):
                total += len(line)
                if total > max_bytes:
                    raise BadInput(f"{path.name} inflates to more than {max_bytes / 1e6:.0f} MB, the import limit")
                if len(line) > MAX_LINE_BYTES:
                    raise BadInput(f"{path.name} line {n} is longer than {MAX_LINE_BYTES // 1024**2} MiB, "
                                   "longer than any export writes")
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except RecursionError:
                    raise BadInput(f"{path.name} line {n} is not JSON: nested too deeply") from None
                except ValueError as exc:  # JSONDecodeError, or bytes that are not UTF-8
                    raise BadInput(f"{path.name} line {n} is not JSON: {getattr(exc, 'msg', exc)}") from None
                if not isinstance(record, dict):
                    raise BadInput(f"{path.name} line {n} is not a JSON object")
                yield record
    except (OSError, EOFError, zlib.error) as exc:
        raise BadInput(f"cannot read {path.name}: {exc}") from None


_JSON_TYPES = {dict: "an object", list: "a list", str: "text", int: "an integer", float: "a number",
               bool: "true or false", type(None): "null"}


def _field(record: dict[str, Any], name: str, kind: type | tuple[type, ...], optional: bool = False,
           prefix: str = "") -> Any:
    """``record[name]`` if it has the JSON type an export writes (TypeError naming it if not)."""
    value = record.get(name)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, kind):
        wanted = " or ".join(_JSON_TYPES[k] for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise TypeError(f"{prefix}{name} must be {wanted}{' or null' if optional else ''}, "
                        f"not {_JSON_TYPES.get(type(value), type(value).__name__)}")
    return value


def _check_record(record: dict[str, Any]) -> None:
    """TypeError for the first field of an item or link record whose type is not the one export writes."""
    if record.get("type") == "item":
        _field(record, "id", int)
        _field(record, "kind", str)
        _field(record, "sha256", str)
        for name in (*EDITABLE, "added_at", "date_origin", *CLAIM_FIELDS):
            _field(record, name, str, optional=True)
        _field(record, "footage_id", int, optional=True)
        fingerprint = _field(record, "fingerprint", dict)
        for name in ("hasher", "times_f32le", "hashes_u64le"):
            _field(fingerprint, name, str, prefix="fingerprint.")
        _field(fingerprint, "duration", (int, float), prefix="fingerprint.")
        views = _field(fingerprint, "views", list, prefix="fingerprint.")
        if not views or not all(isinstance(v, str) for v in views):
            raise TypeError("fingerprint.views must be a list of view names")
        backgrounds = _field(fingerprint, "backgrounds", dict, prefix="fingerprint.", optional=True)
        if backgrounds is not None:
            for name in ("block_starts_i32le", "coefficients_f32le"):
                _field(backgrounds, name, str, prefix="fingerprint.backgrounds.")
            bg_views = _field(backgrounds, "views", list, prefix="fingerprint.backgrounds.")
            if not bg_views or not all(isinstance(v, str) for v in bg_views):
                raise TypeError("fingerprint.backgrounds.views must be a list of view names")
    elif record.get("type") == "link":
        _field(record, "item_a", int)
        _field(record, "item_b", int)
        _field(record, "score", (int, float))
        if not all(isinstance(s, dict) for s in _field(record, "segments", list)):
            raise TypeError("segments must be a list of objects")


def _fingerprint(raw: dict[str, Any]) -> VideoFingerprint:
    views = tuple(raw["views"])
    times = np.frombuffer(base64.b64decode(raw["times_f32le"]), dtype="<f4").astype(np.float32)
    hashes = np.frombuffer(base64.b64decode(raw["hashes_u64le"]), dtype="<u8").astype(np.uint64)
    if hashes.size != times.size * len(views):
        raise BadInput("fingerprint hashes do not match its times and views")
    backgrounds = None
    if raw.get("backgrounds") is not None:  # exports made before backgrounds existed have none
        bg = raw["backgrounds"]
        bg_views = tuple(bg["views"])
        starts = np.frombuffer(base64.b64decode(bg["block_starts_i32le"]), dtype="<i4").astype(np.int32)
        coefficients = np.frombuffer(base64.b64decode(bg["coefficients_f32le"]), dtype="<f4").astype(np.float32)
        if not starts.size or coefficients.size % (starts.size * len(bg_views)):
            raise BadInput("fingerprint backgrounds do not match their blocks and views")
        backgrounds = Backgrounds(bg_views, starts, coefficients.reshape(starts.size, len(bg_views), -1))
    return VideoFingerprint(raw["hasher"], views, times, hashes.reshape(-1, len(views)), float(raw["duration"]),
                            backgrounds=backgrounds)


def import_archive(store: ArchiveStore, path: Path, actor: str = "import", *, max_bytes: int) -> tuple[int, int]:
    """Add everything in an export file in one transaction; returns (items, links) added.

    ``max_bytes`` (``Settings.max_import_bytes``) bounds what the file may inflate to.
    """
    if not path.is_file():
        raise BadInput(f"no such file: {path}")
    records = _records(path, max_bytes)
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
                _check_record(rec)
                if rec.get("type") == "item":
                    meta = ArchiveMetadata(**{k: rec.get(k) for k in EDITABLE})
                    # Exports made before dates kept their origin: the store's default for the kind.
                    item = store.add(meta, _fingerprint(rec["fingerprint"]), rec["sha256"], kind=rec["kind"],
                                     conn=c, actor=actor, added_at=rec.get("added_at"),
                                     date_origin=rec.get("date_origin"),
                                     claims=Claims.from_dict({k.removeprefix("claimed_"): rec.get(k)
                                                             for k in CLAIM_FIELDS}))
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
