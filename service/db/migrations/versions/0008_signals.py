"""One table for every signal type's fingerprints: (item, signal) -> a versioned record.

An item's pHash views (``fingerprints``) and backgrounds (``backgrounds``) become one ``video-phash``
record of version 1 in ``signals`` (layout: service/archive/video_record.py, container:
service/archive/payload.py, both written out here as they were when this migration was made, so the
migration never changes with the code). A signal type added later (an audio fingerprint) stores its
records in the same table and needs no migration of its own.

Rows are copied in batches of item ids, so a large archive is never held in memory at once.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 17:00:00.000000
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SIGNAL = "video-phash"
VERSION = 1
BATCH = 200
MAGIC = b"FSR1"


def _pack(meta: dict[str, Any], **arrays: Any) -> bytes:
    entries, chunks, offset = [], [], 0
    for name, array in arrays.items():
        data = np.ascontiguousarray(array)
        raw = data.tobytes()
        entries.append([name, data.dtype.str, list(data.shape), offset])
        pad = -len(raw) % 8
        chunks.append(raw + b"\0" * pad)
        offset += len(raw) + pad
    header = json.dumps({"meta": meta, "arrays": entries}, separators=(",", ":")).encode()
    header += b" " * (-(len(MAGIC) + 4 + len(header)) % 8)
    return MAGIC + struct.pack("<I", len(header)) + header + b"".join(chunks)


def _unpack(blob: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    (size,) = struct.unpack_from("<I", blob, len(MAGIC))
    start = len(MAGIC) + 4 + size
    header = json.loads(bytes(blob[len(MAGIC) + 4 : start]))
    arrays = {name: np.frombuffer(blob, dtype=np.dtype(dtype), count=int(np.prod(shape, dtype=np.int64)),
                                  offset=start + offset).reshape(shape)
              for name, dtype, shape, offset in header["arrays"]}
    return header["meta"], arrays


def _batches(conn: sa.Connection, query: str) -> Any:
    last = -1
    while True:
        rows = conn.execute(sa.text(query), {"last": last, "n": BATCH}).fetchall()
        if not rows:
            return
        yield rows
        last = rows[-1]._mapping["item_id"]


def upgrade() -> None:
    op.create_table(
        "signals",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("signal", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("detail", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("item_id", "signal"),
    )
    conn = op.get_bind()
    signals = sa.table("signals", sa.column("item_id", sa.Integer), sa.column("signal", sa.String),
                       sa.column("version", sa.Integer), sa.column("payload", sa.LargeBinary),
                       sa.column("detail", sa.LargeBinary))
    query = ("SELECT f.item_id, f.hasher, f.views, f.times, f.hashes, i.duration, "
             "b.views AS bg_views, b.block_starts, b.coefficients "
             "FROM fingerprints f JOIN items i ON i.id = f.item_id LEFT JOIN backgrounds b ON b.item_id = f.item_id "
             "WHERE f.item_id > :last ORDER BY f.item_id LIMIT :n")
    for rows in _batches(conn, query):
        values = []
        for row in rows:
            m = row._mapping
            views = m["views"].split(",")
            times = np.frombuffer(m["times"], dtype="<f4")
            hashes = np.frombuffer(m["hashes"], dtype="<u8").reshape(-1, len(views))
            payload = _pack({"hasher": m["hasher"], "views": views, "duration": float(m["duration"])},
                            times=times, hashes=hashes)
            detail = None
            if m["bg_views"] is not None:
                bg_views = m["bg_views"].split(",")
                starts = np.frombuffer(m["block_starts"], dtype="<i4")
                coefficients = np.frombuffer(m["coefficients"], dtype="<f4").reshape(len(starts), len(bg_views), -1)
                detail = _pack({"views": bg_views}, block_starts=starts, coefficients=coefficients)
            values.append({"item_id": m["item_id"], "signal": SIGNAL, "version": VERSION, "payload": payload,
                           "detail": detail})
        conn.execute(signals.insert(), values)
    op.drop_table("backgrounds")
    op.drop_table("fingerprints")


def downgrade() -> None:
    """Back to the two tables; records of any other signal type are dropped (older code cannot read them)."""
    op.create_table(
        "fingerprints",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("hasher", sa.String(length=40), nullable=False),
        sa.Column("views", sa.Text(), nullable=False),
        sa.Column("times", sa.LargeBinary(), nullable=False),
        sa.Column("hashes", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("item_id"),
    )
    op.create_table(
        "backgrounds",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("views", sa.Text(), nullable=False),
        sa.Column("block_starts", sa.LargeBinary(), nullable=False),
        sa.Column("coefficients", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("item_id"),
    )
    conn = op.get_bind()
    query = ("SELECT item_id, payload, detail FROM signals WHERE signal = 'video-phash' AND version = 1 "
             "AND item_id > :last ORDER BY item_id LIMIT :n")
    for rows in _batches(conn, query):
        for row in rows:
            m = row._mapping
            meta, arrays = _unpack(m["payload"])
            conn.execute(sa.text("INSERT INTO fingerprints (item_id, hasher, views, times, hashes) "
                                 "VALUES (:i, :h, :v, :t, :x)"),
                         {"i": m["item_id"], "h": meta["hasher"], "v": ",".join(meta["views"]),
                          "t": arrays["times"].astype("<f4").tobytes(), "x": arrays["hashes"].astype("<u8").tobytes()})
            if m["detail"] is not None:
                bg_meta, bg = _unpack(m["detail"])
                conn.execute(sa.text("INSERT INTO backgrounds (item_id, views, block_starts, coefficients) "
                                     "VALUES (:i, :v, :s, :c)"),
                             {"i": m["item_id"], "v": ",".join(bg_meta["views"]),
                              "s": bg["block_starts"].astype("<i4").tobytes(),
                              "c": bg["coefficients"].astype("<f4").tobytes()})
    op.drop_table("signals")
