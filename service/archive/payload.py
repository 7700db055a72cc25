"""A small self-describing container for a signal record's bytes: named arrays plus a JSON header.

Part of signals. Any signal type may use it for ``SignalRecord.payload`` / ``detail``; reading is one
``np.frombuffer`` per array (no copy), so an index build over millions of frames stays a scan.

    blob = pack({"views": ["full"]}, times=np.zeros(3, "<f4"), hashes=np.zeros((3, 1), "<u8"))
    meta, arrays = unpack(blob)

Layout: ``b"FSR1"``, the header's length (uint32 little-endian), the header (UTF-8 JSON
``{"meta": {...}, "arrays": [[name, dtype, shape, offset], ...]}``), then each array's bytes in C order,
little-endian, at 8-byte aligned offsets from the start of the data.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np
import numpy.typing as npt

from service.errors import BadInput

__all__ = ["pack", "unpack"]

MAGIC = b"FSR1"
_ALIGN = 8


def pack(meta: dict[str, Any], **arrays: npt.NDArray[Any]) -> bytes:
    """``meta`` (JSON-able) and little-endian copies of ``arrays``, as one blob."""
    entries: list[list[Any]] = []
    chunks: list[bytes] = []
    offset = 0
    for name, array in arrays.items():
        data = np.ascontiguousarray(array, dtype=np.asarray(array).dtype.newbyteorder("<"))
        raw = data.tobytes()
        entries.append([name, data.dtype.str, list(data.shape), offset])
        pad = -len(raw) % _ALIGN
        chunks.append(raw + b"\0" * pad)
        offset += len(raw) + pad
    header = json.dumps({"meta": meta, "arrays": entries}, separators=(",", ":")).encode()
    header += b" " * (-(len(MAGIC) + 4 + len(header)) % _ALIGN)
    return MAGIC + struct.pack("<I", len(header)) + header + b"".join(chunks)


def unpack(blob: bytes) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
    """(meta, arrays) of a ``pack`` blob; ``BadInput`` for anything else. Arrays are read-only views."""
    if len(blob) < len(MAGIC) + 4 or blob[: len(MAGIC)] != MAGIC:
        raise BadInput("not a firstseen signal record")
    (size,) = struct.unpack_from("<I", blob, len(MAGIC))
    start = len(MAGIC) + 4 + size
    if start > len(blob):
        raise BadInput("signal record header runs past its end")
    try:
        header = json.loads(bytes(blob[len(MAGIC) + 4 : start]))
        meta = header["meta"]
        arrays: dict[str, npt.NDArray[Any]] = {}
        for name, dtype, shape, offset in header["arrays"]:
            dt = np.dtype(dtype)
            count = int(np.prod(shape, dtype=np.int64))
            if offset < 0 or start + offset + count * dt.itemsize > len(blob):
                raise BadInput(f"signal record array {name!r} runs past its end")
            arrays[str(name)] = np.frombuffer(blob, dtype=dt, count=count, offset=start + offset).reshape(shape)
    except (ValueError, KeyError, TypeError) as exc:
        raise BadInput(f"malformed signal record header: {exc}") from None
    if not isinstance(meta, dict):
        raise BadInput("malformed signal record header: meta is not an object")
    return meta, arrays
