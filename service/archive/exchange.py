"""Whole-archive export and import (``firstseen archive export FILE`` / ``import FILE``).

Part of archive. The format is JSON Lines, gzip-compressed when the file name
ends in ``.gz``; see docs/archive-format.md:

    {"format": "firstseen-archive", "version": 2, "exported_at": "...", "items": N, "links": M}
    {"type": "item", "id": 7, "kind": "curated", "title": ..., "duration": 12.0, "frame_count": 24, ...,
     "signals": [{"signal": "video-phash", "version": 1, "payload_b64": "<base64>", "detail_b64": "<base64>"}]}
    {"type": "link", "item_a": 7, "item_b": 3, "score": 0.93, "segments": [...]}

Each item carries its stored signal records as they are (``service.signals.base.SignalRecord``), so a
signal type added later is exported and imported with no change here. Version 1 files (one pHash
``fingerprint`` object per item, from before signal types) still import: their fingerprint becomes a
``video-phash`` record.

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

from service.archive.store import EDITABLE, ArchiveStore
from service.archive.video_record import VIDEO_SIGNAL, video_fingerprint, video_record
from service.db.tables import items, links
from service.errors import BadInput
from service.models import ArchiveMetadata, Backgrounds, Claims, SignalRecord, VideoFingerprint

__all__ = ["FORMAT", "MAX_LINE_BYTES", "export_archive", "import_archive"]

FORMAT = "firstseen-archive"
VERSION = 2
READS = (1, 2)  # version 1: one pHash fingerprint per item, before signal types
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
    """Write every item, its signal records and every footage link; returns (items, links)."""
    all_items = store.list(limit=10**9)
    with store.engine.connect() as c:
        link_rows = c.execute(sa.select(links)).fetchall()
    records: dict[int, list[SignalRecord]] = {}
    for item_id, record in store.signal_records():
        records.setdefault(item_id, []).append(record)
    tmp = path.with_name(path.name + ".tmp")
    with _open(tmp, "w", gz=path.suffix == ".gz") as fh:
        header = {"format": FORMAT, "version": VERSION, "items": len(all_items), "links": len(link_rows),
                  "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        fh.write(json.dumps(header) + "\n")
        for item in all_items:
            signals = [{"signal": r.signal, "version": r.version, "payload_b64": _b64(r.payload),
                        "detail_b64": None if r.detail is None else _b64(r.detail)}
                       for r in records.get(item.id, [])]
            fh.write(json.dumps({"type": "item", **item.to_dict(), "signals": signals}) + "\n")
        for row in link_rows:
            m = row._mapping
            fh.write(json.dumps({"type": "link", "item_a": m["item_a"], "item_b": m["item_b"],
                                 "score": m["score"], "segments": json.loads(m["segments"])}) + "\n")
    tmp.replace(path)
    return len(all_items), len(link_rows)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


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


def _check_record(record: dict[str, Any], version: int) -> None:
    """TypeError for the first field of an item or link record whose type is not the one export writes."""
    if record.get("type") == "item":
        _field(record, "id", int)
        _field(record, "kind", str)
        _field(record, "sha256", str)
        for name in (*EDITABLE, "added_at", "date_origin", *CLAIM_FIELDS):
            _field(record, name, str, optional=True)
        _field(record, "footage_id", int, optional=True)
        if version >= 2:
            _field(record, "duration", (int, float))
            _field(record, "frame_count", int)
            for n, signal in enumerate(_field(record, "signals", list)):
                prefix = f"signals[{n}]."
                if not isinstance(signal, dict):
                    raise TypeError(f"signals[{n}] must be an object")
                _field(signal, "signal", str, prefix=prefix)
                _field(signal, "version", int, prefix=prefix)
                _field(signal, "payload_b64", str, prefix=prefix)
                _field(signal, "detail_b64", str, prefix=prefix, optional=True)
            return
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


def _signal_records(raw: list[dict[str, Any]]) -> list[SignalRecord]:
    """A version 2 item's records; a video record is read through once, so a broken one is refused here."""
    found = [SignalRecord(r["signal"], r["version"], base64.b64decode(r["payload_b64"], validate=True),
                          None if r.get("detail_b64") is None else base64.b64decode(r["detail_b64"], validate=True))
             for r in raw]
    for n, record in enumerate(found):
        if record.signal == VIDEO_SIGNAL:
            try:
                video_fingerprint(record)
            except BadInput as exc:  # said with the file and the record, like every other malformed field
                raise ValueError(f"signals[{n}] ({record.signal}): {exc}") from None
    return found


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
    version = header.get("version")
    if version not in READS:
        raise BadInput(f"{path.name} is format version {version}, this firstseen reads "
                       f"{' and '.join(map(str, READS))}")
    new_id: dict[int, int] = {}
    old_footage: dict[int, int | None] = {}
    added_links = 0
    with store.engine.begin() as c:
        for rec in records:
            try:
                _check_record(rec, version)
                if rec.get("type") == "item":
                    meta = ArchiveMetadata(**{k: rec.get(k) for k in EDITABLE})
                    if version >= 2:
                        signals = _signal_records(rec["signals"])
                        duration, frames = float(rec["duration"]), int(rec["frame_count"])
                    else:
                        fp = _fingerprint(rec["fingerprint"])
                        signals, duration, frames = [video_record(fp)], fp.duration, fp.frame_count
                    # Exports made before dates kept their origin: the store's default for the kind.
                    item = store.add(meta, signals, rec["sha256"], kind=rec["kind"],
                                     conn=c, actor=actor, added_at=rec.get("added_at"),
                                     date_origin=rec.get("date_origin"),
                                     claims=Claims.from_dict({k.removeprefix("claimed_"): rec.get(k)
                                                              for k in CLAIM_FIELDS}),
                                     duration=duration, frame_count=frames)
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
