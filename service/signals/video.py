"""The video signal: pHash views of sampled frames, matched along a time line (the first signal type).

Part of signals. A wrapper, not a second implementation: frames come from ``service.decode``, the views
and their hashes from ``service.fingerprint.views``, the hit search from ``service.match.search`` over a
``service.archive.index.HashIndex`` (exact below a million hashes, multi-index hashing above), and the
time-line alignment with its specificity and foreground checks from ``service.match.align``. What this
module adds is the part every signal type says for itself: how a ``VideoFingerprint`` is stored
(``service.archive.video_record``), which index holds it, and how an ``Alignment`` reads as a
``SignalMatch``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from service.archive.index import ExactIndex, HashIndex, Hits
from service.archive.mih import MultiIndexHashIndex
from service.archive.video_record import VIDEO_SIGNAL, VIDEO_VERSION, video_fingerprint, video_record
from service.decode.frames import DecodeLimits, sample_frames
from service.fingerprint.phash import PHasher
from service.fingerprint.views import ARCHIVE_VIEWS, FG_PREFIX, QUERY_VIEWS, fingerprint_video
from service.match import align
from service.match.align import ArchiveMotion, align_item
from service.match.search import TWO_STAGE_MIN_HASHES, find_hits
from service.models import Medium, SignalMatch, VideoFingerprint
from service.settings import Settings
from service.signals.base import SignalRecord, SignalType, StageProgress, Summary

__all__ = ["VideoIndex", "VideoPHashSignal"]

log = logging.getLogger(__name__)


class VideoIndex:
    """The archive views' hashes (a ``HashIndex``) and each item's frame times, for alignment."""

    def __init__(self, hashes: HashIndex, hasher: str) -> None:
        self.hashes = hashes
        self.hasher = hasher
        self.times: dict[int, npt.NDArray[np.float32]] = {}

    def add(self, item_id: int, fingerprint: VideoFingerprint) -> None:
        if fingerprint.hasher != self.hasher:
            return  # hashed by another algorithm: never compared
        self.hashes.add(item_id, fingerprint)
        self.times[item_id] = fingerprint.times

    def remove(self, item_id: int) -> None:
        self.hashes.remove(item_id)
        self.times.pop(item_id, None)

    def item_ids(self) -> set[int]:
        return self.hashes.item_ids()

    def __len__(self) -> int:
        return len(self.hashes)


class VideoPHashSignal(SignalType[VideoFingerprint, VideoIndex, Hits]):
    """pHash (``phash-8x8``) of ~70 views of every sampled frame, plus foreground hashes and backgrounds."""

    name: ClassVar[str] = VIDEO_SIGNAL
    medium: ClassVar[Medium] = "video"
    version: ClassVar[int] = VIDEO_VERSION
    # Thresholds (bits of 64), chosen and explained in service.match.align and docs/thresholds.md.
    MAX_HAMMING: ClassVar[int] = align.MAX_HAMMING
    # Share of the extraction the decoder takes (the rest is hashing), for the progress bar.
    DECODE_SHARE: ClassVar[float] = 0.75

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.hasher = PHasher()

    def extract(self, path: Path, progress: StageProgress) -> VideoFingerprint | None:
        """None for a video with no informative frame (blank)."""
        s = self.settings
        limits = DecodeLimits(max_duration_s=s.max_duration_s, max_pixels=s.max_pixels, max_decode_s=s.max_decode_s)
        video = sample_frames(path, s.sample_fps, limits, lambda f: progress(self.DECODE_SHARE * f, "decode"))
        fp, regions = fingerprint_video(
            video, self.hasher, lambda f: progress(self.DECODE_SHARE + (1 - self.DECODE_SHARE) * f, "fingerprint"))
        log.debug("regions of %s: %s", path, regions)
        return fp if fp.hashes.any() else None

    def summary(self, fingerprint: VideoFingerprint) -> Summary:
        full = fingerprint.hashes[:, fingerprint.views.index("full")] if "full" in fingerprint.views else ()
        return Summary(duration=float(fingerprint.duration), frames=fingerprint.frame_count,
                       informative=int(np.count_nonzero(full)))

    def to_record(self, fingerprint: VideoFingerprint) -> SignalRecord:
        return video_record(fingerprint)

    def from_record(self, record: SignalRecord) -> VideoFingerprint:
        return video_fingerprint(record)

    def build_index(self, entries: Sequence[tuple[int, VideoFingerprint]]) -> VideoIndex:
        """Exact below a million hashes, multi-index hashing above (``Settings.index_backend`` may force one)."""
        ours = [(i, fp) for i, fp in entries if fp.hasher == self.hasher.name]
        total = sum(int(np.count_nonzero(fp.hashes)) for _, fp in ours)
        backend = self.settings.index_backend
        use_mih = backend == "mih" or (backend == "auto" and total >= TWO_STAGE_MIN_HASHES)
        hashes: HashIndex = MultiIndexHashIndex() if use_mih else ExactIndex()
        index = VideoIndex(hashes, self.hasher.name)
        for item_id, fp in ours:
            index.add(item_id, fp)
        if isinstance(hashes, MultiIndexHashIndex):
            hashes.compact()
        return index

    def search(self, index: VideoIndex, query: VideoFingerprint) -> Mapping[int, Hits]:
        cols = [query.views.index(v) for v in QUERY_VIEWS]
        hits = find_hits(index.hashes, query.hashes[:, cols], QUERY_VIEWS.index("full"), self.MAX_HAMMING)
        found: dict[int, Hits] = {}
        for item_id in np.unique(hits.item_id):
            sel = hits.item_id == item_id
            found[int(item_id)] = Hits(hits.query_row[sel], hits.item_id[sel], hits.frame[sel], hits.view[sel],
                                       hits.distance[sel])
        return found

    def align(self, query: VideoFingerprint, item_id: int, hits: Hits, index: VideoIndex,
              stored: Callable[[], VideoFingerprint | None]) -> SignalMatch | None:
        times = index.times.get(item_id)
        if times is None:
            return None
        informative = query.hashes[:, query.views.index("full")] != 0
        query_fg = query.hashes[:, [query.views.index(FG_PREFIX + v) for v in QUERY_VIEWS]]
        aligned = align_item(item_id, hits, query.times, times, informative, 1.0 / self.settings.sample_fps,
                             query.duration, query_fg, archive_motion(stored()), query.query_coefficients)
        if aligned is None:
            return None
        return SignalMatch(signal=self.name, medium=self.medium, segments=aligned.segments, score=aligned.score,
                           coverage=aligned.coverage, evidence=aligned.evidence, transform=aligned.transform,
                           flipped=aligned.flipped)


def archive_motion(stored: VideoFingerprint | None) -> ArchiveMotion:
    """An archive item's foreground hashes (columns as ARCHIVE_VIEWS) and backgrounds; either None for
    items stored before they existed (or under another view layout)."""
    if stored is None or not any(v.startswith(FG_PREFIX) for v in stored.views):
        return ArchiveMotion(foreground=None, backgrounds=None)
    views = stored.views
    fg = np.zeros((len(stored.times), len(ARCHIVE_VIEWS)), dtype=np.uint64)
    for j, view in enumerate(ARCHIVE_VIEWS):
        if FG_PREFIX + view in views:
            fg[:, j] = stored.hashes[:, views.index(FG_PREFIX + view)]
    backgrounds = stored.backgrounds
    if backgrounds is not None and backgrounds.views != ARCHIVE_VIEWS:
        backgrounds = None  # stored under another view layout: not comparable column by column
    return ArchiveMotion(foreground=fg, backgrounds=backgrounds)
