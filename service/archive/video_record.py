"""The video pHash signal's stored record: a ``VideoFingerprint`` as a ``SignalRecord`` and back.

Part of signals, below the type itself (``service.signals.video``) so that storage and the archive
export can read and write records without the matching code. Version 1:

* ``payload``: meta ``{"hasher", "views", "duration"}``; arrays ``times`` (float32, frames) and
  ``hashes`` (uint64, frames × views): what the index is built from, the foreground columns included;
* ``detail``: the backgrounds (``service.models.Backgrounds``), meta ``{"views"}``, arrays
  ``block_starts`` (int32) and ``coefficients`` (float32, blocks × views × n); None without them.

Migration 0008 writes this same layout from the ``fingerprints`` and ``backgrounds`` tables it replaces.
"""

from __future__ import annotations

import numpy as np

from service.archive.payload import pack, unpack
from service.errors import BadInput
from service.models import Backgrounds, SignalRecord, VideoFingerprint

__all__ = ["VIDEO_SIGNAL", "VIDEO_VERSION", "video_fingerprint", "video_record"]

VIDEO_SIGNAL = "video-phash"
VIDEO_VERSION = 1


def video_record(fp: VideoFingerprint) -> SignalRecord:
    payload = pack({"hasher": fp.hasher, "views": list(fp.views), "duration": float(fp.duration)},
                   times=np.asarray(fp.times, dtype="<f4"), hashes=np.asarray(fp.hashes, dtype="<u8"))
    bg = fp.backgrounds
    detail = None if bg is None else pack(
        {"views": list(bg.views)}, block_starts=np.asarray(bg.block_starts, dtype="<i4"),
        coefficients=np.asarray(bg.coefficients, dtype="<f4"))
    return SignalRecord(VIDEO_SIGNAL, VIDEO_VERSION, payload, detail)


def video_fingerprint(record: SignalRecord) -> VideoFingerprint:
    """The fingerprint of a video record (with backgrounds when ``record.detail`` holds them)."""
    if record.signal != VIDEO_SIGNAL or record.version != VIDEO_VERSION:
        raise BadInput(f"not a {VIDEO_SIGNAL} record of version {VIDEO_VERSION}: "
                       f"{record.signal} version {record.version}")
    meta, arrays = unpack(record.payload)
    try:
        views = tuple(str(v) for v in meta["views"])
        times = arrays["times"].astype(np.float32)
        hashes = arrays["hashes"].astype(np.uint64)
        if hashes.shape != (len(times), len(views)):
            raise BadInput("video record hashes do not match its times and views")
        backgrounds = None
        if record.detail is not None:
            bg_meta, bg = unpack(record.detail)
            bg_views = tuple(str(v) for v in bg_meta["views"])
            starts = bg["block_starts"].astype(np.int32)
            coefficients = bg["coefficients"].astype(np.float32)
            if coefficients.ndim != 3 or coefficients.shape[:2] != (len(starts), len(bg_views)):
                raise BadInput("video record backgrounds do not match their blocks and views")
            backgrounds = Backgrounds(bg_views, starts, coefficients)
        return VideoFingerprint(hasher=str(meta["hasher"]), views=views, times=times, hashes=hashes,
                                duration=float(meta["duration"]), backgrounds=backgrounds)
    except (KeyError, TypeError, ValueError) as exc:
        raise BadInput(f"malformed {VIDEO_SIGNAL} record: {exc}") from None
